// The desktop lab on a serial device (--device serial:/dev/ttyUSB0): a board, or the emulator
// `patlab device-sim --link PATH` serves. The desktop's counterpart of wasm/web_serial.cpp: the
// port is a SerialPortTransport pumped once a frame, its link registered in the device registry
// under the spec, and the lab's lanes take their physical layers from the registry (a
// LinkedDevice: a step waits for its reply across frames and never blocks the window).
#pragma once

#include <memory>
#include <string>

#include "patlab/app/lab.h"
#include "patlab/devices/link.h"
#include "patlab/devices/registry.h"
#include "patlab/devices/serial_port.h"

namespace patlab {

class DesktopDevice {
 public:
  // Installs the lab's device hook. Throws std::invalid_argument for a spec that is not a
  // serial port (emulated:<system> is the lab's own emulator: no --device needed).
  DesktopDevice(Lab& lab, const std::string& spec, int baud);
  // Once a frame: moves bytes, and puts the lanes on the device once it has shaken hands.
  void frame(double now_s);

 private:
  std::shared_ptr<PhysicalSystem> source(const EmulatedDevice& emulated, int layer);
  void panel();
  bool command(const std::string& cmd);
  std::string status() const;

  Lab& lab_;
  std::string spec_;  // canonical: serial:<path>
  DeviceRegistry registry_;
  std::shared_ptr<DeviceLink> link_;
  std::unique_ptr<SerialPortTransport> port_;
  bool use_ = true;        // device:emulated turns it off, device:serial on again
  bool attached_ = false;  // the lanes were rebuilt on the device since it shook hands
  std::string problem_;    // why the lanes stay on the emulator, if they do
  std::string clicked_;    // a panel click, run at the next frame()
};

}  // namespace patlab
