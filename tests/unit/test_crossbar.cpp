// The analog in-memory crossbar emulator: its physics, knobs, gradients and PAT on it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "patlab/emulators/crossbar.h"
#include "emulator_testing.h"

namespace patlab {
namespace {

const InstanceMaker make_xbar{crossbar_entry()};

// The device's answer to a unit input on every row, one row per query: W_eff itself.
Mat measured_weights(PhysicalSystem& device, const Vec& theta) {
  Mat y;
  device.forward(Mat::Identity(device.input_size(), device.input_size()), theta, y);
  return y;
}

}  // namespace

TEST(Crossbar, TwinIsTheMatrixProductWithColumnMajorWeights) {
  CrossbarTwin twin(3, 2);
  Vec theta(6);
  theta << 0.1, -0.2, 0.3, 0.4, -0.5, 0.6;  // W = [0.1 0.3 -0.5; -0.2 0.4 0.6]
  Mat x(3, 1);
  x << 1.0, -0.5, 0.25;
  Mat y;
  twin.forward(x, theta, y);
  EXPECT_NEAR(y(0, 0), 0.1 - 0.15 - 0.125, 1e-15);
  EXPECT_NEAR(y(1, 0), -0.2 - 0.2 + 0.15, 1e-15);
}

TEST(Crossbar, ProgrammingErrorIsFixedPerDeviceWithTheRequestedStd) {
  const double sigma = 0.1;
  SystemInstance s = make_xbar({{"prog_noise_rel", sigma}}, 2, {64, 64});
  const Vec theta = Vec::Constant(64 * 64, 0.5);  // all on the G+ devices
  const Mat w1 = measured_weights(*s.device, theta), w2 = measured_weights(*s.device, theta);
  EXPECT_EQ(w1, w2) << "a fixed error: the device stays a deterministic function";
  const Mat rel = w1.array() / 0.5 - 1.0;
  const double mean = rel.mean();
  const double std = std::sqrt((rel.array() - mean).square().mean());
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(std, sigma, 0.005);
}

TEST(Crossbar, DeadCrossPointsReadZeroWhateverTheSign) {
  const double f = 0.1;
  SystemInstance s = make_xbar({{"stuck_fraction", f}}, 3, {64, 64});
  Vec theta = Vec::Constant(64 * 64, 0.5);
  const Mat wp = measured_weights(*s.device, theta);
  theta *= -1.0;  // now every weight lives on the G- devices: the same points are dead
  const Mat wn = measured_weights(*s.device, theta);
  EXPECT_EQ((wp.array() == 0.0).count(), std::lround(f * 64 * 64));
  EXPECT_TRUE(((wp.array() == 0.0) == (wn.array() == 0.0)).all());
  EXPECT_TRUE(((wp.array() == 0.0) || (wp.array() == 0.5)).all()) << "the rest is exact";
  // A larger fraction keeps the dead points and adds more.
  SystemInstance more = make_xbar({{"stuck_fraction", 2 * f}}, 3, {64, 64});
  const Mat wm = measured_weights(*more.device, -theta);
  EXPECT_EQ((wm.array() == 0.0).count(), std::lround(2 * f * 64 * 64));
  EXPECT_TRUE(((wp.array() != 0.0) || (wm.array() == 0.0)).all());
}

TEST(Crossbar, ReadNoiseIsRelativeToEachDevicesCurrent) {
  // One row driven: column i carries one device's current W_i0 x_0, so its relative std is σ.
  const double sigma = 0.05;
  SystemInstance s = make_xbar({{"read_noise_rel", sigma}}, 4);
  Mat x = Mat::Zero(8, 2000);
  x.row(0).setConstant(0.8);
  Mat y, ideal;
  s.device->forward(x, s.theta0, y);
  s.twin->forward(x, s.theta0, ideal);
  const Mat rel = (y - ideal).array() / ideal.array();
  EXPECT_NEAR(std::sqrt(rel.array().square().mean()), sigma, 0.05 * sigma);
  // Two rows: the variance adds, σ² ((W_i0 x_0)² + (W_i1 x_1)²).
  x.row(1).setConstant(-0.6);
  s.device->forward(x, s.theta0, y);
  s.twin->forward(x, s.theta0, ideal);
  const Eigen::Map<const Mat> W(s.theta0.data(), 8, 8);
  double z2 = 0.0;
  for (int b = 0; b < x.cols(); ++b)
    for (int i = 0; i < 8; ++i) {
      const double sd = sigma * std::hypot(W(i, 0) * 0.8, W(i, 1) * 0.6);
      z2 += std::pow((y(i, b) - ideal(i, b)) / sd, 2);
    }
  EXPECT_NEAR(std::sqrt(z2 / y.size()), 1.0, 0.03);
}

TEST(Crossbar, OutputNoiseHasTheRequestedStd) {
  SystemInstance s = make_xbar({{"out_noise", 0.03}}, 5);
  Rng rng(2);
  const Mat x = uniform_matrix(8, 1000, rng);
  Mat y, ideal;
  s.device->forward(x, s.theta0, y);
  s.twin->forward(x, s.theta0, ideal);
  EXPECT_NEAR(std::sqrt((y - ideal).squaredNorm() / double(y.size())), 0.03, 0.03 * 0.03);
}

TEST(Crossbar, ConvertersRoundAndClip) {
  Rng rng(3);
  const Mat x = uniform_matrix(8, 64, rng);
  // DAC: the device answers as the ideal product of the rounded inputs (3 bits: 7 steps).
  SystemInstance dac = make_xbar({{"dac_bits", 3}});
  Mat y, expect;
  dac.device->forward(x, dac.theta0, y);
  const Mat xq =
      x.unaryExpr([](double v) { return -1.0 + (2.0 / 7.0) * std::round((v + 1.0) * 3.5); });
  dac.twin->forward(xq, dac.theta0, expect);
  EXPECT_LT((y - expect).norm(), 1e-12 * expect.norm());
  // ADC: outputs sit on the grid of 2^bits levels over ±range, and clip at the range.
  SystemInstance adc = make_xbar({{"adc_bits", 4}, {"adc_range", 1.0}});
  adc.device->forward(x, adc.theta0, y);
  adc.twin->forward(x, adc.theta0, expect);
  const double step = 2.0 / 15.0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    const double level = (y.data()[i] + 1.0) / step;
    EXPECT_NEAR(level, std::round(level), 1e-9);
    EXPECT_LE(std::abs(y.data()[i]), 1.0 + 1e-12);
    if (std::abs(expect.data()[i]) < 1.0) {
      EXPECT_LE(std::abs(y.data()[i] - expect.data()[i]), 0.5 * step + 1e-12);
    }
  }
  EXPECT_GT(expect.cwiseAbs().maxCoeff(), 1.0) << "the test should exercise clipping";
  // More bits, smaller error.
  auto error = [&](const char* key, double bits) {
    SystemInstance s = make_xbar({{key, bits}});
    Mat yd, yt;
    s.device->forward(x, s.theta0, yd);
    s.twin->forward(x, s.theta0, yt);
    return (yd - yt).norm() / yt.norm();
  };
  for (const char* key : {"dac_bits", "adc_bits"}) {
    EXPECT_GT(error(key, 3), error(key, 6)) << key;
    EXPECT_GT(error(key, 6), error(key, 10)) << key;
    EXPECT_LT(error(key, 14), 1e-3) << key;
  }
}

