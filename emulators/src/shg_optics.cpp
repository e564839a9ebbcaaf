#include "patlab/emulators/shg_optics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace patlab {

// ---------------------------------------------------------------------------------------
// The model

ShgModel::ShgModel(const ShgSpec& spec, const ShgPhysics& physics) : spec_(spec), phys_(physics) {
  if (spec.n_in < 1 || spec.n_param < 0 || spec.n_in + spec.n_param < 2 || spec.n_out < 1)
    throw std::invalid_argument("ShgModel: need n_in >= 1, n_param >= 0, n_in + n_param >= 2, "
                                "n_out >= 1");
  n_ = spec.n_in + spec.n_param;
  k_ = 2 * n_ - 1;
  if (spec.n_out > k_)
    throw std::invalid_argument("ShgModel: at most 2N - 1 = " + std::to_string(k_) +
                                " spectrometer pixels for N = " + std::to_string(n_) +
                                " shaper pixels");
  if (!(physics.bandwidth > 0) || !(physics.power > 0) || physics.crosstalk < 0 ||
      physics.crosstalk > 0.5)
    throw std::invalid_argument("ShgModel: need bandwidth > 0, power > 0, 0 <= crosstalk <= 0.5");

  // Phase-matching amplitude and its bandwidth derivative, from the SH detuning s_k and the
  // difference frequency d_jk (both in units of the shaper band).
  const double w = phys_.bandwidth, span = double(n_ - 1);
  h_.setZero(n_, k_);
  dh_dw_.setZero(n_, k_);
  for (int k = 0; k < k_; ++k) {
    const double s = (k - span) / span;
    for (int j = std::max(0, k - n_ + 1); j <= std::min(k, n_ - 1); ++j) {
      const double d = (2.0 * j - k) / span;
      const double q = s * s + 0.25 * d * d;
      const double h = std::exp(-q / (2.0 * w * w));
      h_(j, k) = h;
      dh_dw_(j, k) = h * q / (w * w * w);
    }
  }
  // Uncompensated group-delay dispersion: a spectral phase quadratic in the offset from the
  // band centre, β at the band edges.
  phase_.resize(n_);
  for (int j = 0; j < n_; ++j) {
    const double u = 2.0 * j / span - 1.0;
    phase_[j] = std::polar(1.0, phys_.dispersion_rad * u * u);
  }
  pixel_of_bin_.resize(k_);
  for (int m = 0; m < spec.n_out; ++m)
    for (int k = int((long long)m * k_ / spec.n_out); k < int((long long)(m + 1) * k_ / spec.n_out);
         ++k)
      pixel_of_bin_[k] = m;
  // Data pixels spread evenly over the band (a Bresenham walk), parameters in between.
  data_pix_.clear();
  param_pix_.clear();
  for (int j = 0; j < n_; ++j) {
    const bool data = (long long)(j + 1) * spec.n_in / n_ > (long long)j * spec.n_in / n_;
    (data ? data_pix_ : param_pix_).push_back(j);
  }
}

void ShgModel::gather(const Mat& x, int b, const Vec& theta, Vec& a) const {
  for (int i = 0; i < spec_.n_in; ++i) a[data_pix_[i]] = x(i, b);
  for (int i = 0; i < spec_.n_param; ++i) a[param_pix_[i]] = theta[i];
}

void ShgModel::fields(const Vec& a, std::vector<cplx>& E, std::vector<cplx>& C) const {
  const double c = phys_.crosstalk, sp = std::sqrt(phys_.power);
  for (int j = 0; j < n_; ++j) {
    // Crosstalk: each pixel keeps 1 − 2c of its amplitude and receives c from each neighbour
    // (light leaking past the array's ends is lost).
    double t = (1.0 - 2.0 * c) * a[j];
    if (j > 0) t += c * a[j - 1];
    if (j + 1 < n_) t += c * a[j + 1];
    E[j] = sp * t * phase_[j];
  }
  for (int k = 0; k < k_; ++k) {
    cplx sum = 0.0;
    for (int j = std::max(0, k - n_ + 1); j <= std::min(k, n_ - 1); ++j)
      sum += h_(j, k) * E[j] * E[k - j];
    C[k] = sum;
  }
}

