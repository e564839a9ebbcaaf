// Line plots (plot.h: line_plot): curves over training steps, with axes, legend and hover readout.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "patlab/app/plot.h"
#include "patlab/app/style.h"
#include "plot_draw.h"

namespace patlab {

using namespace plot_detail;

namespace {

void draw_line_plot(ImVec2 p0, ImVec2 p1, const std::vector<Series>& series,
                    const LinePlotOptions& o) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float line_h = ImGui::GetTextLineHeight();
  auto length = [](const Series& s) {
    return s.x && s.y ? std::min(s.x->size(), s.y->size()) : size_t(0);
  };

  // x range: given, or from min(0, smallest x) to the largest.
  double x_lo = o.x_min, x_hi = o.x_max;
  if (!(std::isfinite(x_lo) && std::isfinite(x_hi) && x_lo != x_hi)) {
    double dmin = kInf, dmax = -kInf;
    for (const Series& s : series)
      for (size_t i = 0; i < length(s); ++i)
        if (std::isfinite((*s.x)[i])) {
          dmin = std::min(dmin, double((*s.x)[i]));
          dmax = std::max(dmax, double((*s.x)[i]));
        }
    x_lo = dmin <= dmax ? std::min(0.0, dmin) : 0.0;
    x_hi = dmin <= dmax ? dmax : 1.0;
    if (!(x_hi > x_lo)) x_hi = x_lo + 1.0;
  }
  if (x_lo > x_hi) std::swap(x_lo, x_hi);

  // y range: given, or fitted to the values within the x range.
  const bool log_y = o.log_y;
  double y_lo = o.y_min, y_hi = o.y_max;
  const bool fixed = std::isfinite(y_lo) && std::isfinite(y_hi) && y_lo != y_hi &&
                     (!log_y || std::min(y_lo, y_hi) > 0);
  if (fixed) {
    if (y_lo > y_hi) std::swap(y_lo, y_hi);
  } else {
    double dmin = kInf, dmax = -kInf;
    for (const Series& s : series)
      for (size_t i = 0; i < length(s); ++i) {
        const double x = (*s.x)[i], y = (*s.y)[i];
        if (!(x >= x_lo && x <= x_hi) || !std::isfinite(y) || (log_y && !(y > 0))) continue;
        dmin = std::min(dmin, y);
        dmax = std::max(dmax, y);
      }
    fit_range(dmin, dmax, log_y, 0.06, y_lo, y_hi);
  }

  // Layout: y tick labels on the left, x tick labels (and the x title) below; the top leaves
  // room for half a tick label.
  const float bottom = line_h + 4 + (o.x_label ? line_h + 2 : 0);
  ImVec2 a(p0.x, p0.y + line_h * 0.5f), b(p1.x - 6, p1.y - bottom);
  if (b.y - a.y < kMinSide) return;
  const Ticks yt = make_ticks(y_lo, y_hi, log_y, std::max(2, int((b.y - a.y) / (line_h * 1.8f))));
  a.x += yt.widest + 8 + (o.y_label ? line_h + 4 : 0);
  if (b.x - a.x < kMinSide) return;
  const Axis xa{x_lo, x_hi, a.x, b.x, false}, ya{y_lo, y_hi, b.y, a.y, log_y};
  const Ticks xt = make_x_ticks(x_lo, x_hi, false, b.x - a.x);