TEST(Crossbar, ConductancesDriftAsAPowerLawInTime) {
  // After q queries t/t0 = 1 + q/1000; each device decays as (t/t0)^-ν_ij with ν_ij spread
  // 30 % around ν, so the mean log decay over many devices is ≈ −ν log(t/t0).
  const double nu = 0.06;
  SystemInstance s = make_xbar({{"drift_nu", nu}}, 6, {64, 64});
  const Vec theta = Vec::Constant(64 * 64, 0.5);
  const Mat w0 = measured_weights(*s.device, theta);
  EXPECT_EQ(w0, Mat::Constant(64, 64, 0.5)) << "at t = t0 nothing has drifted yet";
  Mat y;
  for (int i = 0; i < 20; ++i) s.device->forward(Mat::Zero(64, 450), theta, y);
  // 64 + 9000 queries answered: t/t0 = 10.064 for the next query.
  const Mat w1 = measured_weights(*s.device, theta);
  const double mean_log = (w1.array() / w0.array()).log().mean();
  EXPECT_NEAR(mean_log, -nu * std::log(10.064), 0.02 * nu * std::log(10.064));
  EXPECT_TRUE((w1.array() < w0.array() + 1e-15).all()) << "conductances only decay";
  // The oracle follows the same clock.
  Mat yo;
  s.device->oracle()->forward(Mat::Identity(64, 64), theta, yo);
  const Mat w2 = measured_weights(*s.device, theta);
  EXPECT_EQ(yo, w2);
  // Same seed, same chip, same drift.
  SystemInstance t = make_xbar({{"drift_nu", nu}}, 6, {64, 64});
  measured_weights(*t.device, theta);
  for (int i = 0; i < 20; ++i) t.device->forward(Mat::Zero(64, 450), theta, y);
  EXPECT_EQ(measured_weights(*t.device, theta), w1);
}

