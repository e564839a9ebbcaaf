// experiment/src/experiment.cpp: the default experiment, build_run() (an experiment made into
// data, a network and a trainer) and an experiment's identity (its fingerprint, and where two
// differ). experiment_json.cpp reads and writes experiments; checkpoint.cpp saves runs.
#include "patlab/experiment/experiment.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <set>

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
    } else if (l.kind == "append") {
      if (l.count < 1 || l.count > limits::kMaxWidth - width)
        throw std::invalid_argument(where + ": " + std::to_string(width) + " inputs + " +
                                    std::to_string(l.count) + " rows would be more than " +
                                    std::to_string(limits::kMaxWidth) + " outputs");
      run.net.add(std::make_unique<AppendLayer>(width, l.count, l.value));
      width += l.count;
    } else if (l.kind == "select") {
      const int first = l.last ? width - l.count : l.first;
      if (l.count < 1 || first < 0 || first > width - l.count)
        throw std::invalid_argument(
            where + ": asks for " +
            (l.last ? "the last " + std::to_string(l.count) + " rows"
                    : "rows " + std::to_string(l.first) + " to " +
                          std::to_string(l.first + l.count - 1)) +
            ", but its input has " + std::to_string(width) + " rows (0 to " +
            std::to_string(width - 1) + ")");
      run.net.add(std::make_unique<SelectLayer>(width, first, l.count));
      width = l.count;
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
  // gives what the system gives, and the first num_classes outputs are read; so does a last
  // append or select layer (e.g. the class oscillators of a physical layer).
  for (size_t i = e.layers.size(); i-- > 0;) {
    const std::string& kind = e.layers[i].kind;
    if (kind == "physical" || kind == "append" || kind == "select") break;
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
// Identity

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

}  // namespace patlab
