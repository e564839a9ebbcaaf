// patlab_mismatch_sweep: for every emulated system, in-silico training against PAT as the
// twin's mismatch grows, measured where it matters: accuracy on the device.
//
//   patlab_mismatch_sweep [--steps N] [--system ID] [--data NAME] [--reach F]
//
// Task: a disc inside a ring (circles; 400 training, 400 test points). Network: affine 2 -> system
// inputs, two physical layers (two devices of the system), affine outputs -> 2. Mismatch level s scales every
// knob of kind "mismatch" and "structural" from its default (no mismatch) towards its maximum,
// default + s * (max - default) / 2, all at once; noise and drift stay off. Same seeds for every cell. Progress goes to
// stderr, the Markdown table to stdout.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "patlab/core/trainer.h"
#include "patlab/datasets/toy2d.h"
#include "patlab/emulators/catalog.h"

using namespace patlab;

namespace {

double device_accuracy(const std::string& id, double level, double reach, Method method,
                       int steps, const Dataset& train, const Dataset& test) {
  const CatalogEntry& entry = find_system(id);
  KnobValues knobs;
  for (const KnobInfo& k : entry.info.knobs)
    if (k.kind == "mismatch" || k.kind == "structural") {
      const double v = k.default_value + level * reach * (k.max - k.default_value);
      knobs[k.key] = k.integer ? std::round(v) : v;
    }
  // Two physical layers of the same kind (different devices): errors compound with depth.
  const Shape shape = entry.info.default_shape;
  const Shape square{shape.outputs, shape.outputs};
  SystemInstance first = entry.make(shape, knobs, 7), second = entry.make(square, knobs, 8);
  Rng rng(3);
  Network net;
  net.add(std::make_unique<AffineLayer>(2, first.device->input_size(), rng));
  net.add(std::make_unique<PhysicalLayer>(first.device, first.twin, first.theta0));
  net.add(std::make_unique<PhysicalLayer>(second.device, second.twin, second.theta0));
  net.add(std::make_unique<AffineLayer>(second.device->output_size(), 2, rng));
  TrainConfig cfg;
  cfg.method = method;
  Trainer t(net, train, cfg);
  for (int i = 0; i < steps; ++i) t.step();
  return t.evaluate(test, Pass::Device).accuracy;
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 400;
  double reach = 0.5;
  std::string only, data = "circles";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) {
      steps = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--system") && i + 1 < argc) {
      only = argv[++i];
    } else if (!std::strcmp(argv[i], "--reach") && i + 1 < argc) {
      reach = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--data") && i + 1 < argc) {
      data = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--steps N] [--system ID] [--data NAME] [--reach F]\n"
                   "  --reach F: at level 1 every mismatch knob is a fraction F of the way from its\n"
                   "             default to its maximum (default 0.5)\n",
                   argv[0]);
      return 2;
    }
  }
  if (steps < 1 || !(reach > 0 && reach <= 1)) {
    std::fprintf(stderr, "--steps must be >= 1 and --reach in (0, 1]\n");
    return 2;
  }
  Dataset train, test;
  try {
    train = make_toy2d(data, 400, 0.05, 1);
    test = make_toy2d(data, 400, 0.05, 2);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  std::printf("Data: %s; %d steps per run; mismatch level 1 = %.0f %% of each knob's way to its "
              "maximum; device test accuracy (chance %.2f).\n\n",
              data.c_str(), steps, 100 * reach, 1.0 / train.num_classes);
  const std::vector<double> levels = {0.0, 1.0 / 3, 2.0 / 3, 1.0};
  std::printf("| system | mismatch level | in-silico | PAT |\n|---|---:|---:|---:|\n");
  for (const CatalogEntry& e : catalog()) {
    if (!only.empty() && e.info.id != only) continue;
    for (double level : levels) {
      std::fprintf(stderr, "%s at level %.2f ...\n", e.info.id.c_str(), level);
      try {
        const double a = device_accuracy(e.info.id, level, reach, Method::InSilico, steps, train, test);
        const double b = device_accuracy(e.info.id, level, reach, Method::PAT, steps, train, test);
        std::printf("| %s | %.2f | %.3f | %.3f |\n", e.info.id.c_str(), level, a, b);
      } catch (const std::exception& err) {
        std::printf("| %s | %.2f | error: %s | |\n", e.info.id.c_str(), level, err.what());
      }
      std::fflush(stdout);
    }
  }
  return 0;
}
