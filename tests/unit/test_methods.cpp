// Every training method, its bookkeeping and its failure modes, on small oscillator networks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "patlab/core/trainer.h"
#include "patlab/datasets/toy2d.h"
#include "patlab/emulators/coupled_oscillators.h"

namespace patlab {
namespace {

struct Net {
  Network net;
  std::vector<std::shared_ptr<OscillatorDevice>> devices;
};

// affine 2->n, `depth` oscillator layers, affine n->2.
std::unique_ptr<Net> build(const KnobValues& knobs, int depth, uint64_t seed, int n = 4) {
  auto s = std::make_unique<Net>();
  OscillatorSpec spec;
  spec.n = n;
  spec.steps = 8;
  Rng rng(seed);
  s->net.add(std::make_unique<AffineLayer>(2, n, rng));
  for (int d = 0; d < depth; ++d) {
    auto dev = std::make_shared<OscillatorDevice>(spec, knobs, 1 + uint64_t(d));
    auto twin = std::make_shared<OscillatorTwin>(spec);
    s->devices.push_back(dev);
    s->net.add(std::make_unique<PhysicalLayer>(dev, twin, twin->model().initial_theta(rng)));
  }
  s->net.add(std::make_unique<AffineLayer>(n, 2, rng));
  return s;
}

double cosine(const Vec& a, const Vec& b) { return a.dot(b) / (a.norm() * b.norm()); }

const Dataset& moons() {
  static const Dataset d = make_moons(64, 0.1, 1);
  return d;
}

Vec gradient_of(Net& s, Method m, uint64_t seed = 1) {
  TrainConfig cfg;
  cfg.method = m;
  cfg.seed = seed;
  Trainer t(s.net, moons(), cfg);
  return t.gradient(moons().x.leftCols(32), moons().y.head(32), Mat());
}

// A device that returns garbage on chosen calls: NaN, or one output row too few.
class FaultyDevice : public PhysicalSystem {
 public:
  FaultyDevice(std::shared_ptr<PhysicalSystem> inner, int bad_call, bool wrong_shape)
      : inner_(std::move(inner)), bad_call_(bad_call), wrong_shape_(wrong_shape) {}
  std::string name() const override { return "faulty"; }
  int input_size() const override { return inner_->input_size(); }
  int param_size() const override { return inner_->param_size(); }
  int output_size() const override { return inner_->output_size(); }
  Vec param_min() const override { return inner_->param_min(); }
  Vec param_max() const override { return inner_->param_max(); }
  int calls = 0;

 protected:
  void run(const Mat& x, const Vec& theta, Mat& y) override {
    inner_->forward(x, theta, y);
    if (calls++ != bad_call_) return;
    if (wrong_shape_)
      y.conservativeResize(y.rows() - 1, y.cols());
    else
      y(1, 2) = std::nan("");
  }

