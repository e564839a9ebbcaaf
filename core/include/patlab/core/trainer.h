// patlab/core/trainer.h: one training loop for every method, stepped one batch at a time.
//
//   method      forward pass      backward pass
//   InSilico    twin              twin (the device is only used to measure the result)
//   PAT         device            twin, at the device's measured activations
//
// step() trains on one mini-batch and returns at once, so a UI can slice training across
// frames. evaluate() measures loss and accuracy on either the device or the twin.
#pragma once

#include <cstdint>
#include <vector>

#include "patlab/core/dataset.h"
#include "patlab/core/network.h"
#include "patlab/core/optimizer.h"
#include "patlab/core/rng.h"

namespace patlab {

enum class Method { InSilico, PAT };
const char* method_name(Method m);  // "in-silico", "PAT"

struct TrainConfig {
  Method method = Method::PAT;
  double learning_rate = 0.02;
  int batch_size = 32;      // samples per step, >= 1
  uint64_t seed = 1;        // shuffling order
};

struct StepResult {
  long long step = 0;       // steps taken so far, this one included
  int epoch = 0;            // full passes over the training set completed
  double loss = 0.0;        // on this batch, through the pass the method trains on
  double accuracy = 0.0;    // on this batch, in [0, 1]
};

struct Evaluation {
  double loss = 0.0;
  double accuracy = 0.0;    // in [0, 1]
};

class Trainer {
 public:
  // The trainer keeps references: net and train must outlive it.
  Trainer(Network& net, const Dataset& train, const TrainConfig& config);

  StepResult step();
  // Mean loss and accuracy over a whole data set, in batches, without touching gradients.
  Evaluation evaluate(const Dataset& data, Pass pass, int batch_size = 256);

  const TrainConfig& config() const { return config_; }
  void set_method(Method m) { config_.method = m; }
  void set_learning_rate(double lr) { config_.learning_rate = lr; adam_.set_learning_rate(lr); }
  long long steps() const { return steps_; }
  int epoch() const { return epoch_; }

 private:
  void reshuffle();

  Network& net_;
  const Dataset& train_;
  TrainConfig config_;
  Adam adam_;
  Rng rng_;
  std::vector<int> order_;
  int cursor_ = 0;
  int epoch_ = 0;
  long long steps_ = 0;
};

}  // namespace patlab
