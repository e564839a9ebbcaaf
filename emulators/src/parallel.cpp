#include "patlab/emulators/parallel.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <vector>

#ifndef __EMSCRIPTEN__
#include <thread>

#include <unsupported/Eigen/CXX11/ThreadPool>
#endif

namespace patlab {

int column_chunks(Eigen::Index cols) { return cols >= 16 ? 2 : 1; }

void chunk_columns(Eigen::Index cols, int chunks, int i, Eigen::Index* begin,
                   Eigen::Index* count) {
  const Eigen::Index base = cols / chunks, extra = cols % chunks;
  *begin = i * base + std::min<Eigen::Index>(i, extra);
  *count = base + (i < extra ? 1 : 0);
}

#ifdef __EMSCRIPTEN__

int worker_threads() { return 1; }

void run_tasks(int n, const std::function<void(int)>& task) {
  for (int i = 0; i < n; ++i) task(i);
}

#else

namespace {

int configured_threads() {
  if (const char* env = std::getenv("PATLAB_THREADS")) {
    const int t = std::atoi(env);
    if (t >= 1) return std::min(t, 64);
  }
  return int(std::clamp(std::thread::hardware_concurrency(), 1u, 2u));
}

// Eigen's thread pool (unsupported/Eigen/CXX11/ThreadPool, shipped with libeigen3-dev): the
// workers besides the calling thread, made on first use and kept for the process.
Eigen::ThreadPool* pool() {
  static Eigen::ThreadPool* p =
      worker_threads() > 1 ? new Eigen::ThreadPool(worker_threads() - 1) : nullptr;
  return p;
}

}  // namespace

int worker_threads() {
  static const int threads = configured_threads();
  return threads;
}

void run_tasks(int n, const std::function<void(int)>& task) {
  Eigen::ThreadPool* p = pool();
  if (n <= 1 || !p || p->CurrentThreadId() != -1) {
    // One task, one thread, or already inside a task (waiting on the pool from one of its
    // own workers could leave nobody to run the work).
    for (int i = 0; i < n; ++i) task(i);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  Eigen::Barrier done(unsigned(n - 1));
  for (int i = 1; i < n; ++i)
    p->Schedule([&, i] {
      try {
        task(i);
      } catch (...) {
        errors[size_t(i)] = std::current_exception();
      }
      done.Notify();
    });
  try {
    task(0);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  done.Wait();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

#endif

}  // namespace patlab
