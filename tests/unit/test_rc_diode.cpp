// The reference firmware's circuit as an emulated system (rc_diode): the twin is the firmware's
// own model (firmware/sim/pd_circuit.h), its gradients are right, knobs move the device and
// leave the twin alone, and the ranges hold. No files, no simulator: runs in wasm too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "patlab/emulators/catalog.h"
#include "patlab/emulators/rc_diode.h"
#include "emulator_testing.h"

// The circuit's one model, as the simulated chip uses it (plain C, header-only).
#include "pd_circuit.h"

namespace patlab {
namespace {

const InstanceMaker make_board{rc_diode_entry()};

Mat random_duties(int rows, int cols, Rng& rng, double lo = 0.02, double hi = 0.98) {
  Mat x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform(lo, hi);
  return x;
}

// The firmware model at duties x (2 x B) and θ: what the simulated chip's ADC is given.
Mat firmware_model(const Mat& x, const Vec& theta) {
  Mat y(3, x.cols());
  for (Eigen::Index b = 0; b < x.cols(); ++b) {
    const double d[PD_CHANNELS] = {x(0, b), x(1, b), theta[0], theta[1], theta[2], theta[3]};
    for (int j = 0; j < PD_NODES; ++j) y(j, b) = pd_node_volts(j, d);
  }
  return y;
}

double rel(const Mat& a, const Mat& b) { return (a - b).norm() / std::max(1e-300, b.norm()); }

}  // namespace

TEST(RcDiode, IsInTheCatalogWithTheFirmwaresNameAndShape) {
  const CatalogEntry& e = find_system(kRcDiodeId);
  EXPECT_EQ(e.info.id, "rc_diode");
  EXPECT_EQ(e.info.default_shape.inputs, 2);
  EXPECT_EQ(e.info.default_shape.outputs, 3);
  EXPECT_NEAR(e.info.cost.latency_s, 0.02, 1e-12) << "the firmware's ~20 ms per sample";
  const SystemInstance s = make_board();
  EXPECT_EQ(s.device->name(), "rc_diode");
  EXPECT_EQ(s.device->input_size(), 2);
  EXPECT_EQ(s.device->param_size(), 4);
  EXPECT_EQ(s.device->output_size(), 3);
}

TEST(RcDiode, TwinIsTheFirmwareModel) {
  // Bit for bit the function the simulated chip's ADC is fed with.
  const SystemInstance s = make_board();
  Rng rng(1);
  for (int trial = 0; trial < 4; ++trial) {
    const Mat x = random_duties(2, 32, rng, 0.0, 1.0);
    const Vec theta = random_duties(4, 1, rng, 0.0, 1.0).col(0);
    Mat y;
    s.twin->forward(x, theta, y);
    EXPECT_EQ(y, firmware_model(x, theta));
  }
  // The README's table: node A against x1 with everything else off.
  const double want[] = {0.0, 0.187, 0.352, 0.432, 0.488, 0.537};
  const double x1[] = {0.0, 0.1, 0.2, 0.3, 0.5, 1.0};
  for (int i = 0; i < 6; ++i) {
    Mat x(2, 1);
    x << x1[i], 0.0;
    Mat y;
    s.twin->forward(x, Vec::Zero(4), y);
    EXPECT_NEAR(y(0, 0), want[i], 0.0006) << "x1 = " << x1[i];
  }
}

TEST(RcDiode, NodeVoltageSolvesKirchhoffsLaw) {
  Rng rng(2);
  for (int trial = 0; trial < 50; ++trial) {
    double d[PD_CHANNELS];
    for (double& v : d) v = rng.uniform(0.0, 1.0);
    for (int j = 0; j < PD_NODES; ++j) {
      double g[PD_CHANNELS];
      pd_node_conductances(j, g);
      const double v = pd_node_volts(j, d);
      // The residual current is below what one ulp of V changes it by.
      const double slope = pd_node_conductance(g, 0.0, PD_IS, PD_N * PD_VT, v);
      EXPECT_LE(std::abs(pd_node_current(g, 0.0, PD_VCC, PD_IS, PD_N * PD_VT, d, v)),
                4 * slope * std::max(v, 1e-3) * 1e-15);
      EXPECT_GT(v, 0.0);
      EXPECT_LT(v, 0.65) << "the diode clamps every node";
    }
  }
}

TEST(RcDiode, TwinGradientsMatchFiniteDifferences) {
  // Implicit differentiation, checked where the diode is off, at its knee and conducting hard;
  // for the board's shape and the reduced ones the lab uses.
  Rng rng(3);
  for (const Shape shape : {Shape{2, 3}, Shape{2, 2}, Shape{1, 1}}) {
    SCOPED_TRACE(std::to_string(shape.inputs) + "x" + std::to_string(shape.outputs));
    const SystemInstance s = make_board({}, 1, shape);
    for (double hi : {0.1, 0.4, 0.95}) {
      const Mat x = random_duties(shape.inputs, 5, rng, 0.02, hi);
      const Vec theta = random_duties(4, 1, rng, 0.02, hi).col(0);
      const GradCheck c = check_twin_gradients(*s.twin, x, theta, rng);
      EXPECT_LT(c.max_rel_error_x, 1e-6) << "duties up to " << hi;
      EXPECT_LT(c.max_rel_error_theta, 1e-6) << "duties up to " << hi;
    }
  }
  // The device's true physics (the oracle), with every mismatch and the leakage.
  const SystemInstance m = make_board({{"r_tolerance", 0.05}, {"is_rel", 0.5}, {"n_rel", 0.1},
                                       {"temp_offset_k", 10}, {"vcc_rel", 0.03},
                                       {"vref_rel", -0.05}, {"adc_loading", 0.3}});
  const Mat x = random_duties(2, 6, rng);
  const GradCheck o = check_twin_gradients(*m.device->oracle(), x, m.theta0, rng);
  EXPECT_LT(o.max_rel_error_x, 1e-6);
  EXPECT_LT(o.max_rel_error_theta, 1e-6);
}

TEST(RcDiode, ConstantGradientsMatchFiniteDifferences) {
  RcDiodeTwin twin(2, 3);
  Rng rng(4);
  const Mat x = random_duties(2, 7, rng);
  const Vec theta = random_duties(4, 1, rng).col(0);
  const Mat gy = random_duties(3, 7, rng, -1.0, 1.0);
  const ConstantGradients g = constant_gradients(twin, x, theta, gy);
  ASSERT_EQ(g.analytic.size(), 4);
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(g.analytic[i], g.numeric[i], 1e-6 * std::max(1.0, std::abs(g.numeric[i])))
        << "constant " << i;
  EXPECT_LT(twin.constants().norm(), 1e-15);
}

TEST(RcDiode, EveryKnobMovesTheDeviceAndNotTheTwin) {
  const SystemInstance nominal = make_board();
  Rng rng(6);
  const Mat x = random_duties(2, 16, rng);
  Mat y0;
  nominal.twin->forward(x, nominal.theta0, y0);
  for (const KnobInfo& k : rc_diode_entry_info().knobs) {
    SCOPED_TRACE(k.key);
    const double v = k.integer ? 8.0 : k.default_value + 0.5 * (k.max - k.default_value);
    const SystemInstance s = make_board({{k.key, v}}, 2);
    Mat yd, yt;
    s.device->forward(x, nominal.theta0, yd);
    if (k.kind == "drift")  // the drift shows after use
      for (int i = 0; i < 40; ++i) s.device->forward(Mat(x.replicate(1, 16)), nominal.theta0, yd);
    s.twin->forward(x, nominal.theta0, yt);
    EXPECT_EQ(yt, y0) << "the twin is the nominal circuit whatever the knobs";
    Mat yd_fresh;
    s.device->forward(x, nominal.theta0, yd_fresh);
    EXPECT_GT(rel(yd_fresh, yt), 1e-5) << "the knob changes what the board reads";
  }
}

TEST(RcDiode, KnobsDoWhatTheySay) {
  Rng rng(7);
  const Mat x = random_duties(2, 24, rng);
  Vec theta(4);
  theta << 0.3, 0.1, 0.6, 0.2;
  Mat yt;
  make_board().twin->forward(x, theta, yt);
  // The reference: the firmware reports V / (1 + vref_rel).
  {
    Mat y;
    make_board({{"vref_rel", 0.1}}).device->forward(x, theta, y);
    EXPECT_LT(rel(y, yt / 1.1), 1e-14);
  }
  // A warmer board: a conducting node drops about 2 mV/K (a forward-biased silicon diode).
  {
    Mat xon(2, 1);
    xon << 1.0, 1.0;
    Mat cold, warm;
    make_board().device->forward(xon, Vec::Ones(4), cold);
    make_board({{"temp_offset_k", 10}}).device->forward(xon, Vec::Ones(4), warm);
    const double mv_per_k = (warm(0, 0) - cold(0, 0)) / 10 * 1e3;
    EXPECT_GT(mv_per_k, -2.6);
    EXPECT_LT(mv_per_k, -1.2);
  }
  // The Uno's converters: 8-bit PWM and 10-bit ADC. At duties on the PWM's grid, a reading is
  // the twin's voltage truncated to a 1.07 mV code.
  {
    Mat xg = x;
    for (Eigen::Index i = 0; i < xg.size(); ++i)
      xg.data()[i] = std::round(xg.data()[i] * 255) / 255;
    Vec tg = theta;
    for (Eigen::Index i = 0; i < tg.size(); ++i) tg[i] = std::round(tg[i] * 255) / 255;
    Mat y, ytg;
    make_board({{"pwm_bits", 8}, {"adc_bits", 10}}).device->forward(xg, tg, y);
    make_board().twin->forward(xg, tg, ytg);
    const double lsb = 1.1 / 1024;
    for (Eigen::Index i = 0; i < y.size(); ++i) {
      EXPECT_NEAR(y.data()[i], std::floor(ytg.data()[i] / lsb) * lsb, 1e-12);
    }
    // Off the grid the PWM's rounding adds at most half a duty step's worth of volts.
    make_board({{"pwm_bits", 8}, {"adc_bits", 10}}).device->forward(x, theta, y);
    EXPECT_LT((y - yt).cwiseAbs().maxCoeff(), lsb + 0.5 / 255 * 5.0);
  }
  // ADC noise: each reading averages 16 conversions, so its std is a quarter of theirs.
  {
    const Mat xr = x.col(0).replicate(1, 4000);
    Mat y;
    make_board({{"adc_noise_lsb", 2.0}}, 9).device->forward(xr, theta, y);
    const double mean = y.row(0).mean();
    const double sd = std::sqrt((y.row(0).array() - mean).square().mean());
    EXPECT_NEAR(sd, 2.0 * 1.1 / 1024 / 4, 0.1 * 2.0 * 1.1 / 1024 / 4);
    EXPECT_NEAR(mean, yt(0, 0), 5 * sd / std::sqrt(4000.0));
  }
}

TEST(RcDiode, RangesAndShapesAreRespected) {
  const SystemInstance s = make_board();
  EXPECT_EQ(s.device->input_min(), 0.0);
  EXPECT_EQ(s.device->input_max(), 1.0);
  EXPECT_EQ(s.device->param_min(), Vec::Zero(4));
  EXPECT_EQ(s.device->param_max(), Vec::Ones(4));
  for (uint64_t seed = 1; seed < 20; ++seed) {
    const SystemInstance t = make_board({}, seed);
    EXPECT_TRUE((t.theta0.array() >= 0.0).all() && (t.theta0.array() <= 1.0).all());
  }
  // A pin cannot drive beyond 0 and 100 %: the device clamps, the twin extrapolates smoothly.
  Mat x(2, 2), xc(2, 2);
  x << -0.3, 1.4, 0.5, 2.0;
  xc << 0.0, 1.0, 0.5, 1.0;
  Vec theta(4), thetac(4);
  theta << 0.2, -0.5, 1.5, 0.4;
  thetac << 0.2, 0.0, 1.0, 0.4;
  Mat y, yc;
  s.device->forward(x, theta, y);
  s.twin->forward(xc, thetac, yc);
  EXPECT_EQ(y, yc);
  Mat yt;
  s.twin->forward(x, theta, yt);
  EXPECT_TRUE(yt.allFinite());
  // Every reading stays in the firmware's declared range [0, 1.1] V.
  Rng rng(8);
  Mat yr;
  make_board({{"adc_noise_lsb", 4}, {"adc_bits", 10}, {"pwm_bits", 8}})
      .device->forward(random_duties(2, 200, rng, 0.0, 1.0), Vec::Ones(4), yr);
  EXPECT_GE(yr.minCoeff(), 0.0);
  EXPECT_LE(yr.maxCoeff(), 1.1);
  // Shapes: the board's, or fewer (the lab's stacks of equal widths); never more.
  EXPECT_NO_THROW(make_board({}, 1, Shape{1, 1}));
  EXPECT_NO_THROW(make_board({}, 1, Shape{2, 2}));
  EXPECT_THROW(make_board({}, 1, Shape{3, 3}), std::invalid_argument);
  EXPECT_THROW(make_board({}, 1, Shape{2, 4}), std::invalid_argument);
  EXPECT_THROW(make_board({{"pwm_bits", 8.5}}), std::invalid_argument);
  EXPECT_THROW(make_board({{"r_tolerance", 0.5}}), std::invalid_argument);
  Mat bad(3, 1);
  EXPECT_THROW(s.twin->forward(bad, theta, y), std::invalid_argument);
}

TEST(RcDiode, CalibrationLearnsTheReferenceAndSupply) {
  // A board with another reference and supply: fitting the twin's constants to measurements
  // closes most of the gap (what `patlab fit-twin` does for the firmware).
  const SystemInstance s = make_board({{"vref_rel", -0.06}, {"vcc_rel", 0.04}}, 3);
  Rng rng(9);
  const DeviceSamples train = collect_samples(*s.device, 16, 8, 0.0, 1.0, rng);
  const DeviceSamples held = collect_samples(*s.device, 8, 16, 0.0, 1.0, rng);
  auto* twin = dynamic_cast<RcDiodeTwin*>(s.twin.get());
  ASSERT_NE(twin, nullptr);
  const double before = twin_error(*twin, held);
  twin->fit(train, 150, 0.01, rng);
  const double after = twin_error(*twin, held);
  std::printf("      held-out twin error %.4f -> %.4f\n", before, after);
  EXPECT_GT(before, 0.03);
  EXPECT_LT(after, 0.2 * before);
}

}  // namespace patlab