 private:
  std::shared_ptr<PhysicalSystem> inner_;
  int bad_call_;
  bool wrong_shape_;
};

}  // namespace

TEST(Methods, PatEqualsExactBackpropWhenTheDeviceIsTheTwin) {
  // No mismatch, no noise: device forward = twin forward, so PAT, in-silico and the ideal
  // gradient must all be the same numbers.
  auto a = build(KnobValues{}, 2, 1), b = build(KnobValues{}, 2, 1), c = build(KnobValues{}, 2, 1);
  const Vec pat = gradient_of(*a, Method::PAT), insilico = gradient_of(*b, Method::InSilico),
            ideal = gradient_of(*c, Method::Ideal);
  EXPECT_LT((pat - insilico).norm(), 1e-12 * insilico.norm());
  EXPECT_LT((pat - ideal).norm(), 1e-12 * ideal.norm());
}

TEST(Methods, FiniteDifferencesAgreeWithTheIdealGradientOnANoiselessDevice) {
  const KnobValues k = {{"eta", 0.2}};
  auto a = build(k, 1, 2), b = build(k, 1, 2);
  const Vec ideal = gradient_of(*a, Method::Ideal);
  const long long q0 = b->net.device_queries();
  const Vec fd = gradient_of(*b, Method::FiniteDifference);
  EXPECT_GT(cosine(fd, ideal), 0.9999);
  EXPECT_LT((fd - ideal).norm(), 1e-4 * ideal.norm());
  // Two device runs of the batch per parameter.
  EXPECT_EQ(b->net.device_queries() - q0, 2LL * b->net.param_count() * 32);
}

TEST(Methods, SpsaIsAnUnbiasedEstimateOfTheGradient) {
  // Unbiased: the mean of many independent one-draw SPSA estimates converges to the true
  // gradient, its error shrinking like 1/sqrt(n), and every coordinate of it lies within a few
  // standard errors of the true value. (A biased estimate stops improving at its bias.) On a
  // noiseless device with a small perturbation c, the ideal gradient (backprop through the
  // emulator's exact physics) is the true gradient of the loss SPSA samples, to O(c²).
  const KnobValues k = {{"eta", 0.2}};
  auto a = build(k, 1, 3), b = build(k, 1, 3);
  const Vec ideal = gradient_of(*a, Method::Ideal);
  TrainConfig cfg;
  cfg.method = Method::SPSA;
  cfg.spsa_perturbation = 1e-3;
  cfg.spsa_samples = 1;  // one Δ per estimate; the trainer's generator gives each a new Δ
  cfg.seed = 11;         // fixed: the test is deterministic
  Trainer t(b->net, moons(), cfg);
  constexpr int kDraws = 4096, kFew = kDraws / 16;
  const int P = int(ideal.size());
  Vec sum = Vec::Zero(P), sum_sq = Vec::Zero(P), mean_few;
  for (int i = 0; i < kDraws; ++i) {
    const Vec g = t.gradient(moons().x.leftCols(32), moons().y.head(32), Mat());
    sum += g;
    sum_sq += g.cwiseProduct(g);
    if (i + 1 == kFew) mean_few = sum / kFew;
  }
  EXPECT_EQ(b->net.device_queries(), 2LL * kDraws * 32);
  const Vec mean = sum / kDraws;
  const Vec variance = (sum_sq / kDraws - mean.cwiseProduct(mean)) * (double(kDraws) / (kDraws - 1));
  // Per coordinate: (mean − true) / standard error is about N(0, 1) for an unbiased estimate.
  double worst_z = 0.0;
  for (int i = 0; i < P; ++i) {
    ASSERT_GT(variance[i], 0.0) << "coordinate " << i;
    worst_z = std::max(worst_z, std::abs(mean[i] - ideal[i]) / std::sqrt(variance[i] / kDraws));
  }
  EXPECT_LT(worst_z, 4.5) << "some coordinate of the mean is off by more than noise explains";
  // The whole error: its expected square is Σ var_i / n, and 16 times the draws divide it by 4.
  const double err = (mean - ideal).norm(), err_few = (mean_few - ideal).norm();
  EXPECT_LT(err * err, 2.0 * variance.sum() / kDraws);
  EXPECT_LT(err, 0.5 * err_few) << "the error of the mean must keep shrinking like 1/sqrt(n)";
  EXPECT_GT(cosine(mean, ideal), 0.99);
}

TEST(Methods, TwinGapIsZeroForAPerfectTwinAndGrowsWithMismatch) {
  auto measure = [](double eta) {
    auto s = build({{"eta", eta}}, 2, 4);
    TrainConfig cfg;
    Trainer t(s->net, moons(), cfg);
    return t.step().twin_gap;
  };
  EXPECT_LT(measure(0.0), 1e-12);
  EXPECT_GT(measure(0.1), 1e-3);
  EXPECT_GT(measure(0.3), 2 * measure(0.1));
  auto s = build(KnobValues{}, 1, 5);
  TrainConfig cfg;
  cfg.method = Method::InSilico;
  Trainer t(s->net, moons(), cfg);
  EXPECT_TRUE(std::isnan(t.step().twin_gap)) << "in silico never runs the device forward";
}

TEST(Methods, GradientAlignmentIsOneForTheIdealAndLowerForAWrongTwin) {
  const KnobValues k = {{"eta", 0.3}, {"coupling_noise", 0.3}};
  auto run = [&](Method m) {
    auto s = build(k, 2, 6);
    TrainConfig cfg;
    cfg.method = m;
    cfg.measure_alignment = true;
    Trainer t(s->net, moons(), cfg);
    const long long q0 = s->net.device_queries();
    const StepResult r = t.step();
    // Alignment runs on the oracle: it must not spend device queries.
    EXPECT_EQ(r.device_queries - q0, m == Method::InSilico ? 0 : 2 * 32);
    return r.grad_alignment;
  };
  EXPECT_NEAR(run(Method::Ideal), 1.0, 1e-12);
  const double pat = run(Method::PAT), insilico = run(Method::InSilico);
  EXPECT_LT(pat, 1.0 - 1e-6);
  EXPECT_GT(pat, insilico) << "PAT's gradient points closer to the true one than in-silico's";
}

TEST(Methods, ADeviceAnsweringNanIsRejectedAndNothingChanges) {
  for (bool wrong_shape : {false, true}) {
    SCOPED_TRACE(wrong_shape ? "wrong shape" : "NaN");
    OscillatorSpec spec;
    spec.n = 4;
    spec.steps = 8;
    Rng rng(7);
    auto inner = std::make_shared<OscillatorDevice>(spec, KnobValues{}, 1);
    auto faulty = std::make_shared<FaultyDevice>(inner, 3, wrong_shape);
    auto twin = std::make_shared<OscillatorTwin>(spec);
    Network net;
    net.add(std::make_unique<AffineLayer>(2, 4, rng));
    net.add(std::make_unique<PhysicalLayer>(faulty, twin, twin->model().initial_theta(rng)));
    net.add(std::make_unique<AffineLayer>(4, 2, rng));
    TrainConfig cfg;
    Trainer t(net, moons(), cfg);
    for (int i = 0; i < 3; ++i) t.step();
    const Vec before = net.get_params();
    const TrainerState state_before = t.save_state();
    try {
      t.step();
      FAIL() << "expected DeviceError";
    } catch (const DeviceError& e) {
      EXPECT_NE(std::string(e.what()).find("faulty"), std::string::npos) << e.what();
    }
    EXPECT_EQ(net.get_params(), before);
    EXPECT_EQ(t.steps(), 3);
    const TrainerState after = t.save_state();
    EXPECT_EQ(after.cursor, state_before.cursor);
    EXPECT_EQ(after.order, state_before.order);
    // The device recovers: training carries on.
    EXPECT_NO_THROW(t.step());
    EXPECT_EQ(t.steps(), 4);
  }
}

TEST(Methods, TheDeviceIsNeverDrivenOutsideItsInputRange) {
  // A device accepting inputs in [-1, 1] that remembers the extremes it was sent.
  class Bounded : public PhysicalSystem {
   public:
    std::string name() const override { return "bounded"; }
    int input_size() const override { return 2; }
    int param_size() const override { return 0; }
    int output_size() const override { return 2; }
    double input_min() const override { return -1.0; }
    double input_max() const override { return 1.0; }
    Vec param_min() const override { return Vec(); }
    Vec param_max() const override { return Vec(); }
    double lo = 0, hi = 0;

   protected:
    void run(const Mat& x, const Vec&, Mat& y) override {
      lo = std::min(lo, x.minCoeff());
      hi = std::max(hi, x.maxCoeff());
      y = x;
    }
  };
  class Identity : public Twin {
   public:
    int input_size() const override { return 2; }
    int param_size() const override { return 0; }
    int output_size() const override { return 2; }
    void forward(const Mat& x, const Vec&, Mat& y) const override { y = x; }
    void vjp(const Mat&, const Vec&, const Mat& g_y, Mat* g_x, Vec*) const override {
      if (g_x) *g_x = g_y;
    }
  };
  auto dev = std::make_shared<Bounded>();
  InputEncoding enc;
  enc.scale = 3.0;
  PhysicalLayer layer(dev, std::make_shared<Identity>(), Vec(), enc);
  Mat u(2, 3);
  u << -1.0, 0.1, 2.0,
        0.2, 0.3, -0.5;
  layer.forward(u, Pass::Device);
  EXPECT_EQ(dev->lo, -1.0);
  EXPECT_EQ(dev->hi, 1.0);
  // Clamped inputs pass no gradient; the others pass it scaled by 3.
  const Mat g = layer.backward(Mat::Ones(2, 3), Backprop::Twin);
  EXPECT_EQ(g(0, 0), 0.0);
  EXPECT_EQ(g(0, 1), 3.0);
  EXPECT_EQ(g(0, 2), 0.0);
  EXPECT_EQ(g(1, 0), 3.0);
}

TEST(Methods, SgdWithMomentumFollowsItsRecurrence) {
  Network net;
  net.add(std::make_unique<ScaleOffsetLayer>(1, 1.0, 0.0));
  OptimizerConfig c;
  c.kind = OptimizerKind::SGD;
  c.momentum = 0.5;
  Optimizer opt(c);
  net.layer(0).grad() << 1.0, 2.0;
  opt.step(net, 0.1);  // v = g, θ = θ − 0.1 g
  EXPECT_DOUBLE_EQ(net.layer(0).params()[0], 0.9);
  opt.step(net, 0.1);  // v = 0.5 g + g = 1.5 g
  EXPECT_DOUBLE_EQ(net.layer(0).params()[0], 0.9 - 0.15);
  EXPECT_DOUBLE_EQ(net.layer(0).params()[1], -0.2 - 0.3);
}

TEST(Methods, SchedulesScaleTheLearningRate) {
  Schedule s;
  EXPECT_EQ(s.factor(12345), 1.0);
  s.kind = Schedule::Kind::Step;
  s.step_every = 100;
  s.gamma = 0.5;
  EXPECT_EQ(s.factor(99), 1.0);
  EXPECT_EQ(s.factor(100), 0.5);
  EXPECT_EQ(s.factor(250), 0.25);
  s.kind = Schedule::Kind::Cosine;
  s.total_steps = 100;
  s.min_factor = 0.1;
  EXPECT_DOUBLE_EQ(s.factor(0), 1.0);
  EXPECT_NEAR(s.factor(50), 0.55, 1e-12);
  EXPECT_DOUBLE_EQ(s.factor(100), 0.1);
  EXPECT_DOUBLE_EQ(s.factor(1000), 0.1);
}

TEST(Methods, SoftRangePenaltyPullsParametersBackInside) {
  auto s = build(KnobValues{}, 1, 8);
  PhysicalLayer* p = s->net.physical_layers()[0];
  p->params().setConstant(1.5);  // outside |θ| <= 1, and clamping is off below
  TrainConfig cfg;
  cfg.clamp_params = false;
  cfg.range_penalty = 10.0;
  cfg.optimizer.learning_rate = 0.05;
  Trainer t(s->net, moons(), cfg);
  for (int i = 0; i < 100; ++i) t.step();
  EXPECT_LT(p->params().maxCoeff(), 1.1);
}

TEST(Methods, NamesRoundTripAndUnknownNamesAreClearErrors) {
  for (Method m : {Method::InSilico, Method::PAT, Method::Ideal, Method::SPSA, Method::FiniteDifference})
    EXPECT_EQ(method_from_name(method_name(m)), m);
  EXPECT_THROW(method_from_name("backprop"), std::invalid_argument);
  EXPECT_THROW(optimizer_from_name("rmsprop"), std::invalid_argument);
  EXPECT_THROW(loss_from_name("hinge"), std::invalid_argument);
  EXPECT_THROW(schedule_from_name("linear"), std::invalid_argument);
}

}  // namespace patlab
