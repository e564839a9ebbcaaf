// Compiled with -ffast-math in native GCC builds (see core/CMakeLists.txt): with it, glibc's
// <math.h> declares the SIMD variants of sin and cos and GCC vectorises these loops into calls
// to libmvec (_ZGV?N?v_sin ...). Nothing else in this file depends on the flag: the loops only
// multiply by c, so fast-math's freedoms (reassociation, no NaN checks) change nothing here.
#include "patlab/core/vector_math.h"

#include <cmath>

namespace patlab {

void sin_scaled(const double* x, double c, double* y, std::ptrdiff_t n) {
  for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = std::sin(c * x[i]);
}

void cos_scaled(const double* x, double c, double* y, std::ptrdiff_t n) {
  for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = std::cos(c * x[i]);
}

}  // namespace patlab
