#include "patlab/app/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "patlab/app/style.h"

namespace patlab {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
// Below this many pixels a plotting rectangle holds nothing readable: draw only the title.
constexpr float kMinSide = 8.0f;

// 10^e, exact for the exponents ticks use (|e| <= 22); dividing for negative e keeps 0.1 * 3
// from printing as 0.30000000000000004.
double scaled(double m, int e) { return e >= 0 ? m * std::pow(10.0, e) : m / std::pow(10.0, -e); }

ImU32 lerp_color(ImU32 a, ImU32 b, float t) {
  t = std::isfinite(t) ? std::clamp(t, 0.0f, 1.0f) : 0.0f;
  const ImVec4 ca = ImGui::ColorConvertU32ToFloat4(a), cb = ImGui::ColorConvertU32ToFloat4(b);
  return ImGui::ColorConvertFloat4ToU32(ImVec4(ca.x + (cb.x - ca.x) * t, ca.y + (cb.y - ca.y) * t,
                                               ca.z + (cb.z - ca.z) * t, ca.w + (cb.w - ca.w) * t));
}

// Perceived brightness in [0, 1], to pick dark or light text on a coloured cell.
float luminance(ImU32 c) {
  const ImVec4 v = ImGui::ColorConvertU32ToFloat4(c);
  return 0.2126f * v.x + 0.7152f * v.y + 0.0722f * v.z;
}

ImU32 text_on(ImU32 background) {
  return luminance(background) > 0.55f ? palette::text_on_light : palette::text;
}

ImU32 series_color(ImU32 c, size_t i) {
  constexpr size_t n = sizeof palette::series_colors / sizeof palette::series_colors[0];
  return c != 0 ? c : palette::series_colors[i % n];
}

// The visible part of an ImGui label: "Loss##lane2" shows "Loss".
const char* label_end(const char* s) {
  const char* e = std::strstr(s, "##");
  return e ? e : s + std::strlen(s);
}

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt ? fmt : "%g", v);
  return buf;
}

float text_width(const std::string& s) { return ImGui::CalcTextSize(s.c_str()).x; }

// Text reading upwards, starting at `pos` (its lower left corner once turned): axis titles
// beside a vertical axis. ImGui has no rotated text; turning the glyph quads it emitted does it.
void add_text_up(ImDrawList* dl, ImVec2 pos, ImU32 col, const char* text) {
  pos = ImVec2(std::floor(pos.x), std::floor(pos.y));  // AddText snaps to whole pixels too
  const int first = dl->VtxBuffer.Size;
  dl->AddText(pos, col, text);
  for (int i = first; i < dl->VtxBuffer.Size; ++i) {
    ImVec2& p = dl->VtxBuffer[i].pos;
    const float dx = p.x - pos.x, dy = p.y - pos.y;
    p = ImVec2(pos.x + dy, pos.y - dx);
  }
}

// A child region with a title line. Returns false when there is nothing to draw in (clipped
// away, or too small); either way the caller ends with ImGui::EndChild().
bool begin_panel(const char* title, ImVec2 size, ImVec2& p0, ImVec2& p1) {
  if (!title) title = "";
  if (!ImGui::BeginChild(title, size, ImGuiChildFlags_None,
                         ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse))
    return false;
  ImGui::TextUnformatted(title, label_end(title));
  p0 = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  p1 = ImVec2(p0.x + avail.x, p0.y + avail.y);
  return avail.x >= kMinSide && avail.y >= kMinSide;
}

// "(no data)", dimmed, in the middle of the region.
void no_data(ImDrawList* dl, ImVec2 p0, ImVec2 p1) {
  const char* text = "(no data)";
  const ImVec2 ts = ImGui::CalcTextSize(text);
  dl->AddText(ImVec2((p0.x + p1.x - ts.x) * 0.5f, (p0.y + p1.y - ts.y) * 0.5f), palette::text_dim,
              text);
}

// One axis: values in [lo, hi] onto screen coordinates [s0, s1] (s0 > s1 for a y axis),
// linearly or in log10. Values outside the range map outside [s0, s1]; invalid ones to NaN.
struct Axis {
  double lo = 0, hi = 1, s0 = 0, s1 = 1;
  bool log = false;

