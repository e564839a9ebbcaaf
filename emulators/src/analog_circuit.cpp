#include "patlab/emulators/analog_circuit.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace patlab {

namespace {

using Arr = Eigen::ArrayXd;

constexpr double kMaxStepUs = 0.0625;  // longest RK4 step the constructor accepts (1/16 us)

// Nominal parts (see the header for the units and the reasoning behind the values).
constexpr double kR0Kohm = 0.68, kL0Mh = 1.0, kC0Nf = 1.0, kIs0Ma = 2.52e-6;

// The per-stage arithmetic of the equations, over one batch column at a time (arrays of B).
struct Rhs {
  double r, inv_l, inv_c, is, inv_nvt, g;

  // f(i, v; u) = ((u − R i − v) / L, (i − I_d(v) − G v) / C)
  void eval(const Arr& i, const Arr& v, const Arr& u, Arr& fi, Arr& fv) const {
    fi = (u - r * i - v) * inv_l;
    fv = (i - is * ((v * inv_nvt).exp() - 1.0) - g * v) * inv_c;
  }

  // Pullback of the cotangent (ki, kv) of f at (i, v; u): writes the cotangent of the stage
  // input (ai, av), adds ki / L into gu (∂f_i/∂u = 1/L) and, if gc is given, the
  // log-derivatives p ∂<k, f>/∂p for p = R, L, C, I_s, nV_T.
  void pullback(const Arr& i, const Arr& v, const Arr& u, const Arr& ki, const Arr& kv, Arr& ai,
                Arr& av, Arr& gu, Arr& e, double* gc) const {
    e = (v * inv_nvt).exp();
    // ∂f_i/∂i = −R/L, ∂f_v/∂i = 1/C; ∂f_i/∂v = −1/L, ∂f_v/∂v = −(I_s e / nV_T + G) / C.
    ai = kv * inv_c - (r * inv_l) * ki;
    av = -ki * inv_l - (is * inv_nvt * e + g) * inv_c * kv;
    gu += ki * inv_l;
    if (!gc) return;
    // R ∂f_i/∂R = −R i / L;  L ∂f_i/∂L = −f_i;  C ∂f_v/∂C = −f_v;
    // I_s ∂f_v/∂I_s = −I_s (e − 1) / C;  nV_T ∂f_v/∂nV_T = I_s e (v / nV_T) / C.
    gc[0] -= (r * inv_l) * (i * ki).sum();
    gc[1] -= (((u - r * i - v) * inv_l) * ki).sum();
    gc[2] -= (((i - is * (e - 1.0) - g * v) * inv_c) * kv).sum();
    gc[3] -= is * inv_c * ((e - 1.0) * kv).sum();
    gc[4] += is * inv_c * inv_nvt * (e * v * kv).sum();
  }
};

Rhs make_rhs(const CircuitConstants& k) {
  return {k.r_kohm, 1.0 / k.l_mh, 1.0 / k.c_nf, k.is_ma, 1.0 / k.nvt_v, k.g_leak_ms};
}

// The buffer's transfer v -> tanh(κ v) / κ (identity at κ = 0) and its slope.
inline double buffer_out(double v, double kappa) {
  return kappa > 0 ? std::tanh(kappa * v) / kappa : v;
}
inline double buffer_slope(double v, double kappa) {
  if (!(kappa > 0)) return 1.0;
  const double t = std::tanh(kappa * v);
  return 1.0 - t * t;
}

// Rounds to the nearest of 2^bits levels spanning [lo, hi] (clipping outside).
inline double quantize(double v, int bits, double lo, double hi) {
  const double levels = std::ldexp(1.0, bits) - 1.0;
  const double step = (hi - lo) / levels;
  const double c = std::clamp(v, lo, hi);
  return lo + std::round((c - lo) / step) * step;
}

}  // namespace

CircuitConstants CircuitConstants::nominal() {
  CircuitConstants k;
  k.r_kohm = kR0Kohm;
  k.l_mh = kL0Mh;
  k.c_nf = kC0Nf;
  diode_at_temperature(kIs0Ma, kDiodeIdeality, kCircuitT0K, &k.is_ma, &k.nvt_v);
  return k;
}

