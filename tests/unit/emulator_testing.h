// tests/unit/emulator_testing.h: what the emulated systems' own tests share: the headers they
// train and check gradients with, making a system's instances and measuring a knob's effect,
// the check that a description has every kind of knob, and the finite-difference check of a
// calibratable twin's constants (each test asserts with its own tolerance).
#pragma once

#include <gtest/gtest.h>

#include "patlab/core/gradient_check.h"
#include "patlab/core/trainer.h"
#include "patlab/core/twin_learning.h"
#include "patlab/datasets/toy2d.h"
#include "patlab/emulators/emulated_system.h"

namespace patlab {

// What a knob does to a device's output: inputs x, the output y of the device with the knob
// and the output clean of the default device (same seed), both at their own θ0.
struct KnobEffect {
  Mat x, y, clean;
};

// Makes instances of one system as its tests do: make(knobs, seed, shape).
struct InstanceMaker {
  CatalogEntry entry;
  SystemInstance operator()(const KnobValues& knobs = {}, uint64_t seed = 1,
                            Shape shape = {}) const {
    return entry.make(shape, knobs, seed);
  }
  // The default shape's devices with knobs and with none, run on `samples` inputs uniform in
  // [-1, 1] drawn from Rng(rng_seed).
  KnobEffect effect(const KnobValues& knobs, uint64_t rng_seed, int samples) const {
    SystemInstance with = (*this)(knobs), clean = (*this)({});
    Rng rng(rng_seed);
    KnobEffect e{uniform_matrix(with.device->input_size(), samples, rng), Mat(), Mat()};
    with.device->forward(e.x, with.theta0, e.y);
    clean.device->forward(e.x, clean.theta0, e.clean);
    return e;
  }
};

// Expects a knob of every kind in a system's description, settings included.
inline void expect_every_knob_kind(const SystemInfo& info) {
  for (const char* kind : {"noise", "mismatch", "structural", "drift", "setting"}) {
    bool found = false;
    for (const KnobInfo& k : info.knobs) found |= k.kind == kind;
    EXPECT_TRUE(found) << info.id << ": " << kind;
  }
}

// ∂<g_y, y>/∂c at the twin's constants c0: analytic[i] from constants_vjp, numeric[i] the
// central difference with step eps in c_i. The twin's constants are c0 again afterwards.
struct ConstantGradients {
  Vec analytic, numeric;
};

inline ConstantGradients constant_gradients(CalibratableTwin& twin, const Mat& x,
                                            const Vec& theta, const Mat& g_y,
                                            double eps = 1e-6) {
  const Vec c0 = twin.constants();
  ConstantGradients r{Vec::Zero(c0.size()), Vec::Zero(c0.size())};
  twin.constants_vjp(x, theta, g_y, r.analytic);
  for (Eigen::Index i = 0; i < c0.size(); ++i) {
    Vec c = c0;
    Mat yp, ym;
    c[i] = c0[i] + eps;
    twin.set_constants(c);
    twin.forward(x, theta, yp);
    c[i] = c0[i] - eps;
    twin.set_constants(c);
    twin.forward(x, theta, ym);
    r.numeric[i] = (g_y.array() * (yp - ym).array()).sum() / (2 * eps);
  }
  twin.set_constants(c0);
  return r;
}

}  // namespace patlab
