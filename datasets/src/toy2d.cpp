#include "patlab/datasets/toy2d.h"

#include <cmath>
#include <stdexcept>

#include "patlab/core/rng.h"

namespace patlab {

namespace {
constexpr double kPi = 3.14159265358979323846;

Dataset blank(const char* name, int n) {
  if (n < 2) throw std::invalid_argument("toy 2-D data sets need n >= 2 points");
  Dataset d;
  d.name = name;
  d.x.resize(2, n);
  d.y.resize(n);
  d.num_classes = 2;
  return d;
}
}  // namespace

Dataset make_moons(int n, double noise, uint64_t seed) {
  Dataset d = blank("moons", n);
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    const int c = i % 2;
    const double t = kPi * rng.uniform();
    // Upper moon centred at (0, 0); the lower one shifted right and down by half a radius.
    const double x = c == 0 ? std::cos(t) : 1.0 - std::cos(t);
    const double y = c == 0 ? std::sin(t) : 0.5 - std::sin(t);
    d.x(0, i) = (x - 0.5) + noise * rng.normal();
    d.x(1, i) = (y - 0.25) + noise * rng.normal();
    d.y[i] = c;
  }
  return d;
}

Dataset make_circles(int n, double noise, uint64_t seed) {
  Dataset d = blank("circles", n);
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    const int c = i % 2;
    const double t = 2 * kPi * rng.uniform();
    const double r = c == 0 ? 0.5 : 1.2;
    d.x(0, i) = r * std::cos(t) + noise * rng.normal();
    d.x(1, i) = r * std::sin(t) + noise * rng.normal();
    d.y[i] = c;
  }
  return d;
}

Dataset make_spiral(int n, double noise, uint64_t seed) {
  Dataset d = blank("spiral", n);
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    const int c = i % 2;
    const double s = rng.uniform();               // position along the arm
    const double r = 0.15 + 1.25 * s;
    const double t = 1.75 * 2 * kPi * s + c * kPi;  // second arm rotated by half a turn
    d.x(0, i) = r * std::cos(t) + noise * rng.normal();
    d.x(1, i) = r * std::sin(t) + noise * rng.normal();
    d.y[i] = c;
  }
  return d;
}

Dataset make_xor(int n, double noise, uint64_t seed) {
  Dataset d = blank("xor", n);
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    const int c = i % 2;
    // Class 0 in quadrants I and III, class 1 in II and IV.
    const double sx = rng.uniform() < 0.5 ? -1.0 : 1.0;
    const double sy = c == 0 ? sx : -sx;
    d.x(0, i) = sx * (0.15 + 0.85 * rng.uniform()) + noise * rng.normal();
    d.x(1, i) = sy * (0.15 + 0.85 * rng.uniform()) + noise * rng.normal();
    d.y[i] = c;
  }
  return d;
}

Dataset make_clusters(int n, double noise, uint64_t seed) {
  Dataset d = blank("clusters", n);
  d.num_classes = 3;
  Rng rng(seed);
  // Centres on a circle of radius 0.9, 120 degrees apart; spread 0.25 plus the noise knob.
  const double spread = std::sqrt(0.25 * 0.25 + noise * noise);
  for (int i = 0; i < n; ++i) {
    const int c = i % 3;
    const double a = 2 * kPi * c / 3.0 + kPi / 2;
    d.x(0, i) = 0.9 * std::cos(a) + spread * rng.normal();
    d.x(1, i) = 0.9 * std::sin(a) + spread * rng.normal();
    d.y[i] = c;
  }
  return d;
}

const std::vector<std::string>& toy2d_names() {
  static const std::vector<std::string> names = {"moons", "circles", "spiral", "xor", "clusters"};
  return names;
}

Dataset make_toy2d(const std::string& name, int n, double noise, uint64_t seed) {
  if (name == "moons") return make_moons(n, noise, seed);
  if (name == "circles") return make_circles(n, noise, seed);
  if (name == "spiral") return make_spiral(n, noise, seed);
  if (name == "xor") return make_xor(n, noise, seed);
  if (name == "clusters") return make_clusters(n, noise, seed);
  throw std::invalid_argument("unknown toy data set '" + name +
                              "': choose moons, circles, spiral, xor or clusters");
}

}  // namespace patlab
