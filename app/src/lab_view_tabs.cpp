// The lab's views, one per tab of the results (LabView::draw_results picks one).
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

namespace {
std::string class_name(const DataPack* pack, int c) {
  if (pack && c >= 0 && c < int(pack->info.class_names.size())) return pack->info.class_names[size_t(c)];
  if (!pack && c >= 0 && c < 7) return vowel_word(c);  // the only unpacked set that is not 2-D
  return std::to_string(c);
}
// One sample as a tile: its pixels when the features are a w x h image, else a bar per
// feature; values scaled from [lo, hi] (the set's range) to dark..bright.
void draw_sample_tile(ImDrawList* dl, ImVec2 a, float tile, const Dataset& d, int i, int w, int h,
                      double lo, double hi) {
  dl->AddRectFilled(a, ImVec2(a.x + tile, a.y + tile), IM_COL32(12, 13, 17, 255));
  const auto level = [&](double v) { return float(std::clamp((v - lo) / std::max(hi - lo, 1e-12), 0.0, 1.0)); };
  if (w * h == d.features()) {
    const float px = tile / float(std::max(w, h));
    for (int r = 0; r < h; ++r)
      for (int c = 0; c < w; ++c) {
        const int g = int(255 * level(d.x(r * w + c, i)));
        if (g < 8) continue;
        dl->AddRectFilled(ImVec2(a.x + float(c) * px, a.y + float(r) * px),
                          ImVec2(a.x + float(c + 1) * px, a.y + float(r + 1) * px), IM_COL32(g, g, g, 255));
      }
  } else {
    const float bw = tile / float(d.features());
    for (int f = 0; f < d.features(); ++f)
      dl->AddRectFilled(ImVec2(a.x + float(f) * bw, a.y + tile - level(d.x(f, i)) * tile),
                        ImVec2(a.x + float(f + 1) * bw, a.y + tile), palette::twin);
  }
}
}  // namespace

