#include "patlab/emulators/coupled_oscillators.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "patlab/core/vector_math.h"
#include "patlab/emulators/parallel.h"

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

void OscillatorModel::unpack(const Vec& theta, Unpacked& u) const {
  const int N = n();
  u.J.setZero(N, N);
  int k = 0;
  for (int i = 0; i < N; ++i)
    for (int j = i + 1; j < N; ++j) u.J(i, j) = u.J(j, i) = theta[k++];
  if (J_extra_.size()) u.J += J_extra_;
  // 1 + Σ_j J_ij, the extra coupling's self-term X_ii included: it loads pendulum i's own
  // restoring force. J then keeps its zero diagonal, so the product J S adds no X_ii S_i back.
  u.dp1 = (u.J.rowwise().sum().array() + 1.0).matrix();
  u.J.diagonal().setZero();
  u.e = theta.tail(N);
  u.Jp.pack(N, N, u.J.data());
}

const OscillatorModel::Unpacked& OscillatorModel::unpacked(const Vec& theta, uint64_t call) const {
  Unpacked& u = call_buffers(n()).u;
  if (u.call != call) {
    unpack(theta, u);
    u.call = call;
  }
  return u;
}

uint64_t OscillatorModel::new_call() {
  static std::atomic<uint64_t> calls{0};
  return ++calls;
}

OscillatorModel::CallBuffers& OscillatorModel::call_buffers(int N) {
  // A call holds its buffers until it returns, and its tasks never call forward or vjp on this
  // thread, so the buffers of one size are never wanted twice at once.
  thread_local std::vector<std::pair<int, std::unique_ptr<CallBuffers>>> kept;
  for (auto& [n, buffers] : kept)
    if (n == N) return *buffers;
  if (kept.size() >= 8) kept.erase(kept.begin());  // many sizes on one thread: keep the last 8
  kept.emplace_back(N, std::make_unique<CallBuffers>());
  return *kept.back().second;
}

namespace {

// Scratch memory of one thread, kept between calls. Training asks for the same shapes every
// step; buffers freed and taken again every call made glibc hand the top of its heap back to
// the system and fault fresh pages in on the next call (5-7 % of a PAT step). Past kKeep bytes
// (big batches, rare; WebAssembly memory never shrinks) a call uses a buffer of its own.
constexpr size_t kKeep = size_t(8) << 20;
struct Scratch {
  std::vector<double> store;
  double* get(size_t n) {
    if (store.size() < n) store.resize(n);
    return store.data();
  }
};
double* scratch(Scratch& kept, Scratch& local, size_t n) {
  return (n * sizeof(double) <= kKeep ? kept : local).get(n);
}

using CMap = Eigen::Map<const Mat>;
using MMap = Eigen::Map<Mat>;

}  // namespace

// a = −S + J S − d∘S + e, with S = sin(c q): restoring force plus the coupling torques
// Σ_j J_ij (S_j − S_i) and the extra coupling's self-term −X_ii S_i, rewritten as one matrix
// product (J with zero diagonal) and a diagonal term d_i = Σ_j J_ij + X_ii. q, a and S are
// N x B, column major; S receives the sines (the backward pass reuses them). The product is
// added last, onto e − (1 + d)∘S, so a is written once before it and never zeroed.
void OscillatorModel::accel(const double* q, Eigen::Index B, const Unpacked& u, double* a,
                            double* S) const {
  const Eigen::Index N = n();
  sin_scaled(q, c_, S, N * B);
  const CMap Sm(S, N, B);
  MMap am(a, N, B);
  for (Eigen::Index b = 0; b < B; ++b)
    am.col(b).array() = u.e.array() - u.dp1.array() * Sm.col(b).array();
  u.Jp.multiply(B, S, a, true);  // a += J S
}