  double warp(double v) const { return log ? (v > 0 ? std::log10(v) : kNaN) : v; }
  double to_screen(double v) const {
    const double w0 = warp(lo), w1 = warp(hi);
    return s0 + (warp(v) - w0) / (w1 - w0) * (s1 - s0);
  }
};

// A range [lo, hi] around the data's [dmin, dmax] (no data: dmin > dmax), widened by `margin`
// of the span (in log10 on a log axis) so curves do not run along the frame.
void fit_range(double dmin, double dmax, bool log, double margin, double& lo, double& hi) {
  // Values near the largest double would overflow the span and its margin.
  dmin = std::clamp(dmin, -1e300, 1e300);
  dmax = std::clamp(dmax, -1e300, 1e300);
  if (!(dmin <= dmax)) {
    lo = log ? 1.0 : 0.0;
    hi = log ? 10.0 : 1.0;
    return;
  }
  if (log) {
    const double l0 = std::log10(dmin), l1 = std::log10(dmax);
    const double pad = l1 > l0 ? (l1 - l0) * margin : 0.5;
    lo = std::pow(10.0, l0 - pad);
    hi = std::pow(10.0, l1 + pad);
    return;
  }
  const double pad =
      dmax > dmin ? (dmax - dmin) * margin : (dmin != 0 ? std::fabs(dmin) * 0.1 : 0.5);
  lo = dmin - pad;
  hi = dmax + pad;
}

struct Ticks {
  std::vector<double> at;
  std::vector<std::string> label;
  float widest = 0;
};

Ticks make_ticks(double lo, double hi, bool log, int max_ticks) {
  Ticks t;
  t.at = log ? log_ticks(lo, hi, max_ticks) : nice_ticks(lo, hi, max_ticks);
  const double step = t.at.size() >= 2 ? t.at[1] - t.at[0] : std::fabs(hi - lo);
  for (double v : t.at) {
    t.label.push_back(tick_label(v, log ? v : step));
    t.widest = std::max(t.widest, text_width(t.label.back()));
  }
  return t;
}

// Ticks for a horizontal axis `width` pixels long: as many as fit with their labels apart.
Ticks make_x_ticks(double lo, double hi, bool log, float width) {
  Ticks t;
  for (int n = std::max(2, int(width / 60.0f)); n >= 2; --n) {
    t = make_ticks(lo, hi, log, n);
    if ((t.widest + 12.0f) * float(t.at.size()) <= width) break;
  }
  return t;
}

// Horizontal grid lines at the ticks of y, their labels right-aligned left of the rectangle.
void draw_y_axis(ImDrawList* dl, const Axis& y, const Ticks& t, ImVec2 a, ImVec2 b) {
  const float line_h = ImGui::GetTextLineHeight();
  for (size_t i = 0; i < t.at.size(); ++i) {
    const float sy = float(y.to_screen(t.at[i]));
    if (!(sy >= a.y - 0.5f && sy <= b.y + 0.5f)) continue;
    dl->AddLine(ImVec2(a.x, sy), ImVec2(b.x, sy), palette::grid);
    dl->AddText(ImVec2(a.x - text_width(t.label[i]) - 6, sy - line_h * 0.5f), palette::text_dim,
                t.label[i].c_str());
  }
}

// Liang-Barsky: clips the segment p-q to the rectangle [x0, x1] x [y0, y1]; false when none of
// it is inside. An end already inside is left exactly as it was.
bool clip_segment(double& px, double& py, double& qx, double& qy, double x0, double y0, double x1,
                  double y1) {
  const double dx = qx - px, dy = qy - py;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {px - x0, x1 - px, py - y0, y1 - py};
  double t0 = 0, t1 = 1;
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;  // parallel to this edge and outside it
      continue;
    }
    const double r = q[i] / p[i];
    if (p[i] < 0) {
      if (r > t1) return false;
      t0 = std::max(t0, r);
    } else {
      if (r < t0) return false;
      t1 = std::min(t1, r);
    }
  }
  const double sx = px, sy = py;
  if (t1 < 1) qx = sx + t1 * dx, qy = sy + t1 * dy;
  if (t0 > 0) px = sx + t0 * dx, py = sy + t0 * dy;
  return true;
}

