#include "patlab/emulators/emulated_system.h"

#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>

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

KnobValues SystemInfo::with_settings(const KnobValues& given, const KnobValues& settings) const {
  KnobValues k = given;
  for (const auto& [key, value] : settings) {
    auto it = k.find(key);
    if (it != k.end() && it->second != value)
      throw std::invalid_argument(id + ": setting '" + key + "' disagrees with the spec");
    k[key] = value;
  }
  return k;
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

std::vector<uint64_t> pack_device_state(std::vector<uint64_t> s, const std::vector<Rng*>& rngs,
                                        const std::vector<double*>& values) {
  for (const Rng* r : rngs) {
    const auto w = r->words();
    s.insert(s.end(), w.begin(), w.end());
  }
  for (const double* v : values) {
    uint64_t bits;
    std::memcpy(&bits, v, sizeof bits);
    s.push_back(bits);
  }
  return s;
}

void unpack_device_state(const std::vector<uint64_t>& s, const std::string& id,
                         const std::vector<Rng*>& rngs, const std::vector<double*>& values) {
  if (s.size() != 1 + 6 * rngs.size() + values.size())
    throw std::invalid_argument(id + ": device state has the wrong size");
  size_t at = 1;
  for (Rng* r : rngs) {
    std::array<uint64_t, 6> w;
    std::copy(s.begin() + long(at), s.begin() + long(at + 6), w.begin());
    r->set_words(w);
    at += 6;
  }
  for (double* v : values) std::memcpy(v, &s[at++], sizeof *v);
}

CatalogEntry system_entry(const SystemInfo& info, SystemMaker make) {
  CatalogEntry e;
  e.info = info;
  e.make = [info, make = std::move(make)](const Shape& asked, const KnobValues& knobs,
                                            uint64_t seed) {
    const Shape shape{asked.inputs ? asked.inputs : info.default_shape.inputs,
                      asked.outputs ? asked.outputs : info.default_shape.outputs};
    return make(shape, info.complete(knobs), seed, asked);
  };
  return e;
}

Rng theta_rng(uint64_t seed) { return Rng(seed ^ 0x7468657461ull); }  // "theta"

}  // namespace patlab
