// patlab/emulators/controller_stack.h: a stack of controllers on a plant. PAT tunes the gains
// of a cascaded servo loop whose real version has friction, delay and saturation that its twin
// leaves out.
//
// The plant is a DC servo motor driving an inertial load, torque-controlled by its drive (the
// current loop is fast enough to be taken as ideal): with θ_m the shaft angle (rad) and ω its
// speed (rad/s),
//
//   J ω̇ = τ − b ω − F_c tanh(ω / ω_s),     θ̇_m = ω,     τ = s tanh(u / s)
//
// J inertia (kg m²), b viscous damping (N m s/rad), F_c Coulomb (dry) friction (N m), smoothed
// over ω_s so the true physics stays differentiable, and s the drive's torque limit (N m; the
// saturation is smooth). Two digital PI controllers in cascade run at the integration step:
//
//   outer, position:  e = r − θ̂_m,    ω_ref = K_pp e + z_p,   z_p ← z_p + K_ip dt e
//   inner, velocity:  e_v = ω_ref − ω̂,  u = K_pv e_v + z_v,   z_v ← z_v + K_iv dt e_v
//
// where θ̂_m, ω̂ are the drive's measurements, `delay` steps old on the real bench. The plant is
// stepped with semi-implicit Euler (ω first, then θ_m with the new ω), exactly the discrete
// map below; the twin and the oracle share it and its hand-written adjoint.
//
//   input x (segments x B): the reference trajectory r(t), piecewise constant over `segments`
//                 equal time segments, each value in [−1, 1] rad. The loop starts at rest at 0.
//   θ (4):        [K_pp, K_ip, K_pv, K_iv] / their maxima, each in [0, 1]; maxima in
//                 kControlGainMax: 50 1/s, 500 1/s², 0.1 N m s/rad, 2 N m/rad.
//   output y (samples x B): the measured shaft angle θ_m (rad) at `samples` equally spaced
//                 times, the last at the end of the run (T = steps · dt).
//
// The twin is the linear loop with nominal J and b: no friction, no delay, no saturation.
// The device adds (knobs): inertia and damping off by a fraction (parametric), Coulomb
// friction, a torque limit and a measurement delay (structural), sensor noise and encoder
// quantization on the logged angle (noise; the drive's own feedback is clean), and friction
// that grows as the bench warms up with use (drift).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "patlab/core/rng.h"
#include "patlab/emulators/emulated_system.h"

namespace patlab {

// Physical gains at θ = 1: [K_pp (1/s), K_ip (1/s²), K_pv (N m s/rad), K_iv (N m/rad)].
inline constexpr double kControlGainMax[4] = {50.0, 500.0, 0.1, 2.0};
// Nominal plant: a small servo with a flywheel load (J/b = 0.1 s mechanical time constant).
inline constexpr double kControlInertiaKgm2 = 5e-4;
inline constexpr double kControlDampingNms = 5e-3;
// Velocity over which the Coulomb friction's sign is smoothed, rad/s.
inline constexpr double kControlFrictionSmoothingRadS = 0.2;
// Torque limit at saturation = 1: s = kControlTorqueScaleNm / saturation.
inline constexpr double kControlTorqueScaleNm = 0.5;
// The friction warm-up reaches 1 − 1/e of its full amount after this many queries.
inline constexpr double kControlDriftQueries = 10000.0;

struct ControlSpec {
  int segments = 4;     // reference segments (= inputs)
  int samples = 8;      // measured angles (= outputs)
  int steps = 200;      // integration (and controller) steps
  double dt_s = 0.002;  // step, s; T = steps · dt_s
};

// The physical constants of one loop: the twin's are nominal, the device's carry the knobs.
struct ControlPlant {
  double inertia_kgm2 = kControlInertiaKgm2;
  double damping_nms = kControlDampingNms;
  double coulomb_nm = 0.0;       // dry friction torque, N m
  double torque_limit_nm = 0.0;  // smooth saturation level s, N m; 0 = no limit
  int delay_steps = 0;           // age of the measurements the controllers see
};

// The discrete loop and its exact vector-Jacobian product (the adjoint of the discrete steps,
// walked backwards through the stored trajectory).
class ControlModel {
 public:
  // Throws std::invalid_argument for segments, samples < 1, steps < max(segments, samples),
  // dt_s <= 0, non-positive inertia, negative damping/friction/limit/delay.
  ControlModel(const ControlSpec& spec, const ControlPlant& plant);
  // The nominal loop (the twin's): nominal J and b, no friction, delay or saturation.
  explicit ControlModel(const ControlSpec& spec) : ControlModel(spec, ControlPlant{}) {}

  const ControlSpec& spec() const { return spec_; }
  const ControlPlant& plant() const { return plant_; }
  static constexpr int kParams = 4;
  int input_size() const { return spec_.segments; }
  int param_size() const { return kParams; }
  int output_size() const { return spec_.samples; }

  void forward(const Mat& x, const Vec& theta, Mat& y) const;
  // g_inertia / g_damping, if given, receive += Σ_b ∂<g_y, y>/∂J and ∂/∂b (for calibration).
  void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta,
           double* g_inertia = nullptr, double* g_damping = nullptr) const;

  // Calibration (ModelTwin): [inertia_err, damping_err], the fractions by which J and b differ
  // from nominal (J = J0 (1 + c0), b = b0 (1 + c1)); calibrated throws std::invalid_argument
  // on a bad size.
  Vec calibration() const;
  ControlModel calibrated(const Vec& c) const;
  void calibration_vjp(const Mat& x, const Vec& theta, const Mat& g_y, Vec& g_c) const;

  // A sensible, modest hand tuning with a little seeded jitter, inside [0.05, 0.95].
  static Vec initial_theta(Rng& rng);

 private:
  // One sample's trajectory, reused across the samples of a batch.
  struct Trajectory {
    std::vector<double> q, w;    // angle and speed at steps 0..N
    std::vector<double> zp, zv;  // integrator states at steps 0..N
    std::vector<double> u;       // torque command at steps 0..N−1
    void resize(int n);
  };
  void check(const Mat& x, const Vec& theta) const;
  void simulate(const double* r_seg, const double* gains, Trajectory& tr) const;
  int segment_of(int k) const { return int((long long)k * spec_.segments / spec_.steps); }
  int sample_step(int j) const { return int((long long)(j + 1) * spec_.steps / spec_.samples); }

  ControlSpec spec_;
  ControlPlant plant_;
};

// ControlTwin(spec) is the nominal twin; the device's oracle is the same class around the true
// plant.
using ControlTwin = ModelTwin<ControlModel>;

class ControlDevice : public ModelDevice<ControlModel> {
 public:
  ControlDevice(const ControlSpec& spec, const KnobValues& knobs, uint64_t seed);

  const SystemInfo& info() const override;
  // Coulomb friction now: the knob plus the warm-up drift after queries() queries.
  double drifted_coulomb_nm() const;

 protected:
  void run(const Mat& x, const Vec& theta, Mat& y) override;
  void apply_knobs() override;
  // The oracle is the noiseless true loop with the friction at its present drifted value; the
  // state is [queries, noise RNG (6 words)], the drift being a function of the query count.
  void resume() override;

 private:
  ControlSpec spec_;
};

const SystemInfo& control_entry_info();
// The catalog entry: id "control"; Shape inputs = reference segments (default 4, 1..64),
// outputs = measured samples (default 8, 1..64); both at most the number of steps.
CatalogEntry control_entry();

}  // namespace patlab
