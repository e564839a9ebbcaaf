// patlab/core/loss.h: losses on a batch of network outputs.
#pragma once

#include <string>

#include "patlab/core/tensor.h"

namespace patlab {

enum class LossKind { CrossEntropy, MeanSquared };
const char* loss_name(LossKind k);                   // "cross_entropy", "mse"
LossKind loss_from_name(const std::string& name);    // throws std::invalid_argument

struct LossResult {
  double loss = 0.0;  // mean over the batch
  int correct = 0;    // samples whose largest output is the true class (classification only)
  Mat grad;           // ∂(mean loss)/∂outputs, same shape as the outputs
};

// Softmax cross-entropy: outputs are logits (classes x B), labels in [0, classes).
LossResult softmax_cross_entropy(const Mat& logits, const Labels& labels);

// Mean squared error: loss = (1/B) Σ_b ‖y_b − t_b‖², targets the shape of the outputs.
LossResult mean_squared_error(const Mat& outputs, const Mat& targets);
// The same against one-hot targets of labels; also counts correct arg-max predictions.
LossResult mean_squared_error(const Mat& outputs, const Labels& labels);

}  // namespace patlab
