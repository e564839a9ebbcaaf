// The plots' shared pieces (plot_draw.h) and the tick and colour functions of plot.h.
#include "patlab/app/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "patlab/app/style.h"
#include "plot_draw.h"

namespace patlab {
namespace plot_detail {

namespace {
// 10^e, exact for the exponents ticks use (|e| <= 22); dividing for negative e keeps 0.1 * 3
// from printing as 0.30000000000000004.
double scaled(double m, int e) { return e >= 0 ? m * std::pow(10.0, e) : m / std::pow(10.0, -e); }

// Perceived brightness in [0, 1], to pick dark or light text on a coloured cell.
float luminance(ImU32 c) {
  const ImVec4 v = ImGui::ColorConvertU32ToFloat4(c);
  return 0.2126f * v.x + 0.7152f * v.y + 0.0722f * v.z;
}

// The visible part of an ImGui label: "Loss##lane2" shows "Loss".
const char* label_end(const char* s) {
  const char* e = std::strstr(s, "##");
  return e ? e : s + std::strlen(s);
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

}  // namespace

ImU32 lerp_color(ImU32 a, ImU32 b, float t) {
  t = std::isfinite(t) ? std::clamp(t, 0.0f, 1.0f) : 0.0f;
  const ImVec4 ca = ImGui::ColorConvertU32ToFloat4(a), cb = ImGui::ColorConvertU32ToFloat4(b);
  return ImGui::ColorConvertFloat4ToU32(ImVec4(ca.x + (cb.x - ca.x) * t, ca.y + (cb.y - ca.y) * t,
                                               ca.z + (cb.z - ca.z) * t, ca.w + (cb.w - ca.w) * t));
}

ImU32 text_on(ImU32 background) {
  return luminance(background) > 0.55f ? palette::text_on_light : palette::text;
}

ImU32 series_color(ImU32 c, size_t i) {
  constexpr size_t n = sizeof palette::series_colors / sizeof palette::series_colors[0];
  return c != 0 ? c : palette::series_colors[i % n];
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

}  // namespace plot_detail

using namespace plot_detail;

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

}  // namespace patlab
