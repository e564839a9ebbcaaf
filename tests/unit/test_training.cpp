// The PAT loop end to end on a small hybrid network: affine -> oscillators -> affine.
#include <gtest/gtest.h>

#include <memory>

#include "patlab/core/trainer.h"
#include "patlab/datasets/toy2d.h"
#include "patlab/emulators/coupled_oscillators.h"

namespace patlab {
namespace {

struct Setup {
  Network net;
  std::shared_ptr<OscillatorDevice> device;
};

std::unique_ptr<Setup> build(const KnobValues& knobs, uint64_t seed) {
  auto s = std::make_unique<Setup>();
  OscillatorSpec spec;
  Rng rng(seed);
  s->device = std::make_shared<OscillatorDevice>(spec, knobs, 1);
  auto twin = std::make_shared<OscillatorTwin>(spec);
  s->net.add(std::make_unique<AffineLayer>(2, spec.n, rng));
  s->net.add(std::make_unique<PhysicalLayer>(s->device, twin, twin->model().initial_theta(rng)));
  s->net.add(std::make_unique<AffineLayer>(spec.n, 2, rng));
  return s;
}

// The default training configuration with mini-batches of `batch_size`.
TrainConfig batches_of(int batch_size) {
  TrainConfig cfg;
  cfg.batch_size = batch_size;
  return cfg;
}

}  // namespace

TEST(Training, PatLearnsMoonsOnAMismatchedNoisyDevice) {
  const KnobValues knobs = {{"eta", 0.2}, {"coupling_noise", 0.1}, {"readout_noise_rad", 0.01}};
  auto s = build(knobs, 1);
  const Dataset train = make_moons(400, 0.08, 1), test = make_moons(400, 0.08, 2);
  TrainConfig cfg;
  cfg.method = Method::PAT;
  Trainer trainer(s->net, train, cfg);
  const double before = trainer.evaluate(test, Pass::Device).accuracy;
  for (int i = 0; i < 600; ++i) trainer.step();
  const Evaluation after = trainer.evaluate(test, Pass::Device);
  EXPECT_LT(before, 0.85);
  EXPECT_GT(after.accuracy, 0.9) << "device accuracy after PAT";
  // The per-sample predictions agree with the accuracy (a noisy device: within a few samples,
  // the noise is drawn again, but here both come from one pass).
  ASSERT_EQ(after.predicted.size(), test.size());
  EXPECT_EQ((after.predicted.array() == test.y.array()).count(),
            std::lround(after.accuracy * test.size()));
  EXPECT_GT(s->device->queries(), 600LL * cfg.batch_size);
}

TEST(Training, InSilicoNeverQueriesTheDeviceWhileTraining) {
  auto s = build(KnobValues{}, 2);
  const Dataset train = make_moons(200, 0.05, 3);
  TrainConfig cfg;
  cfg.method = Method::InSilico;
  Trainer trainer(s->net, train, cfg);
  for (int i = 0; i < 50; ++i) trainer.step();
  EXPECT_EQ(s->device->queries(), 0);
}

TEST(Training, SameSeedsGiveTheSameRun) {
  const KnobValues knobs = {{"readout_noise_rad", 0.02}};
  auto a = build(knobs, 3), b = build(knobs, 3);
  const Dataset train = make_moons(200, 0.05, 4);
  Trainer ta(a->net, train, TrainConfig{}), tb(b->net, train, TrainConfig{});
  for (int i = 0; i < 30; ++i) EXPECT_EQ(ta.step().loss, tb.step().loss);
  for (int l = 0; l < a->net.size(); ++l) EXPECT_EQ(a->net.layer(l).params(), b->net.layer(l).params());
}

TEST(Training, StepsCountEpochs) {
  auto s = build(KnobValues{}, 4);
  const Dataset train = make_moons(64, 0.05, 5);
  Trainer trainer(s->net, train, batches_of(16));
  StepResult r;
  for (int i = 0; i < 9; ++i) r = trainer.step();  // 4 steps per epoch
  EXPECT_EQ(r.step, 9);
  EXPECT_EQ(r.epoch, 2);
}

TEST(Training, ParametersStayInThePhysicalRange) {
  auto s = build(KnobValues{}, 5);
  const Dataset train = make_spiral(200, 0.05, 6);
  TrainConfig cfg;
  cfg.optimizer.learning_rate = 0.5;  // large steps push against the bounds
  Trainer trainer(s->net, train, cfg);
  for (int i = 0; i < 40; ++i) trainer.step();
  EXPECT_LE(s->net.layer(1).params().cwiseAbs().maxCoeff(), 1.0);
}

TEST(Training, RejectsDataOfTheWrongShape) {
  auto s = build(KnobValues{}, 6);
  Dataset bad;
  bad.x = Mat::Zero(3, 10);
  bad.y = Labels::Zero(10);
  bad.num_classes = 2;
  EXPECT_THROW(Trainer(s->net, bad, TrainConfig{}), std::invalid_argument);
}

TEST(Training, LoadStateRefusesOptimiserStateTheNextStepCouldNotUse) {
  // Found by the checkpoint fuzzer: Adam's first moment without its second (a damaged
  // checkpoint) was loaded, and the next step read the second past its end.
  auto s = build(KnobValues{}, 7);
  const Dataset train = make_moons(40, 0.05, 8);
  Trainer trainer(s->net, train, batches_of(8));
  trainer.step();
  const TrainerState good = trainer.save_state();
  EXPECT_NO_THROW(trainer.load_state(good));
  TrainerState no_second = good;
  no_second.optimizer.v[0].resize(0);
  EXPECT_THROW(trainer.load_state(no_second), std::invalid_argument);
  TrainerState short_v = good;
  short_v.optimizer.v.pop_back();
  EXPECT_THROW(trainer.load_state(short_v), std::invalid_argument);
  // A negative update count divides by zero in Adam's bias correction.
  TrainerState negative = good;
  negative.optimizer.t = -1;
  EXPECT_THROW(trainer.load_state(negative), std::invalid_argument);
  trainer.load_state(good);  // what was refused left nothing behind
  EXPECT_EQ(trainer.save_state().optimizer.t, good.optimizer.t);
  trainer.step();
}

}  // namespace patlab
