#include "patlab/experiment/experiment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "patlab/datasets/pack.h"
#include "patlab/datasets/toy2d.h"
#include "patlab/datasets/vowels.h"

namespace patlab {

using nlohmann::json;

Experiment default_experiment() {
  Experiment e;
  e.name = "moons on coupled oscillators";
  LayerSpec enc, phys, out;
  enc.kind = "affine";
  enc.size = 8;
  phys.kind = "physical";
  phys.knobs = {{"eta", 0.2}, {"coupling_noise", 0.1}, {"readout_noise_rad", 0.01}};
  out.kind = "affine";
  out.size = 2;
  e.layers = {enc, phys, out};
  e.steps = 600;
  return e;
}

// ---------------------------------------------------------------------------------------
// Writing

json to_json(const Experiment& e) {
  json j;
  j["format_version"] = Experiment::kFormatVersion;
  j["name"] = e.name;
  j["data"] = {{"name", e.data.name}, {"train_size", e.data.train_size},
               {"test_size", e.data.test_size}, {"noise", e.data.noise}, {"seed", e.data.seed}};
  j["layers"] = json::array();
  for (const LayerSpec& l : e.layers) {
    json lj = {{"kind", l.kind}};
    if (l.kind == "affine" || l.kind == "physical") lj["size"] = l.size;
    if (l.kind == "affine" || l.kind == "scale_offset" || l.kind == "readout_scale") lj["init"] = l.init;
    if (l.kind == "physical") {
      lj["system"] = l.system;
      lj["seed"] = l.seed;
      lj["knobs"] = json::object();
      for (const auto& [key, value] : l.knobs) lj["knobs"][key] = value;
      lj["encoding"] = {{"scale", l.encoding.scale}, {"offset", l.encoding.offset},
                        {"clamp", l.encoding.clamp}};
    }
    j["layers"].push_back(lj);
  }
  const TrainConfig& t = e.train;
  j["train"] = {
      {"method", method_name(t.method)},
      {"loss", loss_name(t.loss)},
      {"optimizer", {{"kind", optimizer_name(t.optimizer.kind)},
                     {"learning_rate", t.optimizer.learning_rate},
                     {"momentum", t.optimizer.momentum},
                     {"beta1", t.optimizer.beta1},
                     {"beta2", t.optimizer.beta2},
                     {"eps", t.optimizer.eps}}},
      {"schedule", {{"kind", schedule_name(t.schedule.kind)},
                    {"step_every", t.schedule.step_every},
                    {"gamma", t.schedule.gamma},
                    {"total_steps", t.schedule.total_steps},
                    {"min_factor", t.schedule.min_factor}}},
      {"batch_size", t.batch_size},
      {"seed", t.seed},
      {"clamp_params", t.clamp_params},
      {"range_penalty", t.range_penalty},
      {"spsa_perturbation", t.spsa_perturbation},
      {"spsa_samples", t.spsa_samples},
      {"fd_step", t.fd_step},
      {"measure_alignment", t.measure_alignment},
      {"twin_refresh", {{"every", t.twin_refresh_every},
                        {"iterations", t.twin_refresh_iterations},
                        {"learning_rate", t.twin_refresh_learning_rate},
                        {"samples", t.twin_refresh_samples}}}};
  j["steps"] = e.steps;
  return j;
}

// ---------------------------------------------------------------------------------------
// Reading: strict, with the key path in every message

namespace {

// Every number an experiment holds has a range (docs/reliability.md lists them); a value
// outside it is refused with the key path, the value and the range, never clamped or replaced
// by a default.
struct Range {
  double lo, hi;
  bool lo_open = false, hi_open = false;
  bool contains(double v) const {
    return std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  }
  std::string text() const {
    if (hi == kNoLimit) return std::string(lo_open ? "> " : ">= ") + number(lo) + " and finite";
    return std::string(lo_open ? "in (" : "in [") + number(lo) + ", " + number(hi) + (hi_open ? ")" : "]");
  }
  static constexpr double kNoLimit = std::numeric_limits<double>::max();
  static std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    return buf;
  }
};
constexpr Range kAtLeast(double lo) { return {lo, Range::kNoLimit}; }
constexpr Range kAbove(double lo) { return {lo, Range::kNoLimit, true}; }
constexpr Range kUnit{0.0, 1.0, false, true};  // [0, 1)

// Reads the keys of one JSON object; finish() refuses keys nobody asked for (a typo such as
// "learning_rte" must not silently fall back to a default).
class Reader {
 public:
  Reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j.is_object()) fail("", "expected an object");
  }

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    std::string where = path_;
    if (!key.empty()) where += (where.empty() ? "" : ".") + key;
    throw std::invalid_argument((where.empty() ? std::string("experiment") : where) + ": " + what);
  }
  std::string path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  const json* find(const char* key) {
    seen_.insert(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  bool has(const char* key) const { return j_.contains(key); }
  void get(const char* key, double& out, const Range& range) {
    if (const json* v = find(key)) {
      if (!v->is_number()) fail(key, "expected a number");
      out = v->get<double>();
    }
    check(key, out, range);
  }
  template <typename Int>
  void get(const char* key, Int& out, const Range& range) {
    static_assert(std::is_integral<Int>::value, "integers");
    if (const json* v = find(key)) {
      if (!v->is_number_integer()) fail(key, "expected an integer");
      const double x = v->is_number_unsigned() ? double(v->get<uint64_t>()) : double(v->get<long long>());
      check(key, x, range);
      out = v->is_number_unsigned() ? Int(v->get<uint64_t>()) : Int(v->get<long long>());
    }
    check(key, double(out), range);
  }
  void get(const char* key, uint64_t& out) {  // seeds: the whole 64-bit range
    if (const json* v = find(key)) {
      if (!v->is_number_unsigned())
        fail(key, "expected an integer from 0 to 18446744073709551615");
      out = v->get<uint64_t>();
    }
  }
  void get(const char* key, bool& out) {
    if (const json* v = find(key)) {
      if (!v->is_boolean()) fail(key, "expected true or false");
      out = v->get<bool>();
    }
  }
  void get(const char* key, std::string& out, size_t max_length = 200) {
    if (const json* v = find(key)) {
      if (!v->is_string()) fail(key, "expected a string");
      out = v->get<std::string>();
      if (out.size() > max_length)
        fail(key, "longer than " + std::to_string(max_length) + " characters");
    }
  }
  // A name parsed by `parse` (which throws std::invalid_argument with the valid choices).
  template <typename T, typename Parse>
  void get_enum(const char* key, T& out, Parse parse) {
    std::string name;
    get(key, name);
    if (!find(key)) return;
    try {
      out = parse(name);
    } catch (const std::invalid_argument& e) {
      fail(key, e.what());
    }
  }
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!seen_.count(it.key())) fail(it.key(), "unknown key");
  }
  void check(const char* key, double v, const Range& range) const {
    if (!range.contains(v)) fail(key, Range::number(v) + " is out of range: must be " + range.text());
  }

 private:
  const json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

}  // namespace

