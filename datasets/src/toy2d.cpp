#include "patlab/datasets/toy2d.h"

#include <cmath>
#include <stdexcept>

#include "patlab/core/rng.h"

namespace patlab {

namespace {
constexpr double kPi = 3.14159265358979323846;

struct Point {
  double x, y;
};

// n points, point i of class i % classes (balanced and interleaved); point(c, rng) draws one
// point of class c, jitter included. Its braced {x, y} evaluates x's draws before y's, in the
// order the sets have always drawn them, so a seed keeps giving the same points.
template <class DrawPoint>
Dataset generate(const char* name, int n, int classes, uint64_t seed, DrawPoint point) {
  if (n < 2) throw std::invalid_argument("toy 2-D data sets need n >= 2 points");
  Dataset d;
  d.name = name;
  d.x.resize(2, n);
  d.y.resize(n);
  d.num_classes = classes;
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    const int c = i % classes;
    const Point p = point(c, rng);
    d.x(0, i) = p.x;
    d.x(1, i) = p.y;
    d.y[i] = c;
  }
  return d;
}
}  // namespace

Dataset make_moons(int n, double noise, uint64_t seed) {
  return generate("moons", n, 2, seed, [noise](int c, Rng& rng) {
    const double t = kPi * rng.uniform();
    // Upper moon centred at (0, 0); the lower one shifted right and down by half a radius.
    const double x = c == 0 ? std::cos(t) : 1.0 - std::cos(t);
    const double y = c == 0 ? std::sin(t) : 0.5 - std::sin(t);
    return Point{(x - 0.5) + noise * rng.normal(), (y - 0.25) + noise * rng.normal()};
  });
}

Dataset make_circles(int n, double noise, uint64_t seed) {
  return generate("circles", n, 2, seed, [noise](int c, Rng& rng) {
    const double t = 2 * kPi * rng.uniform();
    const double r = c == 0 ? 0.5 : 1.2;
    return Point{r * std::cos(t) + noise * rng.normal(), r * std::sin(t) + noise * rng.normal()};
  });
}

Dataset make_spiral(int n, double noise, uint64_t seed) {
  return generate("spiral", n, 2, seed, [noise](int c, Rng& rng) {
    const double s = rng.uniform();               // position along the arm
    const double r = 0.15 + 1.25 * s;
    const double t = 1.75 * 2 * kPi * s + c * kPi;  // second arm rotated by half a turn
    return Point{r * std::cos(t) + noise * rng.normal(), r * std::sin(t) + noise * rng.normal()};
  });
}

Dataset make_xor(int n, double noise, uint64_t seed) {
  return generate("xor", n, 2, seed, [noise](int c, Rng& rng) {
    // Class 0 in quadrants I and III, class 1 in II and IV.
    const double sx = rng.uniform() < 0.5 ? -1.0 : 1.0;
    const double sy = c == 0 ? sx : -sx;
    return Point{sx * (0.15 + 0.85 * rng.uniform()) + noise * rng.normal(),
                 sy * (0.15 + 0.85 * rng.uniform()) + noise * rng.normal()};
  });
}

Dataset make_clusters(int n, double noise, uint64_t seed) {
  // Centres on a circle of radius 0.9, 120 degrees apart; spread 0.25 plus the noise knob.
  const double spread = std::sqrt(0.25 * 0.25 + noise * noise);
  return generate("clusters", n, 3, seed, [spread](int c, Rng& rng) {
    const double a = 2 * kPi * c / 3.0 + kPi / 2;
    return Point{0.9 * std::cos(a) + spread * rng.normal(),
                 0.9 * std::sin(a) + spread * rng.normal()};
  });
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
