// The desktop entry point: the same lab as in the browser, in a native window.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <chrono>
#include <exception>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "desktop_device.h"
#include "patlab/app/lab_view.h"
#include "patlab/platform/platform.h"
#include "patlab/lessons/player.h"

int main(int argc, char** argv) {
  CLI::App cli{"patlab desktop: physics-aware training lab (the same UI as the browser app)"};
  bool train = false, print_status = false;
  long long frames = 0;
  int width = 1280, height = 800;
  std::vector<std::string> commands;
  std::string data_dir = PATLAB_DEFAULT_PACK_DIR;
  std::string state, open_path, out_dir = ".", lesson, progress_path;
  bool teacher = false;
  std::string device;
  int baud = 115200;
  cli.add_flag("--train", train, "start training at once");
  cli.add_option("--frames", frames, "quit after this many frames; 0 = run until closed")
      ->check(CLI::NonNegativeNumber);
  cli.add_flag("--print-status", print_status, "on exit, print the lab's state as JSON (the lesson player's under \"lesson\")");
  cli.add_option("--width", width, "window width in pixels")->check(CLI::Range(320, 8192));
  cli.add_option("--height", height, "window height in pixels")->check(CLI::Range(240, 8192));
  cli.add_option("--command", commands,
                 "a lab command to run at start, e.g. dataset:clusters, system:oscillators, "
                 "knob:eta=0.3, method:in-silico (repeatable)");
  cli.add_option("--data-dir", data_dir, "folder of the data packs (made by the build)")->capture_default_str();
  cli.add_option("--state", state,
                 "a setup as in the browser's address, e.g. 'data=moons&methods=pat,ideal&layers=3'");
  cli.add_option("--open", open_path, "open an experiment (.json) or a data set (.csv) at start")
      ->check(CLI::ExistingFile);
  cli.add_option("--out-dir", out_dir, "where the export buttons save files")->capture_default_str();
  cli.add_option("--lesson", lesson, "open a lesson, e.g. 03-reality-gap or reality-gap (see lessons/)");
  cli.add_flag("--teacher", teacher, "teacher mode: each lesson step shows only the controls it needs");
  cli.add_option("--progress", progress_path,
                 "a file keeping the lessons' progress between runs (read at start, written on exit)");
  CLI::Option* device_opt = cli.add_option("--device", device,
                 "train the lanes on a serial device: serial:/dev/ttyUSB0, or the path `patlab "
                 "device-sim SYSTEM --link PATH` serves (the Device panel switches back to the emulator)");
  cli.add_option("--baud", baud, "the serial device's baud rate")->check(CLI::Range(300, 4000000))->capture_default_str();
  CLI11_PARSE(cli, argc, argv);
  if (device_opt->count() && device.empty()) {  // an empty value is a mistake, not "no device"
    std::fprintf(stderr, "patlab: --device needs a device, e.g. serial:/dev/ttyUSB0\n");
    return 2;
  }

  try {
    patlab::Platform platform("patlab: physics-aware training lab", width, height);
    patlab::Lab lab;
    patlab::LabView view(lab);
    // Packs are files here: read at once, so dataset:<pack> completes before the next frame.
    lab.set_pack_loader([&lab, &data_dir](const std::string& id) {
      const std::string path = data_dir + "/" + id + ".pdp";
      try {
        lab.provide_pack(id, patlab::read_file_bytes(path));
      } catch (const std::exception& e) {
        lab.pack_failed(id, std::string(e.what()) + " (the build makes the packs; see --data-dir)");
      }
    });
    lab.set_download_handler([&lab, &out_dir](const patlab::Lab::ExportFile& f) {
      const std::string path = out_dir + "/" + f.name;
      std::ofstream out(path, std::ios::binary);
      out << f.text;
      if (out.good()) lab.notify("saved " + path);
      else lab.notify("could not write " + path);
      std::printf("patlab: %s\n", out.good() ? ("saved " + path).c_str() : ("could not write " + path).c_str());
    });
    const auto open_file = [&lab](const std::string& path) {
      std::ifstream in(path, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      const std::string name = path.substr(path.find_last_of('/') + 1);
      return in.good() || in.eof() ? lab.import_file(name, text.str()) : false;
    };
    platform.on_file_dropped = open_file;
    patlab::LessonPlayer player(lab);
    std::unique_ptr<patlab::DesktopDevice> serial;
    if (!device.empty()) {
      try {
        serial = std::make_unique<patlab::DesktopDevice>(lab, device, baud);
      } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "patlab: %s\n", e.what());
        return 2;
      }
    }
    if (!progress_path.empty()) {
      std::ifstream in(progress_path);
      std::stringstream text;
      text << in.rdbuf();
      if (in && !player.restore_progress(text.str()))
        std::fprintf(stderr, "patlab: --progress %s is not a progress file; starting afresh\n", progress_path.c_str());
    }
    if (teacher) player.command("lesson:teacher=on");
    if (!lesson.empty() && !player.open(lesson)) {
      std::fprintf(stderr, "patlab: --lesson: %s\n", player.error().c_str());
      return 2;
    }
    if (!state.empty() && !lab.apply_state(state)) {
      std::fprintf(stderr, "patlab: --state refused: %s\n", lab.error().c_str());
      return 2;
    }
    if (!open_path.empty() && !open_file(open_path)) {
      std::fprintf(stderr, "patlab: --open %s: %s\n", open_path.c_str(), lab.error().c_str());
      return 2;
    }
    for (const std::string& c : commands)
      if (c.rfind("lesson:", 0) == 0 ? !player.command(c) : !lab.command(c)) {
        std::fprintf(stderr, "patlab: the command '%s' was refused (see --help)\n", c.c_str());
        return 2;
      }
    lab.set_training(train);
    long long frame = 0;
    patlab::RedrawPolicy redraw;
    const auto t0 = std::chrono::steady_clock::now();
    patlab::run_main_loop([&] {
      const bool open = platform.process_events();
      if (serial)
        serial->frame(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      lab.advance(10.0);
      player.update();
      const double now = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (redraw.should_draw(platform.had_input(), lab.revision() + player.revision(), now)) {
        platform.begin_frame();
        view.draw();
        platform.end_frame();  // waits for the display's refresh
      } else if (!lab.training()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // nothing to do: do not spin
      }
      ++frame;
      return open && (frames == 0 || frame < frames);
    });
    if (print_status) {  // the lab's status with the lesson player's as "lesson"
      std::string status = lab.status_json();
      status.back() = ',';
      std::printf("%s\"lesson\":%s}\n", status.c_str(), player.status_json().c_str());
    }
    if (!progress_path.empty()) {
      std::ofstream out(progress_path);
      out << player.progress_json() << "\n";
      if (!out) std::fprintf(stderr, "patlab: could not write --progress %s\n", progress_path.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "patlab: %s\n", e.what());
    return 1;
  }
  return 0;
}
