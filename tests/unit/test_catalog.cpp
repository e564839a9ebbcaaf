// Claims every system in the catalog must meet, checked generically over all of them.
// System-specific physics is tested in each system's own test file.
#include "patlab/emulators/catalog.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "patlab/core/gradient_check.h"

namespace patlab {
namespace {

Mat random_inputs(const SystemInstance& s, int batch, Rng& rng) {
  const double lo = std::max(-1.0, s.device->input_min()), hi = std::min(1.0, s.device->input_max());
  Mat x(s.device->input_size(), batch);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.uniform(lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo));
  return x;
}

// A value a fraction f of the way from the knob's default (no effect) to its maximum.
double towards_max(const KnobInfo& k, double f) {
  const double v = k.default_value + f * (k.max - k.default_value);
  return k.integer ? std::round(v) : v;
}

double rel_gap(const Twin& twin, PhysicalSystem& device, const Mat& x, const Vec& theta) {
  Mat yt, yd;
  twin.forward(x, theta, yt);
  device.forward(x, theta, yd);
  return (yt - yd).norm() / std::max(1e-12, yd.norm());
}

class EverySystem : public testing::TestWithParam<std::string> {};

}  // namespace

TEST(Catalog, ListsSystemsWithCompleteMetadata) {
  ASSERT_FALSE(catalog().empty());
  std::set<std::string> ids;
  const std::set<std::string> kinds = {"noise", "mismatch", "structural", "drift", "setting"};
  for (const CatalogEntry& e : catalog()) {
    const SystemInfo& i = e.info;
    SCOPED_TRACE(i.id);
    EXPECT_TRUE(ids.insert(i.id).second) << "duplicate id";
    EXPECT_FALSE(i.name.empty());
    EXPECT_GT(i.description.size(), 80u) << "a paragraph a newcomer can read";
    EXPECT_FALSE(i.input_encoding.empty());
    EXPECT_FALSE(i.param_encoding.empty());
    EXPECT_GT(i.cost.latency_s, 0.0);
    EXPECT_GT(i.cost.energy_j, 0.0);
    EXPECT_FALSE(i.cost.source.empty());
    std::set<std::string> seen_kinds, keys;
    for (const KnobInfo& k : i.knobs) {
      SCOPED_TRACE(k.key);
      EXPECT_TRUE(keys.insert(k.key).second) << "duplicate knob";
      EXPECT_TRUE(kinds.count(k.kind)) << k.kind;
      seen_kinds.insert(k.kind);
      EXPECT_FALSE(k.label.empty());
      EXPECT_FALSE(k.help.empty());
      EXPECT_LT(k.min, k.max);
      EXPECT_GE(k.default_value, k.min);
      EXPECT_LE(k.default_value, k.max);
      if (k.kind != "setting") {
        EXPECT_EQ(k.default_value, 0.0) << "defaults give a perfect device";
      }
    }
    for (const char* kind : {"noise", "mismatch", "structural", "drift"})
      EXPECT_TRUE(seen_kinds.count(kind)) << "no knob of kind " << kind;
  }
}

TEST(Catalog, UnknownSystemsAndKnobsAreClearErrors) {
  try {
    find_system("warp-drive");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(catalog().front().info.id), std::string::npos);
  }
  const std::string id = catalog().front().info.id;
  EXPECT_THROW(make_system(id, {}, {{"no_such_knob", 1.0}}, 1), std::invalid_argument);
  const KnobInfo& k = catalog().front().info.knobs.back();
  EXPECT_THROW(make_system(id, {}, {{k.key, k.max + 1.0}}, 1), std::invalid_argument);
}

TEST_P(EverySystem, DefaultsGiveADeviceTheTwinReproduces) {
  const SystemInstance s = make_system(GetParam(), {}, {}, 1);
  Rng rng(1);
  const Mat x = random_inputs(s, 8, rng);
  EXPECT_LT(rel_gap(*s.twin, *s.device, x, s.theta0), 1e-9);
  EXPECT_EQ(s.theta0.size(), s.device->param_size());
  EXPECT_TRUE((s.theta0.array() >= s.device->param_min().array()).all());
  EXPECT_TRUE((s.theta0.array() <= s.device->param_max().array()).all());
}

TEST_P(EverySystem, EachMismatchKnobGrowsTheTwinGapMonotonically) {
  const CatalogEntry& e = find_system(GetParam());
  for (const KnobInfo& k : e.info.knobs) {
    if (k.kind != "mismatch" && k.kind != "structural") continue;
    SCOPED_TRACE(k.key);
    double last = -1.0, last_v = -1e300;
    for (double f : {0.0, 0.25, 0.5, 1.0}) {
      const double v = towards_max(k, f);
      if (v == last_v) continue;  // an integer knob with few values
      last_v = v;
      const SystemInstance s = make_system(GetParam(), {}, {{k.key, v}}, 3);
      Rng rng(2);
      const double gap = rel_gap(*s.twin, *s.device, random_inputs(s, 16, rng), s.theta0);
      if (f == 0.0)
        EXPECT_LT(gap, 1e-9);
      else
        EXPECT_GT(gap, last) << "at " << f << " of the range";
      last = gap;
    }
  }
}

