#include "patlab/app/lab.h"

#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "patlab/app/plot.h"
#include "patlab/app/style.h"
#include "patlab/core/loss.h"
#include "patlab/datasets/toy2d.h"
#include "patlab/datasets/vowels.h"

namespace patlab {

namespace {
constexpr int kMeasureEvery = 10;   // steps between test-set measurements
constexpr int kMapEvery = 50;       // steps between class-map refreshes
constexpr int kMapGrid = 28;        // class-map resolution (cells per side)
constexpr float kMapLo = -2.0f, kMapHi = 2.0f;
constexpr size_t kMaxCurvePoints = 600;

// Keeps every other point once a curve is long: bounded memory, whole history visible.
void thin(std::vector<float>& v) {
  size_t j = 0;
  for (size_t i = 0; i < v.size(); i += 2) v[j++] = v[i];
  v.resize(j);
}

void rect_of_last_item(float out[4]) {
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  out[0] = a.x;
  out[1] = a.y;
  out[2] = b.x - a.x;
  out[3] = b.y - a.y;
}
}  // namespace

KnobValues lab_knobs(const std::string& system) {
  KnobValues k;
  for (const KnobInfo& info : find_system(system).info.knobs) {
    double f = 0.0;
    if (info.kind == "mismatch" || info.kind == "structural") f = 1.0 / 3.0;
    // Converter resolutions (integer noise knobs, "bits") are ideal at 0 and crude at small
    // values: the lab leaves them ideal.
    if (info.kind == "noise" && !info.integer) f = 1.0 / 20.0;
    const double v = info.default_value + f * (info.max - info.default_value);
    k[info.key] = info.integer ? std::round(v) : v;
  }
  return k;
}

const std::vector<DataChoice>& data_choices() {
  static const std::vector<DataChoice> choices = {
      {"circles", "circles (2-D)"},
      {"moons", "moons (2-D)"},
      {"spiral", "spiral (2-D)"},
      {"xor", "XOR (2-D)"},
      {"clusters", "3 Gaussian clusters (2-D)"},
      {"vowels", "vowels: 7 classes of formants (synthetic)", false, 0.01},
      // Many input features: a gentler rate keeps the encoder's drives in the range where the
      // twin is good (at 0.02 PAT on MNIST wanders off after a few hundred steps).
      {"digits8", "8x8 handwritten digits (UCI)", true, 0.005},
      {"mnist14", "MNIST digits, 14x14", true, 0.005},
      {"fashion14", "Fashion-MNIST, 14x14", true, 0.005},
  };
  return choices;
}

namespace {
std::string class_name(const DataPack* pack, int c) {
  if (pack && c >= 0 && c < int(pack->info.class_names.size())) return pack->info.class_names[size_t(c)];
  if (!pack && c >= 0 && c < 7) return vowel_word(c);  // the only unpacked set that is not 2-D
  return std::to_string(c);
}

const DataChoice* find_choice(const std::string& id) {
  for (const DataChoice& c : data_choices())
    if (c.id == id) return &c;
  return nullptr;
}
}  // namespace

Lab::Lab(const LabSettings& settings) : settings_(settings) {
  const DataChoice* c = find_choice(settings_.dataset);
  if (!c || c->packed) settings_.dataset = "circles";  // packs arrive later, by command
  reset();
}
Lab::~Lab() = default;

long long Lab::steps() const { return lanes_.empty() ? 0 : lanes_.front().trainer->steps(); }

void Lab::make_data() {
  const std::string& id = settings_.dataset;
  const auto pack = packs_.find(id);
  if (pack != packs_.end()) {
    train_ = pack->second->train;
    // The curves measure a fixed subset: every point costs a pass of it through the device.
    const int n = std::min(settings_.test_size, pack->second->test.size());
    test_ = pack->second->test;
    test_.x = pack->second->test.x.leftCols(n).eval();
    test_.y = pack->second->test.y.head(n).eval();
  } else if (id == "vowels") {
    train_ = make_vowels(settings_.train_size, settings_.seed);
    test_ = make_vowels(settings_.test_size, settings_.seed + 1000);
  } else {
    train_ = make_toy2d(id, settings_.train_size, settings_.data_noise, settings_.seed);
    test_ = make_toy2d(id, settings_.test_size, settings_.data_noise, settings_.seed + 1000);
  }
}

void Lab::report(const std::string& message) {
  error_ = message;
  std::fprintf(stderr, "patlab: %s\n", message.c_str());
}

void Lab::provide_pack(const std::string& id, const std::string& bytes) {
  try {
    auto pack = std::make_shared<DataPack>(decode_pack(bytes));
    if (pack->info.id != id) throw PackError("the file holds '" + pack->info.id + "', not '" + id + "'");
    packs_[id] = std::move(pack);
  } catch (const std::exception& e) {
    if (loading_ == id) loading_.clear();
    report("data set " + id + ": " + e.what());
    return;
  }
  if (loading_ == id) {
    loading_.clear();
    settings_.dataset = id;
    settings_.learning_rate = find_choice(id)->learning_rate;
    error_.clear();
    reset();
  }
}

void Lab::pack_failed(const std::string& id, const std::string& message) {
  if (loading_ == id) loading_.clear();
  report("data set " + id + " could not be loaded: " + message);
}

void Lab::reset() {
  make_data();
  std::vector<Method> methods = {settings_.method};
  if (settings_.race) methods = {Method::PAT, Method::InSilico};
  lanes_.clear();
  lanes_.resize(methods.size());
  for (size_t i = 0; i < methods.size(); ++i) {
    // Every lane is built from the same seeds: the same devices, the same starting point.
    Lane& lane = lanes_[i];
    lane.method = methods[i];
    Rng rng(settings_.seed);
    int width = train_.features();
    lane.net.add(std::make_unique<AffineLayer>(width, find_system(settings_.system).info.default_shape.inputs, rng));
    width = lane.net.output_size();
    for (int l = 0; l < settings_.physical_layers; ++l) {
      SystemInstance sys = make_system(settings_.system, Shape{width, width}, settings_.knobs,
                                       settings_.device_seed + uint64_t(l));
      lane.devices.push_back(sys.device);
      lane.net.add(std::make_unique<PhysicalLayer>(sys.device, sys.twin, sys.theta0));
      width = sys.device->output_size();
    }
    lane.net.add(std::make_unique<AffineLayer>(width, train_.num_classes, rng));
    TrainConfig cfg;
    cfg.method = lane.method;
    cfg.optimizer.learning_rate = settings_.learning_rate;
    cfg.batch_size = settings_.batch_size;
    cfg.seed = settings_.seed;
    lane.trainer = std::make_unique<Trainer>(lane.net, train_, cfg);
  }
  measured_at_step_ = mapped_at_step_ = -1;
  measure();
  refresh_maps();
}

void Lab::measure() {
  for (Lane& lane : lanes_) {
    lane.last_device = lane.trainer->evaluate(test_, Pass::Device);
    lane.last_twin = lane.trainer->evaluate(test_, Pass::Twin);
    lane.step.push_back(float(lane.trainer->steps()));
    lane.acc_device.push_back(float(lane.last_device.accuracy));
    lane.acc_twin.push_back(float(lane.last_twin.accuracy));
    lane.loss_device.push_back(float(lane.last_device.loss));
    lane.loss_twin.push_back(float(lane.last_twin.loss));
    if (lane.step.size() > kMaxCurvePoints)
      for (auto* v : {&lane.step, &lane.acc_device, &lane.acc_twin, &lane.loss_device, &lane.loss_twin})
        thin(*v);
  }
  measured_at_step_ = steps();
}

void Lab::refresh_maps() {
  mapped_at_step_ = steps();
  if (train_.features() != 2) return;  // maps are for 2-D data only
  Mat grid(2, kMapGrid * kMapGrid);
  for (int r = 0; r < kMapGrid; ++r)
    for (int c = 0; c < kMapGrid; ++c) {
      grid(0, r * kMapGrid + c) = kMapLo + (c + 0.5) * (kMapHi - kMapLo) / kMapGrid;
      grid(1, r * kMapGrid + c) = kMapLo + (r + 0.5) * (kMapHi - kMapLo) / kMapGrid;
    }
  for (Lane& lane : lanes_) {
    auto probabilities = [&](Pass pass, Mat& out) {
      // Softmax over the class logits, per cell.
      out = lane.net.forward(grid, pass).topRows(train_.num_classes);
      for (Eigen::Index i = 0; i < out.cols(); ++i) {
        out.col(i) = (out.col(i).array() - out.col(i).maxCoeff()).exp().matrix();
        out.col(i) /= out.col(i).sum();
      }
    };
    probabilities(Pass::Device, lane.map_device);
    probabilities(Pass::Twin, lane.map_twin);
  }
  mapped_at_step_ = steps();
}

void Lab::advance(double budget_ms) {
  ++frames_;
  if (!training_) return;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < settings_.steps_per_frame; ++i) {
    for (Lane& lane : lanes_) lane.trainer->step();
    if (steps() - measured_at_step_ >= kMeasureEvery) measure();
    if (steps() - mapped_at_step_ >= kMapEvery) refresh_maps();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (ms > budget_ms) break;
  }
}

