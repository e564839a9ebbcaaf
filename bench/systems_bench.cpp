// patlab_bench_systems: Google Benchmark suite of the catalog's systems and the machine's own
// matrix-multiply rate.
//
//   device/<system>/<batch>      the emulated device's forward (true physics, noise, mismatch)
//   twin_fwd/<system>/<batch>    the twin's forward
//   twin_vjp/<system>/<batch>    the twin's vector-Jacobian product (input and θ cotangents)
//   pat_step/<system>            one PAT training step, batch 32: physical layer (default
//                                shape) -> affine readout (4 classes), Adam
//   gemm/<n>x<n>x<k>             Eigen C = A B, A n x n, B n x k, doubles (flops counter)
//   osc64_fwd/<batch>, osc64_vjp/<batch>
//                                the reference experiment's 64-oscillator twin (5 RK4 steps)
//                                with a "flops" counter of its matrix products alone, to set
//                                against gemm/64x64x<batch>
//
// Per-sample costs: the items_per_second counter counts samples. "<system>" is the catalog
// id at its default shape; "oscillators64" is the reference experiment's layer (n = 64).
//
//   patlab_bench_systems --benchmark_format=json   (scripts/bench.sh reads that)
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "patlab/core/dataset.h"
#include "patlab/core/layer.h"
#include "patlab/core/network.h"
#include "patlab/core/rng.h"
#include "patlab/core/trainer.h"
#include "patlab/emulators/catalog.h"

namespace {

using namespace patlab;

struct SystemCase {
  std::string label;
  std::string id;
  Shape shape;
  KnobValues knobs;
};

const KnobValues kOscReference = {{"steps", 5}, {"dt", 0.1}, {"eta", 0.2},
                                  {"coupling_noise", 0.1}, {"readout_noise_rad", 0.01}};

std::vector<SystemCase> cases() {
  std::vector<SystemCase> out;
  for (const CatalogEntry& e : catalog()) out.push_back({e.info.id, e.info.id, Shape{}, {}});
  out.push_back({"oscillators64", "oscillators", Shape{64, 64}, kOscReference});
  return out;
}

// Inputs in [0, 1] (inside every system's input range after clamping to it).
Mat random_inputs(const PhysicalSystem& d, int batch, uint64_t seed) {
  Rng rng(seed);
  Mat x(d.input_size(), batch);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    double v = rng.uniform();
    v = std::min(std::max(v, d.input_min()), d.input_max());
    x.data()[i] = v;
  }
  return x;
}

// The device's forward pass (twin = false) or its twin's, per sample.
void bm_forward(benchmark::State& st, const SystemCase& c, int batch, bool twin) {
  SystemInstance s = make_system(c.id, c.shape, c.knobs, 1);
  const Mat x = random_inputs(*s.device, batch, 2);
  Mat y;
  for (auto _ : st) {
    if (twin) s.twin->forward(x, s.theta0, y);
    else s.device->forward(x, s.theta0, y);
    benchmark::DoNotOptimize(y.data());
  }
  st.SetItemsProcessed(st.iterations() * batch);
}

void bm_twin_vjp(benchmark::State& st, const SystemCase& c, int batch) {
  SystemInstance s = make_system(c.id, c.shape, c.knobs, 1);
  const Mat x = random_inputs(*s.device, batch, 2);
  Rng rng(3);
  Mat g_y(s.twin->output_size(), batch);
  for (Eigen::Index i = 0; i < g_y.size(); ++i) g_y.data()[i] = rng.normal();
  Mat g_x;
  Vec g_theta = Vec::Zero(s.twin->param_size());
  for (auto _ : st) {
    s.twin->vjp(x, s.theta0, g_y, &g_x, &g_theta);
    benchmark::DoNotOptimize(g_x.data());
    benchmark::DoNotOptimize(g_theta.data());
  }
  st.SetItemsProcessed(st.iterations() * batch);
}

void bm_pat_step(benchmark::State& st, const SystemCase& c) {
  SystemInstance s = make_system(c.id, c.shape, c.knobs, 1);
  const int classes = 4;
  Dataset data;
  data.name = "random";
  data.x = random_inputs(*s.device, 512, 4);
  data.num_classes = classes;
  data.y.resize(512);
  Rng rng(5);
  for (int i = 0; i < 512; ++i) data.y[i] = int(rng.uniform() * classes) % classes;
  Network net;
  const int out = s.device->output_size();
  net.add(std::make_unique<PhysicalLayer>(s.device, s.twin, s.theta0));
  Rng wrng(6);
  net.add(std::make_unique<AffineLayer>(out, classes, wrng));
  TrainConfig cfg;
  cfg.method = Method::PAT;
  cfg.batch_size = 32;
  Trainer trainer(net, data, cfg);
  for (auto _ : st) benchmark::DoNotOptimize(trainer.step().loss);
  st.SetItemsProcessed(st.iterations() * 32);
}

