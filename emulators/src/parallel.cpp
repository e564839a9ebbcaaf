#include "patlab/emulators/parallel.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <vector>

#ifndef __EMSCRIPTEN__
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
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

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// A fork-join team: the calling thread and worker_threads() - 1 workers made on first use and
// kept for the process. Between rounds a worker spins for up to about a millisecond before it
// sleeps: a training step has several rounds a few tens of microseconds apart, and waking a
// sleeping thread costs about as much as a round's share of work. (Eigen's ThreadPool, tried
// first, put its worker to sleep between rounds: two threads then gave 1.45x one.)
//
// Tasks are handed out by one atomic counter that carries the round in its high 32 bits, so a
// worker can only take a task of the round it joined (see run() for how a round is closed).
class Team {
 public:
  explicit Team(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { loop(); });
  }

  // Runs the round; false (nothing run) if another thread's round is in progress.
  bool run(int n, const std::function<void(int)>& task, std::vector<std::exception_ptr>& errors) {
    std::unique_lock<std::mutex> one_round(round_mutex_, std::try_to_lock);
    if (!one_round.owns_lock()) return false;
    // Rounds have even tags. An odd tag first closes the last round: a worker still in it
    // (done, about to look for another task) can no longer take a task with the old tag while
    // the new round's state is written.
    const uint64_t last = next_.load(std::memory_order_relaxed) >> 32;
    next_.store(((last + 1) << 32) | 0xffffffffu, std::memory_order_seq_cst);
    task_.store(&task, std::memory_order_relaxed);
    errors_.store(&errors, std::memory_order_relaxed);
    n_.store(n, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const uint64_t round = last + 2;
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      next_.store(round << 32, std::memory_order_release);  // publishes the round's state
      if (sleepers_ > 0) wake_.notify_all();
    }
    in_team_ = true;
    work(round);
    in_team_ = false;
    for (int spins = 0; done_.load(std::memory_order_acquire) < n; ++spins) {
      if (spins > 4096) std::this_thread::yield();
      cpu_relax();
    }
    return true;
  }

  static thread_local bool in_team_;  // a team thread, or the caller inside its own round

 private:
  // A round to join: an even tag (odd ones are set-ups) the worker has not worked on yet.
  static bool open_and_new(uint64_t tag, uint64_t seen) { return tag != seen && tag % 2 == 0; }

  void loop() {
    in_team_ = true;
    uint64_t seen = 0;
    for (;;) {
      uint64_t round = next_.load(std::memory_order_acquire) >> 32;
      const auto start = std::chrono::steady_clock::now();
      for (int spins = 0; !open_and_new(round, seen); ++spins) {
        if ((spins & 1023) == 1023 &&
            std::chrono::steady_clock::now() - start > std::chrono::milliseconds(1)) {
          std::unique_lock<std::mutex> lock(sleep_mutex_);
          ++sleepers_;
          wake_.wait(lock, [&] {
            return open_and_new(next_.load(std::memory_order_acquire) >> 32, seen);
          });
          --sleepers_;
        }
        cpu_relax();
        round = next_.load(std::memory_order_acquire) >> 32;
      }
      seen = round;
      work(round);
    }
  }

  // Takes and runs tasks of the given round until there are none left.
  void work(uint64_t round) {
    for (;;) {
      uint64_t v = next_.load(std::memory_order_acquire);
      if ((v >> 32) != round) return;  // closed: a later round is being set up or runs
      const int i = int(v & 0xffffffffu);
      if (i >= n_.load(std::memory_order_relaxed)) return;
      // Taking task i only succeeds while the tag is still `round`; the round cannot end before
      // that task is done, so task_ and errors_ are this round's while it runs.
      if (!next_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) continue;
      try {
        (*task_.load(std::memory_order_relaxed))(i);
      } catch (...) {
        (*errors_.load(std::memory_order_relaxed))[size_t(i)] = std::current_exception();
      }
      done_.fetch_add(1, std::memory_order_release);
    }
  }

  std::vector<std::thread> threads_;
  std::mutex round_mutex_, sleep_mutex_;
  std::condition_variable wake_;
  int sleepers_ = 0;
  std::atomic<uint64_t> next_{0};  // round << 32 | next task index
  std::atomic<int> done_{0}, n_{0};
  std::atomic<const std::function<void(int)>*> task_{nullptr};
  std::atomic<std::vector<std::exception_ptr>*> errors_{nullptr};
};

thread_local bool Team::in_team_ = false;

Team* team() {
  // Never destroyed: its workers run until the process ends.
  static Team* t = worker_threads() > 1 ? new Team(worker_threads() - 1) : nullptr;
  return t;
}

}  // namespace

int worker_threads() {
  static const int threads = configured_threads();
  return threads;
}

void run_tasks(int n, const std::function<void(int)>& task) {
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  Team* t = n > 1 ? team() : nullptr;
  // One task, one thread, inside a task already (waiting on the team from one of its own
  // threads could leave nobody to run the work), or another thread's round in progress: run
  // the tasks here, one after the other.
  if (!t || Team::in_team_ || !t->run(n, task, errors)) {
    for (int i = 0; i < n; ++i) {
      try {
        task(i);
      } catch (...) {
        errors[size_t(i)] = std::current_exception();
      }
    }
  }
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

#endif

}  // namespace patlab
