// The lab's view: the controls on the left, the plots on the right, all drawn with ImGui each
// frame from the model in lab.cpp.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "patlab/app/lab_view.h"
#include "patlab/app/plot.h"
#include "patlab/app/style.h"
#include "patlab/datasets/processing.h"
#include "patlab/datasets/vowels.h"

namespace patlab {

ImU32 method_color(Method m) {
  switch (m) {
    case Method::PAT: return palette::device;
    case Method::InSilico: return palette::twin;
    case Method::Ideal: return IM_COL32(120, 210, 110, 255);
    case Method::SPSA: return IM_COL32(200, 130, 255, 255);
    default: return IM_COL32(220, 220, 220, 255);
  }
}

void LabView::rect_of_last_item(float out[4]) {
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  out[0] = a.x;
  out[1] = a.y;
  out[2] = b.x - a.x;
  out[3] = b.y - a.y;
}

void LabView::draw() {
  // The space bar plays and pauses, unless the user is typing into a field or moving through
  // the controls with the keyboard (where space presses the focused control).
  const ImGuiIO& io = ImGui::GetIO();
  lab_.pixel_ratio_ = io.DisplayFramebufferScale.x;  // status_json() reports it
  if (!io.WantTextInput && !io.NavVisible && ImGui::IsKeyPressed(ImGuiKey_Space, false)) ask("toggle");
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->WorkPos);
  ImGui::SetNextWindowSize(vp->WorkSize);
  ImGui::Begin("patlab", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                   ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                   ImGuiWindowFlags_NoBackground);  // the frame is cleared to the same colour: no second fill
  ImGui::BeginChild("controls", ImVec2(lab_.panel_ ? 400.0f : 370.0f, 0), false);
  draw_header();
  if (lab_.panel_) lab_.panel_();
  draw_controls();
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("results", ImVec2(0, 0), false, ImGuiWindowFlags_NoBackground);
  draw_results();
  ImGui::EndChild();
  ImGui::End();
  // What the user asked for during the frame happens now, after drawing: a command may rebuild
  // the data and networks the widgets above were still reading.
  std::vector<std::string> asked;
  asked.swap(asked_);
  for (const std::string& c : asked) lab_.command(c);
}

void LabView::draw_header() {
  ImGui::Dummy(ImVec2(0, 2));
  ImGui::SetWindowFontScale(1.5f);
  ImGui::TextUnformatted("patlab");
  ImGui::SetWindowFontScale(1.0f);
  ImGui::SameLine();
  ImGui::AlignTextToFramePadding();
  ImGui::TextColored(ImVec4(0.67f, 0.69f, 0.75f, 1), " physics-aware training lab");
  if (lab_.teacher_mode_) {  // a lesson does the explaining
    ImGui::Separator();
    return;
  }
  ImGui::Spacing();
  ImGui::PushTextWrapPos(0.0f);
  ImGui::TextColored(ImVec4(0.80f, 0.82f, 0.86f, 1),
                     "The middle of this network is %d layers of a physical device. Its digital "
                     "twin is the textbook model of it, which is a little wrong. Which training "
                     "copes better?", lab_.network_.physical);
  ImGui::PopTextWrapPos();
  ImGui::Separator();
}

void LabView::draw_controls() {
  // Top to bottom: what trains, the buttons, the data, the device and how it differs from its
  // twin, the network and its training, and the files to keep. Teacher mode hides the groups a
  // lesson's step does not name (Lab::control_visible).
  draw_methods();
  draw_training();
  draw_data_controls();
  if (!lab_.error_.empty()) {
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.45f, 1), "%s", lab_.error_.c_str());
    ImGui::PopTextWrapPos();
  }
  draw_system();
  draw_knobs();
  draw_network();
  draw_share();
  if (!lab_.notice_.empty()) ImGui::TextColored(ImVec4(0.5f, 0.85f, 0.6f, 1), "%s", lab_.notice_.c_str());
}

