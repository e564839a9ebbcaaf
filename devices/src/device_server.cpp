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
#include "patlab/devices/serial_device.h"
#include "patlab_protocol.h"

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

// Raw 8N1: no echo, no line editing, no CR/LF translation, no flow control. Without this a
// pty's line discipline would rewrite the binary frames (0x0D -> 0x0A, echo them back, ...).
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

  pl_describe desc{};
  std::vector<pl_range_run> runs;
  std::vector<uint8_t> rx, tx;
  pl_device dev{};
  unsigned connection = 0;  // bumped on every (re)connect: bytes of an old one are dropped
  Mat x, y;
  Vec theta;
  std::string last_error;                // text of the last ERROR, kept alive while it is written
  Clock::time_point rx_clock, tx_clock;  // when the UART would be done (baud pacing)

  // ---- the description -------------------------------------------------------------------

  void describe() {
    const PhysicalSystem& d = *device;
    if (d.input_size() > 65535 || d.param_size() > 65535 || d.output_size() > 65535)
      throw std::invalid_argument("DeviceServer: sizes above 65535 do not fit the protocol");
    if (opt.max_batch < 1 || opt.max_batch > 65535 || opt.max_frame < 64 || opt.max_frame > 65535)
      throw std::invalid_argument(
          "DeviceServer: need 1 <= max_batch <= 65535, 64 <= max_frame <= 65535");
    if (opt.baud < 0 || opt.baud > 4000000)
      throw std::invalid_argument("DeviceServer: baud " + std::to_string(opt.baud) +
                                  " outside 0 (no pacing) to 4000000");
    desc.version = PL_VERSION;
    desc.input_size = uint16_t(d.input_size());
    desc.param_size = uint16_t(d.param_size());
    desc.output_size = uint16_t(d.output_size());
    desc.max_batch = uint16_t(opt.max_batch);
    desc.max_frame = uint16_t(opt.max_frame);
    desc.input_min = float(d.input_min());
    desc.input_max = float(d.input_max());
    desc.output_min = float(opt.output_min);
    desc.output_max = float(opt.output_max);
    // Parameter ranges, run-length coded: a physical system's parameters come in a few
    // groups (couplings, drives, gains), each sharing one range.
    const Vec lo = d.param_min(), hi = d.param_max();
    bool all_finite = true;
    for (int i = 0; i < lo.size(); ++i) {
      all_finite = all_finite && std::isfinite(lo[i]) && std::isfinite(hi[i]) && hi[i] > lo[i];
      if (!runs.empty() && runs.back().lo == float(lo[i]) && runs.back().hi == float(hi[i]) &&
          runs.back().count < 65535)
        ++runs.back().count;
      else
        runs.push_back({1, float(lo[i]), float(hi[i])});
    }
    desc.runs = runs.data();
    desc.run_count = uint16_t(runs.size());
    const auto finite_range = [](double a, double b) {
      return std::isfinite(a) && std::isfinite(b) && b > a;
    };
    desc.formats = 0;
    if (opt.offer_float32) desc.formats |= PL_FORMAT_BIT(PL_FMT_F32);
    if (opt.offer_float64 && pl_sample_size(PL_FMT_F64)) desc.formats |= PL_FORMAT_BIT(PL_FMT_F64);
    // q16 codes a value as a step of its range: only where every range is finite.
    if (opt.offer_q16 && all_finite && finite_range(d.input_min(), d.input_max()) &&
        finite_range(opt.output_min, opt.output_max))
      desc.formats |= PL_FORMAT_BIT(PL_FMT_Q16);
    if (!desc.formats) throw std::invalid_argument("DeviceServer: no sample format to offer");
    std::strncpy(desc.name, d.name().c_str(), PL_NAME_MAX);
    desc.name[PL_NAME_MAX] = '\0';
    rx.resize(size_t(opt.max_frame));
    tx.resize(PL_WIRE_SIZE(opt.max_frame));
  }

  // ---- one batch, called by the protocol code --------------------------------------------

  static uint8_t run_batch(void* ctx, const pl_describe* d, uint8_t format, uint16_t count,
                           pl_reader* in, pl_writer* out, const char** text) {
    return static_cast<Impl*>(ctx)->run(d, format, count, in, out, text);
  }

  uint8_t run(const pl_describe* d, uint8_t format, uint16_t count, pl_reader* in, pl_writer* out,
              const char** text) {
    const int P = d->param_size, I = d->input_size, O = d->output_size;
    theta.resize(P);
    for (int i = 0; i < P; ++i) {
      float lo = 0, hi = 0;
      pl_param_range(d, uint16_t(i), &lo, &hi);
      theta[i] = pl_get_sample(in, format, lo, hi);
      // A real device must never be driven outside its declared range: refuse, not clamp.
      if (!finite_in(theta[i], lo, hi)) {
        *text = "a parameter is not finite or outside its range";
        return PL_ERR_BAD_VALUE;
      }
    }
    x.resize(I, count);
    for (int j = 0; j < count; ++j)
      for (int k = 0; k < I; ++k) {
        x(k, j) = pl_get_sample(in, format, d->input_min, d->input_max);
        if (!finite_in(x(k, j), d->input_min, d->input_max)) {
          *text = "an input is not finite or outside the input range";
          return PL_ERR_BAD_VALUE;
        }
      }
    if (in->error) return PL_ERR_MALFORMED;
    try {
      device->forward(x, theta, y);
    } catch (const std::exception& e) {
      last_error = std::string("emulated device: ") + e.what();
      *text = last_error.c_str();
      return PL_ERR_DEVICE;
    }
    if (y.rows() != O || y.cols() != count) {
      *text = "emulated device: output of the wrong shape";
      return PL_ERR_DEVICE;
    }
    if (format == PL_FMT_Q16 && !y.allFinite()) {
      *text = "an output is not finite, which q16 cannot carry";
      return PL_ERR_DEVICE;
    }
    for (int j = 0; j < count; ++j)
      for (int k = 0; k < O; ++k) pl_put_sample(out, format, y(k, j), d->output_min, d->output_max);
    std::lock_guard<std::mutex> lock(mu);
    ++stats.batches_run;
    return PL_OK;
  }

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
    desc.boot_id = uint32_t(rng.next_u64());
    pl_device_init(&dev, &desc, &Impl::run_batch, nullptr, this, rx.data(), rx.size(), tx.data(),
                   tx.size());
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
    const size_t n = pl_device_handle(&dev, &request);
    {
      std::lock_guard<std::mutex> lock(mu);
      stats.replays = dev.replays;
    }
    if (n == 0) return;
    std::vector<uint8_t> out(tx.begin(), tx.begin() + long(n));
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
        const int r = pl_parser_push(&dev.parser, buf[size_t(i)], &f);
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
  s.describe();
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
  return impl_->stats;
}

}  // namespace patlab