TEST_P(EverySystem, EachNoiseKnobMovesTheDeviceAwayFromTheNoiselessPhysics) {
  // Random noise and quantization alike; each system's own tests measure the level.
  const CatalogEntry& e = find_system(GetParam());
  for (const KnobInfo& k : e.info.knobs) {
    if (k.kind != "noise") continue;
    SCOPED_TRACE(k.key);
    const SystemInstance s = make_system(GetParam(), {}, {{k.key, towards_max(k, 0.5)}}, 4);
    Rng rng(3);
    const Mat x = random_inputs(s, 8, rng);
    EXPECT_GT(rel_gap(*s.twin, *s.device, x, s.theta0), 1e-9);
  }
}

TEST_P(EverySystem, DriftMovesTheDeviceAndIsDeterministicForASeed) {
  const CatalogEntry& e = find_system(GetParam());
  for (const KnobInfo& k : e.info.knobs) {
    if (k.kind != "drift") continue;
    SCOPED_TRACE(k.key);
    auto outputs_after_use = [&](uint64_t seed) {
      const SystemInstance s = make_system(GetParam(), {}, {{k.key, towards_max(k, 1.0)}}, seed);
      Rng rng(4);
      const Mat x = random_inputs(s, 4, rng);
      Mat y0, y;
      s.device->forward(x, s.theta0, y0);
      for (int i = 0; i < 50; ++i) s.device->forward(Mat(x.replicate(1, 25)), s.theta0, y);
      s.device->forward(x, s.theta0, y);
      EXPECT_GT((y - y0).norm(), 1e-6 * y0.norm()) << "5000 queries later the device has moved";
      return y;
    };
    EXPECT_EQ(outputs_after_use(7), outputs_after_use(7));
  }
}

TEST_P(EverySystem, SavedStateResumesNoiseAndDriftExactly) {
  KnobValues k;
  for (const KnobInfo& info : find_system(GetParam()).info.knobs)
    if (info.kind == "noise" || info.kind == "drift") k[info.key] = towards_max(info, 0.3);
  const SystemInstance a = make_system(GetParam(), {}, k, 5), b = make_system(GetParam(), {}, k, 5);
  Rng rng(5);
  const Mat x = random_inputs(a, 6, rng);
  Mat y;
  for (int i = 0; i < 3; ++i) a.device->forward(x, a.theta0, y);
  b.device->load_state(a.device->save_state());
  Mat ya, yb;
  a.device->forward(x, a.theta0, ya);
  b.device->forward(x, b.theta0, yb);
  EXPECT_EQ(ya, yb);
  EXPECT_EQ(a.device->queries(), b.device->queries());
}

TEST_P(EverySystem, TwinAndOracleGradientsMatchFiniteDifferences) {
  KnobValues k;
  for (const KnobInfo& info : find_system(GetParam()).info.knobs)
    if (info.kind == "mismatch" || info.kind == "structural") k[info.key] = towards_max(info, 0.3);
  const SystemInstance s = make_system(GetParam(), {}, k, 6);
  Rng rng(6);
  const Mat x = random_inputs(s, 3, rng);
  const GradCheck t = check_twin_gradients(*s.twin, x, s.theta0, rng);
  EXPECT_LT(t.max_rel_error_x, 1e-5);
  EXPECT_LT(t.max_rel_error_theta, 1e-5);
  ASSERT_NE(s.device->oracle(), nullptr) << "every emulator offers its exact gradient";
  const GradCheck o = check_twin_gradients(*s.device->oracle(), x, s.theta0, rng);
  EXPECT_LT(o.max_rel_error_x, 1e-5);
  EXPECT_LT(o.max_rel_error_theta, 1e-5);
}

TEST_P(EverySystem, SettingsCannotChangeUnderARunningTwin) {
  const CatalogEntry& e = find_system(GetParam());
  const SystemInstance s = e.make({}, {}, 1);
  for (const KnobInfo& k : e.info.knobs) {
    if (k.kind != "setting") continue;
    KnobValues changed = s.device->knobs();
    changed[k.key] = k.default_value == k.max ? k.min : k.max;
    EXPECT_THROW(s.device->set_knobs(changed), std::invalid_argument) << k.key;
  }
}

std::vector<std::string> system_ids() {
  std::vector<std::string> ids;
  for (const CatalogEntry& e : catalog()) ids.push_back(e.info.id);
  return ids;
}

INSTANTIATE_TEST_SUITE_P(Catalog, EverySystem, testing::ValuesIn(system_ids()),
                         [](const testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace patlab
