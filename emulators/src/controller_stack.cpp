#include "patlab/emulators/controller_stack.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

namespace patlab {

// ---------------------------------------------------------------------------------------
// The discrete loop

ControlModel::ControlModel(const ControlSpec& spec, const ControlPlant& plant)
    : spec_(spec), plant_(plant) {
  if (spec.segments < 1 || spec.samples < 1)
    throw std::invalid_argument("ControlModel: need at least one segment and one sample");
  if (spec.steps < std::max(spec.segments, spec.samples))
    throw std::invalid_argument("ControlModel: need at least one step per segment and sample");
  if (!(spec.dt_s > 0)) throw std::invalid_argument("ControlModel: need dt_s > 0");
  if (!(plant.inertia_kgm2 > 0) || !(plant.damping_nms >= 0) || !(plant.coulomb_nm >= 0) ||
      !(plant.torque_limit_nm >= 0) || plant.delay_steps < 0)
    throw std::invalid_argument("ControlModel: need J > 0 and b, F_c, torque limit, delay >= 0");
}

void ControlModel::Trajectory::resize(int n) {
  q.assign(n + 1, 0.0);
  w.assign(n + 1, 0.0);
  zp.assign(n + 1, 0.0);
  zv.assign(n + 1, 0.0);
  u.assign(n, 0.0);
}

Vec ControlModel::initial_theta(Rng& rng) {
  // A modest hand tuning: position loop ~20 rad/s inside a ~100 rad/s velocity loop, small
  // integral action. Deliberately not optimal, so training has something to do.
  Vec theta(kParams);
  theta << 0.4, 0.1, 0.5, 0.2;
  for (int i = 0; i < kParams; ++i)
    theta[i] = std::clamp(theta[i] + 0.05 * rng.normal(), 0.05, 0.95);
  return theta;
}

void ControlModel::check(const Mat& x, const Vec& theta) const {
  if (x.rows() != spec_.segments || theta.size() != kParams)
    throw std::invalid_argument("ControlModel: wrong input or parameter size");
}

// The drive's measurements are `delay` steps old; before t = 0 the loop rested at 0, which is
// also what the (delayed) sensors report.
void ControlModel::simulate(const double* r, const double* K, Trajectory& tr) const {
  const int N = spec_.steps, d = plant_.delay_steps;
  const double dt = spec_.dt_s, c = dt / plant_.inertia_kgm2, b = plant_.damping_nms;
  const double fc = plant_.coulomb_nm, ws = kControlFrictionSmoothingRadS;
  const double s = plant_.torque_limit_nm;
  tr.q[0] = tr.w[0] = tr.zp[0] = tr.zv[0] = 0.0;
  for (int k = 0; k < N; ++k) {
    const double qm = k >= d ? tr.q[k - d] : 0.0, wm = k >= d ? tr.w[k - d] : 0.0;
    const double e = r[segment_of(k)] - qm;
    const double ev = K[0] * e + tr.zp[k] - wm;  // velocity error against ω_ref
    const double u = K[2] * ev + tr.zv[k];
    tr.u[k] = u;
    tr.zp[k + 1] = tr.zp[k] + K[1] * dt * e;
    tr.zv[k + 1] = tr.zv[k] + K[3] * dt * ev;
    const double tau = s > 0 ? s * std::tanh(u / s) : u;
    const double w = tr.w[k];
    const double fr = fc > 0 ? fc * std::tanh(w / ws) : 0.0;
    // Semi-implicit Euler: the new speed moves the angle.
    tr.w[k + 1] = w + c * (tau - b * w - fr);
    tr.q[k + 1] = tr.q[k] + dt * tr.w[k + 1];
  }
}

void ControlModel::forward(const Mat& x, const Vec& theta, Mat& y) const {
  check(x, theta);
  std::array<double, kParams> K;
  for (int i = 0; i < kParams; ++i) K[i] = kControlGainMax[i] * theta[i];
  Trajectory tr;
  tr.resize(spec_.steps);
  y.resize(spec_.samples, x.cols());
  for (Eigen::Index bi = 0; bi < x.cols(); ++bi) {
    simulate(x.col(bi).data(), K.data(), tr);
    for (int j = 0; j < spec_.samples; ++j) y(j, bi) = tr.q[sample_step(j)];
  }
}

// The adjoint of the discrete loop, walked from the last step to the first. Cotangents of the
// angle and speed are kept for every step, because a delayed controller reads q[k − d] and
// w[k − d]: step k sends its measurement cotangents d steps back. All contributions to step
// k + 1's cotangents come from steps >= k + 1 (or the outputs), so they are complete when step
// k is undone. Per step, in reverse order of the forward:
//   q[k+1] = q[k] + dt w[k+1]                    -> ḡq[k] += ḡq[k+1], a = ḡw[k+1] + dt ḡq[k+1]
//   w[k+1] = w + c (τ − b w − F_c tanh(w/ω_s))    -> ḡw[k] += a (1 − c (b + F_c sech²/ω_s)),
//                                                    ḡτ = a c,  ∂/∂J = −a (w[k+1] − w) / J
//   τ = s tanh(u / s)                             -> ḡu = ḡτ sech²(u / s)
//   u = K_pv e_v + z_v, z_v' = z_v + K_iv dt e_v   -> ḡe_v = K_pv ḡu + K_iv dt ḡz_v'
//   e_v = K_pp e + z_p − ŵ, z_p' = z_p + K_ip dt e -> ḡe = K_pp ḡe_v + K_ip dt ḡz_p'
//   e = r − q̂                                     -> ḡr += ḡe, ḡq[k−d] −= ḡe, ḡw[k−d] −= ḡe_v
void ControlModel::vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta,
                       double* g_inertia, double* g_damping) const {
  check(x, theta);
  if (g_y.rows() != spec_.samples || g_y.cols() != x.cols())
    throw std::invalid_argument("ControlModel::vjp: g_y has the wrong size");
  if (g_theta && g_theta->size() != kParams)
    throw std::invalid_argument("ControlModel::vjp: g_theta has the wrong size");
  const int N = spec_.steps, d = plant_.delay_steps;
  const double dt = spec_.dt_s, J = plant_.inertia_kgm2, c = dt / J, b = plant_.damping_nms;
  const double fc = plant_.coulomb_nm, ws = kControlFrictionSmoothingRadS;
  const double s = plant_.torque_limit_nm;
  std::array<double, kParams> K, gK{};
  for (int i = 0; i < kParams; ++i) K[i] = kControlGainMax[i] * theta[i];
  Trajectory tr;
  tr.resize(N);
  std::vector<double> gq(N + 1), gw(N + 1);
  if (g_x) g_x->setZero(spec_.segments, x.cols());
  double gJ = 0.0, gb = 0.0;

  for (Eigen::Index bi = 0; bi < x.cols(); ++bi) {
    const double* r = x.col(bi).data();
    simulate(r, K.data(), tr);
    std::fill(gq.begin(), gq.end(), 0.0);
    std::fill(gw.begin(), gw.end(), 0.0);
    for (int j = 0; j < spec_.samples; ++j) gq[sample_step(j)] += g_y(j, bi);
    double gzp = 0.0, gzv = 0.0;  // cotangents of z_p[k+1], z_v[k+1]
    for (int k = N - 1; k >= 0; --k) {
      gq[k] += gq[k + 1];
      const double a = gw[k + 1] + dt * gq[k + 1];  // all of w[k+1]'s cotangent
      const double w = tr.w[k];
      double dfr = 0.0;
      if (fc > 0) {
        const double th = std::tanh(w / ws);
        dfr = fc * (1.0 - th * th) / ws;
      }
      gw[k] += a * (1.0 - c * (b + dfr));
      gJ -= a * (tr.w[k + 1] - w) / J;
      gb -= a * c * w;
      double gu = a * c;
      if (s > 0) {
        const double th = std::tanh(tr.u[k] / s);
        gu *= 1.0 - th * th;
      }
      // The controller's signals at step k, recomputed from the stored states.
      const double qm = k >= d ? tr.q[k - d] : 0.0, wm = k >= d ? tr.w[k - d] : 0.0;
      const int seg = segment_of(k);
      const double e = r[seg] - qm;
      const double ev = K[0] * e + tr.zp[k] - wm;
      gK[2] += gu * ev;
      gK[3] += gzv * dt * ev;
      const double gev = K[2] * gu + K[3] * dt * gzv;
      gzv += gu;  // now z_v[k]'s cotangent
      gK[0] += gev * e;
      gK[1] += gzp * dt * e;
      const double ge = K[0] * gev + K[1] * dt * gzp;
      gzp += gev;  // now z_p[k]'s cotangent
      if (g_x) (*g_x)(seg, bi) += ge;
      if (k >= d) {
        gq[k - d] -= ge;
        gw[k - d] -= gev;
      }
    }
  }
  if (g_theta)
    for (int i = 0; i < kParams; ++i) (*g_theta)[i] += kControlGainMax[i] * gK[i];
  if (g_inertia) *g_inertia += gJ;
  if (g_damping) *g_damping += gb;
}

