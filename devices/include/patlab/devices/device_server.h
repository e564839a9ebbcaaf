// patlab/devices/device_server.h: the device emulator. Serves any PhysicalSystem (e.g. an
// emulated device from the catalog) on a pseudo-terminal or a serial port, speaking patlab's
// wire protocol (docs/protocol.md) exactly as firmware would, through the same C code.
//
//   DeviceServer   a thread answering requests on a new pty (openpty) or a given port
//   Fault          what to do wrong to a coming request: garbage before the reply, drop
//                  the request or the reply, corrupt the reply's checksum, reply late, or
//                  vanish for a while and come back (as a new pty, a restarted device)
//   ServerOptions  limits, declared output range, UART pacing at a baud rate
//
// The pty's path changes when the device comes back, so the server keeps a symbolic link to
// the current one (as udev does for USB serial devices); path() is that link.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "patlab/core/system.h"
#include "patlab/devices/served_device.h"

namespace patlab {

struct Fault {
  enum class Kind {
    Garbage,          // `bytes` random bytes on the line before the reply
    DropRequest,      // the request is lost: the device never sees it
    DropReply,        // the batch runs, its reply is lost
    CorruptChecksum,  // the reply goes out with one bit of its checksum flipped
    Delay,            // the reply goes out `seconds` late
    Disconnect,       // the request is lost and the device vanishes for `seconds`, then
                      // comes back restarted (new pty, new boot id)
  };
  Kind kind = Kind::Garbage;
  int after = 0;         // let this many requests through untouched first
  int bytes = 48;        // Garbage
  double seconds = 0.0;  // Delay, Disconnect
};
const char* fault_name(Fault::Kind kind);  // "garbage", "drop-request", ...
// Limits of a fault: `after` >= 0, 0 <= bytes <= kMaxFaultBytes, 0 <= seconds <= a day
// (finite). fault_problem says what is wrong with one ("" if nothing); inject refuses it.
inline constexpr int kMaxFaultBytes = 65536;
inline constexpr double kMaxFaultSeconds = 86400.0;
std::string fault_problem(const Fault& fault);

// Why a DeviceServer would refuse to put its link at `path` ("is a regular file", "is a link
// to /dev/pts/4, a pseudo-terminal still in use ..."), or "" if it may: nothing is there, or
// a link to a /dev/pts/N that no longer exists.
std::string link_refusal(const std::string& path);

// What the device declares (max_batch, max_frame, output range, formats offered: see
// ServedOptions), and how it is served.
struct ServerOptions : ServedOptions {
  std::string serial_path;  // serve on this port instead of a new pseudo-terminal
  // pty: the link to keep (default: in a new temporary folder). It is made only where nothing
  // is, or where a link to a pseudo-terminal that no longer exists was left behind (by an
  // emulator that was killed); anything else there is refused (link_refusal), never replaced.
  // The link is removed at the end only if it still points at our pty.
  std::string link_path;
  int baud = 0;       // > 0: send and take in bytes no faster than an 8N1 UART at this
                      // rate (10 bits a byte), so link efficiency can be measured
  uint64_t seed = 1;  // garbage bytes and boot ids
};

struct ServerStats {
  long long requests = 0;     // checked request frames received
  long long batches_run = 0;  // batches the device actually ran
  long long replays = 0;      // retried requests answered from the cached reply
  long long bad_frames = 0;   // received frames thrown away
  long long faults = 0;       // faults applied
  long long connections = 0;  // times the port was (re)opened
};

class DeviceServer {
 public:
  // Starts serving at once. The server owns the device from now on: nothing else may call
  // it while the server runs. Throws std::runtime_error if the port cannot be opened, and
  // std::invalid_argument if the link path is taken (see ServerOptions::link_path).
  explicit DeviceServer(std::shared_ptr<PhysicalSystem> device,
                        const ServerOptions& options = ServerOptions());
  // Stops the thread, closes the port and removes the link if it is still ours (and the
  // temporary folder it made).
  ~DeviceServer();
  DeviceServer(const DeviceServer&) = delete;
  DeviceServer& operator=(const DeviceServer&) = delete;

  // What a host opens: the link to the pty, or ServerOptions::serial_path.
  const std::string& path() const;
  // Queues a fault; faults apply in order, each to one request. Throws
  // std::invalid_argument for one outside its limits (fault_problem).
  void inject(const Fault& fault);
  int pending_faults() const;
  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace patlab