TEST(Crossbar, TwinGradientsMatchFiniteDifferences) {
  Rng rng(8);
  CrossbarTwin twin(5, 4);
  const GradCheck r =
      check_twin_gradients(twin, uniform_matrix(5, 6, rng), uniform_matrix(20, 1, rng), rng);
  EXPECT_LT(r.max_rel_error_x, 1e-6);
  EXPECT_LT(r.max_rel_error_theta, 1e-6);
}

TEST(Crossbar, TruePhysicsGradientsMatchFiniteDifferences) {
  // Programming error, stuck devices and drift: the oracle's exact gradient, at weights away
  // from W = 0 (where the G+ / G- switch makes a kink).
  SystemInstance s = make_xbar({{"prog_noise_rel", 0.2}, {"stuck_fraction", 0.1},
                                {"drift_nu", 0.05}}, 9);
  Rng rng(9);
  Mat y;
  s.device->forward(uniform_matrix(8, 500, rng), s.theta0, y);  // let it drift a little
  ASSERT_GT(s.theta0.cwiseAbs().minCoeff(), 0.01);
  const GradCheck r = check_twin_gradients(*s.device->oracle(), uniform_matrix(8, 4, rng), s.theta0,
                                           rng);
  EXPECT_LT(r.max_rel_error_x, 1e-6);
  EXPECT_LT(r.max_rel_error_theta, 1e-6);
  // The oracle is truly different from the twin here (the check is not of the twin again).
  Mat yt, yo;
  const Mat x = uniform_matrix(8, 4, rng);
  s.twin->forward(x, s.theta0, yt);
  s.device->oracle()->forward(x, s.theta0, yo);
  EXPECT_GT((yt - yo).norm(), 0.05 * yt.norm());
}

