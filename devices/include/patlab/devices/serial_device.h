// patlab/devices/serial_device.h: a physical system on the other end of a serial port.
//
//   SerialDevice      a PhysicalSystem that speaks patlab's wire protocol (docs/protocol.md)
//                     over a serial port (standalone Asio): a USB adapter, a board, or the
//                     device emulator on a pseudo-terminal (device_server.h). A blocking
//                     transport under the one protocol host, DeviceLink (link.h): it writes
//                     what the link sends, feeds it what the port reads and polls it with a
//                     clock until the reply is there or the link gives up. Options and stats
//                     are the link's (LinkOptions, LinkStats).
//
// Failure model. An unanswered request is re-sent as the identical frame (the device replays
// its cached reply rather than running the batch twice); bytes that do not form a checked
// frame are skipped up to the next frame. When the retries run out, the port fails, or the
// device refuses a request, forward() throws DeviceError with a message saying what happened
// and to which device. Nothing is half-applied: the trainer rejects the step (parameters,
// optimiser and data order stay as they were), and the next forward() reopens the port and
// shakes hands again by itself if it was lost, so training resumes once the device is back. A
// device that comes back as a different device (other name or sizes) is refused.
//
// The repeated operation runs nothing twice (docs/protocol.md, "A reply later than every
// retry"): a batch given up on goes out again as the very same frame, so a device that ran it
// late replays it; requests answered before the failure are taken from the link's journal
// (DeviceLink::recall); queries() counts each sample once, when the device answered it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "patlab/core/system.h"
#include "patlab/devices/link.h"

namespace patlab {

class SerialDevice : public DescribedDevice {
 public:
  // Opens the port and shakes hands; throws DeviceError if that fails.
  explicit SerialDevice(const std::string& path, const LinkOptions& options = LinkOptions());
  ~SerialDevice() override;

  const std::string& path() const;
  const DeviceDescription& description() const override;  // from the latest handshake
  SampleFormat format() const;                   // the format in use
  int batch_limit() const;  // samples per request: max_batch, or fewer for max_frame
  bool connected() const;   // the port is open and a session holds
  LinkStats stats() const;

  // Round trip of a PING with `bytes` of payload (<= 64), in seconds; throws DeviceError.
  double ping(int bytes = 8);
  // Asks the device to return to its idle state; throws DeviceError.
  void reset();

 protected:
  // Splits x into requests of at most batch_limit() samples; each carries theta.
  void run(const Mat& x, const Vec& theta, Mat& y) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace patlab
