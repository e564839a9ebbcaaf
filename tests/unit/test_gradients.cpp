// Every hand-written gradient against finite differences (patlab/core/gradient_check.h).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "patlab/core/gradient_check.h"
#include "patlab/core/layer.h"
#include "patlab/core/loss.h"
#include "patlab/emulators/coupled_oscillators.h"

namespace patlab {
namespace {

Mat random_mat(int rows, int cols, Rng& rng, double scale = 1.0) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = scale * rng.normal();
  return m;
}

// A twin whose VJP is deliberately wrong: proves the checker can fail.
class WrongTwin : public Twin {
 public:
  int input_size() const override { return 3; }
  int param_size() const override { return 1; }
  int output_size() const override { return 3; }
  void forward(const Mat& x, const Vec& theta, Mat& y) const override {
    y = (theta[0] * x.array().sin()).matrix();
  }
  void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta) const override {
    if (g_x) *g_x = (theta[0] * g_y.array() * x.array().sin()).matrix();  // should be cos
    if (g_theta) (*g_theta)[0] += (g_y.array() * x.array().sin()).sum();
  }
};

}  // namespace

TEST(GradientCheck, DetectsAWrongJacobian) {
  Rng rng(1);
  WrongTwin twin;
  const GradCheck r = check_twin_gradients(twin, random_mat(3, 4, rng), Vec::Constant(1, 1.3), rng);
  EXPECT_GT(r.max_rel_error_x, 1e-2);
  EXPECT_LT(r.max_rel_error_theta, 1e-6);
}

TEST(GradientCheck, AffineLayerMatchesFiniteDifferences) {
  Rng rng(2);
  AffineLayer layer(5, 3, rng);
  const GradCheck r = check_layer_gradients(layer, random_mat(5, 7, rng), rng);
  EXPECT_LT(r.max_rel_error_x, 1e-6);
  EXPECT_LT(r.max_rel_error_theta, 1e-6);
}

TEST(GradientCheck, OscillatorTwinMatchesFiniteDifferences) {
  Rng rng(3);
  OscillatorSpec spec;
  spec.n = 5;
  OscillatorTwin twin(spec);
  Vec theta = twin.model().initial_theta(rng);
  theta.tail(spec.n) = random_mat(spec.n, 1, rng, 0.3);  // nonzero drives too
  const GradCheck r = check_twin_gradients(twin, random_mat(spec.n, 6, rng, 0.8), theta, rng);
  EXPECT_LT(r.max_rel_error_x, 1e-6);
  EXPECT_LT(r.max_rel_error_theta, 1e-6);
}

TEST(GradientCheck, MismatchedOscillatorPhysicsMatchesFiniteDifferences) {
  // The device's true physics (η and an extra coupling) has an exact gradient too: the oracle.
  Rng rng(4);
  OscillatorSpec spec;
  spec.n = 4;
  Mat extra = random_mat(4, 4, rng, 0.2);
  extra = 0.5 * (extra + extra.transpose()).eval();
  extra.diagonal().setZero();
  OscillatorModel truth(spec, 0.15, extra);
  struct ModelTwin : Twin {
    const OscillatorModel& m;
    explicit ModelTwin(const OscillatorModel& mm) : m(mm) {}
    int input_size() const override { return m.n(); }
    int param_size() const override { return m.param_size(); }
    int output_size() const override { return m.n(); }
    void forward(const Mat& x, const Vec& t, Mat& y) const override { m.forward(x, t, y); }
    void vjp(const Mat& x, const Vec& t, const Mat& g, Mat* gx, Vec* gt) const override {
      m.vjp(x, t, g, gx, gt);
    }
  } twin(truth);
  const GradCheck r = check_twin_gradients(twin, random_mat(4, 5, rng), truth.initial_theta(rng), rng);
  EXPECT_LT(r.max_rel_error_x, 1e-6);
  EXPECT_LT(r.max_rel_error_theta, 1e-6);
}

TEST(GradientCheck, PhysicalLayerBackwardUsesTheTwinsVjp) {
  Rng rng(5);
  OscillatorSpec spec;
  spec.n = 3;
  auto device = std::make_shared<OscillatorDevice>(spec, OscillatorKnobs{});
  auto twin = std::make_shared<OscillatorTwin>(spec);
  PhysicalLayer layer(device, twin, twin->model().initial_theta(rng), twin->model().theta_min(),
                      twin->model().theta_max());
  const GradCheck r = check_layer_gradients(layer, random_mat(3, 4, rng), rng);
  EXPECT_LT(r.max_rel_error_x, 1e-6);
  EXPECT_LT(r.max_rel_error_theta, 1e-6);
}

TEST(Loss, SoftmaxCrossEntropyGradientMatchesFiniteDifferences) {
  Rng rng(6);
  const Mat logits = random_mat(4, 5, rng, 2.0);
  Labels y(5);
  y << 0, 3, 1, 1, 2;
  const LossResult r = softmax_cross_entropy(logits, y);
  const double eps = 1e-6;
  for (int i = 0; i < logits.rows(); ++i)
    for (int b = 0; b < logits.cols(); ++b) {
      Mat lp = logits, lm = logits;
      lp(i, b) += eps;
      lm(i, b) -= eps;
      const double num =
          (softmax_cross_entropy(lp, y).loss - softmax_cross_entropy(lm, y).loss) / (2 * eps);
      EXPECT_NEAR(num, r.grad(i, b), 1e-7);
    }
}

TEST(Loss, SoftmaxCrossEntropyValueAndAccuracy) {
  Mat logits(2, 2);
  logits << 0.0, 10.0,
            0.0, 0.0;
  Labels y(2);
  y << 1, 0;
  const LossResult r = softmax_cross_entropy(logits, y);
  // Sample 0: uniform softmax, loss ln 2. Sample 1: confident and right, loss ≈ e^-10.
  EXPECT_NEAR(r.loss, 0.5 * (std::log(2.0) + std::log1p(std::exp(-10.0))), 1e-12);
  EXPECT_EQ(r.correct, 1);  // a tie picks class 0, which is wrong for sample 0
}

}  // namespace patlab
