#include "patlab/emulators/mechanical_plate.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>

namespace patlab {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kFundamentalKHz = 0.3;  // lowest plate mode, 300 Hz
constexpr double kAspect = 1.3;          // plate length / width
constexpr double kZeta = 0.05;           // damping ratio of every mode (Q = 10)
// Where the speaker and the microphone sit, as fractions of the plate's length and width.
constexpr double kSpeakerX = 0.31, kSpeakerY = 0.42;
constexpr double kMicX = 0.72, kMicY = 0.27;
constexpr int kMaxModes = 12;
// The drift walk takes one step per this many queries, so the drift at a given query count
// is the same however the queries were batched.
constexpr long long kDriftBlockQueries = 100;

}  // namespace

std::vector<PlateMode> nominal_plate_modes(int modes) {
  if (modes < 1 || modes > kMaxModes)
    throw std::invalid_argument("plate: need 1 to " + std::to_string(kMaxModes) + " modes");
  // A simply supported rectangular plate of sides kAspect x 1: mode (i, j) has the shape
  // sin(iπ ξ) sin(jπ η) and ω_ij ∝ (i / kAspect)² + j² (Kirchhoff plate theory).
  std::vector<std::tuple<double, int, int>> ij;
  for (int i = 1; i <= 6; ++i)
    for (int j = 1; j <= 6; ++j) ij.emplace_back((i / kAspect) * (i / kAspect) + j * j, i, j);
  std::sort(ij.begin(), ij.end());
  const double r11 = std::get<0>(ij[0]);
  const double w_fund = 2.0 * kPi * kFundamentalKHz;  // rad/ms
  std::vector<PlateMode> out;
  for (int m = 0; m < modes; ++m) {
    const auto [r, i, j] = ij[m];
    PlateMode p;
    p.omega0_rad_per_ms = w_fund * r / r11;
    p.zeta0 = kZeta;
    // b = ω0² φ(speaker): a constant unit drive deflects the mode statically by φ(speaker).
    const double phi_spk = std::sin(i * kPi * kSpeakerX) * std::sin(j * kPi * kSpeakerY);
    p.drive = p.omega0_rad_per_ms * p.omega0_rad_per_ms * phi_spk;
    p.mic = std::sin(i * kPi * kMicX) * std::sin(j * kPi * kMicY);
    out.push_back(p);
  }
  return out;
}

PlateMode extra_plate_mode(double strength) {
  // A resonance of the mount between the plate's first two modes, as loud as a typical plate
  // mode at strength 1.
  PlateMode p;
  p.omega0_rad_per_ms = 1.8 * 2.0 * kPi * kFundamentalKHz;
  p.zeta0 = kZeta;
  p.drive = strength * 0.6 * p.omega0_rad_per_ms * p.omega0_rad_per_ms;
  p.mic = 0.6;
  return p;
}

// ---------------------------------------------------------------------------------------
// PlateModel

PlateModel::PlateModel(const PlateSpec& spec, std::vector<PlateMode> modes, const PlateConstants& k)
    : spec_(spec), modes_(std::move(modes)), k_(k) {
  if (spec.inputs < 1 || spec.params < 1 || spec.outputs < 1 || spec.substeps < 1 ||
      !(spec.segment_ms > 0) || modes_.empty())
    throw std::invalid_argument(
        "PlateModel: need inputs, params, outputs, substeps, modes >= 1 and segment_ms > 0");
  if (!(std::isfinite(k.saturation) && k.saturation >= 0))
    throw std::invalid_argument("PlateModel: saturation must be >= 0");
  drive_ = interleave_segments(spec.inputs, spec.params, spec.outputs, spec.substeps);
  const long long total = (long long)segments() * spec.substeps;
  if (spec.outputs > total)
    throw std::invalid_argument("PlateModel: more microphone samples (" +
                                std::to_string(spec.outputs) + ") than integration steps (" +
                                std::to_string(total) + ")");

  const int M = int(modes_.size());
  co_.omega.resize(M);
  co_.zeta.resize(M);
  co_.b.resize(M);
  co_.c.resize(M);
  co_.d.resize(M);
  co_.w2.resize(M);
  co_.beta.resize(M);
  double w_max = 0.0;
  for (int m = 0; m < M; ++m) {
    const PlateMode& p = modes_[m];
    co_.omega[m] = p.omega0_rad_per_ms * (1.0 + k.freq_rel);
    co_.zeta[m] = p.zeta0 * (1.0 + k.damping_rel);
    co_.b[m] = p.drive;
    co_.c[m] = p.mic;
    co_.d[m] = 2.0 * co_.zeta[m] * co_.omega[m];
    co_.w2[m] = co_.omega[m] * co_.omega[m];
    co_.beta[m] = k.duffing * p.omega0_rad_per_ms * p.omega0_rad_per_ms;
    w_max = std::max(w_max, p.omega0_rad_per_ms);
  }
  // RK4 is stable for ω h < 2.8 and accurate to ~1e-3 per period at ω h ~ 0.5; beyond 2 the
  // emulated plate would be a numerical artefact, not physics.
  if (w_max * step_ms() >= 2.0)
    throw std::invalid_argument("PlateModel: step too long for the highest mode (omega h = " +
                                std::to_string(w_max * step_ms()) +
                                "); use more substeps or shorter segments");
}

