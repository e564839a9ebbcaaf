// PAT's step taken apart (patlab/core/pat_step.h): each phase must be what training really does.
#include <gtest/gtest.h>

#include <memory>

#include "patlab/core/pat_step.h"
#include "patlab/experiment/experiment.h"

namespace patlab {
namespace {

// affine -> oscillators -> oscillators -> affine on moons, PAT: two physical layers, so the
// second one's input is the first device's measured output.
std::unique_ptr<Run> two_layer_run(double eta, double coupling_noise, double readout_noise) {
  Experiment e = default_experiment();
  e.data.train_size = 64;
  LayerSpec& phys = e.layers[1];
  phys.knobs = {{"eta", eta}, {"coupling_noise", coupling_noise}, {"readout_noise_rad", readout_noise}};
  LayerSpec second = phys;
  second.seed = phys.seed + 1;
  e.layers.insert(e.layers.begin() + 2, second);
  return build_run(e);
}

struct Batch {
  Mat x;
  Labels y;
};
Batch first_samples(const Run& r, int n) { return {r.train.x.leftCols(n), r.train.y.head(n)}; }

}  // namespace

TEST(PatStep, PhaseTwoGivesExactlyTheGradientTheTrainerUsesForPat) {
  // Two identical runs: one taken apart, one through Trainer::gradient on the same batch.
  auto a = two_layer_run(0.2, 0.1, 0.01), b = two_layer_run(0.2, 0.1, 0.01);
  const Batch batch = first_samples(*a, 16);
  const long long q0 = a->net.device_queries();
  const PatForward f = pat_forward(a->net, batch.x, batch.y);
  EXPECT_EQ(a->net.device_queries() - q0, 2 * 16) << "one query per sample and physical layer";
  const PatBackward g = pat_backward(a->net, batch.x, batch.y, f);
  EXPECT_EQ(a->net.device_queries() - q0, 2 * 16) << "phase 2 never runs the device";

  ASSERT_EQ(b->trainer->config().method, Method::PAT);
  const Vec trainer_grad = b->trainer->gradient(batch.x, batch.y, Mat());
  ASSERT_EQ(g.pat_all.size(), trainer_grad.size());
  EXPECT_EQ((g.pat_all - trainer_grad).cwiseAbs().maxCoeff(), 0.0);
  // Per physical layer, the same numbers again.
  const std::vector<PhysicalLayer*> physical = b->net.physical_layers();
  ASSERT_EQ(g.grad_pat.size(), physical.size());
  for (size_t l = 0; l < physical.size(); ++l) EXPECT_EQ(g.grad_pat[l], physical[l]->grad());

  // Phase 1's shapes and numbers: one entry per physical layer, the devices' outputs feeding on.
  ASSERT_EQ(f.device_out.size(), 2u);
  ASSERT_EQ(f.twin_out.size(), 2u);
  EXPECT_EQ(f.device_out[0].cols(), 16);
  EXPECT_EQ(f.logits.cols(), 16);
  EXPECT_EQ(f.loss, softmax_cross_entropy(f.logits, batch.y).loss);
  for (size_t l = 0; l < 2; ++l) {
    EXPECT_GT(f.twin_gap[l], 1e-4) << "a mismatched twin predicts the device imperfectly";
    EXPECT_LT(f.twin_gap[l], 1.0);
    EXPECT_LT(g.cos_pat[l], 1.0 - 1e-9);
    EXPECT_GT(g.cos_pat[l], 0.5) << "PAT's gradient still points the right way";
  }
  EXPECT_EQ(g.grad_true.size(), 2u);
  EXPECT_EQ(g.grad_insilico.size(), 2u);
  for (int i = 0; i < a->net.size(); ++i) EXPECT_EQ(a->net.layer(i).grad().norm(), 0.0);
}

TEST(PatStep, WithAPerfectTwinPatsGradientIsTheTrueOne) {
  auto r = two_layer_run(0.0, 0.0, 0.0);
  const Batch batch = first_samples(*r, 16);
  const PatForward f = pat_forward(r->net, batch.x, batch.y);
  const PatBackward g = pat_backward(r->net, batch.x, batch.y, f);
  ASSERT_EQ(g.cos_pat.size(), 2u);
  for (size_t l = 0; l < 2; ++l) {
    EXPECT_LT(f.twin_gap[l], 1e-12);
    EXPECT_NEAR(g.cos_pat[l], 1.0, 1e-12);
    EXPECT_NEAR(g.cos_insilico[l], 1.0, 1e-12) << "with no gap, in silico is right too";
    EXPECT_LT((g.grad_pat[l] - g.grad_true[l]).norm(), 1e-12 * g.grad_true[l].norm());
  }
}

TEST(PatStep, PatBeatsInSilicoWhenTheTwinIsWrong) {
  // The twin's mismatch pushes in silico's activations off the real ones; PAT keeps the real
  // activations, so its gradient stays closer to the true one.
  auto r = two_layer_run(0.3, 0.3, 0.0);
  const Batch batch = first_samples(*r, 32);
  const PatForward f = pat_forward(r->net, batch.x, batch.y);
  const PatBackward g = pat_backward(r->net, batch.x, batch.y, f);
  double pat = 0, insilico = 0;
  for (size_t l = 0; l < 2; ++l) {
    pat += g.cos_pat[l];
    insilico += g.cos_insilico[l];
  }
  EXPECT_GT(pat, insilico);
}

TEST(PatStep, PhaseThreeIsARealTrainerStep) {
  auto a = two_layer_run(0.2, 0.1, 0.01), b = two_layer_run(0.2, 0.1, 0.01);
  const std::vector<Vec> before = physical_params(b->net);
  const PatUpdate u = pat_update(a->net, *a->trainer);
  const StepResult s = b->trainer->step();
  EXPECT_EQ(u.step.loss, s.loss);
  EXPECT_EQ(u.step.step, 1);
  EXPECT_EQ(a->net.get_params(), b->net.get_params()) << "the same update, bit for bit";
  const std::vector<double> moved = physical_param_change(b->net, before);
  ASSERT_EQ(u.update_norm.size(), 2u);
  for (size_t l = 0; l < 2; ++l) {
    EXPECT_EQ(u.update_norm[l], moved[l]);
    EXPECT_GT(u.update_norm[l], 0.0);
  }
}

TEST(PatStep, GradientCosine) {
  Vec a(2), b(2);
  a << 1, 0;
  b << 0, 2;
  EXPECT_EQ(gradient_cosine(a, a * 3), 1.0);
  EXPECT_EQ(gradient_cosine(a, b), 0.0);
  EXPECT_EQ(gradient_cosine(a, -a), -1.0);
  EXPECT_EQ(gradient_cosine(a, Vec::Zero(2)), 0.0) << "a zero gradient has no direction";
}

}  // namespace patlab
