#include "patlab/devices/device_server.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "patlab/core/rng.h"
#include "patlab/devices/link.h"
#include "patlab/devices/served_device.h"
#include "patlab_protocol.h"
#include "posix_serial.h"

namespace patlab {

namespace {
constexpr const char* kNotReplaced =
    ": not replacing it (a link is made only where nothing is, or replaces a link to a "
    "pseudo-terminal that no longer exists)";
}  // namespace

const char* fault_name(Fault::Kind kind) {
  switch (kind) {
    case Fault::Kind::Garbage:
      return "garbage";
    case Fault::Kind::DropRequest:
      return "drop-request";
    case Fault::Kind::DropReply:
      return "drop-reply";
    case Fault::Kind::CorruptChecksum:
      return "corrupt-checksum";
    case Fault::Kind::Delay:
      return "delay";
    case Fault::Kind::Disconnect:
      return "disconnect";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

bool finite_in(double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; }

// The target of the symbolic link at `path`, or "" if it is not a link.
std::string link_target(const std::string& path) {
  std::vector<char> buf(4096);
  const ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size() - 1);
  return n > 0 ? std::string(buf.data(), size_t(n)) : std::string();
}

// "/dev/pts/<number>": a pseudo-terminal's name, as ptsname gives it.
bool is_pts_name(const std::string& s) {
  const std::string prefix = "/dev/pts/";
  if (s.size() <= prefix.size() || s.compare(0, prefix.size(), prefix) != 0) return false;
  for (size_t i = prefix.size(); i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

}  // namespace

std::string link_refusal(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    return errno == ENOENT ? std::string()
                           : std::string("cannot be checked (") + std::strerror(errno) + ")";
  if (!S_ISLNK(st.st_mode)) {
    const char* what = S_ISREG(st.st_mode)   ? "a regular file"
                       : S_ISDIR(st.st_mode) ? "a folder"
                                             : "something other than a link";
    return std::string("is ") + what;
  }
  const std::string target = link_target(path);
  if (!is_pts_name(target)) return "is a link to " + target + ", not to a pseudo-terminal";
  struct stat pts {};
  if (::stat(target.c_str(), &pts) == 0)
    return "is a link to " + target + ", a pseudo-terminal still in use (another device-sim?)";
  return std::string();  // left behind by an emulator that was killed: its pty is gone
}

struct DeviceServer::Impl {
  std::shared_ptr<PhysicalSystem> device;
  ServerOptions opt;
  std::string path;      // what hosts open
  std::string temp_dir;  // made by us for the default link; removed at the end
  std::string linked;    // the pty our link at `path` points to; "" while we have none
  int fd = -1;           // pty master, or the serial port
  int slave_fd = -1;     // held open so the master never sees a hang-up between hosts
  int wake[2] = {-1, -1};
  std::thread thread;
  std::atomic<bool> stopping{false};
  mutable std::mutex mu;  // faults and stats
  std::deque<Fault> faults;
  ServerStats stats;
  Rng rng;

  std::unique_ptr<ServedDevice> served;  // the protocol and the batches
  unsigned connection = 0;  // bumped on every (re)connect: bytes of an old one are dropped
  Clock::time_point rx_clock, tx_clock;  // when the UART would be done (baud pacing)

  // ---- the port --------------------------------------------------------------------------

  void connect() {
    if (!opt.serial_path.empty()) {
      fd = ::open(opt.serial_path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) throw std::runtime_error(errno_text("DeviceServer: open " + opt.serial_path));
      make_raw(fd, opt.baud);
      path = opt.serial_path;
    } else {
      // Only a path with nothing there, or a link to a pty that is gone (a killed emulator's),
      // is replaced.
      const std::string refused = link_refusal(path);
      if (!refused.empty()) throw std::invalid_argument(path + " " + refused + kNotReplaced);
      if (::openpty(&fd, &slave_fd, nullptr, nullptr, nullptr) != 0)
        throw std::runtime_error(errno_text("DeviceServer: openpty"));
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      ::fcntl(slave_fd, F_SETFD, FD_CLOEXEC);
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      make_raw(slave_fd, 0);  // a pty has no wire: pacing, if any, is ours
      // Point the link at the new pty atomically: a host never sees a half-made link. The
      // temporary link gets a name nothing has (symlink never replaces a file).
      const std::string pts = ::ptsname(fd);
      std::string tmp;
      for (int i = 0;; ++i) {
        tmp = path + ".patlab-" + std::to_string(::getpid()) + "-" + std::to_string(i);
        if (::symlink(pts.c_str(), tmp.c_str()) == 0) break;
        if (errno != EEXIST || i >= 100)
          throw std::runtime_error(errno_text("DeviceServer: link " + path));
      }
      if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string err = errno_text("DeviceServer: link " + path);
        ::unlink(tmp.c_str());
        throw std::runtime_error(err);
      }
      linked = pts;
    }
    // A (re)started device: new boot id, no session, no cached reply.
    served->restart(uint32_t(rng.next_u64()));
    ++connection;
    rx_clock = tx_clock = Clock::now();
    std::lock_guard<std::mutex> lock(mu);
    ++stats.connections;
  }

  void disconnect() {
    // As a USB device's link vanishes; but only our link, still pointing where we made it.
    if (!linked.empty() && link_target(path) == linked) ::unlink(path.c_str());
    linked.clear();
    if (slave_fd >= 0) ::close(slave_fd);
    if (fd >= 0) ::close(fd);
    fd = slave_fd = -1;
  }

  // Sleeps, waking early if the server stops; false if it did.
  bool nap(Clock::duration d) {
    const Clock::time_point until = Clock::now() + d;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (stopping) return false;
      if (left.count() <= 0) return true;
      pollfd p{wake[0], POLLIN, 0};
      ::poll(&p, 1, int(std::min<long long>(left.count() + 1, 100)));
    }
  }

  bool write_all(const uint8_t* p, size_t n) {
    while (n > 0) {
      const ssize_t k = ::write(fd, p, n);
      if (k > 0) {
        p += k;
        n -= size_t(k);
        continue;
      }
      if (k < 0 && errno != EAGAIN && errno != EINTR) return false;
      pollfd q[2] = {{fd, POLLOUT, 0}, {wake[0], POLLIN, 0}};
      ::poll(q, 2, 100);
      if (stopping) return false;
    }
    return true;
  }

  // With a baud rate, each chunk goes out only when a UART would have finished sending it.
  void send(const std::vector<uint8_t>& bytes) {
    if (opt.baud <= 0) {
      write_all(bytes.data(), bytes.size());
      return;
    }
    const size_t chunk = std::max<size_t>(1, size_t(opt.baud) / 10 / 500);  // ~2 ms of line
    for (size_t i = 0; i < bytes.size(); i += chunk) {
      const size_t n = std::min(chunk, bytes.size() - i);
      tx_clock = std::max(tx_clock, Clock::now()) + seconds(10.0 * double(n) / opt.baud);
      if (!nap(tx_clock - Clock::now()) || !write_all(bytes.data() + i, n)) return;
    }
  }

  bool next_fault(Fault* f) {
    std::lock_guard<std::mutex> lock(mu);
    ++stats.requests;
    if (faults.empty()) return false;
    if (faults.front().after > 0) {
      --faults.front().after;
      return false;
    }
    *f = faults.front();
    faults.pop_front();
    ++stats.faults;
    return true;
  }

  void on_request(const pl_frame& request) {
    Fault fault;
    const bool faulty = next_fault(&fault);
    if (faulty && fault.kind == Fault::Kind::DropRequest) return;
    if (faulty && fault.kind == Fault::Kind::Disconnect) {
      disconnect();
      if (!nap(seconds(fault.seconds))) return;
      // A port that is not back yet (a real adapter) is tried again until it is.
      for (;;) {
        try {
          connect();
          return;
        } catch (const std::exception&) {
          disconnect();
          if (!nap(std::chrono::milliseconds(50))) return;
        }
      }
    }
    if (opt.baud > 0) nap(rx_clock - Clock::now());  // the request's last byte arrives
    pl_device& dev = served->protocol();
    const size_t n = pl_device_handle(&dev, &request);
    {
      std::lock_guard<std::mutex> lock(mu);
      stats.replays = dev.replays;
    }
    if (n == 0) return;
    std::vector<uint8_t> out(dev.tx, dev.tx + n);
    if (faulty) switch (fault.kind) {
        case Fault::Kind::Delay:
          if (!nap(seconds(fault.seconds))) return;
          break;
        case Fault::Kind::Garbage: {
          std::vector<uint8_t> junk(size_t(std::max(0, fault.bytes)));
          for (uint8_t& b : junk) b = uint8_t(rng.next_u64());
          out.insert(out.begin(), junk.begin(), junk.end());
          break;
        }
        case Fault::Kind::DropReply:
          return;
        case Fault::Kind::CorruptChecksum: {
          // The cached reply stays intact: a re-sent request gets the good one.
          std::vector<uint8_t> body(out.size());
          const size_t m = pl_cobs_decode(out.data() + 1, out.size() - 2, body.data(), body.size());
          body[m - 1] ^= 0x10;  // the checksum's high byte
          out.resize(PL_WIRE_SIZE(m));
          out.resize(pl_cobs_encode(body.data(), m, out.data(), out.size()));
          break;
        }
        default:
          break;
      }
    send(out);
  }

  void loop() {
    std::vector<uint8_t> buf(4096);
    while (!stopping) {
      if (fd < 0) {
        if (!nap(std::chrono::milliseconds(50))) break;
        try {
          connect();
        } catch (const std::exception&) {
          disconnect();
        }
        continue;
      }
      pollfd p[2] = {{fd, POLLIN, 0}, {wake[0], POLLIN, 0}};
      if (::poll(p, 2, 200) < 0 && errno != EINTR) break;
      if (stopping) break;
      if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        // A serial adapter that went away; (a pty master cannot hang up while we hold its
        // slave open). Reopen when it is back.
        disconnect();
        continue;
      }
      if (opt.baud > 0)
        rx_clock = std::max(rx_clock, Clock::now()) + seconds(10.0 * double(n) / opt.baud);
      const unsigned conn = connection;
      for (ssize_t i = 0; i < n && conn == connection && !stopping; ++i) {
        pl_frame f;
        const int r = pl_parser_push(&served->protocol().parser, buf[size_t(i)], &f);
        if (r == PL_RX_FRAME) on_request(f);
        if (r < 0) {
          std::lock_guard<std::mutex> lock(mu);
          ++stats.bad_frames;
        }
      }
    }
  }
};

