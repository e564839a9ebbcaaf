#include "patlab/devices/registry.h"

#include <stdexcept>

#ifndef __EMSCRIPTEN__
#include "patlab/devices/serial_device.h"
#endif

namespace patlab {

namespace {

const char* kSchemes = "emulated:<system>, serial:<path> or webserial";

std::string sizes(const PhysicalSystem& d) {
  return std::to_string(d.input_size()) + " inputs, " + std::to_string(d.param_size()) +
         " parameters, " + std::to_string(d.output_size()) + " outputs";
}

}  // namespace

std::string DeviceSpec::where() const {
  return kind == Kind::Serial ? "at " + target : kind == Kind::WebSerial ? "on the Web Serial port" : canonical();
}

std::string DeviceSpec::canonical() const {
  return kind == Kind::WebSerial ? std::string("webserial")
                                 : (kind == Kind::Serial ? "serial:" : "emulated:") + target;
}

DeviceSpec parse_device_spec(const std::string& spec) {
  DeviceSpec d;
  if (spec.empty()) throw std::invalid_argument("device spec: empty; give " + std::string(kSchemes));
  if (spec == "webserial") {
    d.kind = DeviceSpec::Kind::WebSerial;
    return d;
  }
  // A scheme is letters before the first colon; anything else is a path (a serial port).
  const size_t colon = spec.find(':');
  bool scheme = colon != std::string::npos && colon > 0;
  for (size_t i = 0; scheme && i < colon; ++i)
    scheme = (spec[i] >= 'a' && spec[i] <= 'z') || (spec[i] >= 'A' && spec[i] <= 'Z');
  if (!scheme) {
    d.kind = DeviceSpec::Kind::Serial;
    d.target = spec;
    return d;
  }
  const std::string name = spec.substr(0, colon), target = spec.substr(colon + 1);
  if (name == "emulated")
    d.kind = DeviceSpec::Kind::Emulated;
  else if (name == "serial")
    d.kind = DeviceSpec::Kind::Serial;
  else
    throw std::invalid_argument("device spec '" + spec + "': unknown scheme '" + name + "'; give " +
                                kSchemes + " (or a serial port's path)");
  if (target.empty())
    throw std::invalid_argument("device spec '" + spec + "': name the " +
                                (d.kind == DeviceSpec::Kind::Emulated ? "system (`patlab systems` lists them)"
                                                                      : "serial port's path"));
  d.target = target;
  return d;
}

void DeviceRegistry::add_link(const std::string& spec, std::shared_ptr<DeviceLink> link) {
  links_[parse_device_spec(spec).canonical()] = std::move(link);
}

std::shared_ptr<DeviceLink> DeviceRegistry::link(const std::string& spec) const {
  const auto it = links_.find(parse_device_spec(spec).canonical());
  return it == links_.end() ? nullptr : it->second;
}

std::shared_ptr<PhysicalSystem> DeviceRegistry::open(const std::string& spec, const LinkOptions& options,
                                                     const EmulatedSettings& emulated) const {
  const DeviceSpec d = parse_device_spec(spec);
  if (const std::shared_ptr<DeviceLink> l = link(spec)) {
    // A transport the host drives itself: never blocks.
    if (!l->described()) throw DevicePending("waiting for the handshake of the device " + d.where(), false);
    return std::make_shared<LinkedDevice>(l);
  }
  switch (d.kind) {
    case DeviceSpec::Kind::Emulated:
      return make_system(d.target, emulated.shape, emulated.knobs, emulated.seed).device;
    case DeviceSpec::Kind::Serial:
#ifdef __EMSCRIPTEN__
      throw std::invalid_argument("device spec '" + spec +
                                  "': serial ports are reached natively; in the browser use webserial");
#else
      return std::make_shared<SerialDevice>(d.target, options);
#endif
    case DeviceSpec::Kind::WebSerial:
      throw std::invalid_argument(
          "device spec 'webserial': there is no Web Serial port here (the browser lab has one)");
  }
  throw std::logic_error("DeviceRegistry: unknown kind");
}

std::shared_ptr<PhysicalSystem> DeviceRegistry::open_for_layer(const std::string& spec,
                                                               const std::shared_ptr<PhysicalSystem>& emulated,
                                                               int index, const LinkOptions& options) const {
  if (!emulated) throw std::invalid_argument("DeviceRegistry: no emulated instance for the layer");
  const DeviceSpec d = parse_device_spec(spec);
  std::shared_ptr<PhysicalSystem> device =
      d.kind == DeviceSpec::Kind::Emulated && d.target == emulated->name() ? emulated : open(spec, options);
  check_same_system(*device, *emulated, d.where(), index);
  return device;
}

void check_same_system(const PhysicalSystem& device, const PhysicalSystem& want, const std::string& where,
                       int index) {
  if (device.name() == want.name() && device.input_size() == want.input_size() &&
      device.param_size() == want.param_size() && device.output_size() == want.output_size())
    return;
  throw std::invalid_argument("physical layer " + std::to_string(index) + ": the device " + where + " is '" +
                              device.name() + "' (" + sizes(device) + "), but the layer wants '" + want.name() +
                              "' (" + sizes(want) + "): serve the same system and shape, or change the experiment");
}

}  // namespace patlab
