// patlab_bench_reference: the benchmark suite's reference experiment, end to end, timed.
//
// Two coupled-oscillator layers on the 8x8 UCI digits (pack digits8), as in the benchmarks
// issue and mirrored line by line by bench/reference_torch.py:
//
//   64 pixels in [0, 1] -> initial angles of 64 oscillators          (physical layer 1)
//   64 angles + 10 class oscillators starting at angle 0 -> 74 oscillators (physical layer 2)
//   the 10 class oscillators' final angles x alpha (one trainable scalar) -> softmax CE
//
// Both layers: 5 RK4 steps of dt = 0.1 (t = 0.5); couplings J (symmetric) and drives e
// trainable, |θ| <= 1 (clamped after every update). The device has the emulator's mismatch and
// noise (eta = 0.2, coupling_noise = 0.1, readout_noise_rad = 0.01, as the default experiment);
// the twin is nominal. Batch 32, Adam (lr 0.02), 15 epochs of the pack's training split (44
// full batches an epoch: the trainer drops the last partial batch, as the PyTorch script does).
//
// The 64 + 10 layer is built from catalog parts: a digital "append 10 zeros" layer (AppendLayer),
// a 74-pendula oscillator layer, and a digital "keep the last 10" layer (SelectLayer). Both are
// exact (no parameters); the physics is the catalog's. bench/reference_experiment.json is the
// same network as an experiment file, for `patlab train`.
//
// Output: one line per method, `key=value` pairs, easy to parse:
//   reference method=pat steps=660 seconds=… steps_per_s=… cpu_seconds=… last_loss=…
//             test_acc_device=… test_acc_twin=… threads=… isa=… runs=… min_steps_per_s=…
//             max_steps_per_s=…
// With --repeat N each method is trained N times from the same start (the same trajectory
// each time): a `run` line per training, then the `reference` line of the median run by
// steps/s, with the range. One training here lasts about a second, short enough for a shared
// machine's hiccups to move it by 10 %; the median of a few is the figure to compare.
// (cpu_seconds: the process's, all threads; threads: those the emulators use, PATLAB_THREADS;
// isa: the vector instructions the build was allowed, e.g. avx512 with PATLAB_NATIVE_ARCH).
// and in WebAssembly a last line with the heap's high-water mark.
//
//   patlab_bench_reference --data-dir DIR [--methods pat,in-silico,ideal] [--epochs 15]
//                          [--batch 32] [--seed 1] [--repeat 1]
//   patlab_bench_reference --data-dir DIR --export-csv PREFIX   (the split, for PyTorch)
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>
#include <sstream>
#include <string>
#include <vector>

#include "patlab/core/layer.h"
#include "patlab/core/network.h"
#include "patlab/core/trainer.h"
#include "patlab/datasets/pack.h"
#include "patlab/emulators/catalog.h"
#include "patlab/emulators/parallel.h"

#ifdef __EMSCRIPTEN__
#include <emscripten/heap.h>
#include <malloc.h>
#endif

