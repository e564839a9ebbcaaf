// Every hand-written gradient against finite differences (patlab/core/gradient_check.h).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "gradient_testing.h"
#include "patlab/core/layer.h"
#include "patlab/core/loss.h"
#include "patlab/emulators/coupled_oscillators.h"
#include "patlab/emulators/parallel.h"
#include "patlab/emulators/power_law.h"

namespace patlab {
namespace {

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
  const GradCheck r = check_twin_gradients(twin, normal_matrix(3, 4, rng), Vec::Constant(1, 1.3), rng);
  EXPECT_GT(r.max_rel_error_x, 1e-2);
  EXPECT_LT(r.max_rel_error_theta, 1e-6);
}

TEST(GradientCheck, AffineLayerMatchesFiniteDifferences) {
  Rng rng(2);
  AffineLayer layer(5, 3, rng);
  const GradCheck r = check_layer_gradients(layer, normal_matrix(5, 7, rng), rng);
  EXPECT_TRUE(gradients_match(r));
}

TEST(GradientCheck, OscillatorTwinMatchesFiniteDifferences) {
  Rng rng(3);
  OscillatorSpec spec;
  spec.n = 5;
  OscillatorTwin twin(spec);
  Vec theta = twin.model().initial_theta(rng);
  theta.tail(spec.n) = normal_matrix(spec.n, 1, rng, 0.3);  // nonzero drives too
  const GradCheck r = check_twin_gradients(twin, normal_matrix(spec.n, 6, rng, 0.8), theta, rng);
  EXPECT_TRUE(gradients_match(r));
}

TEST(GradientCheck, MismatchedOscillatorPhysicsMatchesFiniteDifferences) {
  // The device's true physics (η and an extra coupling) has an exact gradient too: the oracle.
  Rng rng(4);
  OscillatorSpec spec;
  spec.n = 4;
  OscillatorTwin truth(OscillatorModel(spec, 0.15, extra_coupling(4, rng, 0.2)));
  const GradCheck r =
      check_twin_gradients(truth, normal_matrix(4, 5, rng), truth.model().initial_theta(rng), rng);
  EXPECT_TRUE(gradients_match(r));
}

TEST(GradientCheck, OscillatorTwinMatchesFiniteDifferencesOnABatchSplitIntoChunks) {
  // From 16 samples on the batch is integrated in two column chunks (on two threads where
  // there are two); the chunks' gradients must add up to the whole batch's.
  Rng rng(13);
  OscillatorSpec spec;
  spec.n = 4;
  spec.steps = 6;
  OscillatorTwin twin(spec);
  const int batch = 19;
  ASSERT_EQ(column_chunks(batch), 2);
  Vec theta = twin.model().initial_theta(rng);
  theta.tail(spec.n) = normal_matrix(spec.n, 1, rng, 0.3);
  const GradCheck r = check_twin_gradients(twin, normal_matrix(spec.n, batch, rng, 0.8), theta, rng);
  EXPECT_TRUE(gradients_match(r));
}

TEST(GradientCheck, OscillatorGradientsHoldForOneTwoAndThreeSteps) {
  // The backward pass skips two stages' products: the last step's fourth stage (nothing flows
  // into p(T)) and the first step's second, the same point as its first (p(0) = 0). With one
  // step both happen in the same step; batches of 3 and of 17 (two chunks) for θ, x and η.
  for (const int steps : {1, 2, 3})
    for (const int batch : {3, 17}) {
      SCOPED_TRACE("steps " + std::to_string(steps) + ", batch " + std::to_string(batch));
      Rng rng(uint64_t(20 + steps));
      OscillatorSpec spec;
      spec.n = 4;
      spec.steps = steps;
      spec.dt = 0.3;
      OscillatorTwin twin(OscillatorModel(spec, 0.1, Mat()));
      Vec theta = twin.model().initial_theta(rng);
      theta.tail(spec.n) = normal_matrix(spec.n, 1, rng, 0.3);
      const Mat x = normal_matrix(spec.n, batch, rng, 0.8);
      // One short step moves y little with θ: central differences of 1e-5 keep rounding (not
      // the method) from deciding the comparison, as 1e-6 did in the portable build.
      const GradCheck r = check_twin_gradients(twin, x, theta, rng, 6, 1e-5);
      EXPECT_TRUE(gradients_match(r));
      const EtaGradient g = eta_gradient(twin, x, theta, normal_matrix(spec.n, batch, rng), 1e-5);
      EXPECT_NEAR(g.analytic, g.numeric, 1e-6 * std::abs(g.numeric) + 1e-9);
    }
}

TEST(GradientCheck, ScaleOffsetLayerMatchesFiniteDifferences) {
  Rng rng(7);
  ScaleOffsetLayer layer(4, 1.5, 0.2);
  layer.params() = normal_matrix(8, 1, rng);
  const GradCheck r = check_layer_gradients(layer, normal_matrix(4, 6, rng), rng);
  EXPECT_TRUE(gradients_match(r));
}

TEST(GradientCheck, ActivationLayersMatchFiniteDifferences) {
  for (Activation a : {Activation::Relu, Activation::Tanh, Activation::Sigmoid}) {
    SCOPED_TRACE(activation_name(a));
    Rng rng(8);
    ActivationLayer layer(5, a);
    // Keep ReLU inputs away from its kink at 0, where finite differences are not defined.
    Mat x = normal_matrix(5, 6, rng);
    for (Eigen::Index i = 0; i < x.size(); ++i)
      if (std::abs(x.data()[i]) < 0.05) x.data()[i] = 0.3;
    const GradCheck r = check_layer_gradients(layer, x, rng);
    EXPECT_LT(r.max_rel_error_x, 1e-6);
  }
}

TEST(GradientCheck, ReadoutScaleLayerMatchesFiniteDifferences) {
  Rng rng(9);
  ReadoutScaleLayer layer(3, 2.5);
  const GradCheck r = check_layer_gradients(layer, normal_matrix(3, 5, rng), rng);
  EXPECT_TRUE(gradients_match(r));
}

TEST(GradientCheck, AppendLayerMatchesFiniteDifferences) {
  Rng rng(11);
  AppendLayer layer(4, 3, 0.5);
  const Mat x = normal_matrix(4, 5, rng);
  const Mat y = layer.forward(x, Pass::Twin);
  ASSERT_EQ(y.rows(), 7);
  EXPECT_EQ(y.topRows(4), x);  // the input, then the constant rows
  EXPECT_TRUE((y.bottomRows(3).array() == 0.5).all());
  EXPECT_EQ(layer.params().size(), 0);
  const Mat g_x = layer.backward(normal_matrix(7, 5, rng), Backprop::Twin);
  EXPECT_EQ(g_x.rows(), 4);
  EXPECT_EQ(g_x.cols(), 5);
  EXPECT_TRUE(gradients_match(check_layer_gradients(layer, x, rng)));
}

TEST(GradientCheck, SelectLayerMatchesFiniteDifferences) {
  Rng rng(12);
  SelectLayer layer(6, 2, 3);  // rows 2, 3, 4
  const Mat x = normal_matrix(6, 5, rng);
  EXPECT_EQ(layer.forward(x, Pass::Twin), x.middleRows(2, 3));
  EXPECT_EQ(layer.params().size(), 0);
  const Mat g_y = normal_matrix(3, 5, rng);
  const Mat g_x = layer.backward(g_y, Backprop::Twin);
  ASSERT_EQ(g_x.rows(), 6);
  EXPECT_EQ(g_x.middleRows(2, 3), g_y);  // the rows left out get no gradient
  EXPECT_TRUE(g_x.topRows(2).isZero(0.0) && g_x.bottomRows(1).isZero(0.0));
  EXPECT_TRUE(gradients_match(check_layer_gradients(layer, x, rng)));
  SelectLayer last(6, 3, 3);  // the last three rows
  EXPECT_TRUE(gradients_match(check_layer_gradients(last, x, rng)));
}

TEST(Layers, AppendAndSelectRefuseRowsThatDoNotExist) {
  EXPECT_THROW(AppendLayer(4, 0), std::invalid_argument);
  EXPECT_THROW(AppendLayer(0, 2), std::invalid_argument);
  EXPECT_THROW(AppendLayer(4, 2, std::nan("")), std::invalid_argument);
  EXPECT_THROW(SelectLayer(6, 4, 3), std::invalid_argument);   // rows 4 to 6 of 0 to 5
  EXPECT_THROW(SelectLayer(6, -1, 2), std::invalid_argument);
  EXPECT_THROW(SelectLayer(6, 0, 0), std::invalid_argument);
  EXPECT_NO_THROW(SelectLayer(6, 0, 6));
}

TEST(GradientCheck, PowerLawTwinMatchesFiniteDifferences) {
  Rng rng(10);
  PowerLawModel twin(3, 2.01, 1.1);
  Mat x = normal_matrix(3, 4, rng).cwiseAbs().array() + 0.1;  // inside the valid range x > 0
  const GradCheck r = check_twin_gradients(twin, x, Vec(), rng);
  EXPECT_LT(r.max_rel_error_x, 1e-6);
}

TEST(Loss, MeanSquaredErrorGradientMatchesFiniteDifferences) {
  Rng rng(11);
  const Mat y = normal_matrix(3, 4, rng), t = normal_matrix(3, 4, rng);
  const LossResult r = mean_squared_error(y, t);
  const double eps = 1e-6;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    Mat yp = y, ym = y;
    yp.data()[i] += eps;
    ym.data()[i] -= eps;
    const double num = (mean_squared_error(yp, t).loss - mean_squared_error(ym, t).loss) / (2 * eps);
    EXPECT_NEAR(num, r.grad.data()[i], 1e-7);
  }
  EXPECT_NEAR(r.loss, (y - t).squaredNorm() / 4.0, 1e-12);
}

