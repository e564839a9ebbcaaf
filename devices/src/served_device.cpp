#include "patlab/devices/served_device.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace patlab {

namespace {

bool finite_in(double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; }
bool finite_range(double a, double b) { return std::isfinite(a) && std::isfinite(b) && b > a; }

}  // namespace

ServedDevice::ServedDevice(std::shared_ptr<PhysicalSystem> device, const ServedOptions& opt)
    : device_(std::move(device)) {
  if (!device_) throw std::invalid_argument("ServedDevice: no device");
  const PhysicalSystem& d = *device_;
  if (d.input_size() > 65535 || d.param_size() > 65535 || d.output_size() > 65535)
    throw std::invalid_argument("DeviceServer: sizes above 65535 do not fit the protocol");
  if (opt.max_batch < 1 || opt.max_batch > 65535 || opt.max_frame < 64 || opt.max_frame > 65535)
    throw std::invalid_argument("DeviceServer: need 1 <= max_batch <= 65535, 64 <= max_frame <= 65535");
  desc_.version = PL_VERSION;
  desc_.input_size = uint16_t(d.input_size());
  desc_.param_size = uint16_t(d.param_size());
  desc_.output_size = uint16_t(d.output_size());
  desc_.max_batch = uint16_t(opt.max_batch);
  desc_.max_frame = uint16_t(opt.max_frame);
  desc_.input_min = float(d.input_min());
  desc_.input_max = float(d.input_max());
  desc_.output_min = float(opt.output_min);
  desc_.output_max = float(opt.output_max);
  // Parameter ranges, run-length coded: a physical system's parameters come in a few groups
  // (couplings, drives, gains), each sharing one range.
  const Vec lo = d.param_min(), hi = d.param_max();
  bool all_finite = true;
  for (int i = 0; i < lo.size(); ++i) {
    all_finite = all_finite && finite_range(lo[i], hi[i]);
    if (!runs_.empty() && runs_.back().lo == float(lo[i]) && runs_.back().hi == float(hi[i]) &&
        runs_.back().count < 65535)
      ++runs_.back().count;
    else
      runs_.push_back({1, float(lo[i]), float(hi[i])});
  }
  desc_.runs = runs_.data();
  desc_.run_count = uint16_t(runs_.size());
  desc_.formats = 0;
  if (opt.offer_float32) desc_.formats |= PL_FORMAT_BIT(PL_FMT_F32);
  if (opt.offer_float64 && pl_sample_size(PL_FMT_F64)) desc_.formats |= PL_FORMAT_BIT(PL_FMT_F64);
  // q16 codes a value as a step of its range: only where every range is finite.
  if (opt.offer_q16 && all_finite && finite_range(d.input_min(), d.input_max()) &&
      finite_range(opt.output_min, opt.output_max))
    desc_.formats |= PL_FORMAT_BIT(PL_FMT_Q16);
  if (!desc_.formats) throw std::invalid_argument("DeviceServer: no sample format to offer");
  std::strncpy(desc_.name, d.name().c_str(), PL_NAME_MAX);
  desc_.name[PL_NAME_MAX] = '\0';
  rx_.resize(size_t(opt.max_frame));
  tx_.resize(PL_WIRE_SIZE(size_t(opt.max_frame)));
  restart(1);
}

void ServedDevice::restart(uint32_t boot_id) {
  desc_.boot_id = boot_id;
  pl_device_init(&dev_, &desc_, &ServedDevice::run_batch, nullptr, this, rx_.data(), rx_.size(),
                 tx_.data(), tx_.size());
}

uint8_t ServedDevice::run_batch(void* ctx, const pl_describe* d, uint8_t format, uint16_t count,
                                pl_reader* in, pl_writer* out, const char** text) {
  return static_cast<ServedDevice*>(ctx)->run(d, format, count, in, out, text);
}

uint8_t ServedDevice::run(const pl_describe* d, uint8_t format, uint16_t count, pl_reader* in,
                          pl_writer* out, const char** text) {
  const int P = d->param_size, I = d->input_size, O = d->output_size;
  theta_.resize(P);
  for (int i = 0; i < P; ++i) {
    float lo = 0, hi = 0;
    pl_param_range(d, uint16_t(i), &lo, &hi);
    theta_[i] = pl_get_sample(in, format, lo, hi);
    // A real device must never be driven outside its declared range: refuse, not clamp.
    if (!finite_in(theta_[i], lo, hi)) {
      *text = "a parameter is not finite or outside its range";
      return PL_ERR_BAD_VALUE;
    }
  }
  x_.resize(I, count);
  for (int j = 0; j < count; ++j)
    for (int k = 0; k < I; ++k) {
      x_(k, j) = pl_get_sample(in, format, d->input_min, d->input_max);
      if (!finite_in(x_(k, j), d->input_min, d->input_max)) {
        *text = "an input is not finite or outside the input range";
        return PL_ERR_BAD_VALUE;
      }
    }
  if (!pl_reader_done(in)) return PL_ERR_MALFORMED;
  try {
    device_->forward(x_, theta_, y_);
  } catch (const std::exception& e) {
    last_error_ = std::string("emulated device: ") + e.what();
    *text = last_error_.c_str();
    return PL_ERR_DEVICE;
  }
  if (y_.rows() != O || y_.cols() != count) {
    *text = "emulated device: output of the wrong shape";
    return PL_ERR_DEVICE;
  }
  if (format == PL_FMT_Q16 && !y_.allFinite()) {
    *text = "an output is not finite, which q16 cannot carry";
    return PL_ERR_DEVICE;
  }
  for (int j = 0; j < count; ++j)
    for (int k = 0; k < O; ++k) pl_put_sample(out, format, y_(k, j), d->output_min, d->output_max);
  ++batches_;
  return PL_OK;
}

// ---- LoopbackDevice ------------------------------------------------------------------------

namespace {
ServedOptions served_options(const LoopbackOptions& o) {
  ServedOptions s;
  s.max_batch = o.max_batch;
  s.max_frame = o.max_frame;
  s.offer_float32 = o.offer_float32;
  s.offer_float64 = o.offer_float64;
  return s;
}
}  // namespace

LoopbackDevice::LoopbackDevice(std::shared_ptr<PhysicalSystem> device, const LoopbackOptions& o)
    : served_(std::move(device), served_options(o)) {
  served_.restart(o.boot_id);
}

std::vector<uint8_t> LoopbackDevice::push(const uint8_t* bytes, size_t n) {
  pl_device& dev = served_.protocol();
  std::vector<uint8_t> out;
  for (size_t i = 0; i < n; ++i) {
    const size_t k = pl_device_push(&dev, bytes[i]);
    if (k) out.insert(out.end(), dev.tx, dev.tx + k);
  }
  return out;
}

long long LoopbackDevice::replays() const {
  return (long long)served_.protocol().replays;
}

}  // namespace patlab
