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

// Keys of a link that belong to someone else (the lesson player): never an error here.
bool foreign_key(const std::string& key) { return key == "lesson" || key == "teacher"; }

bool parse_number(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return !text.empty() && *end == '\0' && std::isfinite(out);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// State as a URL query

std::string Lab::state_query() const {
  std::string q = "data=" + settings_.dataset + "&methods=";
  for (size_t i = 0; i < settings_.methods.size(); ++i)
    q += (i ? "," : "") + std::string(method_name(settings_.methods[i]));
  q += "&system=" + settings_.system;
  q += "&layers=" + std::to_string(settings_.physical_layers);
  if (settings_.digital_layers > 0)
    q += "&digital=" + std::to_string(settings_.digital_layers) +
         "&digital_width=" + std::to_string(settings_.digital_width);
  q += "&lr=" + number(settings_.learning_rate);
  q += "&batch=" + std::to_string(settings_.batch_size);
  q += "&noise=" + number(settings_.data_noise);
  q += "&train_size=" + std::to_string(settings_.train_size);
  q += "&test_size=" + std::to_string(settings_.test_size);
  q += "&seed=" + std::to_string(settings_.seed);
  q += "&device_seed=" + std::to_string(settings_.device_seed);
  q += "&steps_per_frame=" + std::to_string(settings_.steps_per_frame);
  if (settings_.epochs > 0) q += "&epochs=" + std::to_string(settings_.epochs);
  for (const KnobInfo& info : find_system(settings_.system).info.knobs) {
    const auto it = settings_.knobs.find(info.key);
    if (info.kind != "setting" && it != settings_.knobs.end()) q += "&knob." + info.key + "=" + number(it->second);
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
  std::string data;
  auto fail = [&](const std::string& key, const std::string& value, const std::string& why) {
    report("this link's setting " + key + "=" + value + " " + why + "; nothing was changed");
    return false;
  };
  // The system first: its knobs are validated against it.
  for (const auto& [key, value] : pairs)
    if (key == "system") {
      bool known = false;
      for (const CatalogEntry& e : catalog()) known |= e.info.id == value;
      if (!known) return fail(key, value, "names no system of the catalog");
      if (value != next.system) next.knobs = lab_knobs(value);
      next.system = value;
    }
  for (const auto& [key, value] : pairs) {
    double v = 0;
    if (key == "system") continue;
    if (key == "data") {
      if (!choice(value)) return fail(key, value, "names no data set of the lab");
      data = value;
    } else if (key == "methods") {
      std::string why;
      if (!parse_lab_methods(value, next.methods, &why)) return fail(key, value, why);
    } else if (key.rfind("knob.", 0) == 0) {
      if (!parse_number(value, v)) return fail(key, value, "is not a number");
      next.knobs[key.substr(5)] = v;
    } else {
      if (!parse_number(value, v)) return fail(key, value, "is not a number");
      if (!apply_lab_setting(next, key, v)) return fail(key, value, "is unknown or out of range");
    }
  }
  try {
    find_system(next.system).info.complete(next.knobs);
  } catch (const std::invalid_argument& e) {
    report(std::string("this link's knobs do not fit the device: ") + e.what() + "; nothing was changed");
    return false;
  }
  const DataChoice* pick = data.empty() ? nullptr : choice(data);
  if (pick && pick->packed && !packs_.count(data) && !pack_loader_)
    return fail("data", data, "needs a data pack this host cannot load");

  settings_ = next;
  error_.clear();
  if (pick && pick->packed && !packs_.count(data)) {
    reset();
    loading_ = data;  // the rest applies now; the data follows when the pack arrives
    pack_loader_(data);
  } else {
    if (pick) settings_.dataset = data;
    reset();
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Files out

DataSpec Lab::data_spec() const {
  DataSpec d;
  d.name = settings_.dataset;
  d.train_size = settings_.train_size;
  d.test_size = settings_.test_size;
  d.noise = settings_.data_noise;
  d.seed = settings_.seed;
  return d;
}

Experiment Lab::lane_experiment(Method method, const KnobValues& knobs) const {
  Experiment e;
  e.name = "patlab lab: " + settings_.dataset + " on " + settings_.system;
  e.data = data_spec();
  // Encoder, physical layers, optional hidden digital layers, readout.
  LayerSpec enc;
  enc.kind = "affine";
  enc.size = find_system(settings_.system).info.default_shape.inputs;
  e.layers.push_back(enc);
  int width = enc.size;
  for (int l = 0; l < settings_.physical_layers; ++l) {
    LayerSpec p;
    p.kind = "physical";
    p.system = settings_.system;
    p.size = width;
    p.knobs = knobs;
    p.seed = settings_.device_seed + uint64_t(l);
    e.layers.push_back(p);
    // The next layer takes what this one gives: the system's choice for `width` inputs.
    width = make_system(p.system, Shape{width, width}, knobs, p.seed).device->output_size();
  }
  for (int l = 0; l < settings_.digital_layers; ++l) {
    LayerSpec hidden, act;
    hidden.kind = "affine";
    hidden.size = settings_.digital_width;
    act.kind = "tanh";
    e.layers.push_back(hidden);
    e.layers.push_back(act);
  }
  LayerSpec out;
  out.kind = "affine";
  out.size = train_.num_classes;
  e.layers.push_back(out);
  e.train.method = method;
  e.train.optimizer.learning_rate = settings_.learning_rate;
  e.train.batch_size = settings_.batch_size;
  e.train.seed = settings_.seed;
  return e;
}

Experiment Lab::experiment() const {
  // The very network reset() built, from the same seeds, with the first lane's training.
  Experiment e = lane_experiment(lanes_.front().method, settings_.knobs);
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
    j["system"] = settings_.system;
    j["knobs"] = settings_.knobs;
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
  Experiment e;
  try {
    e = experiment_from_string(text);
  } catch (const std::exception& err) {
    report(std::string("this experiment file cannot be read: ") + err.what());
    return false;
  }
  // The lab shows one shape of network: affine encoder, n physical layers of one system,
  // k digital (affine + tanh) layers of one width, affine readout. Anything else belongs to the
  // command line.
  const auto& L = e.layers;
  size_t i = 1;
  while (i < L.size() && L[i].kind == "physical" && L[i].system == L[1].system && L[i].knobs == L[1].knobs) ++i;
  const int physical = int(i) - 1;
  int digital = 0;
  while (i + 2 < L.size() && L[i].kind == "affine" && L[i + 1].kind == "tanh" && L[i].size == L[1 + physical].size) {
    ++digital;
    i += 2;
  }
  const bool fits = L.size() >= 3 && L.front().kind == "affine" && physical >= 1 && i + 1 == L.size() &&
                    L.back().kind == "affine";
  if (!fits) {
    report("this experiment's network is not one the lab can show (affine, physical layers of one "
           "system, affine + tanh layers of one width, affine); train it with the command line instead");
    return false;
  }
  if (e.train.method == Method::FiniteDifference) {
    report("the lab does not train by finite differences; use the command line");
    return false;
  }
  std::string q = "data=" + e.data.name + "&methods=" + method_name(e.train.method) +
                  "&system=" + L[1].system + "&layers=" + std::to_string(physical) +
                  "&digital=" + std::to_string(digital) +
                  (digital ? "&digital_width=" + std::to_string(L[1 + size_t(physical)].size) : std::string()) +
                  "&lr=" + number(e.train.optimizer.learning_rate) +
                  "&batch=" + std::to_string(e.train.batch_size) + "&noise=" + number(e.data.noise) +
                  "&train_size=" + std::to_string(e.data.train_size) +
                  "&test_size=" + std::to_string(e.data.test_size) + "&seed=" + std::to_string(e.train.seed) +
                  "&device_seed=" + std::to_string(L[1].seed);
  KnobValues knobs = lab_knobs(L[1].system);
  for (const auto& [k, v] : L[1].knobs) knobs[k] = v;
  for (const auto& [k, v] : knobs) q += "&knob." + k + "=" + number(v);
  return apply_state(q);
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
      std::tie(pack->train, pack->test) = split_dataset(csv.data, 0.2, settings_.seed);
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
  settings_.dataset = "csv";
  settings_.learning_rate = user_data_.learning_rate;
  loading_.clear();
  error_.clear();
  reset();
  return true;
}

}  // namespace patlab
