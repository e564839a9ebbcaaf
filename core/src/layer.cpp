#include "patlab/core/layer.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace patlab {

AffineLayer::AffineLayer(int in, int out, Rng& rng, double gain) : in_(in), out_(out) {
  if (in < 1 || out < 1) throw std::invalid_argument("AffineLayer: sizes must be >= 1");
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

Mat AffineLayer::backward(const Mat& g_y, Backprop) {
  Eigen::Map<const Mat> W(params_.data(), out_, in_);
  Eigen::Map<Mat> gW(grad_.data(), out_, in_);
  Eigen::Map<Vec> gb(grad_.data() + out_ * in_, out_);
  gW.noalias() += g_y * x_.transpose();
  gb += g_y.rowwise().sum();
  return W.transpose() * g_y;
}

ElementwiseLayer::ElementwiseLayer(const char* layer, int n) : n_(n) {
  if (n < 1) throw std::invalid_argument(std::string(layer) + ": size must be >= 1");
}

ScaleOffsetLayer::ScaleOffsetLayer(int n, double scale0, double offset0)
    : ElementwiseLayer("ScaleOffsetLayer", n) {
  params_.resize(2 * n);
  params_.head(n).setConstant(scale0);
  params_.tail(n).setConstant(offset0);
  grad_.setZero(2 * n);
}

Mat ScaleOffsetLayer::forward(const Mat& x, Pass) {
  x_ = x;
  return (x.array().colwise() * params_.head(n_).array()).matrix().colwise() + params_.tail(n_);
}

Mat ScaleOffsetLayer::backward(const Mat& g_y, Backprop) {
  grad_.head(n_) += (g_y.array() * x_.array()).rowwise().sum().matrix();
  grad_.tail(n_) += g_y.rowwise().sum();
  return (g_y.array().colwise() * params_.head(n_).array()).matrix();
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::Relu: return "relu";
    case Activation::Tanh: return "tanh";
    case Activation::Sigmoid: return "sigmoid";
  }
  return "?";
}

Activation activation_from_name(const std::string& name) {
  if (name == "relu") return Activation::Relu;
  if (name == "tanh") return Activation::Tanh;
  if (name == "sigmoid") return Activation::Sigmoid;
  throw std::invalid_argument("unknown activation '" + name + "': choose relu, tanh or sigmoid");
}

ActivationLayer::ActivationLayer(int n, Activation a)
    : ElementwiseLayer("ActivationLayer", n), a_(a) {}

Mat ActivationLayer::forward(const Mat& x, Pass) {
  x_ = x;
  switch (a_) {
    case Activation::Relu: y_ = x.cwiseMax(0.0); break;
    case Activation::Tanh: y_ = x.array().tanh().matrix(); break;
    case Activation::Sigmoid: y_ = (1.0 / (1.0 + (-x.array()).exp())).matrix(); break;
  }
  return y_;
}

Mat ActivationLayer::backward(const Mat& g_y, Backprop) {
  switch (a_) {
    case Activation::Relu: return (g_y.array() * (x_.array() > 0.0).cast<double>()).matrix();
    case Activation::Tanh: return (g_y.array() * (1.0 - y_.array().square())).matrix();
    case Activation::Sigmoid: return (g_y.array() * y_.array() * (1.0 - y_.array())).matrix();
  }
  return g_y;
}

ReadoutScaleLayer::ReadoutScaleLayer(int n, double alpha0)
    : ElementwiseLayer("ReadoutScaleLayer", n) {
  params_ = Vec::Constant(1, alpha0);
  grad_.setZero(1);
}

Mat ReadoutScaleLayer::forward(const Mat& x, Pass) {
  x_ = x;
  return params_[0] * x;
}

Mat ReadoutScaleLayer::backward(const Mat& g_y, Backprop) {
  grad_[0] += (g_y.array() * x_.array()).sum();
  return params_[0] * g_y;
}

AppendLayer::AppendLayer(int n, int count, double value) : n_(n), count_(count), value_(value) {
  if (n < 1 || count < 1)
    throw std::invalid_argument("AppendLayer: the input size and the count must be >= 1");
  if (!std::isfinite(value)) throw std::invalid_argument("AppendLayer: the value must be finite");
}

Mat AppendLayer::forward(const Mat& x, Pass) {
  Mat y(n_ + count_, x.cols());
  y.topRows(n_) = x;
  y.bottomRows(count_).setConstant(value_);
  return y;
}

Mat AppendLayer::backward(const Mat& g_y, Backprop) { return g_y.topRows(n_); }

SelectLayer::SelectLayer(int n, int first, int count) : n_(n), first_(first), count_(count) {
  if (count < 1) throw std::invalid_argument("SelectLayer: the count must be >= 1");
  if (first < 0 || first > n - count)
    throw std::invalid_argument("SelectLayer: rows " + std::to_string(first) + " to " +
                                std::to_string(first + count - 1) + " are not within the " +
                                std::to_string(n) + " inputs");
}

Mat SelectLayer::forward(const Mat& x, Pass) { return x.middleRows(first_, count_); }