void LabView::draw_race() {
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float top_h = std::max(160.0f, avail.y * 0.45f);
  const float half_w = (avail.x - gap) * 0.5f;
  const bool race = lab_.lanes_.size() > 1;

  // In a race the curves compare methods, all measured on the device (the twin's opinion of
  // in-silico training is not in question); alone, they compare device and twin.
  std::vector<Series> acc_series, loss_series;
  for (const Lane& lane : lab_.lanes_) {
    const ImU32 color = method_color(lane.method);
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
  acc.reference_y = 1.0f / float(lab_.train_.num_classes);
  acc.reference_label = "chance";
  acc.x_max = float(std::max(10LL, lab_.steps()));  // whole steps from the start, not 0 to 1
  line_plot("Test accuracy", ImVec2(half_w, top_h), acc_series, acc);
  ImGui::SameLine();
  LinePlotOptions loss;
  loss.y_format = "%.2f";
  loss.y_min = loss.y_max = 0.0f;  // fitted: a diverging method must stay visible
  loss.x_max = acc.x_max;
  line_plot("Test loss (cross-entropy)", ImVec2(half_w, top_h), loss_series, loss);

  const float bottom_h = ImGui::GetContentRegionAvail().y;
  const float n = float(lab_.lanes_.size());
  const float lane_w = (avail.x - gap * (n - 1)) / n;
  if (lab_.train_.features() != 2) {
    // Not a plane to map: show what the device makes of real test samples instead.
    for (size_t i = 0; i < lab_.lanes_.size(); ++i) {
      const std::string title = race ? "Trained by " + std::string(method_label(lab_.lanes_[i].method)) +
                                           ": the device's answers on test samples"
                                     : std::string("The device's answers on test samples");
      draw_samples(title.c_str(), ImVec2(lane_w, bottom_h), lab_.lanes_[i]);
      if (i + 1 < lab_.lanes_.size()) ImGui::SameLine();
    }
  } else if (race) {
    for (size_t i = 0; i < lab_.lanes_.size(); ++i) {
      const std::string title = "Trained by " + std::string(method_label(lab_.lanes_[i].method)) +
                                ": what the device does";
      class_map(title.c_str(), ImVec2(lane_w, bottom_h), lab_.test_, lab_.lanes_[i].map_device, Lab::kMapGrid,
                Lab::kMapLo, Lab::kMapHi);
      if (i + 1 < lab_.lanes_.size()) ImGui::SameLine();
    }
  } else {
    const Lane& lane = lab_.lanes_.front();
    class_map("What the device does (test points over its decision map)", ImVec2(half_w, bottom_h),
              lab_.test_, lane.map_device, Lab::kMapGrid, Lab::kMapLo, Lab::kMapHi);
    ImGui::SameLine();
    class_map("What the twin predicts it does", ImVec2(half_w, bottom_h), lab_.test_, lane.map_twin,
              Lab::kMapGrid, Lab::kMapLo, Lab::kMapHi);
  }
}

void LabView::draw_data() {
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float left_w = std::min(avail.x * 0.55f, avail.y + 40.0f);
  const auto it = lab_.packs_.find(lab_.settings_.experiment.data.name);
  const DataPack* pack = it == lab_.packs_.end() ? nullptr : it->second.get();
  if (lab_.train_.features() == 2) {
    draw_scatter_editor(ImVec2(left_w, avail.y));
  } else {
    // Training samples with their true labels.
    ImGui::BeginChild("samples", ImVec2(left_w, avail.y), false, ImGuiWindowFlags_NoScrollbar);
    ImGui::TextUnformatted("Training samples and their labels");
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p0 = ImGui::GetCursorScreenPos(), room = ImGui::GetContentRegionAvail();
    const int w = pack ? pack->info.image_width : 0, h = pack ? pack->info.image_height : 0;
    const float tile = 56, cell_w = tile + 8, cell_h = tile + ImGui::GetTextLineHeight() + 8;
    const int cols = std::max(1, int(room.x / cell_w)), rows = std::max(1, int(room.y / cell_h));
    const double lo = lab_.train_.x.minCoeff(), hi = lab_.train_.x.maxCoeff();
    for (int i = 0; i < std::min(lab_.train_.size(), cols * rows); ++i) {
      const ImVec2 a(p0.x + float(i % cols) * cell_w, p0.y + float(i / cols) * cell_h);
      draw_sample_tile(dl, a, tile, lab_.train_, i, w, h, lo, hi);
      dl->AddText(ImVec2(a.x, a.y + tile + 2), palette::text_dim, class_name(pack, lab_.train_.y(i)).c_str());
    }
    ImGui::EndChild();
  }
  ImGui::SameLine(0, gap);
  ImGui::BeginChild("data settings", ImVec2(0, avail.y), false);
  // Class balance of the two parts.
  std::vector<std::string> names;
  for (int c = 0; c < lab_.train_.num_classes; ++c) names.push_back(class_name(pack, c));
  const std::vector<int> tr = class_counts(lab_.train_), te = class_counts(lab_.test_);
  BarChartOptions o;
  o.y_label = "samples";
  o.value_labels = lab_.train_.num_classes <= 10;
  bar_chart("Class balance", ImVec2(0, ImGui::GetContentRegionAvail().y * 0.5f), names,
            {{"train", std::vector<double>(tr.begin(), tr.end()), palette::series_colors[0]},
             {"test", std::vector<double>(te.begin(), te.end()), palette::series_colors[2]}}, o);
  const bool generated = !pack && lab_.settings_.experiment.data.name != "csv";
  ImGui::PushTextWrapPos(0.0f);
  if (generated) {
    ImGui::TextUnformatted("Generated from a seed: change it and see the same shapes drawn again.");
    float noise = float(lab_.settings_.experiment.data.noise);
    ImGui::SetNextItemWidth(-120);
    ImGui::SliderFloat("noise", &noise, 0.0f, 0.5f, "%.2f");
    if (ImGui::IsItemDeactivatedAfterEdit()) ask("set:noise=" + std::to_string(noise));
    int n_train = lab_.settings_.experiment.data.train_size, n_test = lab_.settings_.experiment.data.test_size;
    ImGui::SetNextItemWidth(-120);
    ImGui::SliderInt("train samples", &n_train, 20, 2000);
    if (ImGui::IsItemDeactivatedAfterEdit()) ask("set:train_size=" + std::to_string(n_train));
    ImGui::SetNextItemWidth(-120);
    ImGui::SliderInt("test samples", &n_test, 20, 2000);
    if (ImGui::IsItemDeactivatedAfterEdit()) ask("set:test_size=" + std::to_string(n_test));
    int seed = int(lab_.settings_.experiment.data.seed);
    ImGui::SetNextItemWidth(-120);
    if (ImGui::InputInt("seed", &seed) && seed >= 0) ask("set:seed=" + std::to_string(seed));
  } else if (lab_.settings_.experiment.data.name == "drawn") {
    ImGui::TextWrapped("Drawn by you: %d points. A quarter of each class is held out for testing "
                       "(seeded), so each new point may land in either part.", pack->train.size());
  } else if (pack) {
    ImGui::Text("%s", pack->info.title.c_str());
    ImGui::TextDisabled("Source: %s", pack->info.source.c_str());
    ImGui::TextDisabled("Licence: %s", pack->info.licence.c_str());
    ImGui::TextDisabled("Split: %d train, %d test (stratified, seeded); the curves measure the first %d test samples.",
                        pack->train.size(), pack->test.size(), lab_.test_.size());
  }
  ImGui::PopTextWrapPos();
  ImGui::EndChild();
}

void LabView::draw_scatter_editor(ImVec2 size) {
  static int pen = 0;  // the class a click adds
  ImGui::BeginChild("scatter", size, false, ImGuiWindowFlags_NoScrollbar);
  ImGui::TextUnformatted("Click to add a point of the chosen class, right-click to remove one");
  const int classes = std::min(lab_.train_.num_classes + 1, 4);
  for (int c = 0; c < classes; ++c) {
    if (c) ImGui::SameLine();
    ImGui::PushStyleColor(ImGuiCol_CheckMark, ImGui::ColorConvertU32ToFloat4(palette::class_colors[c]));
    ImGui::RadioButton(c < lab_.train_.num_classes ? ("class " + std::to_string(c)).c_str() : "a new class", &pen, c);
    ImGui::PopStyleColor();
  }
  pen = std::min(pen, classes - 1);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos(), room = ImGui::GetContentRegionAvail();
  const float side = std::max(40.0f, std::min(room.x, room.y) - 4);
  const ImVec2 a(p0.x, p0.y), b(a.x + side, a.y + side);
  dl->AddRectFilled(a, b, IM_COL32(30, 32, 40, 255));
  auto to_screen = [&](double x, double y) {
    return ImVec2(float(a.x + (x - Lab::kMapLo) / (Lab::kMapHi - Lab::kMapLo) * side), float(b.y - (y - Lab::kMapLo) / (Lab::kMapHi - Lab::kMapLo) * side));
  };
  for (double t = -1.0; t <= 1.0; t += 1.0) {  // axes at -1, 0, 1
    dl->AddLine(to_screen(t, Lab::kMapLo), to_screen(t, Lab::kMapHi), palette::grid);
    dl->AddLine(to_screen(Lab::kMapLo, t), to_screen(Lab::kMapHi, t), palette::grid);
  }
  for (const Dataset* d : {&lab_.train_, &lab_.test_})
    for (int i = 0; i < d->size(); ++i) {
      const ImU32 col = palette::class_colors[d->y(i) % 4];
      if (d == &lab_.train_) dl->AddCircleFilled(to_screen(d->x(0, i), d->x(1, i)), 3.0f, col);
      else dl->AddCircle(to_screen(d->x(0, i), d->x(1, i)), 3.5f, col);
    }
  ImGui::InvisibleButton("canvas", ImVec2(side, side), ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  rect_of_last_item(lab_.scatter_rect_);
  const ImVec2 m = ImGui::GetIO().MousePos;
  const double x = Lab::kMapLo + (m.x - a.x) / side * (Lab::kMapHi - Lab::kMapLo), y = Lab::kMapLo + (b.y - m.y) / side * (Lab::kMapHi - Lab::kMapLo);
  char buf[96];
  if (ImGui::IsItemClicked(ImGuiMouseButton_Left)) {
    std::snprintf(buf, sizeof buf, "point:add=%.4f,%.4f,%d", x, y, pen);
    ask(buf);
  } else if (ImGui::IsItemClicked(ImGuiMouseButton_Right)) {
    std::snprintf(buf, sizeof buf, "point:remove=%.4f,%.4f", x, y);
    ask(buf);
  }
  ImGui::TextDisabled("filled: training points; rings: test points");
  ImGui::EndChild();
}

void LabView::draw_slow_motion() {
  const SlowMotion& sm = lab_.slow_;
  static const char* kPhase[] = {
      "Press the button to run PAT's three phases one at a time, on the first test samples.",
      "Phase 1, forward on the device: the samples go through the real device (orange), layer "
      "by layer. At every physical layer the twin is also asked what it would output for the "
      "same input (blue): it is a little wrong.",
      "Phase 2, backward through the twin at the device's activations: the loss gradient flows "
      "back through the twin's Jacobians, evaluated where the device really was. Compare it "
      "(orange) with the true gradient (green, the exact physics at the same point) and with "
      "in-silico's (blue, taken where the twin believes the device was): the cosines say how "
      "well each points the right way. Raise the mismatch and try again.",
      ("Phase 3, update: every method takes its step (a real training step). Press again for "
       "the next batch.")};
  static const char* kButton[] = {"Phase 1: forward on the device", "Phase 2: backward through the twin",
                                  "Phase 3: update the parameters", "Phase 1 of the next step"};
  ImGui::PushTextWrapPos(0.0f);
  ImGui::TextUnformatted(kPhase[sm.phase]);
  ImGui::PopTextWrapPos();
  if (ImGui::Button(kButton[sm.phase], ImVec2(300, 30))) ask("phase");
  if (sm.phase >= 1) {
    ImGui::SameLine();
    ImGui::Text("loss on these %d samples: %.3f", sm.samples, sm.loss);
  }
  if (sm.phase >= 2 && sm.loss < 0.01) {
    // A trained network has next to nothing left to learn on these samples: the true gradient
    // is tiny and the cosines are those of noise. Say so rather than let them mislead.
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextColored(ImVec4(1.0f, 0.8f, 0.4f, 1),
                       "These samples are already classified with near certainty: the true "
                       "gradient is almost zero, so the cosines mean little. Press Reset to see a "
                       "step that matters.");
    ImGui::PopTextWrapPos();
  }
  if (sm.phase == 0) return;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const int layers = int(sm.device_out.size());
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float w = (avail.x - gap * float(layers - 1)) / float(std::max(layers, 1));
  const float h = (avail.y - ImGui::GetStyle().ItemSpacing.y) / 2.0f;
  for (int l = 0; l < layers; ++l) {
    std::vector<std::string> labels;
    for (int k = 0; k < sm.device_out[size_t(l)].size(); ++k) labels.push_back(std::to_string(k));
    const Vec& d = sm.device_out[size_t(l)];
    const Vec& t = sm.twin_out[size_t(l)];
    std::vector<BarSeries> bars = {{"device", std::vector<double>(d.data(), d.data() + d.size()), palette::device},
                                   {"twin", std::vector<double>(t.data(), t.data() + t.size()), palette::twin}};
    char title[96];
    std::snprintf(title, sizeof title, "Layer %d out (twin off %.0f%%)", l + 1, 100 * sm.twin_gap[size_t(l)]);
    BarChartOptions o;
    o.y_label = "output";
    bar_chart(title, ImVec2(w, h), labels, bars, o);
    if (l + 1 < layers) ImGui::SameLine();
  }
  if (sm.phase < 2) return;
  for (int l = 0; l < layers; ++l) {
    const Vec& gp = sm.grad_pat[size_t(l)];
    const Vec& gt = sm.grad_true[size_t(l)];
    const Vec& gi = sm.grad_insilico[size_t(l)];
    // The largest-magnitude parameters only: a layer can have hundreds.
    std::vector<int> idx(size_t(gt.size()));
    for (int i = 0; i < gt.size(); ++i) idx[size_t(i)] = i;
    std::sort(idx.begin(), idx.end(), [&](int a, int b) { return std::abs(gt(a)) > std::abs(gt(b)); });
    idx.resize(std::min<size_t>(idx.size(), 12));
    std::sort(idx.begin(), idx.end());
    std::vector<std::string> labels;
    BarSeries truth{"true", {}, method_color(Method::Ideal)};
    char pat_label[48], ins_label[48];
    std::snprintf(pat_label, sizeof pat_label, "PAT %.2f", sm.cos_pat[size_t(l)]);
    std::snprintf(ins_label, sizeof ins_label, "in-silico %.2f", sm.cos_insilico[size_t(l)]);
    BarSeries pat{pat_label, {}, palette::device}, ins{ins_label, {}, palette::twin};
    for (int i : idx) {
      labels.push_back("p" + std::to_string(i));
      truth.values.push_back(gt(i));
      pat.values.push_back(gp(i));
      ins.values.push_back(gi(i));
    }
    char title[96];
    if (sm.phase == 3)
      std::snprintf(title, sizeof title, "Layer %d: moved by %.2g", l + 1, sm.update_norm[size_t(l)]);
    else
      std::snprintf(title, sizeof title, "Layer %d gradient, cos:", l + 1);
    BarChartOptions o;
    o.y_label = "d loss / d parameter";
    bar_chart(title, ImVec2(w, 0), labels, {truth, pat, ins}, o);
    if (l + 1 < layers) ImGui::SameLine();
  }
}

void LabView::draw_inside() {
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float half_w = (avail.x - gap) * 0.5f;
  const float row_h = std::max(150.0f, (avail.y - 2 * ImGui::GetStyle().ItemSpacing.y) / 2.0f);
  std::vector<Series> gap_series, align_series, query_series;
  for (const Lane& lane : lab_.lanes_) {
    const std::string name = method_label(lane.method);
    gap_series.push_back({name, &lane.step, &lane.twin_gap, method_color(lane.method)});
    align_series.push_back({name, &lane.step, &lane.alignment, method_color(lane.method)});
    query_series.push_back({name, &lane.step, &lane.queries, method_color(lane.method)});
  }
  // Why PAT wins, in two pictures: the twin is wrong about the device (left), yet PAT's
  // gradient, taken at the device's real activations, still points where the true one does.
  LinePlotOptions g;
  g.y_min = g.y_max = 0.0f;  // fit
  g.y_format = "%.3f";
  g.y_label = "relative error";
  line_plot("Twin gap: how wrong the twin is about the device's outputs", ImVec2(half_w, row_h), gap_series, g);
  ImGui::SameLine();
  LinePlotOptions a;
  a.y_min = -1.0f;
  a.y_max = 1.0f;
  a.y_format = "%.2f";
  a.y_label = "cosine";
  a.reference_y = 0.0f;
  a.reference_label = "unrelated";
  line_plot("Gradient alignment with the true gradient", ImVec2(half_w, row_h), align_series, a);

  LinePlotOptions q;
  q.y_min = q.y_max = 0.0f;
  q.y_format = "%.0f";
  q.y_label = "queries";
  const CostModel& cost = lab_.system_info().cost;
  const std::string title = "Device queries (training and measuring)";
  ImGui::BeginGroup();
  line_plot(title.c_str(), ImVec2(half_w, row_h - ImGui::GetTextLineHeightWithSpacing() * lab_.lanes_.size()), query_series, q);
  for (const Lane& lane : lab_.lanes_) {
    const double n = double(lane.net.device_queries());
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(method_color(lane.method)),
                       "%-10s %.0f queries: %.3g s and %.3g J on a real %s", method_label(lane.method), n,
                       n * cost.latency_s, n * cost.energy_j, lab_.system_info().name.c_str());
  }
  ImGui::EndGroup();
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("cost model: %s", cost.source.c_str());
  ImGui::SameLine();
  // What the first method's network gets right and wrong, measured on the device.
  const Lane& lane = lab_.lanes_.front();
  Mat counts = Mat::Zero(lab_.train_.num_classes, lab_.train_.num_classes);
  for (Eigen::Index i = 0; i < lane.last_device.predicted.size() && i < lab_.test_.y.size(); ++i)
    counts(lab_.test_.y(i), lane.last_device.predicted(i)) += 1;
  std::vector<std::string> names;
  const auto it = lab_.packs_.find(lab_.settings_.experiment.data.name);
  for (int c = 0; c < lab_.train_.num_classes; ++c)
    names.push_back(class_name(it == lab_.packs_.end() ? nullptr : it->second.get(), lab_.train_.features() == 2 ? -1 - c : c));
  if (lab_.train_.features() == 2)
    for (int c = 0; c < lab_.train_.num_classes; ++c) names[size_t(c)] = std::to_string(c);
  const std::string cm = "Confusion on the device, trained by " + std::string(method_label(lane.method));
  confusion_matrix(cm.c_str(), ImVec2(half_w, row_h), counts, names);
}

void LabView::draw_explorer() {
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const Explorer& e = lab_.explorer_;
  const PhysicalSystem& d = *lab_.lanes_.front().emulated.front();
  ImGui::PushTextWrapPos(0.0f);
  ImGui::TextDisabled("%s: one input channel swept across its range (the others at rest), one output "
                      "read, at the parameters %s has trained so far. Orange: the device (noise "
                      "and all); blue: what its twin predicts. Turn the knobs on the left and watch "
                      "them part.", lab_.system_info().name.c_str(), method_label(lab_.lanes_.front().method));
  for (const Lane& l : lab_.lanes_)
    if (l.on_device) {
      ImGui::TextColored(ImVec4(1.0f, 0.8f, 0.4f, 1), "This sweeps the emulator, not the connected device: "
                         "a sweep would take the serial line from training.");
      break;
    }
  ImGui::PopTextWrapPos();
  // Refit the twin from measurements: what it can learn leaves the residual, the rest stays.
  if (ImGui::Button("Fit the twin to measurements")) ask("twin:fit");
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("measures the device at %d random inputs and parameters per layer and fits the twin to them:\n"
                      "a physics twin calibrates its constants, any other learns a small correction.\n"
                      "Every method then uses the fitted twin; Reset brings the textbook twin back.", 640);
  ImGui::SameLine();
  if (lab_.twin_fit_.fitted)
    ImGui::TextColored(ImVec4(0.5f, 0.85f, 0.6f, 1), "refitted (%s): twin error %.3f -> %.3f on held-out measurements",
                       lab_.twin_fit_.kind.c_str(), lab_.twin_fit_.error_before, lab_.twin_fit_.error_after);
  else
    ImGui::TextDisabled("the textbook twin, as written down");
  int in = e.input_channel, out = e.output_channel;
  ImGui::SetNextItemWidth(220);
  if (ImGui::SliderInt("input channel", &in, 0, d.input_size() - 1)) ask("explore:in=" + std::to_string(in));
  ImGui::SameLine(0, 30);
  ImGui::SetNextItemWidth(220);
  if (ImGui::SliderInt("output channel", &out, 0, d.output_size() - 1)) ask("explore:out=" + std::to_string(out));
  const float h = ImGui::GetContentRegionAvail().y;
  std::vector<Series> io = {{"device", &e.drive, &e.device, palette::device},
                            {"twin", &e.drive, &e.twin, palette::twin}};
  LinePlotOptions o;
  o.y_min = o.y_max = 0.0f;
  o.y_format = "%.3f";
  o.x_min = e.drive.empty() ? 0.0f : e.drive.front();
  o.x_max = e.drive.empty() ? 1.0f : e.drive.back();
  o.x_label = "input drive";
  o.y_label = "output";
  line_plot("What the device does, and what the twin predicts", ImVec2(avail.x, h * 0.62f), io, o);
  std::vector<Series> res = {{"device - twin", &e.drive, &e.residual, IM_COL32(235, 90, 120, 255)}};
  o.y_label = "residual";
  o.reference_y = 0.0f;
  o.reference_label = nullptr;
  line_plot("Residual: the part of reality the twin does not know", ImVec2(avail.x, 0), res, o);
}

void LabView::draw_robustness() {
  const RobustnessMap& m = lab_.robustness_;
  ImGui::PushTextWrapPos(0.0f);
  ImGui::TextDisabled("Where does each method still work? Final accuracy on the device after %d steps, "
                      "for a fresh network per cell, over a grid of noise and twin mismatch of the "
                      "current system.", m.steps_per_cell);
  ImGui::PopTextWrapPos();
  if (m.running) {
    if (ImGui::Button("Stop", ImVec2(120, 0))) ask("robustness:stop");
    ImGui::SameLine();
    char label[64];
    std::snprintf(label, sizeof label, "%d of %d networks trained", m.done, m.total);
    ImGui::ProgressBar(m.total ? float(m.done) / float(m.total) : 0.0f, ImVec2(-1, 0), label);
  } else if (ImGui::Button(m.total ? "Compute again" : "Compute the map", ImVec2(180, 0))) {
    ask("robustness:start");
  }
  if (m.accuracy.empty()) return;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float w = (avail.x - gap * float(m.accuracy.size() - 1)) / float(m.accuracy.size());
  const SystemInfo& info = find_system(m.system).info;
  auto label_of = [&](const std::string& key) {
    for (const KnobInfo& k : info.knobs)
      if (k.key == key) return k.label + (k.unit.empty() ? "" : " (" + k.unit + ")");
    return key;
  };
  const std::string x_label = label_of(m.mismatch_key), y_label = label_of(m.noise_key);
  HeatMapOptions o;
  o.x_label = x_label.c_str();
  o.y_label = y_label.c_str();
  for (double v : m.mismatch) o.x_ticks.push_back([&] { char b[16]; std::snprintf(b, sizeof b, "%.3g", v); return std::string(b); }());
  for (double v : m.noise) o.y_ticks.push_back([&] { char b[16]; std::snprintf(b, sizeof b, "%.3g", v); return std::string(b); }());
  o.value_label = "accuracy";
  o.cell_format = "%.2f";
  for (size_t i = 0; i < m.accuracy.size(); ++i) {
    const std::string title = std::string(method_label(m.methods[i])) + ": device accuracy";
    heat_map(title.c_str(), ImVec2(w, avail.y), m.accuracy[i], o);
    if (i + 1 < m.accuracy.size()) ImGui::SameLine();
  }
}

void LabView::draw_samples(const char* title, ImVec2 size, const Lane& lane) const {
  ImGui::BeginChild(title, size, false, ImGuiWindowFlags_NoScrollbar);
  ImGui::TextUnformatted(title);
  const auto it = lab_.packs_.find(lab_.settings_.experiment.data.name);
  const DataPack* pack = it == lab_.packs_.end() ? nullptr : it->second.get();
  const Labels& predicted = lane.last_device.predicted;
  const ImVec2 p0 = ImGui::GetCursorScreenPos(), avail = ImGui::GetContentRegionAvail();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const int w = pack ? pack->info.image_width : 0, h = pack ? pack->info.image_height : 0;
  const float line = ImGui::GetTextLineHeight();
  // Tiles: the image (or, for feature vectors, a bar per feature), the device's answer below,
  // framed green when right and red when wrong.
  const float tile = 64.0f, pad = 10.0f, cell_w = tile + pad, cell_h = tile + line + pad;
  const int cols = std::max(1, int(avail.x / cell_w)), rows = std::max(1, int(avail.y / cell_h));
  const int n = std::min(lab_.test_.size(), cols * rows);
  const double lo = lab_.test_.x.size() ? lab_.test_.x.minCoeff() : 0.0, hi = lab_.test_.x.size() ? lab_.test_.x.maxCoeff() : 1.0;
  for (int i = 0; i < n; ++i) {
    const ImVec2 a(p0.x + (i % cols) * cell_w, p0.y + (i / cols) * cell_h);
    const ImVec2 b(a.x + tile, a.y + tile);
    draw_sample_tile(dl, a, tile, lab_.test_, i, w, h, lo, hi);
    if (i < predicted.size()) {
      const bool right = predicted(i) == lab_.test_.y(i);
      const ImU32 frame = right ? IM_COL32(64, 200, 120, 255) : IM_COL32(235, 80, 90, 255);
      dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), frame, 0.0f, 0, 2.0f);
      const std::string text = class_name(pack, predicted(i)) + (right ? "" : " (" + class_name(pack, lab_.test_.y(i)) + ")");
      dl->PushClipRect(ImVec2(a.x, b.y), ImVec2(a.x + cell_w - 2, b.y + line + 2), true);
      dl->AddText(ImVec2(a.x, b.y + 2), frame, text.c_str());
      dl->PopClipRect();
    }
  }
  ImGui::EndChild();
}

}  // namespace patlab
