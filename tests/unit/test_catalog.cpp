// Claims every system in the catalog must meet, checked generically over all of them, and the
// twin gap each system's mismatch knobs open, from a table of per-system levels and bounds.
// System-specific physics is tested in each system's own test file.
#include "patlab/emulators/catalog.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <tuple>

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

// The setting knobs each system has: the setting test checks these, so it cannot pass on a
// system that lost (or never had) the knobs it should refuse to change.
const std::map<std::string, std::set<std::string>> kSettings = {
    {"oscillators", {"steps", "dt"}},
    {"plate", {"modes", "substeps", "param_segments", "segment_ms"}},
    {"circuit", {"substeps", "segment_us"}},
    {"shg", {"param_bins", "pm_bandwidth"}},
    {"crossbar", {"adc_range"}},
    {"control", {"steps", "dt_s"}},
    {"rc_diode", {}},
};

// The knobs of one kind a system has; fails the test (and returns none) if it has none.
std::vector<KnobInfo> knobs_of_kind(const std::string& id, const std::set<std::string>& kinds) {
  std::vector<KnobInfo> out;
  for (const KnobInfo& k : find_system(id).info.knobs)
    if (kinds.count(k.kind)) out.push_back(k);
  EXPECT_FALSE(out.empty()) << id << " has no knob of the kind this test is about";
  return out;
}

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
  for (const KnobInfo& k : knobs_of_kind(GetParam(), {"mismatch", "structural"})) {
    SCOPED_TRACE(k.key);
    double last = -1.0, last_v = -1e300;
    for (double f : {0.0, 0.25, 0.5, 1.0}) {
      const double v = towards_max(k, f);
      if (v == last_v) continue;  // an integer knob with few values
      last_v = v;
      const SystemInstance s = make_system(GetParam(), {}, {{k.key, v}}, 3);
      Rng rng(2);
      const double gap = rel_gap(*s.twin, *s.device, random_inputs(s, 16, rng), s.theta0);
      // The gap grows until it saturates: once the twin's error is as large as the device's
      // output (gap >= 1, the twin says nothing about the device) it may wander but stays
      // there. A range may reach into that regime (the oscillators' coupling_noise does: it
      // is where in-silico training collapses and PAT does not, docs/emulators.md).
      if (f == 0.0)
        EXPECT_LT(gap, 1e-9);
      else if (last >= 1.0)
        EXPECT_GE(gap, 1.0) << "at " << f << " of the range, after a saturated gap " << last;
      else
        EXPECT_GT(gap, last) << "at " << f << " of the range";
      last = gap;
    }
  }
}

TEST_P(EverySystem, EachNoiseKnobMovesTheDeviceAwayFromTheNoiselessPhysics) {
  // Random noise and quantization alike; each system's own tests measure the level.
  for (const KnobInfo& k : knobs_of_kind(GetParam(), {"noise"})) {
    SCOPED_TRACE(k.key);
    const SystemInstance s = make_system(GetParam(), {}, {{k.key, towards_max(k, 0.5)}}, 4);
    Rng rng(3);
    const Mat x = random_inputs(s, 8, rng);
    EXPECT_GT(rel_gap(*s.twin, *s.device, x, s.theta0), 1e-9);
  }
}

