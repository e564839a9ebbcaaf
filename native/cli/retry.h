// native/cli/retry.h: with_device_retries (declared in cli.h), a template.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "patlab/core/system.h"

namespace patlab::cli {

template <class F>
bool with_device_retries(const RunOptions& o, F&& what) {
  using clock = std::chrono::steady_clock;
  double backoff_s = 0.25;
  clock::time_point first_failure{};
  bool failing = false;
  for (;;) {
    try {
      what();
      if (failing) std::fprintf(stderr, "\npatlab: the device is back; training continues\n");
      return true;
    } catch (const DeviceError& err) {
      // The trainer rejected the step (nothing was applied), and SerialDevice reopens the
      // port by itself on the next call: waiting and calling again is all there is to do.
      const auto now = clock::now();
      if (!failing) first_failure = now;
      failing = true;
      const double gone = std::chrono::duration<double>(now - first_failure).count();
      if (gone >= o.device_wait_s) throw;
      std::fprintf(stderr,
                   "\npatlab: device problem: %s\n        paused; retrying in %.1f s (giving up "
                   "after %.0f s; Ctrl-C saves a checkpoint and stops)\n",
                   err.what(), backoff_s, o.device_wait_s);
      const auto until = now + std::chrono::duration<double>(backoff_s);
      while (clock::now() < until) {
        if (g_stop) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      backoff_s = std::min(backoff_s * 2.0, 8.0);
    }
  }
}

}  // namespace patlab::cli
