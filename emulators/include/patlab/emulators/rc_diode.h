// patlab/emulators/rc_diode.h: the reference firmware's circuit (firmware/README.md) as an
// emulated system, so that a layer trained on the board (or on its simulated chip) has a twin.
//
// An Arduino Uno drives six PWM pins through resistors into three RC nodes, each clamped to
// ground by a 1N4148 diode, and reads the nodes with its ADC:
//
//   inputs  x1, x2 in [0, 1]        duty cycles of D9, D10 (each feeds all three nodes)
//   params  θ1..θ4 in [0, 1]        duty cycles of D5 (node A), D6 (B), D3 (C), D11 (all three)
//   outputs y_A, y_B, y_C in volts  the settled node voltages, read against the 1.1 V reference
//
// Each node settles where Kirchhoff's current law balances the pins' mean currents against
// the diode's, Σ_k G_k (d_k VCC − V) = I_s (exp(V / n V_T) − 1). The equations live in one
// place, firmware/sim/pd_circuit.h (plain C), shared with the simulated chip; this file adds
// the board's imperfections as knobs and the twin's gradients. The twin is the nominal
// circuit; its VJP is exact by implicit differentiation: dV/dd_k = G_k VCC / G_tot(V), with
// G_tot = Σ G + I_s exp(V / n V_T) / n V_T the node's small-signal conductance.
//
// What the real board does that the twin leaves out (knobs, all perfect at 0):
//   * r_tolerance: each of the 12 resistors off by up to this fraction (fixed per seed);
//   * is_rel, n_rel: the diode's saturation current and ideality off the SPICE model;
//   * temp_offset_k: the board's temperature (V_T = kT/q, I_s(T), about −2 mV/K);
//   * vcc_rel: the Uno's 5 V (USB gives 4.75–5.25 V), which scales every drive;
//   * vref_rel: the internal 1.1 V reference (1.0–1.2 V from chip to chip): the readings scale
//     by 1 / (1 + vref_rel) since the firmware assumes 1.1 V;
//   * adc_loading (structural): a leakage to ground at each node that the circuit lacks;
//   * pwm_bits, adc_bits (0 = ideal; the Uno has 8 and 10), adc_noise_lsb: every reading is
//     the mean of 16 conversions, as the firmware averages them, each with Gaussian noise;
//   * temp_drift_k: the board's temperature wanders with use.
//
// Shape: 2 inputs and 3 outputs (the board). Fewer are accepted (1 input: x2's pin stays off;
// 1 or 2 outputs: nodes A, B read in that order), so the lab's stacks of equal widths work.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "patlab/core/rng.h"
#include "patlab/emulators/emulated_system.h"

namespace patlab {

// The system's id in the catalog, and the name the firmware announces on the wire.
inline constexpr const char* kRcDiodeId = "rc_diode";

// The constants of the circuit's equations (SI units).
struct RcDiodeConstants {
  std::array<std::array<double, 6>, 3> g{};  // conductance from channel k to node j, S
  double g_ground = 0.0;                      // leakage from each node to ground, S
  double vcc = 5.0;                           // the pins' high level, V
  double is = 2.52e-9;                        // diode saturation current, A
  double nvt = 0.0;                           // n V_T, V
  double out_scale = 1.0;                     // reported volts per node volt (ADC reference)

  static RcDiodeConstants nominal();  // firmware/sim/pd_circuit.h, exactly
};

// The settled circuit as a differentiable model: inputs (1 or 2), 4 parameters, outputs (1 to
// 3). Calibratable constants: ln of I_s, n V_T, VCC and the output scale relative to nominal.
class RcDiodeModel {
 public:
  RcDiodeModel(int inputs, int outputs, const RcDiodeConstants& k = RcDiodeConstants::nominal());

  int input_size() const { return inputs_; }
  int param_size() const { return 4; }
  // Initial parameters: each uniform in [0.1, 0.5].
  Vec initial_theta(Rng& rng) const;
  int output_size() const { return outputs_; }
  void forward(const Mat& x, const Vec& theta, Mat& y) const;
  void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta) const;

  // Calibration (ModelTwin); calibrated throws std::invalid_argument on a bad size.
  Vec calibration() const;
  RcDiodeModel calibrated(const Vec& c) const;
  void calibration_vjp(const Mat& x, const Vec& theta, const Mat& g_y, Vec& g_c) const;

  const RcDiodeConstants& circuit() const { return k_; }

 private:
  void check(const Mat& x, const Vec& theta) const;
  // Duty cycles of the six channels for sample b (inputs clamped to [0, 1]).
  void duties(const Mat& x, const Vec& theta, Eigen::Index b, double d[6]) const;
  void backward(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta,
                Vec* g_c) const;

  int inputs_, outputs_;
  RcDiodeConstants k_;
};

// RcDiodeTwin(inputs, outputs) is the nominal circuit, the twin; the device's oracle is the
// same class around the board's true constants.
using RcDiodeTwin = ModelTwin<RcDiodeModel>;

// The emulated board: the true physics of the knobs, PWM and ADC resolution, noise and drift.
class RcDiodeDevice : public ModelDevice<RcDiodeModel> {
 public:
  RcDiodeDevice(int inputs, int outputs, const KnobValues& knobs, uint64_t seed);

  const SystemInfo& info() const override;
  double temperature_k() const;  // 300 K + temp_offset_k + the drift walk

  static constexpr double kVrefV = 1.1;  // what the firmware assumes
  static constexpr int kAdcAverage = 16; // conversions the firmware averages per reading

 protected:
  void run(const Mat& x, const Vec& theta, Mat& y) override;
  void apply_knobs() override;
  void resume() override;

 private:
  int inputs_, outputs_;
  std::array<std::array<double, 6>, 3> tol_{};  // this board's resistor pattern, in [−1, 1]
  double temp_walk_k_ = 0.0;
  Mat xq_;
  Vec thq_;
};

const SystemInfo& rc_diode_entry_info();
// The catalog entry: id kRcDiodeId; Shape inputs 1-2 (default 2), outputs 1-3 (default 3).
CatalogEntry rc_diode_entry();

}  // namespace patlab
