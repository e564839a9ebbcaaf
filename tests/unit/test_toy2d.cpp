#include "patlab/datasets/toy2d.h"

#include <gtest/gtest.h>

namespace patlab {

TEST(Toy2d, EverySetIsBalancedTwoDimensionalAndBounded) {
  for (const auto& name : toy2d_names()) {
    const Dataset d = make_toy2d(name, 400, 0.05, 1);
    SCOPED_TRACE(name);
    EXPECT_EQ(d.name, name);
    EXPECT_EQ(d.features(), 2);
    EXPECT_EQ(d.size(), 400);
    if (name == "clusters") {
      EXPECT_EQ(d.num_classes, 3);
      EXPECT_EQ(d.y.sum(), 133 + 2 * 133);  // 134 zeros, 133 ones, 133 twos
    } else {
      EXPECT_EQ(d.num_classes, 2);
      EXPECT_EQ(d.y.sum(), 200);
    }
    EXPECT_LT(d.x.cwiseAbs().maxCoeff(), 2.0);
  }
}

TEST(Toy2d, SameSeedSamePointsOtherSeedOtherPoints) {
  const Dataset a = make_moons(100, 0.1, 5), b = make_moons(100, 0.1, 5), c = make_moons(100, 0.1, 6);
  EXPECT_EQ(a.x, b.x);
  EXPECT_NE(a.x, c.x);
}

TEST(Toy2d, CirclesSeparateByRadius) {
  const Dataset d = make_circles(200, 0.0, 2);
  for (int i = 0; i < d.size(); ++i)
    EXPECT_NEAR(d.x.col(i).norm(), d.y[i] == 0 ? 0.5 : 1.2, 1e-12);
}

TEST(Toy2d, UnknownNameIsAClearError) {
  try {
    make_toy2d("banana", 10, 0.0, 1);
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("moons"), std::string::npos);
  }
}

}  // namespace patlab
