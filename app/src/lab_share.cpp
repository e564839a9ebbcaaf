// The lab's ways in and out: its state as a URL query, files to download (curves, parameters,
// the experiment), and files a user brings (an experiment, a CSV of their own data).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "patlab/app/lab.h"
#include "patlab/datasets/csv.h"
#include "patlab/datasets/processing.h"
#include "patlab/experiment/experiment.h"

namespace patlab {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX and '+' decoding of one query component; malformed escapes are kept as they are.
std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out += char(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// %XX for everything but unreserved characters (RFC 3986): a value that holds JSON.
std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// Keys of a link that belong to someone else (the lesson player): never an error here.
bool foreign_key(const std::string& key) { return key == "lesson" || key == "teacher"; }

bool parse_number(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return !text.empty() && *end == '\0' && std::isfinite(out);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// The lab's experiment

Experiment lab_experiment() {
  Experiment e;
  e.name = "patlab lab";
  e.data.name = "circles";
  e.train.method = Method::PAT;
  e.train.optimizer.learning_rate = 0.02;
  e.train.batch_size = 32;
  LabNetwork n;
  n.knobs = lab_knobs(n.system);
  set_lab_network(e, n);
  return e;
}

void set_lab_network(Experiment& e, LabNetwork n) {
  const SystemInfo& info = find_system(n.system).info;
  n.knobs = info.complete(n.knobs);  // throws for an unknown or out-of-range knob
  const int classes = !e.layers.empty() && e.layers.back().kind == "affine" ? e.layers.back().size : 2;
  std::vector<LayerSpec> layers;
  LayerSpec enc;
  enc.kind = "affine";
  enc.size = info.default_shape.inputs;
  layers.push_back(enc);
  int width = enc.size;
  for (int l = 0; l < n.physical; ++l) {
    LayerSpec p;
    p.kind = "physical";
    p.system = n.system;
    p.size = width;
    p.knobs = n.knobs;
    p.seed = n.device_seed + uint64_t(l);
    layers.push_back(p);
    // The next layer takes what this one gives: the system's choice for `width` inputs.
    width = make_system(p.system, Shape{width, width}, n.knobs, p.seed).device->output_size();
  }
  for (int l = 0; l < n.digital; ++l) {
    LayerSpec hidden, act;
    hidden.kind = "affine";
    hidden.size = n.width;
    act.kind = "tanh";
    layers.push_back(hidden);
    layers.push_back(act);
  }
  LayerSpec out;
  out.kind = "affine";
  out.size = classes;
  layers.push_back(out);
  e.layers = std::move(layers);
}

LabNetwork lab_network(const Experiment& e) {
  // Whatever its shape, the lab runs a network whose physical layers are all one system at the
  // same knobs (its knob sliders turn every layer): the first physical layer says which.
  LabNetwork n;
  int physical = 0;
  for (size_t i = 0; i < e.layers.size(); ++i) {
    const LayerSpec& l = e.layers[i];
    if (l.kind != "physical") continue;
    const std::string where = "layers[" + std::to_string(i) + "]";
    KnobValues knobs;
    try {
      knobs = find_system(l.system).info.complete(l.knobs);
    } catch (const std::invalid_argument& err) {
      throw std::invalid_argument(where + ": " + err.what());
    }
    if (physical == 0) {
      n.system = l.system;
      n.knobs = knobs;
      n.device_seed = l.seed;
    } else if (l.system != n.system || knobs != n.knobs) {
      throw std::invalid_argument(
          "the lab turns one set of knobs for every physical layer, but " + where + " is " +
          (l.system != n.system ? "another system (" + l.system + ", not " + n.system + ")"
                                : std::string("at other knobs than the first")) +
          "; train it with the command line instead");
    }
    ++physical;
  }
  if (physical == 0)
    throw std::invalid_argument("the lab is about physical layers, and this network has none; "
                                "train it with the command line instead");
  n.physical = physical;
  // The lab's own shape, if it is exactly what the lab would build; else the file's (custom).
  const auto& L = e.layers;
  size_t i = 1;
  const bool starts = L.size() >= 3 && L.front().kind == "affine" && L[1].kind == "physical";
  while (starts && i < L.size() && L[i].kind == "physical") ++i;
  const bool together = int(i) - 1 == physical;  // all the physical layers right after the encoder
  n.digital = 0;
  if (starts && i + 2 < L.size()) n.width = L[i].size;
  while (starts && i + 2 < L.size() && L[i].kind == "affine" && L[i + 1].kind == "tanh") {
    ++n.digital;
    i += 2;
  }
  n.custom = !starts || !together || i + 1 != L.size() || L.back().kind != "affine";
  if (!n.custom) {
    // Every other number must be what the lab would build: the same layers, written again.
    Experiment rebuilt = e, given = e;
    try {
      set_lab_network(rebuilt, n);
    } catch (const std::invalid_argument&) {
      n.custom = true;
    }
    for (LayerSpec& l : given.layers)
      if (l.kind == "physical") l.knobs = n.knobs;
    n.custom = n.custom || !experiment_differences(given, rebuilt, 1).empty();
  }
  if (n.custom) n.digital = 0, n.width = LabNetwork().width;
  return n;
}

void set_lab_knobs(Experiment& e, const KnobValues& knobs) {
  const LabNetwork n = lab_network(e);
  const KnobValues complete = find_system(n.system).info.complete(knobs);
  if (!n.custom) {
    LabNetwork m = n;
    m.knobs = complete;
    set_lab_network(e, m);  // the lab's shape: widths may follow the knobs
    return;
  }
  for (LayerSpec& l : e.layers)
    if (l.kind == "physical") l.knobs = complete;
}

// ---------------------------------------------------------------------------------------
// State as a URL query: short names for the experiment's fields (apply_lab_setting)

std::string Lab::state_query() const {
  const Experiment& e = settings_.experiment;
  const LabNetwork& n = network_;
  std::string q = "data=" + e.data.name + "&methods=";
  for (size_t i = 0; i < settings_.methods.size(); ++i)
    q += (i ? "," : "") + std::string(method_name(settings_.methods[i]));
  q += "&system=" + n.system;
  if (n.custom) {
    q += "&network=" + url_encode(to_json(e)["layers"].dump());  // a file's network, whole
  } else {
    q += "&layers=" + std::to_string(n.physical);
    if (n.digital > 0) q += "&digital=" + std::to_string(n.digital) + "&digital_width=" + std::to_string(n.width);
  }
  q += "&lr=" + number(e.train.optimizer.learning_rate);
  q += "&batch=" + std::to_string(e.train.batch_size);
  q += "&noise=" + number(e.data.noise);
  q += "&train_size=" + std::to_string(e.data.train_size);
  q += "&test_size=" + std::to_string(e.data.test_size);
  q += "&seed=" + std::to_string(e.train.seed);
  if (e.data.seed != e.train.seed) q += "&data_seed=" + std::to_string(e.data.seed);
  if (!n.custom) q += "&device_seed=" + std::to_string(n.device_seed);  // a file's network has its own
  q += "&steps_per_frame=" + std::to_string(settings_.steps_per_frame);
  if (settings_.epochs > 0) q += "&epochs=" + std::to_string(settings_.epochs);
  for (const KnobInfo& info : find_system(n.system).info.knobs) {
    const auto it = n.knobs.find(info.key);
    if (info.kind != "setting" && it != n.knobs.end()) q += "&knob." + info.key + "=" + number(it->second);
  }
  return q;
}

bool Lab::apply_state(const std::string& query_in) {
  std::string query = query_in;
  if (!query.empty() && query[0] == '?') query.erase(0, 1);
  std::vector<std::pair<std::string, std::string>> pairs;
  std::stringstream in(query);
  for (std::string part; std::getline(in, part, '&');) {
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    const std::string key = url_decode(part.substr(0, eq));
    const std::string value = eq == std::string::npos ? "" : url_decode(part.substr(eq + 1));
    if (!foreign_key(key)) pairs.emplace_back(key, value);
  }
  if (pairs.empty()) return true;

  LabSettings next = settings_;
  LabNetwork n = network_;
  auto fail = [&](const std::string& key, const std::string& value, const std::string& why) {
    report("this link's setting " + key + "=" + value + " " + why + "; nothing was changed");
    return false;
  };
  // A file's network (custom) comes whole, as the experiment's JSON layers; the other keys apply
  // to it.
  for (const auto& [key, value] : pairs)
    if (key == "network") {
      try {
        const nlohmann::json layers = parse_json_strict(value, "network");
        next.experiment.layers = experiment_from_json(nlohmann::json{{"layers", layers}}).layers;
        n = lab_network(next.experiment);
      } catch (const std::invalid_argument& e) {
        return fail(key, value.substr(0, 40) + (value.size() > 40 ? "..." : ""), e.what());
      }
    }
  // The system next: another than the network's makes the lab's own network of it, at the lab's
  // knobs for it; the link's knobs are validated against it.
  for (const auto& [key, value] : pairs)
    if (key == "system") {
      bool known = false;
      for (const CatalogEntry& e : catalog()) known |= e.info.id == value;
      if (!known) return fail(key, value, "names no system of the catalog");
      if (value == n.system) continue;
      n.knobs = lab_knobs(value);
      n.system = value;
      n.custom = false;
      try {
        set_lab_network(next.experiment, n);
      } catch (const std::invalid_argument& e) {
        return fail("system", n.system, e.what());
      }
    }
  for (const auto& [key, value] : pairs) {
    double v = 0;
    if (key == "system" || key == "network") continue;
    if (key == "data") {
      if (!choice(value)) return fail(key, value, "names no data set of the lab");
      next.experiment.data.name = value;
    } else if (key == "methods") {
      std::string why;
      if (!parse_lab_methods(value, next.methods, &why)) return fail(key, value, why);
    } else if (key.rfind("knob.", 0) == 0) {
      if (!parse_number(value, v)) return fail(key, value, "is not a number");
      n.knobs[key.substr(5)] = v;
    } else {
      if (!parse_number(value, v)) return fail(key, value, "is not a number");
      if (!apply_lab_setting(next, key, v)) return fail(key, value, "is unknown or out of range");
    }
  }
  // The knobs last, on the network the other keys made.
  try {
    set_lab_knobs(next.experiment, n.knobs);
  } catch (const std::invalid_argument& e) {
    report(std::string("this link's knobs do not fit the device: ") + e.what() + "; nothing was changed");
    return false;
  }
  bool keeps_lr = false;  // a link without lr takes its data set's rate
  for (const auto& kv : pairs) keeps_lr |= kv.first == "lr";
  return adopt(next, "this link's setting data=" + next.experiment.data.name + " ", keeps_lr);
}

bool Lab::adopt(const LabSettings& next_in, const std::string& why_prefix, bool keeps_lr) {
  LabSettings next = next_in;
  next.experiment.train.method = next.methods.front();
  const std::string data = next.experiment.data.name;
  const DataChoice* pick = choice(data);
  if (!pick) {
    report(why_prefix + "names no data set of the lab; nothing was changed");
    return false;
  }
  const bool fetch = pick->packed && !packs_.count(data);
  if (fetch && !pack_loader_) {
    report(why_prefix + "needs a data pack this host cannot load; nothing was changed");
    return false;
  }
  error_.clear();
  if (fetch) {
    // Nothing changes until the data are here (a file's network may fit no other data); then
    // all of it at once (provide_pack).
    pending_ = std::make_unique<LabSettings>(next);
    pending_lr_ = keeps_lr;
    loading_ = data;
    pack_loader_(data);  // may answer at once
    return true;
  }
  pending_.reset();
  network_ = lab_network(next.experiment);
  settings_ = next;
  reset();
  return true;
}

// ---------------------------------------------------------------------------------------
// Files out

DataSpec Lab::data_spec() const { return settings_.experiment.data; }

Experiment Lab::lane_experiment(Method method, const KnobValues& knobs) const {
  // The lab's experiment with the lane's method, its physical layers at `knobs`.
  Experiment e = settings_.experiment;
  e.name = "patlab lab: " + e.data.name + " on " + network_.system;
  e.train.method = method;
  for (LayerSpec& l : e.layers)
    if (l.kind == "physical") l.knobs = knobs;
  return e;
}

Experiment Lab::experiment() const {
  // The very network reset() built, from the same seeds, with the first lane's training.
  Experiment e = lane_experiment(lanes_.front().method, network_.knobs);
  e.train = lanes_.front().trainer->config();
  e.steps = std::max(1000LL, steps());
  return e;
}

Lab::ExportFile Lab::export_file(const std::string& kind) const {
  if (kind == "curves") {
    std::string csv = "method,step,device_accuracy,twin_accuracy,device_loss,twin_loss\n";
    for (const Lane& lane : lanes_)
      for (size_t i = 0; i < lane.step.size(); ++i)
        csv += std::string(method_name(lane.method)) + "," + number(lane.step[i]) + "," +
               number(lane.acc_device[i]) + "," + number(lane.acc_twin[i]) + "," +
               number(lane.loss_device[i]) + "," + number(lane.loss_twin[i]) + "\n";
    return {"patlab-curves.csv", "text/csv", csv};
  }
  if (kind == "parameters") {
    nlohmann::json j;
    j["state"] = state_query();
    j["system"] = network_.system;
    j["knobs"] = network_.knobs;
    j["lanes"] = nlohmann::json::array();
    for (const Lane& lane : lanes_) {
      const Vec p = lane.net.get_params();
      j["lanes"].push_back({{"method", method_name(lane.method)},
                            {"steps", lane.trainer->steps()},
                            {"device_queries", lane.net.device_queries()},
                            {"test_accuracy_on_device", lane.last_device.accuracy},
                            {"parameters", std::vector<double>(p.data(), p.data() + p.size())}});
    }
    return {"patlab-parameters.json", "application/json", j.dump(1) + "\n"};
  }
  if (kind == "experiment")
    return {"patlab-experiment.json", "application/json", to_json(experiment()).dump(2) + "\n"};
  throw std::invalid_argument("unknown export '" + kind + "': curves, parameters or experiment");
}

// ---------------------------------------------------------------------------------------
// Files in

bool Lab::import_file(const std::string& name, const std::string& text) {
  const auto ends_with = [&](const char* ext) {
    const std::string e(ext);
    return name.size() >= e.size() && std::equal(e.rbegin(), e.rend(), name.rbegin(),
                                                  [](char a, char b) { return a == std::tolower(b); });
  };
  if (ends_with(".csv")) return import_csv(name, text);
  if (ends_with(".json")) return import_experiment(text);
  report("cannot open " + name + ": the lab reads experiment files (.json) and data (.csv)");
  return false;
}

bool Lab::import_experiment(const std::string& text) {
  LabSettings next = settings_;
  try {
    next.experiment = experiment_from_string(text);
    lab_network(next.experiment);  // a network the lab can run, or why not
  } catch (const std::exception& err) {
    report(std::string("this experiment file cannot be used here: ") + err.what());
    return false;
  }
  if (next.experiment.train.method == Method::FiniteDifference) {
    report("the lab does not train by finite differences; use the command line");
    return false;
  }
  next.methods = {next.experiment.train.method};
  // Knobs the file leaves out take the catalog's defaults, as the command line gives them.
  for (LayerSpec& l : next.experiment.layers)
    if (l.kind == "physical") l.knobs = find_system(l.system).info.complete(l.knobs);
  return adopt(next, "this experiment's data set " + next.experiment.data.name + " ", true);
}

bool Lab::import_csv(const std::string& name, const std::string& text) {
  auto pack = std::make_shared<DataPack>();
  try {
    // The label column: the first called label, class, target or y; else the last.
    const CsvOptions options = guess_csv_options(text);
    CsvData csv = parse_csv(text, options);
    if (csv.data.num_classes < 2) throw CsvError(0, options.label_column, "needs at least two classes");
    std::vector<int> tr, te;
    for (int i = 0; i < csv.data.size(); ++i) (csv.is_test[size_t(i)] ? te : tr).push_back(i);
    if (te.empty()) {
      std::tie(pack->train, pack->test) = split_dataset(csv.data, 0.2, settings_.experiment.data.seed);
    } else {
      pack->train = select(csv.data, tr);
      pack->test = select(csv.data, te);
    }
    if (pack->train.size() < 2 || pack->test.size() < 1)
      throw CsvError(0, "", "too few rows to train and test on");
    // Features of any scale: mapped onto the square the 2-D maps show, fitted on training rows.
    const FeatureScaling scaling = FeatureScaling::fit(pack->train, -1.5, 1.5);
    scaling.apply(pack->train);
    scaling.apply(pack->test);
    pack->info.id = "csv";
    pack->info.title = name;
    pack->info.source = "imported by you: " + name;
    pack->info.licence = "yours";
    pack->info.class_names = csv.class_names;
  } catch (const std::exception& e) {
    report("cannot use " + name + ": " + e.what());
    return false;
  }
  packs_["csv"] = pack;
  user_data_ = DataChoice{"csv", "your data: " + name, true, 0.01};
  settings_.experiment.data.name = "csv";
  settings_.experiment.train.optimizer.learning_rate = user_data_.learning_rate;
  loading_.clear();
  error_.clear();
  reset();
  return true;
}

}  // namespace patlab
