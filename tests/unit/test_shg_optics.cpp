// The second-harmonic-generation emulator: its physics, knobs, gradients and PAT on it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "patlab/emulators/shg_optics.h"
#include "emulator_testing.h"

namespace patlab {
namespace {

const InstanceMaker make_shg{shg_entry()};

}  // namespace

TEST(ShgOptics, OnePixelDoublesItsFrequencyAndTwoPixelsAddTheirs) {
  // A single lit pixel j makes light only at the SH bin 2j, with power h_(j,2j)² a⁴ / N; two
  // lit pixels i, j add the sum-frequency bin i + j with amplitude 2 h a_i a_j.
  ShgSpec spec;
  spec.n_in = 4;
  spec.n_param = 3;
  spec.n_out = 13;  // one spectrometer pixel per SH bin: K = 2·7 − 1
  ShgModel model(spec, ShgPhysics{0.5, 0.0, 0.0, 1.0});
  const int N = 7;
  const double span = N - 1;
  auto h = [&](int j, int k) {
    const double s = (k - span) / span, d = (2.0 * j - k) / span;
    return std::exp(-(s * s + 0.25 * d * d) / (2 * 0.25));
  };
  Mat x = Mat::Zero(4, 1);
  const int j = model.data_pixels()[1];
  x(1, 0) = 0.7;
  Mat y;
  model.forward(x, Vec::Zero(3), y);
  for (int k = 0; k < 13; ++k)
    EXPECT_NEAR(y(k, 0), k == 2 * j ? std::pow(h(j, k) * 0.49, 2) / N : 0.0, 1e-14) << k;
  const int i = model.data_pixels()[3];
  x(3, 0) = -0.4;
  model.forward(x, Vec::Zero(3), y);
  EXPECT_NEAR(y(i + j, 0), std::pow(2 * h(j, i + j) * 0.7 * -0.4, 2) / N, 1e-14);
}

TEST(ShgOptics, DetectorNoiseHasTheRequestedStd) {
  const auto [x, yn, yc] = make_shg.effect({{"detector_noise", 0.02}}, 2, 1000);
  const double std = std::sqrt((yn - yc).squaredNorm() / double(yn.size()));
  EXPECT_NEAR(std, 0.02, 0.02 * 0.05);
}

TEST(ShgOptics, ShotNoiseVarianceGrowsWithTheSignal) {
  // Poisson statistics: Var(y) = q · E[y], so the normalized residual (y − ȳ)/√(q ȳ) has unit std.
  const double q = 0.01;
  const auto [x, yn, yc] = make_shg.effect({{"shot_noise", q}}, 3, 2000);
  double z2 = 0.0;
  int count = 0;
  for (Eigen::Index i = 0; i < yc.size(); ++i) {
    if (yc.data()[i] < 1e-3) continue;
    const double z = (yn.data()[i] - yc.data()[i]) / std::sqrt(q * yc.data()[i]);
    z2 += z * z;
    ++count;
  }
  ASSERT_GT(count, 5000);
  EXPECT_NEAR(std::sqrt(z2 / count), 1.0, 0.05);
}

TEST(ShgOptics, PowerNoiseScalesEachQueryByThePowerSquared) {
  // One power draw per query: every pixel of a sample is scaled by the same (1 + σn)², whose
  // std is √(4σ² + 2σ⁴).
  const double sigma = 0.05;
  const auto [x, yn, yc] = make_shg.effect({{"power_noise_rel", sigma}}, 4, 2000);
  double s1 = 0.0, s2 = 0.0;
  for (int b = 0; b < x.cols(); ++b) {
    const Vec ratio = yn.col(b).cwiseQuotient(yc.col(b));
    EXPECT_NEAR(ratio.maxCoeff(), ratio.minCoeff(), 1e-9) << "one factor per query";
    s1 += ratio[0];
    s2 += ratio[0] * ratio[0];
  }
  const double mean = s1 / x.cols(), std = std::sqrt(s2 / x.cols() - mean * mean);
  EXPECT_NEAR(std, std::sqrt(4 * sigma * sigma + 2 * std::pow(sigma, 4)), 0.006);
}

TEST(ShgOptics, ShaperBitsQuantizeTheAmplitudes) {
  Rng rng(5);
  const Mat x = uniform_matrix(8, 64, rng);
  auto error = [&](double bits) {
    SystemInstance s = make_shg({{"shaper_bits", bits}});
    Mat yd, yt;
    s.device->forward(x, s.theta0, yd);
    s.twin->forward(x, s.theta0, yt);
    return (yd - yt).norm() / yt.norm();
  };
  // 1 bit: every amplitude is ±1, so the device answers as the twin does at sign(x), sign(θ).
  SystemInstance one = make_shg({{"shaper_bits", 1}});
  Mat y1, ys;
  one.device->forward(x, one.theta0, y1);
  one.twin->forward(x.array().sign().matrix(), one.theta0.array().sign().matrix(), ys);
  EXPECT_LT((y1 - ys).norm(), 1e-12 * ys.norm());
  EXPECT_GT(error(3), error(6));
  EXPECT_GT(error(6), error(10));
  EXPECT_LT(error(12), 1e-3);
}

TEST(ShgOptics, PowerDriftMovesTheOutputAndRepeatsForASeed) {
  auto run = [](double drift, uint64_t seed) {
    SystemInstance s = make_shg({{"power_drift", drift}}, seed);
    Rng rng(6);
    const Mat x = uniform_matrix(8, 4, rng);
    Mat y, first;
    s.device->forward(x, s.theta0, first);
    for (int i = 0; i < 50; ++i) s.device->forward(uniform_matrix(8, 100, rng), s.theta0, y);
    s.device->forward(x, s.theta0, y);
    return (y - first).norm() / first.norm();
  };
  EXPECT_EQ(run(0.0, 1), 0.0);
  const double moved = run(0.1, 1);
  EXPECT_GT(moved, 0.02) << "after 5000 queries of a 0.1 / sqrt(1000) walk in log power";
  EXPECT_EQ(run(0.1, 1), moved);
  EXPECT_NE(run(0.1, 2), moved);
}

TEST(ShgOptics, OracleFollowsTheDriftedPower) {
  SystemInstance s = make_shg({{"power_drift", 0.2}, {"dispersion_rad", 0.7}}, 4);
  Rng rng(8);
  Mat y;
  for (int i = 0; i < 20; ++i) s.device->forward(uniform_matrix(8, 100, rng), s.theta0, y);
  const Mat x = uniform_matrix(8, 6, rng);
  Mat yo;
  s.device->oracle()->forward(x, s.theta0, yo);
  s.device->forward(x, s.theta0, y);  // drift updates after the batch is measured
  EXPECT_LT((y - yo).norm(), 1e-12 * y.norm());
}

TEST(ShgOptics, TwinGradientsMatchFiniteDifferences) {
  Rng rng(9);
  ShgSpec spec;
  spec.n_in = 5;
  spec.n_param = 6;
  spec.n_out = 7;
  ShgTwin twin(spec);
  const GradCheck r =
      check_twin_gradients(twin, uniform_matrix(5, 4, rng), uniform_matrix(6, 1, rng), rng);
  EXPECT_LT(r.max_rel_error_x, 1e-6);
  EXPECT_LT(r.max_rel_error_theta, 1e-6);
}

TEST(ShgOptics, TruePhysicsGradientsMatchFiniteDifferences) {
  // Dispersion (complex field), crosstalk, off bandwidth and power: the oracle's exact gradient.
  Rng rng(10);
  ShgSpec spec;
  spec.n_in = 6;
  spec.n_param = 5;
  spec.n_out = 9;
  ShgTwin truth(ShgModel(spec, ShgPhysics{0.37, 1.3, 0.08, 1.4}));
  const GradCheck r =
      check_twin_gradients(truth, uniform_matrix(6, 5, rng), uniform_matrix(5, 1, rng), rng);
  EXPECT_LT(r.max_rel_error_x, 1e-6);
  EXPECT_LT(r.max_rel_error_theta, 1e-6);
  // And the oracle of a device made from the catalog with every mismatch knob on.
  SystemInstance s = make_shg({{"bandwidth_error", 0.2}, {"dispersion_rad", 2.0},
                               {"crosstalk", 0.1}});
  const GradCheck o = check_twin_gradients(*s.device->oracle(), uniform_matrix(8, 3, rng), s.theta0,
                                           rng);
  EXPECT_LT(o.max_rel_error_x, 1e-6);
  EXPECT_LT(o.max_rel_error_theta, 1e-6);
}

TEST(ShgOptics, ConstantGradientsMatchFiniteDifferences) {
  Rng rng(11);
  ShgSpec spec;
  ShgTwin twin(ShgModel(spec, ShgPhysics{0.6, 0.9, 0.05, 1.2}));
  const Mat x = uniform_matrix(8, 5, rng), g_y = uniform_matrix(8, 5, rng);
  const Vec theta = uniform_matrix(16, 1, rng);
  const ConstantGradients g = constant_gradients(twin, x, theta, g_y);
  ASSERT_EQ(g.analytic.size(), 2);
  for (int i = 0; i < 2; ++i)
    EXPECT_NEAR(g.analytic[i], g.numeric[i], 1e-6 * std::abs(g.numeric[i])) << "constant " << i;
}

TEST(ShgOptics, CalibrationRecoversBandwidthAndPower) {
  // With only parametric mismatch (bandwidth off by 20 %), fitting the twin's
  // constants to measured data closes the twin gap.
  SystemInstance s = make_shg({{"bandwidth_error", 0.2}}, 5);
  auto* twin = dynamic_cast<ShgTwin*>(s.twin.get());
  ASSERT_NE(twin, nullptr);
  Rng rng(12);
  const DeviceSamples data = collect_samples(*s.device, 8, 32, -1.0, 1.0, rng);
  const double before = twin_error(*twin, data);
  twin->fit(data, 300, 0.01, rng);
  const double after = twin_error(*twin, data);
  EXPECT_GT(before, 0.05);
  EXPECT_LT(after, 0.1 * before);
  EXPECT_NEAR(twin->constants()[0], 0.6, 0.01);  // 0.5 · 1.2
  EXPECT_NEAR(twin->constants()[1], 1.0, 0.02);
}

TEST(ShgOptics, RejectsShapesAndKnobsItCannotTake) {
  const CatalogEntry e = shg_entry();
  EXPECT_THROW(e.make({8, 100}, {}, 1), std::invalid_argument);  // > 2N − 1 = 47 SH bins
  EXPECT_THROW(e.make({0, 0}, {{"crosstalk", 0.2}}, 1), std::invalid_argument);
  EXPECT_THROW(e.make({0, 0}, {{"no_such_knob", 0.0}}, 1), std::invalid_argument);
  SystemInstance s = e.make({3, 5}, {{"param_bins", 4}}, 1);
  EXPECT_EQ(s.device->input_size(), 3);
  EXPECT_EQ(s.device->output_size(), 5);
  EXPECT_EQ(s.device->param_size(), 4);
  EXPECT_EQ(s.theta0.size(), 4);
  EXPECT_LE(s.theta0.cwiseAbs().maxCoeff(), 1.0);
  Mat y;
  EXPECT_THROW(s.twin->forward(Mat::Zero(4, 1), s.theta0, y), std::invalid_argument);
  // The catalog entry is described as data, with every kind of knob and a cost.
  expect_every_knob_kind(e.info);
  EXPECT_GT(e.info.cost.latency_s, 0.0);
  EXPECT_FALSE(e.info.cost.source.empty());
}

TEST(ShgOptics, PatLearnsMoonsOnAMismatchedNoisyDevice) {
  // affine -> SHG -> affine on a device with every mismatch on and some noise. In-silico
  // training of the same network, deployed on the device, is printed for comparison.
  const KnobValues knobs = {{"bandwidth_error", 0.2}, {"dispersion_rad", 1.0},
                            {"crosstalk", 0.05},      {"detector_noise", 0.005},
                            {"power_noise_rel", 0.02}};
  const Dataset train = make_moons(400, 0.08, 1), test = make_moons(400, 0.08, 2);
  auto run = [&](Method method, double* before) {
    SystemInstance s = make_shg(knobs, 2);
    Rng rng(14);
    Network net;
    net.add(std::make_unique<AffineLayer>(2, 8, rng));
    net.add(std::make_unique<PhysicalLayer>(s.device, s.twin, s.theta0));
    net.add(std::make_unique<AffineLayer>(8, 2, rng));
    TrainConfig cfg;
    cfg.method = method;
    Trainer trainer(net, train, cfg);
    if (before) *before = trainer.evaluate(test, Pass::Device).accuracy;
    for (int i = 0; i < 600; ++i) trainer.step();
    return trainer.evaluate(test, Pass::Device).accuracy;
  };
  double before = 0.0;
  const double pat = run(Method::PAT, &before), insilico = run(Method::InSilico, nullptr);
  std::printf("[ shg moons ] device accuracy: untrained %.3f, PAT %.3f, in-silico deployed %.3f\n",
              before, pat, insilico);
  EXPECT_LT(before, 0.85);
  EXPECT_GT(pat, 0.9) << "device accuracy after PAT";
}

}  // namespace patlab