  // Grid, ticks and their labels, axes, titles.
  draw_y_axis(dl, ya, yt, a, b);
  float last_right = -kInf;
  for (size_t i = 0; i < xt.at.size(); ++i) {
    const float sx = float(xa.to_screen(xt.at[i]));
    if (!(sx >= a.x - 0.5f && sx <= b.x + 0.5f)) continue;
    dl->AddLine(ImVec2(sx, a.y), ImVec2(sx, b.y), palette::grid);
    const float w = text_width(xt.label[i]);
    const float lx = std::clamp(sx - w * 0.5f, p0.x, p1.x - w);
    if (lx < last_right + 6) continue;  // would touch its neighbour
    dl->AddText(ImVec2(lx, b.y + 3), palette::text_dim, xt.label[i].c_str());
    last_right = lx + w;
  }
  dl->AddLine(ImVec2(a.x, a.y), ImVec2(a.x, b.y), palette::axis);
  dl->AddLine(ImVec2(a.x, b.y), ImVec2(b.x, b.y), palette::axis);
  if (o.x_label)
    dl->AddText(ImVec2((a.x + b.x - ImGui::CalcTextSize(o.x_label).x) * 0.5f, b.y + 4 + line_h),
                palette::text_dim, o.x_label);
  if (o.y_label)
    add_text_up(dl, ImVec2(p0.x, (a.y + b.y + ImGui::CalcTextSize(o.y_label).x) * 0.5f),
                palette::text_dim, o.y_label);

  if (std::isfinite(o.reference_y) && (!log_y || o.reference_y > 0)) {
    const float y = float(ya.to_screen(o.reference_y));
    if (y > a.y && y < b.y) {
      for (float x = a.x; x < b.x; x += 8)
        dl->AddLine(ImVec2(x, y), ImVec2(std::min(x + 4, b.x), y), palette::chance);
      // At the right end: curves usually start at the reference (chance) and climb away.
      if (o.reference_label)
        dl->AddText(ImVec2(b.x - ImGui::CalcTextSize(o.reference_label).x - 4, y - line_h - 1),
                    palette::chance, o.reference_label);
    }
  }

  // Curves, clipped segment by segment to the rectangle: a value beyond the range leaves it
  // along its true slope. A lone finite point (between gaps) shows as a dot.
  auto screen = [&](const Series& s, size_t i, double& sx, double& sy) {
    sx = tame(xa.to_screen((*s.x)[i]));
    sy = tame(ya.to_screen((*s.y)[i]));
    return std::isfinite(xa.to_screen((*s.x)[i])) && std::isfinite(ya.to_screen((*s.y)[i]));
  };
  const float thickness = std::isfinite(o.thickness) ? std::clamp(o.thickness, 0.5f, 8.0f) : 2.0f;
  // The scissor backs up the geometry: nothing, not even an anti-aliased edge, strays further
  // than half a line beyond the rectangle (a curve along its top edge stays whole).
  const float spill = thickness * 0.5f + 1.0f;
  dl->PushClipRect(ImVec2(a.x - spill, a.y - spill), ImVec2(b.x + spill, b.y + spill), true);
  std::vector<ImVec2> run;
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const ImU32 col = series_color(s.color, k);
    auto flush = [&] {
      if (run.size() >= 2)
        dl->AddPolyline(run.data(), int(run.size()), col, ImDrawFlags_None, thickness);
      run.clear();
    };
    const size_t n = length(s);
    double px = 0, py = 0;
    size_t finite_run = 0;  // finite points in a row so far
    for (size_t i = 0; i <= n; ++i) {
      double sx = 0, sy = 0;
      const bool ok = i < n && screen(s, i, sx, sy);
      if (!ok) {  // a gap (or the end): finish the curve so far
        flush();
        if (finite_run == 1 && px >= a.x && px <= b.x && py >= a.y && py <= b.y)
          dl->AddCircleFilled(ImVec2(float(px), float(py)), thickness, col);
        finite_run = 0;
        continue;
      }
      if (finite_run++ > 0) {
        double cx0 = px, cy0 = py, cx1 = sx, cy1 = sy;
        if (clip_segment(cx0, cy0, cx1, cy1, a.x, a.y, b.x, b.y)) {
          const ImVec2 c0{float(cx0), float(cy0)}, c1{float(cx1), float(cy1)};
          if (run.empty() || run.back().x != c0.x || run.back().y != c0.y) {
            flush();
            run.push_back(c0);
          }
          run.push_back(c1);
        } else {
          flush();
        }
      }
      px = sx;
      py = sy;
    }
  }

  dl->PopClipRect();

