// The coupled-oscillator emulator: its physics, its knobs, its bookkeeping.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "gradient_testing.h"
#include "patlab/core/layer.h"
#include "patlab/emulators/coupled_oscillators.h"
#include "patlab/emulators/parallel.h"

namespace patlab {
namespace {

// The angles after `steps` steps of `dt` of uncoupled, undriven pendulums (θ = 0) that start at
// rest at the angles x, one pendulum a row.
Mat swing(const Mat& x, int steps, double dt) {
  OscillatorSpec spec;
  spec.n = int(x.rows());
  spec.steps = steps;
  spec.dt = dt;
  OscillatorTwin twin(spec);
  Mat y;
  twin.forward(x, Vec::Zero(twin.param_size()), y);
  return y;
}

}  // namespace

TEST(Oscillators, UncoupledSmallAnglesSwingAsHarmonicOscillators) {
  // q̈ = −sin q ≈ −q for small q: q(T) = q(0) cos T, T = steps · dt = 40 · 0.05.
  Mat x(3, 1);
  x << 1e-3, -2e-3, 5e-4;
  const Mat y = swing(x, 40, 0.05);
  const double T = 40 * 0.05;
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(y(i, 0), x(i, 0) * std::cos(T), 1e-8);
}

TEST(Oscillators, LargeSwingsConserveEnergy) {
  // Uncoupled, undriven pendulum: E = ½ q̇² + 1 − cos q is conserved; from rest E = 1 − cos q0,
  // so the angle can never exceed |q0|, and RK4 keeps it very close.
  Mat x(2, 1);
  x << 2.0, -1.0;
  const Mat y = swing(x, 200, 0.05);
  EXPECT_LE(std::abs(y(0, 0)), 2.0 + 1e-6);
  EXPECT_LE(std::abs(y(1, 0)), 1.0 + 1e-6);
}

TEST(Oscillators, CouplingTransfersMotion) {
  // Only oscillator 0 starts displaced; a coupling J_01 must move oscillator 1.
  OscillatorSpec spec;
  spec.n = 2;
  OscillatorTwin twin(spec);
  Mat x(2, 1);
  x << 0.5, 0.0;
  Vec theta = Vec::Zero(twin.param_size());
  Mat y0, y1;
  twin.forward(x, theta, y0);
  theta[0] = 0.5;  // J_01
  twin.forward(x, theta, y1);
  EXPECT_NEAR(y0(1, 0), 0.0, 1e-12);
  EXPECT_GT(std::abs(y1(1, 0)), 0.05);
}

TEST(Oscillators, ReadoutNoiseHasTheRequestedStd) {
  OscillatorSpec spec;
  OscillatorDevice noisy(spec, {{"readout_noise_rad", 0.05}}, 1);
  OscillatorDevice clean(spec, KnobValues{}, 1);
  const Vec theta = Vec::Zero(noisy.param_size());
  const Mat x = Mat::Random(spec.n, 2000);
  Mat yn, yc;
  noisy.forward(x, theta, yn);
  clean.forward(x, theta, yc);
  const double std = std::sqrt((yn - yc).squaredNorm() / double(yn.size()));
  EXPECT_NEAR(std, 0.05, 0.002);
}

TEST(Oscillators, DeviceCountsOneQueryPerSample) {
  OscillatorSpec spec;
  OscillatorDevice device(spec, KnobValues{}, 1);
  Mat y;
  device.forward(Mat::Zero(spec.n, 7), Vec::Zero(device.param_size()), y);
  device.forward(Mat::Zero(spec.n, 5), Vec::Zero(device.param_size()), y);
  EXPECT_EQ(device.queries(), 12);
}

TEST(Oscillators, SameSeedSameDevice) {
  OscillatorSpec spec;
  const KnobValues k = {{"coupling_noise", 0.1}, {"readout_noise_rad", 0.01}};
  OscillatorDevice a(spec, k, 9), b(spec, k, 9);
  const Mat x = Mat::Random(spec.n, 4);
  Mat ya, yb;
  a.forward(x, Vec::Zero(a.param_size()), ya);
  b.forward(x, Vec::Zero(b.param_size()), yb);
  EXPECT_EQ(ya, yb);
}

TEST(Oscillators, RejectsWrongSizes) {
  OscillatorSpec spec;
  OscillatorTwin twin(spec);
  Mat y;
  EXPECT_THROW(twin.forward(Mat::Zero(spec.n + 1, 2), Vec::Zero(twin.param_size()), y),
               std::invalid_argument);
  EXPECT_THROW(twin.forward(Mat::Zero(spec.n, 2), Vec::Zero(3), y), std::invalid_argument);
  spec.n = 1;
  EXPECT_THROW(OscillatorTwin bad(spec), std::invalid_argument);
}

TEST(Oscillators, BatchInChunksEqualsSampleBySample) {
  // A batch of 24 runs as two column chunks (see parallel.h); every output, input gradient,
  // parameter gradient and η gradient must be what the samples give one at a time.
  OscillatorSpec spec;
  spec.n = 6;
  spec.steps = 5;
  spec.dt = 0.1;
  Rng rng(21);
  const OscillatorModel model(spec, 0.1, extra_coupling(6, rng, 0.1));
  Vec theta = model.initial_theta(rng);
  theta.tail(spec.n) = normal_matrix(spec.n, 1, rng, 0.3);
  const int batch = 24;
  ASSERT_EQ(column_chunks(batch), 2);
  const Mat x = normal_matrix(spec.n, batch, rng, 0.8), g_y = normal_matrix(spec.n, batch, rng);

  Mat y, y_vjp, g_x;
  Vec g_theta = Vec::Zero(model.param_size());
  double g_eta = 0.0;
  model.forward(x, theta, y);
  model.vjp(x, theta, g_y, &g_x, &g_theta, &g_eta, &y_vjp);

  Vec g_theta_1 = Vec::Zero(model.param_size());
  double g_eta_1 = 0.0;
  for (int b = 0; b < batch; ++b) {
    Mat yb, gxb;
    model.forward(x.col(b), theta, yb);
    model.vjp(x.col(b), theta, g_y.col(b), &gxb, &g_theta_1, &g_eta_1);
    for (int i = 0; i < spec.n; ++i) {
      EXPECT_NEAR(y(i, b), yb(i, 0), 1e-13);
      EXPECT_NEAR(y_vjp(i, b), yb(i, 0), 1e-13);
      EXPECT_NEAR(g_x(i, b), gxb(i, 0), 1e-12);
    }
  }
  EXPECT_LT((g_theta - g_theta_1).lpNorm<Eigen::Infinity>(), 1e-11 * g_theta_1.lpNorm<Eigen::Infinity>());
  EXPECT_NEAR(g_eta, g_eta_1, 1e-11 * std::abs(g_eta_1));
  EXPECT_GT(g_theta_1.norm(), 0.0);
  EXPECT_NE(g_eta_1, 0.0);
}

TEST(Oscillators, TwinGapReusesTheBackwardPassesPredictionOnlyWhileItHolds) {
  // PAT's backward pass integrates the twin at the device's inputs anyway; twin_gap takes that
  // prediction instead of integrating again, but never once the parameters have moved.
  Rng rng(22);
  OscillatorSpec spec;
  spec.n = 5;
  spec.steps = 4;
  auto device = std::make_shared<OscillatorDevice>(spec, KnobValues{{"eta", 0.2}}, 1);
  auto twin = std::make_shared<OscillatorTwin>(spec);
  PhysicalLayer layer(device, twin, twin->model().initial_theta(rng));
  const Mat u = normal_matrix(spec.n, 20, rng, 0.5);
  const Mat y = layer.forward(u, Pass::Device);
  const auto fresh_gap = [&] {
    Mat yt;
    twin->forward(u, layer.params(), yt);
    return (yt - y).squaredNorm() / y.squaredNorm();
  };
  layer.backward(normal_matrix(spec.n, 20, rng), Backprop::Twin);
  double num = 0.0, den = 0.0;
  ASSERT_TRUE(layer.twin_gap(&num, &den));
  EXPECT_GT(num, 0.0);
  EXPECT_NEAR(num / den, fresh_gap(), 1e-12);
  const double before = num / den;
  layer.params().head(10).array() += 0.3;  // as an optimiser step would
  num = den = 0.0;
  ASSERT_TRUE(layer.twin_gap(&num, &den));
  EXPECT_NEAR(num / den, fresh_gap(), 1e-12);
  EXPECT_GT(std::abs(num / den - before), 1e-6);  // the remembered prediction was not used
}

TEST(Oscillators, TheUnknownCouplingsSelfTermShiftsEachPendulumsOwnFrequency) {
  // Two uncoupled, undriven pendula with only a self-term X_ii (no pairwise coupling): each
  // swings alone, with restoring torque (1 + X_ii) sin q, so at small angles
  // q_i(T) = q_i(0) cos(√(1 + X_ii) T), while the twin (no X) keeps cos T. A diagonal that
  // cancelled, as in the form Σ_j X_ij (S_j − S_i), would leave both at cos T.
  OscillatorSpec spec;
  spec.n = 2;
  spec.steps = 40;
  spec.dt = 0.05;
  const double T = spec.steps * spec.dt;
  Mat X = Mat::Zero(2, 2);
  X(0, 0) = 0.3;
  X(1, 1) = -0.2;
  const OscillatorModel device(spec, 0.0, X), twin(spec);
  Mat x(2, 1);
  x << 1e-3, -2e-3;
  const Vec theta = Vec::Zero(twin.param_size());
  Mat yd, yt;
  device.forward(x, theta, yd);
  twin.forward(x, theta, yt);
  for (int i = 0; i < 2; ++i) {
    EXPECT_NEAR(yd(i, 0), x(i, 0) * std::cos(std::sqrt(1.0 + X(i, i)) * T), 1e-8) << i;
    EXPECT_NEAR(yt(i, 0), x(i, 0) * std::cos(T), 1e-8) << i;
    EXPECT_GT(std::abs(yd(i, 0) - yt(i, 0)), 0.1 * std::abs(x(i, 0))) << i;
  }
}

TEST(Oscillators, TheDevicesUnknownCouplingHasASelfTermOfTheKnobsScale) {
  // coupling_noise draws every pendulum's self-term too (the diagonal of J_extra), with the
  // pairs' scale, and the twin knows none of it.
  OscillatorSpec spec;
  spec.n = 32;
  const double sigma = 0.4;
  const OscillatorDevice device(spec, {{"coupling_noise", sigma}}, 5);
  const Mat& X = device.truth().J_extra();
  ASSERT_EQ(X.rows(), spec.n);
  const Vec d = X.diagonal();
  EXPECT_GT(d.cwiseAbs().minCoeff(), 0.0);
  const double std = std::sqrt(d.squaredNorm() / double(spec.n));
  EXPECT_NEAR(std, sigma, 0.15);
  EXPECT_TRUE(X.isApprox(X.transpose()));
  // One pendulum displaced, the others at rest, no trained coupling: the displaced pendulum's
  // own swing differs from the same device without its self-term (the pairs' springs alone),
  // by far more than rounding; the single-pendulum test above checks the size of the shift.
  Mat X_pairs = X;
  X_pairs.diagonal().setZero();
  const OscillatorModel pairs_only(device.truth().spec(), 0.0, X_pairs);
  Mat x = Mat::Zero(spec.n, spec.n);
  x.diagonal().setConstant(0.2);
  Mat y_full, y_pairs;
  device.truth().forward(x, Vec::Zero(device.param_size()), y_full);
  pairs_only.forward(x, Vec::Zero(device.param_size()), y_pairs);
  for (int i = 0; i < spec.n; ++i) EXPECT_GT(std::abs(y_full(i, i) - y_pairs(i, i)), 1e-5) << i;
}

}  // namespace patlab
