#include "patlab/platform/platform.h"

#include <SDL.h>
#include <imgui.h>
#include <imgui_impl_opengl3.h>
#include <imgui_impl_sdl2.h>

#include <stdexcept>
#include <string>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#include <emscripten/html5.h>
#endif

#include "patlab/app/style.h"

#if defined(__EMSCRIPTEN__)
#include <SDL_opengles2.h>
#else
#include <SDL_opengl.h>
#endif

namespace patlab {

Platform::Platform(const char* title, int width, int height) {
  if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER) != 0)
    throw std::runtime_error(std::string("SDL_Init failed: ") + SDL_GetError());
#ifdef __EMSCRIPTEN__
  const char* glsl_version = "#version 300 es";  // WebGL2
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_FLAGS, 0);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_ES);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 0);
  double css_w = width, css_h = height;
  emscripten_get_element_css_size("#canvas", &css_w, &css_h);
  width = int(css_w);
  height = int(css_h);
#else
  const char* glsl_version = "#version 130";     // OpenGL 3.0
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_FLAGS, 0);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 0);
#endif
  SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
  SDL_GL_SetAttribute(SDL_GL_DEPTH_SIZE, 0);
  SDL_GL_SetAttribute(SDL_GL_STENCIL_SIZE, 8);
  const auto flags = SDL_WindowFlags(SDL_WINDOW_OPENGL | SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
  window_ = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, width, height, flags);
  if (!window_) throw std::runtime_error(std::string("SDL_CreateWindow failed: ") + SDL_GetError());
  gl_context_ = SDL_GL_CreateContext(window_);
  if (!gl_context_)
    throw std::runtime_error(std::string("could not create an OpenGL context: ") + SDL_GetError());
  SDL_GL_MakeCurrent(window_, gl_context_);
  SDL_GL_SetSwapInterval(1);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // the layout is the app's, not a file's
  io.ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
  int window_w = 0, window_h = 0, drawable_w = 0, drawable_h = 0;
  SDL_GetWindowSize(window_, &window_w, &window_h);
  SDL_GL_GetDrawableSize(window_, &drawable_w, &drawable_h);
  apply_style(window_w > 0 ? float(drawable_w) / float(window_w) : 1.0f);
  ImGui_ImplSDL2_InitForOpenGL(window_, gl_context_);
  ImGui_ImplOpenGL3_Init(glsl_version);
}

Platform::~Platform() {
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplSDL2_Shutdown();
  ImGui::DestroyContext();
  SDL_GL_DeleteContext(gl_context_);
  SDL_DestroyWindow(window_);
  SDL_Quit();
}

bool Platform::process_events() {
  bool running = true;
  had_input_ = false;
  SDL_Event event;
  while (SDL_PollEvent(&event)) {
    had_input_ = true;
    ImGui_ImplSDL2_ProcessEvent(&event);
    if (event.type == SDL_QUIT) running = false;
    if (event.type == SDL_DROPFILE) {
      const std::string path = event.drop.file ? event.drop.file : "";
      SDL_free(event.drop.file);
      if (on_file_dropped && !path.empty()) on_file_dropped(path);
    }
    if (event.type == SDL_WINDOWEVENT && event.window.event == SDL_WINDOWEVENT_CLOSE &&
        event.window.windowID == SDL_GetWindowID(window_))
      running = false;
  }
#ifdef __EMSCRIPTEN__
  // The page lays the canvas out with CSS; follow its size so the UI fills the page.
  double css_w = 0, css_h = 0;
  emscripten_get_element_css_size("#canvas", &css_w, &css_h);
  int w = 0, h = 0;
  SDL_GetWindowSize(window_, &w, &h);
  if (int(css_w) != w || int(css_h) != h) {
    SDL_SetWindowSize(window_, int(css_w), int(css_h));
    had_input_ = true;
  }
#endif
  return running;
}

void Platform::begin_frame() {
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplSDL2_NewFrame();
  ImGui::NewFrame();
}

void Platform::end_frame() {
  ImGui::Render();
  const ImGuiIO& io = ImGui::GetIO();
  glViewport(0, 0, int(io.DisplaySize.x * io.DisplayFramebufferScale.x),
             int(io.DisplaySize.y * io.DisplayFramebufferScale.y));
  const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
  glClearColor(bg.x, bg.y, bg.z, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  SDL_GL_SwapWindow(window_);
}

#ifdef __EMSCRIPTEN__
// The one place the browser differs: it owns the loop (emscripten_set_main_loop_arg).
static void browser_frame(void* arg) {
  auto* frame = static_cast<std::function<bool()>*>(arg);
  if (!(*frame)()) emscripten_cancel_main_loop();
}
void run_main_loop(std::function<bool()> frame) {
  static std::function<bool()> keep;  // must outlive main(), which the browser unwinds
  keep = std::move(frame);
  emscripten_set_main_loop_arg(browser_frame, &keep, 0, true);
}
#else
void run_main_loop(std::function<bool()> frame) {
  while (frame()) {
  }
}
#endif

}  // namespace patlab
