// wasm/web_serial.h: the lab's physical device on a Web Serial port. web/serial.js owns the
// port (opening, a read loop that splits the byte stream into whole frames at the 0x00
// delimiters, writes): a transport under the one protocol host, DeviceLink
// (patlab/devices/link.h), which runs here, so nothing waits: a step whose reply has not come
// yet is repeated on a later frame. The lanes get the device through the registry
// (patlab/devices/registry.h), where the link is "webserial".
//
// Exported to JavaScript (see web/serial.js): patlab_serial_buffer, patlab_serial_frame,
// patlab_serial_port; and, for the browser test's stand-in port only, patlab_test_device_*
// (the device side, pl_device over an emulated catalog system, in the page).
#pragma once

namespace patlab {
class Lab;
// Installs the Device section and the device:<...> commands in the lab.
void web_serial_install(Lab& lab);
// Once per frame: timeouts, re-sends, bytes to write, attaching the lanes after a handshake.
void web_serial_frame();
}  // namespace patlab
