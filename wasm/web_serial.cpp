#include "web_serial.h"

#include <emscripten.h>
#include <imgui.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "patlab/app/lab.h"
#include "patlab/app/lab_device.h"
#include "patlab/devices/link.h"
#include "patlab/devices/registry.h"
#include "patlab/devices/served_device.h"
#include "patlab/emulators/catalog.h"

namespace patlab {
namespace {

struct Host {
  Lab* lab = nullptr;
  DeviceRegistry registry;  // "webserial": the link below
  std::shared_ptr<DeviceLink> link;
  int baud = 115200;
  bool use = false;       // the user chose the serial device
  bool attached = false;  // the lanes were built on it
  std::string port = "none";   // the port as serial.js sees it: choosing, opening, open, lost, closed
  std::string port_error;      // what serial.js could not do (no port chosen, port busy, ...)
  std::string problem;         // why the lanes stay on the emulator (another system, other sizes)
  std::vector<uint8_t> rx;     // one received frame, written by serial.js
  float connect_button[4] = {0, 0, 0, 0};  // x, y, w, h: tests click it like a user
  std::string clicked;  // a button's command, run after the frame is drawn (it may rebuild lanes)
  // The browser test's device, in the page (patlab_test_device_*).
  std::unique_ptr<LoopbackDevice> test_device;
  std::vector<uint8_t> test_in, test_out;
};
Host g;

double now_s() { return emscripten_get_now() / 1000.0; }

bool web_serial_available() {
  return EM_ASM_INT({ return (navigator.serial && window.patlabSerial) ? 1 : 0; }) != 0;
}

void write_output() {
  if (!g.link) return;
  const std::vector<uint8_t> out = g.link->take_output();
  if (!out.empty())
    EM_ASM({ if (window.patlabSerial) window.patlabSerial.write(HEAPU8.slice($0, $0 + $1)); },
           out.data(), int(out.size()));
}

// After a handshake: the lab's system becomes the device's (its twin is the catalog's), and the
// lanes are rebuilt on the device (all but ideal's).
void attach_if_ready() {
  if (!g.use || g.attached || !g.link || !g.link->ready()) return;
  g.attached = true;
  // The rebuilt lanes ask source() for their layers, which says why a layer stays emulated.
  const std::string why = attach_lab_to_device(*g.lab, g.link->description().name);
  if (!why.empty()) g.problem = why;
}

void connect() {
  g.use = true;
  g.attached = false;
  g.problem.clear();
  g.port_error.clear();
  LinkOptions o;
  o.baud = g.baud;
  o.timeout_s = 0.5;     // the page's own latency on top of the device's
  o.max_replies = 256;   // a few steps' worth of replies
  g.link = std::make_shared<DeviceLink>(o);
  g.registry.add_link("webserial", g.link);
  g.port = "choosing";
  EM_ASM({ window.patlabSerial.connect($0); }, g.baud);
}

void disconnect() {
  const bool was = g.attached;
  g.use = false;
  g.attached = false;
  g.problem.clear();
  g.port = "closed";
  if (g.link) g.link->closed("disconnected");
  EM_ASM({ if (window.patlabSerial) window.patlabSerial.disconnect(); });
  if (was) g.lab->reset();  // back to the emulator
}

// The lanes' device for a physical layer: the registry's "webserial", if it is that layer's
// system and shape; else the emulator, and the panel says why.
std::shared_ptr<PhysicalSystem> source(const EmulatedDevice& emulated, int layer) {
  if (!g.use || !g.link || !g.link->described()) return nullptr;
  return lab_layer_device(g.registry, "webserial", "on the Web Serial port", emulated, layer, g.problem);
}

bool command(const std::string& cmd) {
  if (cmd == "device:serial" || cmd.rfind("device:serial=", 0) == 0) {
    if (!web_serial_available()) {
      g.port_error = "this browser has no Web Serial";
      return false;
    }
    if (cmd.size() > 14) {
      const int baud = std::atoi(cmd.c_str() + 14);
      if (baud < 300 || baud > 4000000) return false;
      g.baud = baud;
    }
    connect();
    return true;
  }
  if (cmd == "device:emulated") {
    disconnect();
    return true;
  }
  return false;
}

std::string status() {
  nlohmann::json j;
  j["available"] = web_serial_available();
  j["use"] = g.use;
  j["attached"] = g.attached;
  j["port"] = g.port;
  j["baud"] = g.baud;
  j["port_error"] = g.port_error;
  j["problem"] = g.problem;
  j["connected"] = g.link && g.link->ready();
  j["connect_button"] = {g.connect_button[0], g.connect_button[1], g.connect_button[2], g.connect_button[3]};
  if (g.link) {
    const LinkStats& s = g.link->stats();
    j["state"] = g.link->state_text();
    j["last_error"] = g.link->last_error();
    j["waiting"] = g.link->waiting();
    for (const auto& [key, value] : s.fields()) j[key] = value;  // requests, retries, ...
    if (g.link->described()) {
      const LinkDescription& d = g.link->description();
      j["name"] = d.name;
      j["inputs"] = d.input_size;
      j["params"] = d.param_size;
      j["outputs"] = d.output_size;
      j["format"] = d.format;
      j["batch_limit"] = d.batch_limit;
      j["boot_id"] = d.boot_id;
    }
  }
  return j.dump();
}

void panel() {
  ImGui::Spacing();
  ImGui::TextUnformatted("Device");
  ImGui::PushTextWrapPos(0.0f);
  if (!web_serial_available()) {
    ImGui::TextDisabled("emulated (in the page). This browser has no Web Serial; use Chromium, Edge "
                        "or Chrome, or the command line (`patlab train --device serial`, docs/cli.md) "
                        "to train a device on a serial port.");
    ImGui::PopTextWrapPos();
    return;
  }
  if (ImGui::RadioButton("emulated (in the page)", !g.use) && g.use) g.clicked = "device:emulated";
  if (!g.use) {
    ImGui::SameLine();
    if (ImGui::Button("Web Serial: Connect...")) g.clicked = "device:serial";
    const ImVec2 at = ImGui::GetItemRectMin(), size = ImGui::GetItemRectSize();
    g.connect_button[0] = at.x;
    g.connect_button[1] = at.y;
    g.connect_button[2] = size.x;
    g.connect_button[3] = size.y;
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Pick a serial port that speaks patlab's protocol (a board, or the device "
                        "emulator): PAT then runs its physical layers on it, at %d baud", g.baud);
    ImGui::SetNextItemWidth(120);
    ImGui::InputInt("baud", &g.baud, 0);
    if (g.baud < 300) g.baud = 115200;
  } else {
    const LinkStats s = g.link ? g.link->stats() : LinkStats();
    if (g.link && g.link->described()) {
      const LinkDescription& d = g.link->description();
      ImGui::Text("Web Serial: '%s' (protocol %d), %d in, %d parameters, %d out; %s, up to %d "
                  "samples a request",
                  d.name.c_str(), d.version, d.input_size, d.param_size, d.output_size,
                  d.format.c_str(), d.batch_limit);
    } else {
      ImGui::Text("Web Serial: %s", g.port.c_str());
    }
    ImGui::TextDisabled("%s; port %s; %lld requests, %lld retries, %lld bad frames, %lld / %lld bytes "
                        "out / in",
                        g.link ? g.link->state_text().c_str() : "-", g.port.c_str(), s.requests,
                        s.retries, s.bad_frames, s.bytes_sent, s.bytes_received);
    if (ImGui::Button("Disconnect")) g.clicked = "device:emulated";
  }
  const std::string err = !g.port_error.empty() ? g.port_error
                          : !g.problem.empty()  ? g.problem
                          : g.link && g.use     ? g.link->last_error()
                                                : std::string();
  if (!err.empty()) ImGui::TextColored(ImVec4(1.0f, 0.6f, 0.4f, 1), "%s", err.c_str());
  ImGui::PopTextWrapPos();
}

}  // namespace