Experiment experiment_from_json(const json& j) {
  Experiment e;
  Reader r(j, "");
  int version = Experiment::kFormatVersion;
  r.get("format_version", version, {1, 1000});
  if (version != Experiment::kFormatVersion)
    r.fail("format_version", "this is format " + std::to_string(version) + ", but this patlab reads format " +
                                 std::to_string(Experiment::kFormatVersion));
  r.get("name", e.name);
  if (const json* d = r.find("data")) {
    Reader rd(*d, "data");
    rd.get("name", e.data.name);
    if (!known_data_set(e.data.name))
      rd.fail("name", "unknown data set '" + e.data.name +
                          "': choose moons, circles, spiral, xor, clusters, vowels, digits8, mnist14 or fashion14");
    rd.get("train_size", e.data.train_size, {2, limits::kMaxSamples});
    rd.get("test_size", e.data.test_size, {2, limits::kMaxSamples});
    rd.get("noise", e.data.noise, {0, 10});
    rd.get("seed", e.data.seed);
    rd.finish();
  }
  if (const json* ls = r.find("layers")) {
    if (!ls->is_array()) r.fail("layers", "expected an array");
    if (ls->size() > size_t(limits::kMaxLayers))
      r.fail("layers", std::to_string(ls->size()) + " layers: at most " +
                           std::to_string(limits::kMaxLayers));
    for (size_t i = 0; i < ls->size(); ++i) {
      LayerSpec l;
      Reader rl((*ls)[i], "layers[" + std::to_string(i) + "]");
      rl.get("kind", l.kind);
      static const std::set<std::string> kinds = {"affine", "scale_offset", "relu", "tanh",
                                                  "sigmoid", "readout_scale", "physical"};
      if (!kinds.count(l.kind))
        rl.fail("kind", "unknown layer kind '" + l.kind +
                            "': choose affine, scale_offset, relu, tanh, sigmoid, readout_scale or physical");
      // Keys that mean nothing for this kind are refused, not ignored.
      const bool sized = l.kind == "affine" || l.kind == "physical";
      const bool has_init = l.kind == "affine" || l.kind == "scale_offset" || l.kind == "readout_scale";
      if (!sized && rl.has("size"))
        rl.fail("size", "a " + l.kind + " layer keeps its input's width: only affine and physical layers have a size");
      if (!has_init && rl.has("init"))
        rl.fail("init", "a " + l.kind + " layer has no initial value: only affine, scale_offset and readout_scale layers do");
      if (l.kind == "affine") {
        if (!rl.has("size")) rl.fail("size", "an affine layer needs its number of outputs");
        rl.get("size", l.size, {1, limits::kMaxWidth});
      } else if (l.kind == "physical") {
        rl.get("size", l.size, {0, limits::kMaxWidth});
      }
      if (has_init) rl.get("init", l.init, {-1000, 1000});
      if (l.kind == "physical") {
        rl.get("system", l.system);
        rl.get("seed", l.seed);
        const CatalogEntry* entry = nullptr;
        try {
          entry = &find_system(l.system);
        } catch (const std::invalid_argument& err) {
          rl.fail("system", err.what());
        }
        if (const json* k = rl.find("knobs")) {
          if (!k->is_object()) rl.fail("knobs", "expected an object of knob values");
          for (auto it = k->begin(); it != k->end(); ++it) {
            if (!it->is_number()) rl.fail("knobs." + it.key(), "expected a number");
            l.knobs[it.key()] = it->get<double>();
          }
          try {
            entry->info.complete(l.knobs);  // unknown knob or value out of range
          } catch (const std::invalid_argument& err) {
            rl.fail("knobs", err.what());
          }
        }
        if (const json* en = rl.find("encoding")) {
          Reader re(*en, rl.path("encoding"));
          re.get("scale", l.encoding.scale, {-1e6, 1e6});
          re.get("offset", l.encoding.offset, {-1e6, 1e6});
          re.get("clamp", l.encoding.clamp);
          re.finish();
        }
      }
      rl.finish();
      e.layers.push_back(l);
    }
  }
  if (const json* t = r.find("train")) {
    TrainConfig& c = e.train;
    Reader rt(*t, "train");
    rt.get_enum("method", c.method, method_from_name);
    rt.get_enum("loss", c.loss, loss_from_name);
    if (const json* o = rt.find("optimizer")) {
      Reader ro(*o, "train.optimizer");
      ro.get_enum("kind", c.optimizer.kind, optimizer_from_name);
      ro.get("learning_rate", c.optimizer.learning_rate, kAbove(0));
      ro.get("momentum", c.optimizer.momentum, kUnit);
      ro.get("beta1", c.optimizer.beta1, kUnit);
      ro.get("beta2", c.optimizer.beta2, kUnit);
      ro.get("eps", c.optimizer.eps, {0, 1, true});
      ro.finish();
    }
    if (const json* s = rt.find("schedule")) {
      Reader rs(*s, "train.schedule");
      rs.get_enum("kind", c.schedule.kind, schedule_from_name);
      rs.get("step_every", c.schedule.step_every, {1, limits::kMaxSteps});
      rs.get("gamma", c.schedule.gamma, kAbove(0));
      rs.get("total_steps", c.schedule.total_steps, {1, limits::kMaxSteps});
      rs.get("min_factor", c.schedule.min_factor, {0, 1});
      rs.finish();
    }
    rt.get("batch_size", c.batch_size, {1, limits::kMaxSamples});
    rt.get("seed", c.seed);
    rt.get("clamp_params", c.clamp_params);
    rt.get("range_penalty", c.range_penalty, kAtLeast(0));
    rt.get("spsa_perturbation", c.spsa_perturbation, {0, 1000, true});
    rt.get("spsa_samples", c.spsa_samples, {1, limits::kMaxSpsaSamples});
    rt.get("fd_step", c.fd_step, {0, 1, true});
    rt.get("measure_alignment", c.measure_alignment);
    if (const json* tr = rt.find("twin_refresh")) {
      Reader rr(*tr, "train.twin_refresh");
      rr.get("every", c.twin_refresh_every, {0, 1e9});
      rr.get("iterations", c.twin_refresh_iterations, {1, limits::kMaxTwinIterations});
      rr.get("learning_rate", c.twin_refresh_learning_rate, {0, 10, true});
      rr.get("samples", c.twin_refresh_samples, {1, limits::kMaxTwinSamples});
      rr.finish();
    }
    rt.finish();
  }
  r.get("steps", e.steps, {1, limits::kMaxSteps});
  r.finish();
  return e;
}

