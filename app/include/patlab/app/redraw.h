// patlab/app/redraw.h: when a frame is worth drawing. Plain logic (no window, no ImGui), so it
// is unit-tested; the mains (wasm/, native/) ask it once per frame.
#pragma once

namespace patlab {

// Draws only the frames that show something new, so a slow renderer (a software GL in a
// headless browser, a weak laptop) spends its time on training and input instead: a frame is
// drawn at once after input (and a few frames more, for ImGui's hover and popups to settle);
// changed content (new curve points while training) is drawn at most every
// min_content_interval_ms; and some frame is drawn at least every max_idle_ms.
class RedrawPolicy {
 public:
  static constexpr int kSettleFrames = 3;  // frames drawn after an input

  explicit RedrawPolicy(double min_content_interval_ms = 250.0, double max_idle_ms = 1000.0)
      : min_content_ms_(min_content_interval_ms), max_idle_ms_(max_idle_ms) {}
  bool should_draw(bool had_input, long long content_revision, double now_ms);

 private:
  double min_content_ms_, max_idle_ms_;
  double last_draw_ms_ = -1e300;
  long long last_revision_ = -1;
  int settle_frames_ = 0;
};

}  // namespace patlab
