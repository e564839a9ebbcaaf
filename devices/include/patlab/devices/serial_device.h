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
// the port and shakes hands again by itself, so training resumes once the device is back.
// A device that comes back as a different device (other name or sizes) is refused.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "patlab/core/system.h"

namespace patlab {

// How values travel on the wire (see "Sample formats" in docs/protocol.md).
enum class SampleFormat {
  Auto = 0,     // the device's best: float32 if offered, else q16, else float64
  Float32 = 1,  // 4 bytes a value; about 7 significant digits
  Q16 = 2,      // 2 bytes a value, 65536 steps over the declared range (needs finite ranges)
  Float64 = 3,  // 8 bytes a value; lossless, so a run matches in-process emulation bit for bit
};
const char* sample_format_name(SampleFormat f);  // "auto", "f32", "q16", "f64"
// Parses a name; throws std::invalid_argument listing the valid ones.
SampleFormat sample_format_from_name(const std::string& name);

// What the device said about itself in the handshake (DESCRIBE).
struct DeviceDescription {
  int version = 0;
  std::string name;
  int input_size = 0, param_size = 0, output_size = 0;
  int max_batch = 0;  // samples per request, the device's own limit
  int max_frame = 0;  // bytes of the largest frame body it sends or accepts
  uint32_t boot_id = 0;
  double input_min = 0, input_max = 0;    // may be infinite
  double output_min = 0, output_max = 0;  // may be infinite
  Vec param_min, param_max;               // per parameter
  std::vector<SampleFormat> formats;      // offered
};

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
