// The lesson panel's colours (internal to the player's ImGui files).
#pragma once

#include <imgui.h>

namespace patlab {

const ImVec4 kAccent(1.0f, 0.55f, 0.16f, 1.0f);  // headings, the step's call to act
const ImVec4 kMet(0.45f, 0.85f, 0.55f, 1.0f);     // done, met, predicted right
const ImVec4 kMissed(1.0f, 0.50f, 0.45f, 1.0f);   // missed, errors
const ImVec4 kDim(0.67f, 0.69f, 0.75f, 1.0f);

}  // namespace patlab