Vec PlateModel::initial_theta(Rng& rng) const {
  Vec theta(param_size());
  for (int i = 0; i < param_size(); ++i) theta[i] = rng.uniform(-0.5, 0.5);
  return theta;
}

void PlateModel::check(const Mat& x, const Vec& theta) const {
  if (x.rows() != input_size() || theta.size() != param_size())
    throw std::invalid_argument("PlateModel: wrong input or parameter size");
}

void PlateModel::drive(const Mat& x, const Vec& theta, const Vec* gain, Mat& u, Mat* du) const {
  const int S = segments();
  const Eigen::Index B = x.cols();
  u.resize(S, B);
  if (du) du->resize(S, B);
  const double s = k_.saturation;
  for (int i = 0; i < S; ++i) {
    const int src = drive_.source[i];
    for (Eigen::Index b = 0; b < B; ++b) {
      const double g = gain ? (*gain)[b] : 1.0;
      const double w = g * (src >= 0 ? x(src, b) : theta[-src - 1]);
      // The speaker cone's excursion saturates: tanh(s w) / s → w as s → 0.
      if (s > 0) {
        const double t = std::tanh(s * w);
        u(i, b) = t / s;
        if (du) (*du)(i, b) = g * (1.0 - t * t);
      } else {
        u(i, b) = w;
        if (du) (*du)(i, b) = g;
      }
    }
  }
}

// a = b σ(u) − 2ζω v − ω² x − β x³, per mode (rows) and sample (columns).
PlateModel::Wide PlateModel::wide(Eigen::Index B) const {
  return {co_.d.replicate(1, B), co_.w2.replicate(1, B), co_.beta.replicate(1, B)};
}

void PlateModel::accel(const Mat& X, const Mat& V, const Mat& F, const Wide& w, Mat& A) const {
  A.array() = F.array() - V.array() * w.d.array() - X.array() * w.w2.array();
  if (k_.duffing != 0.0) A.array() -= X.array().cube() * w.beta.array();
}

void PlateModel::integrate(const Mat& u, const Wide& w, Mat& y, std::vector<Mat>* states) const {
  const int M = int(modes_.size());
  const Eigen::Index B = u.cols();
  const double h = step_ms();
  Mat X = Mat::Zero(M, B), V = Mat::Zero(M, B);  // the plate starts at rest
  Mat F(M, B), A1(M, B), A2(M, B), A3(M, B), A4(M, B), Xs(M, B), V2(M, B), V3(M, B), V4(M, B);
  y.resize(spec_.outputs, B);
  if (states) states->assign(2 * size_t(segments()) * spec_.substeps, Mat());
  int step = 0, k = 0;
  for (int i = 0; i < segments(); ++i) {
    F.noalias() = co_.b * u.row(i);  // modal forces, constant over the segment
    for (int s = 0; s < spec_.substeps; ++s) {
      if (states) {
        (*states)[2 * step] = X;
        (*states)[2 * step + 1] = V;
      }
      // RK4 on (ẋ, v̇) = (v, a(x, v)); stage k_i = (V_i, A_i) at the stage state (X_i, V_i).
      accel(X, V, F, w, A1);
      Xs = X + (0.5 * h) * V;
      V2 = V + (0.5 * h) * A1;
      accel(Xs, V2, F, w, A2);
      Xs = X + (0.5 * h) * V2;
      V3 = V + (0.5 * h) * A2;
      accel(Xs, V3, F, w, A3);
      Xs = X + h * V3;
      V4 = V + h * A3;
      accel(Xs, V4, F, w, A4);
      X += (h / 6.0) * (V + 2.0 * V2 + 2.0 * V3 + V4);
      V += (h / 6.0) * (A1 + 2.0 * A2 + 2.0 * A3 + A4);
      ++step;
      while (k < spec_.outputs && drive_.sample_step[k] == step) {
        y.row(k).noalias() = co_.c.transpose() * X;  // the microphone
        ++k;
      }
    }
  }
}

