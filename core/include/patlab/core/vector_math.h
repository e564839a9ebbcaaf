// patlab/core/vector_math.h: sines and cosines of whole arrays and small matrix products, the
// inner loops of the ODE systems. In native GCC builds they run on glibc's vector math library (libmvec: 2, 4 or 8
// doubles per call, whichever the build's -march allows, within 4 ulp of libm); elsewhere
// (WebAssembly, other compilers) they are plain loops over std::sin and std::cos.
#pragma once

#include <cstddef>
#include <vector>

#include "patlab/core/tensor.h"

namespace patlab {

// y[i] = sin(c * x[i]) and y[i] = cos(c * x[i]) for 0 <= i < n; x and y may be the same array.
void sin_scaled(const double* x, double c, double* y, std::ptrdiff_t n);
void cos_scaled(const double* x, double c, double* y, std::ptrdiff_t n);

// Box-Muller over arrays: with r = √(−2 log u1[i]) and φ = 2π u2[i], c[i] = r cos φ and
// s[i] = r sin φ (u1 in (0, 1], u2 in [0, 1)); what Rng::add_normal draws its normals with.
void box_muller(const double* u1, const double* u2, double* c, double* s, std::ptrdiff_t n);

// Y = A X, or Y += A X if accumulate: A is m x k (column major, no gaps), X is k x n with its
// element (p, j) at X[p * sp + j * sj] (so sp = 1, sj = k for a column-major X, and sp = n,
// sj = 1 for the transpose of a column-major n x k matrix), Y is m x n column major. Natively
// this is Eigen's product; in WebAssembly, where Eigen 3.4 has no SIMD, a kernel on 128-bit
// wasm vectors (4 rows x 4 columns of Y in registers), about twice Eigen's scalar speed there.
void matmul(Eigen::Index m, Eigen::Index n, Eigen::Index k, const double* A, const double* X,
            Eigen::Index sp, Eigen::Index sj, double* Y, bool accumulate);

// A left factor A (m x k) prepared once for many products A X, as the ODE systems multiply
// every RK4 stage by the same coupling matrix. Natively A is packed once into the panel
// layout of Eigen's product kernel, which otherwise repacks it for every product (8 % of a
// PAT step of the oscillator network); in WebAssembly it is a copy of A for matmul's kernel.
// Large factors (over 256 x 256) fall back to matmul. Safe to share between threads.
class PackedLhs {
 public:
  PackedLhs() = default;
  PackedLhs(Eigen::Index m, Eigen::Index k, const double* A) { pack(m, k, A); }
  // Packs a new factor, reusing the storage of the last one.
  void pack(Eigen::Index m, Eigen::Index k, const double* A);
  Eigen::Index rows() const { return m_; }
  Eigen::Index cols() const { return k_; }
  // Y = A X, or Y += A X if accumulate: X is k x n column major (leading dimension k), Y is
  // m x n column major.
  void multiply(Eigen::Index n, const double* X, double* Y, bool accumulate) const;

 private:
  Eigen::Index m_ = 0, k_ = 0;
  bool packed_ = false;  // block_ holds Eigen's panels (else A itself, column major)
  std::vector<double, Eigen::aligned_allocator<double>> block_;
};

}  // namespace patlab
