// patlab/emulators/parallel.h: the emulators' one use of threads. The ODE systems split a batch
// into column chunks (samples are independent) and integrate the chunks side by side.
//
// How a batch is split depends on its size only, never on the number of threads, so results
// are the same with one thread (WebAssembly, PATLAB_THREADS=1) as with several: the chunks
// simply run one after the other.
#pragma once

#include <functional>

#include <Eigen/Core>

namespace patlab {

// Chunks for a batch of `cols` samples: 2 from 16 samples on (each chunk then still feeds the
// matrix products 8 columns or more), else 1.
int column_chunks(Eigen::Index cols);
// The columns [begin, begin + count) of chunk i of `chunks` over `cols` columns.
void chunk_columns(Eigen::Index cols, int chunks, int i, Eigen::Index* begin, Eigen::Index* count);

// Runs task(0), ..., task(n - 1), on the calling thread and the worker threads, and returns
// when all are done; an exception from a task is rethrown here (the first, by task index).
// Called from inside a task it runs the tasks one after the other.
void run_tasks(int n, const std::function<void(int)>& task);

// Threads used by run_tasks, the calling one included: the environment variable PATLAB_THREADS
// if set, else the machine's hardware threads, capped at 2 (what column_chunks can use); always
// 1 in WebAssembly. Set before the first run_tasks; later calls change nothing.
int worker_threads();

}  // namespace patlab
