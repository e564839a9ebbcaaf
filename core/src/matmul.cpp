// matmul (patlab/core/vector_math.h): Eigen's product natively; a 128-bit SIMD kernel in
// WebAssembly. Kept apart from vector_math.cpp, which is compiled with -ffast-math: Eigen's
// product kernels must be compiled the same way in every file that instantiates them.
#include <algorithm>

#include "patlab/core/vector_math.h"

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

namespace patlab {

#ifdef __wasm_simd128__

namespace {

// Y[i0 .. i0 + 4, j0 .. j0 + NJ) (=|+=) A[i0 .. i0 + 4, :] X[:, j0 .. j0 + NJ), the sums kept in
// 2 NJ vector registers of two doubles.
template <int NJ>
void block4(Eigen::Index m, Eigen::Index k, const double* A, const double* X, Eigen::Index sp,
            Eigen::Index sj, double* Y, bool accumulate, Eigen::Index i0, Eigen::Index j0) {
  v128_t c0[NJ], c1[NJ];
  for (int j = 0; j < NJ; ++j) {
    double* y = Y + (j0 + j) * m + i0;
    c0[j] = accumulate ? wasm_v128_load(y) : wasm_f64x2_splat(0.0);
    c1[j] = accumulate ? wasm_v128_load(y + 2) : wasm_f64x2_splat(0.0);
  }
  for (Eigen::Index p = 0; p < k; ++p) {
    const double* a = A + p * m + i0;
    const v128_t a0 = wasm_v128_load(a), a1 = wasm_v128_load(a + 2);
    const double* x = X + p * sp + j0 * sj;
    for (int j = 0; j < NJ; ++j) {
      const v128_t xj = wasm_f64x2_splat(x[j * sj]);
      c0[j] = wasm_f64x2_add(c0[j], wasm_f64x2_mul(a0, xj));
      c1[j] = wasm_f64x2_add(c1[j], wasm_f64x2_mul(a1, xj));
    }
  }
  for (int j = 0; j < NJ; ++j) {
    double* y = Y + (j0 + j) * m + i0;
    wasm_v128_store(y, c0[j]);
    wasm_v128_store(y + 2, c1[j]);
  }
}

}  // namespace

void matmul(Eigen::Index m, Eigen::Index n, Eigen::Index k, const double* A, const double* X,
            Eigen::Index sp, Eigen::Index sj, double* Y, bool accumulate) {
  const Eigen::Index m4 = m - m % 4;
  for (Eigen::Index j0 = 0; j0 < n; j0 += 4) {
    const Eigen::Index nj = std::min<Eigen::Index>(4, n - j0);
    for (Eigen::Index i0 = 0; i0 < m4; i0 += 4) {
      switch (nj) {
        case 4: block4<4>(m, k, A, X, sp, sj, Y, accumulate, i0, j0); break;
        case 3: block4<3>(m, k, A, X, sp, sj, Y, accumulate, i0, j0); break;
        case 2: block4<2>(m, k, A, X, sp, sj, Y, accumulate, i0, j0); break;
        default: block4<1>(m, k, A, X, sp, sj, Y, accumulate, i0, j0); break;
      }
    }
    for (Eigen::Index j = j0; j < j0 + nj; ++j)  // the last m % 4 rows
      for (Eigen::Index i = m4; i < m; ++i) {
        double sum = accumulate ? Y[j * m + i] : 0.0;
        for (Eigen::Index p = 0; p < k; ++p) sum += A[p * m + i] * X[p * sp + j * sj];
        Y[j * m + i] = sum;
      }
  }
}

#else

void matmul(Eigen::Index m, Eigen::Index n, Eigen::Index k, const double* A, const double* X,
            Eigen::Index sp, Eigen::Index sj, double* Y, bool accumulate) {
  const Eigen::Map<const Mat> a(A, m, k);
  Eigen::Map<Mat> y(Y, m, n);
  const auto product = [&](const auto& x) {
    if (accumulate)
      y.noalias() += a * x;
    else
      y.noalias() = a * x;
  };
  using Outer = Eigen::OuterStride<>;
  if (sp == 1)
    product(Eigen::Map<const Mat, 0, Outer>(X, k, n, Outer(sj)));
  else if (sj == 1)
    product(Eigen::Map<const Mat, 0, Outer>(X, n, k, Outer(sp)).transpose());
  else
    product(Eigen::Map<const Mat, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>(
        X, k, n, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(sj, sp)));
}

#endif

}  // namespace patlab
