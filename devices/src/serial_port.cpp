#include "patlab/devices/serial_port.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "posix_serial.h"

namespace patlab {

SerialPortTransport::SerialPortTransport(std::string path, std::shared_ptr<DeviceLink> link, int baud)
    : path_(std::move(path)), link_(std::move(link)), baud_(baud) {
  if (!link_) throw std::invalid_argument("SerialPortTransport: no link");
  if (!is_standard_baud_rate(baud_))
    throw std::invalid_argument("SerialPortTransport: " + std::to_string(baud_) + " is not a serial port rate");
}

SerialPortTransport::~SerialPortTransport() {
  if (fd_ >= 0) ::close(fd_);
}

void SerialPortTransport::close(const std::string& why) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  unsent_.clear();
  error_ = why;
  link_->closed(why);
}

void SerialPortTransport::pump(double now) {
  if (fd_ < 0) {
    if (now < next_try_) return;
    next_try_ = now + 1.0;
    fd_ = ::open(path_.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
      error_ = path_ + ": not available (" + std::strerror(errno) + ")";
      return;
    }
    try {
      make_raw(fd_, baud_);
    } catch (const std::exception& e) {
      close(path_ + ": cannot set up the port (" + e.what() + ")");
      return;
    }
    ::tcflush(fd_, TCIOFLUSH);  // whatever sat in the buffers belongs to an earlier conversation
    error_.clear();
    link_->opened(now);
  }
  uint8_t buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) {
      link_->receive_bytes(buf, size_t(n), now);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    close(n == 0 ? "the other end closed" : std::string("connection lost (") + std::strerror(errno) + ")");
    return;
  }
  link_->poll(now);
  const std::vector<uint8_t> out = link_->take_output();
  unsent_.insert(unsent_.end(), out.begin(), out.end());
  while (!unsent_.empty()) {
    const ssize_t k = ::write(fd_, unsent_.data(), unsent_.size());
    if (k > 0) {
      unsent_.erase(unsent_.begin(), unsent_.begin() + k);
      continue;
    }
    if (k < 0 && (errno == EAGAIN || errno == EINTR)) break;
    close(std::string("connection lost (") + std::strerror(errno) + ")");
    return;
  }
}

}  // namespace patlab