// ---------------------------------------------------------------------------------------
// Twin constants: fractions off nominal.

Vec ControlModel::calibration() const {
  Vec c(2);
  c << plant_.inertia_kgm2 / kControlInertiaKgm2 - 1.0, plant_.damping_nms / kControlDampingNms - 1.0;
  return c;
}

ControlModel ControlModel::calibrated(const Vec& c) const {
  if (c.size() != 2) throw std::invalid_argument("ControlTwin: 2 constants expected");
  ControlPlant p = plant_;
  // Keep the calibrated plant physical (J > 0, b >= 0) whatever the fit proposes.
  p.inertia_kgm2 = kControlInertiaKgm2 * std::max(1.0 + c[0], 1e-3);
  p.damping_nms = kControlDampingNms * std::max(1.0 + c[1], 0.0);
  return ControlModel(spec_, p);
}

void ControlModel::calibration_vjp(const Mat& x, const Vec& theta, const Mat& g_y, Vec& g_c) const {
  double gJ = 0.0, gb = 0.0;
  vjp(x, theta, g_y, nullptr, nullptr, &gJ, &gb);
  g_c[0] += kControlInertiaKgm2 * gJ;
  g_c[1] += kControlDampingNms * gb;
}

// ---------------------------------------------------------------------------------------
// The emulated bench

