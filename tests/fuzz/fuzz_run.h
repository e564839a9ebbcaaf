// Shared by the experiment and checkpoint fuzzers: what they do with an experiment that
// loaded, and how they stop on a broken promise.
//
// An experiment that loads must write back (to_json) to text that loads as the same
// experiment. A small one is then built (build_run; data packs are not available here, so
// those throw std::invalid_argument, as documented) and trained one step, so the builder, the
// layers and the emulators see what a file can make them do. "Small" keeps one input to a few
// milliseconds: a fuzzer that spends a second on an input of 400 samples x 1000 parameters
// finds nothing.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "patlab/core/system.h"
#include "patlab/experiment/experiment.h"

namespace patlab::fuzz {

// A broken promise: print it and abort, which libFuzzer reports as a crash with the input.
[[noreturn]] inline void broken(const std::string& what) {
  std::fprintf(stderr, "fuzz: %s\n", what.c_str());
  std::abort();
}

// The experiment, written and read back, must be the same experiment (as JSON).
inline void check_round_trip(const Experiment& e) {
  const std::string once = to_json(e).dump();
  Experiment again;
  try {
    again = experiment_from_string(once);
  } catch (const std::invalid_argument& err) {
    broken(std::string("an experiment that loaded does not load after to_json: ") + err.what() +
           "\n" + once);
  }
  if (to_json(again).dump() != once)
    broken("to_json -> experiment_from_string -> to_json changed the experiment:\n" + once + "\n" +
           to_json(again).dump());
}

// Limits before building: data, layer sizes and per-step work.
inline bool small_enough(const Experiment& e) {
  if (e.data.train_size > 256 || e.data.test_size > 256 || e.layers.size() > 8) return false;
  for (const LayerSpec& l : e.layers)
    if (l.size > 32) return false;
  const TrainConfig& t = e.train;
  if (t.batch_size > 64 || t.spsa_samples > 4) return false;
  if (t.twin_refresh_every > 0 && (t.twin_refresh_iterations > 20 || t.twin_refresh_samples > 256))
    return false;
  return true;
}

// build_run(e), or null if it refuses the experiment in the documented way.
inline std::unique_ptr<Run> build_small(const Experiment& e) {
  if (!small_enough(e)) return nullptr;
  try {
    return build_run(e);
  } catch (const std::invalid_argument&) {
    return nullptr;
  }
}

// One training step on a built run, when its parameters are few enough (finite differences
// query the device twice per parameter). A device answering NaN or Inf is a DeviceError.
inline void step_once(Run& run) {
  const int p = run.net.param_count();
  if (p > 2048) return;
  if (run.experiment.train.method == Method::FiniteDifference && p > 64) return;
  const Vec before = run.net.get_params();
  try {
    run.trainer->step();
  } catch (const DeviceError&) {
  } catch (const TrainingError&) {
    // A restored state may diverge (huge but finite parameters or moments): the step must
    // then change nothing.
    const Vec after = run.net.get_params();
    if (after.size() != before.size() ||
        !((after.array() == before.array()) || (after.array().isNaN() && before.array().isNaN())).all())
      broken("a step that threw TrainingError changed the parameters");
  }
}

}  // namespace patlab::fuzz
