// patlab/emulators/coupled_oscillators.h: N coupled nonlinear pendula, the physical system of
// the reference implementation of physics-aware training (mcmahon-lab/Physics-Aware-Training).
//
// The physics, in units where the small-angle frequency is 1 (time t in 1/ω0):
//
//   q̈_i = −S_i + Σ_j J_ij (S_j − S_i) + e_i,     S_i = sin(q_i)
//
// (on the device plus the unknown coupling X: J + X in the sum, and −X_ii S_i, see below).
// Data enters as the initial angles q(0) = x (radians) with q̇(0) = 0; the device reports the
// angles q(T) after `steps` fourth-order Runge-Kutta steps of `dt`. The trainable parameters
// are the symmetric couplings J (zero diagonal) and the constant drives e:
//
//   θ = [J_01, J_02, …, J_0(N−1), J_12, …, J_(N−2)(N−1),  e_0, …, e_(N−1)]
//
// Reality differs from the twin as in the reference work:
//   * nonlinearity mismatch η: the device has S = sin((1+η) q), the twin sin q;
//   * an extra fixed random coupling X (J_extra, scale `coupling_noise`) the twin knows nothing
//     of, with a self-term: q̈_i gains Σ_j X_ij (S_j − S_i) − X_ii S_i. The pairwise part is a
//     set of unknown torsion springs between the pendula. The self-term is the part of a real
//     stray coupling that a spring model between pendula cannot hold: the pendula hang from one
//     compliant frame (Huygens' clocks on a beam; the shared substrate of a resonator array),
//     and pendulum i's own swing loads the frame under its own pivot, so its restoring force is
//     (1 + X_ii + Σ_j X_ij) S_i, its small-angle frequency off by a factor √(1 + X_ii + Σ_j X_ij),
//     independently of the pairwise springs. In the form Σ_j X_ij (S_j − S_i) a diagonal X_ii
//     cancels, so it is kept out of that sum and enters as its own term. X_ii ~ N(0, σ²) like
//     every pair (the pairs' own share, Σ_j X_ij, has std σ√(N−1): on large layers the
//     self-term is the smaller part); the twin's one calibratable constant η cannot absorb it
//     (it differs per pendulum and is linear in S, not a change of sin's argument);
//   * readout noise: Gaussian noise of std `readout_noise_rad` on every measured angle;
//   * input noise: the initial angles are set with Gaussian error `input_noise_rad`;
//   * drift: η wanders as a random walk, `eta_drift` per √(1000 queries).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "patlab/core/rng.h"
#include "patlab/core/vector_math.h"
#include "patlab/emulators/emulated_system.h"

namespace patlab {

struct OscillatorSpec {
  int n = 8;          // oscillators (= inputs = outputs)
  int steps = 16;     // RK4 steps
  double dt = 0.125;  // step, in units of 1/ω0; T = steps · dt
};

// The equations, integrated with RK4, and their exact vector-Jacobian product (the adjoint of
// the discrete RK4 steps). With nominal constants this is the twin; with the device's true
// constants it gives the device's exact gradient (the "ideal" oracle on an emulator).
class OscillatorModel {
 public:
  // eta and J_extra as above; J_extra may be empty (no extra coupling) or N x N symmetric, its
  // diagonal the self-term X_ii (the torque −X_ii S_i on pendulum i).
  OscillatorModel(const OscillatorSpec& spec, double eta, Mat J_extra);
  // The nominal model (the twin's): η = 0, no extra coupling.
  explicit OscillatorModel(const OscillatorSpec& spec) : OscillatorModel(spec, 0.0, Mat()) {}

  int n() const { return spec_.n; }
  int input_size() const { return spec_.n; }
  int output_size() const { return spec_.n; }
  int param_size() const { return spec_.n * (spec_.n - 1) / 2 + spec_.n; }
  const OscillatorSpec& spec() const { return spec_; }

  double eta() const { return c_ - 1.0; }
  const Mat& J_extra() const { return J_extra_; }

