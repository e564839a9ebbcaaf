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
#include "patlab/emulators/catalog.h"

namespace patlab {

struct DataSpec {
  std::string name = "moons";  // a 2-D toy (moons, circles, spiral, xor, clusters), vowels, or
                               // a data pack (digits8, mnist14, fashion14; see datasets/pack.h)
  int train_size = 400;
  int test_size = 400;
  double noise = 0.1;
  uint64_t seed = 1;           // the test set uses seed + 1000
};

// One layer. Inputs follow from the previous layer; `size` sets the outputs where a layer
// has a choice.
struct LayerSpec {
  std::string kind = "affine";  // affine | scale_offset | relu | tanh | sigmoid | readout_scale | physical
  int size = 0;                 // affine: outputs (required); physical: outputs (0 = the
                                // system's choice for its inputs)
  double init = 1.0;            // affine: weight gain; scale_offset: initial scale;
                                // readout_scale: initial α
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
std::unique_ptr<Run> build_run(const Experiment& e, const std::string& pack_dir = "",
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
Checkpoint load_checkpoint_file(const std::string& path);    // throws CheckpointError

}  // namespace patlab
