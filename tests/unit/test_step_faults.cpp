// How a training step fails (patlab/core/errors.h): a diverging update is a TrainingError that
// changes nothing, an interruption rolls the step back so completely (devices included) that
// the run goes on exactly as if it had never been interrupted.
#include <gtest/gtest.h>

#include <memory>

#include "patlab/core/trainer.h"
#include "patlab/datasets/toy2d.h"
#include "patlab/emulators/coupled_oscillators.h"

namespace patlab {
namespace {

struct Setup {
  Dataset train = make_moons(64, 0.1, 1);
  Network net;
  std::shared_ptr<OscillatorDevice> device;
  std::shared_ptr<OscillatorTwin> twin;
  std::unique_ptr<Trainer> trainer;
};

std::unique_ptr<Setup> build(const TrainConfig& cfg) {
  auto s = std::make_unique<Setup>();
  OscillatorSpec spec;
  spec.n = 4;
  // A noise stream: an undone step must undo its draws.
  const KnobValues knobs = {{"eta", 0.2}, {"readout_noise_rad", 0.02}};
  Rng rng(3);
  s->device = std::make_shared<OscillatorDevice>(spec, knobs, 1);
  s->twin = std::make_shared<OscillatorTwin>(spec);
  s->net.add(std::make_unique<AffineLayer>(2, spec.n, rng));
  s->net.add(std::make_unique<PhysicalLayer>(s->device, s->twin, s->twin->model().initial_theta(rng)));
  s->net.add(std::make_unique<AffineLayer>(spec.n, 2, rng));
  s->trainer = std::make_unique<Trainer>(s->net, s->train, cfg);
  return s;
}

TrainConfig small_batches() {
  TrainConfig cfg;
  cfg.batch_size = 8;
  return cfg;
}

// Everything a step may change, to compare before and after a rejected one.
struct Snapshot {
  Vec params;
  TrainerState trainer;
  std::vector<uint64_t> device;
  explicit Snapshot(const Setup& s)
      : params(s.net.get_params()), trainer(s.trainer->save_state()), device(s.device->save_state()) {}
  // A device's noise stream and query count move with every query it answers, as a real
  // device's would; only an interrupted step takes them back (for an exact resume).
  void expect_equal(const Snapshot& o, bool devices_too = true) const {
    EXPECT_EQ(params, o.params);
    EXPECT_EQ(trainer.steps, o.trainer.steps);
    EXPECT_EQ(trainer.cursor, o.trainer.cursor);
    EXPECT_EQ(trainer.order, o.trainer.order);
    EXPECT_EQ(trainer.rng, o.trainer.rng);
    EXPECT_EQ(trainer.optimizer.t, o.trainer.optimizer.t);
    ASSERT_EQ(trainer.optimizer.m.size(), o.trainer.optimizer.m.size());
    for (size_t i = 0; i < trainer.optimizer.m.size(); ++i) {
      EXPECT_EQ(trainer.optimizer.m[i], o.trainer.optimizer.m[i]);
      EXPECT_EQ(trainer.optimizer.v[i], o.trainer.optimizer.v[i]);
    }
    if (devices_too) EXPECT_EQ(device, o.device);
  }
};

}  // namespace

TEST(StepFaults, AScheduleThatBlowsUpIsATrainingErrorThatKeepsTheLastGoodState) {
  // A step schedule multiplying the rate by 1e200 every 100 steps: fine for 100 steps, then
  // the parameters fly off, and by step 201 the rate itself is infinite.
  TrainConfig cfg = small_batches();
  cfg.schedule.kind = Schedule::Kind::Step;
  cfg.schedule.step_every = 100;
  cfg.schedule.gamma = 1e200;
  auto s = build(cfg);
  for (int i = 0; i < 100; ++i) s->trainer->step();
  long long failed_at = -1;
  std::string message;
  for (int i = 100; i < 300 && failed_at < 0; ++i) {
    const Snapshot before(*s);
    try {
      s->trainer->step();
    } catch (const TrainingError& e) {
      failed_at = i + 1;
      message = e.what();
      Snapshot(*s).expect_equal(before, false);  // nothing of the failed step was kept...
    }
  }
  ASSERT_GT(failed_at, 100) << "the run never diverged";
  EXPECT_LE(failed_at, 201);
  EXPECT_TRUE(s->net.get_params().allFinite());  // ...so the state is still a good one
  EXPECT_NE(message.find("step " + std::to_string(failed_at) + ":"), std::string::npos) << message;
  EXPECT_NE(message.find("learning rate"), std::string::npos) << message;
  // It is not a device fault: nobody should wait for the device to come back.
  EXPECT_THROW(s->trainer->step(), TrainingError);
}

TEST(StepFaults, AnOptimiserSettingOutOfRangeChangesNothing) {
  TrainConfig cfg = small_batches();
  cfg.optimizer.beta2 = -5.0;  // the schema refuses it; the core must still not be corrupted
  auto s = build(cfg);
  bool failed = false;
  // v <- -5 v + 6 g^2 grows like 5^t: Adam's bias correction keeps v/c2 positive for a while,
  // until it overflows (5^441 > 1e308).
  for (int i = 0; i < 1000 && !failed; ++i) {
    const Snapshot before(*s);
    try {
      s->trainer->step();
    } catch (const TrainingError& e) {
      failed = true;
      Snapshot(*s).expect_equal(before, false);
      EXPECT_NE(std::string(e.what()).find("not finite"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(failed) << "beta2 = -5 makes Adam's second moment overflow";
}

TEST(StepFaults, ANonFiniteInputToTheDeviceIsTheTrainingsFaultNotTheDevices) {
  auto s = build(small_batches());
  PhysicalLayer& layer = *s->net.physical_layers()[0];
  Mat u = Mat::Zero(4, 3);
  u(2, 1) = std::numeric_limits<double>::infinity();
  const long long queries = s->device->queries();
  EXPECT_THROW(layer.forward(u, Pass::Device), TrainingError);
  EXPECT_EQ(s->device->queries(), queries) << "the device was never asked";
}

TEST(StepFaults, AnInterruptedSpsaStepIsUndoneAndTheRunContinuesExactly) {
  TrainConfig cfg = small_batches();
  cfg.method = Method::SPSA;
  cfg.spsa_samples = 20;  // 40 device evaluations in one step
  auto whole = build(cfg);
  for (int i = 0; i < 6; ++i) whole->trainer->step();

  auto s = build(cfg);
  for (int i = 0; i < 3; ++i) s->trainer->step();
  const Snapshot before(*s);
  int asked = 0;
  s->trainer->set_interrupt([&] { return ++asked > 7; });  // stop in the middle of the step
  EXPECT_THROW(s->trainer->step(), Interrupted);
  EXPECT_EQ(asked, 8) << "asked before every device evaluation, and stopped at once";
  Snapshot(*s).expect_equal(before);
  s->trainer->set_interrupt(nullptr);
  for (int i = 3; i < 6; ++i) s->trainer->step();
  EXPECT_EQ(s->net.get_params(), whole->net.get_params());
  EXPECT_EQ(s->device->save_state(), whole->device->save_state());
}

TEST(StepFaults, AnInterruptedTwinRefitIsUndoneToo) {
  TrainConfig cfg = small_batches();
  cfg.twin_refresh_every = 2;
  cfg.twin_refresh_iterations = 50;
  cfg.twin_refresh_samples = 32;
  auto whole = build(cfg);
  for (int i = 0; i < 4; ++i) whole->trainer->step();

  auto s = build(cfg);
  s->trainer->step();
  const Snapshot before(*s);
  const Vec twin_before = s->twin->fitted_state();
  const long long recorded_before = s->net.physical_layers()[0]->recorded().size();
  int asked = 0;
  s->trainer->set_interrupt([&] { return ++asked > 10; });  // step 2 refits: stop inside the fit
  EXPECT_THROW(s->trainer->step(), Interrupted);
  Snapshot(*s).expect_equal(before);
  EXPECT_EQ(s->twin->fitted_state(), twin_before);
  EXPECT_EQ(s->net.physical_layers()[0]->recorded().size(), recorded_before);
  s->trainer->set_interrupt(nullptr);
  for (int i = 1; i < 4; ++i) s->trainer->step();
  EXPECT_EQ(s->net.get_params(), whole->net.get_params());
  EXPECT_EQ(s->twin->fitted_state(), whole->twin->fitted_state());
}

}  // namespace patlab