namespace {

// "line 3, column 14" of a byte offset into text (1-based, as editors count).
std::string line_column(const std::string& text, size_t byte) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// nlohmann's messages start "[json.exception.parse_error.101] parse error at line 1, column
// 9: "; keep what comes after for people.
std::string library_reason(const std::string& what) {
  std::string s = what;
  if (s.rfind("[json.exception.", 0) == 0) s = s.substr(s.find(']') + 1);
  const size_t colon = s.find(": ");
  if (s.find("parse error") != std::string::npos && colon != std::string::npos) s = s.substr(colon + 2);
  while (!s.empty() && s[0] == ' ') s.erase(0, 1);
  return s;
}

}  // namespace

json parse_json_strict(const std::string& text, const std::string& what) {
  // Duplicate keys: the JSON library keeps the last silently; a file that sets a key twice
  // almost always holds a mistake, so name it. The callback tracks the path it is in.
  struct Frame {
    bool object;
    std::string name;             // "train", "layers[2]", ...
    std::set<std::string> keys;   // objects: keys seen
    long long next_index = 0;     // arrays: the next element's index
    std::string pending_key;      // objects: the key whose value comes next
  };
  std::vector<Frame> stack;
  auto path_of = [&]() {
    std::string p;
    for (size_t i = 1; i < stack.size(); ++i) {
      const std::string& n = stack[i].name;
      p += (p.empty() || n[0] == '[' ? "" : ".") + n;
    }
    return p;
  };
  auto child_name = [&]() -> std::string {
    if (stack.empty()) return "";
    Frame& f = stack.back();
    if (f.object) return f.pending_key;
    return "[" + std::to_string(f.next_index++) + "]";
  };
  std::string duplicate;
  const json::parser_callback_t cb = [&](int, json::parse_event_t event, json& parsed) {
    using E = json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start: {
        Frame f;
        f.object = event == E::object_start;
        f.name = child_name();
        stack.push_back(std::move(f));
        break;
      }
      case E::object_end:
      case E::array_end:
        if (!stack.empty()) stack.pop_back();
        break;
      case E::key: {
        Frame& f = stack.back();
        const std::string key = parsed.get<std::string>();
        if (!f.keys.insert(key).second && duplicate.empty()) {
          const std::string p = path_of();
          duplicate = (p.empty() ? "" : p + ": ") + "the key '" + key + "' is given twice";
        }
        f.pending_key = key;
        break;
      }
      case E::value:
        if (!stack.empty() && !stack.back().object) ++stack.back().next_index;
        break;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text, cb);
  } catch (const json::parse_error& err) {
    throw std::invalid_argument(what + ": not valid JSON at " + line_column(text, err.byte ? err.byte - 1 : 0) +
                                ": " + library_reason(err.what()));
  } catch (const json::out_of_range& err) {
    // e.g. 1e999: "number overflow parsing '1e999'".
    throw std::invalid_argument(what + ": a number is out of range (" + library_reason(err.what()) +
                                "): numbers must fit a double");
  } catch (const json::exception& err) {
    throw std::invalid_argument(what + ": not valid JSON (" + library_reason(err.what()) + ")");
  }
  if (!duplicate.empty()) throw std::invalid_argument(what + ": " + duplicate);
  return j;
}

