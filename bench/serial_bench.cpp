// patlab_serial_bench: what the serial protocol costs, over a pseudo-terminal against the
// device emulator (DeviceServer), with a SerialDevice as the host.
//
//   patlab_serial_bench [--system ID] [--seconds S] [--baud N]
//
// 1. Link efficiency at a baud-rate limit. The emulator paces its bytes like an 8N1 UART at
//    N baud (10 bits a byte, both directions), so a pty behaves like a real wire. Efficiency =
//    sample bytes carried (theta and x out, y back) / (elapsed time x N / 10): the share of the
//    wire's capacity that is useful data; framing, handshakes, turnaround and the device's
//    compute time are what is lost. The aim is above 85 % at sensible batch sizes.
// 2. Queries per second, unpaced (as fast as the pty and the emulator go), against the same
//    device called in-process: what the protocol and the pty add per round trip.
//
// The system defaults to the crossbar (finite ranges, so q16 is available too; its declared
// output range for q16 is [-8, 8]). Numbers depend on the machine; ratios within one run are
// what to compare. Markdown tables on stdout, progress on stderr.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "patlab/devices/device_server.h"
#include "patlab/devices/serial_device.h"
#include "patlab/emulators/catalog.h"

using namespace patlab;

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Result {
  double seconds = 0;
  long long round_trips = 0, samples = 0;
  LinkStats stats;
};

// Repeats forward() on batches of `batch` samples for about `seconds`.
Result measure(SerialDevice& dev, const Vec& theta, int batch, double seconds) {
  Rng rng(1);
  const Mat x = uniform_matrix(dev.input_size(), batch, rng, -0.9, 0.9);
  Mat y;
  dev.forward(x, theta, y);  // warm up
  const LinkStats s0 = dev.stats();
  Result r;
  const Clock::time_point t0 = Clock::now();
  while (since(t0) < seconds || r.round_trips < 3) {
    dev.forward(x, theta, y);
    ++r.round_trips;
    r.samples += batch;
  }
  r.seconds = since(t0);
  const LinkStats s1 = dev.stats();
  r.stats.payload_sent = s1.payload_sent - s0.payload_sent;
  r.stats.payload_received = s1.payload_received - s0.payload_received;
  r.stats.bytes_sent = s1.bytes_sent - s0.bytes_sent;
  r.stats.bytes_received = s1.bytes_received - s0.bytes_received;
  r.stats.retries = s1.retries - s0.retries;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string system = "crossbar";
  double seconds = 1.0;
  int baud = 115200;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--system") && i + 1 < argc) {
      system = argv[++i];
    } else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--baud") && i + 1 < argc) {
      baud = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--system ID] [--seconds S] [--baud N]\n", argv[0]);
      return 2;
    }
  }
  const SystemInstance s = make_system(system, Shape{}, {}, 1);
  std::printf("# Serial protocol benchmark: %s (%d inputs, %d parameters, %d outputs)\n\n",
              system.c_str(), s.device->input_size(), s.device->param_size(),
              s.device->output_size());

  ServerOptions paced;
  paced.baud = baud;
  paced.output_min = -8.0;
  paced.output_max = 8.0;
  paced.max_frame = 65535;
  paced.max_batch = 4096;

  // ---- 1. link efficiency at the baud limit ----------------------------------------------
  std::printf("## Link efficiency at %d baud (8N1: %d bytes/s)\n\n", baud, baud / 10);
  std::printf(
      "| format | batch | framing: payload / wire bytes | link: payload / capacity | "
      "wire busy | round trips/s | samples/s |\n|---|---|---|---|---|---|---|\n");
  for (SampleFormat f : {SampleFormat::Float32, SampleFormat::Q16, SampleFormat::Float64}) {
    for (int batch : {1, 8, 32, 128, 512}) {
      DeviceServer server(make_system(system, Shape{}, {}, 1).device, paced);
      LinkOptions o;
      o.baud = baud;
      o.format = f;
      std::unique_ptr<SerialDevice> dev;
      try {
        dev = std::make_unique<SerialDevice>(server.path(), o);
      } catch (const DeviceError& e) {
        std::fprintf(stderr, "%s: %s\n", sample_format_name(f), e.what());
        break;
      }
      std::fprintf(stderr, "paced: %s, batch %d\n", sample_format_name(f), batch);
      Result r;
      try {
        r = measure(*dev, s.theta0, batch, seconds);
      } catch (const DeviceError& e) {
        std::printf("| %s | %d | failed: %s |\n", sample_format_name(f), batch, e.what());
        continue;
      }
      const double payload = double(r.stats.payload_sent + r.stats.payload_received);
      const double wire = double(r.stats.bytes_sent + r.stats.bytes_received);
      const double capacity = r.seconds * baud / 10.0;
      std::printf("| %s | %d | %.1f %% | %.1f %% | %.1f %% | %.1f | %.0f |\n",
                  sample_format_name(f), batch, 100.0 * payload / wire, 100.0 * payload / capacity,
                  100.0 * wire / capacity, r.round_trips / r.seconds, r.samples / r.seconds);
      if (r.stats.retries) std::printf("(%lld retries)\n", r.stats.retries);
      std::fflush(stdout);
    }
  }

  // ---- 2. queries per second, unpaced -----------------------------------------------------
  std::printf("\n## Device queries per second over the pty, unpaced\n\n");
  std::printf(
      "| format | batch | round trips/s | queries (samples)/s | in-process queries/s | "
      "MB/s on the pty |\n|---|---|---|---|---|---|\n");
  ServerOptions fast = paced;
  fast.baud = 0;
  for (SampleFormat f : {SampleFormat::Float32, SampleFormat::Float64}) {
    for (int batch : {1, 32, 256, 1024}) {
      DeviceServer server(make_system(system, Shape{}, {}, 1).device, fast);
      LinkOptions o;
      o.baud = 4000000;  // a fast nominal rate: timeouts budget for wire time that a pty lacks
      o.format = f;
      SerialDevice dev(server.path(), o);
      std::fprintf(stderr, "unpaced: %s, batch %d\n", sample_format_name(f), batch);
      const Result r = measure(dev, s.theta0, batch, seconds);
      // The same device in-process, for the cost of the computation alone.
      SystemInstance local = make_system(system, Shape{}, {}, 1);
      Rng rng(1);
      const Mat x = uniform_matrix(local.device->input_size(), batch, rng, -0.9, 0.9);
      Mat y;
      long long n = 0;
      const Clock::time_point t0 = Clock::now();
      while (since(t0) < seconds / 2 || n < 3) {
        local.device->forward(x, s.theta0, y);
        n += batch;
      }
      const double local_rate = double(n) / since(t0);
      const double bytes = double(r.stats.bytes_sent + r.stats.bytes_received);
      std::printf("| %s | %d | %.0f | %.0f | %.0f | %.1f |\n", sample_format_name(f), batch,
                  r.round_trips / r.seconds, r.samples / r.seconds, local_rate,
                  bytes / r.seconds / 1e6);
      std::fflush(stdout);
    }
  }
  return 0;
}
