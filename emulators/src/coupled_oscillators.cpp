#include "patlab/emulators/coupled_oscillators.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace patlab {

OscillatorModel::OscillatorModel(const OscillatorSpec& spec, double eta, Mat J_extra)
    : spec_(spec), c_(1.0 + eta), J_extra_(std::move(J_extra)) {
  if (spec.n < 2 || spec.steps < 1 || !(spec.dt > 0))
    throw std::invalid_argument("OscillatorModel: need n >= 2, steps >= 1, dt > 0");
  if (J_extra_.size() != 0 && (J_extra_.rows() != spec.n || J_extra_.cols() != spec.n))
    throw std::invalid_argument("OscillatorModel: J_extra must be n x n");
}

Vec OscillatorModel::initial_theta(Rng& rng) const {
  Vec theta = Vec::Zero(param_size());
  const int nj = param_size() - n();
  for (int k = 0; k < nj; ++k) theta[k] = 0.1 * rng.normal();
  return theta;
}

OscillatorModel::Unpacked OscillatorModel::unpack(const Vec& theta) const {
  const int N = n();
  Unpacked u;
  u.J = Mat::Zero(N, N);
  int k = 0;
  for (int i = 0; i < N; ++i)
    for (int j = i + 1; j < N; ++j) u.J(i, j) = u.J(j, i) = theta[k++];
  if (J_extra_.size()) u.J += J_extra_;
  u.d = u.J.rowwise().sum();
  u.e = theta.tail(N);
  return u;
}

// a = −S + J S − d∘S + e, with S = sin(c q): restoring force plus the coupling torques
// Σ_j J_ij (S_j − S_i), rewritten as one matrix product and a diagonal term.
void OscillatorModel::accel(const Mat& q, const Unpacked& u, Mat& a, Mat* S_out) const {
  const Mat S = (c_ * q.array()).sin().matrix();
  a.noalias() = u.J * S;
  a -= (S.array().colwise() * (1.0 + u.d.array())).matrix();
  a.colwise() += u.e;
  if (S_out) *S_out = S;
}

void OscillatorModel::accel_vjp(const Mat& q, const Mat& S, const Unpacked& u, const Mat& ga,
                                Mat& gq, Vec* g_theta, double* g_c) const {
  const Mat C = (c_ * q.array()).cos().matrix();  // one cosine per angle, for both derivatives
  const Mat dS = c_ * C;                           // ∂S/∂q
  if (g_c) {
    // ∂S/∂c = q cos(c q), and a is linear in S: ∂a/∂c = J ∂S/∂c − (1 + d) ∘ ∂S/∂c.
    const Mat dSc = (q.array() * C.array()).matrix();
    Mat da = u.J * dSc;
    da -= (dSc.array().colwise() * (1.0 + u.d.array())).matrix();
    *g_c += (ga.array() * da.array()).sum();
  }
  // ∂a_i/∂q_k = S'_k (J_ik − (1 + d_i) δ_ik), so (∂a/∂q)ᵀ ga = S' ∘ (J ga − (1 + d) ∘ ga).
  gq.noalias() = u.J * ga;
  gq -= (ga.array().colwise() * (1.0 + u.d.array())).matrix();
  gq = (gq.array() * dS.array()).matrix();
  if (!g_theta) return;
  // ∂a_i/∂J_ij = S_j − S_i and ∂a_j/∂J_ij = S_i − S_j, so summed over the batch
  //   g_J_ij = Σ_b (ga_i − ga_j)(S_j − S_i) = M_ij + M_ji − M_ii − M_jj,  M = ga Sᵀ.
  const int N = n();
  const Mat M = ga * S.transpose();
  int k = 0;
  for (int i = 0; i < N; ++i)
    for (int j = i + 1; j < N; ++j) (*g_theta)[k++] += M(i, j) + M(j, i) - M(i, i) - M(j, j);
  g_theta->tail(N) += ga.rowwise().sum();
}

