// PAT's step in three phases; see patlab/core/pat_step.h for the method itself.
#include "patlab/core/pat_step.h"

#include <algorithm>

namespace patlab {

namespace {

// The loss on labels, as the trainer computes it for a classification batch.
LossResult loss_on(const Mat& out, const Labels& y, LossKind kind) {
  return kind == LossKind::MeanSquared ? mean_squared_error(out, y) : softmax_cross_entropy(out, y);
}

// Every physical layer's gradient ∂loss/∂θ, as the last backward pass left it.
std::vector<Vec> physical_grads(Network& net) {
  std::vector<Vec> g;
  for (PhysicalLayer* p : net.physical_layers()) g.push_back(p->grad());
  return g;
}

// The true physics is known only for emulators: each device must offer its oracle.
bool every_device_has_an_oracle(Network& net) {
  for (PhysicalLayer* p : net.physical_layers())
    if (!p->device().oracle()) return false;
  return true;
}

}  // namespace

double gradient_cosine(const Vec& a, const Vec& b) {
  const double d = a.norm() * b.norm();
  return d > 0 ? a.dot(b) / d : 0.0;
}

PatForward pat_forward(Network& net, const Mat& x, const Labels& y, LossKind loss) {
  PatForward f;
  Mat a = x;  // the activations, as the real (device) network computes them
  for (int i = 0; i < net.size(); ++i) {
    Layer& layer = net.layer(i);
    auto* p = dynamic_cast<PhysicalLayer*>(&layer);
    if (!p) {  // digital layers compute the same in every pass
      a = layer.forward(a, Pass::Device);
      continue;
    }
    // The twin's prediction at the layer's real input, then the device itself. The device
    // runs last so that the layer remembers the device's pass: phase 2 works at those
    // activations.
    const Mat predicted = p->forward(a, Pass::Twin);
    const Mat measured = p->forward(a, Pass::Device);
    f.twin_gap.push_back((predicted - measured).norm() / std::max(measured.norm(), 1e-12));
    f.twin_out.push_back(predicted);
    f.device_out.push_back(measured);
    a = measured;  // the next layer receives what the device really gave
  }
  f.logits = a;
  LossResult r = loss_on(f.logits, y, loss);
  f.loss = r.loss;
  f.loss_grad = std::move(r.grad);
  return f;
}

PatBackward pat_backward(Network& net, const Mat& x, const Labels& y, const PatForward& fwd,
                         LossKind loss) {
  PatBackward b;
  // PAT: the loss gradient back through the twins' Jacobians. Each physical layer still
  // remembers the device's input and output from phase 1, so the Jacobians are taken there.
  net.zero_grad();
  net.backward(fwd.loss_grad, Backprop::Twin);
  b.grad_pat = physical_grads(net);
  b.pat_all = net.get_grads();
  if (every_device_has_an_oracle(net)) {
    // The true gradient: the same backward pass, through the emulator's exact physics at the
    // same activations. PAT can do no better than this with the device's own activations.
    net.zero_grad();
    net.backward(fwd.loss_grad, Backprop::Oracle);
    b.grad_true = physical_grads(net);
  }
  // In silico, for comparison: forward and backward through the twins only, never looking at
  // the device. Its activations drift away from the real ones wherever the twin is wrong.
  net.zero_grad();
  const Mat twin_logits = net.forward(x, Pass::Twin);
  net.backward(loss_on(twin_logits, y, loss).grad, Backprop::Twin);
  b.grad_insilico = physical_grads(net);
  net.zero_grad();
  for (size_t l = 0; l < b.grad_true.size(); ++l) {
    b.cos_pat.push_back(gradient_cosine(b.grad_pat[l], b.grad_true[l]));
    b.cos_insilico.push_back(gradient_cosine(b.grad_insilico[l], b.grad_true[l]));
  }
  return b;
}

std::vector<Vec> physical_params(Network& net) {
  std::vector<Vec> theta;
  for (PhysicalLayer* p : net.physical_layers()) theta.push_back(p->params());
  return theta;
}

std::vector<double> physical_param_change(Network& net, const std::vector<Vec>& before) {
  std::vector<double> change;
  const std::vector<PhysicalLayer*> physical = net.physical_layers();
  for (size_t l = 0; l < physical.size() && l < before.size(); ++l)
    change.push_back((physical[l]->params() - before[l]).norm());
  return change;
}

PatUpdate pat_update(Network& net, Trainer& trainer) {
  // The update is an ordinary training step: the trainer runs phases 1 and 2 on its own batch
  // and lets the optimiser move θ along the PAT gradient (then clamps θ into the device's range).
  PatUpdate u;
  const std::vector<Vec> before = physical_params(net);
  u.step = trainer.step();
  u.update_norm = physical_param_change(net, before);
  return u;
}

}  // namespace patlab