void ShgModel::forward(const Mat& x, const Vec& theta, Mat& y) const {
  if (x.rows() != spec_.n_in || theta.size() != spec_.n_param)
    throw std::invalid_argument("ShgModel::forward: wrong input or parameter size");
  y.setZero(spec_.n_out, x.cols());
  Vec a(n_);
  std::vector<cplx> E(n_), C(k_);
  const double inv_n = 1.0 / n_;
  for (int b = 0; b < x.cols(); ++b) {
    gather(x, b, theta, a);
    fields(a, E, C);
    for (int k = 0; k < k_; ++k) y(pixel_of_bin_[k], b) += std::norm(C[k]) * inv_n;
  }
}

// With L = Σ_k g_k |C_k|²/N and C_k = Σ_j h_jk E_j E_(k−j) symmetric in the pair (h_jk is even
// in the difference frequency), dL = Σ_k (2/N) g_k Re(C̄_k dC_k) and
// dC_k = 2 Σ_j h_jk E_(k−j) dE_j, so dL = Σ_j Re(G_j dE_j) with
// G_j = (4/N) Σ_k g_k C̄_k h_jk E_(k−j). A real amplitude change da'_j moves the field by
// dE_j = √p e^{iφ_j} da'_j, and the crosstalk matrix T is symmetric, so
// g_a = T (√p Re(G e^{iφ})).
void ShgModel::vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta,
                   Vec* g_const) const {
  if (x.rows() != spec_.n_in || theta.size() != spec_.n_param || g_y.rows() != spec_.n_out ||
      g_y.cols() != x.cols())
    throw std::invalid_argument("ShgModel::vjp: wrong input, parameter or g_y size");
  if (g_theta && g_theta->size() != spec_.n_param)
    throw std::invalid_argument("ShgModel::vjp: g_theta must have param_size entries");
  if (g_const && g_const->size() != 2)
    throw std::invalid_argument("ShgModel::vjp: g_const must have 2 entries (w, p)");
  if (g_x) g_x->resize(spec_.n_in, x.cols());
  Vec a(n_), g_ap(n_), g_a(n_);
  std::vector<cplx> E(n_), C(k_), G(n_);
  std::vector<double> gB(k_);
  const double inv_n = 1.0 / n_, sp = std::sqrt(phys_.power), c = phys_.crosstalk;
  for (int b = 0; b < x.cols(); ++b) {
    gather(x, b, theta, a);
    fields(a, E, C);
    for (int k = 0; k < k_; ++k) gB[k] = g_y(pixel_of_bin_[k], b);
    std::fill(G.begin(), G.end(), cplx(0.0));
    for (int k = 0; k < k_; ++k) {
      const cplx w = 4.0 * inv_n * gB[k] * std::conj(C[k]);
      for (int j = std::max(0, k - n_ + 1); j <= std::min(k, n_ - 1); ++j)
        G[j] += w * h_(j, k) * E[k - j];
    }
    if (g_const) {
      double gw = 0.0, gp = 0.0;
      for (int k = 0; k < k_; ++k) {
        cplx dC = 0.0;
        for (int j = std::max(0, k - n_ + 1); j <= std::min(k, n_ - 1); ++j)
          dC += dh_dw_(j, k) * E[j] * E[k - j];
        gw += 2.0 * inv_n * gB[k] * std::real(std::conj(C[k]) * dC);
        // B ∝ p² (the field is ∝ √p and the SH field is quadratic in it).
        gp += gB[k] * 2.0 * std::norm(C[k]) * inv_n / phys_.power;
      }
      (*g_const)[0] += gw;
      (*g_const)[1] += gp;
    }
    if (!g_x && !g_theta) continue;
    for (int j = 0; j < n_; ++j) g_ap[j] = sp * std::real(G[j] * phase_[j]);
    for (int j = 0; j < n_; ++j) {
      double t = (1.0 - 2.0 * c) * g_ap[j];
      if (j > 0) t += c * g_ap[j - 1];
      if (j + 1 < n_) t += c * g_ap[j + 1];
      g_a[j] = t;
    }
    if (g_x)
      for (int i = 0; i < spec_.n_in; ++i) (*g_x)(i, b) = g_a[data_pix_[i]];
    if (g_theta)
      for (int i = 0; i < spec_.n_param; ++i) (*g_theta)[i] += g_a[param_pix_[i]];
  }
}

ShgModel::ShgModel(const ShgSpec& spec) : ShgModel(spec, ShgPhysics{spec.bandwidth, 0.0, 0.0, 1.0}) {}

Vec ShgModel::initial_theta(Rng& rng) const {
  Vec theta0(spec_.n_param);
  for (int i = 0; i < spec_.n_param; ++i) theta0[i] = rng.uniform(-0.5, 0.5);
  return theta0;
}

