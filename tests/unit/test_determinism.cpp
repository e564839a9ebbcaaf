// Same seed, same results: bit for bit within one build, and native and WebAssembly builds
// agree within a stated tolerance. The reference figures below were produced by the native
// build; the wasm build runs this same test under node and must land within kCrossBuildTol.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "patlab/experiment/experiment.h"

namespace patlab {
namespace {

// Relative tolerance between builds. The builds use different libm (glibc natively, musl in
// emscripten), whose sin/cos/exp may differ in the last bit; 60 steps of training amplify that
// only a little (seen: 2e-15 relative between the two builds).
constexpr double kCrossBuildTol = 1e-12;

struct Outcome {
  double loss_sum = 0, param_sum = 0, param_norm = 0;
  long long queries = 0;
};

Outcome run_reference() {
  Experiment e = default_experiment();
  e.data.train_size = 128;
  e.layers[1].knobs["readout_noise_rad"] = 0.01;  // exercise the device's noise stream too
  auto run = build_run(e);
  Outcome o;
  for (int i = 0; i < 60; ++i) o.loss_sum += run->trainer->step().loss;
  const Vec p = run->net.get_params();
  o.param_sum = p.sum();
  o.param_norm = p.norm();
  o.queries = run->net.device_queries();
  return o;
}

// Produced by the native Release build (see the file comment).
constexpr double kRefLossSum = 13.811563406068789;
constexpr double kRefParamSum = 1.8962893715392424;
constexpr double kRefParamNorm = 5.0278469422506857;

}  // namespace

TEST(Determinism, SameSeedSameBuildGivesIdenticalResults) {
  const Outcome a = run_reference(), b = run_reference();
  EXPECT_EQ(a.loss_sum, b.loss_sum);
  EXPECT_EQ(a.param_sum, b.param_sum);
  EXPECT_EQ(a.param_norm, b.param_norm);
}

TEST(Determinism, NativeAndWasmBuildsAgreeWithinTolerance) {
  const Outcome o = run_reference();
  std::printf("loss_sum %.17g  param_sum %.17g  param_norm %.17g  queries %lld\n", o.loss_sum,
              o.param_sum, o.param_norm, o.queries);
  EXPECT_NEAR(o.loss_sum, kRefLossSum, kCrossBuildTol * kRefLossSum);
  EXPECT_NEAR(o.param_sum, kRefParamSum, kCrossBuildTol * std::abs(kRefParamSum));
  EXPECT_NEAR(o.param_norm, kRefParamNorm, kCrossBuildTol * kRefParamNorm);
  EXPECT_EQ(o.queries, 60 * 32);
}

}  // namespace patlab