void diode_at_temperature(double is_t0_ma, double n, double temp_k, double* is_ma,
                          double* nvt_v) {
  constexpr double kXti = 3.0, kEgEv = 1.11;
  const double vt = kBoltzmannEvPerK * temp_k;  // kT/q in volts
  const double ratio = temp_k / kCircuitT0K;
  *is_ma = is_t0_ma * std::pow(ratio, kXti / n) * std::exp((ratio - 1.0) * kEgEv / (n * vt));
  *nvt_v = n * vt;
}

// ---------------------------------------------------------------------------------------
// CircuitModel

CircuitModel::CircuitModel(const CircuitSpec& spec, const CircuitConstants& k)
    : spec_(spec), k_(k) {
  if (spec.inputs < 1 || spec.params < 0 || spec.outputs < 1 || spec.substeps < 1 ||
      !(spec.segment_us > 0))
    throw std::invalid_argument("CircuitModel: need inputs >= 1, params >= 0, outputs >= 1, "
                                "substeps >= 1, segment_us > 0");
  if (!(k.r_kohm > 0 && k.l_mh > 0 && k.c_nf > 0 && k.is_ma > 0 && k.nvt_v > 0 &&
        k.g_leak_ms >= 0 && k.compression_per_v >= 0))
    throw std::invalid_argument("CircuitModel: R, L, C, I_s and nV_T must be positive, the "
                                "leak and compression non-negative");
  if (step_us() > kMaxStepUs)
    throw std::invalid_argument("CircuitModel: RK4 step " + std::to_string(step_us()) +
                                " us is too long for the diode's stiffness (max " +
                                std::to_string(kMaxStepUs) + " us); use more substeps");
  drive_ = interleave_segments(spec.inputs, spec.params, spec.outputs, spec.substeps);
  const int n = steps();
  if (spec.outputs > n)
    throw std::invalid_argument("CircuitModel: " + std::to_string(spec.outputs) +
                                " outputs but only " + std::to_string(n) + " integration steps");
}

Vec CircuitModel::initial_theta(Rng& rng) const {
  Vec theta(param_size());
  for (int k = 0; k < param_size(); ++k) theta[k] = rng.uniform(-0.5, 0.5);
  return theta;
}

void CircuitModel::check(const Mat& x, const Vec& theta) const {
  if (x.rows() != input_size() || theta.size() != param_size())
    throw std::invalid_argument("CircuitModel: input has " + std::to_string(x.rows()) +
                                " rows and theta " + std::to_string(theta.size()) +
                                " entries, expected " + std::to_string(input_size()) + " and " +
                                std::to_string(param_size()));
}

void CircuitModel::drive(const Mat& x, const Vec& theta, Mat& ut) const {
  const Eigen::Index B = x.cols();
  ut.resize(B, segments());
  for (int s = 0; s < segments(); ++s) {
    const int src = drive_.source[s];
    if (src >= 0)
      ut.col(s) = x.row(src).transpose();
    else
      ut.col(s).setConstant(theta[-src - 1]);
  }
}

void CircuitModel::integrate(const Mat& ut, Mat& y, Mat* hist_i, Mat* hist_v) const {
  const Eigen::Index B = ut.rows();
  const Rhs f = make_rhs(k_);
  const double h = step_us();
  y.resize(output_size(), B);
  if (hist_i) hist_i->resize(B, steps() + 1);
  if (hist_v) hist_v->resize(B, steps() + 1);
  Arr i = Arr::Zero(B), v = Arr::Zero(B), u(B);
  Arr k1i(B), k1v(B), k2i(B), k2v(B), k3i(B), k3v(B), k4i(B), k4v(B), si(B), sv(B);
  if (hist_i) hist_i->col(0).setZero();
  if (hist_v) hist_v->col(0).setZero();
  int t = 0, next_out = 0;
  for (int s = 0; s < segments(); ++s) {
    u = ut.col(s).array();
    for (int sub = 0; sub < spec_.substeps; ++sub, ++t) {
      f.eval(i, v, u, k1i, k1v);
      si = i + (0.5 * h) * k1i;
      sv = v + (0.5 * h) * k1v;
      f.eval(si, sv, u, k2i, k2v);
      si = i + (0.5 * h) * k2i;
      sv = v + (0.5 * h) * k2v;
      f.eval(si, sv, u, k3i, k3v);
      si = i + h * k3i;
      sv = v + h * k3v;
      f.eval(si, sv, u, k4i, k4v);
      i += (h / 6.0) * (k1i + 2.0 * k2i + 2.0 * k3i + k4i);
      v += (h / 6.0) * (k1v + 2.0 * k2v + 2.0 * k3v + k4v);
      if (hist_i) hist_i->col(t + 1) = i.matrix();
      if (hist_v) hist_v->col(t + 1) = v.matrix();
      while (next_out < output_size() && drive_.sample_step[next_out] == t + 1) {
        for (Eigen::Index b = 0; b < B; ++b)
          y(next_out, b) = buffer_out(v[b], k_.compression_per_v);
        ++next_out;
      }
    }
  }
}

