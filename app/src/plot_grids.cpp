// The plots on a grid of cells (plot.h): heat maps, confusion matrices and class maps.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "patlab/app/plot.h"
#include "patlab/app/style.h"
#include "plot_draw.h"

namespace patlab {

using namespace plot_detail;

namespace {

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

void heat_map(const char* title, ImVec2 size, const Mat& values, const HeatMapOptions& o) {
  ImVec2 p0, p1;
  if (begin_panel(title, size, p0, p1)) draw_heat_map(p0, p1, values, o);
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
