// The lab driven from outside: commands (buttons, links, lessons, tests), settings, and the
// status a page or a test reads.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "patlab/app/lab.h"
#include "patlab/core/layer.h"
#include "patlab/core/loss.h"

namespace patlab {

bool parse_lab_methods(const std::string& list, std::vector<Method>& methods, std::string* why) {
  methods.clear();
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    Method m;
    try {
      m = method_from_name(list.substr(start, comma - start));
    } catch (const std::invalid_argument&) {
      if (why) *why = "names an unknown method";
      return false;
    }
    // The lab trains networks of a dozen to a few hundred parameters: finite differences
    // would take a device query per parameter per step, so the lab offers the others.
    if (m == Method::FiniteDifference || std::find(methods.begin(), methods.end(), m) != methods.end()) {
      if (why) *why = "lists a method twice or one the lab does not offer";
      return false;
    }
    methods.push_back(m);
    start = comma + 1;
  }
  return true;  // never empty: an empty list names the method ""
}

bool Lab::set_methods(const std::string& list) {
  std::vector<Method> methods;
  if (!parse_lab_methods(list, methods, nullptr)) return false;
  settings_.methods = methods;
  settings_.experiment.train.method = methods.front();
  reset();
  return true;
}

bool apply_lab_setting(LabSettings& s, const std::string& key, double v) {
  const bool whole = v == std::floor(v);
  Experiment& e = s.experiment;
  // The network's settings: the lab's network of the experiment, made again.
  auto network = [&](auto edit) {
    LabNetwork n = lab_network(e);
    edit(n);
    set_lab_network(e, n);
    return true;
  };
  // Each setting with its valid range; anything else is refused.
  if (key == "lr" && v > 0 && v <= 1) e.train.optimizer.learning_rate = v;
  else if (key == "steps_per_frame" && whole && v >= 1 && v <= 200) s.steps_per_frame = int(v);
  else if (key == "epochs" && whole && v >= 0 && v <= 100000) s.epochs = int(v);
  else if (key == "batch" && whole && v >= 1 && v <= 1024) e.train.batch_size = int(v);
  else if (key == "layers" && whole && v >= 1 && v <= 8) return network([&](LabNetwork& n) { n.physical = int(v); });
  else if (key == "digital" && whole && v >= 0 && v <= 4) return network([&](LabNetwork& n) { n.digital = int(v); });
  else if (key == "digital_width" && whole && v >= 2 && v <= 256) return network([&](LabNetwork& n) { n.width = int(v); });
  else if (key == "noise" && v >= 0 && v <= 1) e.data.noise = v;
  else if (key == "train_size" && whole && v >= 20 && v <= 20000) e.data.train_size = int(v);
  else if (key == "test_size" && whole && v >= 20 && v <= 20000) e.data.test_size = int(v);
  else if (key == "seed" && whole && v >= 0 && v < 1e15) e.data.seed = e.train.seed = uint64_t(v);
  else if (key == "data_seed" && whole && v >= 0 && v < 1e15) e.data.seed = uint64_t(v);
  else if (key == "device_seed" && whole && v >= 0 && v < 1e15) return network([&](LabNetwork& n) { n.device_seed = uint64_t(v); });
  else return false;
  return true;
}

bool Lab::set_setting(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos) return false;
  const std::string key = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !std::isfinite(v)) return false;
  LabSettings next = settings_;
  if (!apply_lab_setting(next, key, v)) return false;
  settings_ = next;
  if (key == "layers" || key == "digital" || key == "digital_width" || key == "device_seed")
    network_ = lab_network(settings_.experiment);
  // The learning rate and the training speed apply at once; the rest rebuilds the networks.
  if (key == "lr") {
    for (Lane& lane : lanes_) lane.trainer->set_learning_rate(v);
  } else if (key != "steps_per_frame" && key != "epochs") {
    reset();
  }
  return true;
}

void Lab::set_knobs_everywhere(const KnobValues& k) {
  // All lanes see the same physics: one knob turns every copy of the device.
  for (Lane& lane : lanes_)
    for (auto& d : lane.emulated) d->set_knobs(k);
  network_.knobs = lanes_.front().emulated.front()->knobs();
  for (LayerSpec& l : settings_.experiment.layers)
    if (l.kind == "physical") l.knobs = network_.knobs;
}

