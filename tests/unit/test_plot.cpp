// The plots, drawn in a headless ImGui context (no window, no GPU): each test draws one frame
// and reads back what the plot emitted, from ImGui's draw data: filled rectangles (PrimRect
// quads of one colour), curve vertices by colour, and text, decoded from the glyph quads by
// their font-atlas coordinates. So a test sees what would reach the screen, not what the code
// meant to draw.
#include <gtest/gtest.h>
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "patlab/app/plot.h"
#include "patlab/app/style.h"

namespace patlab {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();
constexpr float kInff = std::numeric_limits<float>::infinity();

struct Rect {
  ImVec2 min, max;
  ImU32 col = 0;
  ImVec2 center() const { return ImVec2((min.x + max.x) * 0.5f, (min.y + max.y) * 0.5f); }
  float width() const { return max.x - min.x; }
  float height() const { return max.y - min.y; }
  bool contains(ImVec2 p, float tol = 0) const {
    return p.x >= min.x - tol && p.x <= max.x + tol && p.y >= min.y - tol && p.y <= max.y + tol;
  }
};

struct Text {
  std::string s;
  Rect box;  // of the glyph quads
};

float luminance(ImU32 c) {
  const ImVec4 v = ImGui::ColorConvertU32ToFloat4(c);
  return 0.2126f * v.x + 0.7152f * v.y + 0.0722f * v.z;
}

bool same_rgb(ImU32 a, ImU32 b) { return ((a ^ b) & 0x00FFFFFFu) == 0; }

// One ImGui context per test, 800 x 600, with the built-in font.
class Plot : public ::testing::Test {
 protected:
  void SetUp() override {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // no imgui.ini left behind
    io.LogFilename = nullptr;
    io.DisplaySize = ImVec2(800, 600);
    io.DeltaTime = 1.0f / 60.0f;
    io.BackendFlags |= ImGuiBackendFlags_RendererHasVtxOffset;  // as the OpenGL3 backend
    io.Fonts->AddFontDefault();
    unsigned char* pixels = nullptr;
    int w = 0, h = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
  }
  void TearDown() override { ImGui::DestroyContext(); }

  // Draws `draw` in a borderless window at the origin, `frames` times (hovering needs a frame
  // to learn where the windows are), and returns the last frame's draw data.
  const ImDrawData& frame(const std::function<void()>& draw, ImVec2 window = ImVec2(800, 600),
                          int frames = 1) {
    for (int i = 0; i < frames; ++i) {
      ImGui::NewFrame();
      ImGui::SetNextWindowPos(ImVec2(0, 0));
      ImGui::SetNextWindowSize(window);
      ImGui::Begin("plots", nullptr,
                   ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                       ImGuiWindowFlags_NoSavedSettings);
      draw();
      ImGui::End();
      ImGui::Render();
    }
    return *ImGui::GetDrawData();
  }

  template <class F>
  static void each_list(const ImDrawData& dd, F f) {
    for (int n = 0; n < dd.CmdListsCount; ++n) f(*dd.CmdLists[n]);
  }

  // Filled axis-aligned rectangles of one colour, as ImDrawList::PrimRect writes them.
  static std::vector<Rect> filled_rects(const ImDrawData& dd) {
    const ImVec2 white = ImGui::GetIO().Fonts->TexUvWhitePixel;
    std::vector<Rect> out;
    each_list(dd, [&](const ImDrawList& dl) {
      const ImDrawVert* v = dl.VtxBuffer.Data;
      for (int i = 0; i + 3 < dl.VtxBuffer.Size; ++i) {
        bool quad = true;
        for (int k = 0; k < 4; ++k)
          quad = quad && v[i + k].uv.x == white.x && v[i + k].uv.y == white.y &&
                 v[i + k].col == v[i].col;
        quad = quad && v[i + 1].pos.x == v[i + 2].pos.x && v[i + 1].pos.y == v[i].pos.y &&
               v[i + 3].pos.x == v[i].pos.x && v[i + 3].pos.y == v[i + 2].pos.y &&
               v[i].pos.x < v[i + 2].pos.x && v[i].pos.y < v[i + 2].pos.y;
        if (!quad) continue;
        out.push_back({v[i].pos, v[i + 2].pos, v[i].col});
        i += 3;
      }
    });
    return out;
  }

  static std::vector<Rect> rects_of(const ImDrawData& dd, ImU32 col) {
    std::vector<Rect> out;
    for (const Rect& r : filled_rects(dd))
      if (r.col == col) out.push_back(r);
    return out;
  }

