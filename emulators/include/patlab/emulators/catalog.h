// patlab/emulators/catalog.h: every emulated physical system, described as data.
//
// The app, the lessons and the command line build their controls and experiments from this
// catalog, never from code written per system. Each entry says what the system is, how data
// and parameters reach it, what its knobs are (name, unit, range, default, one line of help),
// and what a query of the real device would cost; and it can make a device, its nominal twin
// and initial parameters. What an entry and a device are: emulated_system.h.
//
//   catalog()                 all systems, in display order
//   find_system(id)           one entry; throws std::invalid_argument listing the valid ids
//   make_system(id, shape, knobs, seed)
#pragma once

#include <string>
#include <vector>

#include "patlab/emulators/emulated_system.h"

namespace patlab {

const std::vector<CatalogEntry>& catalog();
const CatalogEntry& find_system(const std::string& id);
SystemInstance make_system(const std::string& id, const Shape& shape, const KnobValues& knobs,
                           uint64_t seed);

}  // namespace patlab
