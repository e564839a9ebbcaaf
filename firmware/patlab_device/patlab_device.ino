// patlab_device.ino: patlab's reference device firmware, as an Arduino Uno sketch.
//
// Six PWM outputs drive three RC nodes clamped by diodes, and the ADC reads them back: a
// small physical layer that patlab trains over USB serial (115200 baud) with its wire
// protocol. Wiring, schematic and model: firmware/README.md in the patlab repository.
//
// Everything lives in plain C, shared with the build that needs no IDE (firmware/build.sh):
// pd_core.c (the device) and the protocol library of devices/protocol, which this folder
// links to (patlab_protocol.h, pl_frame.c, pl_messages.c, pl_device.c are symbolic links;
// on Windows, clone with `git config core.symlinks true` or copy those four files here).
//
// Do not use Serial, millis() or delay() here: the firmware drives the UART and all three
// timers itself.
#include "pd_core.h"

void setup() { pd_setup(); }

void loop() { pd_poll(); }