// Diagonal hatching over a cell: the mark of a value not computed.
void hatch(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col) {
  const float spacing = 6.0f;
  for (float s = a.x + a.y + spacing * 0.5f; s < b.x + b.y; s += spacing) {
    double px = s - b.y, py = b.y, qx = s - a.y, qy = a.y;  // the line x + y = s
    if (clip_segment(px, py, qx, qy, a.x, a.y, b.x, b.y))
      dl->AddLine(ImVec2(float(px), float(py)), ImVec2(float(qx), float(qy)), col);
  }
}

void missing_cell(ImDrawList* dl, ImVec2 a, ImVec2 b) {
  dl->AddRectFilled(a, b, palette::missing);
  hatch(dl, a, b, palette::missing_hatch);
}

// Labels along a side of a grid whose cells are `cell` pixels apart, `label_size` pixels long
// at most: label every k-th cell, k the smallest that keeps them from touching.
int label_stride(float cell, float label_size) {
  if (!(cell > 0)) return 1;
  return std::max(1, int(std::ceil((label_size + 6.0f) / cell)));
}

// Keeps screen coordinates of far-out values finite and well inside float range; the direction
// of such a segment is unchanged to well under a pixel at any sane plot size.
double tame(double s) { return std::clamp(s, -1e7, 1e7); }

// ---- line plot ----

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

// ---- heat map ----

