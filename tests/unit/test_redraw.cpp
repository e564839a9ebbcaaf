// RedrawPolicy: which frames the mains draw (app/include/patlab/app/redraw.h).
#include <gtest/gtest.h>

#include "patlab/app/redraw.h"

namespace patlab {
namespace {

TEST(RedrawPolicy, DrawsAtOnceAfterInputAndSettlesForAFewFrames) {
  RedrawPolicy p(250.0, 1000.0);
  EXPECT_TRUE(p.should_draw(false, 0, 0.0)) << "the first frame is always drawn";
  EXPECT_FALSE(p.should_draw(false, 0, 10.0)) << "nothing new, soon after a draw";
  EXPECT_TRUE(p.should_draw(true, 0, 20.0)) << "input is drawn at once";
  // The settle frames after an input: drawn though nothing changed and little time passed.
  for (int i = 1; i < RedrawPolicy::kSettleFrames; ++i)
    EXPECT_TRUE(p.should_draw(false, 0, 20.0 + i)) << "settle frame " << i;
  EXPECT_FALSE(p.should_draw(false, 0, 30.0)) << "settled: no more draws without news";
}

TEST(RedrawPolicy, ThrottlesNewContentAndRedrawsWhenIdle) {
  RedrawPolicy p(250.0, 1000.0);
  ASSERT_TRUE(p.should_draw(false, 1, 0.0));
  EXPECT_FALSE(p.should_draw(false, 2, 100.0)) << "new content within 250 ms waits";
  EXPECT_TRUE(p.should_draw(false, 2, 260.0)) << "new content after 250 ms is drawn";
  EXPECT_FALSE(p.should_draw(false, 2, 900.0)) << "same content, not yet idle";
  EXPECT_TRUE(p.should_draw(false, 2, 1261.0)) << "idle for a second: drawn anyway";
}

}  // namespace
}  // namespace patlab
