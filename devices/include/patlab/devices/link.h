// patlab/devices/link.h: patlab's one protocol host (docs/protocol.md), with no I/O of its own.
// Every way of reaching a device is a transport under it: the browser's Web Serial port
// (wasm/web_serial.cpp), a native serial port (SerialDevice, serial_device.h), a device in the
// same process (LoopbackDevice, tests and the page's stand-in port). Builds everywhere.
//
//   DevicePending   a DeviceError that means "the answer is on its way": the trainer has rolled
//                   the step back (core/trainer.h), so the caller repeats it later, when the
//                   reply is there. stalled(): the device is gone or silent, so the wait may be
//                   long; what() says why, in words for the user.
//   LinkOptions     baud rate, sample format, timeout and retries, and how many replies to keep
//   LinkStats       what happened on the line: requests, retries, bad frames, reconnects, bytes
//   DeviceLink      the host side of the protocol: the owner of the port writes take_output()
//                   and hands back what it read (whole frames, or any piece of the byte
//                   stream); poll() with a clock does timeouts and re-sends. Handshake, one
//                   request in flight, a retry is the identical frame (the device replays its
//                   reply), a new handshake after a restart, a different device refused.
//   LinkedDevice    a PhysicalSystem on a DeviceLink that never blocks: run(x, θ) answers from
//                   the replies that have arrived for exactly these (x, θ); otherwise it asks
//                   and throws DevicePending. A step retried with the same batch and parameters
//                   asks the same questions, so it finds its answers: a step over a network of
//                   L physical layers takes L round trips.
//
// Nothing runs twice (docs/protocol.md, "A reply later than every retry"). A request given up
// on (no reply after every retry) keeps the session: when it is asked next, it goes out again
// as the very same frame, sequence number included, so a device that ran it late replays its
// reply. Replies are kept by request content (a bounded journal, oldest out): the non-blocking
// caller takes any kept answer (answer()); a blocking one, repeating an operation after a
// failure, takes the answers in the order they first came (recall()), so a new query with the
// same content is asked again.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "patlab/core/system.h"
#include "patlab/devices/description.h"

namespace patlab {

class DevicePending : public DeviceError {
 public:
  DevicePending(const std::string& what, bool stalled) : DeviceError(what), stalled_(stalled) {}
  bool stalled() const { return stalled_; }

 private:
  bool stalled_;
};

// The baud rates a serial port can be set to (termios' standard rates, 300 to 4000000): the
// same for every host and the device emulator.
const std::vector<int>& standard_baud_rates();
bool is_standard_baud_rate(int baud);

struct LinkOptions {
  int baud = 115200;  // the UART's rate: how long frames take on the wire
  SampleFormat format = SampleFormat::Auto;
  // How long to wait for a reply, on top of the time its request and reply need on the wire
  // at `baud`: covers the device's compute time and the operating system's (or page's) latency.
  double timeout_s = 0.25;
  int retries = 3;                             // re-sends of an unanswered request, >= 0
  size_t max_replies = 65536;                  // replies kept (the oldest go first)
  size_t max_reply_bytes = size_t(16) << 20;   // and their bytes, about
  size_t max_queue = 64;                       // requests waiting to be sent (oldest dropped)
};

struct LinkStats {
  long long requests = 0;         // distinct requests sent (re-sends not counted)
  long long retries = 0;          // re-sends after a timeout
  long long bad_frames = 0;       // received frames thrown away (checksum, COBS, length)
  long long stale_replies = 0;    // checked replies to an earlier request, ignored
  long long resumed = 0;          // given-up requests sent again as the very same frame
  long long recalled = 0;         // repeated requests answered from the journal (recall())
  long long cached_answers = 0;   // LinkedDevice chunks answered from kept replies (answer())
  long long handshakes = 0;       // HELLO answered, the first one included
  long long device_restarts = 0;  // handshakes that found a new boot id
  long long connection_losses = 0;                   // the port went away during a session
  long long bytes_sent = 0, bytes_received = 0;      // on the wire, delimiters included
  long long payload_sent = 0, payload_received = 0;  // sample bytes (theta, x; y) only
  // Every count by its name here ("requests", "bad_frames", ...), e.g. for a status in JSON.
  std::vector<std::pair<const char*, long long>> fields() const;
};

// The device's own description (the handshake's) and how this link talks to it.
struct LinkDescription : DeviceDescription {
  int batch_limit = 0;  // samples per request, within max_batch and max_frame
  SampleFormat sample_format = SampleFormat::Auto;  // in use
  std::string format;   // the same by name: "f32", "q16" or "f64"
};

// What a request asks, whatever its sequence number: a 128-bit hash of its type and payload
// and the payload's length.
struct RequestKey {
  uint64_t a = 0, b = 0;
  size_t n = 0;
  bool operator==(const RequestKey& o) const { return a == o.a && b == o.b && n == o.n; }
  bool operator!=(const RequestKey& o) const { return !(*this == o); }
};

class DeviceLink {
 public:
  enum class State { Closed, Handshaking, Ready, Refused };

