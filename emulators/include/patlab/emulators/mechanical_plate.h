// patlab/emulators/mechanical_plate.h: a speaker-driven mechanical plate, the physical layer
// Wright et al. (Nature 2022) trained for MNIST (87 %).
//
// A loudspeaker pushes on a thin rectangular plate (aspect 1.3 : 1, simply supported); a
// microphone listens to it. In modal coordinates each bending mode m is a damped oscillator
//
//   ẍ_m + 2 ζ_m ω_m ẋ_m + ω_m² x_m + β_m x_m³ = b_m u(t),      y(t) = Σ_m c_m x_m(t)
//
// Units: time in ms, angular frequency in rad/ms. Displacements are in "a.u.": b_m = ω0_m² φ_m
// with φ_m the mode shape at the speaker, so a constant drive u = 1 deflects mode m statically
// by φ_m; c_m is the mode shape at the microphone. Nominal frequencies follow the plate's
// ω_ij ∝ (i/1.3)² + j², the lowest at 300 Hz; every mode has ζ = 0.05 (Q = 10).
//
// The drive waveform u(t) is piecewise constant (a DAC with zero-order hold) in segments of
// `segment_ms`. Data and parameter segments alternate, data first: x_0, θ_0, x_1, θ_1, ...;
// whichever list is longer continues alone at the end. Each value is in [−1, 1]. The plate
// starts at rest; the microphone is sampled at `outputs` evenly spaced times, the last one at
// the end of the waveform: y_k = y(t_k), t_k = (k + 1) T / outputs (rounded down to a step).
// The equations are integrated with fixed-step RK4, `substeps` steps per segment; the twin and
// the device share that integrator, and the VJP is the exact adjoint of its discrete steps.
//
// What the real plate does that the twin (linear modes, nominal ω and ζ) leaves out:
//   * freq_mismatch: all ω_m off by a fraction (a stiffer or thinner plate);
//   * damping_mismatch: all ζ_m off by a fraction;
//   * duffing: hardening β_m = κ ω0_m² (geometric nonlinearity of a plate driven hard);
//   * extra_mode: a mode the twin lacks (a mount resonance at 1.8 × the fundamental);
//   * speaker_saturation: the speaker's excursion saturates, u → tanh(s u) / s;
//   * noise: additive microphone noise, a per-query amplifier gain error, ADC rounding;
//   * drift: all ω_m wander (temperature) as a random walk in the query count, one step per
//     100 queries, so the drift depends on the count and the seed, not on the batching.
//
// With nominal constants the twin is linear in the drive, so it is an affine map of (x, θ):
// parameters act as a learnable bias, and the device's nonlinearity (duffing, saturation) is
// what a physical network can exploit. The twin is calibratable: its constants are the
// frequency and damping offsets and κ, so fit() can learn the plate's Duffing term from data.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "patlab/core/rng.h"
#include "patlab/emulators/drive_segments.h"
#include "patlab/emulators/emulated_system.h"

namespace patlab {

struct PlateSpec {
  int inputs = 8;           // data segments
  int outputs = 8;          // microphone samples
  int params = 8;           // parameter segments
  int modes = 5;            // plate modes in the twin
  int substeps = 8;         // RK4 steps per segment
  double segment_ms = 0.5;  // duration of one segment of the drive waveform
};

// One modal oscillator: nominal angular frequency, damping ratio, drive coupling b (force per
// unit drive, a.u./ms²), microphone coupling c.
struct PlateMode {
  double omega0_rad_per_ms = 1.0;
  double zeta0 = 0.05;
  double drive = 1.0;
  double mic = 1.0;
};

// The constants that make a plate differ from its datasheet.
struct PlateConstants {
  double freq_rel = 0.0;     // ω_m = ω0_m (1 + freq_rel)
  double damping_rel = 0.0;  // ζ_m = ζ0_m (1 + damping_rel)
  double duffing = 0.0;      // κ: β_m = κ ω0_m², a stiffness ω0² (1 + κ x²)
  double saturation = 0.0;   // s: the speaker delivers tanh(s u) / s (0: linear)
};

// The nominal modes of the plate (the twin's), lowest first; modes in 1..12.
std::vector<PlateMode> nominal_plate_modes(int modes);
// The mode the twin leaves out, with drive coupling scaled by `strength` (0 = absent).
PlateMode extra_plate_mode(double strength);

// The equations, integrated with RK4, and their exact vector-Jacobian product.
class PlateModel {
 public:
  // Throws std::invalid_argument for sizes the plate cannot take, or when the step is too long
  // for the highest mode (ω_max h must stay below 2 for RK4 to be accurate and stable).
  PlateModel(const PlateSpec& spec, std::vector<PlateMode> modes, const PlateConstants& k);
  // The nominal model (the twin's): the plate's nominal modes, no offsets, linear.
  explicit PlateModel(const PlateSpec& spec)
      : PlateModel(spec, nominal_plate_modes(spec.modes), PlateConstants{}) {}