void LabView::draw_methods() {
  // Training methods: each ticked one trains its own copy of the device; two or more race.
  if (lab_.control_visible("methods")) {
    ImGui::TextUnformatted("Train with");
    static const Method kOffered[] = {Method::PAT, Method::InSilico, Method::Ideal, Method::SPSA};
    static const char* kHelp[] = {
        "PAT: forward pass on the device, backward pass through the twin at the device's "
        "measured activations",
        "in-silico: forward and backward through the twin only; the device only measures the result",
        "ideal: backpropagation through the true physics (the oracle), which no real lab has: the "
        "best any gradient method could do",
        "SPSA: no twin at all; gradients from two device queries with random perturbations"};
    std::string picked;
    bool changed = false;
    for (int i = 0; i < 4; ++i) {
      bool on = std::find(lab_.settings_.methods.begin(), lab_.settings_.methods.end(), kOffered[i]) != lab_.settings_.methods.end();
      if (i) ImGui::SameLine(0, 12);
      ImGui::PushStyleColor(ImGuiCol_CheckMark, ImGui::ColorConvertU32ToFloat4(method_color(kOffered[i])));
      if (ImGui::Checkbox(method_label(kOffered[i]), &on)) changed = true;
      ImGui::PopStyleColor();
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", kHelp[i]);
      if (on) picked += (picked.empty() ? "" : ",") + std::string(method_name(kOffered[i]));
    }
    if (changed && !picked.empty()) ask("methods:" + picked);
    ImGui::PushTextWrapPos(0.0f);
    const char* what = "A race: each method trains its own copy of the same device from the same start";
    for (int i = 0; i < 4 && lab_.settings_.methods.size() == 1; ++i)
      if (kOffered[i] == lab_.settings_.methods.front()) what = kHelp[i];
    ImGui::TextDisabled("%s", what);
    ImGui::PopTextWrapPos();
  }
}

void LabView::draw_training() {
  // Train / step / reset; the space bar plays and pauses too.
  if (lab_.control_visible("training")) {
    ImGui::Spacing();
    const ImVec4 accent(1.0f, 0.55f, 0.16f, 1.0f);
    ImGui::PushStyleColor(ImGuiCol_Button, lab_.training_ ? ImVec4(0.25f, 0.26f, 0.32f, 1) : accent);
    ImGui::PushStyleColor(ImGuiCol_ButtonHovered, lab_.training_ ? ImVec4(0.30f, 0.31f, 0.38f, 1) : ImVec4(1.0f, 0.64f, 0.30f, 1));
    ImGui::PushStyleColor(ImGuiCol_Text, lab_.training_ ? ImVec4(1, 1, 1, 1) : ImVec4(0.08f, 0.08f, 0.1f, 1));
    if (ImGui::Button(lab_.training_ ? "Pause" : "Train", ImVec2(130, 36))) ask("toggle");
    rect_of_last_item(lab_.train_button_);
    ImGui::PopStyleColor(3);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("space bar: play / pause");
    ImGui::SameLine();
    if (ImGui::Button("Step", ImVec2(80, 36))) ask("step");
    rect_of_last_item(lab_.step_button_);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("one batch for every method, then measure");
    ImGui::SameLine();
    if (ImGui::Button("Reset", ImVec2(-1, 36))) ask("reset");
    rect_of_last_item(lab_.reset_button_);
    const Lane& first = lab_.lanes_.front();
    ImGui::Text("step %lld   epoch %d", lab_.steps(), first.trainer->epoch());
    for (const Lane& lane : lab_.lanes_) {
      const double q = double(lane.net.device_queries());
      const CostModel& cost = lab_.system_info().cost;
      ImGui::Text("%-9s device queries %lld", method_label(lane.method), (long long)q);
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("on the real %s: %.1f s and %.3g J (%s)", lab_.system_info().name.c_str(),
                          q * cost.latency_s, q * cost.energy_j, cost.source.c_str());
    }
    ImGui::Separator();
  }
}

void LabView::draw_data_controls() {
  // Data.
  if (lab_.control_visible("data")) {
    ImGui::TextUnformatted("Data");
    const DataChoice* shown = lab_.choice(lab_.loading_.empty() ? lab_.settings_.experiment.data.name : lab_.loading_);
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##dataset", shown ? shown->title.c_str() : lab_.settings_.experiment.data.name.c_str())) {
      std::vector<DataChoice> all = data_choices();
      if (!lab_.user_data_.id.empty()) all.push_back(lab_.user_data_);
      for (const DataChoice& c : all)
        if (ImGui::Selectable(c.title.c_str(), c.id == lab_.settings_.experiment.data.name)) ask("dataset:" + c.id);
      ImGui::EndCombo();
    }
    if (!lab_.loading_.empty()) {
      ImGui::TextDisabled("loading %s ...", lab_.loading_.c_str());
    } else {
      const auto pack = lab_.packs_.find(lab_.settings_.experiment.data.name);
      ImGui::TextDisabled("%d train / %d test samples, %d features, %d classes", lab_.train_.size(),
                          lab_.test_.size(), lab_.train_.features(), lab_.train_.num_classes);
      if (pack != lab_.packs_.end() && ImGui::IsItemHovered())
        ImGui::SetTooltip("%s\nLicence: %s", pack->second->info.source.c_str(),
                          pack->second->info.licence.c_str());
    }
  }
}

