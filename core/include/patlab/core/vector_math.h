// patlab/core/vector_math.h: sines and cosines of whole arrays, the inner loop of the ODE
// systems. In native GCC builds they run on glibc's vector math library (libmvec: 2, 4 or 8
// doubles per call, whichever the build's -march allows, within 4 ulp of libm); elsewhere
// (WebAssembly, other compilers) they are plain loops over std::sin and std::cos.
#pragma once

#include <cstddef>

#include "patlab/core/tensor.h"

namespace patlab {

// y[i] = sin(c * x[i]) and y[i] = cos(c * x[i]) for 0 <= i < n; x and y may be the same array.
void sin_scaled(const double* x, double c, double* y, std::ptrdiff_t n);
void cos_scaled(const double* x, double c, double* y, std::ptrdiff_t n);

// The same on matrices (y is resized to x's shape).
inline void sin_scaled(const Mat& x, double c, Mat& y) {
  y.resize(x.rows(), x.cols());
  sin_scaled(x.data(), c, y.data(), x.size());
}
inline void cos_scaled(const Mat& x, double c, Mat& y) {
  y.resize(x.rows(), x.cols());
  cos_scaled(x.data(), c, y.data(), x.size());
}

}  // namespace patlab