void CircuitModel::forward(const Mat& x, const Vec& theta, Mat& y) const {
  check(x, theta);
  Mat ut;
  drive(x, theta, ut);
  integrate(ut, y, nullptr, nullptr);
}

// The adjoint of the RK4 steps, walked backwards from the last step. With stage inputs
// s_1 = s, s_2 = s + h/2 k_1, s_3 = s + h/2 k_2, s_4 = s + h k_3 and s' = s + h/6 (k_1 + 2 k_2
// + 2 k_3 + k_4), a cotangent S̄ of s' gives the stage cotangents
//   k̄_4 = h/6 S̄,              s̄_4 = J_4ᵀ k̄_4,
//   k̄_3 = h/3 S̄ + h s̄_4,      s̄_3 = J_3ᵀ k̄_3,
//   k̄_2 = h/3 S̄ + h/2 s̄_3,    s̄_2 = J_2ᵀ k̄_2,
//   k̄_1 = h/6 S̄ + h/2 s̄_2,    s̄_1 = J_1ᵀ k̄_1,
// and the cotangent of s is S̄ + s̄_1 + s̄_2 + s̄_3 + s̄_4. Each stage also pulls k̄_j back to the
// segment's drive u (and to the constants). An output read after step t adds its cotangent
// (through the buffer's slope) to v̄ at that point.
void CircuitModel::vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta,
                       Vec* g_const) const {
  check(x, theta);
  if (g_y.rows() != output_size() || g_y.cols() != x.cols())
    throw std::invalid_argument("CircuitModel::vjp: g_y must be outputs x batch");
  if (g_theta && g_theta->size() != param_size())
    throw std::invalid_argument("CircuitModel::vjp: g_theta has the wrong size");
  if (g_const && g_const->size() != 5)
    throw std::invalid_argument("CircuitModel::vjp: g_const must have 5 entries");
  const Eigen::Index B = x.cols();
  Mat ut, y, hi, hv;
  drive(x, theta, ut);
  integrate(ut, y, &hi, &hv);

  const Rhs f = make_rhs(k_);
  const double h = step_us(), kappa = k_.compression_per_v;
  double gc[5] = {0, 0, 0, 0, 0};
  double* gcp = g_const ? gc : nullptr;
  Mat gut = Mat::Zero(B, segments());  // cotangent of the drive, batch x segments
  Arr Gi = Arr::Zero(B), Gv = Arr::Zero(B), u(B), gu(B), e(B);
  Arr s1i(B), s1v(B), s2i(B), s2v(B), s3i(B), s3v(B), s4i(B), s4v(B), fi(B), fv(B);
  Arr ki(B), kv(B), a4i(B), a4v(B), a3i(B), a3v(B), a2i(B), a2v(B), a1i(B), a1v(B);
  int next_out = output_size() - 1;
  for (int t = steps(); t >= 1; --t) {
    // Outputs read from the state after step t.
    while (next_out >= 0 && drive_.sample_step[next_out] == t) {
      for (Eigen::Index b = 0; b < B; ++b)
        Gv[b] += g_y(next_out, b) * buffer_slope(hv(b, t), kappa);
      --next_out;
    }
    // Step t starts from the state after t − 1 steps, in segment (t − 1) / substeps.
    const int seg = (t - 1) / spec_.substeps;
    u = ut.col(seg).array();
    s1i = hi.col(t - 1).array();
    s1v = hv.col(t - 1).array();
    f.eval(s1i, s1v, u, fi, fv);
    s2i = s1i + (0.5 * h) * fi;
    s2v = s1v + (0.5 * h) * fv;
    f.eval(s2i, s2v, u, fi, fv);
    s3i = s1i + (0.5 * h) * fi;
    s3v = s1v + (0.5 * h) * fv;
    f.eval(s3i, s3v, u, fi, fv);
    s4i = s1i + h * fi;
    s4v = s1v + h * fv;
    gu.setZero();
    ki = (h / 6.0) * Gi;
    kv = (h / 6.0) * Gv;
    f.pullback(s4i, s4v, u, ki, kv, a4i, a4v, gu, e, gcp);
    ki = (h / 3.0) * Gi + h * a4i;
    kv = (h / 3.0) * Gv + h * a4v;
    f.pullback(s3i, s3v, u, ki, kv, a3i, a3v, gu, e, gcp);
    ki = (h / 3.0) * Gi + (0.5 * h) * a3i;
    kv = (h / 3.0) * Gv + (0.5 * h) * a3v;
    f.pullback(s2i, s2v, u, ki, kv, a2i, a2v, gu, e, gcp);
    ki = (h / 6.0) * Gi + (0.5 * h) * a2i;
    kv = (h / 6.0) * Gv + (0.5 * h) * a2v;
    f.pullback(s1i, s1v, u, ki, kv, a1i, a1v, gu, e, gcp);
    Gi += a1i + a2i + a3i + a4i;
    Gv += a1v + a2v + a3v + a4v;
    gut.col(seg) += gu.matrix();
  }
  // The circuit starts discharged whatever the input: the state at t = 0 has no cotangent
  // to pass on. The drive's cotangent goes to the data and parameter segments.
  if (g_x) g_x->setZero(input_size(), B);
  for (int s = 0; s < segments(); ++s) {
    const int src = drive_.source[s];
    if (src >= 0) {
      if (g_x) g_x->row(src) = gut.col(s).transpose();
    } else if (g_theta) {
      (*g_theta)[-src - 1] += gut.col(s).sum();
    }
  }
  if (g_const)
    for (int c = 0; c < 5; ++c) (*g_const)[c] += gc[c];
}

