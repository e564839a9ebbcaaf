// patlab/experiment/experiment.h: one description of a run, and how to build and save it.
//
//   Experiment        a plain struct: data set, network, physical systems and their knobs,
//                     method, loss, optimiser, schedule, seed, steps. Round-trips through JSON.
//   build_run()       turns it into data, a network and a trainer, ready to step().
//   Checkpoint        experiment + parameters + optimiser, trainer and device state: resuming
//                     from one continues the very same trajectory.
//
// JSON errors name the offending key ("train.optimizer.learning_rate: expected a number").
// Checkpoint files are written atomically (temporary file, then rename) and carry a format
// version and a checksum: a truncated, corrupted or incompatible file is refused with a
// CheckpointError saying what is wrong.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "patlab/core/dataset.h"
#include "patlab/core/network.h"
#include "patlab/core/trainer.h"
#include "patlab/core/twin_learning.h"
#include "patlab/datasets/pack.h"
#include "patlab/emulators/catalog.h"

namespace patlab {

// The bounds an experiment's numbers must keep (docs/reliability.md lists every field's range).
// They keep one step, one data set and one file small enough that a typo cannot ask for hours
// of work or all the memory; each is far beyond what the built-in experiments use.
namespace limits {
constexpr int kMaxSamples = 1000000;          // data.train_size, data.test_size, batch_size
constexpr int kMaxLayers = 64;
constexpr int kMaxWidth = 16384;              // a layer's outputs
constexpr double kMaxSteps = 1e12;            // steps, schedule.step_every, total_steps
constexpr int kMaxSpsaSamples = 1000;         // SPSA draws averaged per step
constexpr int kMaxTwinIterations = 10000;     // twin_refresh.iterations
constexpr int kMaxTwinSamples = 4096;         // twin_refresh.samples
constexpr size_t kMaxExperimentBytes = 1 << 20;   // an experiment file: 1 MiB
constexpr size_t kMaxCheckpointBytes = size_t(1) << 30;  // a checkpoint file: 1 GiB
}  // namespace limits

struct DataSpec {
  std::string name = "moons";  // a 2-D toy (moons, circles, spiral, xor, clusters), vowels, or
                               // a data pack (digits8, mnist14, fashion14, mnist, fashion; see datasets/pack.h)
  int train_size = 400;
  int test_size = 400;
  double noise = 0.1;
  uint64_t seed = 1;           // the test set uses seed + 1000
};

// One layer. Inputs follow from the previous layer; `size` sets the outputs where a layer
// has a choice.
struct LayerSpec {
  std::string kind = "affine";  // affine | scale_offset | relu | tanh | sigmoid | readout_scale |
                                // append | select | physical
  int size = 0;                 // affine: outputs (required); physical: outputs (0 = the
                                // system's choice for its inputs)
  double init = 1.0;            // affine: weight gain; scale_offset: initial scale;
                                // readout_scale: initial α
  // append: `count` rows of `value` after the input (JSON {"kind": "append", "count": 10,
  // "value": 0}). select: the input rows first .. first + count - 1 (JSON "first" and "count"),
  // or with `last` the input's last `count` rows, wherever the input ends (JSON "last": count).
  int count = 0;                // append: rows added; select: rows kept (both required, >= 1)
  double value = 0.0;           // append: the constant of the added rows
  int first = 0;                // select: the first row kept, 0-based
  bool last = false;            // select: keep the last `count` rows (`first` unused)
  // physical layers: any system of the catalog (patlab/emulators/catalog.h)
  std::string system = "oscillators";
  KnobValues knobs;             // missing knobs take the catalog's defaults
  uint64_t seed = 1;            // the device's fixed imperfections, noise, drift and θ0
  InputEncoding encoding;       // layer input -> device input
};

struct Experiment {
  static constexpr int kFormatVersion = 1;
  std::string name = "untitled";
  DataSpec data;
  std::vector<LayerSpec> layers;
  TrainConfig train;
  long long steps = 1000;
};

// A recognisable default: affine -> 8 oscillators -> affine on moons, PAT.
Experiment default_experiment();

nlohmann::json to_json(const Experiment& e);
// Missing keys take their defaults; unknown keys, wrong types and bad values throw
// std::invalid_argument naming the key.
Experiment experiment_from_json(const nlohmann::json& j);
Experiment experiment_from_string(const std::string& text);
// json::parse, but a key given twice in one object is refused (the library would keep the
// last one silently), and errors read "WHAT: not valid JSON at line 3, column 9: ..." instead
// of the library's text. Throws std::invalid_argument.
nlohmann::json parse_json_strict(const std::string& text, const std::string& what);
// FNV-1a, 64 bits, continuing from h (chain calls to hash several strings as one), and a
// 64-bit value as 16 hex digits: the checksum of checkpoints, the fingerprint of experiments
// and the identity of sweeps. A check against mix-ups and damage, not against forgery.
uint64_t fnv1a64(const std::string& s, uint64_t h = 0xcbf29ce484222325ull);
std::string hex16(uint64_t v);
// A short fingerprint of an experiment (16 hex digits of a hash of its canonical JSON): a
// checkpoint and a run folder carry it, so one experiment's checkpoint is never resumed as
// another's. `steps` is left out: extending a run does not make it another experiment.
std::string experiment_fingerprint(const Experiment& e);
// The key paths where two experiments differ, with both values: "data.name: moons vs circles".
// At most `max` entries.
std::vector<std::string> experiment_differences(const Experiment& a, const Experiment& b,
                                                size_t max = 4);

// What build_run() makes: everything one training run needs, owned in one place.
struct Run {
  Experiment experiment;
  Dataset train, test;
  Network net;
  std::vector<std::shared_ptr<PhysicalSystem>> devices;  // in layer order
  std::unique_ptr<Trainer> trainer;
};
// Makes the device of physical layer `index` (counting physical layers only, from 0) in place
// of the catalog's emulator: how the command line trains on serial-port devices. `sys` is the
// catalog's instance for the layer (its emulator, twin and θ0); the layer keeps sys's twin and
// θ0, so the device must take the same inputs, parameters and outputs.
using DeviceFactory =
    std::function<std::shared_ptr<PhysicalSystem>(const LayerSpec& l, int index, const SystemInstance& sys)>;
// Data packs are read from pack_dir (the build's data folder); other data sets are made.
// Physical layers run on the catalog's emulators, or on what `device` makes if given.
// Throws std::invalid_argument for a network that does not fit the data: no trainable
// parameters, fewer outputs than classes, or a digital readout whose outputs are not one per
// class.
std::unique_ptr<Run> build_run(const Experiment& e, const std::string& pack_dir = "",
                               const DeviceFactory& device = nullptr);
// The training and test sets of a data spec: made here (2-D toys, vowels; the test set from
// seed + 1000), or taken from `pack` when the set is packed (its first test_size test samples).
// The one data dispatch of build_run() and the lab.
void make_experiment_data(const DataSpec& d, const DataPack* pack, Dataset& train, Dataset& test);
// The network and trainer of an experiment on data already made (the lab keeps its packs, drawn
// points and imported tables in memory): fills run.experiment, run.net, run.devices and
// run.trainer, and leaves run.train/test alone. The trainer reads `train`, which must outlive
// the run. build_run() is this after making the data; the same checks, the same exceptions.
void build_network(const Experiment& e, const Dataset& train, Run& run,
                   const DeviceFactory& device = nullptr);
// The data set names an experiment may use.
bool known_data_set(const std::string& name);

class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Checkpoint {
  Experiment experiment;
  Vec params;                                // Network::get_params()
  TrainerState trainer;
  std::vector<std::vector<uint64_t>> devices;  // PhysicalSystem::save_state(), layer order
  // Per physical layer, only when the run refreshes its twins: the fitted twin state and the
  // samples recorded for the next refit (empty otherwise).
  std::vector<Vec> twins;
  std::vector<DeviceSamples> recorded;
};

Checkpoint capture(const Run& run);
// Puts a checkpoint's state into a run built from the same experiment; throws
// CheckpointError if it does not fit.
void restore(Run& run, const Checkpoint& c);

std::string checkpoint_to_string(const Checkpoint& c);
Checkpoint checkpoint_from_string(const std::string& text);  // throws CheckpointError
// Atomic: writes `path.tmp`, then renames it over `path`. Throws CheckpointError on failure
// and leaves any previous file at `path` untouched.
void save_checkpoint_file(const std::string& path, const Checkpoint& c);
// Throws CheckpointError; refuses a file over limits::kMaxCheckpointBytes without reading it all.
Checkpoint load_checkpoint_file(const std::string& path);

}  // namespace patlab