  // `port` names the port in messages ("serial device 'x' on <port>"); "" for the page's port.
  explicit DeviceLink(const LinkOptions& options = LinkOptions(), const std::string& port = "");
  ~DeviceLink();
  DeviceLink(const DeviceLink&) = delete;
  DeviceLink& operator=(const DeviceLink&) = delete;

  // ---- the port's side (times in seconds, any monotonic clock) ----
  void opened(double now);              // the port is open: shakes hands
  void closed(const std::string& why);  // the port went away, or was closed
  void receive(const uint8_t* frame, size_t n, double now);  // the bytes between two 0x00
  void receive_bytes(const uint8_t* bytes, size_t n, double now);  // any piece of the stream
  void poll(double now);                // timeouts and re-sends
  std::vector<uint8_t> take_output();   // bytes to write now (empty: none)
  double deadline() const;              // when poll() has work next; infinity if never

  // ---- state ----
  State state() const;
  bool ready() const { return state() == State::Ready; }
  bool described() const;  // a handshake succeeded once (description() holds it)
  const LinkDescription& description() const;
  const LinkStats& stats() const;
  const std::string& last_error() const;  // the last problem, in words ("" if none)
  std::string state_text() const;         // "ready", "closed", ...
  std::string who() const;                // "device 'x'", "serial device 'x' on /dev/ttyUSB0"
  int waiting() const;                    // requests queued or in flight
  long long give_ups() const;             // requests given up on after every retry

  // ---- requests ----
  // A RUN_BATCH for columns [c0, c0 + n) of x with parameters theta, in the format in use.
  // Throws DeviceError for a value the format cannot carry.
  struct Batch {
    std::string payload;
    RequestKey key;
    int count = 0;
  };
  Batch batch(const Mat& x, Eigen::Index c0, int n, const Vec& theta) const;
  // Queues a request (a batch, or PING/RESET with their payload) unless the same one is queued
  // or in flight already, and starts it at `now` if the line is free. Returns its ticket.
  uint64_t ask(const Batch& b, double now);
  uint64_t ask(uint8_t type, const std::string& payload, double now);
  void cancel();  // drops queued requests (kept replies stay)

  struct Reply {
    RequestKey key;
    uint64_t ticket = 0;
    Mat y;              // output_size x count (RUN_BATCH)
    std::string bytes;  // the payload (PING, RESET)
    std::string error;  // or why the device refused it; "" if answered
  };
  const Reply* answer(const RequestKey& key) const;  // the newest kept reply to it, or null
  const Reply* answer(uint64_t ticket) const;        // the reply to this request, or null
  void drop(uint64_t ticket);                        // forgets one reply (e.g. a refusal)
  // A blocking caller repeating an operation after a failure: repeat() says one failed; then
  // recall() gives the journal's reply to a request that repeats one answered before (the
  // first matches the newest identical reply, each next one the reply after the previous),
  // until a request differs or is the one given up on, which goes to the device.
  void repeat();
  const Reply* recall(const RequestKey& key);
  void forget_replies();  // drops kept replies and queued requests

  // ---- the non-blocking caller: see LinkedDevice ----
  void run(const Mat& x, const Vec& theta, Mat& y);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A PhysicalSystem whose name, sizes and ranges are those its device gave in the handshake:
// what every host's device (LinkedDevice, SerialDevice) has in common.
class DescribedDevice : public PhysicalSystem {
 public:
  virtual const DeviceDescription& description() const = 0;
  std::string name() const override { return description().name; }
  int input_size() const override { return description().input_size; }
  int param_size() const override { return description().param_size; }
  int output_size() const override { return description().output_size; }
  double input_min() const override { return description().input_min; }
  double input_max() const override { return description().input_max; }
  Vec param_min() const override { return description().param_min; }
  Vec param_max() const override { return description().param_max; }
};

class LinkedDevice : public DescribedDevice {
 public:
  // The link must have a description (a handshake done).
  explicit LinkedDevice(std::shared_ptr<DeviceLink> link);
  const DeviceDescription& description() const override { return desc_; }
  const DeviceLink& link() const { return *link_; }

 protected:
  void run(const Mat& x, const Vec& theta, Mat& y) override;

 private:
  std::shared_ptr<DeviceLink> link_;
  LinkDescription desc_;
};

}  // namespace patlab
