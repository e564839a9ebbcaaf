// patlab/core/trainer.h: one training loop for every method, stepped one batch at a time.
//
//   method             forward pass   gradient                              device queries/step
//   InSilico           twin           backprop through the twins            0
//   PAT                device         backprop through the twins, at the    B per physical layer
//                                     device's measured activations
//   Ideal              device         backprop through the emulator's exact B per physical layer
//                                     noiseless physics (emulators only: the upper bound)
//   SPSA               device         (ℓ(θ+cΔ) − ℓ(θ−cΔ)) / 2c · Δ, Δ = ±1   2·samples·B per layer
//   FiniteDifference   device         (ℓ(θ+εe_i) − ℓ(θ−εe_i)) / 2ε per θ_i   2·P·B per layer
//
// step() trains on one mini-batch and returns at once, so a UI can slice training across
// frames. Every failure rejects the step as a whole (patlab/core/errors.h): parameters,
// optimiser, twins and data order stay as they were.
//   DeviceError    a device answered NaN/Inf or the wrong shape, or not at all
//   TrainingError  the step's loss, gradient, learning rate, update or twin refit is NaN/Inf:
//                  the training diverged (the message names the step and the learning rate)
//   Interrupted    the Interrupt given to set_interrupt() said stop; the devices' states are
//                  rolled back too, so the run can be resumed exactly
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "patlab/core/dataset.h"
#include "patlab/core/errors.h"
#include "patlab/core/loss.h"
#include "patlab/core/network.h"
#include "patlab/core/optimizer.h"
#include "patlab/core/rng.h"

namespace patlab {

enum class Method { InSilico, PAT, Ideal, SPSA, FiniteDifference };
const char* method_name(Method m);                  // "in-silico", "pat", "ideal", "spsa", "fd"
Method method_from_name(const std::string& name);   // throws std::invalid_argument
const char* method_label(Method m);   // for people: "in-silico", "PAT", "ideal", "SPSA", "finite differences"

struct TrainConfig {
  Method method = Method::PAT;
  LossKind loss = LossKind::CrossEntropy;
  OptimizerConfig optimizer;
  Schedule schedule;
  int batch_size = 32;          // samples per step, >= 1
  uint64_t seed = 1;            // data order and zeroth-order perturbations
  // Physical parameter ranges: clamp after every update, and/or a soft penalty
  // λ Σ (max(0, θ − θ_max)² + max(0, θ_min − θ)²) added to the loss (as in the reference work).
  bool clamp_params = true;
  double range_penalty = 0.0;   // λ, 0 = off
  // Zeroth-order methods.
  double spsa_perturbation = 0.05;  // c
  int spsa_samples = 1;             // Δ draws averaged per step
  double fd_step = 1e-3;            // ε
  // Refresh fittable twins (see twin_learning.h) every this many steps from the (x, θ, y)
  // the device passes of PAT/ideal training measured (0 = off). Costs no device queries.
  int twin_refresh_every = 0;
  int twin_refresh_iterations = 20;
  double twin_refresh_learning_rate = 0.01;
  int twin_refresh_samples = 1024;  // newest samples kept per physical layer
  // Gradient alignment with the ideal gradient (emulators only; costs no device queries:
  // the reference runs on the noiseless oracle).
  bool measure_alignment = false;
};

struct StepResult {
  long long step = 0;       // steps taken so far, this one included
  int epoch = 0;            // full passes over the training set completed
  double loss = 0.0;        // on this batch, through the pass the method trains on
  double accuracy = 0.0;    // on this batch, in [0, 1] (classification)
  double learning_rate = 0.0;
  long long device_queries = 0;  // all physical layers, since construction
  // ‖twin − device‖ / ‖device‖ over every physical layer, at the device's inputs on this batch
  // (NaN when the method did not run the device forward).
  double twin_gap = std::numeric_limits<double>::quiet_NaN();
  // cos(gradient used, ideal gradient); NaN unless measure_alignment.
  double grad_alignment = std::numeric_limits<double>::quiet_NaN();
  bool twin_refreshed = false;   // fittable twins were refitted after this step
};

struct Evaluation {
  double loss = 0.0;
  double accuracy = 0.0;    // in [0, 1]
  Labels predicted;         // arg-max class of every sample (classification; for confusion matrices)
};

// Everything a checkpoint needs besides the network's parameters and the devices' states.
struct TrainerState {
  long long steps = 0;
  int epoch = 0;
  int cursor = 0;
  std::vector<int> order;
  std::array<uint64_t, 6> rng{};
  Optimizer::State optimizer;
};

class Trainer {
 public:
  // The trainer keeps references: net and train must outlive it.
  Trainer(Network& net, const Dataset& train, const TrainConfig& config);

  StepResult step();
  // Mean loss and accuracy over a whole data set, in batches, without touching gradients.
  Evaluation evaluate(const Dataset& data, Pass pass, int batch_size = 256);
  // The gradient the configured method would use on this batch (flat, all layers), without
  // updating anything. For analysis and tests; spends device queries like a step would.
  Vec gradient(const Mat& x, const Labels& y, const Mat& t);

  const TrainConfig& config() const { return config_; }
  // Turns the gradient-alignment figure off (or on): a real device has no oracle to compare with.
  void set_measure_alignment(bool on) { config_.measure_alignment = on; }
  void set_method(Method m) { config_.method = m; }
  void set_learning_rate(double lr) { config_.optimizer.learning_rate = lr; }
  // Asked between the device evaluations of zeroth-order steps and between twin-refit
  // iterations; when it says stop, step() rolls back and throws Interrupted.
  void set_interrupt(Interrupt interrupt) { interrupt_ = std::move(interrupt); }
  long long steps() const { return steps_; }
  int epoch() const { return epoch_; }

  TrainerState save_state() const;
  // Throws std::invalid_argument if the state does not fit this trainer's data set.
  void load_state(const TrainerState& s);

 private:
  void reshuffle();
  LossResult loss_of(const Mat& out, const Labels& y, const Mat& t) const;
  // Computes the method's gradient into the layers' grad(); returns the batch loss result.
  LossResult compute_gradient(const Mat& x, const Labels& y, const Mat& t);
  LossResult zeroth_order(const Mat& x, const Labels& y, const Mat& t);
  double add_range_penalty();
  void check_interrupt() const;  // throws Interrupted

  Network& net_;
  const Dataset& train_;
  TrainConfig config_;
  Optimizer optimizer_;
  Rng rng_;
  std::vector<int> order_;
  int cursor_ = 0;
  int epoch_ = 0;
  long long steps_ = 0;
  Interrupt interrupt_;
};

}  // namespace patlab