namespace {

using namespace patlab;

// The widest vector instruction set this build was compiled for.
const char* instruction_set() {
#if defined(__AVX512F__)
  return "avx512";
#elif defined(__AVX2__)
  return "avx2";
#elif defined(__AVX__)
  return "avx";
#elif defined(__SSE2__)
  return "sse2";
#elif defined(__wasm_simd128__)
  return "wasm-simd128";
#else
  return "scalar";
#endif
}

struct Options {
  std::string data_dir;
  std::vector<std::string> methods = {"pat", "in-silico", "ideal"};
  int epochs = 15;
  int batch = 32;
  uint64_t seed = 1;
  int repeat = 1;
  std::string export_csv;  // write the pack's split as CSV (label, then features) and stop
};

const KnobValues kKnobs = {{"steps", 5},  {"dt", 0.1},  {"eta", 0.2},
                           {"coupling_noise", 0.1}, {"readout_noise_rad", 0.01}};

void add_oscillators(Network& net, int n, uint64_t seed) {
  SystemInstance s = make_system("oscillators", Shape{n, n}, kKnobs, seed);
  net.add(std::make_unique<PhysicalLayer>(s.device, s.twin, s.theta0));
}

Network reference_network(uint64_t seed) {
  Network net;
  add_oscillators(net, 64, seed);
  net.add(std::make_unique<AppendLayer>(64, 10, 0.0));  // the class oscillators, at rest
  add_oscillators(net, 74, seed + 1);
  net.add(std::make_unique<SelectLayer>(74, 64, 10));  // the class oscillators' final angles
  net.add(std::make_unique<ReadoutScaleLayer>(10, 10.0));
  return net;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

int usage() {
  std::fprintf(stderr,
               "usage: patlab_bench_reference --data-dir DIR [--methods pat,in-silico,ideal] "
               "[--epochs 15] [--batch 32] [--seed 1] [--repeat 1]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--data-dir" && (v = next())) o.data_dir = v;
    else if (a == "--methods" && (v = next())) o.methods = split(v);
    else if (a == "--epochs" && (v = next())) o.epochs = std::atoi(v);
    else if (a == "--batch" && (v = next())) o.batch = std::atoi(v);
    else if (a == "--seed" && (v = next())) o.seed = std::strtoull(v, nullptr, 10);
    else if (a == "--repeat" && (v = next())) o.repeat = std::atoi(v);
    else if (a == "--export-csv" && (v = next())) o.export_csv = v;
    else return usage();
  }
  if (o.data_dir.empty() || o.epochs < 1 || o.batch < 1 || o.repeat < 1) return usage();

  try {
    const DataPack pack = decode_pack(read_file_bytes(o.data_dir + "/digits8.pdp"));
    std::printf("reference data=digits8 train=%d test=%d features=%d\n", pack.train.size(),
                pack.test.size(), pack.train.features());
    if (!o.export_csv.empty()) {
      // The same split for bench/reference_torch.py: PREFIX_train.csv and PREFIX_test.csv.
      for (const auto& [name, d] : {std::make_pair("train", &pack.train), std::make_pair("test", &pack.test)}) {
        const std::string path = o.export_csv + "_" + name + ".csv";
        std::FILE* f = std::fopen(path.c_str(), "w");
        if (!f) throw std::runtime_error("cannot write " + path);
        for (int b = 0; b < d->size(); ++b) {
          std::fprintf(f, "%d", int(d->y[b]));
          for (int r = 0; r < d->features(); ++r) std::fprintf(f, ",%.17g", d->x(r, b));
          std::fprintf(f, "\n");
        }
        std::fclose(f);
      }
      return 0;
    }
    for (const std::string& m : o.methods) {
      struct Run {
        double secs, cpu, loss, acc_device, acc_twin;
      };
      std::vector<Run> runs;
      const long long steps = (long long)(pack.train.size() / o.batch) * o.epochs;
      for (int r = 0; r < o.repeat; ++r) {
        Network net = reference_network(o.seed);
        TrainConfig cfg;
        cfg.method = method_from_name(m);
        cfg.batch_size = o.batch;
        cfg.seed = o.seed;
        cfg.optimizer.kind = OptimizerKind::Adam;
        cfg.optimizer.learning_rate = 0.02;
        Trainer trainer(net, pack.train, cfg);
        double loss = 0.0;
        const auto t0 = std::chrono::steady_clock::now();
        const std::clock_t c0 = std::clock();
        for (long long s = 0; s < steps; ++s) loss = trainer.step().loss;
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        // Processor time of this process (natively; emscripten's clock() follows the wall clock).
        const double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
        const Evaluation dev = trainer.evaluate(pack.test, Pass::Device);
        const Evaluation twin = trainer.evaluate(pack.test, Pass::Twin);
        runs.push_back({secs, cpu, loss, dev.accuracy, twin.accuracy});
        if (o.repeat > 1)
          std::printf("run method=%s run=%d seconds=%.3f steps_per_s=%.2f\n", m.c_str(), r + 1,
                      secs, steps / secs);
      }
      std::vector<Run> by_speed = runs;
      std::sort(by_speed.begin(), by_speed.end(),
                [](const Run& a, const Run& b) { return a.secs < b.secs; });
      const Run& med = by_speed[by_speed.size() / 2];
      std::printf("reference method=%s steps=%lld seconds=%.3f steps_per_s=%.2f cpu_seconds=%.3f "
                  "last_loss=%.4f test_acc_device=%.4f test_acc_twin=%.4f threads=%d isa=%s "
                  "runs=%d min_steps_per_s=%.2f max_steps_per_s=%.2f\n",
                  m.c_str(), steps, med.secs, steps / med.secs, med.cpu, med.loss, med.acc_device,
                  med.acc_twin, worker_threads(), instruction_set(), o.repeat,
                  steps / by_speed.back().secs, steps / by_speed.front().secs);
      std::fflush(stdout);
    }
#ifdef __EMSCRIPTEN__
    const struct mallinfo mi = mallinfo();
    std::printf("wasm heap_bytes=%zu malloc_arena_bytes=%d malloc_in_use_bytes=%d\n",
                emscripten_get_heap_size(), mi.arena, mi.uordblks);
#endif
  } catch (const std::exception& e) {
    std::fprintf(stderr, "patlab_bench_reference: %s\n", e.what());
    return 1;
  }
  return 0;
}