  // Atlas coordinates of glyph corners: vertices there are text, not shapes.
  static std::set<std::pair<float, float>> glyph_corners() {
    std::set<std::pair<float, float>> uv;
    for (const ImFontGlyph& g : ImGui::GetFont()->Glyphs)
      if (g.Visible)
        for (float u : {g.U0, g.U1})
          for (float w : {g.V0, g.V1}) uv.insert({u, w});
    return uv;
  }

  // Positions of the vertices of shapes (not text) of one colour; alpha ignored unless exact
  // (anti-aliased edges fade out).
  static std::vector<ImVec2> vertices_of(const ImDrawData& dd, ImU32 col, bool exact = false) {
    const auto text = glyph_corners();
    std::vector<ImVec2> out;
    each_list(dd, [&](const ImDrawList& dl) {
      for (const ImDrawVert& v : dl.VtxBuffer)
        if ((exact ? v.col == col : same_rgb(v.col, col)) && !text.count({v.uv.x, v.uv.y}))
          out.push_back(v.pos);
    });
    return out;
  }

  // The clip rectangles of the draw commands that draw vertices of colour col.
  static std::vector<ImVec4> clips_of(const ImDrawData& dd, ImU32 col) {
    std::vector<ImVec4> out;
    each_list(dd, [&](const ImDrawList& dl) {
      for (const ImDrawCmd& cmd : dl.CmdBuffer)
        for (unsigned e = 0; e < cmd.ElemCount; ++e)
          if (same_rgb(dl.VtxBuffer[int(cmd.VtxOffset + dl.IdxBuffer[int(cmd.IdxOffset + e)])].col,
                       col)) {
            out.push_back(cmd.ClipRect);
            break;
          }
    });
    return out;
  }

  static Rect bounds(const std::vector<ImVec2>& pts) {
    Rect r{ImVec2(1e9f, 1e9f), ImVec2(-1e9f, -1e9f)};
    for (const ImVec2& p : pts) {
      r.min = ImVec2(std::min(r.min.x, p.x), std::min(r.min.y, p.y));
      r.max = ImVec2(std::max(r.max.x, p.x), std::max(r.max.y, p.y));
    }
    return r;
  }

  // The plotting rectangle of a line plot or bar chart: its two axis lines span it.
  static Rect plot_rect(const ImDrawData& dd) {
    std::vector<ImVec2> pts;
    each_list(dd, [&](const ImDrawList& dl) {
      for (const ImDrawVert& v : dl.VtxBuffer)
        if (v.col == palette::axis) pts.push_back(v.pos);
    });
    EXPECT_FALSE(pts.empty()) << "no axis lines drawn";
    return bounds(pts);
  }

  // Text as drawn: glyph quads are found by their corners' atlas coordinates, and consecutive
  // glyphs that continue one another along the text direction (turned text too) form a run.
  static std::vector<Text> texts(const ImDrawData& dd) {
    const ImFont* font = ImGui::GetFont();
    std::map<std::pair<float, float>, const ImFontGlyph*> by_uv;
    for (const ImFontGlyph& g : font->Glyphs)
      if (g.Visible) by_uv[{g.U0, g.V0}] = &g;
    const float space = font->FindGlyph(' ')->AdvanceX;
    std::vector<Text> out;
    each_list(dd, [&](const ImDrawList& dl) {
      const ImDrawVert* v = dl.VtxBuffer.Data;
      int last = -100;
      ImVec2 last_origin, last_dir;
      float last_advance = 0;
      ImU32 last_col = 0;
      for (int i = 0; i + 3 < dl.VtxBuffer.Size; ++i) {
        const auto it = by_uv.find({v[i].uv.x, v[i].uv.y});
        if (it == by_uv.end()) continue;
        const ImFontGlyph& g = *it->second;
        if (v[i + 2].uv.x != g.U1 || v[i + 2].uv.y != g.V1) continue;
        auto unit = [](ImVec2 d) {
          const float n = std::sqrt(d.x * d.x + d.y * d.y);
          return n > 0 ? ImVec2(d.x / n, d.y / n) : ImVec2(1, 0);
        };
        const ImVec2 ex = unit(ImVec2(v[i + 1].pos.x - v[i].pos.x, v[i + 1].pos.y - v[i].pos.y));
        const ImVec2 ey = unit(ImVec2(v[i + 3].pos.x - v[i].pos.x, v[i + 3].pos.y - v[i].pos.y));
        const ImVec2 origin(v[i].pos.x - ex.x * g.X0 - ey.x * g.Y0,
                            v[i].pos.y - ex.y * g.X0 - ey.y * g.Y0);
        bool joins = false;
        int spaces = 0;
        if (last == i - 4 && v[i].col == last_col) {
          const ImVec2 d(origin.x - last_origin.x, origin.y - last_origin.y);
          const float along = d.x * last_dir.x + d.y * last_dir.y;
          const float across = std::fabs(d.x * last_dir.y - d.y * last_dir.x);
          const float gap = (along - last_advance) / space;
          spaces = int(std::lround(gap));
          joins = across < 0.5f && spaces >= 0 && spaces <= 3 && std::fabs(gap - spaces) < 0.1f;
        }
        if (!joins) {
          out.push_back({"", {v[i].pos, v[i].pos, v[i].col}});
          spaces = 0;
        }
        Text& t = out.back();
        t.s += std::string(size_t(spaces), ' ') + char(g.Codepoint);
        for (int k = 0; k < 4; ++k) {
          t.box.min =
              ImVec2(std::min(t.box.min.x, v[i + k].pos.x), std::min(t.box.min.y, v[i + k].pos.y));
          t.box.max =
              ImVec2(std::max(t.box.max.x, v[i + k].pos.x), std::max(t.box.max.y, v[i + k].pos.y));
        }
        last = i;
        last_origin = origin;
        last_dir = ex;
        last_advance = g.AdvanceX;
        last_col = v[i].col;
        i += 3;
      }
    });
    return out;
  }

