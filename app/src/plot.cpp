#include "patlab/app/plot.h"

#include <algorithm>
#include <cstdio>

#include "patlab/app/style.h"

namespace patlab {

namespace {

ImU32 lerp_color(ImU32 a, ImU32 b, float t) {
  const ImVec4 ca = ImGui::ColorConvertU32ToFloat4(a), cb = ImGui::ColorConvertU32ToFloat4(b);
  return ImGui::GetColorU32(ImVec4(ca.x + (cb.x - ca.x) * t, ca.y + (cb.y - ca.y) * t,
                                   ca.z + (cb.z - ca.z) * t, ca.w + (cb.w - ca.w) * t));
}


// A child region with a title line; returns the plotting rectangle below the title.
void begin_panel(const char* title, ImVec2 size, ImVec2& p0, ImVec2& p1) {
  ImGui::BeginChild(title, size, false, ImGuiWindowFlags_NoScrollbar);
  ImGui::TextUnformatted(title);
  p0 = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  p1 = ImVec2(p0.x + avail.x, p0.y + avail.y);
}

}  // namespace

void line_plot(const char* title, ImVec2 size, const std::vector<Series>& series,
               const LinePlotOptions& o) {
  ImVec2 p0, p1;
  begin_panel(title, size, p0, p1);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float left = 40.0f, bottom = 20.0f;
  const ImVec2 a(p0.x + left, p0.y + 4), b(p1.x - 6, p1.y - bottom);
  float x_max = 1.0f;
  for (const Series& s : series)
    if (s.x && !s.x->empty()) x_max = std::max(x_max, s.x->back());
  auto to_screen = [&](float x, float y) {
    const float tx = x / x_max, ty = (y - o.y_min) / (o.y_max - o.y_min);
    return ImVec2(a.x + tx * (b.x - a.x), b.y - std::clamp(ty, 0.0f, 1.0f) * (b.y - a.y));
  };
  char buf[32];
  for (int i = 0; i <= 4; ++i) {  // horizontal grid with y labels
    const float y = o.y_min + (o.y_max - o.y_min) * i / 4.0f;
    const ImVec2 p = to_screen(0, y);
    dl->AddLine(ImVec2(a.x, p.y), ImVec2(b.x, p.y), palette::grid);
    std::snprintf(buf, sizeof buf, o.y_format, y);
    const ImVec2 ts = ImGui::CalcTextSize(buf);
    dl->AddText(ImVec2(a.x - ts.x - 6, p.y - ts.y * 0.5f), palette::text_dim, buf);
  }
  std::snprintf(buf, sizeof buf, "step %.0f", x_max);
  dl->AddText(ImVec2(b.x - ImGui::CalcTextSize(buf).x, b.y + 3), palette::text_dim, buf);
  dl->AddText(ImVec2(a.x, b.y + 3), palette::text_dim, "0");
  if (o.reference_y > o.y_min && o.reference_y < o.y_max) {
    const float y = to_screen(0, o.reference_y).y;
    for (float x = a.x; x < b.x; x += 8) dl->AddLine(ImVec2(x, y), ImVec2(std::min(x + 4, b.x), y), palette::chance);
    if (o.reference_label) dl->AddText(ImVec2(a.x + 4, y - ImGui::GetTextLineHeight() - 1), palette::chance, o.reference_label);
  }
  dl->PushClipRect(a, ImVec2(b.x + 1, b.y + 1), true);
  for (const Series& s : series) {
    if (!s.x || !s.y || s.x->size() < 2) continue;
    std::vector<ImVec2> pts(s.x->size());
    for (size_t i = 0; i < pts.size(); ++i) pts[i] = to_screen((*s.x)[i], (*s.y)[i]);
    dl->AddPolyline(pts.data(), int(pts.size()), s.color, ImDrawFlags_None, 2.0f);
  }
  dl->PopClipRect();
  // Legend, top right, with the latest value of each curve.
  float ly = a.y + 2;
  for (const Series& s : series) {
    if (s.y && !s.y->empty())
      std::snprintf(buf, sizeof buf, o.y_format, s.y->back());
    else
      std::snprintf(buf, sizeof buf, "-");
    const std::string text = s.label + "  " + buf;
    const float w = ImGui::CalcTextSize(text.c_str()).x;
    const ImVec2 lp(b.x - w - 8, ly);
    dl->AddRectFilled(ImVec2(lp.x - 22, ly + 7), ImVec2(lp.x - 6, ly + 10), s.color);
    dl->AddText(lp, IM_COL32(230, 232, 238, 255), text.c_str());
    ly += ImGui::GetTextLineHeight() + 2;
  }
  ImGui::EndChild();
}

void class_map(const char* title, ImVec2 size, const Dataset& data,
               const Mat& probs, int grid_n, float lo, float hi) {
  ImVec2 p0, p1;
  begin_panel(title, size, p0, p1);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float side = std::max(10.0f, std::min(p1.x - p0.x, p1.y - p0.y) - 4);
  const ImVec2 a(p0.x + (p1.x - p0.x - side) * 0.5f, p0.y + 2), b(a.x + side, a.y + side);
  auto to_screen = [&](float x, float y) {
    return ImVec2(a.x + (x - lo) / (hi - lo) * side, b.y - (y - lo) / (hi - lo) * side);
  };
  const ImU32 bg = IM_COL32(30, 32, 40, 255);
  dl->AddRectFilled(a, b, bg);
  if (probs.cols() == grid_n * grid_n) {
    const float cell = side / grid_n;
    // Opaque tints (class colour over the background): cells may overlap by half a pixel to
    // hide seams, and overlapping translucent cells would draw a visible grid.
    std::vector<ImVec4> tint;
    for (Eigen::Index k = 0; k < probs.rows(); ++k)
      tint.push_back(ImGui::ColorConvertU32ToFloat4(lerp_color(bg, palette::class_colors[k % 4], 0.35f)));
    for (int r = 0; r < grid_n; ++r)
      for (int c = 0; c < grid_n; ++c) {
        ImVec4 mix(0, 0, 0, 1);
        for (Eigen::Index k = 0; k < probs.rows(); ++k) {
          const float p = float(probs(k, r * grid_n + c));
          mix.x += p * tint[size_t(k)].x;
          mix.y += p * tint[size_t(k)].y;
          mix.z += p * tint[size_t(k)].z;
        }
        const ImVec2 q0(a.x + c * cell, b.y - (r + 1) * cell);
        dl->AddRectFilled(q0, ImVec2(q0.x + cell + 0.5f, q0.y + cell + 0.5f), ImGui::GetColorU32(mix));
      }
  }
  dl->PushClipRect(a, b, true);
  for (int i = 0; i < data.size(); ++i) {
    const ImVec2 p = to_screen(float(data.x(0, i)), float(data.x(1, i)));
    dl->AddCircleFilled(p, 3.2f, palette::class_colors[data.y[i] % 4]);
    dl->AddCircle(p, 3.2f, IM_COL32(0, 0, 0, 140));
  }
  dl->PopClipRect();
  dl->AddRect(a, b, palette::grid);
  ImGui::EndChild();
}

}  // namespace patlab
