// tests/unit/gradient_testing.h: what the gradient tests share: one assertion that a gradient
// check passed on both the inputs and the parameters (naming both errors when it did not), a
// random coupling mismatch for the oscillators, and their gradient in their nonlinearity η
// against a central difference.
#pragma once

#include <gtest/gtest.h>

#include "patlab/core/gradient_check.h"
#include "patlab/emulators/coupled_oscillators.h"

namespace patlab {

// Both worst relative errors of a gradient check (input and parameter directions) are below
// `tolerance`: EXPECT_TRUE(gradients_match(r)).
inline ::testing::AssertionResult gradients_match(const GradCheck& r, double tolerance = 1e-6) {
  if (r.max_rel_error_x < tolerance && r.max_rel_error_theta < tolerance)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "worst relative gradient error: x " << r.max_rel_error_x << ", theta "
         << r.max_rel_error_theta << " (must both be below " << tolerance << ")";
}

// A structural coupling mismatch for n oscillators: symmetric, entries about N(0, std²), the
// diagonal the self-term, as OscillatorModel takes it (its J_extra).
inline Mat extra_coupling(int n, Rng& rng, double std) {
  Mat extra = normal_matrix(n, n, rng, std);
  extra = 0.5 * (extra + extra.transpose()).eval();
  return extra;
}

// ∂<g_y, y>/∂η at the twin's η0 = 0.1 (a twin made as OscillatorModel(spec, 0.1, Mat())):
// `analytic` from its constants_vjp, `numeric` the central difference with step eps.
struct EtaGradient {
  double analytic, numeric;
};

inline EtaGradient eta_gradient(const OscillatorTwin& twin, const Mat& x, const Vec& theta,
                                const Mat& g_y, double eps) {
  Vec g = Vec::Zero(1);
  twin.constants_vjp(x, theta, g_y, g);
  const auto L = [&](double eta) {
    Mat y;
    OscillatorModel(twin.model().spec(), eta, Mat()).forward(x, theta, y);
    return (g_y.array() * y.array()).sum();
  };
  return {g[0], (L(0.1 + eps) - L(0.1 - eps)) / (2 * eps)};
}

}  // namespace patlab
