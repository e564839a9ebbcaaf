// Fitting twins to device data: calibrating physical constants, learned (MLP) twins, and
// refreshing the twin during PAT from the samples PAT measures anyway.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "patlab/core/gradient_check.h"
#include "patlab/core/trainer.h"
#include "patlab/core/twin_learning.h"
#include "patlab/datasets/toy2d.h"
#include "patlab/emulators/coupled_oscillators.h"

namespace patlab {
namespace {

OscillatorSpec small_spec() {
  OscillatorSpec s;
  s.n = 3;
  s.steps = 8;
  return s;
}

}  // namespace

TEST(TwinLearning, EtaGradientMatchesFiniteDifferences) {
  const OscillatorSpec spec = small_spec();
  OscillatorTwin twin(OscillatorModel(spec, 0.1, Mat()));
  Rng rng(1);
  const Vec theta = twin.model().initial_theta(rng);
  Mat x = Mat::Random(spec.n, 5), g_y = Mat::Random(spec.n, 5);
  Vec g = Vec::Zero(1);
  twin.constants_vjp(x, theta, g_y, g);
  auto L = [&](double eta) {
    Mat y;
    OscillatorModel(spec, eta, Mat()).forward(x, theta, y);
    return (g_y.array() * y.array()).sum();
  };
  const double eps = 1e-6, num = (L(0.1 + eps) - L(0.1 - eps)) / (2 * eps);
  EXPECT_NEAR(g[0], num, 1e-6 * std::abs(num) + 1e-9);
}

TEST(TwinLearning, CalibrationRecoversTheDevicesNonlinearity) {
  const OscillatorSpec spec = small_spec();
  const KnobValues knobs = {{"eta", 0.25}, {"readout_noise_rad", 0.002}};
  OscillatorDevice device(spec, knobs, 1);
  Rng rng(2);
  const DeviceSamples train = collect_samples(device, 16, 32, -1.5, 1.5, rng);
  const DeviceSamples held_out = collect_samples(device, 8, 32, -1.5, 1.5, rng);
  EXPECT_EQ(device.queries(), (16 + 8) * 32);
  OscillatorTwin twin(spec);
  const double before = twin_error(twin, held_out);
  twin.fit(train, 300, 0.01, rng);
  const double after = twin_error(twin, held_out);
  std::printf("calibration: eta %.4f (true 0.25); held-out twin error %.4f -> %.4f\n",
              twin.constants()[0], before, after);
  EXPECT_NEAR(twin.constants()[0], 0.25, 0.005);
  EXPECT_LT(after, 0.1 * before);
}

TEST(TwinLearning, MlpTwinGradientsMatchFiniteDifferences) {
  Rng rng(3);
  const OscillatorSpec spec = small_spec();
  auto base = std::make_shared<OscillatorTwin>(spec);
  MlpTwin twin(spec.n, base->param_size(), spec.n, {8, 8}, rng, base);
  // Give the correction non-zero output weights so its own Jacobian matters.
  DeviceSamples s;
  OscillatorDevice device(spec, {{"eta", 0.3}}, 1);
  s = collect_samples(device, 4, 16, -1, 1, rng);
  twin.fit(s, 50, 0.01, rng);
  const GradCheck r = check_twin_gradients(twin, Mat::Random(spec.n, 4),
                                           base->model().initial_theta(rng), rng);
  EXPECT_LT(r.max_rel_error_x, 1e-5);
  EXPECT_LT(r.max_rel_error_theta, 1e-5);
}

TEST(TwinLearning, ALearnedCorrectionBeatsThePhysicsTwinUnderStructuralMismatch) {
  // The extra coupling is structural: no value of η explains it, but a learned correction can.
  const OscillatorSpec spec = small_spec();
  const KnobValues knobs = {{"eta", 0.2}, {"coupling_noise", 0.3}};
  OscillatorDevice device(spec, knobs, 1);
  Rng rng(4);
  const DeviceSamples train = collect_samples(device, 64, 32, -1.5, 1.5, rng);
  const DeviceSamples held_out = collect_samples(device, 16, 32, -1.5, 1.5, rng);
  auto physics = std::make_shared<OscillatorTwin>(spec);
  const double nominal = twin_error(*physics, held_out);
  MlpTwin residual(spec.n, physics->param_size(), spec.n, {32, 32}, rng, physics);
  EXPECT_NEAR(twin_error(residual, held_out), nominal, 1e-12) << "a fresh correction is zero";
  residual.fit(train, 3000, 3e-3, rng);
  const double learned = twin_error(residual, held_out);
  std::printf("structural mismatch: held-out twin error physics %.4f, physics + MLP %.4f\n",
              nominal, learned);
  EXPECT_LT(learned, 0.5 * nominal);
}

TEST(TwinLearning, RefreshingDuringPatShrinksTheTwinGapWithoutExtraQueries) {
  OscillatorSpec spec;
  spec.n = 4;
  spec.steps = 8;
  const KnobValues knobs = {{"eta", 0.3}};
  auto run = [&](int refresh_every, double* gap_end, long long* queries) {
    Rng rng(5);
    auto device = std::make_shared<OscillatorDevice>(spec, knobs, 1);
    auto twin = std::make_shared<OscillatorTwin>(spec);
    Network net;
    net.add(std::make_unique<AffineLayer>(2, 4, rng));
    net.add(std::make_unique<PhysicalLayer>(device, twin, twin->model().initial_theta(rng)));
    net.add(std::make_unique<AffineLayer>(4, 2, rng));
    static const Dataset data = make_moons(200, 0.1, 1);
    TrainConfig cfg;
    cfg.twin_refresh_every = refresh_every;
    cfg.twin_refresh_iterations = 50;
    Trainer t(net, data, cfg);
    double first = 0;
    for (int i = 0; i < 60; ++i) {
      const StepResult r = t.step();
      if (i == 0) first = r.twin_gap;
      *gap_end = r.twin_gap;
    }
    *queries = device->queries();
    return first;
  };
  double gap_fixed, gap_refreshed;
  long long q_fixed, q_refreshed;
  const double start = run(0, &gap_fixed, &q_fixed);
  run(10, &gap_refreshed, &q_refreshed);
  std::printf("twin gap: start %.4f; after 60 steps fixed twin %.4f, refreshed twin %.4f\n", start,
              gap_fixed, gap_refreshed);
  EXPECT_LT(gap_refreshed, 0.2 * gap_fixed);
  EXPECT_EQ(q_refreshed, q_fixed);
}

TEST(TwinLearning, AppendKeepsTheNewestSamples) {
  DeviceSamples a{Mat::Constant(1, 3, 1.0), Mat::Zero(0, 3), Mat::Constant(1, 3, 1.0)};
  const DeviceSamples b{Mat::Constant(1, 2, 2.0), Mat::Zero(0, 2), Mat::Constant(1, 2, 2.0)};
  a.append(b, 4);
  ASSERT_EQ(a.size(), 4);
  EXPECT_EQ(a.x(0, 0), 1.0);
  EXPECT_EQ(a.x(0, 1), 1.0);
  EXPECT_EQ(a.x(0, 3), 2.0);
}

}  // namespace patlab