void LabView::draw_system() {
  // The physical system, and its knobs built from the catalog's metadata: applied to the
  // device at once, mid-training if need be.
  if (lab_.control_visible("system")) {
    ImGui::Spacing();
    ImGui::TextUnformatted("Physical system");
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##system", lab_.system_info().name.c_str())) {
      for (const CatalogEntry& e : catalog())
        if (ImGui::Selectable(e.info.name.c_str(), e.info.id == lab_.network_.system))
          ask("system:" + e.info.id);
      ImGui::EndCombo();
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", lab_.system_info().description.c_str());
    // Where the lanes' physical layers run: the emulator, or a connected device.
    if (lab_.device_.panel) lab_.device_.panel();
  }
}

void LabView::draw_knobs() {
  if (lab_.control_visible("knobs")) {
    ImGui::Spacing();
    ImGui::TextUnformatted("How reality differs from the twin");
    if (lab_.any_lane_on_device()) {
      ImGui::PushTextWrapPos(0.0f);
      ImGui::TextDisabled("These change the emulated lanes only: the connected device's physics "
                          "is whatever it is.");
      ImGui::PopTextWrapPos();
    }
    for (const Lane& lane : lab_.lanes_)
      if (!lane.emulated_because.empty()) {
        ImGui::PushTextWrapPos(0.0f);
        ImGui::TextDisabled("%s", lane.emulated_because.c_str());
        ImGui::PopTextWrapPos();
      }
    const KnobValues& k = lab_.network_.knobs;
    for (const KnobInfo& info : lab_.system_info().knobs) {
      if (info.kind == "setting") continue;
      ImGui::SetNextItemWidth(-150);
      if (info.integer) {
        // Whole-number knobs (converter bits, delays): 0 bits means an ideal converter.
        int v = int(k.at(info.key));
        const std::string fmt = (v == 0 && info.unit == "bits") ? "ideal" : "%d " + info.unit;
        if (ImGui::SliderInt(info.label.c_str(), &v, int(info.min), int(info.max), fmt.c_str()))
          ask("knob:" + info.key + "=" + std::to_string(v));
      } else {
        float v = float(k.at(info.key));
        const std::string fmt = info.unit.empty() || info.unit.size() > 6 ? "%.3f" : "%.3f " + info.unit;
        if (ImGui::SliderFloat(info.label.c_str(), &v, float(info.min), float(info.max), fmt.c_str())) {
          char value[32];
          std::snprintf(value, sizeof value, "%.9g", double(v));
          ask("knob:" + info.key + "=" + value);
        }
      }
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%s (%s%s%s)", info.help.c_str(), info.kind.c_str(),
                          info.unit.empty() ? "" : ", ", info.unit.c_str());
    }
  }
}