void bm_gemm(benchmark::State& st, int n, int k) {
  Rng rng(7);
  Mat a(n, n), b(n, k), c(n, k);
  for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = rng.normal();
  for (Eigen::Index i = 0; i < b.size(); ++i) b.data()[i] = rng.normal();
  for (auto _ : st) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  st.counters["flops"] = benchmark::Counter(2.0 * n * n * k, benchmark::Counter::kIsIterationInvariantRate);
}

// Matrix-product flops the oscillator twin performs: every acceleration is J S (2 n² B); the
// forward takes 4 per RK4 step but the first step's second stage, which is its first (p(0) =
// 0), so 4 steps − 1; the VJP re-integrates (the same) and pulls back each stage with J kp and
// kp Sᵀ (2 n² B each), except the last step's fourth stage (kp = 0) and the first step's first
// and second, pulled back as one: 4 steps − 2 of each. Skipped products are not counted.
void bm_osc64(benchmark::State& st, int batch, bool vjp) {
  SystemInstance s = make_system("oscillators", Shape{64, 64}, kOscReference, 1);
  const int n = 64, steps = 5;
  const Mat x = random_inputs(*s.device, batch, 2);
  Rng rng(3);
  Mat g_y(n, batch), y, g_x;
  for (Eigen::Index i = 0; i < g_y.size(); ++i) g_y.data()[i] = rng.normal();
  Vec g_theta = Vec::Zero(s.twin->param_size());
  for (auto _ : st) {
    if (vjp) {
      s.twin->vjp(x, s.theta0, g_y, &g_x, &g_theta);
      benchmark::DoNotOptimize(g_x.data());
    } else {
      s.twin->forward(x, s.theta0, y);
      benchmark::DoNotOptimize(y.data());
    }
  }
  const double products = vjp ? (4.0 * steps - 1) + 2 * (4.0 * steps - 2) : 4.0 * steps - 1;
  st.counters["flops"] = benchmark::Counter(products * 2.0 * n * n * batch,
                                            benchmark::Counter::kIsIterationInvariantRate);
  st.SetItemsProcessed(st.iterations() * batch);
}

}  // namespace

int main(int argc, char** argv) {
  for (const SystemCase& c : cases()) {
    for (int batch : {1, 32, 256}) {
      benchmark::RegisterBenchmark(("device/" + c.label + "/" + std::to_string(batch)).c_str(),
                                   [c, batch](benchmark::State& st) { bm_forward(st, c, batch, false); });
      benchmark::RegisterBenchmark(("twin_fwd/" + c.label + "/" + std::to_string(batch)).c_str(),
                                   [c, batch](benchmark::State& st) { bm_forward(st, c, batch, true); });
      benchmark::RegisterBenchmark(("twin_vjp/" + c.label + "/" + std::to_string(batch)).c_str(),
                                   [c, batch](benchmark::State& st) { bm_twin_vjp(st, c, batch); });
    }
    benchmark::RegisterBenchmark(("pat_step/" + c.label).c_str(),
                                 [c](benchmark::State& st) { bm_pat_step(st, c); });
  }
  for (int batch : {256, 1024}) {
    benchmark::RegisterBenchmark(("osc64_fwd/" + std::to_string(batch)).c_str(),
                                 [batch](benchmark::State& st) { bm_osc64(st, batch, false); });
    benchmark::RegisterBenchmark(("osc64_vjp/" + std::to_string(batch)).c_str(),
                                 [batch](benchmark::State& st) { bm_osc64(st, batch, true); });
  }
  for (auto [n, k] : std::vector<std::pair<int, int>>{{64, 32}, {64, 256}, {64, 1024}, {256, 256}, {512, 512}})
    benchmark::RegisterBenchmark(("gemm/" + std::to_string(n) + "x" + std::to_string(n) + "x" + std::to_string(k)).c_str(),
                                 [n = n, k = k](benchmark::State& st) { bm_gemm(st, n, k); });
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