bool Lab::set_setting(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos) return false;
  const std::string key = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !std::isfinite(v)) return false;
  const bool whole = v == std::floor(v);
  // Each setting with its valid range; anything outside is refused, nothing half-applied.
  if (key == "lr" && v > 0 && v <= 1) {
    settings_.learning_rate = v;
    for (Lane& lane : lanes_) lane.trainer->set_learning_rate(v);
    return true;
  }
  if (key == "steps_per_frame" && whole && v >= 1 && v <= 200) {
    settings_.steps_per_frame = int(v);
    return true;
  }
  LabSettings next = settings_;
  if (key == "batch" && whole && v >= 1 && v <= 1024) next.batch_size = int(v);
  else if (key == "layers" && whole && v >= 1 && v <= 8) next.physical_layers = int(v);
  else if (key == "noise" && v >= 0 && v <= 1) next.data_noise = v;
  else if (key == "train_size" && whole && v >= 20 && v <= 20000) next.train_size = int(v);
  else if (key == "test_size" && whole && v >= 20 && v <= 20000) next.test_size = int(v);
  else if (key == "seed" && whole && v >= 0 && v < 1e15) next.seed = uint64_t(v);
  else if (key == "device_seed" && whole && v >= 0 && v < 1e15) next.device_seed = uint64_t(v);
  else return false;
  settings_ = next;
  reset();
  return true;
}

