// patlab/core/rng.h: a small, fast, seedable random number generator.
//
// xoshiro256** (Blackman & Vigna), seeded through splitmix64, with our own uniform and
// normal draws. Why not <random>: std::normal_distribution is implementation-defined and
// differs between libstdc++ (native builds) and libc++ (WebAssembly builds). Owning the
// few lines here makes a seed mean the same stream everywhere, and the state is four words
// that a checkpoint can store.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "patlab/core/tensor.h"

namespace patlab {

class Rng {
 public:
  explicit Rng(uint64_t seed = 1) { reseed(seed); }

  void reseed(uint64_t seed);
  uint64_t next_u64();
  double uniform();                         // in [0, 1), 53 random bits
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal();                          // standard normal (Box-Muller)
  // y[i] += std · (the next n standard normals), for noise on whole measurements: the same
  // uniforms, pairs and spare as n calls of normal(), with the logarithms, sines and cosines
  // taken in vectors (vector_math.h), so the draws may differ from normal()'s in the last bits.
  void add_normal(double* y, std::ptrdiff_t n, double std);
  int below(int n);                         // uniform integer in [0, n), n > 0

  // The whole state, for checkpoints: restoring it continues the same stream.
  struct State {
    std::array<uint64_t, 4> s;
    bool has_spare;
    double spare;
  };
  State state() const { return {s_, has_spare_, spare_}; }
  void set_state(const State& st) { s_ = st.s; has_spare_ = st.has_spare; spare_ = st.spare; }
  // The same state as six words (s, has_spare, the bits of spare), for serialisation.
  std::array<uint64_t, 6> words() const;
  void set_words(const std::array<uint64_t, 6>& w);

 private:
  std::array<uint64_t, 4> s_{};
  bool has_spare_ = false;  // Box-Muller makes normals in pairs; the second waits here
  double spare_ = 0.0;
};

// Matrices of independent draws, filled in storage order: uniform in [lo, hi), or normal with
// standard deviation `std`.
Mat uniform_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, double lo = -1.0, double hi = 1.0);
Mat normal_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, double std = 1.0);

}  // namespace patlab
