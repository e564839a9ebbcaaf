// patlab/core/optimizer.h: parameter updates from accumulated gradients, and the
// learning-rate schedule.
#pragma once

#include <string>
#include <vector>

#include "patlab/core/network.h"

namespace patlab {

enum class OptimizerKind { SGD, Adam };
const char* optimizer_name(OptimizerKind k);                  // "sgd", "adam"
OptimizerKind optimizer_from_name(const std::string& name);   // throws std::invalid_argument

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::Adam;
  double learning_rate = 0.02;  // the base rate; the schedule scales it
  double momentum = 0.9;        // SGD: v ← μ v + g, θ ← θ − lr v   (0 = plain SGD)
  double beta1 = 0.9;           // Adam (Kingma & Ba 2015), with bias correction
  double beta2 = 0.999;
  double eps = 1e-8;
};

class Optimizer {
 public:
  explicit Optimizer(const OptimizerConfig& config) : config_(config) {}

  // Updates every layer's parameters from its grad() with learning rate lr. Moment buffers
  // are created on first use. All or nothing: if a gradient, a moment or a new parameter
  // would be NaN or infinite, it throws TrainingError naming the layer and changes nothing.
  void step(Network& net, double lr);
  const OptimizerConfig& config() const { return config_; }

  // Everything needed to continue exactly (for checkpoints).
  struct State {
    long long t = 0;        // updates made
    std::vector<Vec> m, v;  // per layer: SGD velocity in m; Adam first/second moments
  };
  const State& state() const { return state_; }
  void set_state(const State& s) { state_ = s; }

 private:
  OptimizerConfig config_;
  State state_;
  std::vector<Vec> next_m_, next_v_, next_p_;  // the update being made, before it is kept
};

// lr(step) = base · factor(step).
struct Schedule {
  enum class Kind { Constant, Step, Cosine };
  Kind kind = Kind::Constant;
  long long step_every = 500;   // Step: multiply by gamma every this many steps
  double gamma = 0.5;
  long long total_steps = 2000; // Cosine: from 1 down to min_factor over this many steps
  double min_factor = 0.05;

  double factor(long long step) const;
};
const char* schedule_name(Schedule::Kind k);                  // "constant", "step", "cosine"
Schedule::Kind schedule_from_name(const std::string& name);   // throws std::invalid_argument

}  // namespace patlab
