// sim_host_test.cpp: the host talks to the reference firmware running on a simulated
// ATmega328P (simavr, patlab_firmware_sim) over a pty, through patlab's own SerialDevice.
//
//   patlab_firmware_sim_test SIMULATOR FIRMWARE.elf WORK_DIR
//
// Checks the handshake (DESCRIBE: name, sizes, ranges, formats, batch limit), batches in f32
// and q16 (split into several requests) answered with the node voltages of the nominal circuit
// at the duty cycles the firmware really set (8-bit PWM, 10-bit ADC at 1.1 V) and, within the
// converters' steps, with the catalog's rc_diode twin, PING, RESET, and that values outside the
// declared range are refused. Exit status 0 on success.
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include "patlab/core/system.h"
#include "patlab/devices/serial_device.h"
#include "patlab/emulators/catalog.h"
#include "patlab/emulators/rc_diode.h"

extern "C" {
#include "pd_circuit.h"
}

extern char** environ;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

// What the firmware should answer: the circuit at the duty cycles it can set (k / 255).
double expected(int node, const patlab::Vec& x, const patlab::Vec& theta) {
  double d[PD_CHANNELS];
  for (int k = 0; k < 2; ++k) d[k] = std::floor(x(k) * 255.0 + 0.5) / 255.0;
  for (int k = 0; k < 4; ++k) d[2 + k] = std::floor(theta(k) * 255.0 + 0.5) / 255.0;
  return pd_node_volts(node, d);
}

// One LSB of the 10-bit ADC at 1.1 V is 1.07 mV; the harness rounds to millivolts.
constexpr double kTolerance = 3e-3;

// The twin `patlab train --device` uses for this board: the catalog's rc_diode system at its
// default knobs (ideal PWM and ADC), taken at the duties asked for, not the ones the PWM set.
// It may differ from the chip by the ADC's steps (the 3 mV above) and the PWM's rounding: half
// a step of 1/255 moves a node by at most 5 V x 0.5 / 255 x 0.375 (node A's largest share of
// conductance, x1's 10 kOhm) ~ 3.7 mV, less once its diode conducts.
constexpr double kTwinTolerance = 6e-3;

void check_batch(patlab::SerialDevice& dev, const patlab::Mat& x, const patlab::Vec& theta,
                 double tol, const std::string& label) {
  patlab::Mat y;
  const auto t0 = std::chrono::steady_clock::now();
  dev.forward(x, theta, y);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  patlab::Mat yt;
  patlab::make_system(patlab::kRcDiodeId, {}, {}, 1).twin->forward(x, theta, yt);
  double worst = 0, worst_twin = 0;
  for (int i = 0; i < x.cols(); ++i)
    for (int j = 0; j < 3; ++j) {
      worst = std::max(worst, std::abs(y(j, i) - expected(j, x.col(i), theta)));
      worst_twin = std::max(worst_twin, std::abs(y(j, i) - yt(j, i)));
    }
  std::printf("      %s: %d samples in %.2f s, outputs e.g. %.4f %.4f %.4f V, worst error %.2f mV "
              "(the rc_diode twin: %.2f mV)\n",
              label.c_str(), static_cast<int>(x.cols()), s, y(0, 0), y(1, 0), y(2, 0),
              worst * 1e3, worst_twin * 1e3);
  check(y.rows() == 3 && y.cols() == x.cols() && worst <= tol,
        label + ": the node voltages of the circuit");
  check(worst_twin <= kTwinTolerance, label + ": the catalog's rc_diode twin agrees");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s SIMULATOR FIRMWARE.elf WORK_DIR\n", argv[0]);
    return 2;
  }
  const std::string link = std::string(argv[3]) + "/firmware_sim_uart0";
  char seconds[] = "120";
  char* child_argv[] = {argv[1], argv[2], const_cast<char*>(link.c_str()), seconds, nullptr};
  ::unlink(link.c_str());
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[1], nullptr, nullptr, child_argv, environ) != 0) {
    std::fprintf(stderr, "cannot start the simulator %s\n", argv[1]);
    return 1;
  }
  struct stat st;
  for (int i = 0; i < 100 && ::stat(link.c_str(), &st) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));

  try {
    patlab::LinkOptions options;
    options.timeout_s = 5.0;  // the simulated chip may run slower than a real one on a busy host
    options.format = patlab::SampleFormat::Float32;
    {
      patlab::SerialDevice dev(link, options);
      const patlab::DeviceDescription& d = dev.description();
      std::printf("      DESCRIBE: '%s' v%d, I=%d P=%d O=%d, max_batch %d, max_frame %d, "
                  "boot_id %u, inputs [%g, %g], outputs [%g, %g]\n",
                  d.name.c_str(), d.version, d.input_size, d.param_size, d.output_size,
                  d.max_batch, d.max_frame, d.boot_id, d.input_min, d.input_max, d.output_min,
                  d.output_max);
      check(d.name == patlab::kRcDiodeId && d.version == 1,
            "handshake: name and version (the catalog system rc_diode)");
      check(d.input_size == 2 && d.param_size == 4 && d.output_size == 3, "handshake: sizes");
      check(d.input_min == 0 && d.input_max == 1 && d.param_min.minCoeff() == 0 &&
                d.param_max.maxCoeff() == 1 && d.output_min == 0 &&
                std::abs(d.output_max - 1.1) < 1e-6,
            "handshake: ranges");
      check(d.formats.size() == 2 && dev.batch_limit() == 8, "handshake: f32, q16, 8 samples");
      check(dev.ping(16) > 0, "ping");

      patlab::Vec theta(4);
      theta << 0.5, 0.2, 0.8, 1.0;
      patlab::Mat x(2, 13);  // two requests: 8 + 5
      for (int i = 0; i < x.cols(); ++i) {
        x(0, i) = (i % 5) / 4.0;
        x(1, i) = ((i * 7) % 13) / 12.0;
      }
      check_batch(dev, x, theta, kTolerance, "f32 batch of 13");
      theta << 0.0, 0.0, 0.0, 0.0;
      check_batch(dev, x, theta, kTolerance, "f32 batch, parameters 0");
      dev.reset();
      check(true, "reset");

      bool refused = false;
      patlab::Mat bad = x;
      bad(1, 3) = 1.5;
      patlab::Mat y;
      try {
        dev.forward(bad, theta, y);
      } catch (const std::exception& e) {
        refused = true;
        std::printf("      refused: %s\n", e.what());
      }
      check(refused, "an input outside [0, 1] is refused");
    }
    {
      options.format = patlab::SampleFormat::Q16;
      patlab::SerialDevice dev(link, options);
      patlab::Vec theta(4);
      theta << 0.25, 0.75, 0.5, 0.1;
      patlab::Mat x(2, 6);
      for (int i = 0; i < x.cols(); ++i) {
        x(0, i) = 1.0 - i / 5.0;
        x(1, i) = i / 5.0;
      }
      // q16 adds a rounding step of 1.1 V / 65535 on the way back.
      check_batch(dev, x, theta, kTolerance + 1e-4, "q16 batch of 6");
    }
  } catch (const std::exception& e) {
    check(false, std::string("no exception: ") + e.what());
  }

  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::printf("%s\n", failures ? "firmware simulation test FAILED" : "firmware simulation test passed");
  return failures ? 1 : 0;
}