void Lab::set_knobs_everywhere(const KnobValues& k) {
  // All lanes see the same physics: one knob turns every copy of the device.
  for (Lane& lane : lanes_)
    for (auto& d : lane.devices) d->set_knobs(k);
  settings_.knobs = lanes_.front().devices.front()->knobs();
}

bool Lab::command(const std::string& cmd) {
  if (cmd == "train") {
    training_ = true;
  } else if (cmd == "pause") {
    training_ = false;
  } else if (cmd == "reset") {
    reset();
  } else if (cmd == "race:on" || cmd == "race:off") {
    settings_.race = cmd == "race:on";
    reset();
  } else if (cmd.rfind("method:", 0) == 0) {
    try {
      settings_.method = method_from_name(cmd.substr(7));
    } catch (const std::invalid_argument&) {
      return false;
    }
    settings_.race = false;
    reset();
  } else if (cmd.rfind("dataset:", 0) == 0) {
    const std::string name = cmd.substr(8);
    const DataChoice* choice = find_choice(name);
    if (!choice) return false;
    if (choice->packed && !packs_.count(name)) {
      if (!pack_loader_) {
        report("data set " + name + " needs a data pack, and this host cannot load any");
        return false;
      }
      loading_ = name;  // reset() happens when the pack arrives
      pack_loader_(name);
      return true;
    }
    loading_.clear();
    settings_.dataset = name;
    settings_.learning_rate = choice->learning_rate;
    reset();
  } else if (cmd.rfind("system:", 0) == 0) {
    const std::string id = cmd.substr(7);
    bool known = false;
    for (const CatalogEntry& e : catalog()) known |= e.info.id == id;
    if (!known) return false;
    settings_.system = id;
    settings_.knobs = lab_knobs(id);
    reset();
  } else if (cmd.rfind("set:", 0) == 0) {
    return set_setting(cmd.substr(4));
  } else if (cmd.rfind("knob:", 0) == 0) {
    const size_t eq = cmd.find('=');
    if (eq == std::string::npos) return false;
    KnobValues k = settings_.knobs;
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

std::string Lab::status_json() const {
  nlohmann::json j;
  j["ready"] = frames_ >= 2;  // the UI has been laid out and drawn at least once
  j["frames"] = frames_;
  j["training"] = training_;
  j["race"] = settings_.race;
  j["dataset"] = settings_.dataset;
  j["loading"] = loading_;
  j["error"] = error_;
  j["classes"] = train_.num_classes;
  j["features"] = train_.features();
  j["train_size"] = train_.size();
  j["test_size"] = test_.size();
  j["system"] = settings_.system;
  j["physical_layers"] = settings_.physical_layers;
  j["step"] = steps();
  j["measured_at_step"] = measured_at_step_;
  j["knobs"] = lanes_.front().devices.front()->knobs();
  j["lanes"] = nlohmann::json::array();
  for (const Lane& lane : lanes_)
    j["lanes"].push_back(
        {{"method", method_name(lane.method)},
         {"epoch", lane.trainer->epoch()},
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
  return j.dump();
}

void Lab::draw() {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->WorkPos);
  ImGui::SetNextWindowSize(vp->WorkSize);
  ImGui::Begin("patlab", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                   ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus);
  ImGui::BeginChild("controls", ImVec2(370, 0), false);
  draw_controls();
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("results", ImVec2(0, 0), false, ImGuiWindowFlags_NoBackground);
  draw_results();
  ImGui::EndChild();
  ImGui::End();
}

void Lab::draw_controls() {
  ImGui::Dummy(ImVec2(0, 2));
  ImGui::SetWindowFontScale(1.5f);
  ImGui::TextUnformatted("patlab");
  ImGui::SetWindowFontScale(1.0f);
  ImGui::TextColored(ImVec4(0.67f, 0.69f, 0.75f, 1), "physics-aware training lab");
  ImGui::Spacing();
  ImGui::PushTextWrapPos(0.0f);
  ImGui::TextColored(ImVec4(0.80f, 0.82f, 0.86f, 1),
                     "The middle of this network is %d layers of a physical device. Its digital "
                     "twin is the textbook model of it, which is a little wrong. Which training "
                     "copes better?", settings_.physical_layers);
  ImGui::PopTextWrapPos();
  ImGui::Separator();

  // Training method: a race of the two, or one alone.
  ImGui::TextUnformatted("Training");
  int m = settings_.race ? 0 : (settings_.method == Method::PAT ? 1 : 2);
  bool changed = ImGui::RadioButton("race", &m, 0);
  ImGui::SameLine(0, 16);
  changed |= ImGui::RadioButton("PAT", &m, 1);
  ImGui::SameLine(0, 16);
  changed |= ImGui::RadioButton("in-silico", &m, 2);
  if (changed) command(m == 0 ? "race:on" : m == 1 ? "method:pat" : "method:in-silico");
  ImGui::PushTextWrapPos(0.0f);
  ImGui::TextDisabled(
      m == 0 ? "PAT and in-silico side by side, each on its own copy of the same device"
      : m == 1 ? "PAT: forward pass on the device, backward pass through the twin at the "
                 "device's measured activations"
               : "in-silico: forward and backward through the twin only; the device is only "
                 "used to measure the result");
  ImGui::PopTextWrapPos();

  // Train / reset.
  ImGui::Spacing();
  const ImVec4 accent(1.0f, 0.55f, 0.16f, 1.0f);
  ImGui::PushStyleColor(ImGuiCol_Button, training_ ? ImVec4(0.25f, 0.26f, 0.32f, 1) : accent);
  ImGui::PushStyleColor(ImGuiCol_ButtonHovered, training_ ? ImVec4(0.30f, 0.31f, 0.38f, 1) : ImVec4(1.0f, 0.64f, 0.30f, 1));
  ImGui::PushStyleColor(ImGuiCol_Text, training_ ? ImVec4(1, 1, 1, 1) : ImVec4(0.08f, 0.08f, 0.1f, 1));
  if (ImGui::Button(training_ ? "Pause" : "Train", ImVec2(150, 36))) training_ = !training_;
  rect_of_last_item(train_button_);
  ImGui::PopStyleColor(3);
  ImGui::SameLine();
  if (ImGui::Button("Reset", ImVec2(-1, 36))) reset();
  rect_of_last_item(reset_button_);
  const Lane& first = lanes_.front();
  ImGui::Text("step %lld   epoch %d", steps(), first.trainer->epoch());
  for (const Lane& lane : lanes_) {
    const double q = double(lane.net.device_queries());
    const CostModel& cost = system_info().cost;
    ImGui::Text("%-9s device queries %lld", method_label(lane.method), (long long)q);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("on the real %s: %.1f s and %.3g J (%s)", system_info().name.c_str(),
                        q * cost.latency_s, q * cost.energy_j, cost.source.c_str());
  }
  ImGui::Separator();

  // Data.
  ImGui::TextUnformatted("Data");
  const DataChoice* shown = find_choice(loading_.empty() ? settings_.dataset : loading_);
  ImGui::SetNextItemWidth(-1);
  if (ImGui::BeginCombo("##dataset", shown ? shown->title.c_str() : settings_.dataset.c_str())) {
    for (const DataChoice& c : data_choices())
      if (ImGui::Selectable(c.title.c_str(), c.id == settings_.dataset)) command("dataset:" + c.id);
    ImGui::EndCombo();
  }
  if (!loading_.empty()) {
    ImGui::TextDisabled("loading %s ...", loading_.c_str());
  } else {
    const auto pack = packs_.find(settings_.dataset);
    ImGui::TextDisabled("%d train / %d test samples, %d features, %d classes", train_.size(),
                        test_.size(), train_.features(), train_.num_classes);
    if (pack != packs_.end() && ImGui::IsItemHovered())
      ImGui::SetTooltip("%s\nLicence: %s", pack->second->info.source.c_str(),
                        pack->second->info.licence.c_str());
  }
  if (!error_.empty()) {
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.45f, 1), "%s", error_.c_str());
    ImGui::PopTextWrapPos();
  }

  // The physical system, and its knobs built from the catalog's metadata: applied to the
  // device at once, mid-training if need be.
  ImGui::Spacing();
  ImGui::TextUnformatted("Physical system");
  ImGui::SetNextItemWidth(-1);
  if (ImGui::BeginCombo("##system", system_info().name.c_str())) {
    for (const CatalogEntry& e : catalog())
      if (ImGui::Selectable(e.info.name.c_str(), e.info.id == settings_.system))
        command("system:" + e.info.id);
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", system_info().description.c_str());
  ImGui::TextUnformatted("How reality differs from the twin");
  KnobValues k = settings_.knobs;
  bool knob = false;
  for (const KnobInfo& info : system_info().knobs) {
    if (info.kind == "setting") continue;
    ImGui::SetNextItemWidth(-150);
    if (info.integer) {
      // Whole-number knobs (converter bits, delays): 0 bits means an ideal converter.
      int v = int(k[info.key]);
      const std::string fmt = (v == 0 && info.unit == "bits") ? "ideal" : "%d " + info.unit;
      if (ImGui::SliderInt(info.label.c_str(), &v, int(info.min), int(info.max), fmt.c_str())) {
        k[info.key] = v;
        knob = true;
      }
    } else {
      float v = float(k[info.key]);
      const std::string fmt = info.unit.empty() || info.unit.size() > 6 ? "%.3f" : "%.3f " + info.unit;
      if (ImGui::SliderFloat(info.label.c_str(), &v, float(info.min), float(info.max), fmt.c_str())) {
        k[info.key] = v;
        knob = true;
      }
    }
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("%s (%s%s%s)", info.help.c_str(), info.kind.c_str(),
                        info.unit.empty() ? "" : ", ", info.unit.c_str());
  }
  if (knob) set_knobs_everywhere(k);

  // Optimiser.
  ImGui::Spacing();
  ImGui::TextUnformatted("Training");
  float lr = float(settings_.learning_rate);
  ImGui::SetNextItemWidth(-150);
  if (ImGui::SliderFloat("learning rate", &lr, 0.001f, 0.1f, "%.3f", ImGuiSliderFlags_Logarithmic)) {
    settings_.learning_rate = lr;
    for (Lane& lane : lanes_) lane.trainer->set_learning_rate(lr);
  }
  ImGui::SetNextItemWidth(-150);
  ImGui::SliderInt("steps/frame", &settings_.steps_per_frame, 1, 50);
}

void Lab::draw_results() {
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float top_h = std::max(160.0f, avail.y * 0.45f);
  const float half_w = (avail.x - gap) * 0.5f;
  const bool race = lanes_.size() > 1;

  // In a race the curves compare methods, all measured on the device (the twin's opinion of
  // in-silico training is not in question); alone, they compare device and twin.
  std::vector<Series> acc_series, loss_series;
  for (const Lane& lane : lanes_) {
    const ImU32 color = lane.method == Method::PAT ? palette::device : palette::twin;
    if (race) {
      const std::string name = std::string(method_label(lane.method)) + ", on device";
      acc_series.push_back({name, &lane.step, &lane.acc_device, color});
      loss_series.push_back({name, &lane.step, &lane.loss_device, color});
    } else {
      acc_series.push_back({"on device", &lane.step, &lane.acc_device, palette::device});
      acc_series.push_back({"on twin", &lane.step, &lane.acc_twin, palette::twin});
      loss_series.push_back({"on device", &lane.step, &lane.loss_device, palette::device});
      loss_series.push_back({"on twin", &lane.step, &lane.loss_twin, palette::twin});
    }
  }
  LinePlotOptions acc;
  acc.y_format = "%.2f";
  acc.reference_y = 1.0f / float(train_.num_classes);
  acc.reference_label = "chance";
  line_plot("Test accuracy", ImVec2(half_w, top_h), acc_series, acc);
  ImGui::SameLine();
  LinePlotOptions loss;
  loss.y_format = "%.2f";
  line_plot("Test loss (cross-entropy)", ImVec2(half_w, top_h), loss_series, loss);

  const float bottom_h = ImGui::GetContentRegionAvail().y;
  if (train_.features() != 2) {
    // Not a plane to map: show what the device makes of real test samples instead.
    for (size_t i = 0; i < lanes_.size(); ++i) {
      const std::string title = race ? "Trained by " + std::string(method_label(lanes_[i].method)) +
                                           ": the device's answers on test samples"
                                     : std::string("The device's answers on test samples");
      draw_samples(title.c_str(), ImVec2(race ? half_w : avail.x, bottom_h), lanes_[i]);
      if (i + 1 < lanes_.size()) ImGui::SameLine();
    }
  } else if (race) {
    for (size_t i = 0; i < lanes_.size(); ++i) {
      const std::string title = "Trained by " + std::string(method_label(lanes_[i].method)) +
                                ": what the device does";
      class_map(title.c_str(), ImVec2(half_w, bottom_h), test_, lanes_[i].map_device, kMapGrid,
                kMapLo, kMapHi);
      if (i + 1 < lanes_.size()) ImGui::SameLine();
    }
  } else {
    const Lane& lane = lanes_.front();
    class_map("What the device does (test points over its decision map)", ImVec2(half_w, bottom_h),
              test_, lane.map_device, kMapGrid, kMapLo, kMapHi);
    ImGui::SameLine();
    class_map("What the twin predicts it does", ImVec2(half_w, bottom_h), test_, lane.map_twin,
              kMapGrid, kMapLo, kMapHi);
  }
}

void Lab::draw_samples(const char* title, ImVec2 size, const Lane& lane) const {
  ImGui::BeginChild(title, size, false, ImGuiWindowFlags_NoScrollbar);
  ImGui::TextUnformatted(title);
  const auto it = packs_.find(settings_.dataset);
  const DataPack* pack = it == packs_.end() ? nullptr : it->second.get();
  const Labels& predicted = lane.last_device.predicted;
  const ImVec2 p0 = ImGui::GetCursorScreenPos(), avail = ImGui::GetContentRegionAvail();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const int w = pack ? pack->info.image_width : 0, h = pack ? pack->info.image_height : 0;
  const float line = ImGui::GetTextLineHeight();
  // Tiles: the image (or, for feature vectors, a bar per feature), the device's answer below,
  // framed green when right and red when wrong.
  const float tile = 64.0f, pad = 10.0f, cell_w = tile + pad, cell_h = tile + line + pad;
  const int cols = std::max(1, int(avail.x / cell_w)), rows = std::max(1, int(avail.y / cell_h));
  const int n = std::min(test_.size(), cols * rows);
  const double lo = test_.x.size() ? test_.x.minCoeff() : 0.0, hi = test_.x.size() ? test_.x.maxCoeff() : 1.0;
  for (int i = 0; i < n; ++i) {
    const ImVec2 a(p0.x + (i % cols) * cell_w, p0.y + (i / cols) * cell_h);
    const ImVec2 b(a.x + tile, a.y + tile);
    dl->AddRectFilled(a, b, IM_COL32(12, 13, 17, 255));
    const auto level = [&](double v) { return float((v - lo) / std::max(hi - lo, 1e-12)); };
    if (w * h == test_.features()) {
      const float px = tile / float(std::max(w, h));
      for (int r = 0; r < h; ++r)
        for (int c = 0; c < w; ++c) {
          const int g = int(255 * std::clamp(level(test_.x(r * w + c, i)), 0.0f, 1.0f));
          if (g < 8) continue;
          dl->AddRectFilled(ImVec2(a.x + c * px, a.y + r * px), ImVec2(a.x + (c + 1) * px, a.y + (r + 1) * px),
                            IM_COL32(g, g, g, 255));
        }
    } else {
      const float bw = tile / float(test_.features());
      for (int f = 0; f < test_.features(); ++f) {
        const float v = std::clamp(level(test_.x(f, i)), 0.0f, 1.0f);
        dl->AddRectFilled(ImVec2(a.x + f * bw, b.y - v * tile), ImVec2(a.x + (f + 1) * bw, b.y), palette::twin);
      }
    }
    if (i < predicted.size()) {
      const bool right = predicted(i) == test_.y(i);
      const ImU32 frame = right ? IM_COL32(64, 200, 120, 255) : IM_COL32(235, 80, 90, 255);
      dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), frame, 0.0f, 0, 2.0f);
      const std::string text = class_name(pack, predicted(i)) + (right ? "" : " (" + class_name(pack, test_.y(i)) + ")");
      dl->PushClipRect(ImVec2(a.x, b.y), ImVec2(a.x + cell_w - 2, b.y + line + 2), true);
      dl->AddText(ImVec2(a.x, b.y + 2), frame, text.c_str());
      dl->PopClipRect();
    }
  }
  ImGui::EndChild();
}

}  // namespace patlab