void draw_heat_map(ImVec2 p0, ImVec2 p1, const Mat& values, const HeatMapOptions& o) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float line_h = ImGui::GetTextLineHeight();
  const int rows = int(values.rows()), cols = int(values.cols());
  if (rows == 0 || cols == 0) return no_data(dl, p0, p1);

  // Colour scale: given (either way round), or fitted to the finite values.
  double v_lo = o.v_min, v_hi = o.v_max;
  bool any_missing = false;
  if (!(std::isfinite(v_lo) && std::isfinite(v_hi) && v_lo != v_hi)) {
    double dmin = kInf, dmax = -kInf;
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c)
        if (std::isfinite(values(r, c))) {
          dmin = std::min(dmin, values(r, c));
          dmax = std::max(dmax, values(r, c));
        }
    fit_range(dmin, dmax, false, 0.0, v_lo, v_hi);
  }
  for (int r = 0; r < rows && !any_missing; ++r)
    for (int c = 0; c < cols && !any_missing; ++c) any_missing = std::isnan(values(r, c));
  auto color_of = [&](double v) {
    return std::isnan(v) ? palette::missing : heat_color((v - v_lo) / (v_hi - v_lo));
  };

  // Layout: y tick labels and title left, x tick labels and title below, colour bar right.
  auto tick = [](const std::vector<std::string>& t, int i) {
    return i < int(t.size()) ? t[size_t(i)] : std::string();
  };
  float ytick_w = 0, xtick_w = 0;
  for (int r = 0; r < rows; ++r) ytick_w = std::max(ytick_w, text_width(tick(o.y_ticks, r)));
  for (int c = 0; c < cols; ++c) xtick_w = std::max(xtick_w, text_width(tick(o.x_ticks, c)));
  const float left = (o.y_label ? line_h + 4 : 0) + (ytick_w > 0 ? ytick_w + 6 : 0) + 1;
  const float bottom = (o.x_ticks.empty() ? 0 : line_h + 3) + (o.x_label ? line_h + 2 : 0) + 2;
  const float top = line_h * 0.5f;  // half a colour-bar label sticks out above
  Ticks bar_ticks;
  float right = 4;
  const float bar_w = 12;
  if (o.color_bar) {
    const float h = p1.y - p0.y - top - bottom - (any_missing ? line_h + 6 : 0);
    bar_ticks = make_ticks(v_lo, v_hi, false, std::max(2, int(h / (line_h * 1.8f))));
    float label_w = bar_ticks.widest;
    if (any_missing && o.missing_label) label_w = std::max(label_w, text_width(o.missing_label));
    right = 10 + bar_w + 5 + label_w + 2;
  }
  const ImVec2 a(p0.x + left, p0.y + top), b(p1.x - right, p1.y - bottom);
  if (b.x - a.x < kMinSide || b.y - a.y < kMinSide) return;
  const float cw = (b.x - a.x) / float(cols), ch = (b.y - a.y) / float(rows);
  const float inset = std::min(cw, ch) >= 6 ? 0.5f : 0.0f;  // a hairline between cells
  auto cell_min = [&](int r, int c) {
    const int sr = o.row0_at_top ? r : rows - 1 - r;
    return ImVec2(a.x + float(c) * cw, a.y + float(sr) * ch);
  };

  char buf[64];
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const double v = values(r, c);
      const ImVec2 q0 = cell_min(r, c), q1(q0.x + cw, q0.y + ch);
      const ImVec2 i0(q0.x + inset, q0.y + inset), i1(q1.x - inset, q1.y - inset);
      if (std::isnan(v)) {
        missing_cell(dl, i0, i1);
        continue;
      }
      const ImU32 col = color_of(v);
      dl->AddRectFilled(i0, i1, col);
      if (o.cell_format) {
        std::snprintf(buf, sizeof buf, o.cell_format, v);
        const ImVec2 ts = ImGui::CalcTextSize(buf);
        if (ts.x <= cw - 4 && ts.y <= ch)
          dl->AddText(ImVec2(q0.x + (cw - ts.x) * 0.5f, q0.y + (ch - ts.y) * 0.5f), text_on(col),
                      buf);
      }
    }
  if (o.highlight_row >= 0 && o.highlight_row < rows && o.highlight_col >= 0 &&
      o.highlight_col < cols) {
    const ImVec2 q0 = cell_min(o.highlight_row, o.highlight_col);
    dl->AddRect(ImVec2(q0.x - 1, q0.y - 1), ImVec2(q0.x + cw + 1, q0.y + ch + 1),
                palette::highlight, 0.0f, ImDrawFlags_None, 2.5f);
  }

  // Tick labels (every k-th when crowded) and axis titles.
  if (!o.x_ticks.empty())
    for (int c = 0, k = label_stride(cw, xtick_w); c < cols; c += k) {
      const std::string t = tick(o.x_ticks, c);
      dl->AddText(ImVec2(a.x + (float(c) + 0.5f) * cw - text_width(t) * 0.5f, b.y + 3),
                  palette::text_dim, t.c_str());
    }
  if (!o.y_ticks.empty())
    for (int r = 0, k = label_stride(ch, line_h); r < rows; r += k) {
      const std::string t = tick(o.y_ticks, r);
      dl->AddText(ImVec2(a.x - text_width(t) - 6, cell_min(r, 0).y + (ch - line_h) * 0.5f),
                  palette::text_dim, t.c_str());
    }
  if (o.x_label)
    dl->AddText(ImVec2((a.x + b.x - ImGui::CalcTextSize(o.x_label).x) * 0.5f,
                       b.y + 2 + (o.x_ticks.empty() ? 0 : line_h + 3)),
                palette::text_dim, o.x_label);
  if (o.y_label)
    add_text_up(dl, ImVec2(p0.x, (a.y + b.y + ImGui::CalcTextSize(o.y_label).x) * 0.5f),
                palette::text_dim, o.y_label);

  // Colour bar: the scale's stops as gradients, ticked; the NaN swatch under it.
  if (o.color_bar) {
    const float x0 = b.x + 10, x1 = x0 + bar_w;
    const float y_bottom = b.y - (any_missing ? line_h + 6 : 0);
    if (y_bottom - a.y >= kMinSide) {
      constexpr int n = int(sizeof palette::scale / sizeof palette::scale[0]);
      const bool up = v_hi > v_lo;  // the larger value on top
      auto y_at = [&](double t) { return float(y_bottom - (up ? t : 1 - t) * (y_bottom - a.y)); };
      for (int i = 0; i + 1 < n; ++i) {
        const double t0 = double(i) / (n - 1), t1 = double(i + 1) / (n - 1);
        const ImU32 c0 = palette::scale[i], c1 = palette::scale[i + 1];
        const float ya = y_at(t0), yb = y_at(t1);
        // AddRectFilledMultiColor takes the upper-left corner first.
        if (ya > yb)
          dl->AddRectFilledMultiColor(ImVec2(x0, yb), ImVec2(x1, ya), c1, c1, c0, c0);
        else
          dl->AddRectFilledMultiColor(ImVec2(x0, ya), ImVec2(x1, yb), c0, c0, c1, c1);
      }
      for (size_t i = 0; i < bar_ticks.at.size(); ++i) {
        const float y = y_at((bar_ticks.at[i] - v_lo) / (v_hi - v_lo));
        if (!(y >= a.y - 0.5f && y <= y_bottom + 0.5f)) continue;
        dl->AddLine(ImVec2(x1, y), ImVec2(x1 + 3, y), palette::text_dim);
        dl->AddText(ImVec2(x1 + 5, y - line_h * 0.5f), palette::text_dim,
                    bar_ticks.label[i].c_str());
      }
    }
    if (any_missing) {
      const ImVec2 s0(x0, b.y - line_h), s1(x1, b.y);
      missing_cell(dl, s0, s1);
      if (o.missing_label) dl->AddText(ImVec2(x1 + 5, s0.y), palette::text_dim, o.missing_label);
    }
  }

  if (o.hover && ImGui::IsWindowHovered() && ImGui::IsMouseHoveringRect(a, b)) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const int c = std::clamp(int((m.x - a.x) / cw), 0, cols - 1);
    const int sr = std::clamp(int((m.y - a.y) / ch), 0, rows - 1);
    const int r = o.row0_at_top ? sr : rows - 1 - sr;
    const ImVec2 q0 = cell_min(r, c);
    dl->AddRect(q0, ImVec2(q0.x + cw, q0.y + ch), palette::text);
    auto name = [&](const char* axis, const std::vector<std::string>& t, int i, const char* f) {
      std::string s = axis ? std::string(axis) + " " : std::string();
      return s + (i < int(t.size()) ? t[size_t(i)] : format(f, i));
    };
    const double v = values(r, c);
    const std::string where = name(o.x_label, o.x_ticks, c, "column %.0f") + ", " +
                              name(o.y_label, o.y_ticks, r, "row %.0f");
    const std::string what =
        std::isnan(v)
            ? std::string(o.missing_label ? o.missing_label : "-")
            : (o.value_label ? std::string(o.value_label) + " " : "") + format(o.value_format, v);
    ImGui::SetTooltip("%s\n%s", where.c_str(), what.c_str());
  }
}

