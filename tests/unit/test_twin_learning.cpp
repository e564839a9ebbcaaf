// Fitting twins to device data: calibrating physical constants, learned (MLP) twins, and
// refreshing the twin during PAT from the samples PAT measures anyway.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "gradient_testing.h"
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

// Samples of a small_spec() device with `knobs` (seed 1) at inputs uniform in [−1.5, 1.5], in
// groups of 32: `train` to fit a twin to, `held_out` (measured after them) to judge it on, and
// the device's query count after both.
struct Measured {
  DeviceSamples train, held_out;
  long long queries;
};

Measured measure(const KnobValues& knobs, int train_groups, int held_out_groups, Rng& rng) {
  OscillatorDevice device(small_spec(), knobs, 1);
  Measured m;
  m.train = collect_samples(device, train_groups, 32, -1.5, 1.5, rng);
  m.held_out = collect_samples(device, held_out_groups, 32, -1.5, 1.5, rng);
  m.queries = device.queries();
  return m;
}

// The twin's error on the held-out samples before and after fitting it to the training ones.
struct Fit {
  double before, after;
};

Fit fit_and_judge(FittableTwin& twin, const Measured& m, int iterations, double learning_rate,
                  Rng& rng) {
  const double before = twin_error(twin, m.held_out);
  twin.fit(m.train, iterations, learning_rate, rng);
  return {before, twin_error(twin, m.held_out)};
}

}  // namespace

TEST(TwinLearning, EtaGradientMatchesFiniteDifferences) {
  const OscillatorSpec spec = small_spec();
  OscillatorTwin twin(OscillatorModel(spec, 0.1, Mat()));
  Rng rng(1);
  const Vec theta = twin.model().initial_theta(rng);
  Mat x = Mat::Random(spec.n, 5), g_y = Mat::Random(spec.n, 5);
  const EtaGradient g = eta_gradient(twin, x, theta, g_y, 1e-6);
  EXPECT_NEAR(g.analytic, g.numeric, 1e-6 * std::abs(g.numeric) + 1e-9);
}

TEST(TwinLearning, CalibrationRecoversTheDevicesNonlinearity) {
  Rng rng(2);
  const Measured m = measure({{"eta", 0.25}, {"readout_noise_rad", 0.002}}, 16, 8, rng);
  EXPECT_EQ(m.queries, (16 + 8) * 32);
  OscillatorTwin twin(small_spec());
  const Fit fit = fit_and_judge(twin, m, 300, 0.01, rng);
  std::printf("calibration: eta %.4f (true 0.25); held-out twin error %.4f -> %.4f\n",
              twin.constants()[0], fit.before, fit.after);
  EXPECT_NEAR(twin.constants()[0], 0.25, 0.005);
  EXPECT_LT(fit.after, 0.1 * fit.before);
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
  EXPECT_TRUE(gradients_match(r, 1e-5));
}

TEST(TwinLearning, ALearnedCorrectionBeatsThePhysicsTwinUnderStructuralMismatch) {
  // The extra coupling is structural: no value of η explains it, but a learned correction can.
  const OscillatorSpec spec = small_spec();
  Rng rng(4);
  const Measured m = measure({{"eta", 0.2}, {"coupling_noise", 0.3}}, 64, 16, rng);
  auto physics = std::make_shared<OscillatorTwin>(spec);
  const double nominal = twin_error(*physics, m.held_out);
  MlpTwin residual(spec.n, physics->param_size(), spec.n, {32, 32}, rng, physics);
  const Fit fit = fit_and_judge(residual, m, 3000, 3e-3, rng);
  EXPECT_NEAR(fit.before, nominal, 1e-12) << "a fresh correction is zero";
  std::printf("structural mismatch: held-out twin error physics %.4f, physics + MLP %.4f\n",
              nominal, fit.after);
  EXPECT_LT(fit.after, 0.5 * nominal);
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
