#include "patlab/devices/description.h"

#include <algorithm>
#include <stdexcept>

namespace patlab {

const char* sample_format_name(SampleFormat f) {
  switch (f) {
    case SampleFormat::Auto:
      return "auto";
    case SampleFormat::Float32:
      return "f32";
    case SampleFormat::Q16:
      return "q16";
    case SampleFormat::Float64:
      return "f64";
  }
  return "?";
}

SampleFormat sample_format_from_name(const std::string& name) {
  for (SampleFormat f :
       {SampleFormat::Auto, SampleFormat::Float32, SampleFormat::Q16, SampleFormat::Float64})
    if (name == sample_format_name(f)) return f;
  throw std::invalid_argument("unknown sample format '" + name + "': choose auto, f32, q16 or f64");
}

DescribeReply decode_describe(const uint8_t* payload, size_t n) {
  DescribeReply out;
  pl_reader r;
  pl_reader_init(&r, payload, n);
  out.runs.resize(n / 10 + 1);  // a run takes 10 bytes
  pl_describe& d = out.raw;
  out.status = pl_get_describe(&r, &d, out.runs.data(),
                               uint16_t(std::min<size_t>(out.runs.size(), 65535)));
  DeviceDescription& nd = out.desc;
  nd.version = d.version;
  if (out.status != PL_OK) return out;
  out.runs.resize(d.run_count);
  d.runs = out.runs.data();
  nd.name = d.name;
  nd.input_size = d.input_size;
  nd.param_size = d.param_size;
  nd.output_size = d.output_size;
  nd.max_batch = d.max_batch;
  nd.max_frame = d.max_frame;
  nd.boot_id = d.boot_id;
  nd.input_min = d.input_min;
  nd.input_max = d.input_max;
  nd.output_min = d.output_min;
  nd.output_max = d.output_max;
  nd.param_min.resize(d.param_size);
  nd.param_max.resize(d.param_size);
  for (int i = 0; i < d.param_size; ++i) {
    float lo = 0, hi = 0;
    pl_param_range(&d, uint16_t(i), &lo, &hi);
    nd.param_min[i] = lo;
    nd.param_max[i] = hi;
  }
  for (SampleFormat f : {SampleFormat::Float32, SampleFormat::Q16, SampleFormat::Float64})
    if (d.formats & PL_FORMAT_BIT(uint8_t(f))) nd.formats.push_back(f);
  return out;
}

bool same_device(const DeviceDescription& a, const DeviceDescription& b) {
  return a.name == b.name && a.input_size == b.input_size && a.param_size == b.param_size &&
         a.output_size == b.output_size && a.param_min == b.param_min &&
         a.param_max == b.param_max && a.input_min == b.input_min && a.input_max == b.input_max;
}

SampleFormat choose_format(SampleFormat requested, uint8_t offered) {
  const auto usable = [&](SampleFormat f) {
    return (offered & PL_FORMAT_BIT(uint8_t(f))) && pl_sample_size(uint8_t(f));
  };
  if (requested != SampleFormat::Auto) return usable(requested) ? requested : SampleFormat::Auto;
  for (SampleFormat f : {SampleFormat::Float32, SampleFormat::Q16, SampleFormat::Float64})
    if (usable(f)) return f;
  return SampleFormat::Auto;
}

}  // namespace patlab