// ---------------------------------------------------------------------------------------
// CircuitTwin

Vec CircuitModel::calibration() const {
  const CircuitConstants n = CircuitConstants::nominal(), &k = k_;
  Vec c(5);
  c << std::log(k.r_kohm / n.r_kohm), std::log(k.l_mh / n.l_mh), std::log(k.c_nf / n.c_nf),
      std::log(k.is_ma / n.is_ma), std::log(k.nvt_v / n.nvt_v);
  return c;
}

CircuitModel CircuitModel::calibrated(const Vec& c) const {
  if (c.size() != 5)
    throw std::invalid_argument("CircuitTwin: 5 constants (ln R, L, C, I_s, nV_T ratios)");
  const CircuitConstants n = CircuitConstants::nominal();
  CircuitConstants k = k_;
  k.r_kohm = n.r_kohm * std::exp(c[0]);
  k.l_mh = n.l_mh * std::exp(c[1]);
  k.c_nf = n.c_nf * std::exp(c[2]);
  k.is_ma = n.is_ma * std::exp(c[3]);
  k.nvt_v = n.nvt_v * std::exp(c[4]);
  return CircuitModel(spec_, k);
}

// ---------------------------------------------------------------------------------------
// CircuitDevice

const SystemInfo& CircuitDevice::info() const { return circuit_entry_info(); }

CircuitDevice::CircuitDevice(const CircuitSpec& spec, const KnobValues& knobs, uint64_t seed)
    : ModelDevice({-1.0, 1.0, -1.0, 1.0}, seed), spec_(spec) {
  // State: [queries, noise RNG (6 words), drift RNG (6 words), bits of the temperature walk].
  keep_state({&noise_rng_, &drift_rng_}, {&temp_walk_k_});
  set_knobs(info().with_settings(
      knobs, {{"substeps", double(spec.substeps)}, {"segment_us", spec.segment_us}}));
}

double CircuitDevice::temperature_k() const {
  return kCircuitT0K + knobs_.at("temp_offset_k") + temp_walk_k_;
}

