// patlab/app/device_link.h: a physical device on a serial line that someone else reads and
// writes (the page's JavaScript, through Web Serial), driven without ever blocking a frame.
//
//   DevicePending   a DeviceError that means "the answer is on its way": the trainer has rolled
//                   the step back (core/trainer.h), so the caller repeats it on a later frame,
//                   when the reply is there. stalled(): the device is gone or silent, so the
//                   wait may be long; what() says why, in words for the user.
//   DeviceLink      the host side of patlab's wire protocol (docs/protocol.md), with no I/O of
//                   its own: the owner of the port writes take_output() and hands back each
//                   received frame (the bytes between two 0x00 delimiters). Handshake, one
//                   request in flight, a retry is the identical frame (the device replays its
//                   reply), timeouts, a new handshake after a restart or a silence, and the
//                   replies kept by request content (a bounded cache, least recently used out).
//   LinkedDevice    a PhysicalSystem on a DeviceLink: run(x, θ) answers from the replies that
//                   have arrived for exactly these (x, θ); otherwise it queues the requests and
//                   throws DevicePending. A step retried with the same batch and parameters
//                   asks the same questions, so it finds its answers: a PAT step over a network
//                   of L physical layers takes L round trips, each on a frame of its own.
//   LoopbackDevice  the device side (pl_device_*, as firmware runs it) over any PhysicalSystem:
//                   request bytes in, reply bytes out. For tests and the page's stand-in port.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
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

struct LinkOptions {
  int baud = 115200;      // the UART's rate: how long frames take on the wire
  double timeout_s = 0.5;  // wait for a reply on top of its wire time (compute, USB, the page)
  int retries = 3;         // re-sends of an unanswered request before a new handshake
  int format = 0;          // 0: the device's best (f32, else q16, else f64); else PL_FMT_*
  size_t max_replies = 256;             // replies kept (least recently used go first)
  size_t max_reply_bytes = 16u << 20;   // and their values' bytes, about
  size_t max_queue = 64;                // requests waiting to be sent (oldest dropped)
};

struct LinkStats {
  long long requests = 0;       // distinct requests sent (re-sends not counted)
  long long retries = 0;        // re-sends after a timeout
  long long bad_frames = 0;     // received frames thrown away (COBS, checksum, length)
  long long stale_replies = 0;  // checked replies to an earlier request, ignored
  long long handshakes = 0, device_restarts = 0, connection_losses = 0;
  long long bytes_sent = 0, bytes_received = 0;  // on the wire (received: frames + delimiters)
  long long cached_answers = 0;                  // run() chunks answered from kept replies
};

// What the device said about itself (DESCRIBE), with the format chosen for it.
// The device's own description (the handshake's, as SerialDevice reads it) and how this link
// talks to it.
struct LinkDescription : DeviceDescription {
  int batch_limit = 0;  // samples per request, within max_batch and max_frame
  std::string format;   // in use: "f32", "q16" or "f64"
};

class DeviceLink {
 public:
  enum class State { Closed, Handshaking, Ready, Refused };

  explicit DeviceLink(const LinkOptions& options = LinkOptions());
  ~DeviceLink();
  DeviceLink(const DeviceLink&) = delete;
  DeviceLink& operator=(const DeviceLink&) = delete;

  // ---- the port's side (times in seconds, any monotonic clock) ----
  void opened(double now);               // the port is open: shakes hands
  void closed(const std::string& why);   // the port went away, or was closed
  void receive(const uint8_t* frame, size_t n, double now);  // bytes between two delimiters
  void poll(double now);                 // timeouts and re-sends: call every frame
  std::vector<uint8_t> take_output();    // bytes to write now (empty: none)

  // ---- state ----
  State state() const;
  bool ready() const { return state() == State::Ready; }
  bool described() const;  // a handshake succeeded once (description() holds it)
  const LinkDescription& description() const;
  const LinkStats& stats() const;
  const std::string& last_error() const;  // the last problem, in words ("" if none)
  std::string state_text() const;         // "ready", "closed", ...
  int waiting() const;                    // requests queued or in flight

  // ---- the device's side: see LinkedDevice ----
  void run(const Mat& x, const Vec& theta, Mat& y);
  void forget_replies();  // drops kept replies and queued requests

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class LinkedDevice : public PhysicalSystem {
 public:
  // The link must have a description (a handshake done).
  explicit LinkedDevice(std::shared_ptr<DeviceLink> link);
  std::string name() const override;
  int input_size() const override;
  int param_size() const override;
  int output_size() const override;
  double input_min() const override;
  double input_max() const override;
  Vec param_min() const override;
  Vec param_max() const override;
  const DeviceLink& link() const { return *link_; }

 protected:
  void run(const Mat& x, const Vec& theta, Mat& y) override;

 private:
  std::shared_ptr<DeviceLink> link_;
  LinkDescription desc_;
};

struct LoopbackOptions {
  int max_batch = 1024;
  int max_frame = 16384;
  bool offer_float32 = true, offer_float64 = true;
  uint32_t boot_id = 1;
};

class LoopbackDevice {
 public:
  explicit LoopbackDevice(std::shared_ptr<PhysicalSystem> device,
                          const LoopbackOptions& options = LoopbackOptions());
  ~LoopbackDevice();
  // Feeds received bytes (any split); returns the reply bytes they caused, if any.
  std::vector<uint8_t> push(const uint8_t* bytes, size_t n);
  long long batches_run() const;
  long long replays() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace patlab