// One RK4 step of the first-order system (q̇, ṗ) = (p, a(q)), with the stage inputs written
// out in q and p alone (p2 = p + h/2 a1, p3 = p + h/2 a2, p4 = p + h a3):
//   q1 = q,  q2 = q + h/2 p,  q3 = q2 + h²/4 a1,  q4 = q + h p + h²/2 a2,
//   q ← q + h p + h²/6 (a1 + a2 + a3),  p ← p + h/6 (a1 + 2 a2 + 2 a3 + a4).
// With a trace, each stage's angles are computed straight into it.
void OscillatorModel::integrate(const double* x, Eigen::Index B, const Unpacked& u, double* q_out,
                                Trace* trace) const {
  const double h = spec_.dt;
  const Eigen::Index N = n(), NB = N * B;
  const int steps = spec_.steps;
  thread_local Scratch kept;
  Scratch local;
  // p, a1..a4, and without a trace the stage angles and sines.
  double* w = scratch(kept, local, size_t((trace ? 5 : 7) * NB));
  MMap q(q_out, N, B), p(w, N, B), a1(w + NB, N, B), a2(w + 2 * NB, N, B), a3(w + 3 * NB, N, B),
      a4(w + 4 * NB, N, B);
  if (q_out != x) q = CMap(x, N, B);
  p.setZero();
  if (trace) trace->shape(N, 4 * steps * B);
  // Where stage k of step s keeps its angles and sines.
  const auto angles = [&](int s, int k) {
    return trace ? trace->Q().data() + (4 * s + k) * NB : w + 5 * NB;
  };
  const auto sines = [&](int s, int k) {
    return trace ? trace->S().data() + (4 * s + k) * NB : w + 6 * NB;
  };
  for (int s = 0; s < steps; ++s) {
    double* q1 = q_out;
    if (trace) {
      q1 = angles(s, 0);
      MMap(q1, N, B) = q;
    }
    accel(q1, B, u, a1.data(), sines(s, 0));
    MMap q2(angles(s, 1), N, B);
    if (s == 0) {
      // p(0) = 0, so the second stage of the first step is the first (q2 = q exactly): its
      // acceleration is a1, and the trace keeps a copy for the backward pass.
      q2 = MMap(q1, N, B);
      a2 = a1;
      if (trace) MMap(sines(s, 1), N, B) = MMap(sines(s, 0), N, B);
    } else {
      q2 = q + (0.5 * h) * p;
      accel(q2.data(), B, u, a2.data(), sines(s, 1));
    }
    MMap q3(angles(s, 2), N, B);  // without a trace the same memory as q2: updated in place
    q3 = q2 + (0.25 * h * h) * a1;
    accel(q3.data(), B, u, a3.data(), sines(s, 2));
    MMap q4(angles(s, 3), N, B);
    q4 = q + h * p + (0.5 * h * h) * a2;
    accel(q4.data(), B, u, a4.data(), sines(s, 3));
    q += h * p + (h * h / 6.0) * (a1 + a2 + a3);
    p += (h / 6.0) * (a1 + 2.0 * (a2 + a3) + a4);
  }
}

void OscillatorModel::forward(const Mat& x, const Vec& theta, Mat& y) const {
  if (x.rows() != n() || theta.size() != param_size())
    throw std::invalid_argument("OscillatorModel::forward: wrong input or parameter size");
  const uint64_t call = new_call();
  const Eigen::Index N = n();
  const int chunks = column_chunks(x.cols());
  if (y.data() == x.data()) y = Mat();  // never integrate in place over the input
  y.resize(N, x.cols());
  run_tasks(chunks, [&](int i) {
    Eigen::Index b0, nb;
    chunk_columns(x.cols(), chunks, i, &b0, &nb);
    integrate(x.data() + b0 * N, nb, unpacked(theta, call), y.data() + b0 * N, nullptr);
  });
}