DeviceServer::DeviceServer(std::shared_ptr<PhysicalSystem> device, const ServerOptions& options)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  if (!device) throw std::invalid_argument("DeviceServer: no device");
  s.device = std::move(device);
  s.opt = options;
  s.rng.reseed(options.seed);
  if (options.baud < 0 || options.baud > 4000000)
    throw std::invalid_argument("DeviceServer: baud " + std::to_string(options.baud) +
                                " outside 0 (no pacing) to 4000000");
  s.served = std::make_unique<ServedDevice>(s.device, options);
  if (options.serial_path.empty()) {
    if (!options.link_path.empty()) {
      s.path = options.link_path;
    } else {
      std::string dir = (std::filesystem::temp_directory_path() / "patlab-device-XXXXXX").string();
      if (!::mkdtemp(&dir[0])) throw std::runtime_error(errno_text("DeviceServer: mkdtemp"));
      s.temp_dir = dir;
      s.path = dir + "/tty";
    }
  }
  if (::pipe(s.wake) != 0) throw std::runtime_error(errno_text("DeviceServer: pipe"));
  try {
    s.connect();
  } catch (...) {
    s.disconnect();
    ::close(s.wake[0]);
    ::close(s.wake[1]);
    if (!s.temp_dir.empty()) ::rmdir(s.temp_dir.c_str());
    throw;
  }
  s.thread = std::thread([&s] { s.loop(); });
}

