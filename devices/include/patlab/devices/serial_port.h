// patlab/devices/serial_port.h (native): a serial port as a transport that never waits, the
// desktop's counterpart of the page's Web Serial port (web/serial.js): pump() once a frame
// moves what is there between the port and a DeviceLink, and polls the link. A host that must
// not block (the desktop lab) registers the link in the registry under the spec
// ("serial:/dev/ttyUSB0"): the lanes then get a LinkedDevice on it, which throws DevicePending
// while a reply is on its way, as in the browser. (The command line blocks: SerialDevice.)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "patlab/devices/link.h"

namespace patlab {

class SerialPortTransport {
 public:
  // Nothing is opened yet: the first pump() does.
  SerialPortTransport(std::string path, std::shared_ptr<DeviceLink> link, int baud);
  ~SerialPortTransport();
  SerialPortTransport(const SerialPortTransport&) = delete;
  SerialPortTransport& operator=(const SerialPortTransport&) = delete;

  // Opens the port if it is closed (tries at most once a second), writes what the link sends,
  // feeds it what arrived and polls it. `now` in seconds on any monotonic clock.
  void pump(double now);
  void close(const std::string& why);
  bool is_open() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }  // why the port is not open ("" if it is)
  DeviceLink& link() { return *link_; }

 private:
  std::string path_;
  std::shared_ptr<DeviceLink> link_;
  int baud_;
  int fd_ = -1;
  double next_try_ = -1e300;
  std::string error_;
  std::vector<uint8_t> unsent_;  // what the port would not take yet
};

}  // namespace patlab