  static const Text* find_text(const std::vector<Text>& all, const std::string& s) {
    for (const Text& t : all)
      if (t.s == s) return &t;
    return nullptr;
  }

  static bool all_finite(const ImDrawData& dd) {
    bool ok = true;
    each_list(dd, [&](const ImDrawList& dl) {
      for (const ImDrawVert& v : dl.VtxBuffer)
        ok = ok && std::isfinite(v.pos.x) && std::isfinite(v.pos.y);
    });
    return ok;
  }
};

// ---- ticks ----

TEST(PlotTicks, NiceTicksStepByOneTwoOrFiveTimesAPowerOfTen) {
  auto expect = [](double lo, double hi, int n, std::vector<double> want) {
    const std::vector<double> got = nice_ticks(lo, hi, n);
    ASSERT_EQ(got.size(), want.size()) << lo << ".." << hi << " max " << n;
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << i;
  };
  expect(0, 1, 6, {0, 0.2, 0.4, 0.6, 0.8, 1.0});
  expect(0, 1, 5, {0, 0.5, 1.0});  // 0.2 would make six
  expect(-3.7, 12.2, 8, {-2, 0, 2, 4, 6, 8, 10, 12});
  expect(0.001, 0.005, 5, {0.001, 0.002, 0.003, 0.004, 0.005});
  expect(12.2, -3.7, 8, {-2, 0, 2, 4, 6, 8, 10, 12});  // bounds in either order
  expect(0, 2000, 5, {0, 500, 1000, 1500, 2000});
  expect(5, 5, 4, {5});
  EXPECT_TRUE(nice_ticks(kNaN, 1, 5).empty());
  EXPECT_TRUE(nice_ticks(0, std::numeric_limits<double>::infinity(), 5).empty());
  EXPECT_LE(nice_ticks(0, 1, 0).size(), 2u);
  // Labels print exactly: no 0.30000000000000004, no "-0".
  EXPECT_EQ(nice_ticks(0, 0.3, 4)[3], 0.3);
  EXPECT_FALSE(std::signbit(nice_ticks(-0.5, 0.5, 3)[1]));
}

TEST(PlotTicks, NiceTicksUseTheFinestStepThatFits) {
  // Over many ranges: between one and max_ticks ticks, inside the range, evenly spaced by a
  // 1/2/5 step, and the next finer 1/2/5 step would give too many.
  const double mantissa[] = {1, 2, 5}, finer[] = {0.5, 0.5, 0.4};  // 1 -> 0.5, 2 -> 1, 5 -> 2
  for (int n = 2; n <= 9; ++n)
    for (double lo = -7.3; lo < 5; lo += 1.37)
      for (double span : {0.013, 0.7, 3.0, 55.0, 1234.5}) {
        const double hi = lo + span;
        const std::vector<double> t = nice_ticks(lo, hi, n);
        ASSERT_GE(t.size(), 1u);
        ASSERT_LE(int(t.size()), n);
        for (double v : t) {
          EXPECT_GE(v, lo - 1e-9 * span);
          EXPECT_LE(v, hi + 1e-9 * span);
        }
        if (t.size() < 2) continue;
        const double step = t[1] - t[0];
        for (size_t i = 2; i < t.size(); ++i) EXPECT_NEAR(t[i] - t[i - 1], step, 1e-9 * step);
        const double e = std::floor(std::log10(step) + 1e-9), m = step / std::pow(10.0, e);
        const int which = std::fabs(m - 1) < 1e-6 ? 0 : std::fabs(m - 2) < 1e-6 ? 1 : 2;
        EXPECT_NEAR(m, mantissa[which], 1e-6) << "step " << step;
        const double smaller = step * finer[which];
        const double count = std::floor(hi / smaller + 1e-9) - std::ceil(lo / smaller - 1e-9) + 1;
        EXPECT_GT(count, n) << lo << ".." << hi << ": step " << smaller << " would fit";
      }
}

TEST(PlotTicks, LogTicksAreDecadesOrOneTwoFive) {
  auto near_all = [](const std::vector<double>& got, const std::vector<double>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i] / want[i], 1.0, 1e-12);
  };
  near_all(log_ticks(1e-3, 10, 6), {1e-3, 1e-2, 0.1, 1, 10});
  near_all(log_ticks(1e-6, 1e6, 5), {1e-6, 1e-3, 1, 1e3, 1e6});
  near_all(log_ticks(2, 30, 6), {2, 5, 10, 20});
  near_all(log_ticks(0.045, 1.9, 8), {0.05, 0.1, 0.2, 0.5, 1});  // two decades: room for 2 and 5
  near_all(log_ticks(0.045, 1.9, 4), {0.1, 1});
  EXPECT_TRUE(log_ticks(-1, 10, 5).empty());
  EXPECT_TRUE(log_ticks(0, 10, 5).empty());
}

