#include "patlab/core/rng.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace patlab {

TEST(Rng, SameSeedGivesSameStream) {
  Rng a(42), b(42), c(43);
  bool all_equal_c = true;
  for (int i = 0; i < 100; ++i) {
    const uint64_t va = a.next_u64();
    EXPECT_EQ(va, b.next_u64());
    all_equal_c = all_equal_c && (va == c.next_u64());
  }
  EXPECT_FALSE(all_equal_c);
}

TEST(Rng, KnownFirstValuesPinTheAlgorithm) {
  // xoshiro256** seeded by splitmix64(0): if these change, every saved seed changes meaning.
  Rng r(0);
  EXPECT_EQ(r.next_u64(), 0x99EC5F36CB75F2B4ull);
  EXPECT_EQ(r.next_u64(), 0xBF6E1F784956452Aull);
}

TEST(Rng, UniformAndNormalHaveTheRightMoments) {
  Rng r(7);
  const int n = 200000;
  double su = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    su += u;
    const double z = r.normal();
    sn += z;
    sn2 += z * z;
  }
  EXPECT_NEAR(su / n, 0.5, 0.005);
  EXPECT_NEAR(sn / n, 0.0, 0.01);
  EXPECT_NEAR(sn2 / n, 1.0, 0.02);
}

TEST(Rng, StateRestoresTheStreamExactly) {
  Rng r(3);
  r.normal();  // leaves a spare normal waiting: the state must carry it
  const Rng::State st = r.state();
  const double a = r.normal(), b = r.normal();
  r.set_state(st);
  EXPECT_EQ(a, r.normal());
  EXPECT_EQ(b, r.normal());
}

TEST(Rng, AStateNoGeneratorCanBeInIsRefused) {
  Rng r(3);
  const auto good = r.words();
  EXPECT_THROW(r.set_words({0, 0, 0, 0, 0, 0}), std::invalid_argument);  // zeros for ever
  EXPECT_THROW(r.set_words({1, 2, 3, 4, 7, 0}), std::invalid_argument);  // spare flag 7
  EXPECT_EQ(r.words(), good) << "a refused state leaves the generator as it was";
}

TEST(Rng, AddNormalDrawsWhatNormalDraws) {
  // Counts that start and end on either half of a Box-Muller pair, and span the batches of
  // 128 pairs: the same normals as one normal() after another (to the last bits of the vector
  // sines and logarithms), the same spare left waiting, the same stream afterwards.
  for (const int n : {1, 2, 7, 256, 257, 1001}) {
    for (const bool spare_first : {false, true}) {
      Rng a(11), b(11);
      if (spare_first) {
        a.normal();
        b.normal();
      }
      std::vector<double> y(size_t(n), 1.0);
      a.add_normal(y.data(), n, 0.5);
      for (int i = 0; i < n; ++i) {
        const double z = b.normal();
        ASSERT_NEAR(y[size_t(i)], 1.0 + 0.5 * z, 1e-14 * (1.0 + std::abs(z))) << "n=" << n << " i=" << i;
      }
      const Rng::State sa = a.state(), sb = b.state();
      EXPECT_EQ(sa.s, sb.s) << "n=" << n;
      EXPECT_EQ(sa.has_spare, sb.has_spare) << "n=" << n;
      EXPECT_NEAR(a.normal(), b.normal(), 1e-14) << "n=" << n;
    }
  }
  Rng r(12);
  const Rng::State before = r.state();
  r.add_normal(nullptr, 0, 1.0);  // nothing drawn
  EXPECT_EQ(before.s, r.state().s);
}

TEST(Rng, BelowStaysInRangeAndCoversIt) {
  Rng r(5);
  int seen[7] = {0};
  for (int i = 0; i < 7000; ++i) {
    const int k = r.below(7);
    ASSERT_GE(k, 0);
    ASSERT_LT(k, 7);
    ++seen[k];
  }
  for (int k = 0; k < 7; ++k) EXPECT_GT(seen[k], 800);
}

}  // namespace patlab
