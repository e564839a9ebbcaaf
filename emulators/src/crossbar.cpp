#include "patlab/emulators/crossbar.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace patlab {

namespace {

constexpr double kNuSpreadRel = 0.3;        // device-to-device spread of the drift exponent
constexpr double kEnergyPerMacJ = 1e-12;    // see the cost model in crossbar_entry_info()

// Rounds v to the nearest of 2^bits levels spanning [−range, range], after clipping.
double quantize(double v, int bits, double range) {
  const double step = 2.0 * range / (std::ldexp(1.0, bits) - 1.0);
  return -range + step * std::round((std::clamp(v, -range, range) + range) / step);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// The model

CrossbarModel::CrossbarModel(int n_in, int n_out, Mat pos, Mat neg, double gain)
    : n_in_(n_in), n_out_(n_out), pos_(std::move(pos)), neg_(std::move(neg)), gain_(gain) {
  if (n_in < 1 || n_out < 1) throw std::invalid_argument("CrossbarModel: need n_in, n_out >= 1");
  const bool ideal = pos_.size() == 0 && neg_.size() == 0;
  if (!ideal && (pos_.rows() != n_out || pos_.cols() != n_in || neg_.rows() != n_out ||
                 neg_.cols() != n_in))
    throw std::invalid_argument("CrossbarModel: device factors must both be n_out x n_in");
  if (!std::isfinite(gain)) throw std::invalid_argument("CrossbarModel: gain must be finite");
}

Vec CrossbarModel::initial_theta(Rng& rng) const {
  // Xavier-like magnitudes with random signs, kept away from W = 0 where the true physics
  // switches from the G+ to the G- device (a kink the oracle's gradient has).
  Vec theta0(n_in_ * n_out_);
  const double scale = std::min(1.0, 1.5 / std::sqrt(double(n_in_)));
  for (int i = 0; i < theta0.size(); ++i)
    theta0[i] = (rng.uniform() < 0.5 ? -1.0 : 1.0) * scale * rng.uniform(0.1, 1.0);
  return theta0;
}

void CrossbarModel::effective_weights(const Vec& theta, Mat& w_eff) const {
  if (theta.size() != param_size())
    throw std::invalid_argument("CrossbarModel: wrong parameter size");
  const Eigen::Map<const Mat> W(theta.data(), n_out_, n_in_);
  if (pos_.size() == 0) {
    w_eff = W;
    return;
  }
  // A positive weight lives on the G⁺ device, a negative one on G⁻; each has its own
  // programming error, stuck state and drift.
  w_eff = (W.array() >= 0.0).select(pos_.array() * W.array(), neg_.array() * W.array()).matrix();
}

void CrossbarModel::forward(const Mat& x, const Vec& theta, Mat& y) const {
  if (x.rows() != n_in_) throw std::invalid_argument("CrossbarModel::forward: wrong input size");
  Mat w;
  effective_weights(theta, w);
  y.noalias() = gain_ * w * x;
}

// y = g W_eff x with W_eff_ij = f_ij W_ij (f the factor of the device holding the weight), so
// g_x = g W_effᵀ g_y, g_W = g f ∘ (g_y xᵀ), and ∂<g_y, y>/∂g = <g_y, W_eff x>.
void CrossbarModel::vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta,
                        double* g_gain) const {
  if (x.rows() != n_in_ || g_y.rows() != n_out_ || g_y.cols() != x.cols())
    throw std::invalid_argument("CrossbarModel::vjp: wrong input or g_y size");
  Mat w;
  effective_weights(theta, w);
  if (g_x) g_x->noalias() = gain_ * w.transpose() * g_y;
  if (g_gain) *g_gain += (g_y.array() * (w * x).array()).sum();
  if (g_theta) {
    if (g_theta->size() != param_size())
      throw std::invalid_argument("CrossbarModel::vjp: g_theta must have param_size entries");
    Mat gw = gain_ * g_y * x.transpose();
    if (pos_.size()) {
      const Eigen::Map<const Mat> W(theta.data(), n_out_, n_in_);
      gw = (W.array() >= 0.0).select(pos_.array() * gw.array(), neg_.array() * gw.array()).matrix();
    }
    *g_theta += Eigen::Map<const Vec>(gw.data(), gw.size());
  }
}

CrossbarModel CrossbarModel::calibrated(const Vec& c) const {
  if (c.size() != 1) throw std::invalid_argument("CrossbarTwin: constants are [gain]");
  return CrossbarModel(n_in_, n_out_, pos_, neg_, c[0]);
}

// ---------------------------------------------------------------------------------------
// The device

CrossbarDevice::CrossbarDevice(const CrossbarSpec& spec, const KnobValues& knobs, uint64_t seed)
    : ModelDevice({-1.0, 1.0, -1.0, 1.0}, seed), info_(crossbar_entry_info()), spec_(spec) {
  if (spec.n_in < 1 || spec.n_out < 1)
    throw std::invalid_argument("CrossbarDevice: need n_in, n_out >= 1");
  // One MVM per query whatever the size (the tile works in parallel); energy per MAC.
  info_.cost.energy_j = kEnergyPerMacJ * spec.n_in * spec.n_out;
  // The chip's fixed imperfections, drawn once in a fixed order so that every knob setting
  // of the same seed is the same chip (a larger stuck fraction only adds stuck devices).
  Rng chip(seed ^ 0x63686970ull);  // "chip"
  auto draw = [&](Mat& m, bool normal) {
    m.resize(spec.n_out, spec.n_in);
    for (Eigen::Index i = 0; i < m.size(); ++i)
      m.data()[i] = normal ? chip.normal() : chip.uniform();
  };
  draw(xi_pos_, true);
  draw(xi_neg_, true);
  draw(zeta_pos_, true);
  draw(zeta_neg_, true);
  Mat u;
  draw(u, false);
  death_order_.resize(u.size());
  for (int i = 0; i < int(u.size()); ++i) death_order_[i] = i;
  std::stable_sort(death_order_.begin(), death_order_.end(),
                   [&u](int a, int b) { return u.data()[a] < u.data()[b]; });
  // State: [queries, noise RNG (6 words)]. The drift is a function of the query count and the
  // chip's fixed draws, so it needs no words of its own.
  keep_state({&noise_rng_});
  set_knobs(info_.with_settings(knobs, {{"adc_range", spec.adc_range}}));
}

void CrossbarDevice::resume() {
  const double t_rel = drift_time();
  const double prog_noise = knobs_.at("prog_noise_rel"), drift_nu = knobs_.at("drift_nu");
  // Dead cross points: a whole number of them, so that every step up in the fraction that
  // adds one changes the device.
  const int dead = int(std::lround(knobs_.at("stuck_fraction") * double(death_order_.size())));
  auto factors = [&](const Mat& xi, const Mat& zeta) {
    Mat f(spec_.n_out, spec_.n_in);
    for (Eigen::Index i = 0; i < f.size(); ++i) {
      // A conductance cannot be negative, whatever the programming error.
      const double programmed = std::max(0.0, 1.0 + prog_noise * xi.data()[i]);
      const double nu = drift_nu * std::max(0.0, 1.0 + kNuSpreadRel * zeta.data()[i]);
      f.data()[i] = programmed * std::pow(t_rel, -nu);
    }
    for (int k = 0; k < dead; ++k) f.data()[death_order_[k]] = 0.0;
    return f;
  };
  set_truth(CrossbarModel(spec_.n_in, spec_.n_out, factors(xi_pos_, zeta_pos_),
                          factors(xi_neg_, zeta_neg_), 1.0));
}

void CrossbarDevice::apply_knobs() {
  spec_.adc_range = knobs_.at("adc_range");
  reseed_streams();
  resume();
}

void CrossbarDevice::run(const Mat& x, const Vec& theta, Mat& y) {
  if (x.rows() != spec_.n_in || theta.size() != param_size())
    throw std::invalid_argument("crossbar: wrong input or parameter size");
  // DAC: the row voltages take one of 2^bits levels over the input range.
  const int dac_bits = int(knobs_.at("dac_bits")), adc_bits = int(knobs_.at("adc_bits"));
  const double read_noise = knobs_.at("read_noise_rel"), out_noise = knobs_.at("out_noise");
  const Mat* xin = &x;
  if (dac_bits > 0) {
    const int bits = dac_bits;
    xq_ = x.unaryExpr([bits](double v) { return quantize(v, bits, 1.0); });
    xin = &xq_;
  }
  truth_->model().effective_weights(theta, w_eff_);
  y.noalias() = w_eff_ * *xin;
  // Read noise: every device's current W_eff_ij x_j fluctuates independently by a relative
  // std σ; their sum on column i has variance σ² Σ_j (W_eff_ij x_j)², drawn as one normal.
  if (read_noise > 0) {
    var_.noalias() = w_eff_.cwiseAbs2() * xin->cwiseAbs2();
    for (Eigen::Index i = 0; i < y.size(); ++i)
      y.data()[i] += read_noise * std::sqrt(var_.data()[i]) * noise_rng_.normal();
  }
  if (out_noise > 0) noise_rng_.add_normal(y.data(), y.size(), out_noise);
  // ADC: clip to the full scale, round to 2^bits levels.
  if (adc_bits > 0) {
    const int bits = adc_bits;
    const double range = spec_.adc_range;
    y = y.unaryExpr([bits, range](double v) { return quantize(v, bits, range); });
  }
  // Time has moved on by this batch: the conductances the next query sees.
  if (knobs_.at("drift_nu") > 0) resume();
}

// The spec a shape and the (completed) knobs ask for; throws std::invalid_argument for a
// shape the system cannot take. spec_entry builds the twin, the device and θ0 from it.
static CrossbarSpec crossbar_spec(const Shape& shape, const KnobValues& k) {
  CrossbarSpec spec;
  spec.n_in = shape.inputs;
  spec.n_out = shape.outputs;
  if (spec.n_in < 1 || spec.n_out < 1 || spec.n_in > 1024 || spec.n_out > 1024)
    throw std::invalid_argument("crossbar: a tile has 1 to 1024 rows and columns");
  spec.adc_range = k.at("adc_range");
  return spec;
}

// ---------------------------------------------------------------------------------------
// Catalog entry

const SystemInfo& crossbar_entry_info() {
  static const SystemInfo info{
    "crossbar",
    "Analog in-memory crossbar",
    "A grid of memory devices (phase-change or resistive memory) computes a matrix-vector "
    "product in one step: the inputs are voltages on the rows, every cross point passes a "
    "current set by its conductance, and each column wire adds the currents up. Each signed "
    "weight is the difference of two devices' conductances. The devices are imperfect: "
    "programming misses the target, some devices are stuck, every read is noisy, the "
    "conductances slowly drift down, and the converters at the edges round the signals. "
    "The twin is the ideal product y = W x, the model a user writes (what IBM's aihwkit "
    "emulates for hardware-aware training).",
    "layer input j -> row voltage through the DAC, in [-1, 1] (full scale)",
    "target weights W_ij in [-1, 1] (units of the maximum conductance), "
    "programmed as a differential pair G+ - G-; theta[i + outputs*j] = W_ij",
    {8, 8},
    {
        {"adc_range", "ADC full scale", "output units", "setting", 0.5, 64, 4,
         "the ADC reads outputs in [-adc_range, adc_range] (used when adc_bits > 0)"},
        {"prog_noise_rel", "programming error", "", "mismatch", 0.0, 0.3, 0.0,
         "relative std of each device's fixed error in reaching its target conductance"},
        {"stuck_fraction", "dead cross points", "", "structural", 0.0, 0.2, 0.0,
         "fraction of cross points stuck at zero conductance (failed selector): weight reads 0"},
        {"read_noise_rel", "read noise", "", "noise", 0.0, 0.2, 0.0,
         "relative std of every device's current on every query"},
        {"out_noise", "output noise", "output units", "noise", 0.0, 0.2, 0.0,
         "std of additive Gaussian noise on each column output (amplifier, thermal)"},
        {"dac_bits", "DAC resolution", "bits", "noise", 0, 16, 0,
         "quantization: input voltages take 2^bits levels over [-1, 1] (0 = ideal)", true},
        {"adc_bits", "ADC resolution", "bits", "noise", 0, 16, 0,
         "quantization: outputs are clipped to +-adc_range and rounded to 2^bits levels "
         "(0 = ideal, no clipping)", true},
        {"drift_nu", "conductance drift", "nu", "drift", 0.0, 0.1, 0.0,
         "conductances decay as (t/t0)^-nu, t/t0 = 1 + queries/1000 (30 % device spread in nu)"},
    },
    // Published analog in-memory-computing tiles do one MVM in ~100 ns: IBM's 64-core PCM chip
    // (Le Gallo et al., Nat. Electron. 6, 680 (2023)) computes a 256 x 256 MVM in ~130 ns at a
    // peak ~10 TOPS/W (~0.2 pJ per MAC in the array); with DACs, ADCs and digital periphery
    // counted, ~1 pJ per MAC is a fair order of magnitude. Latency is per MVM (parallel).
    {100e-9, kEnergyPerMacJ * 8 * 8,
     "Le Gallo et al., Nat. Electron. 2023 (64-core PCM chip): ~100 ns per analog MVM, "
     "~1 pJ per MAC with periphery; energy scales with inputs x outputs (8 x 8 here)"},
  };
  return info;
}

CatalogEntry crossbar_entry() {
  return spec_entry<CrossbarDevice, CrossbarTwin>(crossbar_entry_info(), crossbar_spec);
}

}  // namespace patlab
