// patlab/core/pat_step.h: one step of physics-aware training (PAT), taken apart in its three
// phases so that each can be looked at. Trainer::step() does the same work in one go; these
// functions are for reading, teaching and the lab's "PAT in slow motion" view.
//
// The idea. A physical layer computes y = f_p(x, θ) on real hardware: we can run it, but not
// differentiate it. A digital twin f_m(x, θ) is a model of it we can differentiate, but it is
// never exactly right. PAT uses each where it is good:
//
//   1. Forward on the device.  Send the batch through the network with every physical layer
//      running on the device. The loss is the real network's loss, and every layer remembers
//      the input it really received: the measured output of the layer below.
//   2. Backward through the twin, at the measured activations.  Backpropagate the loss
//      gradient with the twin's Jacobians in place of the device's unknown ones, each evaluated
//      at the device's own input and output of step 1. The twin's error then enters only
//      through its slope, never by pushing the activations off the real ones.
//   3. Update.  Change the parameters along that gradient (the optimiser's step), on the device.
//
// How good is the PAT gradient? On an emulator the true physics is known, so phase 2 also
// backpropagates through it at the same activations (the true gradient) and, for comparison,
// through the twin all the way (in silico: a twin forward pass, then its backward; what you get
// without the device). The cosine of each with the true gradient shows how far each points.
#pragma once

#include <vector>

#include "patlab/core/loss.h"
#include "patlab/core/network.h"
#include "patlab/core/trainer.h"

namespace patlab {

// Phase 1: what the device did on the batch, and what the twin predicted it would do.
struct PatForward {
  // Per physical layer, in network order: its outputs on the batch (outputs x samples), from
  // the device and from the twin at the device's own input (the layer below's measured output).
  std::vector<Mat> device_out, twin_out;
  // Per physical layer: ‖twin − device‖ / ‖device‖ over the batch.
  std::vector<double> twin_gap;
  Mat logits;          // the network's outputs on the batch, with the devices in it
  double loss = 0.0;   // the real network's loss on the batch
  Mat loss_grad;       // ∂loss/∂logits: what phase 2 propagates back
};

// Phase 2: the loss gradient with respect to each physical layer's parameters θ, three ways.
struct PatBackward {
  // Per physical layer, in network order: ∂loss/∂θ.
  std::vector<Vec> grad_pat;       // PAT: twin Jacobians at the device's activations
  std::vector<Vec> grad_true;      // the true physics at the same activations (emulators only)
  std::vector<Vec> grad_insilico;  // in silico: twin forward and twin backward
  // Per physical layer: cos(PAT, true) and cos(in silico, true); 1 is the right direction.
  std::vector<double> cos_pat, cos_insilico;
  // PAT's gradient of every layer's parameters (digital ones too), flat in the order of
  // Network::get_params(): exactly what Trainer::gradient() gives for Method::PAT.
  Vec pat_all;
};

// Phase 3: what one real training step changed.
struct PatUpdate {
  StepResult step;                  // the trainer's own account of the step
  std::vector<double> update_norm;  // per physical layer: ‖θ after − θ before‖
};

// Phase 1 on the batch (x, labels y): runs every physical layer on its device (each Device pass
// costs the device one query per sample) and, next to it, its twin at the same input. Leaves
// every layer remembering the device's activations, as phase 2 needs. `loss` as the trainer's
// (TrainConfig::loss). Throws DeviceError as Trainer::step() does.
PatForward pat_forward(Network& net, const Mat& x, const Labels& y,
                       LossKind loss = LossKind::CrossEntropy);

// Phase 2, right after pat_forward(net, x, y, loss) gave `fwd` (the layers must still remember
// its activations). The true gradient needs every device to have an emulator's oracle
// (PhysicalSystem::oracle()); without one grad_true, cos_pat and cos_insilico stay empty.
// Costs no device queries. Leaves the network's gradients at zero and its layers remembering a
// twin pass (the in-silico one).
PatBackward pat_backward(Network& net, const Mat& x, const Labels& y, const PatForward& fwd,
                         LossKind loss = LossKind::CrossEntropy);

// Phase 3: one real step of `trainer` (which trains `net`), as training does it: its own
// batch, method and optimiser. Throws whatever Trainer::step() throws (nothing changes then).
PatUpdate pat_update(Network& net, Trainer& trainer);

// The pieces of phase 3, for a caller that takes the step its own way: every physical layer's
// parameters, and how far each moved since `before` (same network, same order).
std::vector<Vec> physical_params(Network& net);
std::vector<double> physical_param_change(Network& net, const std::vector<Vec>& before);

// a·b / (‖a‖ ‖b‖); 0 when either is zero.
double gradient_cosine(const Vec& a, const Vec& b);

}  // namespace patlab
