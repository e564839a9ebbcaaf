#include "patlab/core/loss.h"

#include <cmath>
#include <stdexcept>

namespace patlab {

const char* loss_name(LossKind k) {
  return k == LossKind::CrossEntropy ? "cross_entropy" : "mse";
}

LossKind loss_from_name(const std::string& name) {
  if (name == "cross_entropy") return LossKind::CrossEntropy;
  if (name == "mse") return LossKind::MeanSquared;
  throw std::invalid_argument("unknown loss '" + name + "': choose cross_entropy or mse");
}

LossResult softmax_cross_entropy(const Mat& logits, const Labels& labels) {
  const int B = int(logits.cols());
  LossResult r;
  r.grad.resize(logits.rows(), B);
  for (int b = 0; b < B; ++b) {
    // Shift by the max logit so exp() cannot overflow; softmax is unchanged by the shift.
    Eigen::Index arg = 0;
    const double mx = logits.col(b).maxCoeff(&arg);
    r.grad.col(b) = (logits.col(b).array() - mx).exp().matrix();
    const double z = r.grad.col(b).sum();
    const int label = labels[b];
    r.loss += std::log(z) - (logits(label, b) - mx);
    r.correct += (arg == label);
    // ∂ℓ/∂logit = softmax − onehot, divided by B for the batch mean.
    r.grad.col(b) /= z * B;
    r.grad(label, b) -= 1.0 / B;
  }
  r.loss /= B;
  return r;
}

LossResult mean_squared_error(const Mat& outputs, const Mat& targets) {
  if (outputs.rows() != targets.rows() || outputs.cols() != targets.cols())
    throw std::invalid_argument("mean_squared_error: outputs and targets differ in shape");
  const double B = double(outputs.cols());
  LossResult r;
  r.grad = outputs - targets;
  r.loss = r.grad.squaredNorm() / B;
  r.grad *= 2.0 / B;
  return r;
}

LossResult mean_squared_error(const Mat& outputs, const Labels& labels) {
  Mat onehot = Mat::Zero(outputs.rows(), outputs.cols());
  for (Eigen::Index b = 0; b < outputs.cols(); ++b) onehot(labels[b], b) = 1.0;
  LossResult r = mean_squared_error(outputs, onehot);
  for (Eigen::Index b = 0; b < outputs.cols(); ++b) {
    Eigen::Index arg = 0;
    outputs.col(b).maxCoeff(&arg);
    r.correct += (arg == labels[b]);
  }
  return r;
}

}  // namespace patlab
