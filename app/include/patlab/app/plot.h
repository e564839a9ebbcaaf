// patlab/app/plot.h: the two small plots the lab needs, drawn with ImGui's draw lists.
//
//   line_plot     curves over training steps, fixed y range, legend, optional reference line
//   class_map     2-D data points over a grid of predicted class probabilities
#pragma once

#include <imgui.h>

#include <string>
#include <vector>

#include "patlab/core/dataset.h"

namespace patlab {

struct Series {
  std::string label;
  const std::vector<float>* x = nullptr;  // same length as y
  const std::vector<float>* y = nullptr;
  ImU32 color = 0;
};

struct LinePlotOptions {
  float y_min = 0.0f, y_max = 1.0f;
  const char* y_format = "%.1f";   // tick labels
  float reference_y = -1.0f;       // a dotted horizontal line (e.g. chance) when inside range
  const char* reference_label = nullptr;
};

// Draws a titled plot filling `size` (use 0 for available width). Series share the x axis,
// which spans [0, largest x seen].
void line_plot(const char* title, ImVec2 size, const std::vector<Series>& series,
               const LinePlotOptions& options);

// Draws data points (first two features) over a grid_n x grid_n map of class probabilities
// covering [lo, hi]²: probs is classes x grid_n² (cells row-major from the bottom-left; empty =
// no map yet). Each cell mixes the class colours by probability.
void class_map(const char* title, ImVec2 size, const Dataset& data, const Mat& probs, int grid_n,
               float lo, float hi);

}  // namespace patlab
