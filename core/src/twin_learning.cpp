#include "patlab/core/twin_learning.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "patlab/core/loss.h"
#include "patlab/core/optimizer.h"

namespace patlab {

void DeviceSamples::append(const DeviceSamples& more, int capacity) {
  const Eigen::Index n_old = x.cols(), n_new = more.x.cols();
  Eigen::Index keep_old = n_old;
  if (capacity > 0) keep_old = std::max<Eigen::Index>(0, std::min(n_old, capacity - n_new));
  const Eigen::Index take_new = capacity > 0 ? std::min<Eigen::Index>(n_new, capacity) : n_new;
  auto join = [&](Mat& a, const Mat& b) {
    Mat out(b.rows(), keep_old + take_new);
    if (keep_old) out.leftCols(keep_old) = a.rightCols(keep_old);
    out.rightCols(take_new) = b.rightCols(take_new);
    a.swap(out);
  };
  join(x, more.x);
  join(theta, more.theta);
  join(y, more.y);
}

DeviceSamples collect_samples(PhysicalSystem& device, int groups, int per_group, double x_lo,
                              double x_hi, Rng& rng) {
  if (groups < 1 || per_group < 1) throw std::invalid_argument("collect_samples: empty request");
  const Vec lo = device.param_min(), hi = device.param_max();
  DeviceSamples s;
  s.x.resize(device.input_size(), groups * per_group);
  s.theta.resize(device.param_size(), groups * per_group);
  s.y.resize(device.output_size(), groups * per_group);
  Mat xb(device.input_size(), per_group), yb;
  Vec theta(device.param_size());
  for (int g = 0; g < groups; ++g) {
    for (int i = 0; i < theta.size(); ++i) theta[i] = rng.uniform(lo[i], hi[i]);
    for (Eigen::Index i = 0; i < xb.size(); ++i) xb.data()[i] = rng.uniform(x_lo, x_hi);
    device.forward(xb, theta, yb);
    if (!yb.allFinite()) throw DeviceError("collect_samples: device '" + device.name() + "' answered NaN/Inf");
    s.x.middleCols(g * per_group, per_group) = xb;
    s.theta.middleCols(g * per_group, per_group) = theta.replicate(1, per_group);
    s.y.middleCols(g * per_group, per_group) = yb;
  }
  return s;
}

namespace {
// Calls f(x_group, θ, first column, count) for each run of columns sharing one θ: twins take
// a single θ per batch, and collected samples come in such groups.
template <typename F>
void for_each_theta_group(const DeviceSamples& s, F f) {
  Eigen::Index start = 0;
  while (start < s.x.cols()) {
    Eigen::Index end = start + 1;
    while (end < s.x.cols() && s.theta.col(end) == s.theta.col(start)) ++end;
    f(start, end - start);
    start = end;
  }
}
}  // namespace

double twin_error(const Twin& twin, const DeviceSamples& s) {
  double num = 0.0;
  Mat y;
  for_each_theta_group(s, [&](Eigen::Index c0, Eigen::Index n) {
    twin.forward(s.x.middleCols(c0, n), s.theta.col(c0), y);
    num += (y - s.y.middleCols(c0, n)).squaredNorm();
  });
  return std::sqrt(num / std::max(1e-300, s.y.squaredNorm()));
}

void CalibratableTwin::fit(const DeviceSamples& s, int iterations, double learning_rate, Rng&,
                           const Interrupt& interrupt) {
  // Adam on the constants, full batch: there are few constants and the samples are cheap.
  Vec c = constants(), m = Vec::Zero(c.size()), v = Vec::Zero(c.size());
  const double b1 = 0.9, b2 = 0.999;
  Mat y;
  for (int it = 1; it <= iterations; ++it) {
    if (interrupt && interrupt()) throw Interrupted();
    Vec g = Vec::Zero(c.size());
    for_each_theta_group(s, [&](Eigen::Index c0, Eigen::Index n) {
      forward(s.x.middleCols(c0, n), s.theta.col(c0), y);
      const Mat g_y = (2.0 / double(s.size())) * (y - s.y.middleCols(c0, n));
      constants_vjp(s.x.middleCols(c0, n), s.theta.col(c0), g_y, g);
    });
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g.cwiseAbs2();
    c.array() -= learning_rate * (m.array() / (1 - std::pow(b1, it))) /
                 ((v.array() / (1 - std::pow(b2, it))).sqrt() + 1e-12);
    set_constants(c);
  }
}

void CalibratableTwin::set_fitted_state(const Vec& s) {
  if (s.size() != constants().size())
    throw std::invalid_argument("twin state: expected " + std::to_string(constants().size()) +
                                " constants, got " + std::to_string(s.size()));
  set_constants(s);
}

MlpTwin::MlpTwin(int input_size, int param_size, int output_size, const std::vector<int>& hidden,
                 Rng& rng, std::shared_ptr<const Twin> base)
    : in_(input_size), p_(param_size), out_(output_size), base_(std::move(base)) {
  if (base_ && (base_->input_size() != in_ || base_->param_size() != p_ ||
                base_->output_size() != out_))
    throw std::invalid_argument("MlpTwin: the base twin has different sizes");
  int width = in_ + p_;
  for (int h : hidden) {
    mlp_.add(std::make_unique<AffineLayer>(width, h, rng));
    mlp_.add(std::make_unique<ActivationLayer>(h, Activation::Tanh));
    width = h;
  }
  mlp_.add(std::make_unique<AffineLayer>(width, out_, rng, base_ ? 0.0 : 1.0));
}

Mat MlpTwin::stack(const Mat& x, const Mat& theta) const {
  Mat z(in_ + p_, x.cols());
  z.topRows(in_) = x;
  if (p_) z.bottomRows(p_) = theta.cols() == 1 ? Mat(theta.replicate(1, x.cols())) : theta;
  return z;
}

void MlpTwin::forward(const Mat& x, const Vec& theta, Mat& y) const {
  y = mlp_.forward(stack(x, theta), Pass::Twin);
  if (base_) {
    Mat yb;
    base_->forward(x, theta, yb);
    y += yb;
  }
}

void MlpTwin::vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta) const {
  mlp_.forward(stack(x, theta), Pass::Twin);
  // Backprop through the MLP's layers by hand: we need ∂/∂input, not the weight gradients.
  Mat g = g_y;
  for (int i = mlp_.size() - 1; i >= 0; --i) g = mlp_.layer(i).backward(g, Backprop::Twin);
  mlp_.zero_grad();
  if (g_x) *g_x = g.topRows(in_);
  if (g_theta && p_) *g_theta += g.bottomRows(p_).rowwise().sum();
  if (base_) {
    Mat gbx;
    base_->vjp(x, theta, g_y, g_x ? &gbx : nullptr, g_theta);
    if (g_x) *g_x += gbx;
  }
}