const SystemInfo& ControlDevice::info() const { return control_entry_info(); }

ControlDevice::ControlDevice(const ControlSpec& spec, const KnobValues& knobs, uint64_t seed)
    : ModelDevice({-1.0, 1.0, 0.0, 1.0}, seed), spec_(spec) {
  keep_state({&noise_rng_});
  set_knobs(info().with_settings(knobs, {{"steps", spec.steps}, {"dt_s", spec.dt_s}}));
}

double ControlDevice::drifted_coulomb_nm() const {
  // Bearings and grease warm up with use: friction approaches coulomb + drift exponentially
  // in the number of queries answered (a deterministic clock, so a seed replays it exactly).
  return knobs_.at("coulomb_nm") + knobs_.at("friction_drift_nm") *
                                       (1.0 - std::exp(-double(queries()) / kControlDriftQueries));
}

void ControlDevice::resume() {
  const double saturation = knobs_.at("saturation");
  ControlPlant p;
  p.inertia_kgm2 = kControlInertiaKgm2 * (1.0 + knobs_.at("inertia_err"));
  p.damping_nms = kControlDampingNms * (1.0 + knobs_.at("damping_err"));
  p.coulomb_nm = drifted_coulomb_nm();
  p.torque_limit_nm = saturation > 0 ? kControlTorqueScaleNm / saturation : 0.0;
  p.delay_steps = int(knobs_.at("delay_steps"));
  set_truth(ControlModel(spec_, p));
}

void ControlDevice::apply_knobs() {
  spec_.steps = int(knobs_.at("steps"));
  spec_.dt_s = knobs_.at("dt_s");
  resume();
  reseed_streams();
}

void ControlDevice::run(const Mat& x, const Vec& theta, Mat& y) {
  // The batch runs with the friction of the bench as it was before these queries.
  truth_->forward(x, theta, y);
  const double sensor_noise = knobs_.at("sensor_noise_rad");
  if (sensor_noise > 0) noise_rng_.add_normal(y.data(), y.size(), sensor_noise);
  const double q = knobs_.at("encoder_step_rad");
  if (q > 0) {
    // An incremental encoder reports whole counts of its step.
    for (Eigen::Index i = 0; i < y.size(); ++i) y.data()[i] = q * std::round(y.data()[i] / q);
  }
  if (knobs_.at("friction_drift_nm") > 0) resume();
}