void PlateModel::forward(const Mat& x, const Vec& theta, Mat& y, const Vec* gain) const {
  check(x, theta);
  if (gain && gain->size() != x.cols())
    throw std::invalid_argument("PlateModel::forward: one gain per sample");
  Mat u;
  drive(x, theta, gain, u, nullptr);
  integrate(u, wide(u.cols()), y, nullptr);
}

// The adjoint of the RK4 steps, walked backwards. For a stage k_i = f(z_i) of the state
// z = (x, v) with f = (v, a(x, v, F)), the pullback of a cotangent (k̄x, k̄v) is
//   z̄x = (∂a/∂x)ᵀ k̄v = −(ω² + 3β x²) ∘ k̄v,   z̄v = k̄x − 2ζω ∘ k̄v,   F̄ += k̄v,
// and the stage inputs z_2 = s + h/2 k_1, z_3 = s + h/2 k_2, z_4 = s + h k_3 chain the stages.
// The modal force of segment i is F = b u_i, so ū_i = bᵀ F̄ summed over the segment's steps,
// then through the speaker's saturation to the data or parameter value of the segment.
void PlateModel::vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta,
                     Vec* g_const) const {
  check(x, theta);
  if (g_y.rows() != output_size() || g_y.cols() != x.cols())
    throw std::invalid_argument("PlateModel::vjp: wrong g_y size");
  if (g_const && g_const->size() != 3)
    throw std::invalid_argument("PlateModel::vjp: g_const must have 3 entries");
  const int M = int(modes_.size());
  const Eigen::Index B = x.cols();
  const double h = step_ms();
  Mat u, du, y;
  drive(x, theta, nullptr, u, &du);
  std::vector<Mat> states;
  const Wide w = wide(B);
  integrate(u, w, y, &states);

  if (g_x) g_x->setZero(input_size(), B);
  // ∂a/∂(freq_rel, damping_rel, κ) per mode, evaluated at a stage state (see below).
  Vec dd_df(M), dw2_df(M), dd_dz(M), dbeta_dk(M);
  for (int m = 0; m < M; ++m) {
    const double w0 = modes_[m].omega0_rad_per_ms, z0 = modes_[m].zeta0;
    dd_df[m] = 2.0 * z0 * (1.0 + k_.damping_rel) * w0;  // d = 2 ζ0 (1 + dr) ω0 (1 + fr)
    dw2_df[m] = 2.0 * w0 * w0 * (1.0 + k_.freq_rel);    // ω² = ω0² (1 + fr)²
    dd_dz[m] = 2.0 * z0 * w0 * (1.0 + k_.freq_rel);
    dbeta_dk[m] = w0 * w0;
  }

  Mat GX = Mat::Zero(M, B), GV = Mat::Zero(M, B), GF(M, B), F(M, B);
  std::array<Mat, 4> ZX, ZV, ZXb, ZVb;  // stage states and their cotangents
  for (int i = 0; i < 4; ++i) {
    ZX[i].resize(M, B);
    ZV[i].resize(M, B);
  }
  Mat A(M, B), KX(M, B), KV(M, B), Stiff(M, B);
  Mat CV, CX, CX3;
  if (g_const) {
    CV.setZero(M, B);
    CX.setZero(M, B);
    CX3.setZero(M, B);
  }
  // Pulls a stage cotangent (KX, KV) back through f at stage z.
  auto pull = [&](int z) {
    // Local stiffness ω² + 3β x² of each mode at the stage state.
    Stiff.array() = ZX[z].array().square() * (3.0 * w.beta.array()) + w.w2.array();
    ZXb[z].array() = -KV.array() * Stiff.array();
    ZVb[z].array() = KX.array() - KV.array() * w.d.array();
    GF += KV;
    if (g_const) {
      // a depends on the constants through −d v − ω² x − β x³; collect Σ k̄v ∘ (v, x, x³)
      // per mode and weight by the modes' derivatives at the end.
      CV.array() += KV.array() * ZV[z].array();
      CX.array() += KV.array() * ZX[z].array();
      CX3.array() += KV.array() * ZX[z].array().cube();
    }
  };

  int step = segments() * spec_.substeps, k = spec_.outputs - 1;
  for (int i = segments() - 1; i >= 0; --i) {
    F.noalias() = co_.b * u.row(i);
    GF.setZero();
    for (int s = spec_.substeps - 1; s >= 0; --s) {
      // The microphone read the state after this step.
      while (k >= 0 && drive_.sample_step[k] == step) {
        GX.noalias() += co_.c * g_y.row(k);
        --k;
      }
      --step;
      // Recompute the stage states of this step from its starting state.
      ZX[0] = states[2 * step];
      ZV[0] = states[2 * step + 1];
      accel(ZX[0], ZV[0], F, w, A);
      ZX[1] = ZX[0] + (0.5 * h) * ZV[0];
      ZV[1] = ZV[0] + (0.5 * h) * A;
      accel(ZX[1], ZV[1], F, w, A);
      ZX[2] = ZX[0] + (0.5 * h) * ZV[1];
      ZV[2] = ZV[0] + (0.5 * h) * A;
      accel(ZX[2], ZV[2], F, w, A);
      ZX[3] = ZX[0] + h * ZV[2];
      ZV[3] = ZV[0] + h * A;
      // Stage 4: weight h/6, input s + h k3.
      KX = (h / 6.0) * GX;
      KV = (h / 6.0) * GV;
      pull(3);
      // Stage 3: weight h/3, input s + h/2 k2; receives h · z̄4.
      KX = (h / 3.0) * GX + h * ZXb[3];
      KV = (h / 3.0) * GV + h * ZVb[3];
      pull(2);
      // Stage 2: weight h/3, input s + h/2 k1; receives h/2 · z̄3.
      KX = (h / 3.0) * GX + (0.5 * h) * ZXb[2];
      KV = (h / 3.0) * GV + (0.5 * h) * ZVb[2];
      pull(1);
      // Stage 1: weight h/6, input s; receives h/2 · z̄2.
      KX = (h / 6.0) * GX + (0.5 * h) * ZXb[1];
      KV = (h / 6.0) * GV + (0.5 * h) * ZVb[1];
      pull(0);
      // The identity path s_{n+1} = s_n + ... plus every stage's pullback.
      GX += ZXb[0] + ZXb[1] + ZXb[2] + ZXb[3];
      GV += ZVb[0] + ZVb[1] + ZVb[2] + ZVb[3];
    }
    // ū_i = bᵀ F̄ per sample, then through the speaker to the segment's value.
    const int src = drive_.source[i];
    if (src >= 0) {
      if (g_x) g_x->row(src).array() = (co_.b.transpose() * GF).array() * du.row(i).array();
    } else if (g_theta) {
      (*g_theta)[-src - 1] += ((co_.b.transpose() * GF).array() * du.row(i).array()).sum();
    }
  }
  // The plate starts at rest whatever the inputs: no cotangent flows into the initial state.
  if (g_const) {
    const Vec sv = CV.rowwise().sum(), sx = CX.rowwise().sum(), sx3 = CX3.rowwise().sum();
    (*g_const)[0] -= sv.dot(dd_df) + sx.dot(dw2_df);
    (*g_const)[1] -= sv.dot(dd_dz);
    (*g_const)[2] -= sx3.dot(dbeta_dk);
  }
}

