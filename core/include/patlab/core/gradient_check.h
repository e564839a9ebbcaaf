// patlab/core/gradient_check.h: analytic gradients against finite differences.
//
// For a random cotangent g_y, the scalar L(x, θ) = <g_y, f(x, θ)> has gradient exactly the
// VJP (g_x, g_θ). Along random directions v we compare <∇L, v> with the central difference
// (L(x + εv) − L(x − εv)) / 2ε. Every twin and every layer is checked this way in the tests;
// to add a case, build the object and call the matching function below.
#pragma once

#include "patlab/core/layer.h"
#include "patlab/core/rng.h"
#include "patlab/core/system.h"

namespace patlab {

struct GradCheck {
  double max_rel_error_x = 0.0;      // worst relative error over the input directions
  double max_rel_error_theta = 0.0;  // worst relative error over the parameter directions
};

// Checks Twin::vjp at (x, theta) against Twin::forward.
GradCheck check_twin_gradients(const Twin& twin, const Mat& x, const Vec& theta, Rng& rng,
                               int directions = 6, double eps = 1e-6);

// Checks Layer::backward against Layer::forward (twin pass) at input x and the layer's
// current parameters. Restores the parameters and zeroes grad() afterwards.
GradCheck check_layer_gradients(Layer& layer, const Mat& x, Rng& rng, int directions = 6,
                                double eps = 1e-6);

}  // namespace patlab