Experiment experiment_from_string(const std::string& text) {
  return experiment_from_json(parse_json_strict(text, "experiment"));
}

// ---------------------------------------------------------------------------------------
// Building

bool known_data_set(const std::string& name) {
  const auto& toys = toy2d_names();
  const auto& packs = pack_ids();
  return name == "vowels" || std::find(toys.begin(), toys.end(), name) != toys.end() ||
         std::find(packs.begin(), packs.end(), name) != packs.end();
}

void make_experiment_data(const DataSpec& d, const DataPack* pack, Dataset& train, Dataset& test) {
  if (pack) {
    // Real data comes packed and split already; test_size caps the test samples used (every
    // curve point of the lab costs a pass of them through the device).
    train = pack->train;
    const int n = std::min(d.test_size, pack->test.size());
    test = pack->test;
    test.x = pack->test.x.leftCols(n).eval();
    test.y = pack->test.y.head(n).eval();
  } else if (d.name == "vowels") {
    train = make_vowels(d.train_size, d.seed);
    test = make_vowels(d.test_size, d.seed + 1000);
  } else {
    train = make_toy2d(d.name, d.train_size, d.noise, d.seed);
    test = make_toy2d(d.name, d.test_size, d.noise, d.seed + 1000);
  }
}

std::unique_ptr<Run> build_run(const Experiment& e, const std::string& pack_dir,
                               const DeviceFactory& device) {
  if (e.layers.empty()) throw std::invalid_argument("experiment: the network has no layers");
  auto run = std::make_unique<Run>();
  const auto& packs = pack_ids();
  if (std::find(packs.begin(), packs.end(), e.data.name) != packs.end()) {
    if (pack_dir.empty())
      throw std::invalid_argument("experiment: data set " + e.data.name + " needs the data packs folder");
    const DataPack p = decode_pack(read_file_bytes(pack_dir + "/" + e.data.name + ".pdp"));
    make_experiment_data(e.data, &p, run->train, run->test);
  } else {
    make_experiment_data(e.data, nullptr, run->train, run->test);
  }
  build_network(e, run->train, *run, device);
  return run;
}

