// patlab/emulators/analog_circuit.h: a nonlinear analog electronic circuit, the third physical
// layer of Wright et al. (Nature 2022), which reached 93 % on MNIST with a transistor circuit.
//
// Here the nonlinear element is a silicon diode (a 1N4148) in a driven RLC circuit:
//
//     DAC u(t) ──R──L──┬── v ──> buffer ──> ADC
//                      C      D
//                      ┴      ┴
//
//   L di/dt = u − R i − v
//   C dv/dt = i − I_d(v),      I_d(v) = I_s (exp(v / (n V_T)) − 1)    (Shockley)
//
// Units, chosen so every quantity is of order one: time in µs, voltage in V, current in mA,
// resistance in kΩ, inductance in mH, capacitance in nF, conductance in mS (mH·mA/µs = V,
// nF·V/µs = mA, kΩ·nF = µs). Nominal parts: R = 0.68 kΩ, L = 1 mH, C = 1 nF, so the LC
// resonance is ω0 = 1 rad/µs (160 kHz) with Q = √(L/C)/R ≈ 1.5: the circuit rings for a few
// µs and remembers earlier drive segments. The diode is a 1N4148 (SPICE: I_s = 2.52 nA,
// n = 1.752) at T0 = 300.15 K, n V_T ≈ 45 mV: it conducts above ≈ 0.5 V, so a positive drive is
// clipped softly while a negative one passes, and ringing through the knee mixes the segments.
//
// The drive u(t) is piecewise constant (a DAC with zero-order hold) in segments of
// `segment_us`. Data and parameter segments alternate, data first: x_0, θ_0, x_1, θ_1, ...;
// whichever list is longer continues alone at the end. Every value is a voltage in [−1, 1] V.
// The circuit starts discharged (i = v = 0); the ADC samples v at `outputs` evenly spaced
// times, the last at the end of the waveform: output k is read after ⌊(k + 1) N / outputs⌋ of
// the N = segments · substeps integration steps. The equations are integrated with fixed-step
// RK4, `substeps` steps per segment; the diode's small-signal conductance I_d'(v) = (I_d + I_s)
// / (n V_T) makes the system stiff when it conducts (C / I_d' ≈ 50 ns at 1 mA), so the step
// is kept near 40 ns, where RK4 is stable with a wide margin. The VJP is the exact adjoint of
// the discrete RK4 steps.
//
// What the real circuit does that the twin (nominal parts at T0) leaves out:
//   * tolerance: R, L and C each off by up to this fraction (a fixed draw per device);
//   * is_rel, n_rel: the diode's saturation current and ideality off their datasheet values;
//   * temp_offset_k: the board runs warmer or colder than T0; V_T = kT/q and I_s(T) follow the
//     SPICE temperature law, I_s(T) = I_s (T/T0)^(XTI/n) exp((T/T0 − 1) E_g / (n V_T(T)));
//   * adc_loading (structural): the ADC buffer's input resistance loads the capacitor node;
//   * adc_compression (structural): the buffer saturates softly, v → tanh(κ v) / κ;
//   * noise: additive readout (thermal) noise, DAC and ADC quantization;
//   * drift: the temperature wanders as a random walk in the query count.
// Temperature, I_s and n enter the physics only through the effective I_s and n V_T, which
// are calibratable constants of the twin (with R, L and C): fit() can learn them from data.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "patlab/core/rng.h"
#include "patlab/emulators/drive_segments.h"
#include "patlab/emulators/emulated_system.h"

namespace patlab {

struct CircuitSpec {
  int inputs = 8;            // data segments
  int outputs = 8;           // ADC samples
  int params = 8;            // parameter segments
  int substeps = 24;         // RK4 steps per segment
  double segment_us = 1.0;   // duration of one drive segment
};

// The constants of the equations, at the operating temperature (effective values).
struct CircuitConstants {
  double r_kohm = 0.68;
  double l_mh = 1.0;
  double c_nf = 1.0;
  double is_ma = 2.52e-6;        // diode saturation current
  double nvt_v = 0.0;            // n V_T in volts (set by nominal() or diode_at_temperature)
  double g_leak_ms = 0.0;        // conductance loading the capacitor node (twin: 0)
  double compression_per_v = 0.0;  // κ of the buffer's soft saturation (twin: 0 = linear)