// ---------------------------------------------------------------------------------------
// PlateTwin

Vec PlateModel::calibration() const {
  const PlateConstants& k = k_;
  Vec c(3);
  c << k.freq_rel, k.damping_rel, k.duffing;
  return c;
}

PlateModel PlateModel::calibrated(const Vec& c) const {
  if (c.size() != 3) throw std::invalid_argument("PlateTwin: 3 constants expected");
  PlateConstants k = k_;
  k.freq_rel = c[0];
  k.damping_rel = c[1];
  k.duffing = c[2];
  return PlateModel(spec_, modes_, k);
}

// ---------------------------------------------------------------------------------------
// PlateDevice

const SystemInfo& PlateDevice::info() const { return plate_entry_info(); }

PlateDevice::PlateDevice(const PlateSpec& spec, const KnobValues& knobs, uint64_t seed)
    : ModelDevice({-1.0, 1.0, -1.0, 1.0}, seed), spec_(spec) {
  // State: [queries, noise RNG (6 words), drift RNG (6 words), bits of the frequency walk].
  keep_state({&noise_rng_, &drift_rng_}, {&freq_walk_});
  set_knobs(info().with_settings(knobs, {{"modes", spec.modes},
                                         {"substeps", spec.substeps},
                                         {"param_segments", spec.params},
                                         {"segment_ms", spec.segment_ms}}));
}

