// Bar charts (plot.h: bar_chart): grouped bars, one group per category.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "patlab/app/plot.h"
#include "patlab/app/style.h"
#include "plot_draw.h"

namespace patlab {

using namespace plot_detail;

namespace {

void draw_bar_chart(ImVec2 p0, ImVec2 p1, const std::vector<std::string>& labels,
                    const std::vector<BarSeries>& series, const BarChartOptions& o) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float line_h = ImGui::GetTextLineHeight();
  size_t n_cat = labels.size();
  for (const BarSeries& s : series) n_cat = std::max(n_cat, s.values.size());
  if (n_cat == 0 || series.empty()) return no_data(dl, p0, p1);
  auto value = [&](size_t k, size_t i) {
    return i < series[k].values.size() ? series[k].values[i] : kNaN;
  };
  auto label = [&](size_t i) { return i < labels.size() ? labels[i] : std::to_string(i); };

  // y range: given, or from min(0, smallest) to max(0, largest), widened away from 0.
  double y_lo = o.y_min, y_hi = o.y_max;
  if (std::isfinite(y_lo) && std::isfinite(y_hi) && y_lo != y_hi) {
    if (y_lo > y_hi) std::swap(y_lo, y_hi);
  } else {
    double dmin = 0, dmax = 0;
    for (size_t k = 0; k < series.size(); ++k)
      for (size_t i = 0; i < n_cat; ++i)
        if (std::isfinite(value(k, i))) {  // clamped: the span and margin must not overflow
          dmin = std::min(dmin, std::max(value(k, i), -1e300));
          dmax = std::max(dmax, std::min(value(k, i), 1e300));
        }
    if (dmin == dmax) dmax = 1;
    const double pad = (dmax - dmin) * 0.08;
    y_lo = dmin < 0 ? dmin - pad : 0.0;
    y_hi = dmax > 0 ? dmax + pad : 0.0;
  }

  // Legend on the title line, right-aligned, when it fits there; else none (the tooltip names
  // the series anyway).
  bool legend = false;
  for (const BarSeries& s : series) legend = legend || (o.legend && !s.label.empty());
  if (legend) {
    float w = 0;
    for (const BarSeries& s : series)
      if (!s.label.empty()) w += 16 + text_width(s.label) + 12;
    const ImVec2 title_min = ImGui::GetItemRectMin(), title_max = ImGui::GetItemRectMax();
    float x = p1.x - w;
    if (x > title_max.x + 12) {
      for (size_t k = 0; k < series.size(); ++k) {
        if (series[k].label.empty()) continue;
        const float y = title_min.y + line_h * 0.5f;
        dl->AddRectFilled(ImVec2(x, y - 5), ImVec2(x + 10, y + 5),
                          series_color(series[k].color, k));
        dl->AddText(ImVec2(x + 16, title_min.y), palette::text, series[k].label.c_str());
        x += 16 + text_width(series[k].label) + 12;
      }
    }
  }

  const float bottom = line_h + 5;
  ImVec2 a(p0.x, p0.y + line_h * 0.5f), b(p1.x - 4, p1.y - bottom);
  if (b.y - a.y < kMinSide) return;
  const Ticks yt = make_ticks(y_lo, y_hi, false, std::max(2, int((b.y - a.y) / (line_h * 1.8f))));
  a.x += yt.widest + 8 + (o.y_label ? line_h + 4 : 0);
  if (b.x - a.x < kMinSide) return;
  const Axis ya{y_lo, y_hi, b.y, a.y, false};
  draw_y_axis(dl, ya, yt, a, b);
  if (o.y_label)
    add_text_up(dl, ImVec2(p0.x, (a.y + b.y + ImGui::CalcTextSize(o.y_label).x) * 0.5f),
                palette::text_dim, o.y_label);

  const float group = (b.x - a.x) / float(n_cat);
  // The hovered category, shaded behind its bars.
  const bool hovered = o.hover && ImGui::IsWindowHovered() && ImGui::IsMouseHoveringRect(a, b);
  const size_t hovered_cat =
      size_t(std::clamp(int((ImGui::GetIO().MousePos.x - a.x) / group), 0, int(n_cat) - 1));
  if (hovered)
    dl->AddRectFilled(ImVec2(a.x + float(hovered_cat) * group, a.y),
                      ImVec2(a.x + float(hovered_cat + 1) * group, b.y), palette::grid);
  const float bar = group * 0.8f / float(series.size());
  const float gap = bar >= 4 ? 1.0f : 0.0f;
  const double base = std::clamp(0.0, y_lo, y_hi);
  const float y0 = float(ya.to_screen(base));
  char buf[64];
  for (size_t i = 0; i < n_cat; ++i)
    for (size_t k = 0; k < series.size(); ++k) {
      const double v = value(k, i);
      if (!std::isfinite(v)) continue;
      const float x0 = a.x + float(i) * group + group * 0.1f + float(k) * bar;
      // Clamping to the range is exact clipping for a rectangle.
      const float y1 = float(ya.to_screen(std::clamp(v, y_lo, y_hi)));
      if (y1 != y0)
        dl->AddRectFilled(ImVec2(x0, std::min(y0, y1)), ImVec2(x0 + bar - gap, std::max(y0, y1)),
                          series_color(series[k].color, k));
      if (o.value_labels) {
        std::snprintf(buf, sizeof buf, o.value_format ? o.value_format : "%g", v);
        const ImVec2 ts = ImGui::CalcTextSize(buf);
        const bool up = v >= base;
        float ty = up ? y1 - ts.y - 1 : y1 + 1;  // beyond the bar's end
        ImU32 col = palette::text_dim;
        if (ty < a.y || ty + ts.y > b.y) {  // no room there: inside the end of the bar
          ty = up ? y1 + 1 : y1 - ts.y - 1;
          col = text_on(series_color(series[k].color, k));
        }
        if (ts.x <= bar + 4 && ty >= a.y && ty + ts.y <= b.y && std::fabs(y1 - y0) >= ts.y + 2)
          dl->AddText(ImVec2(x0 + (bar - gap - ts.x) * 0.5f, ty), col, buf);
      }
    }
  dl->AddLine(ImVec2(a.x, a.y), ImVec2(a.x, b.y), palette::axis);
  dl->AddLine(ImVec2(a.x, y0), ImVec2(b.x, y0), palette::axis);
  float label_w = 0;
  for (size_t i = 0; i < n_cat; ++i) label_w = std::max(label_w, text_width(label(i)));
  for (size_t i = 0, k = size_t(label_stride(group, label_w)); i < n_cat; i += k) {
    const std::string t = label(i);
    dl->AddText(ImVec2(a.x + (float(i) + 0.5f) * group - text_width(t) * 0.5f, b.y + 3),
                palette::text_dim, t.c_str());
  }

  if (hovered) {
    const size_t i = hovered_cat;
    std::string text = label(i);
    for (size_t k = 0; k < series.size(); ++k)
      text += "\n" + (series[k].label.empty() ? std::string("value") : series[k].label) + ": " +
              (std::isfinite(value(k, i)) ? format(o.value_format, value(k, i)) : "-");
    ImGui::SetTooltip("%s", text.c_str());
  }
}

}  // namespace

void bar_chart(const char* title, ImVec2 size, const std::vector<std::string>& labels,
               const std::vector<BarSeries>& series, const BarChartOptions& o) {
  ImVec2 p0, p1;
  if (begin_panel(title, size, p0, p1)) draw_bar_chart(p0, p1, labels, series, o);
  ImGui::EndChild();
}

}  // namespace patlab