Vec ShgModel::calibration() const {
  Vec c(2);
  c << phys_.bandwidth, phys_.power;
  return c;
}

ShgModel ShgModel::calibrated(const Vec& c) const {
  if (c.size() != 2 || !(c[0] > 0) || !(c[1] > 0))
    throw std::invalid_argument("ShgTwin: constants are [bandwidth > 0, power > 0]");
  ShgPhysics p = phys_;
  p.bandwidth = c[0];
  p.power = c[1];
  return ShgModel(spec_, p);
}

// ---------------------------------------------------------------------------------------
// The device

const SystemInfo& ShgDevice::info() const { return shg_entry_info(); }

ShgDevice::ShgDevice(const ShgSpec& spec, const KnobValues& knobs, uint64_t seed)
    : ModelDevice({-1.0, 1.0, -1.0, 1.0}, seed), spec_(spec) {
  // State: [queries, noise RNG (6 words), drift RNG (6 words), bits of the log-power walk].
  keep_state({&noise_rng_, &drift_rng_}, {&log_power_walk_});
  set_knobs(info().with_settings(
      knobs, {{"param_bins", spec.n_param}, {"pm_bandwidth", spec.bandwidth}}));
}

double ShgDevice::drifted_power() const { return std::exp(log_power_walk_); }

void ShgDevice::resume() {
  ShgPhysics p;
  p.bandwidth = spec_.bandwidth * (1.0 + knobs_.at("bandwidth_error"));
  p.dispersion_rad = knobs_.at("dispersion_rad");
  p.crosstalk = knobs_.at("crosstalk");
  p.power = drifted_power();
  set_truth(ShgModel(spec_, p));
}

void ShgDevice::apply_knobs() {
  spec_.n_param = int(knobs_.at("param_bins"));
  spec_.bandwidth = knobs_.at("pm_bandwidth");
  reseed_streams();
  log_power_walk_ = 0.0;
  resume();
}

void ShgDevice::run(const Mat& x, const Vec& theta, Mat& y) {
  const int bits = int(knobs_.at("shaper_bits"));
  const double power_noise = knobs_.at("power_noise_rel"), shot_noise = knobs_.at("shot_noise");
  const double detector_noise = knobs_.at("detector_noise"), drift = knobs_.at("power_drift");
  if (bits > 0) {
    // The shaper sets each pixel's amplitude to one of 2^bits levels spanning [−1, 1].
    const double step = 2.0 / (std::ldexp(1.0, bits) - 1.0);
    auto quantize = [step](double v) {
      return -1.0 + step * std::round((std::clamp(v, -1.0, 1.0) + 1.0) / step);
    };
    xq_ = x.unaryExpr(quantize);
    const Vec tq = theta.unaryExpr(quantize);
    truth_->forward(xq_, tq, y);
  } else {
    truth_->forward(x, theta, y);
  }
  // Source power fluctuates from pulse train to pulse train: one draw per query, and the SH
  // signal goes as the power squared.
  if (power_noise > 0)
    for (int b = 0; b < y.cols(); ++b) {
      const double f = std::max(0.0, 1.0 + power_noise * noise_rng_.normal());
      y.col(b) *= f * f;
    }
  // Photon counting: a pixel that reads y has collected y / q photons, so its std is √(q y).
  if (shot_noise > 0)
    for (Eigen::Index i = 0; i < y.size(); ++i)
      y.data()[i] += std::sqrt(shot_noise * std::max(0.0, y.data()[i])) * noise_rng_.normal();
  if (detector_noise > 0) noise_rng_.add_normal(y.data(), y.size(), detector_noise);
  if (drift > 0) {
    // The laser's power wanders: a random walk in log power, variance linear in queries.
    log_power_walk_ += drift * std::sqrt(double(x.cols()) / 1000.0) * drift_rng_.normal();
    resume();
  }
}

// The spec a shape and the (completed) knobs ask for; throws std::invalid_argument for a
// shape the system cannot take. spec_entry builds the twin, the device and θ0 from it.
static ShgSpec shg_spec(const Shape& shape, const KnobValues& k) {
  ShgSpec spec;
  spec.n_in = shape.inputs;
  spec.n_out = shape.outputs;
  if (spec.n_in < 1 || spec.n_out < 1 || spec.n_in > 256)
    throw std::invalid_argument("shg: need 1 to 256 data pixels and at least 1 output");
  spec.n_param = int(k.at("param_bins"));
  spec.bandwidth = k.at("pm_bandwidth");
  const int n = spec.n_in + spec.n_param;
  if (spec.n_out > 2 * n - 1)
    throw std::invalid_argument("shg: the second-harmonic spectrum of " + std::to_string(n) +
                                " shaper pixels has only " + std::to_string(2 * n - 1) +
                                " bins; ask for at most that many outputs");
  return spec;
}