TEST(PlotTicks, LabelsHaveTheStepsPrecision) {
  EXPECT_EQ(tick_label(0.25, 0.25), "0.25");
  EXPECT_EQ(tick_label(0.4, 0.2), "0.4");
  EXPECT_EQ(tick_label(3, 0.5), "3.0");
  EXPECT_EQ(tick_label(20, 10), "20");
  EXPECT_EQ(tick_label(-0.0, 1), "0");
  EXPECT_EQ(tick_label(2e7, 1e7), "2e+07");
  EXPECT_EQ(tick_label(kNaN, 1), "nan");
}

TEST(PlotColors, HeatScaleGetsBrighterWithTheValueAndNaNIsMissing) {
  EXPECT_EQ(heat_color(0), palette::scale[0]);
  EXPECT_EQ(heat_color(1), palette::scale[10]);
  EXPECT_EQ(heat_color(7), palette::scale[10]);
  EXPECT_EQ(heat_color(-1), palette::scale[0]);
  EXPECT_EQ(heat_color(kNaN), palette::missing);
  for (double t = 0.02; t <= 1.0; t += 0.02)
    EXPECT_GT(luminance(heat_color(t)), luminance(heat_color(t - 0.02))) << t;
}

// ---- line plot ----

TEST_F(Plot, LineStaysInsideThePlotRectangleForOutOfRangeData) {
  const ImU32 corner_col = IM_COL32(1, 2, 3, 255), wild_col = IM_COL32(4, 5, 6, 255);
  // One curve from corner to corner of the range, one far outside it most of the time; its
  // middle point (5, 0.5) is in range, at the centre of the rectangle.
  const std::vector<float> cx{0, 10};
  const std::vector<float> wx{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const std::vector<float> wy{-5, 3, 100, kNaNf, 3, 0.5f, -2, kInff, 1e30f, -1e30f, 0.2f};
  for (bool log_y : {false, true}) {
    LinePlotOptions o;  // y from 0 to 1 (log: from 0.01 to 1)
    o.log_y = log_y;
    o.legend = false;  // its colour swatches are not curves
    if (log_y) o.y_min = 0.01f;
    const std::vector<float> cy{o.y_min, o.y_max};
    const std::vector<Series> s{{"corner", &cx, &cy, corner_col}, {"wild", &wx, &wy, wild_col}};
    const ImDrawData& dd = frame([&] { line_plot("Curves", ImVec2(600, 400), s, o); });
    const Rect plot = plot_rect(dd);
    EXPECT_GT(plot.width(), 400);
    EXPECT_GT(plot.height(), 250);
    // The corner-to-corner curve spans the rectangle: the axes found it right.
    const Rect corner = bounds(vertices_of(dd, corner_col));
    EXPECT_NEAR(corner.min.x, plot.min.x, 3.0f);
    EXPECT_NEAR(corner.max.y, plot.max.y, 3.0f);
    const std::vector<ImVec2> wild = vertices_of(dd, wild_col);
    ASSERT_FALSE(wild.empty()) << "the in-range parts were not drawn";
    // Half the line width and its soft edge (a lone point's dot, at the right edge here, is as
    // wide as the line).
    const float tol = o.thickness * 0.5f + 2.0f;
    for (const ImVec2& p : wild) EXPECT_TRUE(plot.contains(p, tol)) << p.x << ", " << p.y;
    // And the scissor keeps even that on the rectangle's edge.
    for (const ImVec4& c : clips_of(dd, wild_col))
      EXPECT_TRUE(plot.contains(ImVec2(c.x, c.y), tol) && plot.contains(ImVec2(c.z, c.w), tol));
    // The curve passes through its one point in range, (5, 0.5): half way across, and half
    // way up (log: 0.5 is 85% of the way from 0.01 to 1).
    const ImVec2 at(plot.center().x,
                    plot.max.y - plot.height() * (log_y ? float(std::log10(0.5) + 2) / 2 : 0.5f));
    bool through = false;
    for (const ImVec2& p : wild)
      through = through || (std::fabs(p.x - at.x) < 3 && std::fabs(p.y - at.y) < 3);
    EXPECT_TRUE(through) << "the point (5, 0.5) is not where it belongs";
    EXPECT_TRUE(all_finite(dd));
  }
}

TEST_F(Plot, EqualYBoundsFitTheDataWithAMargin) {
  const ImU32 col = IM_COL32(7, 8, 9, 255);
  const std::vector<float> x{0, 1, 2, 3, 4}, y{-3, 7, 2, 5, 1};
  LinePlotOptions o;
  o.y_min = o.y_max = 0;
  const ImDrawData& dd = frame([&] { line_plot("Fit", ImVec2(600, 400), {{"", &x, &y, col}}, o); });
  const Rect plot = plot_rect(dd), curve = bounds(vertices_of(dd, col));
  const float share = curve.height() / plot.height();
  EXPECT_GT(share, 0.8f) << "the data fill too little of the height";
  EXPECT_LT(share, 0.97f) << "no margin, or the data were cut off";
  EXPECT_TRUE(plot.contains(curve.min, 2) && plot.contains(curve.max, 2));
  // -3 .. 7 gets ticks at nice values, 7 among them.
  const std::vector<Text> t = texts(dd);
  EXPECT_NE(find_text(t, "-2"), nullptr);
  EXPECT_NE(find_text(t, "6"), nullptr);
}

TEST_F(Plot, XAxisIsTickedAndLabelled) {
  const std::vector<float> x{0, 250, 500, 750, 1000}, y{0.1f, 0.4f, 0.6f, 0.7f, 0.8f};
  LinePlotOptions o;
  const ImDrawData& dd = frame([&] {
    line_plot("Accuracy", ImVec2(600, 300), {{"PAT", &x, &y, palette::device}}, o);
  });
  const std::vector<Text> t = texts(dd);
  const Rect plot = plot_rect(dd);
  // Tick labels under the axis, increasing to the right, at nice steps of 0..1000.
  std::vector<std::pair<float, double>> ticks;
  for (const Text& s : t)
    if (s.box.min.y > plot.max.y && s.box.min.y < plot.max.y + 20 && !s.s.empty() &&
        s.s.find_first_not_of("0123456789") == std::string::npos)
      ticks.push_back({s.box.center().x, std::stod(s.s)});
  ASSERT_GE(ticks.size(), 3u);
  std::sort(ticks.begin(), ticks.end());
  EXPECT_EQ(ticks.front().second, 0);
  EXPECT_EQ(ticks.back().second, 1000);
  for (size_t i = 1; i < ticks.size(); ++i) EXPECT_GT(ticks[i].second, ticks[i - 1].second);
  EXPECT_NE(find_text(t, "step"), nullptr);
  EXPECT_NE(find_text(t, "Accuracy"), nullptr);
  // Legend: the label with the latest value.
  EXPECT_NE(find_text(t, "PAT  0.8"), nullptr);
}

TEST_F(Plot, HoverShowsTheNearestPointsValue) {
  const std::vector<float> x{0, 10, 20}, y{0.2f, 0.75f, 0.5f};
  LinePlotOptions o;
  o.y_format = "%.2f";
  const auto draw = [&] {
    line_plot("Hover", ImVec2(600, 400), {{"twin", &x, &y, palette::twin}}, o);
  };
  const Rect plot = plot_rect(frame(draw));
  // (10, 0.75): half way across, three quarters up; the mouse a few pixels off.
  ImGui::GetIO().MousePos =
      ImVec2(plot.min.x + plot.width() * 0.5f + 4, plot.max.y - plot.height() * 0.75f - 3);
  const std::vector<Text> t = texts(frame(draw, ImVec2(800, 600), 3));
  EXPECT_NE(find_text(t, "twin: 0.75 at step 10"), nullptr);
}

// ---- heat map ----

TEST_F(Plot, HeatMapDrawsOneCellPerEntryColouredByValue) {
  Mat v(3, 4);  // distinct values, none on a stop of the scale
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) v(r, c) = 0.03 + 0.08 * (4 * r + c);
  HeatMapOptions o;
  o.x_label = "noise";
  o.y_label = "mismatch";
  const ImDrawData& dd = frame([&] { heat_map("Robustness", ImVec2(600, 400), v, o); });
  Rect cell[3][4];
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) {
      const std::vector<Rect> found = rects_of(dd, heat_color(v(r, c)));
      ASSERT_EQ(found.size(), 1u) << "cell " << r << ", " << c;
      cell[r][c] = found[0];
    }
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) {
      EXPECT_NEAR(cell[r][c].width(), cell[0][0].width(), 0.01f);
      EXPECT_NEAR(cell[r][c].height(), cell[0][0].height(), 0.01f);
      if (c > 0) {
        EXPECT_GT(cell[r][c].min.x, cell[r][c - 1].min.x);  // columns to the right
      }
      if (r > 0) {
        EXPECT_LT(cell[r][c].min.y, cell[r - 1][c].min.y);  // row 0 at the bottom
      }
    }
  // Larger values, brighter cells: the scale reads without a legend.
  for (int k = 1; k < 12; ++k)
    EXPECT_GT(luminance(cell[k / 4][k % 4].col), luminance(cell[(k - 1) / 4][(k - 1) % 4].col));
  const std::vector<Text> t = texts(dd);
  EXPECT_NE(find_text(t, "noise"), nullptr);
  EXPECT_NE(find_text(t, "mismatch"), nullptr);  // reading upwards
  EXPECT_NE(find_text(t, "0.5"), nullptr);       // a colour bar tick
}