void build_network(const Experiment& e, const Dataset& train, Run& run, const DeviceFactory& device) {
  if (e.layers.empty()) throw std::invalid_argument("experiment: the network has no layers");
  run.experiment = e;
  Rng rng(e.train.seed);
  int width = train.features();
  int physical = 0;
  for (size_t i = 0; i < e.layers.size(); ++i) {
    const LayerSpec& l = e.layers[i];
    const std::string where = "experiment: layers[" + std::to_string(i) + "] (" + l.kind + ")";
    if (l.kind == "affine") {
      run.net.add(std::make_unique<AffineLayer>(width, l.size, rng, l.init));
      width = l.size;
    } else if (l.kind == "scale_offset") {
      run.net.add(std::make_unique<ScaleOffsetLayer>(width, l.init, 0.0));
    } else if (l.kind == "readout_scale") {
      run.net.add(std::make_unique<ReadoutScaleLayer>(width, l.init));
    } else if (l.kind == "physical") {
      SystemInstance sys;
      try {
        sys = make_system(l.system, Shape{width, l.size}, l.knobs, l.seed);
      } catch (const std::invalid_argument& err) {
        throw std::invalid_argument(where + ": " + err.what());
      }
      const std::shared_ptr<PhysicalSystem> dev = device ? device(l, physical, sys) : sys.device;
      ++physical;
      run.devices.push_back(dev);
      run.net.add(std::make_unique<PhysicalLayer>(dev, sys.twin, sys.theta0, l.encoding));
      width = dev->output_size();
    } else {
      run.net.add(std::make_unique<ActivationLayer>(width, activation_from_name(l.kind)));
    }
  }
  if (run.net.param_count() == 0)
    throw std::invalid_argument(
        "experiment: the network has no trainable parameters: add an affine or a physical layer");
  if (run.net.output_size() < train.num_classes)
    throw std::invalid_argument("experiment: the network gives " +
                                std::to_string(run.net.output_size()) + " outputs for " +
                                std::to_string(train.num_classes) + " classes");
  // A digital readout (the last affine layer, with only width-keeping layers after it) has one
  // output per class; spare outputs would be classes that never occur. A physical last layer
  // gives what the system gives, and the first num_classes outputs are read.
  for (size_t i = e.layers.size(); i-- > 0;) {
    const std::string& kind = e.layers[i].kind;
    if (kind == "physical") break;
    if (kind != "affine") continue;
    if (e.layers[i].size != train.num_classes)
      throw std::invalid_argument(
          "experiment: layers[" + std::to_string(i) + "] (affine) is the readout and gives " +
          std::to_string(e.layers[i].size) + " outputs, but " + e.data.name + " has " +
          std::to_string(train.num_classes) + " classes: set its size to " +
          std::to_string(train.num_classes));
    break;
  }
  run.trainer = std::make_unique<Trainer>(run.net, train, e.train);
}

// ---------------------------------------------------------------------------------------
// Checkpoints

namespace {

constexpr const char* kCheckpointMagic = "patlab-checkpoint";
constexpr int kCheckpointVersion = 1;

json vec_json(const Vec& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

Vec json_vec(const json& j, const char* what) {
  if (!j.is_array()) throw CheckpointError(std::string("checkpoint: ") + what + " is not an array");
  Vec v(Eigen::Index(j.size()));
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_number()) throw CheckpointError(std::string("checkpoint: ") + what + " holds a non-number");
    v[Eigen::Index(i)] = j[i].get<double>();
  }
  return v;
}

}  // namespace

uint64_t fnv1a64(const std::string& s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)v);
  return buf;
}

