#include "patlab/core/loss.h"

#include <cmath>

namespace patlab {

LossResult softmax_cross_entropy(const Mat& logits, const Labels& labels) {
  const int B = int(logits.cols());
  LossResult r;
  r.grad.resize(logits.rows(), B);
  for (int b = 0; b < B; ++b) {
    // Shift by the max logit so exp() cannot overflow; softmax is unchanged by the shift.
    Eigen::Index arg = 0;
    const double mx = logits.col(b).maxCoeff(&arg);
    const Vec e = (logits.col(b).array() - mx).exp().matrix();
    const double z = e.sum();
    const int label = labels[b];
    r.loss += std::log(z) - (logits(label, b) - mx);
    r.correct += (arg == label);
    // ∂ℓ/∂logit = softmax − onehot, divided by B for the batch mean.
    r.grad.col(b) = e / (z * B);
    r.grad(label, b) -= 1.0 / B;
  }
  r.loss /= B;
  return r;
}

}  // namespace patlab