// ---- bar chart ----

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

// ---- confusion matrix ----

void draw_confusion_matrix(ImVec2 p0, ImVec2 p1, const Mat& counts,
                           const std::vector<std::string>& class_labels) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float line_h = ImGui::GetTextLineHeight();
  const int rows = int(counts.rows()), cols = int(counts.cols());
  if (rows == 0 || cols == 0) return no_data(dl, p0, p1);
  auto name = [&](int i) {
    return i < int(class_labels.size()) ? class_labels[size_t(i)] : std::to_string(i);
  };

  // Each true class (row) sums to 1: a rare class's errors show as plainly as a common one's.
  std::vector<double> row_sum(size_t(rows), 0.0);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      if (std::isfinite(counts(r, c)) && counts(r, c) > 0) row_sum[size_t(r)] += counts(r, c);
  auto fraction = [&](int r, int c) {
    const double v = counts(r, c), s = row_sum[size_t(r)];
    return std::isfinite(v) && v > 0 && s > 0 ? v / s : 0.0;
  };

  float row_w = 0;
  for (int r = 0; r < rows; ++r) row_w = std::max(row_w, text_width(name(r)));
  const float left = line_h + 4 + row_w + 6;
  const float bottom = 2 * line_h + 6;
  const float avail_w = p1.x - p0.x - left - 4, avail_h = p1.y - p0.y - bottom - 2;
  const float cell = std::min(avail_w / float(cols), avail_h / float(rows));
  if (!(cell * float(std::min(rows, cols)) >= kMinSide)) return;
  // The grid (square cells) centred in the space right of the row labels.
  const ImVec2 a(p0.x + left + (avail_w - cell * float(cols)) * 0.5f, p0.y + 2);
  const ImVec2 b(a.x + cell * float(cols), a.y + cell * float(rows));
  const float inset = cell >= 6 ? 0.5f : 0.0f;

  char buf[64];
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const ImVec2 q0(a.x + float(c) * cell, a.y + float(r) * cell), q1(q0.x + cell, q0.y + cell);
      const ImVec2 i0(q0.x + inset, q0.y + inset), i1(q1.x - inset, q1.y - inset);
      const double v = counts(r, c);
      if (std::isnan(v)) {
        missing_cell(dl, i0, i1);
        continue;
      }
      const double f = fraction(r, c);
      const ImU32 col =
          lerp_color(palette::cell, r == c ? palette::correct : palette::wrong, float(f));
      dl->AddRectFilled(i0, i1, col);
      std::snprintf(buf, sizeof buf, v == std::floor(v) && std::fabs(v) < 1e15 ? "%.0f" : "%.1f",
                    v);
      const ImVec2 ts = ImGui::CalcTextSize(buf);
      if (ts.x > cell - 4 || ts.y > cell) continue;
      const bool share = cell >= 2.4f * line_h;  // room for the row share under the count
      const float ty = q0.y + (cell - ts.y * (share ? 2 : 1)) * 0.5f;
      dl->AddText(ImVec2(q0.x + (cell - ts.x) * 0.5f, ty), text_on(col), buf);
      if (share) {
        std::snprintf(buf, sizeof buf, "%.0f%%", 100 * f);
        const float w = text_width(buf);
        if (w <= cell - 4)
          dl->AddText(ImVec2(q0.x + (cell - w) * 0.5f, ty + ts.y), text_on(col), buf);
      }
    }

  for (int r = 0, k = label_stride(cell, line_h); r < rows; r += k) {
    const std::string t = name(r);
    dl->AddText(ImVec2(a.x - text_width(t) - 6, a.y + (float(r) + 0.5f) * cell - line_h * 0.5f),
                palette::text_dim, t.c_str());
  }
  float col_w = 0;
  for (int c = 0; c < cols; ++c) col_w = std::max(col_w, text_width(name(c)));
  for (int c = 0, k = label_stride(cell, col_w); c < cols; c += k) {
    const std::string t = name(c);
    dl->AddText(ImVec2(a.x + (float(c) + 0.5f) * cell - text_width(t) * 0.5f, b.y + 3),
                palette::text_dim, t.c_str());
  }
  dl->AddText(ImVec2((a.x + b.x - ImGui::CalcTextSize("predicted").x) * 0.5f, b.y + 5 + line_h),
              palette::text_dim, "predicted");
  add_text_up(dl,
              ImVec2(a.x - row_w - 10 - line_h, (a.y + b.y + ImGui::CalcTextSize("true").x) * 0.5f),
              palette::text_dim, "true");

  if (ImGui::IsWindowHovered() && ImGui::IsMouseHoveringRect(a, b)) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const int c = std::clamp(int((m.x - a.x) / cell), 0, cols - 1);
    const int r = std::clamp(int((m.y - a.y) / cell), 0, rows - 1);
    dl->AddRect(ImVec2(a.x + float(c) * cell, a.y + float(r) * cell),
                ImVec2(a.x + float(c + 1) * cell, a.y + float(r + 1) * cell), palette::text);
    ImGui::SetTooltip("true %s, predicted %s: %s (%.1f%% of true %s)", name(r).c_str(),
                      name(c).c_str(), format("%g", counts(r, c)).c_str(), 100 * fraction(r, c),
                      name(r).c_str());
  }
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
  std::vector<double> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi)) return ticks;
  if (lo > hi) std::swap(lo, hi);
  const double span = hi - lo;
  // A span lost in rounding (or none) has no steps to speak of: one tick.
  if (!(span > std::max(std::fabs(lo), std::fabs(hi)) * 1e-12)) {
    ticks.push_back(lo);
    return ticks;
  }
  if (!std::isfinite(span)) return ticks;
  max_ticks = std::max(max_ticks, 2);
  // Steps from a tenth of the spacing that max_ticks ticks would need, upwards: the first that
  // gives few enough ticks. A step >= that spacing always does, so this ends within two decades.
  const double raw = span / (max_ticks - 1);
  int e = int(std::floor(std::log10(raw))) - 1;
  for (int decade = 0; decade < 4; ++decade, ++e)
    for (const double m : {1.0, 2.0, 5.0}) {
      const double step = scaled(m, e);
      const double k0 = std::ceil(lo / step - 1e-9), k1 = std::floor(hi / step + 1e-9);
      if (k1 - k0 + 1 > max_ticks) continue;
      for (double k = k0; k <= k1; ++k) {
        const double v = scaled(k * m, e);
        ticks.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);  // no "-0"
      }
      return ticks;
    }
  return ticks;
}