std::string experiment_fingerprint(const Experiment& e) {
  json j = to_json(e);
  j.erase("steps");
  return hex16(fnv1a64(j.dump()));
}

namespace {
void diff_json(const json& a, const json& b, const std::string& path, std::vector<std::string>& out,
               size_t max) {
  if (out.size() >= max || a == b) return;
  auto at = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (auto it = a.begin(); it != a.end(); ++it) keys.insert(it.key());
    for (auto it = b.begin(); it != b.end(); ++it) keys.insert(it.key());
    for (const std::string& k : keys)
      diff_json(a.contains(k) ? a[k] : json(), b.contains(k) ? b[k] : json(), at(k), out, max);
    return;
  }
  if (a.is_array() && b.is_array() && a.size() == b.size()) {
    for (size_t i = 0; i < a.size(); ++i)
      diff_json(a[i], b[i], path + "[" + std::to_string(i) + "]", out, max);
    return;
  }
  auto show = [](const json& v) {
    if (v.is_null()) return std::string("(none)");
    std::string t = v.dump();
    return t.size() > 40 ? t.substr(0, 37) + "..." : t;
  };
  out.push_back(path + ": " + show(a) + " vs " + show(b));
}
}  // namespace

std::vector<std::string> experiment_differences(const Experiment& a, const Experiment& b, size_t max) {
  std::vector<std::string> out;
  json ja = to_json(a), jb = to_json(b);
  ja.erase("steps");
  jb.erase("steps");
  diff_json(ja, jb, "", out, max);
  return out;
}

Checkpoint capture(const Run& run) {
  Checkpoint c;
  c.experiment = run.experiment;
  c.params = run.net.get_params();
  c.trainer = run.trainer->save_state();
  for (const auto& d : run.devices) c.devices.push_back(d->save_state());
  if (run.experiment.train.twin_refresh_every > 0)
    for (PhysicalLayer* l : const_cast<Network&>(run.net).physical_layers()) {
      auto* f = dynamic_cast<const FittableTwin*>(&l->twin());
      c.twins.push_back(f ? f->fitted_state() : Vec());
      c.recorded.push_back(l->recorded());
    }
  return c;
}

void restore(Run& run, const Checkpoint& c) {
  if (c.params.size() != run.net.param_count())
    throw CheckpointError("checkpoint: it holds " + std::to_string(c.params.size()) +
                          " parameters but the network has " + std::to_string(run.net.param_count()));
  if (c.devices.size() != run.devices.size())
    throw CheckpointError("checkpoint: it holds the state of " + std::to_string(c.devices.size()) +
                          " devices but the network has " + std::to_string(run.devices.size()));
  if (!c.params.allFinite()) throw CheckpointError("checkpoint: parameters contain NaN or Inf");
  for (size_t i = 0; i < c.trainer.optimizer.m.size(); ++i)
    if (!c.trainer.optimizer.m[i].allFinite() ||
        (i < c.trainer.optimizer.v.size() && !c.trainer.optimizer.v[i].allFinite()))
      throw CheckpointError("checkpoint: the optimiser state contains NaN or Inf");
  const auto layers = run.net.physical_layers();
  if (!c.twins.empty() && (c.twins.size() != layers.size() || c.recorded.size() != layers.size()))
    throw CheckpointError("checkpoint: twin states do not match the physical layers");
  try {
    run.trainer->load_state(c.trainer);
    for (size_t i = 0; i < c.devices.size(); ++i) run.devices[i]->load_state(c.devices[i]);
    for (size_t i = 0; i < c.twins.size(); ++i) {
      if (auto* f = dynamic_cast<FittableTwin*>(&layers[i]->twin())) f->set_fitted_state(c.twins[i]);
      const DeviceSamples& r = c.recorded[i];
      if (r.size() && (r.x.rows() != layers[i]->device().input_size() ||
                       r.theta.rows() != layers[i]->device().param_size() ||
                       r.y.rows() != layers[i]->device().output_size()))
        throw CheckpointError("checkpoint: recorded samples do not fit physical layer " + std::to_string(i));
      layers[i]->set_recorded(r);
    }
  } catch (const std::invalid_argument& e) {
    throw CheckpointError(std::string("checkpoint: ") + e.what());
  }
  run.net.set_params(c.params);
}