// The adjoint of the RK4 steps, walked backwards. For the stage k_i = f(s_i) of the state
// s = (q, p) with f(q, p) = (p, a(q)), the pullback of a cotangent (kq, kp) is
//   s̄_i = ((∂a/∂q)ᵀ kp, kq),
// and the stage inputs s_2 = s + h/2 k_1, s_3 = s + h/2 k_2, s_4 = s + h k_3 chain the stages.
// With S' = c cos(c q) at a stage, (∂a/∂q)ᵀ kp = S' ∘ (J kp − (1 + d) ∘ kp).
//
// The parameter gradient needs every stage's kp against its sines: since ∂a_i/∂J_ij = S_j − S_i
// and ∂a_j/∂J_ij = S_i − S_j, summed over the batch and the stages
//   g_J_ij = Σ (kp_i − kp_j)(S_j − S_i) = M_ij + M_ji − M_ii − M_jj,   M = Σ kp Sᵀ,
// and g_e = Σ kp. The four stages' kp of a step sit side by side in one matrix, so M grows by
// one product per step, with the stages' sines (stored side by side by integrate) as its right.
void OscillatorModel::vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x,
                          Vec* g_theta, double* g_c, Mat* y) const {
  if (x.rows() != n() || theta.size() != param_size() || g_y.rows() != n() ||
      g_y.cols() != x.cols())
    throw std::invalid_argument("OscillatorModel::vjp: wrong input, parameter or g_y size");
  const int N = n(), chunks = column_chunks(x.cols());
  const uint64_t call = new_call();
  // Each chunk of the batch on its own; their g_θ and g_c added in chunk order.
  std::vector<Part>& parts = call_buffers(N).parts;
  parts.resize(size_t(chunks));
  for (Part& part : parts) part.g_c = 0.0;
  // Outputs written in place, chunk by chunk (never over an input).
  for (Mat* out : {g_x, y})
    if (out && (out->data() == x.data() || out->data() == g_y.data())) *out = Mat();
  if (g_x) g_x->resize(N, x.cols());
  if (y) y->resize(N, x.cols());
  const int P = param_size();
  run_tasks(chunks, [&](int i) {
    Eigen::Index b0, nb;
    chunk_columns(x.cols(), chunks, i, &b0, &nb);
    Part& part = parts[size_t(i)];
    vjp_columns(x.data() + b0 * N, nb, unpacked(theta, call), g_y.data() + b0 * N,
                g_x ? g_x->data() + b0 * N : nullptr, g_theta ? &part.M : nullptr,
                g_theta ? &part.ge : nullptr, g_c ? &part.g_c : nullptr,
                y ? y->data() + b0 * N : nullptr);
    if (!g_theta) return;
    // The chunk's own share of g_θ (it is linear in M), made here, in parallel, so the calling
    // thread only adds vectors half M's size instead of reading the other threads' M.
    const Mat& M = part.M;
    part.g.resize(P);
    int k = 0;
    for (int r = 0; r < N; ++r)
      for (int c = r + 1; c < N; ++c) part.g[k++] = M(r, c) + M(c, r) - M(r, r) - M(c, c);
    part.g.tail(N) = part.ge;
  });
  if (g_c)
    for (const Part& part : parts) *g_c += part.g_c;
  if (g_theta)
    for (const Part& part : parts) *g_theta += part.g;
}

