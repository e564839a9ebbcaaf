// The speaker-driven plate emulator: its physics, knobs, gradients, state and PAT training.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "patlab/emulators/mechanical_plate.h"
#include "emulator_testing.h"

namespace patlab {
namespace {

const InstanceMaker make_plate{plate_entry()};

}  // namespace

TEST(MechanicalPlate, SingleModeStepResponseMatchesTheAnalyticSolution) {
  // One mode driven by a constant u = 1 from rest: the damped step response
  //   x(t) = φ (1 − e^{−ζωt} (cos ω_d t + ζω/ω_d sin ω_d t)),  ω_d = ω √(1 − ζ²),
  // with φ = b/ω² the static deflection, heard by the microphone as c x(t).
  PlateSpec spec;
  spec.inputs = 4;
  spec.params = 4;
  spec.outputs = 8;
  spec.modes = 1;
  spec.substeps = 32;  // ω h = 0.03: RK4's global error ~ (ω h)⁴ stays below 1e-7
  const PlateMode mode = nominal_plate_modes(1)[0];
  PlateModel model(spec, {mode}, PlateConstants{});
  Mat y;
  model.forward(Mat::Ones(4, 1), Vec::Ones(4), y);
  const double w = mode.omega0_rad_per_ms, z = mode.zeta0, wd = w * std::sqrt(1 - z * z);
  const double phi = mode.drive / (w * w);
  for (int k = 0; k < spec.outputs; ++k) {
    const double t = model.duration_ms() * (k + 1) / spec.outputs;
    const double x =
        phi * (1 - std::exp(-z * w * t) * (std::cos(wd * t) + z * w / wd * std::sin(wd * t)));
    EXPECT_NEAR(y(k, 0), mode.mic * x, 1e-7 * std::abs(mode.mic * phi)) << "sample " << k;
  }
}

TEST(MechanicalPlate, NominalTwinIsAffineInDataAndParameters) {
  // Linear modes and a linear speaker: y(x1 + x2, θ) = y(x1, θ) + y(x2, θ) − y(0, θ).
  // (The Duffing device breaks this: the nonlinearity a physical network can use.)
  SystemInstance s = make_plate({});
  SystemInstance d = make_plate({{"duffing", 0.05}});
  Rng rng(2);
  const Mat x1 = uniform_matrix(8, 4, rng, -0.5, 0.5), x2 = uniform_matrix(8, 4, rng, -0.5, 0.5);
  auto residual = [&](auto& f) {
    Mat a, b, c, zero;
    f(Mat(x1 + x2), a);
    f(x1, b);
    f(x2, c);
    f(Mat(Mat::Zero(8, 4)), zero);
    return (a - b - c + zero).norm() / a.norm();
  };
  auto twin = [&](const Mat& x, Mat& y) { s.twin->forward(x, s.theta0, y); };
  auto duff = [&](const Mat& x, Mat& y) { d.device->forward(x, d.theta0, y); };
  EXPECT_LT(residual(twin), 1e-12);
  EXPECT_GT(residual(duff), 1e-3);
}

TEST(MechanicalPlate, MicrophoneNoiseHasTheRequestedStd) {
  const auto [x, yn, yc] = make_plate.effect({{"mic_noise", 0.05}}, 4, 1000);
  const double std = std::sqrt((yn - yc).squaredNorm() / double(yn.size()));
  EXPECT_NEAR(std, 0.05, 0.002);
}

TEST(MechanicalPlate, GainNoiseScalesEachQueryByOneFactor) {
  // A linear plate from rest responds in proportion to the drive: each query's whole output
  // is the clean one times its gain g ~ 1 + N(0, σ²).
  const auto [x, yn, yc] = make_plate.effect({{"gain_noise", 0.1}}, 5, 2000);
  double sum = 0, sum2 = 0, worst_residual = 0;
  for (Eigen::Index b = 0; b < x.cols(); ++b) {
    const double g = yn.col(b).dot(yc.col(b)) / yc.col(b).squaredNorm();
    worst_residual =
        std::max(worst_residual, (yn.col(b) - g * yc.col(b)).norm() / yn.col(b).norm());
    sum += g - 1;
    sum2 += (g - 1) * (g - 1);
  }
  const double n = double(x.cols()), mean = sum / n;
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(std::sqrt(sum2 / n - mean * mean), 0.1, 0.005);
  EXPECT_LT(worst_residual, 1e-9);  // one factor per query, not per sample
}

TEST(MechanicalPlate, AdcRoundsToItsStep) {
  const double step = 0.05;
  const auto [x, yq, yc] = make_plate.effect({{"adc_step", step}}, 6, 1000);
  double worst_off_grid = 0;
  for (Eigen::Index i = 0; i < yq.size(); ++i)
    worst_off_grid =
        std::max(worst_off_grid, std::abs(yq.data()[i] / step - std::round(yq.data()[i] / step)));
  EXPECT_LT(worst_off_grid, 1e-9);
  EXPECT_LE((yq - yc).cwiseAbs().maxCoeff(), 0.5 * step + 1e-12);
  // Rounding error of a signal spread over many steps is uniform: std = step / √12.
  const double std = std::sqrt((yq - yc).squaredNorm() / double(yq.size()));
  EXPECT_NEAR(std, step / std::sqrt(12.0), 0.001);
}

TEST(MechanicalPlate, DriftMovesTheOutputAndFollowsTheSeed) {
  const KnobValues drift = {{"freq_drift", 0.01}};
  SystemInstance a = make_plate(drift, 7), b = make_plate(drift, 7), c = make_plate(drift, 8);
  SystemInstance still = make_plate({}, 7);
  Rng rng(7);
  const Mat probe = uniform_matrix(8, 4, rng);
  const Mat load = uniform_matrix(8, 500, rng), half = uniform_matrix(8, 250, rng);
  Mat ya0, ys0, ya, yb, yc, ys, tmp;
  a.device->forward(probe, a.theta0, ya0);
  b.device->forward(probe, b.theta0, tmp);
  c.device->forward(probe, c.theta0, tmp);
  still.device->forward(probe, still.theta0, ys0);
  for (int i = 0; i < 10; ++i) {  // 5000 queries each, batched differently for b
    a.device->forward(load, a.theta0, tmp);
    b.device->forward(half, b.theta0, tmp);
    b.device->forward(half, b.theta0, tmp);
    c.device->forward(load, c.theta0, tmp);
    still.device->forward(load, still.theta0, tmp);
  }
  a.device->forward(probe, a.theta0, ya);
  b.device->forward(probe, b.theta0, yb);
  c.device->forward(probe, c.theta0, yc);
  still.device->forward(probe, still.theta0, ys);
  const double moved = (ya - ya0).norm() / ya0.norm();
  std::printf("[plate] freq_drift 0.01: output moved %.4f after 5000 queries\n", moved);
  EXPECT_GT(moved, 0.01);
  // The drift is a function of the query count and the seed, not of the batching.
  EXPECT_EQ(ya, yb);
  EXPECT_GT((ya - yc).norm(), 1e-6);
  // Without drift nothing moves.
  EXPECT_EQ(ys0, ys);
}

TEST(MechanicalPlate, TwinGradientsMatchFiniteDifferences) {
  Rng rng(10);
  for (const Shape shape : {Shape{8, 8}, Shape{5, 11}}) {
    SystemInstance s = make_plate({{"param_segments", 3}}, 2, shape);
    const GradCheck r =
        check_twin_gradients(*s.twin, uniform_matrix(shape.inputs, 5, rng), s.theta0, rng);
    EXPECT_LT(r.max_rel_error_x, 1e-6);
    EXPECT_LT(r.max_rel_error_theta, 1e-6);
  }
}

TEST(MechanicalPlate, TruePhysicsGradientsMatchFiniteDifferences) {
  // The oracle: every effect the twin leaves out, still with an exact adjoint.
  SystemInstance s = make_plate({{"freq_mismatch", 0.1},
                                 {"damping_mismatch", 0.3},
                                 {"duffing", 0.08},
                                 {"extra_mode", 0.5},
                                 {"speaker_saturation", 1.0}},
                                4);
  Rng rng(12);
  const GradCheck r =
      check_twin_gradients(*s.device->oracle(), uniform_matrix(8, 5, rng), s.theta0, rng);
  EXPECT_LT(r.max_rel_error_x, 1e-6);
  EXPECT_LT(r.max_rel_error_theta, 1e-6);
}

TEST(MechanicalPlate, ConstantGradientsMatchFiniteDifferences) {
  PlateSpec spec;
  std::vector<PlateMode> modes = nominal_plate_modes(spec.modes);
  PlateConstants k;
  k.freq_rel = 0.05;
  k.damping_rel = -0.2;
  k.duffing = 0.05;
  k.saturation = 0.5;
  PlateTwin twin(PlateModel(spec, modes, k));
  Rng rng(13);
  const Mat x = uniform_matrix(8, 4, rng);
  const Vec theta = twin.model().initial_theta(rng);
  const Mat g_y = uniform_matrix(8, 4, rng);
  const ConstantGradients g = constant_gradients(twin, x, theta, g_y);
  ASSERT_EQ(g.analytic.size(), 3);
  for (int i = 0; i < 3; ++i)
    EXPECT_NEAR(g.analytic[i], g.numeric[i], 1e-6 * std::max(1.0, std::abs(g.numeric[i])))
        << "constant " << i;
}

TEST(MechanicalPlate, CalibrationLearnsTheDeviceConstants) {
  // Fitting the twin's constants to measured data shrinks the gap of a plate that is stiffer,
  // more damped and hardening.
  SystemInstance s =
      make_plate({{"freq_mismatch", 0.03}, {"damping_mismatch", 0.4}, {"duffing", 0.03}}, 6);
  Rng rng(14);
  const DeviceSamples train = collect_samples(*s.device, 4, 16, -1.0, 1.0, rng);
  const DeviceSamples test = collect_samples(*s.device, 4, 32, -1.0, 1.0, rng);
  auto& twin = dynamic_cast<PlateTwin&>(*s.twin);
  const double before = twin_error(twin, test);
  twin.fit(train, 80, 0.02, rng);
  const double after = twin_error(twin, test);
  std::printf("[plate] calibration: twin error %.4f -> %.4f, constants %.3f %.3f %.3f\n", before,
              after, twin.constants()[0], twin.constants()[1], twin.constants()[2]);
  EXPECT_LT(after, 0.3 * before);
}

TEST(MechanicalPlate, RejectsShapesAndKnobsItCannotTake) {
  EXPECT_THROW(make_plate({}, 1, Shape{0, 500}), std::invalid_argument);  // > integration steps
  EXPECT_THROW(make_plate({{"modes", 12}, {"substeps", 2}, {"segment_ms", 2.0}}),
               std::invalid_argument);  // step too long for the highest mode
  EXPECT_THROW(make_plate({{"duffing", 0.9}}), std::invalid_argument);  // out of range
  EXPECT_THROW(make_plate({{"no_such_knob", 1}}), std::invalid_argument);
  SystemInstance s = make_plate({});
  Mat y;
  EXPECT_THROW(s.twin->forward(Mat::Zero(7, 2), s.theta0, y), std::invalid_argument);
  EXPECT_THROW(s.twin->forward(Mat::Zero(8, 2), Vec::Zero(3), y), std::invalid_argument);
  // Settings are fixed when the system is made.
  EXPECT_THROW(s.device->set_knobs({{"substeps", 12}}), std::invalid_argument);
  for (int i = 0; i < s.theta0.size(); ++i) EXPECT_LE(std::abs(s.theta0[i]), 1.0);
}

TEST(MechanicalPlate, PatLearnsMoonsOnANonlinearMismatchedNoisyPlate) {
  const KnobValues knobs = {
      {"freq_mismatch", 0.03}, {"duffing", 0.05}, {"speaker_saturation", 1.0}, {"mic_noise", 0.01}};
  SystemInstance s = make_plate(knobs, 1);
  Rng rng(1);
  Network net;
  net.add(std::make_unique<AffineLayer>(2, s.device->input_size(), rng));
  net.add(std::make_unique<PhysicalLayer>(s.device, s.twin, s.theta0));
  net.add(std::make_unique<AffineLayer>(s.device->output_size(), 2, rng));
  const Dataset train = make_moons(400, 0.08, 1), test = make_moons(400, 0.08, 2);
  TrainConfig cfg;
  cfg.method = Method::PAT;
  Trainer trainer(net, train, cfg);
  const double before = trainer.evaluate(test, Pass::Device).accuracy;
  StepResult r;
  for (int i = 0; i < 600; ++i) r = trainer.step();
  const double after = trainer.evaluate(test, Pass::Device).accuracy;
  EXPECT_LT(before, 0.85);
  std::printf("[plate] PAT on moons: device accuracy %.3f -> %.3f, twin gap %.3f\n", before, after,
              r.twin_gap);
  EXPECT_GT(after, 0.9);
}

}  // namespace patlab
