// The plots' shared drawing pieces (internal to patlab_plot, not installed): axes and their
// ticks, panels, colours, text and clipping. Defined in plot.cpp; the plots themselves are in
// plot_lines.cpp (line plots), plot_bars.cpp (bar charts) and plot_grids.cpp (heat maps,
// confusion matrices, class maps).
#pragma once

#include <imgui.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace patlab {
namespace plot_detail {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
// Below this many pixels a plotting rectangle holds nothing readable: draw only the title.
constexpr float kMinSide = 8.0f;

ImU32 lerp_color(ImU32 a, ImU32 b, float t);  // a to b as t goes from 0 to 1
ImU32 text_on(ImU32 background);              // dark or light text, whichever reads on it
ImU32 series_color(ImU32 c, size_t i);        // c, or the palette's i-th colour when c is 0
std::string format(const char* fmt, double v);  // printf of one value (fmt null: "%g")
float text_width(const std::string& s);
// Text reading upwards from `pos` (its lower left corner once turned): vertical axis titles.
void add_text_up(ImDrawList* dl, ImVec2 pos, ImU32 col, const char* text);
// A child region with a title line; [p0, p1] is what is left to draw in. Returns false when
// there is nothing to draw in (clipped away, or too small); either way the caller ends with
// ImGui::EndChild().
bool begin_panel(const char* title, ImVec2 size, ImVec2& p0, ImVec2& p1);
void no_data(ImDrawList* dl, ImVec2 p0, ImVec2 p1);  // "(no data)", dimmed, in the middle

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
void fit_range(double dmin, double dmax, bool log, double margin, double& lo, double& hi);

struct Ticks {
  std::vector<double> at;
  std::vector<std::string> label;
  float widest = 0;
};
// At most max_ticks ticks over [lo, hi], with their labels and the widest label's width.
Ticks make_ticks(double lo, double hi, bool log, int max_ticks);
// Ticks for a horizontal axis `width` pixels long: as many as fit with their labels apart.
Ticks make_x_ticks(double lo, double hi, bool log, float width);
// Horizontal grid lines at the ticks of y, their labels right-aligned left of the rectangle.
void draw_y_axis(ImDrawList* dl, const Axis& y, const Ticks& t, ImVec2 a, ImVec2 b);

// Clips the segment p-q to the rectangle [x0, x1] x [y0, y1]; false when none of it is inside.
bool clip_segment(double& px, double& py, double& qx, double& qy, double x0, double y0, double x1,
                  double y1);
void missing_cell(ImDrawList* dl, ImVec2 a, ImVec2 b);  // grey, hatched: a value not computed
// Label every k-th of cells `cell` pixels apart with labels up to `label_size` long: the k.
int label_stride(float cell, float label_size);
// Keeps a far-out screen coordinate finite and well inside float range.
double tame(double s);

}  // namespace plot_detail
}  // namespace patlab