TEST(Crossbar, GainCalibrationLearnsTheAverageDrift) {
  // Drift scales all conductances down; the twin's one constant, a gain, follows it from
  // measured data, and its gradient matches finite differences.
  SystemInstance s = make_xbar({{"drift_nu", 0.1}}, 10);
  auto* twin = dynamic_cast<CrossbarTwin*>(s.twin.get());
  ASSERT_NE(twin, nullptr);
  Rng rng(10);
  Mat y;
  for (int i = 0; i < 10; ++i) s.device->forward(uniform_matrix(8, 1000, rng), s.theta0, y);
  const DeviceSamples data = collect_samples(*s.device, 4, 64, -1.0, 1.0, rng);
  const Mat g_y = uniform_matrix(8, 5, rng), x = uniform_matrix(8, 5, rng);
  Vec g = Vec::Zero(1);
  twin->constants_vjp(x, s.theta0, g_y, g);
  Mat yt;
  twin->forward(x, s.theta0, yt);
  EXPECT_NEAR(g[0], (g_y.array() * yt.array()).sum(), 1e-12) << "y is linear in the gain";
  const double before = twin_error(*twin, data);
  twin->fit(data, 300, 0.01, rng);
  const double after = twin_error(*twin, data);
  std::printf("[ crossbar gain calibration ] twin error %.4f -> %.4f, gain %.4f\n", before,
              after, twin->constants()[0]);
  EXPECT_GT(before, 0.1);
  EXPECT_LT(after, 0.5 * before);
  EXPECT_NEAR(twin->constants()[0], std::pow(11.0, -0.1), 0.03);  // t/t0 ≈ 11 after 10^4
}

TEST(Crossbar, TakesAnyTileShapeAndScalesItsCost) {
  const CatalogEntry e = crossbar_entry();
  SystemInstance s = e.make({3, 5}, {}, 1);
  EXPECT_EQ(s.device->input_size(), 3);
  EXPECT_EQ(s.device->output_size(), 5);
  EXPECT_EQ(s.device->param_size(), 15);
  EXPECT_LE(s.theta0.cwiseAbs().maxCoeff(), 1.0);
  auto* dev = dynamic_cast<EmulatedDevice*>(s.device.get());
  ASSERT_NE(dev, nullptr);
  EXPECT_DOUBLE_EQ(dev->info().cost.energy_j, 15e-12);
  EXPECT_DOUBLE_EQ(e.info.cost.energy_j, 64e-12);
  EXPECT_THROW(e.make({-1, 4}, {}, 1), std::invalid_argument);
  EXPECT_THROW(e.make({2000, 4}, {}, 1), std::invalid_argument);
  EXPECT_THROW(e.make({}, {{"adc_bits", 2.5}}, 1), std::invalid_argument);
  Mat y;
  EXPECT_THROW(s.device->forward(Mat::Zero(4, 1), s.theta0, y), std::invalid_argument);
  expect_every_knob_kind(e.info);
}

TEST(Crossbar, PatLearnsMoonsOnAnImperfectTile) {
  // The tile is linear, so the network puts digital tanh around it, as analog AI chips do:
  // affine -> tanh -> crossbar -> tanh -> affine. PAT trains through the real tile; in-silico
  // training of the same network, deployed on the tile, is printed for comparison.
  const KnobValues knobs = {{"prog_noise_rel", 0.2}, {"stuck_fraction", 0.1},
                            {"read_noise_rel", 0.03}, {"out_noise", 0.01},
                            {"adc_bits", 6},          {"dac_bits", 6}};
  const Dataset train = make_moons(400, 0.08, 1), test = make_moons(400, 0.08, 2);
  auto run = [&](Method method) {
    SystemInstance s = make_xbar(knobs, 2);
    Rng rng(12);
    Network net;
    net.add(std::make_unique<AffineLayer>(2, 8, rng, 2.0));
    net.add(std::make_unique<ActivationLayer>(8, Activation::Tanh));
    net.add(std::make_unique<PhysicalLayer>(s.device, s.twin, s.theta0));
    net.add(std::make_unique<ActivationLayer>(8, Activation::Tanh));
    net.add(std::make_unique<AffineLayer>(8, 2, rng));
    TrainConfig cfg;
    cfg.method = method;
    Trainer trainer(net, train, cfg);
    for (int i = 0; i < 600; ++i) trainer.step();
    return trainer.evaluate(test, Pass::Device).accuracy;
  };
  const double pat = run(Method::PAT), insilico = run(Method::InSilico);
  std::printf("[ crossbar moons ] device accuracy: PAT %.3f, in-silico deployed %.3f\n", pat,
              insilico);
  EXPECT_GT(pat, 0.9) << "device accuracy after PAT";
}

}  // namespace patlab
