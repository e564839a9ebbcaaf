// patlab/platform/platform.h: the window, the GL context and Dear ImGui, for browser and desktop.
//
// Everything that touches SDL2, OpenGL or emscripten lives behind this header, in its own
// target (patlab_platform) that only the programs link (wasm/, native/): the lab's model and
// view never do, so they build and are tested headless, under the sanitizers too. In the browser the context is WebGL2 (GLSL ES 3.00) and the window is
// the page's <canvas id="canvas">, kept at the canvas' CSS size; on the desktop it is an
// OpenGL 3.0 window.
#pragma once

#include <functional>
#include <string>

#include "patlab/app/redraw.h"  // RedrawPolicy, which the mains use with a Platform

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


}  // namespace patlab