TEST_P(EverySystem, DriftMovesTheDeviceAndIsDeterministicForASeed) {
  for (const KnobInfo& k : knobs_of_kind(GetParam(), {"drift"})) {
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
  for (const KnobInfo& info : knobs_of_kind(GetParam(), {"noise", "drift"}))
    k[info.key] = towards_max(info, 0.3);
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
  for (const KnobInfo& info : knobs_of_kind(GetParam(), {"mismatch", "structural"}))
    k[info.key] = towards_max(info, 0.3);
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
  ASSERT_TRUE(kSettings.count(GetParam())) << "list the system's settings in kSettings";
  std::set<std::string> settings;
  for (const KnobInfo& k : e.info.knobs)
    if (k.kind == "setting") settings.insert(k.key);
  EXPECT_EQ(settings, kSettings.at(GetParam()));
  for (const std::string& key : settings) {
    const KnobInfo& k = e.info.knob(key);
    KnobValues changed = s.device->knobs();
    changed[k.key] = k.default_value == k.max ? k.min : k.max;
    EXPECT_THROW(s.device->set_knobs(changed), std::invalid_argument) << k.key;
  }
}

// With every knob at its default the device is its twin, per system with its own batch and
// bound: to the last bit (rel_tol 0) or to rounding (‖device − twin‖ < rel_tol ‖device‖), and
// so is the oracle; the device counts one query per sample.
struct PerfectCase {
  std::string system;
  uint64_t seed, data_seed;  // the system's; x: uniform in [lo, hi] from Rng(data_seed)
  int batch;
  double lo, hi;
  Vec theta;                 // empty: theta0
  double rel_tol;
  double min_norm;           // the device's output is more than this: the physics moves
};

// a = b bit for bit (rel_tol 0), else ‖a − b‖ < rel_tol ‖a‖.
void expect_twin_like(const Mat& a, const Mat& b, double rel_tol) {
  if (rel_tol == 0.0)
    EXPECT_EQ(a, b);
  else
    EXPECT_LT((a - b).norm(), rel_tol * a.norm());
}

TEST(Catalog, EachSystemsDefaultDeviceIsItsTwin) {
  Vec gains(4);
  gains << 0.4, 0.1, 0.5, 0.2;
  const PerfectCase cases[] = {
      // Same equations, same integrator, same constants: agreement to rounding.
      {"circuit", 1, 1, 16, -1.0, 1.0, Vec(), 1e-12, 0.1},
      {"plate", 5, 3, 16, -1.0, 1.0, Vec(), 1e-12, 1e-3},
      {"shg", 1, 1, 32, -1.0, 1.0, Vec(), 1e-12, 1e-3},
      // Ideal converters, no noise, no drift: bit for bit.
      {"crossbar", 1, 1, 32, -1.0, 1.0, Vec(), 0.0, 0.1},
      {"control", 1, 1, 16, -1.0, 1.0, gains, 0.0, 0.5},
      {"oscillators", 1, 1, 5, -1.0, 1.0, Vec(), 0.0, 0.0},
      {"rc_diode", 1, 5, 40, 0.02, 0.98, Vec(), 0.0, 0.0},
  };
  for (const PerfectCase& c : cases) {
    SCOPED_TRACE(c.system);
    const SystemInstance s = make_system(c.system, {}, {}, c.seed);
    Rng rng(c.data_seed);
    const Mat x = uniform_matrix(s.device->input_size(), c.batch, rng, c.lo, c.hi);
    const Vec theta = c.theta.size() ? c.theta : s.theta0;
    Mat yd, yt, yo;
    s.device->forward(x, theta, yd);
    s.twin->forward(x, theta, yt);
    s.device->oracle()->forward(x, theta, yo);
    EXPECT_GT(yd.norm(), c.min_norm);
    expect_twin_like(yd, yt, c.rel_tol);
    expect_twin_like(yt, yo, c.rel_tol);  // the oracle is the noiseless truth: here, the twin
    EXPECT_EQ(s.device->queries(), c.batch);
  }
}

// How far each system's mismatch and structural knobs move the device from its twin: the gap
// ‖device − twin‖ / ‖device‖ (or / ‖twin‖) on a fixed batch, level by level, with each system's
// own levels and bounds.
struct GapSweeps {
  std::string system;
  uint64_t seed;                 // the system's seed
  uint64_t data_seed;            // x = uniform_matrix(inputs, batch, Rng(data_seed))
  int batch;
  std::function<Vec(const SystemInstance&, Rng&)> theta;  // drawn after x; empty: theta0
  bool by_twin;                  // normalise by the twin's output instead of the device's
  bool from_defaults;            // the first "previous" gap is the defaults' (< 1e-12), else 0
  double growth, floor;          // at every level: gap > growth · previous gap + floor
  std::vector<std::pair<std::string, std::vector<double>>> sweeps;
  double top_min;                // the gap at each sweep's last level exceeds this
  std::vector<std::tuple<std::string, double, double>> single;  // knob, level: gap > bound
};

double sweep_gap(const GapSweeps& g, const KnobValues& knobs) {
  const SystemInstance s = make_system(g.system, {}, knobs, g.seed);
  Rng rng(g.data_seed);
  const Mat x = uniform_matrix(s.device->input_size(), g.batch, rng);
  const Vec theta = g.theta ? g.theta(s, rng) : s.theta0;
  Mat yd, yt;
  s.device->forward(x, theta, yd);
  s.twin->forward(x, theta, yt);
  return (yd - yt).norm() / (g.by_twin ? yt : yd).norm();
}

const std::vector<GapSweeps>& gap_sweeps() {
  static const std::vector<GapSweeps> table = {
      {"oscillators", 1, 3, 16, {}, true, false, 2.0, 0.0, {{"eta", {0.05, 0.3}}}, 0.0,
       {{"eta", 0.05, 1e-3}, {"coupling_noise", 0.2, 1e-3}}},
      {"plate", 3, 11, 64, {}, false, true, 1.2, 1e-4,
       {{"freq_mismatch", {0.01, 0.02, 0.05, 0.1}},
        {"damping_mismatch", {0.1, 0.3, 0.6, 1.0}},
        {"duffing", {0.01, 0.025, 0.05, 0.1}},
        {"extra_mode", {0.1, 0.3, 0.6, 1.0}},
        {"speaker_saturation", {0.25, 0.5, 1.0, 2.0}}},
       0.0,
       // A negative frequency offset (a softer plate) is a mismatch too.
       {{"freq_mismatch", -0.1, 0.05}}},
      {"circuit", 3, 11, 64, {}, false, true, 1.2, 1e-4,
       {{"tolerance", {0.02, 0.05, 0.1, 0.2}},
        {"is_rel", {0.1, 0.3, 1.0, 2.0}},
        {"n_rel", {0.02, 0.05, 0.1, 0.2}},
        {"temp_offset_k", {2.0, 5.0, 10.0, 25.0}},
        {"adc_loading", {0.01, 0.02, 0.05, 0.2}},
        {"adc_compression", {0.1, 0.3, 0.6, 1.0}}},
       0.0,
       // Either direction is a mismatch: a colder board, a smaller I_s, a smaller n.
       {{"temp_offset_k", -10.0, 0.01}, {"is_rel", -0.5, 0.01}, {"n_rel", -0.1, 0.01}}},
      {"shg", 3, 7, 64,
       [](const SystemInstance& s, Rng& rng) {
         return Vec(uniform_matrix(s.device->param_size(), 1, rng));
       },
       false, false, 1.0, 0.0,
       {{"bandwidth_error", {0.05, 0.1, 0.2, 0.4, 0.5}},
        {"dispersion_rad", {0.25, 0.5, 1.0, 2.0, 3.0}},
        {"crosstalk", {0.005, 0.01, 0.02, 0.05, 0.1}}},
       0.05,
       // A narrower crystal acceptance than the twin's is a mismatch too.
       {{"bandwidth_error", -0.2, 0.05}}},
      {"crossbar", 3, 7, 64, {}, false, false, 1.0, 0.0,
       {{"prog_noise_rel", {0.02, 0.05, 0.1, 0.2, 0.3}},
        {"stuck_fraction", {0.02, 0.05, 0.1, 0.15, 0.2}}},
       0.1, {}},
      {"control", 1, 2, 32,
       [](const SystemInstance&, Rng&) {
         Vec theta(4);
         theta << 0.4, 0.1, 0.5, 0.2;
         return theta;
       },
       true, false, 1.0, 0.0,
       {{"inertia_err", {0.1, 0.3, 0.8}},
        {"damping_err", {0.3, 1.0, 2.0}},
        {"coulomb_nm", {0.02, 0.06, 0.15}},
        {"saturation", {0.3, 0.6, 1.0}},
        {"delay_steps", {1, 2, 3}}},
       0.01, {}},
  };
  return table;
}

TEST(Catalog, EachMismatchKnobOpensTheTwinGapLevelByLevel) {
  for (const GapSweeps& g : gap_sweeps()) {
    SCOPED_TRACE(g.system);
    ASSERT_FALSE(g.sweeps.empty());
    for (const auto& [key, levels] : g.sweeps) {
      double prev = 0.0;
      if (g.from_defaults) {
        prev = sweep_gap(g, {});
        EXPECT_LT(prev, 1e-12);
      }
      std::printf("[%s] twin gap vs %s:", g.system.c_str(), key.c_str());
      for (double level : levels) {
        const double gap = sweep_gap(g, {{key, level}});
        std::printf("  %g -> %.4f", level, gap);
        EXPECT_GT(gap, g.growth * prev + g.floor) << key << " = " << level;
        prev = gap;
      }
      std::printf("\n");
      EXPECT_GT(prev, g.top_min) << key << " at its largest level barely changes the device";
    }
    for (const auto& [key, level, bound] : g.single)
      EXPECT_GT(sweep_gap(g, {{key, level}}), bound) << key << " = " << level;
  }
}

// A checkpoint taken mid-run resumes the device exactly, per system with its own knobs: a
// fresh device loading the state answers the next queries as the original did.
struct ResumeCase {
  std::string system;
  KnobValues knobs;
  uint64_t seed, data_seed;    // the system's; x = uniform_matrix(inputs, batch, Rng(data_seed))
  int batch, before, after;    // runs of the batch before the save and after it
  Vec theta;                   // empty: theta0
  size_t state_words;          // the state's expected size (0: not checked)
};

TEST(Catalog, EachSystemResumesFromItsSavedStateExactly) {
  Vec gains(4);
  gains << 0.4, 0.1, 0.5, 0.2;
  const ResumeCase cases[] = {
      {"plate",
       {{"mic_noise", 0.02}, {"gain_noise", 0.05}, {"freq_drift", 0.01}, {"duffing", 0.05}},
       9, 8, 64, 3, 1, Vec(), 0},
      {"circuit", {{"temp_drift_k", 3.0}, {"readout_noise_v", 0.01}}, 9, 8, 50, 3, 1, Vec(), 14},
      {"shg", {{"shot_noise", 0.01}, {"detector_noise", 0.01}, {"power_noise_rel", 0.05},
               {"power_drift", 0.1}},
       6, 13, 10, 3, 2, Vec(), 0},
      {"crossbar", {{"read_noise_rel", 0.05}, {"out_noise", 0.02}, {"drift_nu", 0.05},
                    {"prog_noise_rel", 0.1}},
       11, 11, 300, 3, 2, Vec(), 0},
      // Friction warm-up drift and sensor noise: the stream moves on between the two runs.
      {"control",
       {{"sensor_noise_rad", 0.01}, {"friction_drift_nm", 0.05}, {"coulomb_nm", 0.02}},
       11, 6, 64, 5, 2, gains, 0},
  };
  for (const ResumeCase& c : cases) {
    SCOPED_TRACE(c.system);
    const SystemInstance a = make_system(c.system, {}, c.knobs, c.seed);
    const SystemInstance b = make_system(c.system, {}, c.knobs, c.seed);
    const Vec theta = c.theta.size() ? c.theta : a.theta0;
    Rng rng(c.data_seed);
    const Mat x = uniform_matrix(a.device->input_size(), c.batch, rng);
    Mat y;
    for (int i = 0; i < c.before; ++i) a.device->forward(x, theta, y);
    const std::vector<uint64_t> state = a.device->save_state();
    if (c.state_words) {
      EXPECT_EQ(state.size(), c.state_words);
    }
    std::vector<Mat> expected(size_t(c.after));
    for (Mat& e : expected) a.device->forward(x, theta, e);  // the run continues...
    b.device->load_state(state);  // ...and a fresh device resumes from the checkpoint alone
    EXPECT_EQ(b.device->queries(), c.before * c.batch);
    for (int i = 0; i < c.after; ++i) {
      b.device->forward(x, theta, y);
      EXPECT_EQ(y, expected[size_t(i)]) << "run " << i << " after the restore";
    }
    if (c.after > 1) {
      EXPECT_NE(expected[0], expected[1]);  // noise and drift moved on
    }
    EXPECT_EQ(a.device->save_state(), b.device->save_state());
    Mat oa, ob;
    a.device->oracle()->forward(x, theta, oa);
    b.device->oracle()->forward(x, theta, ob);
    EXPECT_EQ(oa, ob);  // the drifted physics too
    EXPECT_THROW(b.device->load_state({1, 2}), std::invalid_argument);
    EXPECT_THROW(b.device->load_state({1, 2, 3}), std::invalid_argument);
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