void OscillatorModel::integrate(const Mat& x, const Unpacked& u, Mat& q,
                                std::vector<Mat>* stages, std::vector<Mat>* sines) const {
  const double h = spec_.dt;
  q = x;
  Mat p = Mat::Zero(x.rows(), x.cols());
  Mat a1, a2, a3, a4;
  if (stages) stages->clear();
  if (sines) sines->assign(size_t(4 * spec_.steps), Mat());
  const auto sine = [&](int s, int k) { return sines ? &(*sines)[size_t(4 * s + k)] : nullptr; };
  // One RK4 step of the first-order system (q̇, ṗ) = (p, a(q)).
  for (int s = 0; s < spec_.steps; ++s) {
    const Mat q1 = q;
    accel(q1, u, a1, sine(s, 0));
    const Mat q2 = q + 0.5 * h * p;
    const Mat p2 = p + 0.5 * h * a1;
    accel(q2, u, a2, sine(s, 1));
    const Mat q3 = q + 0.5 * h * p2;
    const Mat p3 = p + 0.5 * h * a2;
    accel(q3, u, a3, sine(s, 2));
    const Mat q4 = q + h * p3;
    const Mat p4 = p + h * a3;
    accel(q4, u, a4, sine(s, 3));
    q += (h / 6.0) * (p + 2.0 * p2 + 2.0 * p3 + p4);
    p += (h / 6.0) * (a1 + 2.0 * a2 + 2.0 * a3 + a4);
    if (stages) {
      stages->push_back(q1);
      stages->push_back(q2);
      stages->push_back(q3);
      stages->push_back(q4);
    }
  }
}

void OscillatorModel::forward(const Mat& x, const Vec& theta, Mat& y) const {
  if (x.rows() != n() || theta.size() != param_size())
    throw std::invalid_argument("OscillatorModel::forward: wrong input or parameter size");
  integrate(x, unpack(theta), y, nullptr);
}

// The adjoint of the RK4 steps, walked backwards. For the stage k_i = f(s_i) of the state
// s = (q, p) with f(q, p) = (p, a(q)), the pullback of a cotangent (kq, kp) is
//   s̄_i = ((∂a/∂q)ᵀ kp, kq),
// and the stage inputs s_2 = s + h/2 k_1, s_3 = s + h/2 k_2, s_4 = s + h k_3 chain the stages.
void OscillatorModel::vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x,
                          Vec* g_theta, double* g_c) const {
  if (x.rows() != n() || theta.size() != param_size() || g_y.rows() != n() ||
      g_y.cols() != x.cols())
    throw std::invalid_argument("OscillatorModel::vjp: wrong input, parameter or g_y size");
  const Unpacked u = unpack(theta);
  std::vector<Mat> stages, sines;
  Mat q;
  integrate(x, u, q, &stages, &sines);

  const double h = spec_.dt;
  Mat Gq = g_y;                                 // cotangent of q after the last step
  Mat Gp = Mat::Zero(g_y.rows(), g_y.cols());   // cotangent of p after the last step
  Mat sq;                                       // (∂a/∂q)ᵀ kp at a stage
  for (int s = spec_.steps - 1; s >= 0; --s) {
    const Mat* qs = &stages[4 * s];
    const Mat* Ss = &sines[4 * size_t(s)];
    Mat nGq = Gq, nGp = Gp;  // the identity path s_{t+1} = s_t + ...
    // Stage 4: weight h/6, input s + h k3.
    Mat kq = (h / 6.0) * Gq, kp = (h / 6.0) * Gp;
    accel_vjp(qs[3], Ss[3], u, kp, sq, g_theta, g_c);
    Mat s4q = sq, s4p = kq;
    nGq += s4q;
    nGp += s4p;
    // Stage 3: weight h/3, input s + h/2 k2; receives h · s̄_4.
    kq = (h / 3.0) * Gq + h * s4q;
    kp = (h / 3.0) * Gp + h * s4p;
    accel_vjp(qs[2], Ss[2], u, kp, sq, g_theta, g_c);
    Mat s3q = sq, s3p = kq;
    nGq += s3q;
    nGp += s3p;
    // Stage 2: weight h/3, input s + h/2 k1; receives h/2 · s̄_3.
    kq = (h / 3.0) * Gq + (0.5 * h) * s3q;
    kp = (h / 3.0) * Gp + (0.5 * h) * s3p;
    accel_vjp(qs[1], Ss[1], u, kp, sq, g_theta, g_c);
    Mat s2q = sq, s2p = kq;
    nGq += s2q;
    nGp += s2p;
    // Stage 1: weight h/6, input s; receives h/2 · s̄_2.
    kq = (h / 6.0) * Gq + (0.5 * h) * s2q;
    kp = (h / 6.0) * Gp + (0.5 * h) * s2p;
    accel_vjp(qs[0], Ss[0], u, kp, sq, g_theta, g_c);
    nGq += sq;
    nGp += kq;
    Gq.swap(nGq);
    Gp.swap(nGp);
  }
  // q(0) = x and p(0) = 0 is fixed, so the input cotangent is the cotangent of q(0).
  if (g_x) *g_x = Gq;
}