TEST_F(Plot, HeatMapDrawsNaNCellsAsMissingAndOutlinesTheHighlight) {
  Mat v(2, 3);
  v << 0.1, kNaN, 0.9, kNaN, 0.5, 0.7;
  HeatMapOptions o;
  o.highlight_row = 1;
  o.highlight_col = 2;
  const ImDrawData& dd = frame([&] { heat_map("Sweep", ImVec2(500, 300), v, o); });
  const Rect known = rects_of(dd, heat_color(0.1))[0];
  std::vector<Rect> missing;
  for (const Rect& r : rects_of(dd, palette::missing))
    if (std::fabs(r.width() - known.width()) < 0.01f &&
        std::fabs(r.height() - known.height()) < 0.01f)
      missing.push_back(r);
  ASSERT_EQ(missing.size(), 2u);
  // (0, 1) on the bottom row, (1, 0) on the top row at the left.
  std::sort(missing.begin(), missing.end(),
            [](const Rect& a, const Rect& b) { return a.min.x < b.min.x; });
  EXPECT_NEAR(missing[0].min.y + known.height(), known.min.y, 2.0f);  // above (0, 0)
  EXPECT_NEAR(missing[1].min.y, known.min.y, 0.01f);                  // beside (0, 0)
  EXPECT_FALSE(vertices_of(dd, palette::missing_hatch).empty()) << "no hatching";
  EXPECT_NE(find_text(texts(dd), "not computed"), nullptr);
  // The outline surrounds cell (1, 2): value 0.7.
  const Rect target = rects_of(dd, heat_color(0.7))[0];
  const Rect outline = bounds(vertices_of(dd, palette::highlight, true));
  EXPECT_TRUE(outline.contains(target.min) && outline.contains(target.max));
  EXPECT_LT(outline.width(), target.width() + 10);
  EXPECT_LT(outline.height(), target.height() + 10);
}