std::vector<double> log_ticks(double lo, double hi, int max_ticks) {
  std::vector<double> ticks;
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo > 0) || !(hi > 0)) return ticks;
  if (lo > hi) std::swap(lo, hi);
  max_ticks = std::max(max_ticks, 2);
  const int e0 = int(std::ceil(std::log10(lo) - 1e-9)), e1 = int(std::floor(std::log10(hi) + 1e-9));
  std::vector<double> decades;
  if (e1 >= e0) {
    // Every stride-th decade, on multiples of the stride so 1 stays a tick when in range.
    const int stride = std::max(1, int(std::ceil(double(e1 - e0) / (max_ticks - 1))));
    for (int e = int(std::ceil(double(e0) / stride)) * stride; e <= e1; e += stride)
      decades.push_back(scaled(1.0, e));
  }
  // A few decades leave room for 2 and 5 times each.
  if (decades.size() >= 2 && 3 * (e1 - e0 + 1) > max_ticks) return decades;
  for (int e = int(std::floor(std::log10(lo))); e <= e1; ++e)
    for (const double m : {1.0, 2.0, 5.0}) {
      const double v = scaled(m, e);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push_back(v);
    }
  if (ticks.size() >= 2 && int(ticks.size()) <= max_ticks) return ticks;
  if (decades.size() >= 2) return decades;
  return nice_ticks(lo, hi, max_ticks);
}

