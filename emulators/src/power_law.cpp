#include "patlab/emulators/power_law.h"

#include <stdexcept>

namespace patlab {

void PowerLawModel::forward(const Mat& x, const Vec&, Mat& y) const {
  if (x.rows() != n_) throw std::invalid_argument("power-law: wrong input size");
  y = (a_ * x.array().max(0.0).pow(p_)).matrix();
}

void PowerLawModel::vjp(const Mat& x, const Vec&, const Mat& g_y, Mat* g_x, Vec*) const {
  // d/dx (a x^p) = a p x^(p−1) for x > 0; 0 where the input was clipped.
  if (g_x)
    *g_x = (g_y.array() * (x.array() > 0.0).cast<double>() * a_ * p_ *
            x.array().max(0.0).pow(p_ - 1.0)).matrix();
}

}  // namespace patlab
