// patlab/app/plot.h: the lab's plots, drawn with ImGui's draw lists (no ImGui plotting package
// exists in Debian, and these few are small).
//
//   line_plot         curves over training steps: ticked axes, fixed or fitted (optionally log)
//                     y range, legend, reference line, hover readout
//   heat_map          a rows x cols grid of values on a colour scale, with colour bar; NaN =
//                     not computed (yet), drawn hatched grey
//   bar_chart         grouped bars, one group per category, one bar per series
//   confusion_matrix  counts (true x predicted), shaded by the fraction of each true class
//   class_map         2-D data points over a grid of predicted class probabilities
//
// Every plot draws into a child region `size` (0 = the available width or height) with its
// title on the first line, and copes with empty or NaN input and with a region too small to
// draw in (it then draws nothing but the title).
#pragma once

#include <imgui.h>

#include <limits>
#include <string>
#include <vector>

#include "patlab/core/dataset.h"
#include "patlab/core/tensor.h"

namespace patlab {

// Axis ticks: the values k * step inside [lo, hi] (either order), with step = 1, 2 or 5 x 10^n,
// the smallest such step that gives at most max_ticks ticks (max_ticks < 2 counts as 2).
// lo == hi gives {lo}; a non-finite bound gives none.
std::vector<double> nice_ticks(double lo, double hi, int max_ticks);

// Ticks of a base-10 log axis over [lo, hi] (both > 0), at most max_ticks: powers of ten (every
// n-th decade when there are too many), also 2 and 5 times them when the range spans so few
// decades that all fit; nice_ticks when neither gives two ticks. Empty for non-positive or
// non-finite bounds.
std::vector<double> log_ticks(double lo, double hi, int max_ticks);

// The label of tick `v` on an axis with tick spacing `step`: as many decimals as the step
// needs (0.25 -> "0.25", 20 -> "20"), exponent form for very large or small magnitudes.
std::string tick_label(double v, double step);

// The colour of t in [0, 1] on the heat-map scale (palette::scale; t is clamped);
// palette::missing for NaN.
ImU32 heat_color(double t);

struct Series {
  std::string label;
  const std::vector<float>* x = nullptr;  // same length as y
  const std::vector<float>* y = nullptr;
  ImU32 color = 0;
};

struct LinePlotOptions {
  float y_min = 0.0f, y_max = 1.0f;  // equal: fit the data, with a margin
  const char* y_format = "%.1f";     // values in the legend and the hover readout
  // A dotted horizontal line (e.g. chance) when inside the y range; NaN = none.
  float reference_y = std::numeric_limits<float>::quiet_NaN();
  const char* reference_label = nullptr;
  bool log_y = false;                // base-10 y axis; values <= 0 leave a gap in the curve
  float x_min = 0.0f, x_max = 0.0f;  // equal: from min(0, smallest x) to the largest x
  const char* x_label = "step";      // under the x axis; nullptr = none
  const char* y_label = nullptr;     // beside the y axis, reading upwards; nullptr = none
  bool legend = true;                // label and latest value of each curve
  bool hover = true;                 // the point nearest the mouse, in a tooltip
  float thickness = 2.0f;            // of the curves, in pixels
};

// Draws a titled plot filling `size`. Series share the x axis. Tick labels take their precision
// from the tick spacing; curves are clipped to the plotting rectangle (values outside the y
// range leave it, they are not flattened onto its edge); NaN and infinite points leave gaps.
void line_plot(const char* title, ImVec2 size, const std::vector<Series>& series,
               const LinePlotOptions& options = {});

struct HeatMapOptions {
  double v_min = 0.0, v_max = 1.0;  // the colour scale's ends; equal: fit the finite values
  const char* x_label = nullptr;    // axis titles; nullptr = none
  const char* y_label = nullptr;
  std::vector<std::string> x_ticks;   // one label per column (or empty), thinned out if crowded
  std::vector<std::string> y_ticks;   // one label per row (or empty)
  bool row0_at_top = false;           // false: row 0 at the bottom, like a y axis
  bool color_bar = true;              // the scale at the right, ticked
  const char* value_label = nullptr;  // what the values are (e.g. "accuracy"), for the readout
  const char* value_format = "%.3g";  // hover readout
  const char* cell_format = nullptr;  // each cell's value written in it (when it fits); nullptr
                                      // = no text
  const char* missing_label = "not computed";  // the NaN swatch under the colour bar
  int highlight_row = -1, highlight_col = -1;  // a cell outlined (e.g. the current setting)
  bool hover = true;
};

// Draws values (rows x cols) as a grid of cells coloured by heat_color((v - v_min) / (v_max -
// v_min)); NaN cells are hatched grey (palette::missing), e.g. a robustness map whose sweep has
// not reached them yet.
void heat_map(const char* title, ImVec2 size, const Mat& values,
              const HeatMapOptions& options = {});

struct BarSeries {
  std::string label;
  std::vector<double> values;  // one per category; NaN (or missing) = no bar
  ImU32 color = 0;             // 0: palette::series_colors by position
};

struct BarChartOptions {
  double y_min = 0.0, y_max = 0.0;  // equal: from min(0, smallest) to the largest, with margin
  const char* y_label = nullptr;
  const char* value_format = "%g";  // hover readout and value labels
  bool value_labels = false;        // each bar's value above it, when it fits
  bool legend = true;               // when some series has a label
  bool hover = true;
};

// Draws one group of bars per category (labels; more values than labels get their index as
// label), one bar per series, from 0 (or the range's edge nearest 0) to the value.
void bar_chart(const char* title, ImVec2 size, const std::vector<std::string>& labels,
               const std::vector<BarSeries>& series, const BarChartOptions& options = {});

// Draws counts (true class x predicted class) as a square grid: rows true, columns predicted
// (axis titles "true" and "predicted"), class_labels naming both (index when missing). Each
// cell is shaded by its share of its row (the fraction of that true class predicted so),
// diagonal cells in palette::correct, the others in palette::wrong, from palette::cell at 0;
// the count is written in every cell that has room for it.
void confusion_matrix(const char* title, ImVec2 size, const Mat& counts,
                      const std::vector<std::string>& class_labels);

// Draws data points (first two features) over a grid_n x grid_n map of class probabilities
// covering [lo, hi]²: probs is classes x grid_n² (cells row-major from the bottom-left; empty =
// no map yet). Each cell mixes the class colours by probability.
void class_map(const char* title, ImVec2 size, const Dataset& data, const Mat& probs, int grid_n,
               float lo, float hi);

}  // namespace patlab
