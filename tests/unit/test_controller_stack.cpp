// The controller-stack emulator: a cascaded position/velocity PI loop on a servo motor.
// Its physics, its knobs, its gradients, its bookkeeping, and PAT tuning its gains.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "patlab/emulators/controller_stack.h"
#include "emulator_testing.h"
#include "gradient_testing.h"

namespace patlab {
namespace {

Vec mid_theta() {
  Vec theta(4);
  theta << 0.4, 0.1, 0.5, 0.2;
  return theta;
}

// A loop with `segments` reference levels, `samples` output angles and `steps` integration steps
// (the other settings as ControlSpec has them).
ControlSpec control_spec(int segments, int samples, int steps) {
  ControlSpec spec;
  spec.segments = segments;
  spec.samples = samples;
  spec.steps = steps;
  return spec;
}

// The default loop, shortened to 120 integration steps to keep finite differences quick.
ControlSpec short_spec() {
  ControlSpec spec;
  spec.steps = 120;
  return spec;
}

// Checks `model`'s gradients at five random staircases (Rng(seed)) and mid_theta(); prints the
// worst relative errors, saying whose they are.
GradCheck checked_gradients(const char* whose, const Twin& model, uint64_t seed) {
  Rng rng(seed);
  const GradCheck r = check_twin_gradients(model, uniform_matrix(4, 5, rng), mid_theta(), rng);
  std::printf("  %s gradient error: x %.2e, theta %.2e\n", whose, r.max_rel_error_x,
              r.max_rel_error_theta);
  return r;
}

// The outputs of a device with `knobs` and of one without (both seed 1) at the same 500 random
// staircases (drawn from Rng(seed)) and mid_theta().
struct Compared {
  Mat with, without;
};

Compared with_and_without(const KnobValues& knobs, uint64_t seed) {
  ControlSpec spec;
  ControlDevice knobbed(spec, knobs, 1), clean(spec, KnobValues{}, 1);
  Rng rng(seed);
  const Mat x = uniform_matrix(spec.segments, 500, rng);
  Compared c;
  knobbed.forward(x, mid_theta(), c.with);
  clean.forward(x, mid_theta(), c.without);
  return c;
}

}  // namespace

TEST(ControllerStack, LoopSettlesOnTheSetpointAndIsLinear) {
  // With integral action the type-1 loop settles on a constant setpoint with zero error; the
  // twin is a linear system, so scaling the reference scales the response.
  const ControlSpec spec = control_spec(1, 4, 1500);  // 1500 steps, 3 s: many time constants
  ControlTwin twin(spec);
  Mat x(1, 2);
  x << 0.7, -0.35;
  Mat y, y2;
  twin.forward(x, mid_theta(), y);
  EXPECT_NEAR(y(3, 0), 0.7, 1e-4);
  EXPECT_NEAR(y(3, 1), -0.35, 1e-4);
  twin.forward(2.0 * x, mid_theta(), y2);
  EXPECT_LT((y2 - 2.0 * y).cwiseAbs().maxCoeff(), 1e-12);
  // Dry friction (smoothed over 0.2 rad/s, so it acts as strong damping near rest) slows the
  // final creep: after 3 s the bench is further from the setpoint than the twin, but still
  // within 5 mrad.
  const KnobValues k = {{"coulomb_nm", 0.1}};
  ControlDevice device(spec, k, 1);
  Mat yd;
  device.forward(x, mid_theta(), yd);
  EXPECT_NEAR(yd(3, 0), 0.7, 5e-3);
  EXPECT_GT(std::abs(yd(3, 0) - 0.7), 10 * std::abs(y(3, 0) - 0.7));
}

TEST(ControllerStack, OutputsAreSampledAtEqualTimesAndFollowTheStaircase) {
  // A reference step up in the first half and down in the second: the angle is near each
  // level by the end of its half (the loop overshoots a little on the way).
  ControlTwin twin(control_spec(2, 4, 400));
  Mat x(2, 1);
  x << 0.8, -0.2;
  Mat y;
  twin.forward(x, mid_theta(), y);
  EXPECT_GT(y(0, 0), 0.5);  // a quarter in: most of the way to 0.8
  EXPECT_NEAR(y(1, 0), 0.8, 0.1);
  EXPECT_LT(y(2, 0), 0.0);  // a quarter after the step down, past 0 already
  EXPECT_NEAR(y(3, 0), -0.2, 0.1);
}

TEST(ControllerStack, SaturationCapsTheDriveTorque) {
  // First step from rest: the controllers command u = K_pv K_pp r, and the angle after one
  // semi-implicit Euler step is dt² τ / J. The twin applies τ = u; the bench with saturation 1
  // applies τ = s tanh(u / s) with s = 0.5 N m, as the knob's help says.
  const ControlSpec spec = control_spec(1, 20, 20);
  const Vec theta = mid_theta();
  const double u = kControlGainMax[2] * theta[2] * kControlGainMax[0] * theta[0] * 1.0;
  const KnobValues k = {{"saturation", 1.0}};
  ControlDevice bench(spec, k, 1);
  ControlTwin twin(spec);
  Mat x = Mat::Ones(1, 1), yd, yt;
  bench.forward(x, theta, yd);
  twin.forward(x, theta, yt);
  const double dt2_over_j = spec.dt_s * spec.dt_s / kControlInertiaKgm2;
  EXPECT_GT(u, 0.5);  // a kick the drive cannot deliver in full
  EXPECT_NEAR(yt(0, 0), dt2_over_j * u, 1e-12);
  EXPECT_NEAR(yd(0, 0), dt2_over_j * 0.5 * std::tanh(u / 0.5), 1e-12);
}

TEST(ControllerStack, SensorNoiseHasTheRequestedStd) {
  const Compared c = with_and_without({{"sensor_noise_rad", 0.03}}, 3);
  const Mat& yn = c.with;
  const Mat& yc = c.without;
  const double std = std::sqrt((yn - yc).squaredNorm() / double(yn.size()));
  const double mean = (yn - yc).mean();
  EXPECT_NEAR(std, 0.03, 0.0015);  // 4000 draws: ~1.1 % standard error of the std
  EXPECT_NEAR(mean, 0.0, 0.002);
}

TEST(ControllerStack, EncoderRoundsToWholeCounts) {
  const Compared c = with_and_without({{"encoder_step_rad", 0.02}}, 4);
  const Mat& yq = c.with;
  const Mat& yc = c.without;
  for (Eigen::Index i = 0; i < yq.size(); ++i) {
    const double counts = yq.data()[i] / 0.02;
    ASSERT_NEAR(counts, std::round(counts), 1e-9);
    ASSERT_LE(std::abs(yq.data()[i] - yc.data()[i]), 0.01 + 1e-12);
  }
  // Uniform rounding error: rms step / sqrt(12).
  const double rms = std::sqrt((yq - yc).squaredNorm() / double(yq.size()));
  EXPECT_NEAR(rms, 0.02 / std::sqrt(12.0), 0.0005);
}

TEST(ControllerStack, FrictionDriftMovesTheOutputAndReplays) {
  ControlSpec spec;
  const KnobValues k = {{"friction_drift_nm", 0.1}};
  ControlDevice a(spec, k, 5), b(spec, k, 5);
  Rng rng(5);
  const Mat x = uniform_matrix(spec.segments, 8, rng);
  Mat first, later, ya, yb;
  a.forward(x, mid_theta(), first);
  b.forward(x, mid_theta(), yb);
  const Mat filler = uniform_matrix(spec.segments, 500, rng);
  for (int i = 0; i < 10; ++i) {  // 5000 queries: friction up by 0.1 (1 − e^−0.5) ≈ 0.039 N m
    a.forward(filler, mid_theta(), ya);
    b.forward(filler, mid_theta(), yb);
  }
  a.forward(x, mid_theta(), later);
  b.forward(x, mid_theta(), yb);
  EXPECT_NEAR(a.drifted_coulomb_nm(), 0.1 * (1.0 - std::exp(-5016.0 / 10000.0)), 1e-12);
  const double moved = (later - first).norm() / first.norm();
  std::printf("  drift: relative output change after 5000 queries %.4f\n", moved);
  EXPECT_GT(moved, 0.005);
  EXPECT_EQ(later, yb);  // same seed, same history: the same drifted device
  // The oracle follows the drift.
  Mat yo;
  a.oracle()->forward(x, mid_theta(), yo);
  const KnobValues fixed = {{"coulomb_nm", a.drifted_coulomb_nm()}};
  ControlDevice reference(spec, fixed, 1);
  Mat yr;
  reference.forward(x, mid_theta(), yr);
  EXPECT_LT((yo - yr).cwiseAbs().maxCoeff(), 1e-12);
}

TEST(ControllerStack, TwinGradientsMatchFiniteDifferences) {
  ControlTwin twin(short_spec());
  EXPECT_TRUE(gradients_match(checked_gradients("twin", twin, 7)));
}

TEST(ControllerStack, TruePhysicsGradientsMatchFiniteDifferences) {
  // The oracle: friction, smooth saturation, delay and off-nominal constants, all at once.
  const KnobValues k = {{"inertia_err", 0.2}, {"damping_err", 0.5}, {"coulomb_nm", 0.05},
                        {"saturation", 0.8}, {"delay_steps", 3}};
  ControlDevice device(short_spec(), k, 1);
  EXPECT_TRUE(gradients_match(checked_gradients("oracle", *device.oracle(), 8)));
}

TEST(ControllerStack, ConstantGradientsMatchFiniteDifferences) {
  // ∂<g_y, y>/∂(inertia_err, damping_err), which calibration follows.
  Rng rng(9);
  const ControlSpec spec = short_spec();
  ControlTwin twin(spec);
  Vec c0(2);
  c0 << 0.1, 0.4;
  twin.set_constants(c0);
  const Mat x = uniform_matrix(4, 6, rng);
  const Mat g_y = normal_matrix(spec.samples, 6, rng);
  const ConstantGradients g = constant_gradients(twin, x, mid_theta(), g_y);
  ASSERT_EQ(g.analytic.size(), 2);
  for (int i = 0; i < 2; ++i)
    EXPECT_NEAR(g.analytic[i], g.numeric[i], 1e-6 * std::max(1.0, std::abs(g.numeric[i])))
        << "constant " << i;
}

TEST(ControllerStack, CalibrationFindsTheInertia) {
  // A parametric mismatch is learnable: fitting the twin's constants to measured samples
  // recovers the load's true inertia (the structural effects are off here).
  ControlSpec spec;
  const KnobValues k = {{"inertia_err", 0.4}, {"damping_err", 0.0}};
  ControlDevice device(spec, k, 1);
  Rng rng(10);
  const DeviceSamples s = collect_samples(device, 8, 16, -1.0, 1.0, rng);
  ControlTwin twin(spec);
  const double before = twin_error(twin, s);
  twin.fit(s, 150, 0.03, rng);
  const double after = twin_error(twin, s);
  std::printf("  calibration: inertia_err %.3f (true 0.4), twin error %.4f -> %.4f\n",
              twin.constants()[0], before, after);
  EXPECT_NEAR(twin.constants()[0], 0.4, 0.05);
  EXPECT_LT(after, 0.25 * before);
}

TEST(ControllerStack, CatalogEntryMakesAWorkingSystem) {
  const CatalogEntry e = control_entry();
  EXPECT_EQ(e.info.id, "control");
  for (const KnobInfo& k : e.info.knobs) {
    EXPECT_FALSE(k.help.empty()) << k.key;
    if (k.kind != "setting") {
      EXPECT_EQ(k.default_value, 0.0) << k.key;
    }
    EXPECT_GE(k.default_value, k.min) << k.key;
    EXPECT_LE(k.default_value, k.max) << k.key;
  }
  EXPECT_GT(e.info.cost.latency_s, 0.0);
  EXPECT_GT(e.info.cost.energy_j, 0.0);
  SystemInstance s = e.make(Shape{}, {{"coulomb_nm", 0.05}}, 3);
  EXPECT_EQ(s.device->input_size(), 4);
  EXPECT_EQ(s.device->output_size(), 8);
  EXPECT_EQ(s.twin->input_size(), 4);
  EXPECT_EQ(s.twin->output_size(), 8);
  EXPECT_EQ(s.theta0.size(), 4);
  EXPECT_TRUE((s.theta0.array() >= 0.0).all() && (s.theta0.array() <= 1.0).all());
  EXPECT_DOUBLE_EQ(s.device->knob("coulomb_nm"), 0.05);
  SystemInstance t = e.make(Shape{6, 3}, {}, 3);
  EXPECT_EQ(t.device->input_size(), 6);
  EXPECT_EQ(t.twin->output_size(), 3);
  Mat y;
  t.device->forward(Mat::Zero(6, 2), t.theta0, y);
  EXPECT_EQ(y.rows(), 3);
  EXPECT_THROW(e.make(Shape{100, 8}, {}, 1), std::invalid_argument);
  EXPECT_NO_THROW(e.make(Shape{}, {{"steps", 20}}, 1));  // 20 steps hold 4 segments, 8 samples
  EXPECT_THROW(e.make(Shape{40, 8}, {{"steps", 20}}, 1), std::invalid_argument);
  EXPECT_THROW(e.make(Shape{}, {{"saturation", 2.0}}, 1), std::invalid_argument);
  EXPECT_THROW(e.make(Shape{}, {{"delay_steps", 1.5}}, 1), std::invalid_argument);
  EXPECT_THROW(s.device->set_knobs(KnobValues{{"steps", 300}}), std::invalid_argument);
}

TEST(ControllerStack, CountsQueriesAndRejectsWrongSizes) {
  ControlSpec spec;
  ControlDevice device(spec, KnobValues{}, 1);
  Mat y;
  device.forward(Mat::Zero(4, 7), mid_theta(), y);
  device.forward(Mat::Zero(4, 5), mid_theta(), y);
  EXPECT_EQ(device.queries(), 12);
  ControlTwin twin(spec);
  EXPECT_THROW(twin.forward(Mat::Zero(5, 2), mid_theta(), y), std::invalid_argument);
  EXPECT_THROW(twin.forward(Mat::Zero(4, 2), Vec::Zero(3), y), std::invalid_argument);
  spec.steps = 3;
  EXPECT_THROW(ControlTwin bad(spec), std::invalid_argument);
}

TEST(ControllerStack, PatLearnsMoonsOnAFrictionalNoisyBench) {
  // affine(2 -> 4 reference levels) -> servo loop -> affine(8 angles -> 2 logits). The
  // input clamp to [−1, 1] rad and the bench's friction and saturation give the nonlinearity.
  const auto t0 = std::chrono::steady_clock::now();
  ControlSpec spec;
  const KnobValues k = {{"coulomb_nm", 0.05}, {"saturation", 0.5}, {"inertia_err", 0.2},
                        {"sensor_noise_rad", 0.005}};
  auto device = std::make_shared<ControlDevice>(spec, k, 12);
  auto twin = std::make_shared<ControlTwin>(spec);
  Rng rng(12);
  Network net;
  net.add(std::make_unique<AffineLayer>(2, spec.segments, rng));
  net.add(std::make_unique<PhysicalLayer>(device, twin, ControlModel::initial_theta(rng)));
  net.add(std::make_unique<AffineLayer>(spec.samples, 2, rng));
  const Dataset train = make_moons(400, 0.08, 1), test = make_moons(400, 0.08, 2);
  TrainConfig cfg;
  cfg.method = Method::PAT;
  cfg.optimizer.learning_rate = 0.1;
  Trainer trainer(net, train, cfg);
  const double before = trainer.evaluate(test, Pass::Device).accuracy;
  for (int i = 0; i < 400; ++i) trainer.step();
  const double after = trainer.evaluate(test, Pass::Device).accuracy;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  moons on the bench with PAT: accuracy %.3f -> %.3f (%.2f s)\n", before, after,
              secs);
  EXPECT_GT(after, 0.93);  // a linear classifier tops out near 0.87 on these moons
  EXPECT_GT(after, before + 0.1);
}

