#include "patlab/app/lab_device.h"

#include <exception>

namespace patlab {

std::string attach_lab_to_device(Lab& lab, const std::string& device_name) {
  bool known = false;
  for (const CatalogEntry& e : catalog()) known |= e.info.id == device_name;
  if (!known)
    return "the device calls itself '" + device_name +
           "', which is no system the lab has a twin for: the lanes stay on the emulator";
  if (device_name != lab.system())
    lab.command("system:" + device_name);  // rebuilds the lanes, on the device
  else
    lab.reset();
  return "";
}

std::shared_ptr<PhysicalSystem> lab_layer_device(const DeviceRegistry& registry,
                                                 const std::string& spec, const std::string& where,
                                                 const EmulatedDevice& emulated, int layer,
                                                 std::string& problem) {
  try {
    std::shared_ptr<PhysicalSystem> d = registry.open(spec);
    check_same_system(*d, emulated, where, layer);
    if (layer == 0) problem.clear();
    return d;
  } catch (const std::exception& e) {
    problem = std::string(e.what()) + "; it stays on the emulator";
    return nullptr;
  }
}

}  // namespace patlab
