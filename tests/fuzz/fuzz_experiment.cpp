// The experiment loader (experiment_from_string) under libFuzzer: any bytes must load or be
// refused with std::invalid_argument naming the key, without a crash, a hang or undefined
// behaviour. What loads must survive a round trip through to_json, and a small experiment is
// built and trained one step (fuzz_run.h). Mutations are half bytes, half JSON-aware
// (json_mutator.h). Seeds: tests/fuzz/corpus/experiment/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_run.h"
#include "json_mutator.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("PATLAB_THREADS", "1", 1);  // no worker threads: one input, one thread, reproducible
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  return patlab::fuzz::mutate_json(data, size, max_size, seed);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace patlab;
  const std::string text(reinterpret_cast<const char*>(data), size);
  Experiment e;
  try {
    e = experiment_from_string(text);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  fuzz::check_round_trip(e);
  if (auto run = fuzz::build_small(e)) fuzz::step_once(*run);
  return 0;
}
