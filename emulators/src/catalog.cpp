#include "patlab/emulators/catalog.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "patlab/emulators/analog_circuit.h"
#include "patlab/emulators/controller_stack.h"
#include "patlab/emulators/coupled_oscillators.h"
#include "patlab/emulators/crossbar.h"
#include "patlab/emulators/mechanical_plate.h"
#include "patlab/emulators/rc_diode.h"
#include "patlab/emulators/shg_optics.h"

namespace patlab {

const KnobInfo& SystemInfo::knob(const std::string& key) const {
  for (const KnobInfo& k : knobs)
    if (k.key == key) return k;
  std::string valid;
  for (const KnobInfo& k : knobs) valid += (valid.empty() ? "" : ", ") + k.key;
  throw std::invalid_argument(id + ": unknown knob '" + key + "' (knobs: " + valid + ")");
}

KnobValues SystemInfo::defaults() const {
  KnobValues v;
  for (const KnobInfo& k : knobs) v[k.key] = k.default_value;
  return v;
}

KnobValues SystemInfo::complete(const KnobValues& given) const {
  KnobValues v = defaults();
  for (const auto& [key, value] : given) {
    const KnobInfo& k = knob(key);
    if (!std::isfinite(value) || value < k.min || value > k.max)
      throw std::invalid_argument(id + ": knob '" + key + "' = " + std::to_string(value) +
                                  " is outside [" + std::to_string(k.min) + ", " +
                                  std::to_string(k.max) + "]" + (k.unit.empty() ? "" : " " + k.unit));
    if (k.integer && value != std::floor(value))
      throw std::invalid_argument(id + ": knob '" + key + "' must be a whole number");
    v[key] = value;
  }
  return v;
}

double EmulatedDevice::knob(const std::string& key) const {
  auto it = knobs_.find(key);
  if (it == knobs_.end()) info().knob(key);  // throws naming the valid knobs
  return it->second;
}

void EmulatedDevice::set_knobs(const KnobValues& knobs) {
  KnobValues next = info().complete(knobs);
  // Settings fix the physics' resolution, which the twin shares: they are chosen when the
  // system is made and cannot change under a running twin.
  if (!knobs_.empty())
    for (const KnobInfo& k : info().knobs)
      if (k.kind == "setting" && next.at(k.key) != knobs_.at(k.key))
        throw std::invalid_argument(info().id + ": '" + k.key + "' is a setting, fixed when the "
                                    "system is made; build a new system to change it");
  knobs_ = std::move(next);
  apply_knobs();
}

std::vector<uint64_t> EmulatedDevice::pack_state(std::initializer_list<const Rng*> rngs,
                                                 std::initializer_list<double> values) const {
  std::vector<uint64_t> s = PhysicalSystem::save_state();
  for (const Rng* r : rngs) {
    const auto w = r->words();
    s.insert(s.end(), w.begin(), w.end());
  }
  for (double v : values) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    s.push_back(bits);
  }
  return s;
}

void EmulatedDevice::unpack_state(const std::vector<uint64_t>& s, std::initializer_list<Rng*> rngs,
                                  std::initializer_list<double*> values) {
  if (s.size() != 1 + 6 * rngs.size() + values.size())
    throw std::invalid_argument(info().id + ": device state has the wrong size");
  PhysicalSystem::load_state({s[0]});
  size_t at = 1;
  for (Rng* r : rngs) {
    std::array<uint64_t, 6> w;
    std::copy(s.begin() + long(at), s.begin() + long(at + 6), w.begin());
    r->set_words(w);
    at += 6;
  }
  for (double* v : values) std::memcpy(v, &s[at++], sizeof *v);
}

const std::vector<CatalogEntry>& catalog() {
  static const std::vector<CatalogEntry> entries = {
      oscillators_entry(), plate_entry(), circuit_entry(), shg_entry(), crossbar_entry(),
      control_entry(), rc_diode_entry(),
  };
  return entries;
}

const CatalogEntry& find_system(const std::string& id) {
  for (const CatalogEntry& e : catalog())
    if (e.info.id == id) return e;
  std::string valid;
  for (const CatalogEntry& e : catalog()) valid += (valid.empty() ? "" : ", ") + e.info.id;
  throw std::invalid_argument("unknown physical system '" + id + "' (systems: " + valid + ")");
}

SystemInstance make_system(const std::string& id, const Shape& shape, const KnobValues& knobs,
                           uint64_t seed) {
  return find_system(id).make(shape, knobs, seed);
}

}  // namespace patlab
