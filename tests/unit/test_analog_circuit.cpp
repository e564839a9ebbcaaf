// The analog diode circuit emulator: its physics, its knobs, its gradients, its bookkeeping,
// and PAT through it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "patlab/emulators/analog_circuit.h"
#include "emulator_testing.h"

namespace patlab {
namespace {

const InstanceMaker make_circuit{circuit_entry()};

}  // namespace

TEST(AnalogCircuit, BelowTheKneeItIsALinearRlcCircuit) {
  // A small negative drive keeps the diode off (its reverse current I_s ~ 2.5 nA is 1e-5 of
  // the circuit's): v follows the underdamped series-RLC step response
  //   v(t) = u [1 − e^(−αt) (cos ω_d t + (α/ω_d) sin ω_d t)],  α = R / 2L, ω_d² = 1/LC − α².
  CircuitSpec spec;
  spec.inputs = 4;
  spec.params = 4;
  spec.outputs = 16;
  CircuitTwin twin(spec);
  const CircuitConstants k = CircuitConstants::nominal();
  const double u = -0.3, alpha = k.r_kohm / (2 * k.l_mh);
  const double wd = std::sqrt(1.0 / (k.l_mh * k.c_nf) - alpha * alpha);
  Mat y;
  twin.forward(Mat::Constant(4, 1, u), Vec::Constant(4, u), y);
  const double T_us = 8 * spec.segment_us;
  for (int j = 0; j < spec.outputs; ++j) {
    const double t = (j + 1) * T_us / spec.outputs;
    const double v =
        u * (1 - std::exp(-alpha * t) * (std::cos(wd * t) + alpha / wd * std::sin(wd * t)));
    EXPECT_NEAR(y(j, 0), v, 2e-5) << "sample " << j;
  }
}

TEST(AnalogCircuit, TheDiodeClampsAPositiveDrive) {
  // Hold 1 V for 16 us (over 5 damping times 2L/R): v settles where the resistor's current
  // equals the diode's, (u − v)/R = I_s (exp(v / nV_T) − 1), about 0.55 V, not at 1 V.
  SystemInstance s = make_circuit({});
  Mat y;
  s.twin->forward(Mat::Constant(8, 1, 1.0), Vec::Constant(8, 1.0), y);
  const CircuitConstants k = CircuitConstants::nominal();
  double lo = 0.0, hi = 1.0;  // bisection for the steady state
  for (int it = 0; it < 200; ++it) {
    const double v = 0.5 * (lo + hi);
    ((1.0 - v) / k.r_kohm > k.is_ma * (std::exp(v / k.nvt_v) - 1) ? lo : hi) = v;
  }
  std::printf("[circuit] steady state under 1 V: %.4f V (sampled %.4f V)\n", lo, y(7, 0));
  EXPECT_GT(lo, 0.45);
  EXPECT_LT(lo, 0.65);
  EXPECT_NEAR(y(7, 0), lo, 2e-3);
}

TEST(AnalogCircuit, Rk4ConvergesToAFineStepReference) {
  // The default step (1/24 us) against 16 times finer, at full-scale drives where the diode
  // is stiffest: the 4th-order integrator is within 1 mV.
  CircuitSpec spec, fine;
  fine.substeps = 16 * spec.substeps;
  CircuitTwin a(spec), b(fine);
  Rng rng(2);
  Mat x = uniform_matrix(8, 64, rng);
  x = x.array().sign().matrix();  // ±1 V
  const Vec theta = Vec::Constant(8, 1.0);
  Mat ya, yb;
  a.forward(x, theta, ya);
  b.forward(x, theta, yb);
  const double err = (ya - yb).cwiseAbs().maxCoeff();
  std::printf("[circuit] RK4 at 1/24 us vs 1/384 us: max error %.2e V\n", err);
  EXPECT_LT(err, 1e-3);
}

TEST(AnalogCircuit, TemperatureActsThroughTheDiode) {
  // A warmer junction conducts at a lower voltage (about −2 mV/K for silicon): the clamped
  // level under a positive drive falls, by 20-60 mV for 20 K.
  SystemInstance cold = make_circuit({}), warm = make_circuit({{"temp_offset_k", 20.0}});
  Mat yc, yw;
  cold.device->forward(Mat::Constant(8, 1, 1.0), Vec::Constant(8, 1.0), yc);
  warm.device->forward(Mat::Constant(8, 1, 1.0), Vec::Constant(8, 1.0), yw);
  const double drop = yc(7, 0) - yw(7, 0);
  std::printf("[circuit] clamp level falls %.1f mV for +20 K\n", 1e3 * drop);
  EXPECT_GT(drop, 0.02);
  EXPECT_LT(drop, 0.06);
}

TEST(AnalogCircuit, ReadoutNoiseHasTheRequestedStd) {
  const auto [x, yn, yc] = make_circuit.effect({{"readout_noise_v", 0.02}}, 4, 500);
  const double std = std::sqrt((yn - yc).squaredNorm() / double(yn.size()));
  const double mean = (yn - yc).mean();
  EXPECT_NEAR(std, 0.02, 0.001);
  EXPECT_NEAR(mean, 0.0, 0.001);
}

TEST(AnalogCircuit, AdcRoundsToItsLevels) {
  const int bits = 6;
  const double step = 4.0 / (std::ldexp(1.0, bits) - 1);  // 2^bits levels over [−2, 2] V
  const auto [x, yq, yc] = make_circuit.effect({{"adc_bits", bits}}, 5, 500);
  double worst_off_grid = 0;
  for (Eigen::Index i = 0; i < yq.size(); ++i) {
    const double level = (yq.data()[i] + 2.0) / step;
    worst_off_grid = std::max(worst_off_grid, std::abs(level - std::round(level)));
  }
  EXPECT_LT(worst_off_grid, 1e-9);
  EXPECT_LE((yq - yc).cwiseAbs().maxCoeff(), 0.5 * step + 1e-12);
  // Rounding error of a signal spread over many levels is uniform: std = step / √12.
  const double std = std::sqrt((yq - yc).squaredNorm() / double(yq.size()));
  EXPECT_NEAR(std, step / std::sqrt(12.0), 0.1 * step / std::sqrt(12.0));
}

TEST(AnalogCircuit, DacPlaysOnlyItsLevels) {
  // With a 3-bit DAC the device answers exactly as the twin does on drives rounded to the 8
  // levels over [−1, 1] V; out-of-range drives are clipped to the rails.
  SystemInstance q = make_circuit({{"dac_bits", 3}});
  Rng rng(6);
  const Mat x = uniform_matrix(8, 32, rng, -1.3, 1.3);
  const double step = 2.0 / 7.0;
  auto round_to_dac = [&](double v) {
    const double c = std::min(1.0, std::max(-1.0, v));
    return -1.0 + std::round((c + 1.0) / step) * step;
  };
  const Mat xr = x.unaryExpr(round_to_dac);
  const Vec tr = q.theta0.unaryExpr(round_to_dac);
  Mat yd, yt, yraw;
  q.device->forward(x, q.theta0, yd);
  q.twin->forward(xr, tr, yt);
  q.twin->forward(x, q.theta0, yraw);
  EXPECT_LT((yd - yt).norm(), 1e-12 * yt.norm());
  EXPECT_GT((yd - yraw).norm(), 1e-3 * yt.norm());  // and the rounding is visible
}

TEST(AnalogCircuit, DriftMovesTheOutputAndFollowsTheSeed) {
  const KnobValues drift = {{"temp_drift_k", 5.0}};
  SystemInstance a = make_circuit(drift, 7), b = make_circuit(drift, 7), c = make_circuit(drift, 8);
  Rng rng(7);
  const Mat probe = uniform_matrix(8, 4, rng);
  const Mat load = uniform_matrix(8, 100, rng);
  Mat ya0, ya, yb, yc, scratch;
  a.device->forward(probe, a.theta0, ya0);
  b.device->forward(probe, b.theta0, scratch);
  c.device->forward(probe, c.theta0, scratch);
  for (int i = 0; i < 20; ++i) {  // 2000 queries
    a.device->forward(load, a.theta0, scratch);
    b.device->forward(-load, b.theta0, scratch);  // same number of queries, other inputs
    c.device->forward(load, c.theta0, scratch);
  }
  a.device->forward(probe, a.theta0, ya);
  b.device->forward(probe, b.theta0, yb);
  c.device->forward(probe, c.theta0, yc);
  auto* dev_a = dynamic_cast<CircuitDevice*>(a.device.get());
  ASSERT_NE(dev_a, nullptr);
  const double moved = (ya - ya0).norm() / ya0.norm();
  std::printf("[circuit] temperature drift 5 K: board at %+.2f K, output moved %.4f after 2000 "
              "queries\n", dev_a->temperature_k() - kCircuitT0K, moved);
  EXPECT_GT(moved, 1e-3);
  // The drift depends on the query count and the seed, not on which inputs were asked.
  EXPECT_EQ(ya, yb);
  EXPECT_NE(ya, yc);
  // Without the drift knob the output never moves.
  SystemInstance still = make_circuit({}, 7);
  Mat ys0, ys;
  still.device->forward(probe, still.theta0, ys0);
  for (int i = 0; i < 20; ++i) still.device->forward(load, still.theta0, scratch);
  still.device->forward(probe, still.theta0, ys);
  EXPECT_EQ(ys0, ys);
}

TEST(AnalogCircuit, TwinGradientsMatchFiniteDifferences) {
  // Drives inside the range, where the diode conducts in some segments and not in others.
  Rng rng(10);
  CircuitSpec spec;
  spec.inputs = 5;
  spec.params = 5;
  spec.outputs = 6;
  CircuitTwin twin(spec);
  const Mat x = uniform_matrix(5, 4, rng, -0.9, 0.9);
  const Vec theta = twin.model().initial_theta(rng);
  const GradCheck r = check_twin_gradients(twin, x, theta, rng, 8);
  std::printf("[circuit] twin grad check: x %.2e theta %.2e\n", r.max_rel_error_x,
              r.max_rel_error_theta);
  EXPECT_LT(r.max_rel_error_x, 1e-6);
  EXPECT_LT(r.max_rel_error_theta, 1e-6);
}

TEST(AnalogCircuit, OracleGradientsMatchFiniteDifferences) {
  // The true physics with every mismatch and structural effect on: the ideal gradient.
  SystemInstance s = make_circuit({{"tolerance", 0.1},
                                   {"is_rel", 0.5},
                                   {"n_rel", 0.05},
                                   {"temp_offset_k", 10.0},
                                   {"adc_loading", 0.2},
                                   {"adc_compression", 0.8}},
                                  4);
  Rng rng(12);
  const Mat x = uniform_matrix(8, 3, rng, -0.9, 0.9);
  const GradCheck r = check_twin_gradients(*s.device->oracle(), x, s.theta0, rng, 8);
  std::printf("[circuit] oracle grad check: x %.2e theta %.2e\n", r.max_rel_error_x,
              r.max_rel_error_theta);
  EXPECT_LT(r.max_rel_error_x, 1e-6);
  EXPECT_LT(r.max_rel_error_theta, 1e-6);
}

TEST(AnalogCircuit, ConstantGradientsMatchFiniteDifferences) {
  // ∂<g_y, y>/∂c for the five calibratable log-constants (R, L, C, I_s, nV_T).
  CircuitSpec spec;
  spec.inputs = 4;
  spec.params = 4;
  spec.outputs = 5;
  CircuitTwin twin(spec);
  Rng rng(13);
  const Mat x = uniform_matrix(4, 3, rng, -0.9, 0.9);
  const Vec theta = twin.model().initial_theta(rng);
  const Mat g_y = normal_matrix(5, 3, rng);
  EXPECT_LT(twin.constants().norm(), 1e-15);
  const ConstantGradients g = constant_gradients(twin, x, theta, g_y);
  ASSERT_EQ(g.analytic.size(), 5);
  for (int c = 0; c < 5; ++c) {
    const double num = g.numeric[c], ana = g.analytic[c];
    EXPECT_LT(std::abs(num - ana) / (std::abs(num) + std::abs(ana) + 1e-12), 1e-6)
        << "constant " << c << ": numeric " << num << " analytic " << ana;
  }
}

TEST(AnalogCircuit, CalibrationLearnsTheBoardTemperature) {
  // Temperature acts only through I_s and nV_T, two of the twin's constants: fitting them to
  // measured data closes most of the gap a 20 K warmer board opens.
  SystemInstance s = make_circuit({{"temp_offset_k", 20.0}}, 5, {4, 4});
  auto* twin = dynamic_cast<CircuitTwin*>(s.twin.get());
  ASSERT_NE(twin, nullptr);
  Rng rng(14);
  const DeviceSamples train = collect_samples(*s.device, 8, 16, -1, 1, rng);
  const DeviceSamples held_out = collect_samples(*s.device, 4, 16, -1, 1, rng);
  const double before = twin_error(*twin, held_out);
  twin->fit(train, 150, 0.02, rng);
  const double after = twin_error(*twin, held_out);
  std::printf("[circuit] calibration: twin error %.4f -> %.4f\n", before, after);
  EXPECT_LT(after, 0.3 * before);
}

TEST(AnalogCircuit, PatLearnsMoonsOnAMismatchedNoisyBoard) {
  // affine(2 -> 8) -> circuit -> affine(8 -> 2), trained by PAT on a board with 10 % parts,
  // a 15 K warmer junction, ADC loading, 8-bit converters and readout noise.
  const KnobValues knobs = {{"tolerance", 0.1},     {"temp_offset_k", 15.0},
                            {"adc_loading", 0.2},   {"readout_noise_v", 0.005},
                            {"dac_bits", 8},        {"adc_bits", 8}};
  SystemInstance s = make_circuit(knobs, 2);
  Rng rng(3);
  Network net;
  net.add(std::make_unique<AffineLayer>(2, 8, rng));
  net.add(std::make_unique<PhysicalLayer>(s.device, s.twin, s.theta0));
  net.add(std::make_unique<AffineLayer>(8, 2, rng));
  const Dataset train = make_moons(300, 0.08, 1), test = make_moons(300, 0.08, 2);
  TrainConfig cfg;
  cfg.method = Method::PAT;
  Trainer trainer(net, train, cfg);
  const double before = trainer.evaluate(test, Pass::Device).accuracy;
  StepResult r;
  for (int i = 0; i < 300; ++i) r = trainer.step();
  const Evaluation after = trainer.evaluate(test, Pass::Device);
  std::printf("[circuit] PAT on moons: device accuracy %.3f -> %.3f, twin gap %.4f, %lld queries\n",
              before, after.accuracy, r.twin_gap, s.device->queries());
  EXPECT_GT(after.accuracy, 0.9) << "device accuracy after PAT";
  EXPECT_GT(after.accuracy, before + 0.05);
}

TEST(AnalogCircuit, CatalogEntryDescribesAndBuildsTheSystem) {
  const CatalogEntry e = circuit_entry();
  EXPECT_EQ(e.info.id, "circuit");
  EXPECT_GT(e.info.cost.latency_s, 0.0);
  EXPECT_GT(e.info.cost.energy_j, 0.0);
  EXPECT_FALSE(e.info.cost.source.empty());
  for (const KnobInfo& k : e.info.knobs) {
    EXPECT_LE(k.min, k.default_value) << k.key;
    EXPECT_LE(k.default_value, k.max) << k.key;
    if (k.kind != "setting") {
      EXPECT_EQ(k.default_value, 0.0) << k.key;
    }
  }
  SystemInstance s = make_circuit({}, 1, {3, 12});
  EXPECT_EQ(s.device->input_size(), 3);
  EXPECT_EQ(s.device->param_size(), 3);
  EXPECT_EQ(s.device->output_size(), 12);
  EXPECT_EQ(s.twin->param_size(), 3);
  EXPECT_EQ(s.theta0.size(), 3);
  EXPECT_LE(s.theta0.maxCoeff(), 1.0);
  EXPECT_GE(s.theta0.minCoeff(), -1.0);
  EXPECT_THROW(make_circuit({}, 1, {4, 200}), std::invalid_argument);  // 200 > 8 x 24 steps
  EXPECT_THROW(make_circuit({}, 1, {100, 8}), std::invalid_argument);
  EXPECT_THROW(make_circuit({{"tolerance", 0.9}}), std::invalid_argument);
  EXPECT_THROW(make_circuit({{"no_such_knob", 1.0}}), std::invalid_argument);
  EXPECT_THROW(make_circuit({{"dac_bits", 2.5}}), std::invalid_argument);
  // Settings are fixed once made; other knobs can turn at any time.
  EXPECT_THROW(s.device->set_knobs({{"substeps", 32}}), std::invalid_argument);
  auto* dev = dynamic_cast<CircuitDevice*>(s.device.get());
  ASSERT_NE(dev, nullptr);
  dev->set_knobs(KnobValues{{"substeps", 24}, {"tolerance", 0.1}});
  EXPECT_NE(dev->truth().constants().r_kohm, CircuitConstants::nominal().r_kohm);
  Mat y;
  EXPECT_THROW(s.twin->forward(Mat::Zero(4, 2), s.theta0, y), std::invalid_argument);
}

}  // namespace patlab