void OscillatorModel::vjp_columns(const double* x, Eigen::Index B, const Unpacked& u,
                                  const double* g_y, double* g_x, Mat* M_out, Vec* ge_out,
                                  double* g_c, double* y) const {
  // The trace is the one big allocation of a vjp (2 x 4 steps x the batch's size); kept per
  // thread between calls like the scratch below.
  thread_local Trace kept_trace;
  Trace local_trace;
  const bool keep = size_t(2 * 8 * 4 * spec_.steps * n() * B) <= kKeep;
  Trace& trace = keep ? kept_trace : local_trace;
  const double h = spec_.dt;
  const Eigen::Index N = n(), NB = N * B;
  // Gq, Gp (cotangents of q and p after the current step), the same before it, the stages'
  // pullbacks sq1..sq4 and kq2..kq4, cos(c q) at the step's four stages (C) and their kp (K,
  // stage k in columns kB..), and q at the end if y is not wanted.
  thread_local Scratch kept;
  Scratch local;
  double* w = scratch(kept, local, size_t(21 * NB));
  double *gq = w, *gp = w + NB, *ngq = w + 2 * NB, *ngp = w + 3 * NB;
  MMap sq1(w + 4 * NB, N, B), sq2(w + 5 * NB, N, B), sq3(w + 6 * NB, N, B), sq4(w + 7 * NB, N, B),
      kq2(w + 8 * NB, N, B), kq3(w + 9 * NB, N, B), kq4(w + 10 * NB, N, B),
      C(w + 11 * NB, N, 4 * B), K(w + 15 * NB, N, 4 * B);
  integrate(x, B, u, y ? y : w + 19 * NB, &trace);

  MMap(gq, N, B) = CMap(g_y, N, B);
  MMap(gp, N, B).setZero();
  Mat dSc, da;
  if (M_out) M_out->resize(N, N);
  if (ge_out) ge_out->setZero(N);

  // sq = (∂a/∂q)ᵀ kp at stage k of the step (cosines in C): −(1 + d)∘kp, plus J kp, times S'.
  const auto pull = [&](int k, MMap& sq) {
    const auto kp = K.middleCols(k * B, B);
    const auto Ck = C.middleCols(k * B, B);
    for (Eigen::Index b = 0; b < B; ++b) sq.col(b).array() = -u.dp1.array() * kp.col(b).array();
    u.Jp.multiply(B, kp.data(), sq.data(), true);  // += J kp (J is symmetric)
    sq.array() *= c_ * Ck.array();
  };
  // Two stages need no product of their own. After the last step Gp = 0 (only q(T) is
  // measured), so the last step's stage 4 has kp = 0 and pulls back nothing; and the first
  // step's stages 1 and 2 are the same point (p(0) = 0), so their pullbacks, linear in kp, are
  // one pullback of the two kp summed (K holds the sum in stage 2's place, zero in stage 1's),
  // and p(0)'s cotangent is not needed. M's product then skips those stages' columns.
  const int last = spec_.steps - 1;
  for (int s = last; s >= 0; --s) {
    const MMap Gq(gq, N, B), Gp(gp, N, B);
    const auto Qs = trace.Q().middleCols(4 * s * B, 4 * B);
    cos_scaled(Qs.data(), c_, C.data(), Qs.size());
    // Stage 4: weight h/6, input s + h k3.
    K.middleCols(3 * B, B) = (h / 6.0) * Gp;
    kq4 = (h / 6.0) * Gq;
    if (s == last)
      sq4.setZero();
    else
      pull(3, sq4);
    // Stage 3: weight h/3, input s + h/2 k2; receives h · s̄_4.
    kq3 = (h / 3.0) * Gq + h * sq4;
    K.middleCols(2 * B, B) = (h / 3.0) * Gp + h * kq4;
    pull(2, sq3);
    // Stage 2: weight h/3, input s + h/2 k1; receives h/2 · s̄_3.
    kq2 = (h / 3.0) * Gq + (0.5 * h) * sq3;
    K.middleCols(B, B) = (h / 3.0) * Gp + (0.5 * h) * kq3;
    if (s == 0) {
      // Stage 1 (weight h/6, input s; receives h/2 · s̄_2) merged into stage 2.
      K.middleCols(B, B) += (h / 6.0) * Gp + (0.5 * h) * kq2;
      K.middleCols(0, B).setZero();
      pull(1, sq2);
      MMap(ngq, N, B) = Gq + sq4 + sq3 + sq2;
    } else {
      pull(1, sq2);
      // Stage 1: weight h/6, input s; receives h/2 · s̄_2.
      MMap(ngp, N, B) = Gp + kq4 + kq3 + kq2 + (h / 6.0) * Gq + (0.5 * h) * sq2;  // + kq1
      K.middleCols(0, B) = (h / 6.0) * Gp + (0.5 * h) * kq2;
      pull(0, sq1);
      // The identity path s_{t+1} = s_t + ... plus every stage's pullback.
      MMap(ngq, N, B) = Gq + sq4 + sq3 + sq2 + sq1;
    }
    std::swap(gq, ngq);
    std::swap(gp, ngp);
    if (M_out) {
      // M (=|+=) K Sᵀ over the step's stages [k0, k1); the last step, walked first, sets it.
      const int k0 = s == 0 ? 1 : 0, k1 = s == last ? 3 : 4;
      matmul(N, N, (k1 - k0) * B, K.data() + k0 * NB, trace.S().data() + (4 * s + k0) * NB, N,
             1, M_out->data(), s != last);
      *ge_out += K.rowwise().sum();
    }
    if (g_c) {
      // ∂S/∂c = q cos(c q), and a is linear in S: ∂a/∂c = J ∂S/∂c − (1 + d) ∘ ∂S/∂c.
      dSc = (Qs.array() * C.array()).matrix();
      da.noalias() = u.J * dSc;
      da -= (dSc.array().colwise() * u.dp1.array()).matrix();
      *g_c += (K.array() * da.array()).sum();
    }
  }
  // q(0) = x and p(0) = 0 is fixed, so the input cotangent is the cotangent of q(0).
  if (g_x) MMap(g_x, N, B) = MMap(gq, N, B);
}

const SystemInfo& OscillatorDevice::info() const { return oscillators_entry_info(); }

OscillatorDevice::OscillatorDevice(const OscillatorSpec& spec, const KnobValues& knobs,
                                   uint64_t seed)
    : ModelDevice({-std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::infinity(), -1.0, 1.0},
                  seed),
      spec_(spec) {
  // State: [queries, noise RNG (6 words), drift RNG (6 words), bits of the η walk].
  keep_state({&noise_rng_, &drift_rng_}, {&eta_walk_});
  set_knobs(info().with_settings(knobs, {{"steps", spec.steps}, {"dt", spec.dt}}));
}

void OscillatorDevice::apply_knobs() {
  spec_.steps = int(knobs_.at("steps"));
  spec_.dt = knobs_.at("dt");
  // J_extra is a property of this particular device: the same seed gives the same device.
  const double coupling_noise = knobs_.at("coupling_noise");
  // The pairs first (the same pairwise couplings as before the self-term), then each
  // pendulum's self-term.
  Rng rng(seed_);
  Mat extra = Mat::Zero(spec_.n, spec_.n);
  for (int i = 0; i < spec_.n; ++i)
    for (int j = i + 1; j < spec_.n; ++j)
      extra(i, j) = extra(j, i) = coupling_noise * rng.normal();
  for (int i = 0; i < spec_.n; ++i) extra(i, i) = coupling_noise * rng.normal();
  set_truth(OscillatorModel(spec_, knobs_.at("eta"), coupling_noise > 0 ? extra : Mat()));
  reseed_streams();
  eta_walk_ = 0.0;
}