// The spec a shape and the (completed) knobs ask for; throws std::invalid_argument for a
// shape the system cannot take. spec_entry builds the twin, the device and θ0 from it.
static ControlSpec control_spec(const Shape& shape, const KnobValues& k) {
  ControlSpec spec;
  spec.segments = shape.inputs;
  spec.samples = shape.outputs;
  spec.steps = int(k.at("steps"));
  spec.dt_s = k.at("dt_s");
  if (spec.segments < 1 || spec.segments > 64 || spec.samples < 1 || spec.samples > 64)
    throw std::invalid_argument("control: need 1 to 64 reference segments and samples");
  if (spec.segments > spec.steps || spec.samples > spec.steps)
    throw std::invalid_argument("control: more segments or samples than controller steps");
  return spec;
}

// ---------------------------------------------------------------------------------------
// Catalog entry

const SystemInfo& control_entry_info() {
  static const SystemInfo info{
    "control",
    "Controller stack",
    "A servo motor turning a flywheel, steered by two controllers stacked in a cascade: an "
    "outer position controller decides how fast the shaft should turn, an inner speed "
    "controller decides how much torque the drive applies. The data is the setpoint the "
    "shaft is told to follow, a staircase of target angles; the layer's output is the angle "
    "actually measured at a few moments. Training tunes the four controller gains. The "
    "digital twin is the textbook linear loop; the real bench also has dry friction, a "
    "torque limit and a delay in its sensors, which is why gains tuned in simulation alone "
    "track worse on the real motor than gains tuned with physics-aware training.",
    "layer input -> reference angle r in radians, one value per equal time segment "
    "(piecewise-constant staircase), each in [-1, 1] rad; the loop starts at rest at 0",
    "gains [K_pp, K_ip, K_pv, K_iv] of the position PI and velocity PI controllers, each in "
    "[0, 1] of its maximum: 50 1/s, 500 1/s^2, 0.1 N m s/rad, 2 N m/rad",
    {4, 8},
    {
        {"steps", "controller steps", "", "setting", 20, 2000, 200,
         "controller and integration steps per query; T = steps x dt_s is the run's length", true},
        {"dt_s", "controller period", "s", "setting", 0.0005, 0.004, 0.002,
         "sample period of the digital controllers, also the integration step"},
        {"inertia_err", "inertia mismatch", "", "mismatch", -0.5, 1.0, 0.0,
         "the load's inertia is J0 (1 + inertia_err) while the twin assumes J0"},
        {"damping_err", "damping mismatch", "", "mismatch", -0.5, 2.0, 0.0,
         "the viscous damping is b0 (1 + damping_err) while the twin assumes b0"},
        {"coulomb_nm", "dry friction", "N m", "structural", 0.0, 0.2, 0.0,
         "Coulomb friction torque opposing motion (sign smoothed over 0.2 rad/s); the twin has "
         "none"},
        {"saturation", "torque saturation", "", "structural", 0.0, 1.0, 0.0,
         "the drive's torque saturates smoothly at 0.5 N m / saturation (0 = unlimited); the "
         "twin never saturates"},
        {"delay_steps", "sensor delay", "steps", "structural", 0, 4, 0,
         "the controllers see angle and speed this many controller periods late (the twin "
         "sees them at once); beyond 4 steps the hand-tuned loop starts to oscillate",
         true},
        {"sensor_noise_rad", "sensor noise", "rad", "noise", 0.0, 0.1, 0.0,
         "std of Gaussian noise added to every logged angle"},
        {"encoder_step_rad", "encoder resolution", "rad", "noise", 0.0, 0.05, 0.0,
         "logged angles are rounded to whole multiples of this step (0 = continuous)"},
        {"friction_drift_nm", "friction warm-up", "N m", "drift", 0.0, 0.1, 0.0,
         "dry friction grows by up to this much with use, 63 % of it after 10 000 queries"},
    },
    // A small brushless servo test bench (~100 W drive, flywheel load). Each query plays one
    // reference trajectory, T = steps x dt = 0.4 s at the defaults, then the bench returns to 0
    // and settles (~0.2 s): ~0.6 s per query. Drive, controller board and encoder electronics
    // average ~20 W over a query (motor copper losses plus ~5 W of electronics): ~12 J.
    // Order-of-magnitude estimates for a lab bench, not a measured device.
    {0.6, 12.0,
     "estimate: small servo test bench, 0.4 s trajectory + 0.2 s reset at ~20 W average"},
  };
  return info;
}

CatalogEntry control_entry() {
  return spec_entry<ControlDevice, ControlTwin>(control_entry_info(), control_spec);
}

}  // namespace patlab
