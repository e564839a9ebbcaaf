#include "patlab/core/rng.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "patlab/core/vector_math.h"

namespace patlab {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

void Rng::reseed(uint64_t seed) {
  uint64_t x = seed;
  for (auto& w : s_) w = splitmix64(x);
  has_spare_ = false;
  spare_ = 0.0;
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // Box-Muller: two independent uniforms give two independent standard normals.
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double phi = 6.283185307179586 * u2;
  spare_ = r * std::sin(phi);
  has_spare_ = true;
  return r * std::cos(phi);
}

void Rng::add_normal(double* y, std::ptrdiff_t n, double std) {
  if (n <= 0) return;
  std::ptrdiff_t i = 0;
  if (has_spare_) {
    has_spare_ = false;
    y[i++] += std * spare_;
  }
  constexpr std::ptrdiff_t kPairs = 128;
  double u1[kPairs], u2[kPairs], c[kPairs], s[kPairs];
  while (i < n) {
    const std::ptrdiff_t pairs = std::min(kPairs, (n - i + 1) / 2);
    for (std::ptrdiff_t k = 0; k < pairs; ++k) {  // the uniforms in normal()'s order
      u1[k] = uniform();
      while (u1[k] <= 0.0) u1[k] = uniform();
      u2[k] = uniform();
    }
    box_muller(u1, u2, c, s, pairs);
    for (std::ptrdiff_t k = 0; k < pairs; ++k) {
      y[i++] += std * c[k];
      if (i < n) {
        y[i++] += std * s[k];
      } else {  // an odd count: the pair's second normal waits, as normal() leaves it
        spare_ = s[k];
        has_spare_ = true;
      }
    }
  }
}

int Rng::below(int n) {
  // Lemire's multiply-shift; the bias for n << 2^32 is far below anything we could measure.
  return int(((next_u64() >> 32) * uint64_t(n)) >> 32);
}

Mat uniform_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, double lo, double hi) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = rng.uniform(lo, hi);
  return m;
}

Mat normal_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, double std) {
  Mat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = std * rng.normal();
  return m;
}

std::array<uint64_t, 6> Rng::words() const {
  uint64_t bits;
  std::memcpy(&bits, &spare_, sizeof bits);
  return {s_[0], s_[1], s_[2], s_[3], uint64_t(has_spare_), bits};
}

void Rng::set_words(const std::array<uint64_t, 6>& w) {
  // xoshiro256 never reaches the all-zero state and never leaves it: only a damaged file holds
  // it, and a generator set to it would give zeros for ever.
  if ((w[0] | w[1] | w[2] | w[3]) == 0)
    throw std::invalid_argument("random state: all zero (not a state a generator can be in)");
  if (w[4] > 1) throw std::invalid_argument("random state: the spare flag is neither 0 nor 1");
  s_ = {w[0], w[1], w[2], w[3]};
  has_spare_ = w[4] != 0;
  std::memcpy(&spare_, &w[5], sizeof spare_);
}

}  // namespace patlab
