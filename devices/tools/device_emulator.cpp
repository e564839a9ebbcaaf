// patlab_device_emulator: serves one emulated system from the catalog on a pseudo-terminal (or
// a serial port), speaking patlab's wire protocol (docs/protocol.md), until interrupted.
//
//   patlab_device_emulator SYSTEM [--link PATH | --port PATH] [--baud N] [--knob KEY=VALUE]...
//                          [--seed S] [--output-range LO HI]
//
// Prints the path to open (a link that survives a restart), then one line per second of
// traffic counts. For trying a host against a device without hardware.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "patlab/devices/device_server.h"
#include "patlab/emulators/catalog.h"

using namespace patlab;

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s SYSTEM [--link PATH | --port PATH] [--baud N] [--knob KEY=VALUE]... "
               "[--seed S] [--output-range LO HI]\nsystems:",
               argv0);
  for (const CatalogEntry& e : catalog()) std::fprintf(stderr, " %s", e.info.id.c_str());
  std::fprintf(stderr, "\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return usage(argv[0]);
  const std::string system = argv[1];
  ServerOptions options;
  KnobValues knobs;
  uint64_t seed = 1;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--link" && i + 1 < argc) {
      options.link_path = argv[++i];
    } else if (a == "--port" && i + 1 < argc) {
      options.serial_path = argv[++i];
    } else if (a == "--baud" && i + 1 < argc) {
      options.baud = std::atoi(argv[++i]);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--output-range" && i + 2 < argc) {
      options.output_min = std::atof(argv[++i]);
      options.output_max = std::atof(argv[++i]);
    } else if (a == "--knob" && i + 1 < argc) {
      const std::string kv = argv[++i];
      const size_t eq = kv.find('=');
      if (eq == std::string::npos) return usage(argv[0]);
      knobs[kv.substr(0, eq)] = std::atof(kv.c_str() + eq + 1);
    } else {
      return usage(argv[0]);
    }
  }
  try {
    SystemInstance s = make_system(system, Shape{}, knobs, seed);
    DeviceServer server(s.device, options);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::printf("serving '%s' (%d inputs, %d parameters, %d outputs) on %s\n", system.c_str(),
                s.device->input_size(), s.device->param_size(), s.device->output_size(),
                server.path().c_str());
    std::fflush(stdout);
    long long last = -1;
    while (!g_stop) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      const ServerStats st = server.stats();
      if (st.requests != last) {
        std::printf("requests %lld, batches %lld, replays %lld, bad frames %lld\n", st.requests,
                    st.batches_run, st.replays, st.bad_frames);
        std::fflush(stdout);
        last = st.requests;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "patlab_device_emulator: %s\n", e.what());
    return 1;
  }
  return 0;
}