std::string checkpoint_to_string(const Checkpoint& c) {
  json p;
  p["experiment"] = to_json(c.experiment);
  p["params"] = vec_json(c.params);
  json t;
  t["steps"] = c.trainer.steps;
  t["epoch"] = c.trainer.epoch;
  t["cursor"] = c.trainer.cursor;
  t["order"] = c.trainer.order;
  t["rng"] = c.trainer.rng;
  t["optimizer"]["t"] = c.trainer.optimizer.t;
  t["optimizer"]["m"] = json::array();
  t["optimizer"]["v"] = json::array();
  for (size_t i = 0; i < c.trainer.optimizer.m.size(); ++i) {
    t["optimizer"]["m"].push_back(vec_json(c.trainer.optimizer.m[i]));
    t["optimizer"]["v"].push_back(vec_json(c.trainer.optimizer.v[i]));
  }
  p["trainer"] = t;
  p["devices"] = c.devices;
  p["twins"] = json::array();
  for (size_t i = 0; i < c.twins.size(); ++i) {
    const DeviceSamples& r = c.recorded[i];
    auto mat = [](const Mat& m) {
      return json{{"rows", m.rows()}, {"data", std::vector<double>(m.data(), m.data() + m.size())}};
    };
    p["twins"].push_back({{"state", vec_json(c.twins[i])},
                          {"recorded", {{"x", mat(r.x)}, {"theta", mat(r.theta)}, {"y", mat(r.y)}}}});
  }
  const std::string payload = p.dump();
  json file = {{"format", kCheckpointMagic},
               {"version", kCheckpointVersion},
               {"checksum", hex16(fnv1a64(payload))},
               {"payload", p}};
  return file.dump(1);
}

namespace {

// Whole numbers of a checkpoint, read strictly: a float where an integer belongs (1e20 for an
// epoch) or a value beyond the field's type is damage, not something to cast.
long long whole(const json& j, long long lo, long long hi, const char* what) {
  if (!j.is_number_integer())
    throw CheckpointError(std::string("checkpoint: ") + what + " is not a whole number");
  if (j.is_number_unsigned() ? j.get<uint64_t>() > uint64_t(hi) : j.get<long long>() < lo || j.get<long long>() > hi)
    throw CheckpointError(std::string("checkpoint: ") + what + " is out of range");
  return j.get<long long>();
}

uint64_t word(const json& j, const char* what) {
  if (!j.is_number_unsigned())
    throw CheckpointError(std::string("checkpoint: ") + what + " holds a value that is not a 64-bit word");
  return j.get<uint64_t>();
}

const json& array_at(const json& j, const char* key, const char* what) {
  const json& a = j.at(key);
  if (!a.is_array()) throw CheckpointError(std::string("checkpoint: ") + what + " is not an array");
  return a;
}

}  // namespace