DeviceServer::~DeviceServer() {
  Impl& s = *impl_;
  s.stopping = true;
  const char c = 1;
  [[maybe_unused]] const ssize_t k = ::write(s.wake[1], &c, 1);
  s.thread.join();
  s.disconnect();
  ::close(s.wake[0]);
  ::close(s.wake[1]);
  if (!s.temp_dir.empty()) ::rmdir(s.temp_dir.c_str());
}

const std::string& DeviceServer::path() const { return impl_->path; }

std::string fault_problem(const Fault& f) {
  if (f.after < 0) return "after " + std::to_string(f.after) + " is below 0";
  if (f.bytes < 0 || f.bytes > kMaxFaultBytes)
    return std::to_string(f.bytes) + " bytes outside 0 to " + std::to_string(kMaxFaultBytes);
  if (!finite_in(f.seconds, 0.0, kMaxFaultSeconds)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g seconds outside 0 to %g", f.seconds, kMaxFaultSeconds);
    return buf;
  }
  return std::string();
}

void DeviceServer::inject(const Fault& fault) {
  const std::string problem = fault_problem(fault);
  if (!problem.empty())
    throw std::invalid_argument(std::string("DeviceServer: fault ") + fault_name(fault.kind) +
                                ": " + problem);
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->faults.push_back(fault);
}

int DeviceServer::pending_faults() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return int(impl_->faults.size());
}

ServerStats DeviceServer::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  ServerStats s = impl_->stats;
  s.batches_run = impl_->served->batches_run();
  return s;
}

}  // namespace patlab