void CircuitDevice::apply_knobs() {
  spec_.substeps = int(knobs_.at("substeps"));
  spec_.segment_us = knobs_.at("segment_us");
  // This board's parts: each of R, L, C sits somewhere within the tolerance band, the same
  // place for the same seed (a property of the device, not of its use).
  Rng parts(seed_ ^ 0x7061727473ull);  // "parts"
  tol_r_ = parts.uniform(-1.0, 1.0);
  tol_l_ = parts.uniform(-1.0, 1.0);
  tol_c_ = parts.uniform(-1.0, 1.0);
  reseed_streams();
  temp_walk_k_ = 0.0;
  resume();
}

void CircuitDevice::resume() {
  const double tol = knobs_.at("tolerance");
  CircuitConstants k = CircuitConstants::nominal();
  k.r_kohm = kR0Kohm * (1.0 + tol * tol_r_);
  k.l_mh = kL0Mh * (1.0 + tol * tol_l_);
  k.c_nf = kC0Nf * (1.0 + tol * tol_c_);
  diode_at_temperature(kIs0Ma * (1.0 + knobs_.at("is_rel")),
                       kDiodeIdeality * (1.0 + knobs_.at("n_rel")), temperature_k(), &k.is_ma,
                       &k.nvt_v);
  k.g_leak_ms = knobs_.at("adc_loading") / kR0Kohm;
  k.compression_per_v = knobs_.at("adc_compression");
  set_truth(CircuitModel(spec_, k));
}

void CircuitDevice::run(const Mat& x, const Vec& theta, Mat& y) {
  if (x.rows() != spec_.inputs || theta.size() != spec_.params)
    throw std::invalid_argument("circuit: wrong input or parameter size");
  // The DAC: it cannot leave [−1, 1] V, and with dac_bits > 0 it has 2^bits levels.
  const int dac_bits = int(knobs_.at("dac_bits"));
  auto dac = [dac_bits](double v) {
    return dac_bits > 0 ? quantize(v, dac_bits, -1.0, 1.0) : std::clamp(v, -1.0, 1.0);
  };
  xq_ = x;
  thq_ = theta;
  for (Eigen::Index j = 0; j < xq_.size(); ++j) xq_.data()[j] = dac(xq_.data()[j]);
  for (Eigen::Index j = 0; j < thq_.size(); ++j) thq_[j] = dac(thq_[j]);
  truth_->forward(xq_, thq_, y);
  // Thermal and readout noise at the ADC input, then the ADC itself.
  const double noise_v = knobs_.at("readout_noise_v");
  if (noise_v > 0) noise_rng_.add_normal(y.data(), y.size(), noise_v);
  const int adc_bits = int(knobs_.at("adc_bits"));
  if (adc_bits > 0)
    for (Eigen::Index j = 0; j < y.size(); ++j)
      y.data()[j] = quantize(y.data()[j], adc_bits, -kAdcFullScaleV, kAdcFullScaleV);
  const double drift_k = knobs_.at("temp_drift_k");
  if (drift_k > 0) {
    // The board temperature takes a random walk: variance grows linearly with the queries.
    temp_walk_k_ += drift_k * std::sqrt(double(x.cols()) / 1000.0) * drift_rng_.normal();
    resume();
  }
}

// The spec a shape and the (completed) knobs ask for; throws std::invalid_argument for a
// shape the system cannot take. spec_entry builds the twin, the device and θ0 from it.
static CircuitSpec circuit_spec(const Shape& shape, const KnobValues& k) {
  CircuitSpec spec;
  spec.inputs = shape.inputs;
  spec.outputs = shape.outputs;
  spec.params = spec.inputs;
  spec.substeps = int(k.at("substeps"));
  spec.segment_us = k.at("segment_us");
  if (spec.inputs < 1 || spec.inputs > 64)
    throw std::invalid_argument("circuit: need 1 to 64 data segments (inputs)");
  if (spec.outputs < 1 || spec.outputs > 256)
    throw std::invalid_argument("circuit: need 1 to 256 ADC samples (outputs)");
  return spec;
}

// ---------------------------------------------------------------------------------------
// Catalog entry