Mat SelectLayer::backward(const Mat& g_y, Backprop) {
  Mat g_x = Mat::Zero(n_, g_y.cols());
  g_x.middleRows(first_, count_) = g_y;
  return g_x;
}

PhysicalLayer::PhysicalLayer(std::shared_ptr<PhysicalSystem> device,
                             std::shared_ptr<Twin> twin, const Vec& theta0,
                             const InputEncoding& encoding)
    : device_(std::move(device)), encoding_(encoding), theta_min_(device_->param_min()),
      theta_max_(device_->param_max()) {
  set_twin(std::move(twin));
  if (theta0.size() != device_->param_size())
    throw std::invalid_argument("PhysicalLayer: theta0 must have param_size entries");
  params_ = theta0;
  grad_.setZero(params_.size());
  project_params();
}

void PhysicalLayer::set_twin(std::shared_ptr<Twin> twin) {
  if (device_->param_size() != twin->param_size() ||
      device_->input_size() != twin->input_size() ||
      device_->output_size() != twin->output_size())
    throw std::invalid_argument("PhysicalLayer: device '" + device_->name() +
                                "' and its twin have different sizes");
  twin_ = std::move(twin);
  y_twin_valid_ = false;
}

Mat PhysicalLayer::encode(const Mat& u) const {
  Mat x = (encoding_.scale * u.array() + encoding_.offset).matrix();
  if (encoding_.clamp) x = x.cwiseMax(device_->input_min()).cwiseMin(device_->input_max());
  return x;
}

Mat PhysicalLayer::forward(const Mat& u, Pass pass) {
  // NaN or Inf from the layers before would reach the device and come back as a device
  // fault; it is the training's.
  if (pass == Pass::Device && !u.allFinite())
    throw TrainingError("the input of device '" + device_->name() +
                        "' is not finite: a layer before it diverged");
  const Mat x = encode(u);
  Mat y;
  switch (pass) {
    case Pass::Device:
      device_->forward(x, params_, y);
      if (y.rows() != device_->output_size() || y.cols() != x.cols())
        throw DeviceError("device '" + device_->name() + "' answered with " +
                          std::to_string(y.rows()) + " x " + std::to_string(y.cols()) +
                          " outputs, expected " + std::to_string(device_->output_size()) + " x " +
                          std::to_string(x.cols()));
      if (!y.allFinite()) {
        Eigen::Index bad = 0;
        for (; bad < y.size() && std::isfinite(y.data()[bad]); ++bad) {
        }
        throw DeviceError("device '" + device_->name() + "' answered with a non-finite value "
                          "(output " + std::to_string(bad % y.rows()) + " of sample " +
                          std::to_string(bad / y.rows()) + "): step rejected");
      }
      break;
    case Pass::Twin: twin_->forward(x, params_, y); break;
    case Pass::Oracle: {
      const Twin* o = device_->oracle();
      if (!o) throw std::logic_error("device '" + device_->name() + "' has no oracle");
      o->forward(x, params_, y);
      break;
    }
  }
  x_ = x;
  y_ = y;
  last_pass_ = pass;
  y_twin_valid_ = false;
  if (pass == Pass::Device && record_capacity_ > 0)
    recorded_.append({x, params_.replicate(1, x.cols()), y}, record_capacity_);
  return y;
}

Mat PhysicalLayer::backward(const Mat& g_y, Backprop via) {
  // The model's Jacobians at the remembered input: the measured one after a Device pass.
  const Twin* model = twin_.get();
  if (via == Backprop::Oracle) {
    model = device_->oracle();
    if (!model)
      throw std::logic_error("device '" + device_->name() + "' has no oracle: the ideal "
                             "gradient exists only for emulators");
  }
  Mat g_x;
  if (via == Backprop::Twin && last_pass_ == Pass::Device) {
    // Keep the twin's prediction the pass makes anyway, for twin_gap.
    model->forward_vjp(x_, params_, g_y, y_twin_, &g_x, &grad_);
    y_twin_params_ = params_;
    y_twin_valid_ = true;
  } else {
    model->vjp(x_, params_, g_y, &g_x, &grad_);
  }
  // Through the encoding: ∂x/∂u = scale inside the input range, 0 where it was clamped.
  g_x *= encoding_.scale;
  if (encoding_.clamp)
    g_x = (g_x.array() * ((x_.array() > device_->input_min()) &&
                          (x_.array() < device_->input_max())).cast<double>()).matrix();
  return g_x;
}

void PhysicalLayer::project_params() {
  params_ = params_.cwiseMax(theta_min_).cwiseMin(theta_max_);
}

bool PhysicalLayer::twin_gap(double* num, double* den) const {
  if (last_pass_ != Pass::Device) return false;
  const Mat* y_twin = &y_twin_;
  Mat fresh;
  if (!y_twin_valid_ || y_twin_params_ != params_) {
    twin_->forward(x_, params_, fresh);
    y_twin = &fresh;
  }
  *num += (*y_twin - y_).squaredNorm();
  *den += y_.squaredNorm();
  return true;
}

}  // namespace patlab
