#include "patlab/app/lab.h"

#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "patlab/app/plot.h"
#include "patlab/app/style.h"
#include "patlab/core/loss.h"
#include "patlab/datasets/toy2d.h"

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
    if (info.kind == "mismatch" || info.kind == "structural")
      k[info.key] = info.min + (info.max - info.min) / 3.0;
    else if (info.kind == "noise")
      k[info.key] = info.min + (info.max - info.min) / 20.0;
  }
  return k;
}

Lab::Lab(const LabSettings& settings) : settings_(settings) { reset(); }
Lab::~Lab() = default;

long long Lab::steps() const { return trainer_ ? trainer_->steps() : 0; }

void Lab::reset() {
  train_ = make_toy2d(settings_.dataset, settings_.train_size, settings_.data_noise, settings_.seed);
  test_ = make_toy2d(settings_.dataset, settings_.test_size, settings_.data_noise, settings_.seed + 1000);
  // digital encoder 2 -> device inputs, the physical layer, digital readout -> classes
  Rng rng(settings_.seed);
  SystemInstance sys = make_system(settings_.system, {}, settings_.knobs, settings_.device_seed);
  device_ = sys.device;
  net_ = Network();
  net_.add(std::make_unique<AffineLayer>(train_.features(), device_->input_size(), rng));
  net_.add(std::make_unique<PhysicalLayer>(sys.device, sys.twin, sys.theta0));
  net_.add(std::make_unique<AffineLayer>(device_->output_size(), train_.num_classes, rng));
  TrainConfig cfg;
  cfg.method = settings_.method;
  cfg.optimizer.learning_rate = settings_.learning_rate;
  cfg.batch_size = settings_.batch_size;
  cfg.seed = settings_.seed;
  trainer_ = std::make_unique<Trainer>(net_, train_, cfg);
  for (auto* v : {&curve_step_, &acc_device_, &acc_twin_, &loss_device_, &loss_twin_}) v->clear();
  measured_at_step_ = mapped_at_step_ = -1;
  map_device_.resize(0, 0);
  map_twin_.resize(0, 0);
  measure();
  refresh_maps();
}

void Lab::measure() {
  last_device_ = trainer_->evaluate(test_, Pass::Device);
  last_twin_ = trainer_->evaluate(test_, Pass::Twin);
  curve_step_.push_back(float(trainer_->steps()));
  acc_device_.push_back(float(last_device_.accuracy));
  acc_twin_.push_back(float(last_twin_.accuracy));
  loss_device_.push_back(float(last_device_.loss));
  loss_twin_.push_back(float(last_twin_.loss));
  if (curve_step_.size() > kMaxCurvePoints)
    for (auto* v : {&curve_step_, &acc_device_, &acc_twin_, &loss_device_, &loss_twin_}) thin(*v);
  measured_at_step_ = trainer_->steps();
}

void Lab::refresh_maps() {
  Mat grid(2, kMapGrid * kMapGrid);
  for (int r = 0; r < kMapGrid; ++r)
    for (int c = 0; c < kMapGrid; ++c) {
      grid(0, r * kMapGrid + c) = kMapLo + (c + 0.5) * (kMapHi - kMapLo) / kMapGrid;
      grid(1, r * kMapGrid + c) = kMapLo + (r + 0.5) * (kMapHi - kMapLo) / kMapGrid;
    }
  auto probabilities = [&](Pass pass, Mat& out) {
    // Softmax over the class logits, per cell.
    out = net_.forward(grid, pass).topRows(train_.num_classes);
    for (Eigen::Index i = 0; i < out.cols(); ++i) {
      out.col(i) = (out.col(i).array() - out.col(i).maxCoeff()).exp().matrix();
      out.col(i) /= out.col(i).sum();
    }
  };
  probabilities(Pass::Device, map_device_);
  probabilities(Pass::Twin, map_twin_);
  mapped_at_step_ = trainer_->steps();
}

void Lab::advance(double budget_ms) {
  ++frames_;
  if (!training_) return;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < settings_.steps_per_frame; ++i) {
    trainer_->step();
    if (trainer_->steps() - measured_at_step_ >= kMeasureEvery) measure();
    if (trainer_->steps() - mapped_at_step_ >= kMapEvery) refresh_maps();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (ms > budget_ms) break;
  }
}

