#include "desktop_device.h"

#include "patlab/app/lab_device.h"

#include <imgui.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace patlab {

DesktopDevice::DesktopDevice(Lab& lab, const std::string& spec, int baud) : lab_(lab) {
  const DeviceSpec s = parse_device_spec(spec);
  if (s.kind != DeviceSpec::Kind::Serial)
    throw std::invalid_argument("--device " + spec +
                                ": the desktop lab takes a serial port (serial:/dev/ttyUSB0, or the "
                                "path `patlab device-sim --link PATH` serves)");
  spec_ = s.canonical();
  LinkOptions options;
  options.baud = baud;
  options.timeout_s = 0.5;  // on top of the wire time: the device computes, the window draws
  link_ = std::make_shared<DeviceLink>(options, s.target);
  port_ = std::make_unique<SerialPortTransport>(s.target, link_, baud);
  registry_.add_link(spec_, link_);
  Lab::DeviceHook hook;
  hook.layers = [this](const LayerSpec&, int layer, const SystemInstance& sys) { return source(*sys.device, layer); };
  hook.panel = [this] { panel(); };
  hook.command = [this](const std::string& c) { return command(c); };
  hook.status = [this] { return status(); };
  lab_.set_device_hook(std::move(hook));
}

std::shared_ptr<PhysicalSystem> DesktopDevice::source(const EmulatedDevice& emulated, int layer) {
  if (!use_ || !link_->described()) return nullptr;
  return lab_layer_device(registry_, spec_, "on " + spec_, emulated, layer, problem_);
}

void DesktopDevice::frame(double now_s) {
  if (!clicked_.empty()) {
    const std::string c = clicked_;
    clicked_.clear();
    lab_.command(c);
  }
  port_->pump(now_s);
  if (!use_ || attached_ || !link_->ready()) return;
  attached_ = true;
  // The rebuilt lanes ask source() for their layers, which says why a layer stays emulated.
  const std::string why = attach_lab_to_device(lab_, link_->description().name);
  if (!why.empty()) problem_ = why;
}

bool DesktopDevice::command(const std::string& cmd) {
  if (cmd == "device:emulated" || cmd == "device:serial") {
    use_ = cmd == "device:serial";
    attached_ = false;  // device:serial attaches on the next frame once the link is ready
    if (!use_) lab_.reset();
    return true;
  }
  return false;
}

void DesktopDevice::panel() {
  ImGui::Spacing();
  ImGui::TextUnformatted("Device");
  ImGui::PushTextWrapPos(0.0f);
  const LinkStats& s = link_->stats();
  ImGui::Text("%s: %s", spec_.c_str(), use_ ? link_->state_text().c_str() : "not used");
  ImGui::TextDisabled("%lld requests, %lld retries, %lld bad frames, %lld / %lld bytes out / in",
                      s.requests, s.retries, s.bad_frames, s.bytes_sent, s.bytes_received);
  // Run on the next frame, not while the lab is being drawn (a command may rebuild the lanes).
  if (ImGui::RadioButton("emulated", !use_) && use_) clicked_ = "device:emulated";
  ImGui::SameLine();
  if (ImGui::RadioButton("serial port", use_) && !use_) clicked_ = "device:serial";
  const std::string err = !port_->error().empty() ? port_->error()
                          : !problem_.empty()     ? problem_
                                                  : link_->last_error();
  if (!err.empty()) ImGui::TextColored(ImVec4(1.0f, 0.6f, 0.4f, 1), "%s", err.c_str());
  ImGui::PopTextWrapPos();
}

std::string DesktopDevice::status() const {
  nlohmann::json j;
  j["spec"] = spec_;
  j["use"] = use_;
  j["attached"] = attached_;
  j["port_error"] = port_->error();
  j["problem"] = problem_;
  j["connected"] = link_->ready();
  j["state"] = link_->state_text();
  j["last_error"] = link_->last_error();
  for (const auto& [key, value] : link_->stats().fields()) j[key] = value;
  return j.dump();
}

}  // namespace patlab
