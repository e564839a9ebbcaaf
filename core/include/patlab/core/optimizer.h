// patlab/core/optimizer.h: parameter updates from accumulated gradients.
#pragma once

#include <vector>

#include "patlab/core/network.h"

namespace patlab {

// Adam (Kingma & Ba 2015) with bias correction; moment buffers are created on first use.
class Adam {
 public:
  explicit Adam(double learning_rate = 1e-2, double beta1 = 0.9, double beta2 = 0.999,
                double eps = 1e-8)
      : lr_(learning_rate), beta1_(beta1), beta2_(beta2), eps_(eps) {}

  // θ ← θ − lr · m̂ / (√v̂ + ε) for every layer, then projects parameters into range.
  void step(Network& net);
  void set_learning_rate(double lr) { lr_ = lr; }
  double learning_rate() const { return lr_; }
  long long steps() const { return t_; }

 private:
  double lr_, beta1_, beta2_, eps_;
  long long t_ = 0;
  std::vector<Vec> m_, v_;
};

}  // namespace patlab
