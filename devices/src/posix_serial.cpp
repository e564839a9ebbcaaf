#include "posix_serial.h"

#include <termios.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace patlab {

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

speed_t speed_for(int baud) {
  switch (baud) {
    case 300:
      return B300;
    case 600:
      return B600;
    case 1200:
      return B1200;
    case 2400:
      return B2400;
    case 4800:
      return B4800;
    case 9600:
      return B9600;
    case 19200:
      return B19200;
    case 38400:
      return B38400;
    case 57600:
      return B57600;
    case 115200:
      return B115200;
    case 230400:
      return B230400;
    case 460800:
      return B460800;
    case 500000:
      return B500000;
    case 576000:
      return B576000;
    case 921600:
      return B921600;
    case 1000000:
      return B1000000;
    case 1152000:
      return B1152000;
    case 2000000:
      return B2000000;
    case 3000000:
      return B3000000;
    case 3500000:
      return B3500000;
    case 4000000:
      return B4000000;
    default:
      throw std::invalid_argument("DeviceServer: unsupported baud rate " + std::to_string(baud));
  }
}

}  // namespace

// Without this a pty's line discipline would rewrite the binary frames (0x0D -> 0x0A, echo
// them back, ...).
void make_raw(int fd, int baud) {
  termios t{};
  if (::tcgetattr(fd, &t) != 0) throw std::runtime_error(errno_text("DeviceServer: tcgetattr"));
  ::cfmakeraw(&t);
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cflag &= ~tcflag_t(CRTSCTS);
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (baud > 0) ::cfsetspeed(&t, speed_for(baud));
  if (::tcsetattr(fd, TCSANOW, &t) != 0)
    throw std::runtime_error(errno_text("DeviceServer: tcsetattr"));
}

}  // namespace patlab
