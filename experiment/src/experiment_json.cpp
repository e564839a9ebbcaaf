// experiment/src/experiment_json.cpp: an Experiment to JSON and back. Reading is strict: a
// Reader per object checks every key's type and range and refuses keys nobody asked for, and
// every message carries the key path ("train.optimizer.learning_rate: expected a number").
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <set>
#include <type_traits>

#include "patlab/experiment/experiment.h"

namespace patlab {

using nlohmann::json;

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
    if (l.kind == "append") {
      lj["count"] = l.count;
      lj["value"] = l.value;
    }
    if (l.kind == "select") {
      if (l.last) {
        lj["last"] = l.count;
      } else {
        lj["first"] = l.first;
        lj["count"] = l.count;
      }
    }
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
                          "': choose moons, circles, spiral, xor, clusters, vowels, digits8, mnist14, fashion14, mnist or fashion");
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
      static const std::set<std::string> kinds = {
          "affine", "scale_offset", "relu", "tanh", "sigmoid", "readout_scale", "append", "select",
          "physical"};
      if (!kinds.count(l.kind))
        rl.fail("kind", "unknown layer kind '" + l.kind +
                            "': choose affine, scale_offset, relu, tanh, sigmoid, readout_scale, "
                            "append, select or physical");
      // Keys that mean nothing for this kind are refused, not ignored.
      const std::string a_kind = (l.kind[0] == 'a' ? "an " : "a ") + l.kind + " layer";
      const bool sized = l.kind == "affine" || l.kind == "physical";
      const bool has_init = l.kind == "affine" || l.kind == "scale_offset" || l.kind == "readout_scale";
      const bool append = l.kind == "append", select = l.kind == "select";
      if (!sized && rl.has("size"))
        rl.fail("size", (append   ? a_kind + " adds `count` rows to its input"
                         : select ? a_kind + " keeps `count` rows of its input"
                                  : a_kind + " keeps its input's width") +
                            ": only affine and physical layers have a size");
      if (!has_init && rl.has("init"))
        rl.fail("init", a_kind + " has no initial value: only affine, scale_offset and "
                                 "readout_scale layers do");
      if (!append && !select && rl.has("count"))
        rl.fail("count", a_kind + " has no count: only append and select layers do");
      if (!append && rl.has("value"))
        rl.fail("value", a_kind + " has no value: only append layers do");
      for (const char* key : {"first", "last"})
        if (!select && rl.has(key))
          rl.fail(key, a_kind + " has no " + key + ": only select layers do");
      if (l.kind == "affine") {
        if (!rl.has("size")) rl.fail("size", "an affine layer needs its number of outputs");
        rl.get("size", l.size, {1, limits::kMaxWidth});
      } else if (l.kind == "physical") {
        rl.get("size", l.size, {0, limits::kMaxWidth});
      } else if (append) {
        if (!rl.has("count")) rl.fail("count", "an append layer needs the number of rows it adds");
        rl.get("count", l.count, {1, limits::kMaxWidth});
        rl.get("value", l.value, {-1e6, 1e6});
      } else if (select) {
        if (rl.has("last")) {
          for (const char* key : {"first", "count"})
            if (rl.has(key))
              rl.fail(key, "a select layer takes either last, or first and count: not both");
          l.last = true;
          rl.get("last", l.count, {1, limits::kMaxWidth});
        } else {
          if (!rl.has("count"))
            rl.fail("count", "a select layer needs the number of rows it keeps (count, with "
                             "first), or last");
          rl.get("first", l.first, {0, limits::kMaxWidth - 1});
          rl.get("count", l.count, {1, limits::kMaxWidth});
        }
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

}  // namespace patlab