TEST_F(Plot, HeatMapWritesValuesInCellsThatHaveRoom) {
  Mat v(2, 2);
  v << 0.25, 0.5, 0.75, 1.0;
  HeatMapOptions o;
  o.cell_format = "%.2f";
  const ImDrawData& dd = frame([&] { heat_map("Values", ImVec2(400, 300), v, o); });
  const std::vector<Text> t = texts(dd);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 2; ++c) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%.2f", v(r, c));
      const Text* text = find_text(t, buf);
      ASSERT_NE(text, nullptr) << buf;
      const Rect cell = rects_of(dd, heat_color(v(r, c)))[0];
      EXPECT_TRUE(cell.contains(text->box.min) && cell.contains(text->box.max)) << buf;
      // Readable: dark text on the bright end, light on the dark end.
      EXPECT_GT(std::fabs(luminance(text->box.col) - luminance(cell.col)), 0.35f) << buf;
    }
}

// ---- bar chart ----

TEST_F(Plot, BarsAreProportionalAndGroupedByCategory) {
  const ImU32 train = IM_COL32(11, 12, 13, 255), test = IM_COL32(14, 15, 16, 255);
  const std::vector<std::string> labels{"cat", "dog", "owl"};
  const std::vector<BarSeries> series{{"train", {50, 30, 20}, train}, {"test", {10, 6, 4}, test}};
  const ImDrawData& dd =
      frame([&] { bar_chart("Class balance", ImVec2(600, 400), labels, series); });
  const Rect plot = plot_rect(dd);
  auto bars = [&](ImU32 col) {
    std::vector<Rect> out;
    for (const Rect& r : rects_of(dd, col))
      if (plot.contains(r.min, 0.5f) && plot.contains(r.max, 0.5f)) out.push_back(r);
    std::sort(out.begin(), out.end(),
              [](const Rect& a, const Rect& b) { return a.min.x < b.min.x; });
    return out;
  };
  const std::vector<Rect> a = bars(train), b = bars(test);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  const double unit = a[0].height() / 50.0;  // pixels per count
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(a[size_t(i)].height(), series[0].values[size_t(i)] * unit, 1.0);
    EXPECT_NEAR(b[size_t(i)].height(), series[1].values[size_t(i)] * unit, 1.0);
    EXPECT_NEAR(a[size_t(i)].max.y, a[0].max.y, 0.01f);  // one baseline
    EXPECT_NEAR(b[size_t(i)].max.y, a[0].max.y, 0.01f);
    EXPECT_LT(a[size_t(i)].max.x, b[size_t(i)].min.x + 0.01f);  // test right of train
    if (i > 0) {
      EXPECT_GT(a[size_t(i)].min.x, b[size_t(i - 1)].max.x);  // groups in order
    }
  }
  EXPECT_LT(a[0].min.y, plot.min.y + plot.height() * 0.15f);  // the largest bar nearly fills
  const std::vector<Text> t = texts(dd);
  for (const char* s : {"cat", "dog", "owl", "train", "test", "Class balance"})
    EXPECT_NE(find_text(t, s), nullptr) << s;
}