  void forward(const Mat& x, const Vec& theta, Mat& y) const;
  // g_eta, if given, receives += Σ_b ∂<g_y, y>/∂η (for calibrating η against device data);
  // y, if given, the model's output at x (the vjp integrates forward first anyway).
  void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta,
           double* g_eta = nullptr, Mat* y = nullptr) const;
  // The vjp hands out its forward pass (ModelTwin::forward_vjp).
  void forward_vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat& y, Mat* g_x,
                   Vec* g_theta) const {
    vjp(x, theta, g_y, g_x, g_theta, nullptr, &y);
  }

  // Calibration (ModelTwin): the one constant is η; the extra coupling, a structural
  // mismatch, stays unknown to it.
  Vec calibration() const { return Vec::Constant(1, eta()); }
  OscillatorModel calibrated(const Vec& c) const { return OscillatorModel(spec_, c[0], J_extra_); }
  void calibration_vjp(const Mat& x, const Vec& theta, const Mat& g_y, Vec& g_c) const {
    double g = 0.0;
    vjp(x, theta, g_y, nullptr, nullptr, &g);
    g_c[0] += g;
  }

  // A small random start: couplings ~ N(0, 0.1²), drives 0.
  Vec initial_theta(Rng& rng) const;

 private:
  struct Unpacked {
    Mat J;    // total coupling, symmetric, zero diagonal (trainable + extra)
    Vec dp1;  // 1 + Σ_j J_ij + X_ii (row sums of J plus the extra coupling's self-term)
    Vec e;    // drives
    PackedLhs Jp;  // J, packed once for the products of every RK4 stage
    uint64_t call = 0;  // the forward or vjp call it was unpacked for (new_call())
  };
  // Every RK4 stage of one integration, side by side: stage k of step s in the B columns
  // starting at (4 s + k) B. Q(): the angles at which the stage evaluated the acceleration;
  // S(): sin(c Q) there (the backward pass reuses them). The storage only grows, so a trace
  // kept between calls stops allocating once it has seen the largest layer.
  struct Trace {
    std::vector<double> store;
    Eigen::Index rows = 0, cols = 0;
    void shape(Eigen::Index r, Eigen::Index c) {
      rows = r;
      cols = c;
      if (store.size() < size_t(2 * r * c)) store.resize(size_t(2 * r * c));
    }
    Eigen::Map<Mat> Q() { return Eigen::Map<Mat>(store.data(), rows, cols); }
    Eigen::Map<Mat> S() { return Eigen::Map<Mat>(store.data() + rows * cols, rows, cols); }
  };
  // A chunk's share of the parameter gradient (see vjp_columns).
  struct Part {
    Mat M;
    Vec ge;
    Vec g;  // the chunk's g_θ
    double g_c = 0.0;
  };
  // What a forward or vjp call holds besides its scratch, kept by each thread per size N (a
  // network alternates between its layers' sizes), so a training step allocates none of it
  // again: the parameters unpacked on this thread, and (on the calling thread) the chunks'
  // parts.
  struct CallBuffers {
    Unpacked u;
    std::vector<Part> parts;
  };
  static CallBuffers& call_buffers(int N);
  // Fills u from θ (reusing u's storage).
  void unpack(const Vec& theta, Unpacked& u) const;
  // θ unpacked on the calling thread for the given call: every thread running a call's chunks
  // unpacks (and packs J) once itself, into memory of its own, rather than the caller doing it
  // alone before the chunks start and the other threads reading it from the caller's cache.
  const Unpacked& unpacked(const Vec& theta, uint64_t call) const;
  // A number no earlier call had.
  static uint64_t new_call();
  // Integrates B samples from q(0) = x, q̇(0) = 0 into q (N x B column major, may be x itself);
  // fills trace if given.
  void integrate(const double* x, Eigen::Index B, const Unpacked& u, double* q, Trace* trace) const;
  // The vjp of B samples (the batch or a chunk of it; N x B arrays, column major): g_x and y
  // (if not null) as in vjp; M = Σ kp Sᵀ and g_e = Σ kp over its stages and samples (see the
  // .cpp), g_c added into.
  void vjp_columns(const double* x, Eigen::Index B, const Unpacked& u, const double* g_y,
                   double* g_x, Mat* M, Vec* ge, double* g_c, double* y) const;
  // a(q) for B samples; S receives sin(c q).
  void accel(const double* q, Eigen::Index B, const Unpacked& u, double* a, double* S) const;

  OscillatorSpec spec_;
  double c_;      // 1 + η
  Mat J_extra_;   // N x N or empty
};

// OscillatorTwin(spec) is the nominal twin (η = 0, no extra coupling); the device's oracle
// is the same class around its true constants. Its one calibratable constant is η: fit()
// finds the device's nonlinearity from measured data.
using OscillatorTwin = ModelTwin<OscillatorModel>;

// The emulated device: the true equations with the knobs' mismatch, plus readout noise.
class OscillatorDevice : public ModelDevice<OscillatorModel> {
 public:
  // seed draws J_extra too: the same seed gives the same device.
  OscillatorDevice(const OscillatorSpec& spec, const KnobValues& knobs, uint64_t seed);

  const SystemInfo& info() const override;
  double drifted_eta() const { return knobs_.at("eta") + eta_walk_; }

 protected:
  void run(const Mat& x, const Vec& theta, Mat& y) override;
  void apply_knobs() override;
  void resume() override;

 private:
  OscillatorSpec spec_;
  double eta_walk_ = 0.0;
};

const SystemInfo& oscillators_entry_info();
// The catalog entry: id "oscillators"; Shape inputs = outputs = n (default 8).
CatalogEntry oscillators_entry();

}  // namespace patlab