const SystemInfo& OscillatorDevice::info() const { return oscillators_entry_info(); }

OscillatorDevice::OscillatorDevice(const OscillatorSpec& spec, const OscillatorKnobs& knobs)
    : spec_(spec) {
  set_knobs(knobs);
}

KnobValues oscillator_knob_values(const OscillatorSpec& spec, const OscillatorKnobs& k) {
  return {{"steps", spec.steps},          {"dt", spec.dt},
          {"eta", k.eta},                 {"coupling_noise", k.coupling_noise},
          {"readout_noise_rad", k.readout_noise_rad}, {"input_noise_rad", k.input_noise_rad},
          {"eta_drift", k.eta_drift}};
}

void OscillatorDevice::set_knobs(const OscillatorKnobs& knobs) {
  seed_ = knobs.seed;
  EmulatedDevice::set_knobs(oscillator_knob_values(spec_, knobs));
}

void OscillatorDevice::apply_knobs() {
  typed_.eta = knobs_.at("eta");
  typed_.coupling_noise = knobs_.at("coupling_noise");
  typed_.readout_noise_rad = knobs_.at("readout_noise_rad");
  typed_.input_noise_rad = knobs_.at("input_noise_rad");
  typed_.eta_drift = knobs_.at("eta_drift");
  typed_.seed = seed_;
  spec_.steps = int(knobs_.at("steps"));
  spec_.dt = knobs_.at("dt");
  // J_extra is a property of this particular device: the same seed gives the same device.
  Rng rng(seed_);
  Mat extra = Mat::Zero(spec_.n, spec_.n);
  for (int i = 0; i < spec_.n; ++i)
    for (int j = i + 1; j < spec_.n; ++j)
      extra(i, j) = extra(j, i) = typed_.coupling_noise * rng.normal();
  truth_ = std::make_unique<OscillatorTwin>(
      OscillatorModel(spec_, typed_.eta, typed_.coupling_noise > 0 ? extra : Mat()));
  noise_rng_.reseed(seed_ ^ 0x6E6F697365ull);  // "noise"
  drift_rng_.reseed(seed_ ^ 0x6472696674ull);  // "drift"
  eta_walk_ = 0.0;
}

void OscillatorDevice::run(const Mat& x, const Vec& theta, Mat& y) {
  if (typed_.input_noise_rad > 0) {
    Mat xn = x;
    for (Eigen::Index i = 0; i < xn.size(); ++i) xn.data()[i] += typed_.input_noise_rad * noise_rng_.normal();
    truth_->forward(xn, theta, y);
  } else {
    truth_->forward(x, theta, y);
  }
  if (typed_.readout_noise_rad > 0)
    for (Eigen::Index i = 0; i < y.size(); ++i)
      y.data()[i] += typed_.readout_noise_rad * noise_rng_.normal();
  if (typed_.eta_drift > 0) {
    // A random walk in η: variance grows linearly with the queries answered.
    eta_walk_ += typed_.eta_drift * std::sqrt(double(x.cols()) / 1000.0) * drift_rng_.normal();
    truth_->set_constants(Vec::Constant(1, drifted_eta()));
  }
}

// State: [queries, noise RNG (6 words), drift RNG (6 words), bits of the η walk].
std::vector<uint64_t> OscillatorDevice::save_state() const {
  return pack_state({&noise_rng_, &drift_rng_}, {eta_walk_});
}

