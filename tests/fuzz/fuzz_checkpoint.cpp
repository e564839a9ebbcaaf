// The checkpoint loader (checkpoint_from_string) under libFuzzer: any bytes must load or be
// refused with a CheckpointError, without a crash, a hang or undefined behaviour.
//
// The loader checks an FNV-1a checksum of the payload before it reads anything, so random
// changes mostly stop there. The first byte of an input therefore picks the mode: even (e.g.
// '0') hands the rest to the loader as it is; odd (e.g. '1') first re-seals it (if it is a JSON
// object with a payload, its checksum is set to the payload's), so the parser behind the
// checksum is fuzzed too. Seeds: tests/fuzz/corpus/checkpoint/, real checkpoints written by
// `patlab train`, with a mode byte in front.
//
// A checkpoint that loads must write back to text that loads again unchanged. If its experiment
// is small (fuzz_run.h), a run is built from it, the checkpoint restored into it (or refused
// with a CheckpointError), and the state captured again must be the state restored; then the
// run trains one step from there.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_run.h"
#include "json_mutator.h"

namespace {

using namespace patlab;

// The checksum checkpoint_to_string writes: FNV-1a, 64 bit, in hex.
std::string checksum(const std::string& payload) { return hex16(fnv1a64(payload)); }

std::string reseal(const std::string& text) {
  nlohmann::json file = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (file.is_discarded() || !file.is_object() || !file.contains("payload")) return text;
  file["checksum"] = checksum(file["payload"].dump());
  return file.dump(1);
}

// Rng words 0-3 are the generator, 4 a flag (any non-zero value reads as true), 5 a double.
std::array<uint64_t, 6> normal_rng(std::array<uint64_t, 6> w) {
  w[4] = w[4] != 0;
  return w;
}

// What restore() put into the run and capture() took out again must be what the checkpoint
// held: the parameters, the trainer's position and optimiser (nothing lost on the way).
void check_restored(const Checkpoint& c, const Checkpoint& back) {
  const TrainerState &a = c.trainer, &b = back.trainer;
  if (back.params != c.params) fuzz::broken("restore/capture changed the parameters");
  if (a.steps != b.steps || a.epoch != b.epoch || a.cursor != b.cursor || a.order != b.order)
    fuzz::broken("restore/capture changed the trainer's position");
  if (normal_rng(a.rng) != normal_rng(b.rng))
    fuzz::broken("restore/capture changed the trainer's rng");
  if (a.optimizer.t != b.optimizer.t || a.optimizer.m.size() != b.optimizer.m.size() ||
      a.optimizer.v.size() != b.optimizer.v.size())
    fuzz::broken("restore/capture changed the optimiser state");
  for (size_t i = 0; i < a.optimizer.m.size(); ++i)
    if (a.optimizer.m[i] != b.optimizer.m[i] || a.optimizer.v[i] != b.optimizer.v[i])
      fuzz::broken("restore/capture changed the optimiser moments of layer " + std::to_string(i));
  if (back.devices.size() != c.devices.size())
    fuzz::broken("restore/capture changed the number of device states");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("PATLAB_THREADS", "1", 1);  // no worker threads: one input, one thread, reproducible
  return 0;
}

// A quarter of the mutations change the bytes (the mode byte included), the rest one value of
// the JSON after the mode byte (json_mutator.h) and choose re-sealing: a checkpoint changed
// that way is always JSON, and with its checksum fixed the loader reads all of it.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  bool as_json = false;
  const size_t n = fuzz::mutate_json(data, size, max_size, seed, /*keep=*/1, 75, &as_json);
  if (as_json) data[0] |= 1;
  return n;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) text = reseal(text);
  Checkpoint c;
  try {
    c = checkpoint_from_string(text);
  } catch (const CheckpointError&) {
    return 0;
  }
  // Written back, it loads again and writes the same text.
  const std::string once = checkpoint_to_string(c);
  try {
    if (checkpoint_to_string(checkpoint_from_string(once)) != once)
      fuzz::broken("checkpoint_to_string -> checkpoint_from_string changed the checkpoint");
  } catch (const CheckpointError& e) {
    fuzz::broken(
        std::string("a checkpoint that loaded does not load after checkpoint_to_string: ") +
        e.what());
  }
  fuzz::check_round_trip(c.experiment);

  auto run = fuzz::build_small(c.experiment);
  if (!run) return 0;
  try {
    restore(*run, c);
  } catch (const CheckpointError&) {
    return 0;
  }
  check_restored(c, capture(*run));
  fuzz::step_once(*run);
  return 0;
}
