#include "patlab/emulators/coupled_oscillators.h"

#include <algorithm>
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
void OscillatorModel::accel(const Mat& q, const Unpacked& u, Mat& a) const {
  const Mat S = (c_ * q.array()).sin().matrix();
  a.noalias() = u.J * S;
  a -= (S.array().colwise() * (1.0 + u.d.array())).matrix();
  a.colwise() += u.e;
}

void OscillatorModel::accel_vjp(const Mat& q, const Unpacked& u, const Mat& ga, Mat& gq,
                                Vec* g_theta, double* g_c) const {
  const Mat S = (c_ * q.array()).sin().matrix();
  const Mat dS = (c_ * (c_ * q.array()).cos()).matrix();  // ∂S/∂q
  if (g_c) {
    // ∂S/∂c = q cos(c q), and a is linear in S: ∂a/∂c = J ∂S/∂c − (1 + d) ∘ ∂S/∂c.
    const Mat dSc = (q.array() * (c_ * q.array()).cos()).matrix();
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
                                std::vector<Mat>* stages) const {
  const double h = spec_.dt;
  q = x;
  Mat p = Mat::Zero(x.rows(), x.cols());
  Mat a1, a2, a3, a4;
  if (stages) stages->clear();
  // One RK4 step of the first-order system (q̇, ṗ) = (p, a(q)).
  for (int s = 0; s < spec_.steps; ++s) {
    const Mat q1 = q;
    accel(q1, u, a1);
    const Mat q2 = q + 0.5 * h * p;
    const Mat p2 = p + 0.5 * h * a1;
    accel(q2, u, a2);
    const Mat q3 = q + 0.5 * h * p2;
    const Mat p3 = p + 0.5 * h * a2;
    accel(q3, u, a3);
    const Mat q4 = q + h * p3;
    const Mat p4 = p + h * a3;
    accel(q4, u, a4);
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
  std::vector<Mat> stages;
  Mat q;
  integrate(x, u, q, &stages);

  const double h = spec_.dt;
  Mat Gq = g_y;                                 // cotangent of q after the last step
  Mat Gp = Mat::Zero(g_y.rows(), g_y.cols());   // cotangent of p after the last step
  Mat sq;                                       // (∂a/∂q)ᵀ kp at a stage
  for (int s = spec_.steps - 1; s >= 0; --s) {
    const Mat* qs = &stages[4 * s];
    Mat nGq = Gq, nGp = Gp;  // the identity path s_{t+1} = s_t + ...
    // Stage 4: weight h/6, input s + h k3.
    Mat kq = (h / 6.0) * Gq, kp = (h / 6.0) * Gp;
    accel_vjp(qs[3], u, kp, sq, g_theta, g_c);
    Mat s4q = sq, s4p = kq;
    nGq += s4q;
    nGp += s4p;
    // Stage 3: weight h/3, input s + h/2 k2; receives h · s̄_4.
    kq = (h / 3.0) * Gq + h * s4q;
    kp = (h / 3.0) * Gp + h * s4p;
    accel_vjp(qs[2], u, kp, sq, g_theta, g_c);
    Mat s3q = sq, s3p = kq;
    nGq += s3q;
    nGp += s3p;
    // Stage 2: weight h/3, input s + h/2 k1; receives h/2 · s̄_3.
    kq = (h / 3.0) * Gq + (0.5 * h) * s3q;
    kp = (h / 3.0) * Gp + (0.5 * h) * s3p;
    accel_vjp(qs[1], u, kp, sq, g_theta, g_c);
    Mat s2q = sq, s2p = kq;
    nGq += s2q;
    nGp += s2p;
    // Stage 1: weight h/6, input s; receives h/2 · s̄_2.
    kq = (h / 6.0) * Gq + (0.5 * h) * s2q;
    kp = (h / 6.0) * Gp + (0.5 * h) * s2p;
    accel_vjp(qs[0], u, kp, sq, g_theta, g_c);
    nGq += sq;
    nGp += kq;
    Gq.swap(nGq);
    Gp.swap(nGp);
  }
  // q(0) = x and p(0) = 0 is fixed, so the input cotangent is the cotangent of q(0).
  if (g_x) *g_x = Gq;
}

OscillatorDevice::OscillatorDevice(const OscillatorSpec& spec, const OscillatorKnobs& knobs)
    : spec_(spec) {
  set_knobs(knobs);
}

void OscillatorDevice::set_knobs(const OscillatorKnobs& knobs) {
  knobs_ = knobs;
  // J_extra is a property of this particular device: the same seed gives the same device.
  Rng rng(knobs.seed);
  Mat extra = Mat::Zero(spec_.n, spec_.n);
  for (int i = 0; i < spec_.n; ++i)
    for (int j = i + 1; j < spec_.n; ++j) extra(i, j) = extra(j, i) = knobs.coupling_noise * rng.normal();
  truth_ = std::make_unique<OscillatorTwin>(
      OscillatorModel(spec_, knobs.eta, knobs.coupling_noise > 0 ? extra : Mat()));
  noise_rng_.reseed(knobs.seed ^ 0x6E6F697365ull);  // "noise"
}

void OscillatorDevice::run(const Mat& x, const Vec& theta, Mat& y) {
  truth_->forward(x, theta, y);
  if (knobs_.readout_noise_rad > 0)
    for (Eigen::Index i = 0; i < y.size(); ++i)
      y.data()[i] += knobs_.readout_noise_rad * noise_rng_.normal();
}

std::vector<uint64_t> OscillatorDevice::save_state() const {
  std::vector<uint64_t> s = PhysicalSystem::save_state();
  const auto w = noise_rng_.words();
  s.insert(s.end(), w.begin(), w.end());
  return s;
}

void OscillatorDevice::load_state(const std::vector<uint64_t>& s) {
  if (s.size() != 7) throw std::invalid_argument("oscillators: device state has the wrong size");
  PhysicalSystem::load_state({s[0]});
  std::array<uint64_t, 6> w;
  std::copy(s.begin() + 1, s.end(), w.begin());
  noise_rng_.set_words(w);
}

}  // namespace patlab