bool Lab::command(const std::string& cmd) {
  ++revision_;  // whatever it does, redraw
  if (cmd == "train") {
    training_ = true;
  } else if (cmd == "pause") {
    training_ = false;
  } else if (cmd == "reset") {
    reset();
  } else if (cmd == "toggle") {
    training_ = !training_;
  } else if (cmd == "step") {
    step_once();
  } else if (cmd == "race:on") {
    return set_methods("pat,in-silico");
  } else if (cmd == "race:off") {
    return set_methods(method_name(settings_.methods.front()));
  } else if (cmd.rfind("method:", 0) == 0) {
    return set_methods(cmd.substr(7));
  } else if (cmd.rfind("methods:", 0) == 0) {
    return set_methods(cmd.substr(8));
  } else if (cmd.rfind("view:", 0) == 0) {
    const std::string v = cmd.substr(5);
    if (v != "race" && v != "data" && v != "slow" && v != "inside" && v != "explorer" && v != "robustness") return false;
    view_ = v;
    select_view_ = true;
    explorer_.dirty = true;
  } else if (cmd.rfind("point:", 0) == 0) {
    return edit_points(cmd);
  } else if (cmd == "phase") {
    slow_motion_phase();
  } else if (cmd == "robustness:start" || cmd.rfind("robustness:start=", 0) == 0) {
    // robustness:start=<steps per cell> (default 120) trades precision for time.
    int steps_per_cell = 120;
    if (cmd.size() > 16) {
      char* end = nullptr;
      steps_per_cell = int(std::strtol(cmd.c_str() + 17, &end, 10));
      if (*end != '\0' || steps_per_cell < 1 || steps_per_cell > 100000) return false;
    }
    start_robustness();
    robustness_.steps_per_cell = steps_per_cell;
    return robustness_.running;
  } else if (cmd == "twin:fit") {
    return fit_twins();
  } else if (cmd == "robustness:stop") {
    robustness_.running = false;
    sweep_lane_.reset();
  } else if (cmd.rfind("explore:in=", 0) == 0 || cmd.rfind("explore:out=", 0) == 0) {
    const bool in = cmd[8] == 'i';
    const std::string value = cmd.substr(in ? 11 : 12);
    char* end = nullptr;
    const long v = std::strtol(value.c_str(), &end, 10);
    const PhysicalSystem& d = *lanes_.front().emulated.front();
    if (value.empty() || *end != '\0' || v < 0 || v >= (in ? d.input_size() : d.output_size())) return false;
    (in ? explorer_.input_channel : explorer_.output_channel) = int(v);
    explorer_.dirty = true;
  } else if (cmd.rfind("export:", 0) == 0) {
    const std::string kind = cmd.substr(7);
    if (kind != "curves" && kind != "parameters" && kind != "experiment") return false;
    if (!download_) {
      report("this host cannot save files");
      return false;
    }
    download_(export_file(kind));
  } else if (cmd.rfind("dataset:", 0) == 0) {
    const std::string name = cmd.substr(8);
    const DataChoice* pick = choice(name);
    if (!pick) return false;
    pending_.reset();  // a link's or file's setup waiting for another pack: this choice wins
    if (pick->packed && !packs_.count(name)) {
      if (!pack_loader_) {
        report("data set " + name + " needs a data pack, and this host cannot load any");
        return false;
      }
      loading_ = name;  // reset() happens when the pack arrives
      pack_loader_(name);
      return true;
    }
    loading_.clear();
    settings_.experiment.data.name = name;
    settings_.experiment.train.optimizer.learning_rate = pick->learning_rate;
    reset();
  } else if (cmd.rfind("system:", 0) == 0) {
    const std::string id = cmd.substr(7);
    bool known = false;
    for (const CatalogEntry& e : catalog()) known |= e.info.id == id;
    if (!known) return false;
    LabNetwork n = network_;
    n.system = id;
    n.knobs = lab_knobs(id);
    n.custom = false;  // another system: the lab's own network of it
    set_lab_network(settings_.experiment, n);
    network_ = n;
    reset();
  } else if (cmd.rfind("set:", 0) == 0) {
    return set_setting(cmd.substr(4));
  } else if (cmd.rfind("device:", 0) == 0) {
    return device_.command && device_.command(cmd);
  } else if (cmd.rfind("knob:", 0) == 0) {
    const size_t eq = cmd.find('=');
    if (eq == std::string::npos) return false;
    KnobValues k = network_.knobs;
    char* end = nullptr;
    const std::string value = cmd.substr(eq + 1);
    k[cmd.substr(5, eq - 5)] = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0') return false;
    try {
      system_info().complete(k);  // validate before touching any device
    } catch (const std::invalid_argument&) {
      return false;
    }
    set_knobs_everywhere(k);
  } else {
    return false;
  }
  return true;
}

void Lab::show_only_controls(const std::vector<std::string>& names) {
  teacher_mode_ = true;
  visible_controls_ = names;
  ++revision_;
}

void Lab::show_all_controls() {
  teacher_mode_ = false;
  visible_controls_.clear();
  ++revision_;
}

bool Lab::control_visible(const std::string& name) const {
  return !teacher_mode_ ||
         std::find(visible_controls_.begin(), visible_controls_.end(), name) != visible_controls_.end();
}

