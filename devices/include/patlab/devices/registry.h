// patlab/devices/registry.h: a device from a spec string, the same for the command line and the
// lab, in every build.
//
//   emulated:<system>   a catalog system in this process (patlab/emulators/catalog.h)
//   serial:<path>       a serial port (SerialDevice; native builds): /dev/ttyUSB0, the path
//                       `patlab device-sim` prints. A bare path ("/dev/ttyUSB0", "dev0") means
//                       the same, as --device has always taken it.
//   webserial           the browser's Web Serial port: the link the page registers (add_link)
//
// A spec the host registered a link under (add_link) is a LinkedDevice on that link.
//
// The host asks for a whole device (open) or for the device of one physical layer
// (open_for_layer): that one must be the layer's system, with its shape, since the layer keeps
// the catalog's twin and starting parameters. For an experiment's layers, wrap it as a
// DeviceFactory (patlab/experiment/experiment.h):
//
//   DeviceFactory f = [&](const LayerSpec&, int i, const SystemInstance& sys) {
//     return registry.open_for_layer(specs[size_t(i)], sys.device, i, options);
//   };
#pragma once

#include <map>
#include <memory>
#include <string>

#include "patlab/core/system.h"
#include "patlab/devices/link.h"
#include "patlab/emulators/catalog.h"

namespace patlab {

struct DeviceSpec {
  enum class Kind { Emulated, Serial, WebSerial };
  Kind kind = Kind::Emulated;
  std::string target;  // the catalog system, or the port's path; "" for webserial
  std::string where() const;      // for messages: "at /dev/ttyUSB0", "emulated:oscillators", ...
  std::string canonical() const;  // "serial:/dev/ttyUSB0" for "/dev/ttyUSB0" too
};
// Throws std::invalid_argument naming an unknown scheme or a spec without its target.
DeviceSpec parse_device_spec(const std::string& spec);

// How an emulated:<system> device opened on its own is made (open()).
struct EmulatedSettings {
  Shape shape;  // 0: the system's default
  KnobValues knobs;
  uint64_t seed = 1;
};

class DeviceRegistry {
 public:
  // A link the host drives itself (a transport it pumps every frame), under a spec: the page's
  // Web Serial port is "webserial"; the desktop's SerialPortTransport (serial_port.h) on
  // /dev/ttyUSB0 is "serial:/dev/ttyUSB0". That spec then opens a LinkedDevice on the link,
  // which never blocks (DevicePending), instead of a blocking SerialDevice.
  void add_link(const std::string& spec, std::shared_ptr<DeviceLink> link);
  std::shared_ptr<DeviceLink> link(const std::string& spec) const;

  // A device on its own. Throws std::invalid_argument for a bad spec or settings,
  // DeviceError if the device cannot be reached (a serial port that is not there, a link
  // without a handshake yet).
  std::shared_ptr<PhysicalSystem> open(const std::string& spec, const LinkOptions& options = LinkOptions(),
                                       const EmulatedSettings& emulated = EmulatedSettings()) const;
  // The device of physical layer `index` (counting physical layers from 0): `emulated` is the
  // catalog's instance the host made for it (emulated:<its system> is that very instance).
  // Throws as open() does, and std::invalid_argument if the device is not the layer's system
  // and shape.
  std::shared_ptr<PhysicalSystem> open_for_layer(const std::string& spec,
                                                 const std::shared_ptr<PhysicalSystem>& emulated,
                                                 int index, const LinkOptions& options = LinkOptions()) const;

 private:
  std::map<std::string, std::shared_ptr<DeviceLink>> links_;
};

// std::invalid_argument if `device` (reached as `where`) is not `want`'s system and shape.
void check_same_system(const PhysicalSystem& device, const PhysicalSystem& want,
                       const std::string& where, int index);

}  // namespace patlab
