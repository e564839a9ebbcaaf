// patlab/app/lab_device.h: what a host does to put the lab's lanes on a device it drives over
// a DeviceRegistry link (the page's Web Serial port in wasm/web_serial.cpp, the desktop's serial
// port in native/desktop_device.cpp); the port, the panel and the commands stay the host's.
#pragma once

#include <memory>
#include <string>

#include "patlab/app/lab.h"
#include "patlab/devices/registry.h"

namespace patlab {

// After a handshake: the lab's system becomes the device's (its twin is the catalog's) and the
// lanes are rebuilt on it (their layers come from the host's DeviceHook::layers, which says why a
// layer stays emulated). Returns why the device cannot be used at all, or "".
std::string attach_lab_to_device(Lab& lab, const std::string& device_name);

// The device of a lane's physical layer (what the host's Lab::DeviceHook::layers answers): the registry's `spec`, if it
// is that layer's system and shape; else nullptr, with the reason in `problem`. `where` names the
// device in messages ("on the Web Serial port"). Layer 0 clears an earlier problem.
std::shared_ptr<PhysicalSystem> lab_layer_device(const DeviceRegistry& registry,
                                                 const std::string& spec, const std::string& where,
                                                 const EmulatedDevice& emulated, int layer,
                                                 std::string& problem);

}  // namespace patlab