std::string Lab::status_json() const {
  nlohmann::json j;
  j["ready"] = frames_ >= 2;  // the UI has been laid out and drawn at least once
  j["frames"] = frames_;
  j["training"] = training_;
  j["race"] = lanes_.size() > 1;
  j["methods"] = nlohmann::json::array();
  for (Method m : settings_.methods) j["methods"].push_back(method_name(m));
  j["state"] = state_query();
  j["learning_rate"] = settings_.experiment.train.optimizer.learning_rate;
  j["dataset"] = settings_.experiment.data.name;
  j["loading"] = loading_;
  j["error"] = error_;
  j["notice"] = notice_;
  j["view"] = view_;
  // Teacher mode: the controls on show (absent: all of them).
  if (teacher_mode_) j["controls"] = visible_controls_;
  j["robustness"] = {{"running", robustness_.running}, {"done", robustness_.done},
                     {"total", robustness_.total}, {"noise_knob", robustness_.noise_key},
                     {"mismatch_knob", robustness_.mismatch_key}};
  j["robustness"]["accuracy"] = nlohmann::json::array();
  for (const Mat& a : robustness_.accuracy) {
    nlohmann::json rows = nlohmann::json::array();
    for (Eigen::Index r = 0; r < a.rows(); ++r) {
      nlohmann::json row = nlohmann::json::array();
      for (Eigen::Index c = 0; c < a.cols(); ++c)
        row.push_back(std::isfinite(a(r, c)) ? nlohmann::json(a(r, c)) : nlohmann::json(nullptr));
      rows.push_back(row);
    }
    j["robustness"]["accuracy"].push_back(rows);
  }
  j["slow_motion"] = {{"phase", slow_.phase}, {"cos_pat", slow_.cos_pat},
                      {"cos_insilico", slow_.cos_insilico}, {"twin_gap", slow_.twin_gap},
                      {"update_norm", slow_.update_norm}};
  j["explorer"] = {{"input", explorer_.input_channel}, {"output", explorer_.output_channel},
                   {"points", explorer_.drive.size()}};
  if (!explorer_.residual.empty()) {
    double r2 = 0;
    for (float r : explorer_.residual) r2 += double(r) * r;
    j["explorer"]["rms_residual"] = std::sqrt(r2 / double(explorer_.residual.size()));
  }
  if (twin_fit_.fitted)
    j["twin"] = {{"kind", twin_fit_.kind}, {"error_before", twin_fit_.error_before},
                 {"error_after", twin_fit_.error_after}, {"queries", twin_fit_.queries},
                 {"samples", twin_fit_.samples}};
  j["classes"] = train_.num_classes;
  j["features"] = train_.features();
  j["train_size"] = train_.size();
  j["test_size"] = test_.size();
  j["system"] = network_.system;
  j["physical_layers"] = network_.physical;
  j["custom_network"] = network_.custom;
  j["step"] = steps();
  j["measured_at_step"] = measured_at_step_;
  j["knobs"] = lanes_.front().emulated.front()->knobs();
  if (device_.status) j["device"] = nlohmann::json::parse(device_.status(), nullptr, false);
  j["lanes"] = nlohmann::json::array();
  for (const Lane& lane : lanes_)
    j["lanes"].push_back(
        {{"method", method_name(lane.method)},
         {"twin_gap", lane.twin_gap.empty() || !std::isfinite(lane.twin_gap.back()) ? nlohmann::json(nullptr) : nlohmann::json(lane.twin_gap.back())},
         {"alignment", lane.alignment.empty() || !std::isfinite(lane.alignment.back()) ? nlohmann::json(nullptr) : nlohmann::json(lane.alignment.back())},
         {"epoch", lane.trainer->epoch()},
         {"on_device", lane.on_device},
         {"emulated_because", lane.emulated_because},
         {"device_queries", lane.net.device_queries()},
         {"test", {{"device", {{"loss", lane.last_device.loss}, {"accuracy", lane.last_device.accuracy}}},
                   {"twin", {{"loss", lane.last_twin.loss}, {"accuracy", lane.last_twin.accuracy}}}}}});
  // The first lane also at top level, for simple clients.
  j["method"] = j["lanes"][0]["method"];
  j["epoch"] = j["lanes"][0]["epoch"];
  j["device_queries"] = j["lanes"][0]["device_queries"];
  j["test"] = j["lanes"][0]["test"];
  j["ui"]["train_button"] = train_button_;
  j["ui"]["reset_button"] = reset_button_;
  j["ui"]["step_button"] = step_button_;
  j["ui"]["scatter"] = scatter_rect_;
  if (pixel_ratio_ > 0) j["ui"]["pixel_ratio"] = pixel_ratio_;
  return j.dump();
}

// ---------------------------------------------------------------------------------------
// Robustness map

}  // namespace patlab