const SystemInfo& circuit_entry_info() {
  static const SystemInfo info{
    "circuit",
    "Analog diode circuit",
    "A small analog electronic circuit: a voltage from a DAC drives a resistor and a coil "
    "into a capacitor, shunted by a silicon diode. The circuit rings like a damped "
    "pendulum, and the diode clips it whenever the voltage rises above about half a volt, "
    "so it mixes its inputs nonlinearly. The data and the trained parameters are played "
    "in turn as a sequence of voltages; an ADC samples the capacitor voltage at evenly "
    "spaced times. The twin is the textbook circuit with datasheet parts; the real board "
    "has part tolerances, a different temperature, a loading ADC and converters with "
    "finite resolution. The electronic layer of Wright et al. (Nature 2022) reached 93 % "
    "on MNIST.",
    "layer input -> DAC voltage of one drive segment, in [-1, 1] V "
    "(data and parameter segments alternate, data first)",
    "DAC voltages of the parameter segments, in [-1, 1] V, one per data "
    "segment, interleaved with them",
    {8, 8},
    {
        {"substeps", "integration steps per segment", "", "setting", 16, 64, 24,
         "RK4 steps per drive segment (the step must stay at or below 1/16 us for the diode)",
         true},
        {"segment_us", "segment length", "us", "setting", 0.25, 1.0, 1.0,
         "how long each drive voltage is held; the circuit rings with a period of 6.3 us"},
        {"readout_noise_v", "readout noise", "V", "noise", 0.0, 0.1, 0.0,
         "std of Gaussian thermal and amplifier noise added to every ADC sample"},
        {"dac_bits", "DAC resolution", "bits", "noise", 0, 16, 0,
         "the drive voltages are rounded to 2^bits levels over [-1, 1] V (0 = ideal)", true},
        {"adc_bits", "ADC resolution", "bits", "noise", 0, 16, 0,
         "the samples are rounded to 2^bits levels over [-2, 2] V (0 = ideal)", true},
        {"tolerance", "part tolerance", "", "mismatch", 0.0, 0.3, 0.0,
         "R, L and C each sit up to this fraction off nominal (fixed per board seed)"},
        {"is_rel", "diode saturation current", "", "mismatch", -0.5, 2.0, 0.0,
         "the diode's saturation current is (1 + is_rel) times the datasheet value"},
        {"n_rel", "diode ideality", "", "mismatch", -0.2, 0.2, 0.0,
         "the diode's ideality factor n is (1 + n_rel) times the datasheet value"},
        {"temp_offset_k", "board temperature", "K", "mismatch", -30.0, 30.0, 0.0,
         "the board runs this much warmer than the twin's 300 K (V_T = kT/q and I_s(T))"},
        {"adc_loading", "ADC loading", "", "structural", 0.0, 0.2, 0.0,
         "the ADC buffer loads the capacitor with a conductance of this fraction of 1/R"},
        {"adc_compression", "buffer saturation", "1/V", "structural", 0.0, 1.0, 0.0,
         "the ADC buffer compresses softly: it reports tanh(k v) / k instead of v"},
        {"temp_drift_k", "temperature drift", "K per sqrt(1000 queries)", "drift", 0.0, 10.0,
         0.0, "the board temperature wanders as a random walk with this std per 1000 queries"},
    },
    // A discrete board driven by a DAC and read by an ADC at 1 MS/s: the default waveform is
    // 16 segments of 1 us, and the circuit must discharge before the next query (a few
    // damping times 2Q/w0 = 3 us, ~15 us), so ~32 us per query plus converter latency: ~40 us.
    // A 1 MS/s 16-bit DAC and ADC with buffer op-amps draw ~50 mW together (typical datasheet
    // figures), so ~2 uJ per query; the circuit itself dissipates < 1 mW. An estimate, not a
    // measured board (the paper's lab setup with bench instruments was far slower).
    {40e-6, 2e-6,
     "estimate: 16 x 1 us waveform + ~15 us discharge at 1 MS/s DAC/ADC (~40 us); "
     "~50 mW of converters and buffers (~2 uJ per query)"},
  };
  return info;
}

CatalogEntry circuit_entry() {
  return spec_entry<CircuitDevice, CircuitTwin>(circuit_entry_info(), circuit_spec);
}

}  // namespace patlab
