// patlab/devices/served_device.h: the device side of the wire protocol over any PhysicalSystem,
// as firmware runs it (pl_device_*): the description it gives in the handshake, batches run on
// the system, errors for values outside the declared ranges. Builds everywhere.
//
//   ServedDevice    the protocol state and the batch callback; DeviceServer (a pty, with faults)
//                   and LoopbackDevice (bytes in, bytes out) are its two ways onto a line.
//   LoopbackDevice  request bytes in, reply bytes out, in the same process: for tests and the
//                   browser page's stand-in port.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "patlab/core/system.h"
#include "patlab_protocol.h"

namespace patlab {

struct ServedOptions {
  int max_batch = 1024;   // samples per request
  int max_frame = 16384;  // bytes of a frame body, <= 65535
  // The declared output range (q16 codes outputs over it; infinite: q16 is not offered).
  double output_min = -std::numeric_limits<double>::infinity();
  double output_max = std::numeric_limits<double>::infinity();
  // q16 also needs finite input and parameter ranges.
  bool offer_float32 = true, offer_q16 = true, offer_float64 = true;
};

class ServedDevice {
 public:
  // Throws std::invalid_argument for sizes or options the protocol cannot carry.
  ServedDevice(std::shared_ptr<PhysicalSystem> device, const ServedOptions& options);
  ServedDevice(const ServedDevice&) = delete;
  ServedDevice& operator=(const ServedDevice&) = delete;
  // A (re)started device: this boot id, no session, no cached reply.
  void restart(uint32_t boot_id);
  pl_device& protocol() { return dev_; }  // parser, reply buffer (tx), replays
  const pl_device& protocol() const { return dev_; }
  const pl_describe& description() const { return desc_; }
  long long batches_run() const { return batches_; }

 private:
  static uint8_t run_batch(void* ctx, const pl_describe* d, uint8_t format, uint16_t count,
                           pl_reader* in, pl_writer* out, const char** text);
  uint8_t run(const pl_describe* d, uint8_t format, uint16_t count, pl_reader* in,
              pl_writer* out, const char** text);

  std::shared_ptr<PhysicalSystem> device_;
  pl_describe desc_{};
  std::vector<pl_range_run> runs_;
  std::vector<uint8_t> rx_, tx_;
  pl_device dev_{};
  Mat x_, y_;
  Vec theta_;
  std::string last_error_;  // text of the last ERROR, kept alive while it is written
  std::atomic<long long> batches_{0};
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
  // Feeds received bytes (any split); returns the reply bytes they caused, if any.
  std::vector<uint8_t> push(const uint8_t* bytes, size_t n);
  long long batches_run() const { return served_.batches_run(); }
  long long replays() const;

 private:
  ServedDevice served_;
};

}  // namespace patlab
