// patlab/app/style.h: the lab's look: font, colours, spacing. One palette for every plot.
#pragma once

#include <imgui.h>

namespace patlab {

// Loads the embedded UI font (Roboto) and sets the colour theme. Call once, after
// ImGui::CreateContext().
// pixel_ratio: device pixels per logical pixel (2 on most high-DPI screens).
void apply_style(float pixel_ratio = 1.0f);

namespace palette {
constexpr ImU32 device = IM_COL32(255, 140, 40, 255);   // measured on the physical device
constexpr ImU32 twin = IM_COL32(90, 170, 255, 255);     // predicted by the digital twin
constexpr ImU32 chance = IM_COL32(150, 150, 160, 160);  // what guessing would score
constexpr ImU32 class_colors[] = {IM_COL32(64, 200, 170, 255), IM_COL32(235, 90, 120, 255),
                                  IM_COL32(250, 210, 80, 255), IM_COL32(170, 130, 255, 255)};
constexpr ImU32 grid = IM_COL32(255, 255, 255, 28);
constexpr ImU32 axis = IM_COL32(255, 255, 255, 90);
constexpr ImU32 text = IM_COL32(230, 232, 238, 255);
constexpr ImU32 text_dim = IM_COL32(170, 176, 190, 255);
constexpr ImU32 text_on_light = IM_COL32(16, 17, 22, 255);  // on bright cells of a heat map
constexpr ImU32 legend_bg = IM_COL32(20, 22, 28, 215);
// Curves and bars that carry no meaning of their own (data splits, runs), in order.
constexpr ImU32 series_colors[] = {IM_COL32(90, 170, 255, 255),  IM_COL32(255, 140, 40, 255),
                                   IM_COL32(64, 200, 170, 255),  IM_COL32(235, 90, 120, 255),
                                   IM_COL32(250, 210, 80, 255),  IM_COL32(170, 130, 255, 255)};
// Sequential colour scale of heat maps (viridis, 11 even stops): readable by colour-blind
// viewers and in grey, and its lightness rises with the value, so "brighter = more" holds.
constexpr ImU32 scale[] = {IM_COL32(68, 1, 84, 255),    IM_COL32(72, 36, 117, 255),
                           IM_COL32(65, 68, 135, 255),  IM_COL32(53, 95, 141, 255),
                           IM_COL32(42, 120, 142, 255), IM_COL32(33, 145, 140, 255),
                           IM_COL32(34, 168, 132, 255), IM_COL32(68, 191, 112, 255),
                           IM_COL32(122, 209, 81, 255), IM_COL32(189, 223, 38, 255),
                           IM_COL32(253, 231, 37, 255)};
// A value not computed (yet): grey, hatched, and unlike any colour of the scale.
constexpr ImU32 missing = IM_COL32(64, 66, 74, 255);
constexpr ImU32 missing_hatch = IM_COL32(110, 113, 124, 255);
constexpr ImU32 highlight = IM_COL32(255, 255, 255, 255);  // the selected cell of a map
// Confusion matrix: an empty cell, and the full-strength hues of right and wrong answers.
constexpr ImU32 cell = IM_COL32(36, 39, 49, 255);
constexpr ImU32 correct = IM_COL32(64, 200, 170, 255);
constexpr ImU32 wrong = IM_COL32(235, 90, 120, 255);
}  // namespace palette

}  // namespace patlab