// ---- confusion matrix ----

std::vector<Rect> square_grid(const std::vector<Rect>& rects, size_t n) {
  // The n x n cells: squares of one size that occurs exactly n * n times, row-major.
  std::map<int, std::vector<Rect>> by_size;
  for (const Rect& r : rects)
    if (std::fabs(r.width() - r.height()) < 0.01f)
      by_size[int(std::lround(r.width() * 100))].push_back(r);
  for (auto& [size, cells] : by_size)
    if (cells.size() == n * n) {
      std::sort(cells.begin(), cells.end(), [](const Rect& a, const Rect& b) {
        return a.min.y != b.min.y ? a.min.y < b.min.y : a.min.x < b.min.x;
      });
      return cells;
    }
  return {};
}

TEST_F(Plot, ConfusionMatrixOfAPerfectClassifierShadesOnlyTheDiagonal) {
  Mat counts = Mat::Zero(3, 3);
  counts.diagonal() << 40, 25, 35;
  const ImDrawData& dd = frame([&] {
    confusion_matrix("Confusion", ImVec2(500, 400), counts, {"left", "mid", "right"});
  });
  const std::vector<Rect> cells = square_grid(filled_rects(dd), 3);
  ASSERT_EQ(cells.size(), 9u);
  auto strength = [](ImU32 c) {  // how far from an empty cell
    const ImVec4 a = ImGui::ColorConvertU32ToFloat4(c),
                 e = ImGui::ColorConvertU32ToFloat4(palette::cell);
    return std::fabs(a.x - e.x) + std::fabs(a.y - e.y) + std::fabs(a.z - e.z);
  };
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      const ImU32 col = cells[size_t(3 * r + c)].col;
      if (r == c) {
        EXPECT_EQ(col, palette::correct) << r;  // the whole row: full strength
      } else {
        EXPECT_EQ(col, palette::cell) << r << ", " << c;
        EXPECT_GT(strength(cells[size_t(4 * r)].col), strength(col) + 0.5f);
      }
    }
  const std::vector<Text> t = texts(dd);
  for (int k = 0; k < 3; ++k) {  // each count in its own cell
    const Text* count = find_text(t, std::to_string(int(counts(k, k))));
    ASSERT_NE(count, nullptr) << k;
    EXPECT_TRUE(cells[size_t(4 * k)].contains(count->box.center())) << k;
  }
  int zeros = 0;
  for (const Text& s : t) zeros += s.s == "0";
  EXPECT_EQ(zeros, 6);
  for (const char* s : {"true", "predicted", "left", "mid", "right"})
    EXPECT_NE(find_text(t, s), nullptr) << s;
}

