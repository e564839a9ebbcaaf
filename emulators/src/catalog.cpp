#include "patlab/emulators/catalog.h"

#include <stdexcept>

#include "patlab/emulators/analog_circuit.h"
#include "patlab/emulators/controller_stack.h"
#include "patlab/emulators/coupled_oscillators.h"
#include "patlab/emulators/crossbar.h"
#include "patlab/emulators/mechanical_plate.h"
#include "patlab/emulators/rc_diode.h"
#include "patlab/emulators/shg_optics.h"

namespace patlab {

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
