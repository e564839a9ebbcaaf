// patlab/app/platform.h: the window, the GL context and Dear ImGui, for browser and desktop.
//
// Everything that touches SDL2, OpenGL or emscripten lives behind this header, so the lab's
// UI code never does. In the browser the context is WebGL2 (GLSL ES 3.00) and the window is
// the page's <canvas id="canvas">, kept at the canvas' CSS size; on the desktop it is an
// OpenGL 3.0 window.
#pragma once

#include <functional>
#include <string>

struct SDL_Window;

namespace patlab {

class Platform {
 public:
  // Creates the window, GL context and ImGui context; throws std::runtime_error on failure.
  Platform(const char* title, int width, int height);
  ~Platform();
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

  // Handles pending input and window events; false once the user asked to quit.
  bool process_events();
  // Whether process_events() saw any input or window event (a frame must be drawn then).
  bool had_input() const { return had_input_; }
  // Called with the path of every file dropped on the window (desktop; the browser page
  // handles drops in JavaScript).
  std::function<void(const std::string& path)> on_file_dropped;
  void begin_frame();
  void end_frame();  // renders ImGui's draw data and presents

 private:
  SDL_Window* window_ = nullptr;
  bool had_input_ = false;
  void* gl_context_ = nullptr;
};

// Calls frame() once per displayed frame until it returns false. On the desktop this is a
// plain loop; in the browser, the browser drives it (requestAnimationFrame) and this returns
// immediately, so everything frame() uses must outlive the call.
void run_main_loop(std::function<bool()> frame);

// Draws only the frames that show something new, so a slow renderer (a software GL in a
// headless browser, a weak laptop) spends its time on training and input instead: a frame is
// drawn at once after input (and a few frames more, for ImGui's hover and popups to settle);
// changed content (new curve points while training) is drawn at most every
// min_content_interval_ms; and some frame is drawn at least every max_idle_ms.
class RedrawPolicy {
 public:
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