TEST_F(Plot, ConfusionMatrixShadesByTheShareOfEachTrueClass) {
  // A common and a rare class with the same error rate look the same.
  Mat counts(2, 2);
  counts << 90, 10, 1, 9;
  const ImDrawData& dd = frame([&] { confusion_matrix("Errors", ImVec2(400, 400), counts, {}); });
  const std::vector<Rect> cells = square_grid(filled_rects(dd), 2);
  ASSERT_EQ(cells.size(), 4u);
  EXPECT_EQ(cells[1].col, cells[2].col);  // 10 of 100 and 1 of 10
  EXPECT_EQ(cells[0].col, cells[3].col);  // 90 of 100 and 9 of 10
  EXPECT_NE(cells[0].col, cells[1].col);  // right and wrong in different hues
  const std::vector<Text> t = texts(dd);
  for (const char* s : {"90", "10", "1", "9", "90%", "10%"})
    EXPECT_NE(find_text(t, s), nullptr) << s;
}

// ---- robustness ----

TEST_F(Plot, EmptyNaNAndTinyInputsDrawNothingBrokenAndDoNotCrash) {
  const ImU32 col = IM_COL32(21, 22, 23, 255);
  const std::vector<float> none, one{1}, nan3{kNaNf, kNaNf, kNaNf}, x3{0, 1, 2},
      inf3{kInff, -kInff, kInff};
  const Mat empty, nan_mat = Mat::Constant(3, 3, kNaN), one_cell = Mat::Constant(1, 1, 2.0);
  Dataset one_feature;
  one_feature.x = Mat::Zero(1, 3);
  one_feature.y = Labels::Constant(3, -5);
  LinePlotOptions fit, logo;
  fit.y_min = fit.y_max = 0;
  logo.log_y = true;
  logo.y_min = -1;  // not a log range: fitted instead
  HeatMapOptions fit_scale;
  fit_scale.v_min = fit_scale.v_max = 3;
  fit_scale.cell_format = "%.1f";
  fit_scale.highlight_row = 7;
  const std::vector<std::function<void(ImVec2)>> plots{
      [&](ImVec2 s) { line_plot("a", s, {}, fit); },
      [&](ImVec2 s) {
        line_plot("b", s, {{"x", nullptr, &one, col}, {"y", &x3, nullptr, col}}, {});
      },
      [&](ImVec2 s) {
        line_plot("c", s, {{"nan", &x3, &nan3, col}, {"short", &one, &x3, col}}, fit);
      },
      [&](ImVec2 s) {
        line_plot("d", s, {{"inf", &x3, &inf3, col}, {"nan x", &nan3, &x3, col}}, logo);
      },
      [&](ImVec2 s) {
        line_plot("e", s, {{"empty", &none, &none, col}}, logo);
      },
      [&](ImVec2 s) { heat_map("f", s, empty, {}); },
      [&](ImVec2 s) { heat_map("g", s, nan_mat, fit_scale); },
      [&](ImVec2 s) { heat_map("h", s, one_cell, fit_scale); },
      [&](ImVec2 s) { bar_chart("i", s, {}, {}, {}); },
      [&](ImVec2 s) {
        bar_chart("j", s, {"a"}, {{"nan", {kNaN, 1e308, -1e308}, col}}, {});
      },
      [&](ImVec2 s) { confusion_matrix("k", s, empty, {}); },
      [&](ImVec2 s) { confusion_matrix("l", s, Mat::Zero(2, 2), {}); },
      [&](ImVec2 s) { confusion_matrix("m", s, nan_mat, {"only one"}); },
      [&](ImVec2 s) { class_map("n", s, one_feature, Mat::Constant(2, 4, kNaN), 2, 1, 1); },
      [&](ImVec2 s) { class_map("o", s, Dataset{}, Mat(), 0, 0, 1); },
  };
  for (size_t i = 0; i < plots.size(); ++i) {
    for (ImVec2 size : {ImVec2(300, 200), ImVec2(1, 1), ImVec2(3, 300), ImVec2(300, 3)}) {
      const ImDrawData& dd = frame([&] { plots[i](size); });
      EXPECT_TRUE(all_finite(dd)) << "plot " << i << " at " << size.x << " x " << size.y;
      if (size.x < 10 || size.y < 10) {  // no room: only the (clipped) title
        EXPECT_TRUE(vertices_of(dd, col).empty()) << "plot " << i;
      }
    }
    // Size 0 = all the room there is, in a window too small for even the title.
    EXPECT_TRUE(all_finite(frame([&] { plots[i](ImVec2(0, 0)); }, ImVec2(12, 12))));
  }
}

}  // namespace
}  // namespace patlab