Checkpoint checkpoint_from_string(const std::string& text) {
  json file;
  try {
    file = json::parse(text);
  } catch (const json::exception&) {  // parse_error, or out_of_range for a number like 1e400
    throw CheckpointError(text.empty() ? "checkpoint: the file is empty"
                                       : "checkpoint: the file is not valid JSON (truncated or damaged)");
  }
  if (!file.is_object() || !file.contains("format") || !file["format"].is_string() ||
      file["format"].get<std::string>() != kCheckpointMagic)
    throw CheckpointError("checkpoint: this is not a patlab checkpoint");
  if (!file.contains("version") || !file["version"].is_number_integer())
    throw CheckpointError("checkpoint: the format version is missing");
  if (file["version"] != kCheckpointVersion)
    throw CheckpointError("checkpoint: format version " + file["version"].dump() +
                          " is not readable by this patlab (it reads version " +
                          std::to_string(kCheckpointVersion) + ")");
  if (!file.contains("payload") || !file.contains("checksum"))
    throw CheckpointError("checkpoint: payload or checksum missing");
  const json& p = file["payload"];
  if (file["checksum"] != hex16(fnv1a64(p.dump())))
    throw CheckpointError("checkpoint: checksum mismatch: the file was changed or damaged");

  Checkpoint c;
  try {
    c.experiment = experiment_from_json(p.at("experiment"));
    c.params = json_vec(p.at("params"), "params");
    const json& t = p.at("trainer");
    constexpr long long kInt = INT32_MAX, kLong = INT64_MAX;
    c.trainer.steps = whole(t.at("steps"), 0, kLong, "trainer.steps");
    c.trainer.epoch = int(whole(t.at("epoch"), 0, kInt, "trainer.epoch"));
    c.trainer.cursor = int(whole(t.at("cursor"), 0, kInt, "trainer.cursor"));
    for (const json& i : array_at(t, "order", "trainer.order"))
      c.trainer.order.push_back(int(whole(i, 0, kInt, "trainer.order")));
    const json& rng = array_at(t, "rng", "trainer.rng");
    if (rng.size() != c.trainer.rng.size()) throw CheckpointError("checkpoint: trainer.rng has the wrong size");
    for (size_t i = 0; i < rng.size(); ++i) c.trainer.rng[i] = word(rng[i], "trainer.rng");
    c.trainer.optimizer.t = whole(t.at("optimizer").at("t"), 0, kLong, "optimizer.t");
    const json& m = array_at(t.at("optimizer"), "m", "optimizer.m");
    const json& v = array_at(t.at("optimizer"), "v", "optimizer.v");
    if (m.size() != v.size()) throw CheckpointError("checkpoint: optimiser moments differ in length");
    for (size_t i = 0; i < m.size(); ++i) {
      c.trainer.optimizer.m.push_back(json_vec(m[i], "optimizer.m"));
      c.trainer.optimizer.v.push_back(json_vec(v[i], "optimizer.v"));
    }
    for (const json& d : array_at(p, "devices", "devices")) {
      if (!d.is_array()) throw CheckpointError("checkpoint: a device state is not an array");
      std::vector<uint64_t> words;
      for (const json& w : d) words.push_back(word(w, "a device state"));
      c.devices.push_back(std::move(words));
    }
    if (p.contains("twins")) {
      auto mat = [](const json& mj, Eigen::Index cols) {
        const Eigen::Index rows = Eigen::Index(whole(mj.at("rows"), 0, INT32_MAX, "twins.recorded.rows"));
        const Vec data = json_vec(mj.at("data"), "twins.recorded");
        if (data.size() != rows * cols) throw CheckpointError("checkpoint: recorded samples have a bad size");
        return Mat(Eigen::Map<const Mat>(data.data(), rows, cols));
      };
      for (const json& twin : array_at(p, "twins", "twins")) {
        c.twins.push_back(json_vec(twin.at("state"), "twins.state"));
        const json& r = twin.at("recorded");
        const Eigen::Index x_rows = Eigen::Index(whole(r.at("x").at("rows"), 0, INT32_MAX, "twins.recorded.rows"));
        const Eigen::Index n = x_rows ? Eigen::Index(array_at(r.at("x"), "data", "twins.recorded").size()) / x_rows : 0;
        c.recorded.push_back({mat(r.at("x"), n), mat(r.at("theta"), n), mat(r.at("y"), n)});
      }
    }
  } catch (const json::exception& e) {
    throw CheckpointError(std::string("checkpoint: malformed contents (") + e.what() + ")");
  } catch (const std::invalid_argument& e) {
    throw CheckpointError(std::string("checkpoint: its experiment is invalid: ") + e.what());
  }
  return c;
}

void save_checkpoint_file(const std::string& path, const Checkpoint& c) {
  // A checkpoint that could not be resumed must never replace one that can.
  bool finite = c.params.allFinite();
  for (size_t i = 0; i < c.trainer.optimizer.m.size(); ++i)
    finite = finite && c.trainer.optimizer.m[i].allFinite() && c.trainer.optimizer.v[i].allFinite();
  for (const Vec& t : c.twins) finite = finite && t.allFinite();
  if (!finite)
    throw CheckpointError("checkpoint: refusing to write " + path +
                          ": its parameters, optimiser state or twins hold NaN or Inf (the "
                          "previous checkpoint, if any, is kept)");
  const std::string text = checkpoint_to_string(c);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw CheckpointError("checkpoint: cannot write " + tmp);
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw CheckpointError("checkpoint: writing " + tmp + " failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw CheckpointError("checkpoint: cannot replace " + path);
  }
}

Checkpoint load_checkpoint_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError("checkpoint: cannot open " + path);
  // Read in pieces up to the limit: a device file such as /dev/zero has no size to ask for.
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, size_t(in.gcount()));
    // A checkpoint is a JSON object: anything else (/dev/zero, a binary file) is refused at
    // once, not read up to the limit.
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] != '{')
      throw CheckpointError(path + ": checkpoint: this is not a patlab checkpoint");
    if (text.size() > limits::kMaxCheckpointBytes)
      throw CheckpointError(path + ": checkpoint: larger than " +
                            std::to_string(limits::kMaxCheckpointBytes >> 20) +
                            " MiB: not a patlab checkpoint");
  }
  try {
    return checkpoint_from_string(text);
  } catch (const CheckpointError& e) {
    throw CheckpointError(path + ": " + e.what());
  }
}

}  // namespace patlab