namespace {

// A physical layer of three oscillators (the twin's initial θ, input encoding `enc`) checked at
// four random inputs, everything drawn from Rng(seed).
GradCheck check_physical_layer(uint64_t seed, const InputEncoding& enc) {
  Rng rng(seed);
  OscillatorSpec spec;
  spec.n = 3;
  auto device = std::make_shared<OscillatorDevice>(spec, KnobValues{}, 1);
  auto twin = std::make_shared<OscillatorTwin>(spec);
  PhysicalLayer layer(device, twin, twin->model().initial_theta(rng), enc);
  return check_layer_gradients(layer, normal_matrix(3, 4, rng), rng);
}

}  // namespace

TEST(GradientCheck, PhysicalLayerBackwardUsesTheTwinsVjp) {
  EXPECT_TRUE(gradients_match(check_physical_layer(5, InputEncoding())));
}

TEST(GradientCheck, PhysicalLayerWithAnInputEncodingMatchesFiniteDifferences) {
  InputEncoding enc;
  enc.scale = 0.7;
  enc.offset = 0.2;
  EXPECT_TRUE(gradients_match(check_physical_layer(12, enc)));
}

TEST(Loss, SoftmaxCrossEntropyGradientMatchesFiniteDifferences) {
  Rng rng(6);
  const Mat logits = normal_matrix(4, 5, rng, 2.0);
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
