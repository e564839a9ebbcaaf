// patlab/devices/serial_device.h: a physical system on the other end of a serial port.
//
//   SerialDevice      a PhysicalSystem that speaks patlab's wire protocol (docs/protocol.md)
//                     over a serial port (standalone Asio): a USB adapter, a board, or the
//                     device emulator on a pseudo-terminal (device_server.h).
//   SerialOptions     baud rate, sample format, timeout and retries
//   SerialStats       what happened on the line: retries, bad frames, reconnects, bytes
//
// Failure model. An unanswered request is re-sent with the same sequence number (the device
// replays its cached reply rather than running the batch twice); bytes that do not form a
// checked frame are skipped up to the next frame. When the retries run out, the port fails,
// or the device refuses a request, forward() throws DeviceError with a message saying what
// happened and to which device. Nothing is half-applied: the trainer rejects the step
// (parameters, optimiser and data order stay as they were), and the next forward() reopens
// the port and shakes hands again by itself if it was lost, so training resumes once the
// device is back. A device that comes back as a different device (other name or sizes) is
// refused.
//
// The repeated operation runs nothing twice (docs/protocol.md, "A reply later than every
// retry"): a batch given up on goes out again as the very same frame, so a device that ran it
// late replays it; requests answered before the failure are taken from a journal of recent
// replies; queries() counts each sample once, when the device answered it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "patlab/core/system.h"
#include "patlab/devices/description.h"

namespace patlab {

// The baud rates a serial port can be set to here (termios' standard rates, 300 to 4000000):
// the same for SerialDevice and the device emulator.
const std::vector<int>& standard_baud_rates();
bool is_standard_baud_rate(int baud);

struct SerialOptions {
  int baud = 115200;  // the UART's rate; also how long a frame takes on the wire
  SampleFormat format = SampleFormat::Auto;
  // How long to wait for a reply, on top of the time its request and reply need on the wire
  // at `baud`: covers the device's compute time and the operating system's latency.
  double timeout_s = 0.25;
  int retries = 3;  // re-sends of an unanswered request, >= 0
};

struct SerialStats {
  long long requests = 0;         // distinct requests sent (re-sends not counted)
  long long retries = 0;          // re-sends after a timeout
  long long bad_frames = 0;       // received frames thrown away (checksum, COBS, length)
  long long stale_replies = 0;    // checked replies to an earlier request, ignored
  long long resumed = 0;          // given-up requests sent again as the very same frame
  long long recalled = 0;         // repeated requests answered from the host's journal
  long long handshakes = 0;       // HELLO answered, the first one included
  long long device_restarts = 0;  // handshakes that found a new boot id
  long long connection_losses = 0;
  long long bytes_sent = 0, bytes_received = 0;      // on the wire, all of them
  long long payload_sent = 0, payload_received = 0;  // sample bytes (theta, x; y) only
};

class SerialDevice : public PhysicalSystem {
 public:
  // Opens the port and shakes hands; throws DeviceError if that fails.
  explicit SerialDevice(const std::string& path, const SerialOptions& options = SerialOptions());
  ~SerialDevice() override;

  std::string name() const override;
  int input_size() const override;
  int param_size() const override;
  int output_size() const override;
  double input_min() const override;
  double input_max() const override;
  Vec param_min() const override;
  Vec param_max() const override;

  const std::string& path() const;
  const DeviceDescription& description() const;  // from the latest handshake
  SampleFormat format() const;                   // the format in use
  int batch_limit() const;  // samples per request: max_batch, or fewer for max_frame
  bool connected() const;   // the port is open and a session holds
  SerialStats stats() const;

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