void web_serial_install(Lab& lab) {
  g.lab = &lab;
  Lab::DeviceHook hook;
  hook.layers = [](const LayerSpec&, int layer, const SystemInstance& sys) { return source(*sys.device, layer); };
  hook.panel = panel;
  hook.command = command;
  hook.status = status;
  lab.set_device_hook(std::move(hook));
}

void web_serial_frame() {
  if (!g.clicked.empty()) {
    const std::string c = g.clicked;
    g.clicked.clear();
    g.lab->command(c);
  }
  if (!g.link) return;
  g.link->poll(now_s());
  write_output();
  attach_if_ready();
}

}  // namespace patlab

using patlab::g;

extern "C" {

// A buffer of n bytes for serial.js to put one received frame in.
EMSCRIPTEN_KEEPALIVE uint8_t* patlab_serial_buffer(int n) {
  g.rx.resize(size_t(n > 0 ? n : 1));
  return g.rx.data();
}

// One received frame (the bytes between two delimiters) is in the buffer.
EMSCRIPTEN_KEEPALIVE void patlab_serial_frame(int n) {
  if (!g.link || n <= 0 || size_t(n) > g.rx.size()) return;
  g.link->receive(g.rx.data(), size_t(n), patlab::now_s());
  patlab::write_output();  // the next queued request goes out at once
}

// The port's state changed: "open", "lost" (the device vanished), "closed", "error" (nothing
// opened: message says why), "choosing", "opening".
EMSCRIPTEN_KEEPALIVE void patlab_serial_port(const char* state, const char* message) {
  const std::string s = state ? state : "", m = message ? message : "";
  g.port = s;
  if (!g.link) return;
  if (s == "open") {
    g.port_error.clear();
    g.link->opened(patlab::now_s());
    patlab::write_output();
  } else if (s == "lost" || s == "closed") {
    g.link->closed(m.empty() ? s : m);
  } else if (s == "error") {
    g.port_error = m;
    g.link->closed(m);
    if (!g.attached) g.use = false;  // nothing connected: back to the emulator's choice
  }
}

// ---- the browser test's device (not used by the page itself) ----

// Makes the device the stand-in port talks to: a catalog system with the lab's knobs.
EMSCRIPTEN_KEEPALIVE int patlab_test_device_open(const char* system, int seed, int boot_id) {
  try {
    const std::string id = system ? system : "oscillators";
    patlab::SystemInstance s = patlab::make_system(id, patlab::Shape{}, patlab::lab_knobs(id), uint64_t(seed));
    patlab::LoopbackOptions o;
    o.boot_id = uint32_t(boot_id);
    g.test_device = std::make_unique<patlab::LoopbackDevice>(s.device, o);
    return 1;
  } catch (const std::exception&) {
    return 0;
  }
}
EMSCRIPTEN_KEEPALIVE uint8_t* patlab_test_device_buffer(int n) {
  g.test_in.resize(size_t(n > 0 ? n : 1));
  return g.test_in.data();
}
// Feeds n bytes from the buffer to the device; returns the reply's length (bytes at _reply()).
EMSCRIPTEN_KEEPALIVE int patlab_test_device_push(int n) {
  if (!g.test_device || n < 0 || size_t(n) > g.test_in.size()) return 0;
  g.test_out = g.test_device->push(g.test_in.data(), size_t(n));
  return int(g.test_out.size());
}
EMSCRIPTEN_KEEPALIVE uint8_t* patlab_test_device_reply() { return g.test_out.data(); }
EMSCRIPTEN_KEEPALIVE int patlab_test_device_batches() {
  return g.test_device ? int(g.test_device->batches_run()) : 0;
}
EMSCRIPTEN_KEEPALIVE int patlab_test_device_replays() {
  return g.test_device ? int(g.test_device->replays()) : 0;
}

}  // extern "C"