  // Legend: label and latest value of each curve, in the corner with the fewest points under it.
  if (o.legend) {
    std::vector<std::string> text;
    std::vector<ImU32> color;
    float w = 0;
    for (size_t k = 0; k < series.size(); ++k) {
      const Series& s = series[k];
      if (s.label.empty()) continue;
      std::string value = "-";
      for (size_t i = length(s); i-- > 0;)
        if (std::isfinite((*s.y)[i])) {
          value = format(o.y_format, (*s.y)[i]);
          break;
        }
      text.push_back(s.label + "  " + value);
      color.push_back(series_color(s.color, k));
      w = std::max(w, text_width(text.back()));
    }
    if (!text.empty()) {
      const ImVec2 box(w + 34, float(text.size()) * (line_h + 2) + 6);
      const ImVec2 corners[] = {ImVec2(b.x - box.x - 6, a.y + 4), ImVec2(a.x + 6, a.y + 4),
                                ImVec2(b.x - box.x - 6, b.y - box.y - 4),
                                ImVec2(a.x + 6, b.y - box.y - 4)};
      size_t best = 0, best_count = std::numeric_limits<size_t>::max();
      for (size_t c = 0; c < 4; ++c) {
        size_t count = 0;
        for (const Series& s : series) {
          const size_t n = length(s), stride = std::max<size_t>(1, n / 500);
          for (size_t i = 0; i < n; i += stride) {
            double sx, sy;
            if (screen(s, i, sx, sy) && sx >= corners[c].x && sx <= corners[c].x + box.x &&
                sy >= corners[c].y && sy <= corners[c].y + box.y)
              ++count;
          }
        }
        if (count < best_count) best = c, best_count = count;
      }
      const ImVec2 q = corners[best];
      dl->AddRectFilled(q, ImVec2(q.x + box.x, q.y + box.y), palette::legend_bg, 4.0f);
      for (size_t i = 0; i < text.size(); ++i) {
        const float ly = q.y + 3 + float(i) * (line_h + 2);
        dl->AddLine(ImVec2(q.x + 6, ly + line_h * 0.5f), ImVec2(q.x + 24, ly + line_h * 0.5f),
                    color[i], 2.0f);
        dl->AddText(ImVec2(q.x + 28, ly), palette::text, text[i].c_str());
      }
    }
  }

  // Hover readout: the point nearest the mouse, marked, with its values in a tooltip.
  if (o.hover && ImGui::IsWindowHovered() && ImGui::IsMouseHoveringRect(a, b)) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    double best = kInf;
    size_t bk = 0, bi = 0;
    for (size_t k = 0; k < series.size(); ++k)
      for (size_t i = 0; i < length(series[k]); ++i) {
        double sx, sy;
        if (!screen(series[k], i, sx, sy) || sx < a.x || sx > b.x || sy < a.y || sy > b.y) continue;
        const double d = (sx - m.x) * (sx - m.x) + (sy - m.y) * (sy - m.y);
        if (d < best) best = d, bk = k, bi = i;
      }
    if (best < kInf) {
      const Series& s = series[bk];
      double sx, sy;
      screen(s, bi, sx, sy);
      dl->AddLine(ImVec2(float(sx), a.y), ImVec2(float(sx), b.y), palette::axis);
      dl->AddCircleFilled(ImVec2(float(sx), float(sy)), 4.5f, series_color(s.color, bk));
      dl->AddCircle(ImVec2(float(sx), float(sy)), 4.5f, palette::text);
      const std::string value = format(o.y_format, (*s.y)[bi]);
      const std::string where = format("%g", (*s.x)[bi]);
      ImGui::SetTooltip("%s%s%s at %s %s", s.label.c_str(), s.label.empty() ? "" : ": ",
                        value.c_str(), o.x_label ? o.x_label : "x", where.c_str());
    }
  }
}

}  // namespace

void line_plot(const char* title, ImVec2 size, const std::vector<Series>& series,
               const LinePlotOptions& o) {
  ImVec2 p0, p1;
  if (begin_panel(title, size, p0, p1)) draw_line_plot(p0, p1, series, o);
  ImGui::EndChild();
}

}  // namespace patlab