void OscillatorDevice::run(const Mat& x, const Vec& theta, Mat& y) {
  const double input_noise = knobs_.at("input_noise_rad");
  const double readout_noise = knobs_.at("readout_noise_rad");
  const double eta_drift = knobs_.at("eta_drift");
  if (input_noise > 0) {
    Mat xn = x;
    noise_rng_.add_normal(xn.data(), xn.size(), input_noise);
    truth_->forward(xn, theta, y);
  } else {
    truth_->forward(x, theta, y);
  }
  if (readout_noise > 0) noise_rng_.add_normal(y.data(), y.size(), readout_noise);
  if (eta_drift > 0) {
    // A random walk in η: variance grows linearly with the queries answered.
    eta_walk_ += eta_drift * std::sqrt(double(x.cols()) / 1000.0) * drift_rng_.normal();
    resume();
  }
}

void OscillatorDevice::resume() { truth_->set_constants(Vec::Constant(1, drifted_eta())); }

// ---------------------------------------------------------------------------------------
// Catalog entry

const SystemInfo& oscillators_entry_info() {
  static const SystemInfo info{
    "oscillators",
    "Coupled oscillators",
    "A ring of nonlinear pendula, each pulled back by gravity (sin q) and coupled to the "
    "others by torsion springs. The data sets where each pendulum starts; the pendula swing "
    "for a fixed time and their final angles are the layer's output. Training tunes the "
    "springs and a constant torque on each pendulum. The reference system of the "
    "physics-aware training code (mcmahon-lab).",
    "layer input -> initial angle q_i(0) in radians (unbounded; |q| < pi "
    "keeps the pendula from flipping over), starting at rest",
    "couplings J_ij (upper triangle, |J| <= 1) and drives e_i (|e| <= 1), "
    "in units of the restoring torque",
    {8, 8},
    {
        {"steps", "integration steps", "", "setting", 1, 64, 16,
         "RK4 steps; T = steps x dt is how long the pendula swing", true},
        {"dt", "step length", "1/w0", "setting", 0.01, 0.5, 0.125,
         "RK4 step in units of the small-angle period / 2 pi"},
        {"eta", "nonlinearity mismatch", "", "mismatch", 0.0, 0.5, 0.0,
         "the device's restoring force is sin((1 + eta) q) while the twin assumes sin q"},
        {"coupling_noise", "unknown coupling", "", "structural", 0.0, 0.75, 0.0,
         "std of a fixed random extra coupling between all pendula, with a self-term that shifts "
         "each pendulum's own restoring force, that the twin leaves out"},
        {"readout_noise_rad", "readout noise", "rad", "noise", 0.0, 0.2, 0.0,
         "std of Gaussian noise added to every measured final angle"},
        {"input_noise_rad", "input noise", "rad", "noise", 0.0, 0.2, 0.0,
         "std of the error in setting each starting angle"},
        {"eta_drift", "nonlinearity drift", "per sqrt(1000 queries)", "drift", 0.0, 0.2, 0.0,
         "eta wanders as a random walk with this std per 1000 queries"},
    },
    // An electromechanical resonator array (MEMS-scale) at ~1 kHz: T = 2/w0 of motion plus
    // settling and readout is about 1 ms per query; ~1 mW of drive and readout electronics
    // over that time is ~1 uJ. Order-of-magnitude estimates, not a measured device.
    {1e-3, 1e-6, "estimate: ~1 kHz electromechanical resonators, ~1 ms and ~1 mW per query"},
  };
  return info;
}

CatalogEntry oscillators_entry() {
  return system_entry(oscillators_entry_info(), [](const Shape&, const KnobValues& k,
                                                   uint64_t seed, const Shape& asked) {
    if (asked.inputs && asked.outputs && asked.inputs != asked.outputs)
      throw std::invalid_argument("oscillators: one output per pendulum, so inputs must equal outputs");
    const int n = asked.inputs ? asked.inputs
                               : (asked.outputs ? asked.outputs
                                                : oscillators_entry_info().default_shape.inputs);
    if (n < 2 || n > 256) throw std::invalid_argument("oscillators: need 2 to 256 pendula");
    OscillatorSpec spec;
    spec.n = n;
    spec.steps = int(k.at("steps"));
    spec.dt = k.at("dt");
    return model_instance<OscillatorDevice, OscillatorTwin>(k, seed, spec);
  });
}

}  // namespace patlab
