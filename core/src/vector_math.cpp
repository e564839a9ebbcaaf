// Compiled with -ffast-math in native GCC builds (see core/CMakeLists.txt): with it, glibc's
// <math.h> declares the SIMD variants of sin and cos and GCC vectorises these loops into calls
// to libmvec (_ZGV?N?v_sin ...). Nothing else in this file depends on the flag: the loops only
// multiply by c, so fast-math's freedoms (reassociation, no NaN checks) change nothing here.
#include "patlab/core/vector_math.h"

#include <cmath>

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

namespace patlab {

#ifdef __wasm_simd128__

// WebAssembly has no vector math library, and musl's scalar sin and cos were a third of a PAT
// step there. The same method as musl (fdlibm): x = n π/2 + r with |r| <= π/4 (Cody-Waite: π/2
// in three parts of 33, 33 and 53 bits, each product with n exact for |n| < 2^20), then
// fdlibm's minimax polynomials for sin r and cos r, and the quadrant n mod 4 picks ± either.
// Two doubles per instruction; arguments beyond |x| = 1e5 (or not finite) go to musl.
namespace {

constexpr double kTwoOverPi = 6.36619772367581382433e-01;
constexpr double kPio2_1 = 1.57079632673412561417e+00;  // first 33 bits of π/2
constexpr double kPio2_2 = 6.07710050630396597660e-11;  // next 33 bits
constexpr double kPio2_3 = 2.02226624871116645580e-21;  // the rest, to 53 bits
constexpr double kS1 = -1.66666666666666324348e-01, kS2 = 8.33333333332248946124e-03,
                 kS3 = -1.98412698298579493134e-04, kS4 = 2.75573137070700676789e-06,
                 kS5 = -2.50507602534068634195e-08, kS6 = 1.58969099521155010221e-10;
constexpr double kC1 = 4.16666666666666019037e-02, kC2 = -1.38888888888741095749e-03,
                 kC3 = 2.48015872894767294178e-05, kC4 = -2.75573143513906633035e-07,
                 kC5 = 2.08757232129817482790e-09, kC6 = -1.13596475577881948265e-11;

inline v128_t splat(double v) { return wasm_f64x2_splat(v); }
inline v128_t mul(v128_t a, v128_t b) { return wasm_f64x2_mul(a, b); }
inline v128_t add(v128_t a, v128_t b) { return wasm_f64x2_add(a, b); }
inline v128_t sub(v128_t a, v128_t b) { return wasm_f64x2_sub(a, b); }

// sin (shift 0) or cos (shift 1: cos x = sin(x + π/2), one quadrant on) of two arguments.
inline v128_t sin_quadrant(v128_t x, double shift) {
  const v128_t n = wasm_f64x2_nearest(mul(x, splat(kTwoOverPi)));
  v128_t r = sub(x, mul(n, splat(kPio2_1)));
  r = sub(r, mul(n, splat(kPio2_2)));
  r = sub(r, mul(n, splat(kPio2_3)));
  const v128_t z = mul(r, r), w = mul(z, z);
  // sin r = r + r³ (S1 + z (S2 + z S3 + z² S4 + z³ (S5 + z S6)))  (musl __sin with y = 0)
  const v128_t sr = add(add(splat(kS2), mul(z, add(splat(kS3), mul(z, splat(kS4))))),
                        mul(mul(z, w), add(splat(kS5), mul(z, splat(kS6)))));
  const v128_t sin_r = add(r, mul(mul(z, r), add(splat(kS1), mul(z, sr))));
  // cos r = 1 − z/2 + z² (C1 + ...), with musl's compensation of 1 − z/2 (__cos with y = 0)
  const v128_t cr = add(mul(z, add(splat(kC1), mul(z, add(splat(kC2), mul(z, splat(kC3)))))),
                        mul(mul(w, w), add(splat(kC4), mul(z, add(splat(kC5), mul(z, splat(kC6)))))));
  const v128_t hz = mul(splat(0.5), z), one_hz = sub(splat(1.0), hz);
  const v128_t cos_r = add(one_hz, add(sub(sub(splat(1.0), one_hz), hz), mul(z, cr)));
  // Quadrant q = (n + shift) mod 4: sin r, cos r, −sin r, −cos r.
  const v128_t m = add(n, splat(shift));
  const v128_t q = sub(m, mul(splat(4.0), wasm_f64x2_floor(mul(m, splat(0.25)))));
  const v128_t odd = wasm_f64x2_ne(sub(q, mul(splat(2.0), wasm_f64x2_floor(mul(q, splat(0.5))))),
                                   splat(0.0));
  const v128_t v = wasm_v128_bitselect(cos_r, sin_r, odd);
  return wasm_v128_bitselect(wasm_f64x2_neg(v), v, wasm_f64x2_ge(q, splat(2.0)));
}

template <double (*Scalar)(double)>
void apply(const double* x, double c, double* y, std::ptrdiff_t n, double shift) {
  std::ptrdiff_t i = 0;
  for (; i + 2 <= n; i += 2) {
    const v128_t a = mul(wasm_v128_load(x + i), splat(c));
    // All lanes in range (|a| <= 1e5; NaN fails the comparison too)?
    if (wasm_i64x2_all_true(wasm_f64x2_le(wasm_f64x2_abs(a), splat(1e5)))) {
      wasm_v128_store(y + i, sin_quadrant(a, shift));
    } else {
      const double a0 = wasm_f64x2_extract_lane(a, 0), a1 = wasm_f64x2_extract_lane(a, 1);
      y[i] = Scalar(a0);
      y[i + 1] = Scalar(a1);
    }
  }
  for (; i < n; ++i) {  // the last element of an odd count
    const double a = c * x[i];
    y[i] = std::abs(a) <= 1e5 ? wasm_f64x2_extract_lane(sin_quadrant(splat(a), shift), 0)
                              : Scalar(a);
  }
}

double scalar_sin(double v) { return std::sin(v); }
double scalar_cos(double v) { return std::cos(v); }

}  // namespace

void sin_scaled(const double* x, double c, double* y, std::ptrdiff_t n) {
  apply<scalar_sin>(x, c, y, n, 0.0);
}

void cos_scaled(const double* x, double c, double* y, std::ptrdiff_t n) {
  apply<scalar_cos>(x, c, y, n, 1.0);
}

#else

void sin_scaled(const double* x, double c, double* y, std::ptrdiff_t n) {
  for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = std::sin(c * x[i]);
}

void cos_scaled(const double* x, double c, double* y, std::ptrdiff_t n) {
  for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = std::cos(c * x[i]);
}

#endif

// r = √(−2 log u1) needs no care with fast-math: u1 is in (0, 1], so the logarithm is finite.
void box_muller(const double* u1, const double* u2, double* c, double* s, std::ptrdiff_t n) {
  sin_scaled(u2, 6.283185307179586, s, n);
  cos_scaled(u2, 6.283185307179586, c, n);
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    const double r = std::sqrt(-2.0 * std::log(u1[i]));
    c[i] *= r;
    s[i] *= r;
  }
}

}  // namespace patlab
