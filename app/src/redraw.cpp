#include "patlab/app/redraw.h"

namespace patlab {

bool RedrawPolicy::should_draw(bool had_input, long long revision, double now_ms) {
  if (had_input) settle_frames_ = kSettleFrames;
  const double since = now_ms - last_draw_ms_;
  const bool draw = settle_frames_ > 0 || (revision != last_revision_ && since >= min_content_ms_) ||
                    since >= max_idle_ms_;
  if (draw) {
    if (settle_frames_ > 0) --settle_frames_;
    last_revision_ = revision;
    last_draw_ms_ = now_ms;
  }
  return draw;
}

}  // namespace patlab