bool Lab::command(const std::string& cmd) {
  if (cmd == "train") {
    training_ = true;
  } else if (cmd == "pause") {
    training_ = false;
  } else if (cmd == "reset") {
    reset();
  } else if (cmd == "method:pat" || cmd == "method:in-silico") {
    settings_.method = cmd == "method:pat" ? Method::PAT : Method::InSilico;
    trainer_->set_method(settings_.method);
  } else if (cmd.rfind("dataset:", 0) == 0) {
    const std::string name = cmd.substr(8);
    const auto& names = toy2d_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) return false;
    settings_.dataset = name;
    reset();
  } else if (cmd.rfind("system:", 0) == 0) {
    const std::string id = cmd.substr(7);
    bool known = false;
    for (const CatalogEntry& e : catalog()) known |= e.info.id == id;
    if (!known) return false;
    settings_.system = id;
    settings_.knobs = lab_knobs(id);
    reset();
  } else if (cmd.rfind("knob:", 0) == 0) {
    const size_t eq = cmd.find('=');
    if (eq == std::string::npos) return false;
    KnobValues k = settings_.knobs;
    char* end = nullptr;
    const std::string value = cmd.substr(eq + 1);
    k[cmd.substr(5, eq - 5)] = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0') return false;
    try {
      device_->set_knobs(k);
    } catch (const std::invalid_argument&) {
      return false;
    }
    settings_.knobs = device_->knobs();
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
  j["method"] = method_name(settings_.method);
  j["dataset"] = settings_.dataset;
  j["step"] = trainer_->steps();
  j["epoch"] = trainer_->epoch();
  j["device_queries"] = net_.device_queries();
  j["measured_at_step"] = measured_at_step_;
  j["test"]["device"] = {{"loss", last_device_.loss}, {"accuracy", last_device_.accuracy}};
  j["test"]["twin"] = {{"loss", last_twin_.loss}, {"accuracy", last_twin_.accuracy}};
  j["system"] = settings_.system;
  j["knobs"] = device_->knobs();
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
                     "The middle layer of this network is a physical device. Its digital twin "
                     "is the textbook model of it, which is a little wrong.");
  ImGui::PopTextWrapPos();
  ImGui::Separator();

  // Training method.
  ImGui::TextUnformatted("Training method");
  int m = settings_.method == Method::PAT ? 0 : 1;
  bool changed = ImGui::RadioButton("PAT", &m, 0);
  ImGui::SameLine(0, 20);
  changed |= ImGui::RadioButton("in-silico", &m, 1);
  if (changed) command(m == 0 ? "method:pat" : "method:in-silico");
  ImGui::PushTextWrapPos(0.0f);
  ImGui::TextDisabled(settings_.method == Method::PAT
                          ? "forward pass on the device, backward pass through the twin at the "
                            "device's measured activations"
                          : "forward and backward through the twin only; the device is only "
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
  ImGui::Text("step %lld   epoch %d", (long long)trainer_->steps(), trainer_->epoch());
  ImGui::Text("device queries %lld", net_.device_queries());
  ImGui::Separator();

  // Data.
  ImGui::TextUnformatted("Data");
  const auto& names = toy2d_names();
  int current = int(std::find(names.begin(), names.end(), settings_.dataset) - names.begin());
  ImGui::SetNextItemWidth(-1);
  if (ImGui::BeginCombo("##dataset", settings_.dataset.c_str())) {
    for (int i = 0; i < int(names.size()); ++i)
      if (ImGui::Selectable(names[i].c_str(), i == current)) command("dataset:" + names[i]);
    ImGui::EndCombo();
  }

  // The physical system, and its knobs built from the catalog's metadata: applied to the
  // device at once, mid-training if need be.
  ImGui::Spacing();
  ImGui::TextUnformatted("Physical system");
  ImGui::SetNextItemWidth(-1);
  if (ImGui::BeginCombo("##system", device_->info().name.c_str())) {
    for (const CatalogEntry& e : catalog())
      if (ImGui::Selectable(e.info.name.c_str(), e.info.id == settings_.system))
        command("system:" + e.info.id);
    ImGui::EndCombo();
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", device_->info().description.c_str());
  ImGui::TextUnformatted("How reality differs from the twin");
  KnobValues k = device_->knobs();
  bool knob = false;
  for (const KnobInfo& info : device_->info().knobs) {
    if (info.kind == "setting") continue;
    float v = float(k[info.key]);
    const std::string fmt = info.unit.empty() || info.unit.size() > 6 ? "%.3f" : "%.3f " + info.unit;
    ImGui::SetNextItemWidth(-150);
    if (ImGui::SliderFloat(info.label.c_str(), &v, float(info.min), float(info.max), fmt.c_str())) {
      k[info.key] = v;
      knob = true;
    }
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("%s (%s%s%s)", info.help.c_str(), info.kind.c_str(),
                        info.unit.empty() ? "" : ", ", info.unit.c_str());
  }
  if (knob) {
    device_->set_knobs(k);
    settings_.knobs = device_->knobs();
  }

  // Optimiser.
  ImGui::Spacing();
  ImGui::TextUnformatted("Training");
  float lr = float(settings_.learning_rate);
  ImGui::SetNextItemWidth(-150);
  if (ImGui::SliderFloat("learning rate", &lr, 0.001f, 0.1f, "%.3f", ImGuiSliderFlags_Logarithmic)) {
    settings_.learning_rate = lr;
    trainer_->set_learning_rate(lr);
  }
  ImGui::SetNextItemWidth(-150);
  ImGui::SliderInt("steps/frame", &settings_.steps_per_frame, 1, 50);
}

void Lab::draw_results() {
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float top_h = std::max(160.0f, avail.y * 0.45f);
  const float half_w = (avail.x - gap) * 0.5f;

  LinePlotOptions acc;
  acc.y_min = 0.0f;
  acc.y_max = 1.0f;
  acc.y_format = "%.2f";
  acc.reference_y = 1.0f / float(train_.num_classes);
  acc.reference_label = "chance";
  line_plot("Test accuracy", ImVec2(half_w, top_h),
            {{"on device", &curve_step_, &acc_device_, palette::device},
             {"on twin", &curve_step_, &acc_twin_, palette::twin}},
            acc);
  ImGui::SameLine();
  LinePlotOptions loss;
  loss.y_min = 0.0f;
  loss.y_max = 1.0f;
  loss.y_format = "%.2f";
  line_plot("Test loss (cross-entropy)", ImVec2(half_w, top_h),
            {{"on device", &curve_step_, &loss_device_, palette::device},
             {"on twin", &curve_step_, &loss_twin_, palette::twin}},
            loss);

  const float bottom_h = ImGui::GetContentRegionAvail().y;
  class_map("What the device does (test points over its decision map)", ImVec2(half_w, bottom_h),
            test_, map_device_, kMapGrid, kMapLo, kMapHi);
  ImGui::SameLine();
  class_map("What the twin predicts it does", ImVec2(half_w, bottom_h), test_, map_twin_,
            kMapGrid, kMapLo, kMapHi);
}

}  // namespace patlab
