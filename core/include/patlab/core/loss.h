// patlab/core/loss.h: losses on a batch of network outputs.
#pragma once

#include "patlab/core/tensor.h"

namespace patlab {

struct LossResult {
  double loss = 0.0;  // mean over the batch
  int correct = 0;    // samples whose largest output is the true class
  Mat grad;           // ∂(mean loss)/∂outputs, same shape as the outputs
};

// Softmax cross-entropy: outputs are logits (classes x B), labels in [0, classes).
LossResult softmax_cross_entropy(const Mat& logits, const Labels& labels);

}  // namespace patlab