void PlateDevice::rebuild_truth() {
  std::vector<PlateMode> modes = nominal_plate_modes(spec_.modes);
  const double extra = knobs_.at("extra_mode");
  if (extra > 0) modes.push_back(extra_plate_mode(extra));
  PlateConstants k;
  k.freq_rel = drifted_freq_rel();
  k.damping_rel = knobs_.at("damping_mismatch");
  k.duffing = knobs_.at("duffing");
  k.saturation = knobs_.at("speaker_saturation");
  set_truth(PlateModel(spec_, std::move(modes), k));
}

void PlateDevice::apply_knobs() {
  reseed_streams();
  freq_walk_ = 0.0;
  drift_blocks_ = queries() / kDriftBlockQueries;
  rebuild_truth();
}

void PlateDevice::run(const Mat& x, const Vec& theta, Mat& y) {
  const double gain_noise = knobs_.at("gain_noise");
  const double mic_noise = knobs_.at("mic_noise");
  const double adc_step = knobs_.at("adc_step");
  const double drift = knobs_.at("freq_drift");
  if (gain_noise > 0) {
    // The amplifier's gain fluctuates from query to query: the whole waveform is scaled.
    gain_.resize(x.cols());
    for (Eigen::Index b = 0; b < x.cols(); ++b) gain_[b] = 1.0 + gain_noise * noise_rng_.normal();
    truth_->model().forward(x, theta, y, &gain_);
  } else {
    truth_->model().forward(x, theta, y);
  }
  if (mic_noise > 0) noise_rng_.add_normal(y.data(), y.size(), mic_noise);
  if (adc_step > 0)
    for (Eigen::Index i = 0; i < y.size(); ++i)
      y.data()[i] = adc_step * std::round(y.data()[i] / adc_step);
  // Temperature wanders: a random walk in the frequency offset, one step per block of
  // queries, variance ∝ queries. The new frequencies apply from the next call on.
  const long long blocks = queries() / kDriftBlockQueries;
  if (drift > 0 && blocks > drift_blocks_) {
    const double step = drift * std::sqrt(double(kDriftBlockQueries) / 1000.0);
    for (; drift_blocks_ < blocks; ++drift_blocks_) freq_walk_ += step * drift_rng_.normal();
    rebuild_truth();
  }
  drift_blocks_ = blocks;
}

void PlateDevice::resume() {
  drift_blocks_ = queries() / kDriftBlockQueries;  // run() keeps the walk this far
  rebuild_truth();
}

// The spec a shape and the (completed) knobs ask for; throws std::invalid_argument for a
// shape the system cannot take. spec_entry builds the twin, the device and θ0 from it.
static PlateSpec plate_spec(const Shape& shape, const KnobValues& k) {
  PlateSpec spec;
  spec.inputs = shape.inputs;
  spec.outputs = shape.outputs;
  if (spec.inputs < 1 || spec.inputs > 256 || spec.outputs < 1 || spec.outputs > 1024)
    throw std::invalid_argument("plate: need 1 to 256 data segments and 1 to 1024 samples");
  spec.modes = int(k.at("modes"));
  spec.substeps = int(k.at("substeps"));
  spec.params = int(k.at("param_segments"));
  spec.segment_ms = k.at("segment_ms");
  return spec;  // the twin, built first, checks the rest
}

// ---------------------------------------------------------------------------------------
// Catalog entry