  const PlateSpec& spec() const { return spec_; }
  const std::vector<PlateMode>& modes() const { return modes_; }
  const PlateConstants& constants() const { return k_; }
  int input_size() const { return spec_.inputs; }
  int param_size() const { return spec_.params; }
  int output_size() const { return spec_.outputs; }
  int segments() const { return drive_.segments(); }
  // Segment i plays data x[s] if s = source(i) >= 0, else parameter θ[−s − 1].
  int source(int i) const { return drive_.source[i]; }
  double step_ms() const { return spec_.segment_ms / spec_.substeps; }
  double duration_ms() const { return spec_.segment_ms * segments(); }

  // gain, if given, scales the drive of each sample before the speaker (a per-query amplifier
  // gain, size B).
  void forward(const Mat& x, const Vec& theta, Mat& y, const Vec* gain = nullptr) const;
  // g_const, if given (size 3), receives += Σ_b ∂<g_y, y>/∂(freq_rel, damping_rel, duffing).
  void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta,
           Vec* g_const = nullptr) const;

  // Calibration (ModelTwin): [freq_rel, damping_rel, duffing] (the speaker's saturation and a
  // missing mode stay unknown to it); calibrated throws std::invalid_argument on a bad size.
  Vec calibration() const;
  PlateModel calibrated(const Vec& c) const;

  // A random start, uniform in [−0.5, 0.5].
  Vec initial_theta(Rng& rng) const;

 private:
  // Per-mode coefficient vectors (modes x 1) of the acceleration
  //   a = b σ(u) − d ∘ v − w2 ∘ x − beta ∘ x³.
  struct Coeffs {
    Vec omega, zeta, b, c, d, w2, beta;
  };
  void check(const Mat& x, const Vec& theta) const;
  // The speaker's drive of each segment after gain and saturation (segments x B), and the
  // derivative of the saturation at each entry (for the VJP).
  void drive(const Mat& x, const Vec& theta, const Vec* gain, Mat& u, Mat* du) const;
  // d, w2 and beta repeated for every sample of a batch (modes x B): with them the stage
  // arithmetic runs over whole arrays instead of 5-row columns, which wide vector units
  // (AVX-512) handle badly.
  struct Wide {
    Mat d, w2, beta;
  };
  // Integrates from rest, with w = wide(u.cols()). If states is given it receives (x, v) at
  // the start of every step.
  void integrate(const Mat& u, const Wide& w, Mat& y, std::vector<Mat>* states) const;
  Wide wide(Eigen::Index B) const;
  void accel(const Mat& X, const Mat& V, const Mat& F, const Wide& w, Mat& A) const;

  PlateSpec spec_;
  std::vector<PlateMode> modes_;
  PlateConstants k_;
  Coeffs co_;
  DriveSegments drive_;
};

// PlateTwin(spec) is the nominal twin; the device's oracle is the same class around its true
// modes and constants. fit() can learn the plate's Duffing term from data.
using PlateTwin = ModelTwin<PlateModel>;

// The emulated plate: the true physics of the knobs, plus noise and drift.
class PlateDevice : public ModelDevice<PlateModel> {
 public:
  PlateDevice(const PlateSpec& spec, const KnobValues& knobs, uint64_t seed);

  const SystemInfo& info() const override;
  const PlateSpec& spec() const { return spec_; }
  // The frequency offset the plate has now: freq_mismatch plus the drift walk.
  double drifted_freq_rel() const { return knobs_.at("freq_mismatch") + freq_walk_; }

 protected:
  void run(const Mat& x, const Vec& theta, Mat& y) override;
  void apply_knobs() override;
  void resume() override;

 private:
  void rebuild_truth();

  PlateSpec spec_;
  double freq_walk_ = 0.0;
  long long drift_blocks_ = 0;  // walk steps taken: queries / 100 after every run
  Vec gain_;                    // per-sample amplifier gain scratch
};

const SystemInfo& plate_entry_info();
// The catalog entry: id "plate"; Shape inputs = data segments (default 8), outputs =
// microphone samples (default 8).
CatalogEntry plate_entry();

}  // namespace patlab