void MlpTwin::fit(const DeviceSamples& s, int iterations, double learning_rate, Rng& rng,
                  const Interrupt& interrupt) {
  // The MLP learns the residual y − base(x, θ) (or y itself without a base).
  Mat target = s.y;
  if (base_) {
    Mat yb;
    for_each_theta_group(s, [&](Eigen::Index c0, Eigen::Index n) {
      base_->forward(s.x.middleCols(c0, n), s.theta.col(c0), yb);
      target.middleCols(c0, n) -= yb;
    });
  }
  const Mat z = stack(s.x, s.theta);
  OptimizerConfig oc;
  oc.learning_rate = learning_rate;
  Optimizer opt(oc);
  const int batch = std::min(64, s.size());
  Mat zb(z.rows(), batch), tb(target.rows(), batch);
  for (int it = 0; it < iterations; ++it) {
    if (interrupt && interrupt()) throw Interrupted();
    for (int b = 0; b < batch; ++b) {
      const int k = rng.below(s.size());
      zb.col(b) = z.col(k);
      tb.col(b) = target.col(k);
    }
    mlp_.zero_grad();
    const LossResult r = mean_squared_error(mlp_.forward(zb, Pass::Twin), tb);
    mlp_.backward(r.grad);
    opt.step(mlp_, learning_rate);
  }
  mlp_.zero_grad();
}

TwinFitResult fit_twin(const std::shared_ptr<Twin>& nominal, int input_size, int param_size,
                       int output_size, const DeviceSamples& train, const DeviceSamples& test,
                       const std::vector<int>& hidden, bool mlp_only, int iterations,
                       double learning_rate, Rng& rng) {
  TwinFitResult r;
  if (!mlp_only && nominal) r.twin = std::dynamic_pointer_cast<FittableTwin>(nominal);
  r.kind = r.twin ? "calibrated" : nominal ? "mlp-residual" : "mlp";
  if (!r.twin)
    r.twin = std::make_shared<MlpTwin>(input_size, param_size, output_size, hidden, rng, nominal);
  if (nominal) r.error_before = twin_error(*nominal, test);
  r.twin->fit(train, iterations, learning_rate, rng);
  if (!r.twin->fitted_state().allFinite())
    throw TrainingError("the twin fit diverged (its state is NaN or infinite): lower the learning "
                        "rate");
  r.error_after = twin_error(*r.twin, test);
  return r;
}

}  // namespace patlab
