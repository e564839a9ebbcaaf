// The browser entry point: the lab in a <canvas>, plus the functions the page's JavaScript
// calls (see web/page.js, which wraps them as window.patlab).
#include <emscripten.h>

#include <cstdio>
#include <memory>
#include <string>

#include "patlab/app/lab_view.h"
#include "patlab/platform/platform.h"
#include "patlab/lessons/player.h"
#include "web_serial.h"

namespace {
// The browser keeps running frames after main() returns: these live for the page's lifetime.
std::unique_ptr<patlab::Platform> g_platform;
std::unique_ptr<patlab::Lab> g_lab;
std::unique_ptr<patlab::LabView> g_view;  // draws g_lab
std::unique_ptr<patlab::LessonPlayer> g_player;
std::string g_status;
bool g_poked = false;  // the page changed something: draw the next frame at once

// Data packs are downloaded on demand from data/<id>.pdp beside the page (made by the build).
void on_pack(void* arg, void* data, int size) {
  std::unique_ptr<std::string> id(static_cast<std::string*>(arg));
  g_lab->provide_pack(*id, std::string(static_cast<const char*>(data), size_t(size)));
}
void on_pack_error(void* arg) {
  std::unique_ptr<std::string> id(static_cast<std::string*>(arg));
  g_lab->pack_failed(*id, "the download of data/" + *id + ".pdp failed");
}
}  // namespace

extern "C" {

// Current state as a JSON string (valid until the next call).
EMSCRIPTEN_KEEPALIVE const char* patlab_status() {
  g_status = g_lab ? g_lab->status_json() : std::string("{\"ready\":false}");
  return g_status.c_str();
}

// Runs a lab command ("train", "pause", "reset", "method:pat", ...) or a lesson command
// ("lesson:open=reality-gap", "lesson:apply", ...); 1 if accepted.
EMSCRIPTEN_KEEPALIVE int patlab_command(const char* cmd) {
  g_poked = true;
  if (!g_lab || !g_player || !cmd) return 0;
  const std::string c(cmd);
  return (c.rfind("lesson:", 0) == 0 ? g_player->command(c) : g_lab->command(c)) ? 1 : 0;
}

// The lesson player's state as JSON (valid until the next call).
EMSCRIPTEN_KEEPALIVE const char* patlab_lesson_status() {
  g_status = g_player ? g_player->status_json() : std::string("{}");
  return g_status.c_str();
}

// The learner's progress through the lessons, for the page to keep (localStorage) and to give
// back on the next visit; 1 if the text was a progress record.
EMSCRIPTEN_KEEPALIVE const char* patlab_lesson_progress() {
  g_status = g_player ? g_player->progress_json() : std::string("{}");
  return g_status.c_str();
}
EMSCRIPTEN_KEEPALIVE int patlab_lesson_restore(const char* json) {
  g_poked = true;
  return g_player && json && g_player->restore_progress(json) ? 1 : 0;
}

// Applies a setup from the page's address (location.search); 1 if applied.
EMSCRIPTEN_KEEPALIVE int patlab_apply_state(const char* query) {
  g_poked = true;
  return g_lab && query && g_lab->apply_state(query) ? 1 : 0;
}

// A file the user picked or dropped on the page (an experiment .json or a data .csv).
EMSCRIPTEN_KEEPALIVE int patlab_import(const char* name, const char* text) {
  g_poked = true;
  return g_lab && name && text && g_lab->import_file(name, text) ? 1 : 0;
}

}  // extern "C"

int main() {
  try {
    g_platform = std::make_unique<patlab::Platform>("patlab", 1280, 800);
    g_lab = std::make_unique<patlab::Lab>();
    g_view = std::make_unique<patlab::LabView>(*g_lab);
    g_player = std::make_unique<patlab::LessonPlayer>(*g_lab);
    g_lab->set_download_handler([](const patlab::Lab::ExportFile& f) {
      EM_ASM({ window.patlabDownload(UTF8ToString($0), UTF8ToString($1), UTF8ToString($2)); },
             f.name.c_str(), f.mime.c_str(), f.text.c_str());
      g_lab->notify("downloaded " + f.name);
    });
    g_lab->set_open_handler([] { EM_ASM({ window.patlabOpenFile(); }); });
    patlab::web_serial_install(*g_lab);  // the Device section: emulated, or Web Serial
    g_lab->set_pack_loader([](const std::string& id) {
      emscripten_async_wget_data(("data/" + id + ".pdp").c_str(), new std::string(id), on_pack,
                                 on_pack_error);
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "patlab: %s\n", e.what());
    EM_ASM({ if (window.patlabFatal) window.patlabFatal(UTF8ToString($0)); }, e.what());
    return 1;
  }
  // Curves move at 2 frames per second while training: SwiftShader, a software GL, needs
  // about 100 ms per full frame here, and the rest of the time goes to training and input.
  static patlab::RedrawPolicy redraw(500.0);
  patlab::run_main_loop([] {
    g_platform->process_events();
    g_lab->advance(8.0);  // ms of training per frame, about: the page stays responsive
    patlab::web_serial_frame();  // serial timeouts and re-sends, requests to write
    g_player->update();
    const bool poked = g_poked;
    g_poked = false;
    if (redraw.should_draw(g_platform->had_input() || poked, g_lab->revision() + g_player->revision(), emscripten_get_now())) {
      g_platform->begin_frame();
      g_view->draw();
      g_platform->end_frame();
    }
    return true;
  });
  return 0;
}