const SystemInfo& plate_entry_info() {
  static const SystemInfo info{
    "plate",
    "Speaker-driven plate",
    "A thin metal plate shaken by a loudspeaker and listened to by a microphone, the "
    "mechanical physical neural network of Wright et al. (Nature 2022, 87 % on MNIST). "
    "The data and the trainable parameters become a drive waveform, one short segment "
    "each; the waveform rings the plate's bending modes, each a damped resonance, and the "
    "microphone samples the sound at evenly spaced times. The twin is the textbook model: "
    "linear modes at their datasheet frequencies and damping. The real plate is stiffer "
    "or softer, hardens when driven hard (Duffing), has a mount resonance the model lacks, "
    "a speaker that saturates, a noisy microphone and an amplifier whose gain wavers.",
    "layer input x_i in [-1, 1] -> drive level of data segment i (0.5 ms each by default); "
    "data and parameter segments alternate, data first: x_0, theta_0, x_1, theta_1, ...",
    "theta_j in [-1, 1] -> drive level of parameter segment j of the waveform (the number "
    "of parameter segments is the 'param_segments' setting)",
    {8, 8},
    {
        {"modes", "plate modes", "", "setting", 1, kMaxModes, 5,
         "bending modes of the plate in the model, lowest first (300 Hz upwards)", true},
        {"substeps", "RK4 steps per segment", "", "setting", 2, 64, 8,
         "integration steps per waveform segment; more resolve higher modes", true},
        {"param_segments", "parameter segments", "", "setting", 1, 64, 8,
         "trainable segments of the drive waveform", true},
        {"segment_ms", "segment length", "ms", "setting", 0.1, 2.0, 0.5,
         "duration of one segment of the drive waveform"},
        {"mic_noise", "microphone noise", "a.u.", "noise", 0.0, 0.2, 0.0,
         "std of Gaussian noise added to every microphone sample"},
        {"gain_noise", "amplifier gain noise", "", "noise", 0.0, 0.2, 0.0,
         "relative std of the speaker amplifier's gain, drawn anew for every query"},
        {"adc_step", "ADC step", "a.u.", "noise", 0.0, 0.2, 0.0,
         "the microphone's converter rounds every sample to a multiple of this (0 = ideal)"},
        {"freq_mismatch", "mode frequency mismatch", "", "mismatch", -0.1, 0.1, 0.0,
         "every mode of the real plate rings at (1 + this) times the twin's frequency"},
        {"damping_mismatch", "damping mismatch", "", "mismatch", -0.5, 1.0, 0.0,
         "every mode of the real plate is damped (1 + this) times as strongly as the twin's"},
        {"duffing", "Duffing hardening", "", "structural", 0.0, 0.1, 0.0,
         "the plate's stiffness grows as omega^2 (1 + kappa x^2); the twin is linear"},
        {"extra_mode", "unmodeled mode", "", "structural", 0.0, 1.0, 0.0,
         "strength of a mount resonance at 1.8 x the fundamental that the twin lacks"},
        {"speaker_saturation", "speaker saturation", "", "structural", 0.0, 2.0, 0.0,
         "the speaker delivers tanh(s u) / s instead of u; the twin assumes a linear speaker"},
        {"freq_drift", "frequency drift", "per sqrt(1000 queries)", "drift", 0.0, 0.02, 0.0,
         "the mode frequencies wander (temperature) as a random walk with this relative std "
         "per 1000 queries"},
    },
    // Default shape: 16 segments of 0.5 ms is 8 ms of waveform per query. Before the next
    // query the plate must ring down: the fundamental (300 Hz, zeta = 0.05) decays with
    // tau = 1 / (zeta omega) ~ 11 ms, so ~3 tau ~ 32 ms to 5 %; ~40 ms per query. A speaker
    // on an audio amplifier draws ~1 W of electrical power, so ~0.04 J per query.
    {40e-3, 40e-3,
     "estimate: 8 ms of audio waveform + ~32 ms ring-down (3 tau of a 300 Hz, Q = 10 "
     "mode) per query; ~1 W speaker amplifier"},
  };
  return info;
}

CatalogEntry plate_entry() {
  return spec_entry<PlateDevice, PlateTwin>(plate_entry_info(), plate_spec);
}

}  // namespace patlab
