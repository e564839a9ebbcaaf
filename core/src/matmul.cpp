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

namespace {
#ifndef __wasm_simd128__
// Up to this many elements the packed factor is one panel block of Eigen's kernel (kc = k,
// mc = m: 512 kB, well inside L2); larger factors go through matmul, which blocks for cache.
constexpr Eigen::Index kMaxPacked = 256 * 256;
namespace ei = Eigen::internal;
using Traits = ei::gebp_traits<double, double>;
using LhsMapper = ei::const_blas_data_mapper<double, Eigen::Index, Eigen::ColMajor>;
using ResMapper = ei::blas_data_mapper<double, Eigen::Index, Eigen::ColMajor, Eigen::Unaligned, 1>;
#endif
}  // namespace

void PackedLhs::pack(Eigen::Index m, Eigen::Index k, const double* A) {
  m_ = m;
  k_ = k;
  block_.resize(size_t(m * k));
#ifndef __wasm_simd128__
  packed_ = m * k <= kMaxPacked;
  if (packed_) {
    // The same packing, kernel and panel sizes as Eigen's general_matrix_matrix_product.
    ei::gemm_pack_lhs<double, Eigen::Index, LhsMapper, Traits::mr, Traits::LhsProgress,
                      Traits::LhsPacket4Packing, Eigen::ColMajor>
        pack;
    pack(block_.data(), LhsMapper(A, m), k, m);
    return;
  }
#endif
  std::copy(A, A + m * k, block_.data());
}

void PackedLhs::multiply(Eigen::Index n, const double* X, double* Y, bool accumulate) const {
#ifndef __wasm_simd128__
  if (packed_) {
    if (!accumulate) std::fill(Y, Y + m_ * n, 0.0);
    ei::gemm_pack_rhs<double, Eigen::Index, LhsMapper, Traits::nr, Eigen::ColMajor> pack_rhs;
    ei::gebp_kernel<double, double, Eigen::Index, ResMapper, Traits::mr, Traits::nr, false, false>
        gebp;
    // X in blocks of columns that keep its packed copy near 128 kB.
    const Eigen::Index nc =
        std::max<Eigen::Index>(Traits::nr, (16384 / std::max<Eigen::Index>(k_, 1)) / Traits::nr * Traits::nr);
    thread_local std::vector<double, Eigen::aligned_allocator<double>> blockB;
    if (blockB.size() < size_t(k_ * std::min(n, nc))) blockB.resize(size_t(k_ * std::min(n, nc)));
    const LhsMapper x(X, k_);
    const ResMapper y(Y, m_);
    for (Eigen::Index j = 0; j < n; j += nc) {
      const Eigen::Index cols = std::min(nc, n - j);
      pack_rhs(blockB.data(), x.getSubMapper(0, j), k_, cols);
      gebp(y.getSubMapper(0, j), block_.data(), blockB.data(), m_, k_, cols, 1.0);
    }
    return;
  }
#endif
  matmul(m_, n, k_, block_.data(), X, 1, k_, Y, accumulate);
}

}  // namespace patlab