void LabView::draw_network() {
  // Network and optimiser. Sliders that rebuild the networks act when released.
  if (lab_.control_visible("layers") || lab_.control_visible("settings")) {
    ImGui::Spacing();
    ImGui::TextUnformatted("Network and training");
  }
  if (lab_.control_visible("layers") && lab_.network_.custom) {
    // A file's network: shown as it is, its layers listed; the lab's controls would replace it.
    ImGui::PushTextWrapPos(0.0f);
    std::string kinds;
    for (const LayerSpec& l : lab_.settings_.experiment.layers)
      kinds += (kinds.empty() ? "" : " > ") + (l.kind == "physical" ? l.system : l.kind);
    ImGui::TextDisabled("A network from a file, %d physical layers: %s", lab_.network_.physical, kinds.c_str());
    ImGui::PopTextWrapPos();
    if (ImGui::Button("Use the lab's own network", ImVec2(-1, 0)))
      ask("set:layers=" + std::to_string(std::min(lab_.network_.physical, 6)));
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("an encoder, physical layers of %s and a readout, whose layers the sliders set",
                        lab_.system_info().name.c_str());
  } else if (lab_.control_visible("layers")) {
    int layers = lab_.network_.physical;
    ImGui::SetNextItemWidth(-150);
    ImGui::SliderInt("physical layers", &layers, 1, 6);
    if (ImGui::IsItemDeactivatedAfterEdit()) ask("set:layers=" + std::to_string(layers));
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("layers of the device between a digital encoder and a digital readout");
    int digital = lab_.network_.digital;
    ImGui::SetNextItemWidth(-150);
    ImGui::SliderInt("digital layers", &digital, 0, 4);
    if (ImGui::IsItemDeactivatedAfterEdit()) ask("set:digital=" + std::to_string(digital));
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("hidden layers computed digitally (affine + tanh) between the device and the "
                        "readout: a hybrid physical-digital network");
    if (lab_.network_.digital > 0) {
      int width = lab_.network_.width;
      ImGui::SetNextItemWidth(-150);
      ImGui::SliderInt("digital width", &width, 2, 64);
      if (ImGui::IsItemDeactivatedAfterEdit()) ask("set:digital_width=" + std::to_string(width));
    }
  }
  if (lab_.control_visible("settings")) {
    int batch = lab_.settings_.experiment.train.batch_size;
    ImGui::SetNextItemWidth(-150);
    ImGui::SliderInt("batch size", &batch, 1, 256, "%d", ImGuiSliderFlags_Logarithmic);
    if (ImGui::IsItemDeactivatedAfterEdit()) ask("set:batch=" + std::to_string(batch));
    float lr = float(lab_.settings_.experiment.train.optimizer.learning_rate);
    ImGui::SetNextItemWidth(-150);
    if (ImGui::SliderFloat("learning rate", &lr, 0.001f, 0.1f, "%.3f", ImGuiSliderFlags_Logarithmic))
      ask("set:lr=" + std::to_string(lr));
    int epochs = lab_.settings_.epochs;
    ImGui::SetNextItemWidth(-150);
    if (ImGui::SliderInt("stop after epochs", &epochs, 0, 200, epochs ? "%d" : "never"))
      ask("set:epochs=" + std::to_string(epochs));
    ImGui::SetNextItemWidth(-150);
    int speed = lab_.settings_.steps_per_frame;
    if (ImGui::SliderInt("steps/frame", &speed, 1, 50)) ask("set:steps_per_frame=" + std::to_string(speed));
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("training speed; the page stays responsive either way");
  }
}

void LabView::draw_share() {
  // Keep and share.
  if (lab_.control_visible("share")) {
    ImGui::Spacing();
    ImGui::Separator();
    ImGui::TextUnformatted("Keep and share");
    const float third = (ImGui::GetContentRegionAvail().x - 2 * ImGui::GetStyle().ItemSpacing.x) / 3;
    if (ImGui::Button("curves.csv", ImVec2(third, 0))) ask("export:curves");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("accuracy and loss of every method, on device and twin");
    ImGui::SameLine();
    if (ImGui::Button("parameters", ImVec2(third, 0))) ask("export:parameters");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("the trained parameters of every method (JSON)");
    ImGui::SameLine();
    if (ImGui::Button("experiment", ImVec2(third, 0))) ask("export:experiment");
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("this setup as an experiment file: open it here again, or train it with the command line");
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextDisabled("The page's address holds this setup: copy it to share. Drop an experiment "
                        "(.json) or your own data (.csv, a header row and a label column) on the "
                        "window to open it.");
    ImGui::PopTextWrapPos();
    if (lab_.open_file_ && ImGui::Button("Open a file...", ImVec2(-1, 0))) lab_.open_file_();
  }
}

void LabView::draw_results() {
  // One tab per question; a command (view:...) can switch them, for tests and lessons.
  struct Tab {
    const char* id;
    const char* label;
    void (LabView::*draw)();
  };
  static const Tab kTabs[] = {{"race", "Race", &LabView::draw_race},
                              {"data", "Data", &LabView::draw_data},
                              {"slow", "PAT in slow motion", &LabView::draw_slow_motion},
                              {"inside", "Inside the training", &LabView::draw_inside},
                              {"explorer", "Device explorer", &LabView::draw_explorer},
                              {"robustness", "Robustness map", &LabView::draw_robustness}};
  if (ImGui::BeginTabBar("views")) {
    bool reached = false;
    const bool all_tabs = lab_.control_visible("views");
    for (const Tab& t : kTabs) {
      if (!all_tabs && lab_.view_ != t.id) continue;  // teacher mode: the step's view only
      const bool wanted = lab_.select_view_ && lab_.view_ == t.id;
      if (ImGui::BeginTabItem(t.label, nullptr, wanted ? ImGuiTabItemFlags_SetSelected : 0)) {
        if (!lab_.select_view_) lab_.view_ = t.id;  // the user clicked it
        reached |= wanted;
        (this->*t.draw)();
        ImGui::EndTabItem();
      }
    }
    if (reached) lab_.select_view_ = false;
    ImGui::EndTabBar();
  }
}

}  // namespace patlab