// ---------------------------------------------------------------------------------------
// Catalog entry

const SystemInfo& shg_entry_info() {
  static const SystemInfo info{
    "shg",
    "Second-harmonic generation (optics)",
    "A femtosecond laser pulse is shaped, colour by colour, by a pulse shaper, then focused "
    "into a nonlinear crystal that doubles its frequency. Every pair of colours adds up to a "
    "new blue colour, so the blue spectrum is a self-convolution of the shaped spectrum: "
    "each output mixes every input with every other, weighted by how well the crystal "
    "phase-matches that pair. A spectrometer reads the blue spectrum. The data and the "
    "trainable parameters are both spectral amplitudes set by the shaper. The optical "
    "physical neural network of Wright et al. (Nature 2022), which classified spoken vowels.",
    "layer input i -> amplitude of data pixel i of the pulse shaper, in "
    "[-1, 1] (the sign is a 0/pi spectral phase); data pixels are spread "
    "evenly across the band",
    "one amplitude per parameter pixel of the shaper, in [-1, 1], "
    "interleaved with the data pixels (count: the param_bins setting)",
    {8, 8},
    {
        {"param_bins", "parameter pixels", "", "setting", 1, 256, 16,
         "shaper pixels that carry trainable amplitudes (the layer's parameters)", true},
        {"pm_bandwidth", "phase-matching bandwidth", "band widths", "setting", 0.1, 2.0, 0.5,
         "nominal Gaussian phase-matching acceptance, in units of the shaper's band; "
         "narrower mixes fewer colour pairs"},
        {"bandwidth_error", "bandwidth mismatch", "", "mismatch", -0.5, 0.5, 0.0,
         "the crystal's true phase-matching bandwidth is (1 + this) times the twin's"},
        {"dispersion_rad", "uncompensated dispersion", "rad", "structural", 0.0, 3.0, 0.0,
         "quadratic spectral phase (this many radians at the band edges) that the twin leaves "
         "out; it makes the field complex and the colour pairs interfere"},
        {"crosstalk", "shaper pixel crosstalk", "", "structural", 0.0, 0.1, 0.0,
         "fraction of each shaper pixel's amplitude that leaks into each neighbour"},
        {"shot_noise", "shot noise", "output units per photon", "noise", 0.0, 0.05, 0.0,
         "energy of one detected photon in output units: a pixel reading y has std sqrt(q y)"},
        {"detector_noise", "detector noise", "output units", "noise", 0.0, 0.1, 0.0,
         "std of additive Gaussian read-out noise on every spectrometer pixel"},
        {"power_noise_rel", "laser power noise", "", "noise", 0.0, 0.2, 0.0,
         "relative std of the laser power per query; the output scales as power squared"},
        {"shaper_bits", "shaper resolution", "bits", "noise", 0, 16, 0,
         "quantization: the shaper sets 2^bits amplitude levels over [-1, 1] (0 = continuous); "
         "the twin assumes continuous amplitudes", true},
        {"power_drift", "laser power drift", "per sqrt(1000 queries)", "drift", 0.0, 0.2, 0.0,
         "log laser power wanders as a random walk with this std per 1000 queries"},
    },
    // The shaper limits the rate: a liquid-crystal SLM settles in ~10 ms, a MEMS/DMD-class
    // modulator refreshes at ~kHz; with a spectrometer exposure of ~1 ms we take ~1 ms per
    // query. Energy: a ~1 W femtosecond oscillator delivers ~1 mJ of light in that time (the
    // wall-plug figure is ~10-100 times more). Order-of-magnitude estimates.
    {1e-3, 1e-3,
     "estimate: pulse-shaper refresh + spectrometer exposure ~1 ms per query; ~1 W "
     "femtosecond laser over that time ~1 mJ of light (wall-plug 10-100x more)"},
  };
  return info;
}

CatalogEntry shg_entry() {
  return spec_entry<ShgDevice, ShgTwin>(shg_entry_info(), shg_spec);
}

}  // namespace patlab
