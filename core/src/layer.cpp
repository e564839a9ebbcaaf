#include "patlab/core/layer.h"

#include <cmath>
#include <stdexcept>

namespace patlab {

AffineLayer::AffineLayer(int in, int out, Rng& rng, double gain) : in_(in), out_(out) {
  params_.setZero(out * in + out);
  grad_.setZero(params_.size());
  const double scale = gain / std::sqrt(double(in));
  for (int i = 0; i < out * in; ++i) params_[i] = scale * rng.normal();
}

Mat AffineLayer::forward(const Mat& x, Pass) {
  x_ = x;
  Eigen::Map<const Mat> W(params_.data(), out_, in_);
  Eigen::Map<const Vec> b(params_.data() + out_ * in_, out_);
  return (W * x).colwise() + b;
}

Mat AffineLayer::backward(const Mat& g_y) {
  Eigen::Map<const Mat> W(params_.data(), out_, in_);
  Eigen::Map<Mat> gW(grad_.data(), out_, in_);
  Eigen::Map<Vec> gb(grad_.data() + out_ * in_, out_);
  gW.noalias() += g_y * x_.transpose();
  gb += g_y.rowwise().sum();
  return W.transpose() * g_y;
}

PhysicalLayer::PhysicalLayer(std::shared_ptr<PhysicalSystem> device,
                             std::shared_ptr<const Twin> twin, const Vec& theta0,
                             const Vec& theta_min, const Vec& theta_max)
    : device_(std::move(device)), twin_(std::move(twin)), theta_min_(theta_min),
      theta_max_(theta_max) {
  if (device_->param_size() != twin_->param_size() ||
      device_->input_size() != twin_->input_size() ||
      device_->output_size() != twin_->output_size())
    throw std::invalid_argument("PhysicalLayer: device and twin sizes differ");
  if (theta0.size() != device_->param_size() || theta_min.size() != theta0.size() ||
      theta_max.size() != theta0.size())
    throw std::invalid_argument("PhysicalLayer: parameter vectors must have param_size entries");
  params_ = theta0;
  grad_.setZero(params_.size());
  project_params();
}

Mat PhysicalLayer::forward(const Mat& x, Pass pass) {
  x_ = x;
  Mat y;
  if (pass == Pass::Device)
    device_->forward(x, params_, y);
  else
    twin_->forward(x, params_, y);
  return y;
}

Mat PhysicalLayer::backward(const Mat& g_y) {
  // The twin's Jacobians at the remembered input: the measured one after a Device pass.
  Mat g_x;
  twin_->vjp(x_, params_, g_y, &g_x, &grad_);
  return g_x;
}

void PhysicalLayer::project_params() {
  params_ = params_.cwiseMax(theta_min_).cwiseMin(theta_max_);
}

}  // namespace patlab
