#include "patlab/core/gradient_check.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace patlab {

namespace {


double rel_error(double a, double b) {
  return std::abs(a - b) / std::max(1e-8, std::abs(a) + std::abs(b));
}

// L(x, θ) = <g_y, f(x, θ)>; compares its directional derivatives with the analytic ones.
GradCheck compare(const std::function<Mat(const Mat&, const Vec&)>& f, const Mat& x,
                  const Vec& theta, const Mat& g_y, const Mat& g_x, const Vec& g_theta,
                  Rng& rng, int directions, double eps) {
  auto L = [&](const Mat& xx, const Vec& tt) { return (g_y.array() * f(xx, tt).array()).sum(); };
  GradCheck r;
  for (int d = 0; d < directions; ++d) {
    const Mat vx = normal_matrix(x.rows(), x.cols(), rng);
    const double num_x = (L(x + eps * vx, theta) - L(x - eps * vx, theta)) / (2 * eps);
    r.max_rel_error_x = std::max(r.max_rel_error_x, rel_error(num_x, (g_x.array() * vx.array()).sum()));
    if (theta.size() == 0) continue;
    const Vec vt = normal_matrix(theta.size(), 1, rng);
    const double num_t = (L(x, theta + eps * vt) - L(x, theta - eps * vt)) / (2 * eps);
    r.max_rel_error_theta = std::max(r.max_rel_error_theta, rel_error(num_t, g_theta.dot(vt)));
  }
  return r;
}

}  // namespace

GradCheck check_twin_gradients(const Twin& twin, const Mat& x, const Vec& theta, Rng& rng,
                               int directions, double eps) {
  const Mat g_y = normal_matrix(twin.output_size(), x.cols(), rng);
  Mat g_x;
  Vec g_theta = Vec::Zero(theta.size());
  twin.vjp(x, theta, g_y, &g_x, &g_theta);
  auto f = [&](const Mat& xx, const Vec& tt) {
    Mat y;
    twin.forward(xx, tt, y);
    return y;
  };
  return compare(f, x, theta, g_y, g_x, g_theta, rng, directions, eps);
}

GradCheck check_layer_gradients(Layer& layer, const Mat& x, Rng& rng, int directions,
                                double eps) {
  const Vec theta0 = layer.params();
  const Mat g_y = normal_matrix(layer.output_size(), x.cols(), rng);
  layer.grad().setZero();
  layer.forward(x, Pass::Twin);
  const Mat g_x = layer.backward(g_y);
  const Vec g_theta = layer.grad();
  auto f = [&](const Mat& xx, const Vec& tt) {
    layer.params() = tt;
    return layer.forward(xx, Pass::Twin);
  };
  GradCheck r = compare(f, x, theta0, g_y, g_x, g_theta, rng, directions, eps);
  layer.params() = theta0;
  layer.grad().setZero();
  return r;
}

}  // namespace patlab
