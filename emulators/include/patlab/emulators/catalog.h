// patlab/emulators/catalog.h: every emulated physical system, described as data.
//
// The app, the lessons and the command line build their controls and experiments from this
// catalog, never from code written per system. Each entry says what the system is, how data
// and parameters reach it, what its knobs are (name, unit, range, default, one line of help),
// and what a query of the real device would cost; and it can make a device, its nominal twin
// and initial parameters.
//
//   catalog()                 all systems, in display order
//   find_system(id)           one entry; throws std::invalid_argument listing the valid ids
//   make_system(id, shape, knobs, seed)
//
// Knob kinds:  noise | mismatch (parametric) | structural (an effect the twin leaves out) |
//              drift | setting (fixes the physics' resolution; not a mismatch)
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "patlab/core/rng.h"
#include "patlab/core/system.h"

namespace patlab {

struct KnobInfo {
  std::string key;        // identifier, e.g. "eta"
  std::string label;      // for a slider, e.g. "nonlinearity mismatch"
  std::string unit;       // "", "rad", "V", "%", "per 1000 queries", ...
  std::string kind;       // noise | mismatch | structural | drift | setting
  double min = 0.0, max = 1.0, default_value = 0.0;
  std::string help;       // one line: what turning it up does
  bool integer = false;   // settings such as a number of steps
};

// What one query of the real device this system stands for would cost.
struct CostModel {
  double latency_s = 0.0;   // per query (one sample through the device)
  double energy_j = 0.0;    // per query
  std::string source;       // where the figures come from
};

// Input and output sizes; each system documents what they mean and which it accepts.
struct Shape {
  int inputs = 0;
  int outputs = 0;
};

using KnobValues = std::map<std::string, double>;

struct SystemInfo {
  std::string id;             // "oscillators"
  std::string name;           // "Coupled oscillators"
  std::string description;    // a paragraph for the UI and lessons
  std::string input_encoding; // how data becomes the physical input, with its range
  std::string param_encoding; // what the trainable parameters physically are, with ranges
  Shape default_shape;
  std::vector<KnobInfo> knobs;
  CostModel cost;

  const KnobInfo& knob(const std::string& key) const;  // throws std::invalid_argument
  KnobValues defaults() const;
  // Fills missing keys with defaults; throws std::invalid_argument naming an unknown key or a
  // value outside its range.
  KnobValues complete(const KnobValues& given) const;
};

// An emulated device: a PhysicalSystem whose physics follows knob values, with its noiseless
// true physics as the oracle. Knobs can change at any time (the app's sliders).
class EmulatedDevice : public PhysicalSystem {
 public:
  virtual const SystemInfo& info() const = 0;
  std::string name() const override { return info().id; }
  const KnobValues& knobs() const { return knobs_; }
  double knob(const std::string& key) const;
  // Validates (see SystemInfo::complete), stores and applies the knobs.
  void set_knobs(const KnobValues& knobs);

 protected:
  // Rebuilds the true physics from knobs_ (called by set_knobs).
  virtual void apply_knobs() = 0;

  // The evolving state of an emulator for save_state/load_state: the query count, then the
  // words of each random generator, then the bits of each value (e.g. a drift walk), in the
  // order given. unpack_state throws std::invalid_argument naming the system on a size
  // mismatch and restores nothing then.
  std::vector<uint64_t> pack_state(std::initializer_list<const Rng*> rngs,
                                   std::initializer_list<double> values = {}) const;
  void unpack_state(const std::vector<uint64_t>& s, std::initializer_list<Rng*> rngs,
                    std::initializer_list<double*> values = {});

  KnobValues knobs_;
};

struct SystemInstance {
  std::shared_ptr<EmulatedDevice> device;
  std::shared_ptr<Twin> twin;  // nominal constants: what a physicist would write down
  Vec theta0;                  // initial parameters, inside the device's range
};

struct CatalogEntry {
  SystemInfo info;
  // shape: sizes wanted (0 = the system's default); throws std::invalid_argument if the system
  // cannot take that shape. seed: draws the device's fixed imperfections, its noise and theta0.
  std::function<SystemInstance(const Shape& shape, const KnobValues& knobs, uint64_t seed)> make;
};

const std::vector<CatalogEntry>& catalog();
const CatalogEntry& find_system(const std::string& id);
SystemInstance make_system(const std::string& id, const Shape& shape, const KnobValues& knobs,
                           uint64_t seed);

}  // namespace patlab
