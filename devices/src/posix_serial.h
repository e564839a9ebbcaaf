// devices/src/posix_serial.h (internal): a serial port or pty in raw 8N1 mode, for the device
// emulator (device_server.cpp) and the polled serial transport (serial_port.cpp).
#pragma once

#include <string>

namespace patlab {
// Raw 8N1: no echo, no line editing, no CR/LF translation, no flow control; baud > 0 sets the
// rate (a standard one). Throws std::runtime_error (or std::invalid_argument for a rate).
void make_raw(int fd, int baud);
}  // namespace patlab
