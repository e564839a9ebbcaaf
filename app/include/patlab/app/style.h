// patlab/app/style.h: the lab's look: font, colours, spacing. One palette for every plot.
#pragma once

#include <imgui.h>

namespace patlab {

// Loads the embedded UI font (Roboto) and sets the colour theme. Call once, after
// ImGui::CreateContext().
void apply_style();

namespace palette {
constexpr ImU32 device = IM_COL32(255, 140, 40, 255);   // measured on the physical device
constexpr ImU32 twin = IM_COL32(90, 170, 255, 255);     // predicted by the digital twin
constexpr ImU32 chance = IM_COL32(150, 150, 160, 160);  // what guessing would score
constexpr ImU32 class_colors[] = {IM_COL32(64, 200, 170, 255), IM_COL32(235, 90, 120, 255),
                                  IM_COL32(250, 210, 80, 255), IM_COL32(170, 130, 255, 255)};
constexpr ImU32 grid = IM_COL32(255, 255, 255, 28);
constexpr ImU32 text_dim = IM_COL32(170, 176, 190, 255);
}  // namespace palette

}  // namespace patlab