std::string tick_label(double v, double step) {
  char buf[48];
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  if (v == 0) v = 0;  // turns -0 into 0
  step = std::fabs(step);
  if (!(step > 0) || !std::isfinite(step)) step = v != 0 ? std::fabs(v) : 1.0;
  const double magnitude = std::max(std::fabs(v), step);
  if (magnitude >= 1e6 || step < 1e-4) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
  }
  // The fewest decimals that write the step exactly: 0.25 -> 2, 0.2 -> 1, 20 -> 0.
  int decimals = 0;
  for (double s = step; decimals < 6; ++decimals, s *= 10)
    if (std::fabs(s - std::round(s)) < 1e-6 * std::max(1.0, s)) break;
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

ImU32 heat_color(double t) {
  if (std::isnan(t)) return palette::missing;
  constexpr int n = int(sizeof palette::scale / sizeof palette::scale[0]);
  const double x = std::clamp(t, 0.0, 1.0) * (n - 1);
  const int i = std::min(int(x), n - 2);
  return lerp_color(palette::scale[i], palette::scale[i + 1], float(x - i));
}

void line_plot(const char* title, ImVec2 size, const std::vector<Series>& series,
               const LinePlotOptions& o) {
  ImVec2 p0, p1;
  if (begin_panel(title, size, p0, p1)) draw_line_plot(p0, p1, series, o);
  ImGui::EndChild();
}

void heat_map(const char* title, ImVec2 size, const Mat& values, const HeatMapOptions& o) {
  ImVec2 p0, p1;
  if (begin_panel(title, size, p0, p1)) draw_heat_map(p0, p1, values, o);
  ImGui::EndChild();
}

void bar_chart(const char* title, ImVec2 size, const std::vector<std::string>& labels,
               const std::vector<BarSeries>& series, const BarChartOptions& o) {
  ImVec2 p0, p1;
  if (begin_panel(title, size, p0, p1)) draw_bar_chart(p0, p1, labels, series, o);
  ImGui::EndChild();
}

