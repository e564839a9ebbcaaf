// The emulators' column chunks and worker threads (patlab/emulators/parallel.h) and the
// vectorised sines and cosines they integrate with (patlab/core/vector_math.h).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "patlab/core/rng.h"
#include "patlab/core/vector_math.h"
#include "patlab/emulators/parallel.h"

namespace patlab {

TEST(VectorMath, SinesAndCosinesAgreeWithLibmToAFewUlp) {
  // Odd lengths reach the loops' scalar tails; large and tiny arguments the range reduction.
  std::vector<double> x;
  for (int i = 0; i < 1037; ++i) x.push_back(-50.0 + 100.0 * i / 1036.0);
  for (double v : {0.0, -0.0, 1e-300, 3e-8, 1e4, -12345.678, 1e6, 3.14159265358979})
    x.push_back(v);
  const double c = 1.25;
  std::vector<double> s(x.size()), co(x.size());
  sin_scaled(x.data(), c, s.data(), std::ptrdiff_t(x.size()));
  cos_scaled(x.data(), c, co.data(), std::ptrdiff_t(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(s[i], std::sin(c * x[i]), 4e-15) << "x = " << x[i];
    EXPECT_NEAR(co[i], std::cos(c * x[i]), 4e-15) << "x = " << x[i];
  }
  // In place.
  std::vector<double> y = x;
  sin_scaled(y.data(), c, y.data(), std::ptrdiff_t(y.size()));
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], s[i]);
}

TEST(VectorMath, MatmulIsTheMatrixProductForEveryShapeAndLayout) {
  // The WebAssembly kernel works on blocks of 4 rows x 4 columns: sizes around multiples of 4
  // reach its edges; natively this checks the strided Eigen maps.
  Rng rng(5);
  for (Eigen::Index m : {1, 3, 4, 7, 64, 74})
    for (Eigen::Index n : {1, 2, 3, 4, 5, 9, 16})
      for (Eigen::Index k : {1, 4, 6, 64}) {
        const Mat A = normal_matrix(m, k, rng), X = normal_matrix(k, n, rng);
        const Mat Xt = X.transpose();  // n x k column major: X's element (p, j) at p * n + j
        const Mat Y0 = normal_matrix(m, n, rng);
        const Mat want = A * X;
        Mat Y(m, n);
        matmul(m, n, k, A.data(), X.data(), 1, k, Y.data(), false);
        EXPECT_LT((Y - want).lpNorm<Eigen::Infinity>(), 1e-12) << m << "x" << n << "x" << k;
        Y = Y0;
        matmul(m, n, k, A.data(), Xt.data(), n, 1, Y.data(), true);
        EXPECT_LT((Y - Y0 - want).lpNorm<Eigen::Infinity>(), 1e-12) << m << "x" << n << "x" << k;
      }
}

TEST(VectorMath, PackedLhsMultipliesLikeTheProduct) {
  // Natively the factor sits in Eigen's kernel panels (24 or 8 rows, depending on the
  // instruction set: sizes around those reach the remainder rows) and X is packed in blocks of
  // about 16384 / k columns (n = 300 at k = 74 spans two); 257 x 257 is past the packed size
  // and goes through matmul. In WebAssembly every size goes through matmul's kernel.
  Rng rng(6);
  for (Eigen::Index m : {1, 5, 8, 23, 25, 64, 74, 257})
    for (Eigen::Index k : {1, 3, 64, 74, 257})
      for (Eigen::Index n : {1, 4, 16, 300}) {
        const Mat A = normal_matrix(m, k, rng), X = normal_matrix(k, n, rng);
        const Mat Y0 = normal_matrix(m, n, rng);
        const PackedLhs P(m, k, A.data());
        ASSERT_EQ(P.rows(), m);
        ASSERT_EQ(P.cols(), k);
        const Mat want = A * X;
        const double tol = 1e-12 * std::sqrt(double(k));
        Mat Y = Mat::Constant(m, n, 99.0);  // overwritten, not added to
        P.multiply(n, X.data(), Y.data(), false);
        EXPECT_LT((Y - want).lpNorm<Eigen::Infinity>(), tol) << m << "x" << k << "x" << n;
        Y = Y0;
        P.multiply(n, X.data(), Y.data(), true);
        EXPECT_LT((Y - Y0 - want).lpNorm<Eigen::Infinity>(), tol) << m << "x" << k << "x" << n;
      }
  const PackedLhs empty;
  EXPECT_EQ(empty.rows(), 0);
}

TEST(Parallel, ChunksCoverTheBatchOnceInOrder) {
  EXPECT_EQ(column_chunks(1), 1);
  EXPECT_EQ(column_chunks(15), 1);
  EXPECT_EQ(column_chunks(16), 2);
  EXPECT_EQ(column_chunks(1000), 2);
  for (Eigen::Index cols : {1, 7, 16, 17, 32, 33, 999}) {
    const int chunks = column_chunks(cols);
    Eigen::Index next = 0;
    for (int i = 0; i < chunks; ++i) {
      Eigen::Index begin, count;
      chunk_columns(cols, chunks, i, &begin, &count);
      EXPECT_EQ(begin, next);
      EXPECT_GE(count, cols / chunks);
      next = begin + count;
    }
    EXPECT_EQ(next, cols);
  }
}

TEST(Parallel, RunsEveryTaskOnceAndWaitsForAll) {
  EXPECT_GE(worker_threads(), 1);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::atomic<int>> ran(5);
    run_tasks(5, [&](int i) { ran[size_t(i)] += 1; });
    for (auto& r : ran) ASSERT_EQ(r.load(), 1);
  }
}

TEST(Parallel, RoundsFromTwoThreadsAtOnceRunEveryTaskOnce) {
  // Rounds of different sizes back to back, from two threads at once (one of them then runs
  // its tasks itself): no task may run twice, be skipped, or run in another round.
#ifndef __EMSCRIPTEN__
  const auto rounds = [](int seed, int* bad) {
    for (int r = 0; r < 2000; ++r) {
      const int n = 1 + (r * 7 + seed) % 5;
      std::vector<std::atomic<int>> ran(static_cast<size_t>(n));
      run_tasks(n, [&](int i) { ran[size_t(i)] += 1; });
      for (auto& c : ran)
        if (c.load() != 1) ++*bad;
    }
  };
  int bad_a = 0, bad_b = 0;
  std::thread other(rounds, 3, &bad_b);
  rounds(0, &bad_a);
  other.join();
  EXPECT_EQ(bad_a, 0);
  EXPECT_EQ(bad_b, 0);
#endif
}

TEST(Parallel, RethrowsTheFirstTasksException) {
  try {
    run_tasks(3, [](int i) {
      if (i >= 1) throw std::runtime_error("task " + std::to_string(i));
    });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "task 1");
  }
  // The pool is still usable afterwards.
  std::atomic<int> sum{0};
  run_tasks(2, [&](int i) { sum += i + 1; });
  EXPECT_EQ(sum.load(), 3);
}

TEST(Parallel, TasksMayRunTasksThemselves) {
  std::atomic<int> inner{0};
  run_tasks(2, [&](int) { run_tasks(3, [&](int) { inner += 1; }); });
  EXPECT_EQ(inner.load(), 6);
}

}  // namespace patlab
