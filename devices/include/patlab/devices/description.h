// patlab/devices/description.h: what a device says of itself in the handshake (the DESCRIBE
// reply of docs/protocol.md), decoded once for the one protocol host, DeviceLink (link.h),
// whichever transport it runs on. Builds everywhere, WebAssembly included (no Asio, no I/O).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "patlab/core/tensor.h"
#include "patlab_protocol.h"

namespace patlab {

// How values travel on the wire (see "Sample formats" in docs/protocol.md). The values are the
// protocol's PL_FMT_* codes.
enum class SampleFormat {
  Auto = 0,     // the device's best: float32 if offered, else q16, else float64
  Float32 = 1,  // 4 bytes a value; about 7 significant digits
  Q16 = 2,      // 2 bytes a value, 65536 steps over the declared range (needs finite ranges)
  Float64 = 3,  // 8 bytes a value; lossless, so a run matches in-process emulation bit for bit
};
const char* sample_format_name(SampleFormat f);  // "auto", "f32", "q16", "f64"
// Parses a name; throws std::invalid_argument listing the valid ones.
SampleFormat sample_format_from_name(const std::string& name);

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

// A DESCRIBE payload, decoded.
struct DescribeReply {
  uint8_t status = PL_OK;  // PL_OK, PL_ERR_VERSION (desc.version is then the device's), or
                           // another PL_ERR_* for a malformed description
  DeviceDescription desc;
  pl_describe raw{};               // the same in the C library's terms (for pl_batch_limit);
  std::vector<pl_range_run> runs;  // raw.runs points here: move the reply, do not copy it
};
DescribeReply decode_describe(const uint8_t* payload, size_t n);

// Whether `b` is the device `a` described (name, sizes and ranges): the training state built
// for one (parameters, twin) carries over to the other.
bool same_device(const DeviceDescription& a, const DeviceDescription& b);

// The sample format to use from those offered (a PL_FORMAT_BIT mask): `requested` if offered;
// with Auto, float32, else q16, else float64. Auto if none fits.
SampleFormat choose_format(SampleFormat requested, uint8_t offered);

}  // namespace patlab
