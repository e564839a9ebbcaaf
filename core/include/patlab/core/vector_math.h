// patlab/core/vector_math.h: sines and cosines of whole arrays and small matrix products, the
// inner loops of the ODE systems. In native GCC builds they run on glibc's vector math library (libmvec: 2, 4 or 8
// doubles per call, whichever the build's -march allows, within 4 ulp of libm); elsewhere
// (WebAssembly, other compilers) they are plain loops over std::sin and std::cos.
#pragma once

#include <cstddef>

#include "patlab/core/tensor.h"

namespace patlab {

// y[i] = sin(c * x[i]) and y[i] = cos(c * x[i]) for 0 <= i < n; x and y may be the same array.
void sin_scaled(const double* x, double c, double* y, std::ptrdiff_t n);
void cos_scaled(const double* x, double c, double* y, std::ptrdiff_t n);

// Y = A X, or Y += A X if accumulate: A is m x k (column major, no gaps), X is k x n with its
// element (p, j) at X[p * sp + j * sj] (so sp = 1, sj = k for a column-major X, and sp = n,
// sj = 1 for the transpose of a column-major n x k matrix), Y is m x n column major. Natively
// this is Eigen's product; in WebAssembly, where Eigen 3.4 has no SIMD, a kernel on 128-bit
// wasm vectors (4 rows x 4 columns of Y in registers), about twice Eigen's scalar speed there.
void matmul(Eigen::Index m, Eigen::Index n, Eigen::Index k, const double* A, const double* X,
            Eigen::Index sp, Eigen::Index sj, double* Y, bool accumulate);

}  // namespace patlab
