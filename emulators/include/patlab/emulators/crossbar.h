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
#include "patlab/core/system.h"
#include "patlab/core/twin_learning.h"
#include "patlab/emulators/catalog.h"

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

  int input_size() const { return n_in_; }
  int output_size() const { return n_out_; }
  int param_size() const { return n_in_ * n_out_; }
  double gain() const { return gain_; }
  const Mat& pos() const { return pos_; }
  const Mat& neg() const { return neg_; }

  // The conductance matrix the tile really applies for target weights θ (n_out x n_in).
  void effective_weights(const Vec& theta, Mat& w_eff) const;
  void forward(const Mat& x, const Vec& theta, Mat& y) const;
  // g_gain, if given, receives += Σ_b ∂<g_y, y>/∂g.
  void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta,
           double* g_gain = nullptr) const;

 private:
  int n_in_, n_out_;
  Mat pos_, neg_;
  double gain_;
};

class CrossbarTwin : public CalibratableTwin {
 public:
  CrossbarTwin(int n_in, int n_out) : model_(n_in, n_out) {}
  explicit CrossbarTwin(CrossbarModel model) : model_(std::move(model)) {}
  int input_size() const override { return model_.input_size(); }
  int param_size() const override { return model_.param_size(); }
  int output_size() const override { return model_.output_size(); }
  void forward(const Mat& x, const Vec& theta, Mat& y) const override {
    model_.forward(x, theta, y);
  }
  void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x,
           Vec* g_theta) const override {
    model_.vjp(x, theta, g_y, g_x, g_theta);
  }
  const CrossbarModel& model() const { return model_; }

  Vec constants() const override { return Vec::Constant(1, model_.gain()); }
  void set_constants(const Vec& c) override;  // [gain]; throws std::invalid_argument on size
  void constants_vjp(const Mat& x, const Vec& theta, const Mat& g_y, Vec& g_c) const override {
    double g = 0.0;
    model_.vjp(x, theta, g_y, nullptr, nullptr, &g);
    g_c[0] += g;
  }

 private:
  CrossbarModel model_;
};

struct CrossbarKnobs {
  double prog_noise_rel = 0;   // σ_prog: relative std of the programming error per device
  double stuck_fraction = 0;   // fraction of cross points stuck at zero conductance
  double read_noise_rel = 0;   // σ_read: relative std of each device's current per query
  double out_noise = 0;        // additive std on each output, output units
  double drift_nu = 0;         // ν of the conductance drift power law
  double dac_bits = 0;         // input resolution (0 = ideal)
  double adc_bits = 0;         // output resolution (0 = ideal: no rounding, no clipping)
};

class CrossbarDevice : public EmulatedDevice {
 public:
  CrossbarDevice(const CrossbarSpec& spec, const CrossbarKnobs& knobs, uint64_t seed);

  // The catalog's description with the cost scaled to this tile's size.
  const SystemInfo& info() const override { return info_; }
  int input_size() const override { return spec_.n_in; }
  int param_size() const override { return spec_.n_in * spec_.n_out; }
  int output_size() const override { return spec_.n_out; }
  double input_min() const override { return -1.0; }
  double input_max() const override { return 1.0; }
  Vec param_min() const override { return Vec::Constant(param_size(), -1.0); }
  Vec param_max() const override { return Vec::Constant(param_size(), 1.0); }
  // Noiseless true physics at the current drift time, without the converters' rounding.
  const Twin* oracle() const override { return truth_.get(); }
  std::vector<uint64_t> save_state() const override;
  void load_state(const std::vector<uint64_t>& s) override;

  using EmulatedDevice::set_knobs;
  void set_knobs(const CrossbarKnobs& knobs);
  const CrossbarModel& truth() const { return truth_->model(); }
  // Drift time t/t0 for the next query.
  double drift_time() const { return 1.0 + double(queries()) / 1000.0; }

 protected:
  void run(const Mat& x, const Vec& theta, Mat& y) override;
  void apply_knobs() override;

 private:
  // Rebuilds the oracle for drift time t/t0.
  void rebuild_truth(double t_rel);

  SystemInfo info_;
  CrossbarSpec spec_;
  CrossbarKnobs typed_;
  uint64_t seed_;
  // Fixed per-device draws (n_out x n_in each, for the + and − device of every pair).
  Mat xi_pos_, xi_neg_, zeta_pos_, zeta_neg_;
  std::vector<int> death_order_;  // cross points (column-major index) in the order they fail
  std::unique_ptr<CrossbarTwin> truth_;
  Rng noise_rng_;
  Mat xq_, w_eff_, var_;  // scratch
};

const SystemInfo& crossbar_entry_info();
// The catalog entry: id "crossbar"; Shape inputs = rows, outputs = columns (default 8 x 8).
CatalogEntry crossbar_entry();
KnobValues crossbar_knob_values(const CrossbarSpec& spec, const CrossbarKnobs& knobs);

}  // namespace patlab