TEST(ControllerStack, PatTunesGainsToTrackBetterThanInSilicoUnderFrictionAndDelay) {
  // Gain tuning as regression: the targets are the response a designer wants (what the
  // nominal loop does with crisp gains θ*). In-silico tuning reaches θ* on the twin and stops,
  // leaving the bench's friction and delay uncorrected; PAT measures the bench and keeps
  // tuning until the real response matches.
  const auto t0 = std::chrono::steady_clock::now();
  ControlSpec spec;
  ControlTwin nominal(spec);
  Vec theta_star(4);
  theta_star << 0.6, 0.3, 0.6, 0.3;
  Rng rng(13);
  Dataset train, test;
  train.x = uniform_matrix(spec.segments, 256, rng);
  test.x = uniform_matrix(spec.segments, 256, rng);
  nominal.forward(train.x, theta_star, train.t);
  nominal.forward(test.x, theta_star, test.t);

  const KnobValues k = {{"coulomb_nm", 0.1}, {"delay_steps", 4}, {"sensor_noise_rad", 0.002}};
  Vec theta0(4);
  theta0 << 0.3, 0.05, 0.4, 0.1;
  auto run = [&](Method m, Vec* theta_out, double* twin_mse) {
    auto device = std::make_shared<ControlDevice>(spec, k, 13);
    auto twin = std::make_shared<ControlTwin>(spec);
    Network net;
    net.add(std::make_unique<PhysicalLayer>(device, twin, theta0));
    TrainConfig cfg;
    cfg.method = m;
    cfg.loss = LossKind::MeanSquared;
    cfg.optimizer.learning_rate = 0.02;
    Trainer trainer(net, train, cfg);
    for (int i = 0; i < 200; ++i) trainer.step();
    *theta_out = net.layer(0).params();
    if (twin_mse) *twin_mse = trainer.evaluate(test, Pass::Twin).loss;
    return trainer.evaluate(test, Pass::Device).loss;
  };
  Vec th_insilico, th_pat;
  double twin_mse_insilico = 0.0;
  const double mse_insilico = run(Method::InSilico, &th_insilico, &twin_mse_insilico);
  const double mse_pat = run(Method::PAT, &th_pat, nullptr);
  double mse_start;
  {
    auto device = std::make_shared<ControlDevice>(spec, k, 13);
    Mat y;
    device->forward(test.x, theta0, y);
    mse_start = (y - test.t).squaredNorm() / double(test.size());
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "  tracking MSE on the bench (rad^2 per trajectory): start %.5f, in-silico %.5f, "
      "PAT %.5f; in-silico on its twin %.5f (%.2f s)\n",
      mse_start, mse_insilico, mse_pat, twin_mse_insilico, secs);
  std::printf("  gains: in-silico [%.3f %.3f %.3f %.3f], PAT [%.3f %.3f %.3f %.3f]\n",
              th_insilico[0], th_insilico[1], th_insilico[2], th_insilico[3], th_pat[0], th_pat[1],
              th_pat[2], th_pat[3]);
  EXPECT_LT(mse_pat, 0.5 * mse_insilico);
  EXPECT_LT(mse_pat, 0.1 * mse_start);
  // In-silico did its job on the twin (its gains fit the twin well); the bench differs.
  EXPECT_LT(twin_mse_insilico, 0.1 * mse_start);
}

}  // namespace patlab