void confusion_matrix(const char* title, ImVec2 size, const Mat& counts,
                      const std::vector<std::string>& class_labels) {
  ImVec2 p0, p1;
  if (begin_panel(title, size, p0, p1)) draw_confusion_matrix(p0, p1, counts, class_labels);
  ImGui::EndChild();
}

void class_map(const char* title, ImVec2 size, const Dataset& data, const Mat& probs, int grid_n,
               float lo, float hi) {
  ImVec2 p0, p1;
  if (!begin_panel(title, size, p0, p1) || !(hi > lo) || !std::isfinite(hi - lo)) {
    ImGui::EndChild();
    return;
  }
  ImDrawList* dl = ImGui::GetWindowDrawList();
  constexpr int n_colors = int(sizeof palette::class_colors / sizeof palette::class_colors[0]);
  const float side = std::max(10.0f, std::min(p1.x - p0.x, p1.y - p0.y) - 4);
  const ImVec2 a(p0.x + (p1.x - p0.x - side) * 0.5f, p0.y + 2), b(a.x + side, a.y + side);
  auto to_screen = [&](double x, double y) {
    return ImVec2(float(a.x + (x - lo) / (hi - lo) * side),
                  float(b.y - (y - lo) / (hi - lo) * side));
  };
  const ImU32 bg = IM_COL32(30, 32, 40, 255);
  dl->AddRectFilled(a, b, bg);
  if (grid_n > 0 && probs.cols() == Eigen::Index(grid_n) * grid_n) {
    const float cell = side / float(grid_n);
    // Opaque tints (class colour over the background): cells may overlap by half a pixel to
    // hide seams, and overlapping translucent cells would draw a visible grid.
    std::vector<ImVec4> tint;
    for (Eigen::Index k = 0; k < probs.rows(); ++k)
      tint.push_back(ImGui::ColorConvertU32ToFloat4(
          lerp_color(bg, palette::class_colors[k % n_colors], 0.35f)));
    for (int r = 0; r < grid_n; ++r)
      for (int c = 0; c < grid_n; ++c) {
        ImVec4 mix(0, 0, 0, 1);
        for (Eigen::Index k = 0; k < probs.rows(); ++k) {
          const double p = probs(k, Eigen::Index(r) * grid_n + c);
          const float w = std::isfinite(p) ? float(std::clamp(p, 0.0, 1.0)) : 0.0f;
          mix.x += w * tint[size_t(k)].x;
          mix.y += w * tint[size_t(k)].y;
          mix.z += w * tint[size_t(k)].z;
        }
        mix = ImVec4(std::min(mix.x, 1.0f), std::min(mix.y, 1.0f), std::min(mix.z, 1.0f), 1.0f);
        const ImVec2 q0(a.x + float(c) * cell, b.y - float(r + 1) * cell);
        dl->AddRectFilled(q0, ImVec2(q0.x + cell + 0.5f, q0.y + cell + 0.5f),
                          ImGui::ColorConvertFloat4ToU32(mix));
      }
  }
  dl->PushClipRect(a, b, true);
  if (data.features() >= 2 && data.y.size() >= data.size())
    for (int i = 0; i < data.size(); ++i) {
      if (!std::isfinite(data.x(0, i)) || !std::isfinite(data.x(1, i))) continue;
      // Far-out points stay far out, but at float-safe coordinates; the clip rect hides them.
      const double margin = double(hi) - lo;
      const ImVec2 p = to_screen(std::clamp(data.x(0, i), lo - margin, hi + margin),
                                 std::clamp(data.x(1, i), lo - margin, hi + margin));
      const int label = data.y[i];
      const ImU32 col = palette::class_colors[(label % n_colors + n_colors) % n_colors];
      dl->AddCircleFilled(p, 3.2f, col);
      dl->AddCircle(p, 3.2f, IM_COL32(0, 0, 0, 140));
    }
  dl->PopClipRect();
  dl->AddRect(a, b, palette::grid);
  ImGui::EndChild();
}

}  // namespace patlab