void OscillatorDevice::load_state(const std::vector<uint64_t>& s) {
  unpack_state(s, {&noise_rng_, &drift_rng_}, {&eta_walk_});
  truth_->set_constants(Vec::Constant(1, drifted_eta()));
}

// ---------------------------------------------------------------------------------------
// Catalog entry

const SystemInfo& oscillators_entry_info() {
  static const SystemInfo info = [] {
    SystemInfo i;
    i.id = "oscillators";
    i.name = "Coupled oscillators";
    i.description =
        "A ring of nonlinear pendula, each pulled back by gravity (sin q) and coupled to the "
        "others by torsion springs. The data sets where each pendulum starts; the pendula swing "
        "for a fixed time and their final angles are the layer's output. Training tunes the "
        "springs and a constant torque on each pendulum. The reference system of the "
        "physics-aware training code (mcmahon-lab).";
    i.input_encoding = "layer input -> initial angle q_i(0) in radians (unbounded; |q| < pi "
                       "keeps the pendula from flipping over), starting at rest";
    i.param_encoding = "couplings J_ij (upper triangle, |J| <= 1) and drives e_i (|e| <= 1), "
                       "in units of the restoring torque";
    i.default_shape = {8, 8};
    i.knobs = {
        {"steps", "integration steps", "", "setting", 1, 64, 16,
         "RK4 steps; T = steps x dt is how long the pendula swing", true},
        {"dt", "step length", "1/w0", "setting", 0.01, 0.5, 0.125,
         "RK4 step in units of the small-angle period / 2 pi"},
        {"eta", "nonlinearity mismatch", "", "mismatch", 0.0, 0.5, 0.0,
         "the device's restoring force is sin((1 + eta) q) while the twin assumes sin q"},
        {"coupling_noise", "unknown coupling", "", "structural", 0.0, 0.3, 0.0,
         "std of a fixed random extra coupling between all pendula that the twin leaves out"},
        {"readout_noise_rad", "readout noise", "rad", "noise", 0.0, 0.2, 0.0,
         "std of Gaussian noise added to every measured final angle"},
        {"input_noise_rad", "input noise", "rad", "noise", 0.0, 0.2, 0.0,
         "std of the error in setting each starting angle"},
        {"eta_drift", "nonlinearity drift", "per sqrt(1000 queries)", "drift", 0.0, 0.2, 0.0,
         "eta wanders as a random walk with this std per 1000 queries"},
    };
    // An electromechanical resonator array (MEMS-scale) at ~1 kHz: T = 2/w0 of motion plus
    // settling and readout is about 1 ms per query; ~1 mW of drive and readout electronics
    // over that time is ~1 uJ. Order-of-magnitude estimates, not a measured device.
    i.cost = {1e-3, 1e-6, "estimate: ~1 kHz electromechanical resonators, ~1 ms and ~1 mW per query"};
    return i;
  }();
  return info;
}

CatalogEntry oscillators_entry() {
  CatalogEntry e;
  e.info = oscillators_entry_info();
  e.make = [](const Shape& shape, const KnobValues& knob_values, uint64_t seed) {
    const SystemInfo& info = oscillators_entry_info();
    if (shape.inputs && shape.outputs && shape.inputs != shape.outputs)
      throw std::invalid_argument("oscillators: one output per pendulum, so inputs must equal outputs");
    const int n = shape.inputs ? shape.inputs : (shape.outputs ? shape.outputs : info.default_shape.inputs);
    if (n < 2 || n > 256) throw std::invalid_argument("oscillators: need 2 to 256 pendula");
    const KnobValues k = info.complete(knob_values);
    OscillatorSpec spec;
    spec.n = n;
    spec.steps = int(k.at("steps"));
    spec.dt = k.at("dt");
    OscillatorKnobs typed;
    typed.seed = seed;
    auto device = std::make_shared<OscillatorDevice>(spec, typed);
    device->set_knobs(k);
    auto twin = std::make_shared<OscillatorTwin>(spec);
    Rng rng(seed ^ 0x7468657461ull);  // "theta"
    return SystemInstance{device, twin, twin->model().initial_theta(rng)};
  };
  return e;
}

}  // namespace patlab
