// patlab/emulators/crossbar.h: an analog in-memory-computing crossbar tile, the hardware that
// IBM's aihwkit models (phase-change or resistive memory, e.g. Le Gallo et al., Nature
// Electronics 6, 680 (2023)).
//
// The layer is a matrix-vector product done by Ohm's and Kirchhoff's laws: the inputs are
// voltages on the rows, each cross point is a conductance, and each column wire sums the
// currents. A signed weight W_ij ∈ [−1, 1] is a differential pair of devices,
//
//   W_ij = (G⁺_ij − G⁻_ij) / G_max,    G⁺ = G_max·max(W, 0),  G⁻ = G_max·max(−W, 0),
//
// and the tile computes  y = ADC( W_eff(t) · DAC(x) ),  with
//
//   W_eff_ij(t) = alive_ij · (P⁺_ij s⁺_ij(t) max(W_ij, 0) − P⁻_ij s⁻_ij(t) max(−W_ij, 0)),
//   P±_ij = max(0, 1 + σ_prog ξ±_ij)                programming error of each device
//   s±_ij(t) = (t / t0)^(−ν±_ij),  t/t0 = 1 + queries / 1000,  ν±_ij = ν·max(0, 1 + 0.3 ζ±_ij)
//
// ξ, ζ ~ N(0, 1) and the dead cross points (alive = 0: a failed selector or contact leaves the
// pair stuck at zero conductance; the round(stuck_fraction · n_in·n_out) cross points of lowest
// rank in a random order, so a larger fraction only adds dead points) are fixed properties of
// this chip, drawn once from its seed:
// the device is a deterministic function of (x, θ) plus read noise, and PAT can learn around its
// imperfections. Drift is the power law of phase-change memory (ν ≈ 0.05, with a device-to-
// device spread of 30 % as in aihwkit's PCM model); time runs with use, t0 being the time of
// the first 1000 queries, and weight updates do not reset it (the conductances drift as a
// whole, the updates being small increments on top).
//
// Per query, on top: read noise, every device's current fluctuating by a relative std σ_read,
// i.e. y_i gets N(0, σ_read² Σ_j (W_eff_ij x_j)²); additive output noise (thermal/amplifier);
// DAC and ADC quantization: the DAC sets 2^b levels over [−1, 1], the ADC clips to ±adc_range
// (a setting) and rounds to 2^b levels.
//
// Twin: the ideal product y = g · W x, the digital model a user writes, with one calibratable
// constant, the gain g (nominal 1), which learns the average conductance drift.
//
// θ holds W (n_out x n_in) column-major: θ[i + n_out·j] = W_ij, as in AffineLayer.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "patlab/core/rng.h"
#include "patlab/emulators/emulated_system.h"

namespace patlab {

struct CrossbarSpec {
  int n_in = 8;             // rows (layer inputs)
  int n_out = 8;            // columns (layer outputs)
  double adc_range = 4.0;   // ADC full scale, ± in output units (weight × input)
};

// y = gain · W_eff x with W_eff from the per-device factors above; factors empty = ideal (the
// twin). Exact VJP; at W_ij = 0 the oracle uses the G⁺ side (one-sided derivative).
class CrossbarModel {
 public:
  // pos, neg: n_out x n_in factors P± s± of the two devices of each pair, or both empty.
  CrossbarModel(int n_in, int n_out, Mat pos = Mat(), Mat neg = Mat(), double gain = 1.0);
  // The ideal tile of a spec's size (the nominal twin's).
  explicit CrossbarModel(const CrossbarSpec& spec) : CrossbarModel(spec.n_in, spec.n_out) {}

  int input_size() const { return n_in_; }
  int output_size() const { return n_out_; }
  int param_size() const { return n_in_ * n_out_; }
  // Initial weights: Xavier-like magnitudes with random signs, away from W = 0.
  Vec initial_theta(Rng& rng) const;
  double gain() const { return gain_; }
  const Mat& pos() const { return pos_; }
  const Mat& neg() const { return neg_; }

  // The conductance matrix the tile really applies for target weights θ (n_out x n_in).
  void effective_weights(const Vec& theta, Mat& w_eff) const;
  void forward(const Mat& x, const Vec& theta, Mat& y) const;
  // g_gain, if given, receives += Σ_b ∂<g_y, y>/∂g.
  void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta,
           double* g_gain = nullptr) const;

  // Calibration (ModelTwin): the one constant is the gain, [g]; calibrated throws
  // std::invalid_argument on another size.
  Vec calibration() const { return Vec::Constant(1, gain_); }
  CrossbarModel calibrated(const Vec& c) const;
  void calibration_vjp(const Mat& x, const Vec& theta, const Mat& g_y, Vec& g_c) const {
    double g = 0.0;
    vjp(x, theta, g_y, nullptr, nullptr, &g);
    g_c[0] += g;
  }

 private:
  int n_in_, n_out_;
  Mat pos_, neg_;
  double gain_;
};

// CrossbarTwin(n_in, n_out) is the ideal product, the nominal twin; the device's oracle is the
// same class around the chip's true factors.
using CrossbarTwin = ModelTwin<CrossbarModel>;

class CrossbarDevice : public ModelDevice<CrossbarModel> {
 public:
  // seed draws the chip's fixed imperfections (programming errors, dead points) too.
  CrossbarDevice(const CrossbarSpec& spec, const KnobValues& knobs, uint64_t seed);

  // The catalog's description with the cost scaled to this tile's size.
  const SystemInfo& info() const override { return info_; }
  // Drift time t/t0 for the next query.
  double drift_time() const { return 1.0 + double(queries()) / 1000.0; }

 protected:
  void run(const Mat& x, const Vec& theta, Mat& y) override;
  void apply_knobs() override;
  // The oracle is noiseless true physics at the current drift time, without the converters'
  // rounding.
  void resume() override;

 private:
  SystemInfo info_;
  CrossbarSpec spec_;
  // Fixed per-device draws (n_out x n_in each, for the + and − device of every pair).
  Mat xi_pos_, xi_neg_, zeta_pos_, zeta_neg_;
  std::vector<int> death_order_;  // cross points (column-major index) in the order they fail
  Mat xq_, w_eff_, var_;  // scratch
};

const SystemInfo& crossbar_entry_info();
// The catalog entry: id "crossbar"; Shape inputs = rows, outputs = columns (default 8 x 8).
CatalogEntry crossbar_entry();

}  // namespace patlab