  static CircuitConstants nominal();  // the datasheet circuit at T0, nvt_v filled in
};

// Datasheet diode and the SPICE temperature law.
constexpr double kCircuitT0K = 300.15;      // reference temperature
constexpr double kDiodeIdeality = 1.752;    // n of a 1N4148
constexpr double kBoltzmannEvPerK = 8.617333262e-5;
// Saturation current and n V_T of a diode with saturation current is_t0_ma at T0 and ideality
// n, operated at temp_k (XTI = 3, E_g = 1.11 eV, silicon).
void diode_at_temperature(double is_t0_ma, double n, double temp_k, double* is_ma,
                          double* nvt_v);

// The equations, integrated with RK4, and their exact vector-Jacobian product.
class CircuitModel {
 public:
  // Throws std::invalid_argument for sizes the circuit cannot take (more outputs than
  // integration steps), non-positive constants, or a step longer than 1/16 µs.
  CircuitModel(const CircuitSpec& spec, const CircuitConstants& k);
  // The nominal model (the twin's): the datasheet circuit at T0.
  explicit CircuitModel(const CircuitSpec& spec)
      : CircuitModel(spec, CircuitConstants::nominal()) {}

  const CircuitSpec& spec() const { return spec_; }
  const CircuitConstants& constants() const { return k_; }
  int input_size() const { return spec_.inputs; }
  int param_size() const { return spec_.params; }
  int output_size() const { return spec_.outputs; }
  int segments() const { return drive_.segments(); }
  int steps() const { return segments() * spec_.substeps; }
  double step_us() const { return spec_.segment_us / spec_.substeps; }
  // Segment s plays data x[j] if source(s) = j >= 0, else parameter θ[−source(s) − 1].
  int source(int s) const { return drive_.source[s]; }

  void forward(const Mat& x, const Vec& theta, Mat& y) const;
  // g_const, if given (size 5), receives += Σ_b ∂<g_y, y>/∂(ln R, ln L, ln C, ln I_s, ln nV_T).
  void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta,
           Vec* g_const = nullptr) const;

  // Calibration (ModelTwin): the logs of R, L, C, I_s and nV_T relative to nominal (the ADC's
  // loading and compression stay unknown to it).
  Vec calibration() const;
  CircuitModel calibrated(const Vec& c) const;

  // A random start, uniform in [−0.5, 0.5] V.
  Vec initial_theta(Rng& rng) const;

 private:
  void check(const Mat& x, const Vec& theta) const;
  // The drive, transposed: batch x segments (one column per segment, contiguous).
  void drive(const Mat& x, const Vec& theta, Mat& ut) const;
  // Integrates from rest. Writes y (outputs x B); if hist_i/hist_v are given they receive the
  // state after t = 0..steps steps in column t (B x (steps + 1)).
  void integrate(const Mat& ut, Mat& y, Mat* hist_i, Mat* hist_v) const;

  CircuitSpec spec_;
  CircuitConstants k_;
  DriveSegments drive_;
};

// CircuitTwin(spec) is the nominal twin; the device's oracle is the same class around its
// true constants.
using CircuitTwin = ModelTwin<CircuitModel>;

// The emulated circuit: the true physics of the knobs, plus DAC/ADC, noise and drift.
class CircuitDevice : public ModelDevice<CircuitModel> {
 public:
  // seed draws the component tolerances (a fixed pattern per board) too.
  CircuitDevice(const CircuitSpec& spec, const KnobValues& knobs, uint64_t seed);

  const SystemInfo& info() const override;
  const CircuitSpec& spec() const { return spec_; }
  // The board temperature now: T0 + temp_offset_k + the drift walk.
  double temperature_k() const;

  static constexpr double kAdcFullScaleV = 2.0;  // the ADC reads [−2, 2] V

 protected:
  void run(const Mat& x, const Vec& theta, Mat& y) override;
  void apply_knobs() override;
  void resume() override;

 private:
  CircuitSpec spec_;
  double tol_r_ = 0, tol_l_ = 0, tol_c_ = 0;  // this device's tolerance pattern, in [−1, 1]
  double temp_walk_k_ = 0.0;
  Mat xq_;    // DAC scratch
  Vec thq_;
};

const SystemInfo& circuit_entry_info();
// The catalog entry: id "circuit"; Shape inputs = data segments (default 8; parameter segments
// as many), outputs = ADC samples (default 8).
CatalogEntry circuit_entry();

}  // namespace patlab
