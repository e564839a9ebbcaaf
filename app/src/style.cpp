#include "patlab/app/style.h"

#ifdef PATLAB_HAVE_EMBEDDED_FONT
extern const unsigned char patlab_font_regular[];
extern const unsigned int patlab_font_regular_size;
#endif

namespace patlab {

void apply_style(float pixel_ratio) {
  ImGuiIO& io = ImGui::GetIO();
#ifdef PATLAB_HAVE_EMBEDDED_FONT
  ImFontConfig cfg;
  cfg.FontDataOwnedByAtlas = false;  // static data: ImGui must not free it
  cfg.OversampleH = 2;
  // On a high-DPI screen the glyphs are rasterised at the screen's resolution and drawn at
  // 16 logical pixels, so text stays sharp instead of being stretched.
  const float ratio = pixel_ratio >= 1.0f && pixel_ratio <= 4.0f ? pixel_ratio : 1.0f;
  io.Fonts->AddFontFromMemoryTTF(const_cast<unsigned char*>(patlab_font_regular),
                                 int(patlab_font_regular_size), 16.0f * ratio, &cfg);
  io.FontGlobalScale = 1.0f / ratio;
#else
  io.Fonts->AddFontDefault();
#endif

  ImGui::StyleColorsDark();
  ImGuiStyle& s = ImGui::GetStyle();
  s.WindowRounding = 0.0f;
  s.ChildRounding = 6.0f;
  s.FrameRounding = 5.0f;
  s.GrabRounding = 5.0f;
  s.PopupRounding = 5.0f;
  s.WindowBorderSize = 0.0f;
  s.FramePadding = ImVec2(8, 5);
  s.ItemSpacing = ImVec2(8, 7);
  s.WindowPadding = ImVec2(16, 14);
  s.GrabMinSize = 12.0f;

  ImVec4* c = s.Colors;
  const ImVec4 bg(0.075f, 0.082f, 0.102f, 1.0f);
  const ImVec4 panel(0.105f, 0.114f, 0.141f, 1.0f);
  const ImVec4 frame(0.16f, 0.17f, 0.21f, 1.0f);
  const ImVec4 accent(1.0f, 0.55f, 0.16f, 1.0f);
  c[ImGuiCol_WindowBg] = bg;
  c[ImGuiCol_ChildBg] = panel;
  c[ImGuiCol_PopupBg] = panel;
  c[ImGuiCol_FrameBg] = frame;
  c[ImGuiCol_FrameBgHovered] = ImVec4(0.21f, 0.22f, 0.27f, 1.0f);
  c[ImGuiCol_FrameBgActive] = ImVec4(0.25f, 0.26f, 0.32f, 1.0f);
  c[ImGuiCol_SliderGrab] = accent;
  c[ImGuiCol_SliderGrabActive] = ImVec4(1.0f, 0.68f, 0.35f, 1.0f);
  c[ImGuiCol_CheckMark] = accent;
  c[ImGuiCol_Button] = ImVec4(0.20f, 0.21f, 0.26f, 1.0f);
  c[ImGuiCol_ButtonHovered] = ImVec4(0.27f, 0.28f, 0.34f, 1.0f);
  c[ImGuiCol_ButtonActive] = ImVec4(0.32f, 0.33f, 0.40f, 1.0f);
  c[ImGuiCol_Header] = ImVec4(0.20f, 0.21f, 0.26f, 1.0f);
  c[ImGuiCol_HeaderHovered] = ImVec4(0.27f, 0.28f, 0.34f, 1.0f);
  c[ImGuiCol_HeaderActive] = ImVec4(0.32f, 0.33f, 0.40f, 1.0f);
  c[ImGuiCol_Separator] = ImVec4(1, 1, 1, 0.08f);
  c[ImGuiCol_Text] = ImVec4(0.92f, 0.93f, 0.95f, 1.0f);
  c[ImGuiCol_TextDisabled] = ImVec4(0.60f, 0.62f, 0.68f, 1.0f);
}

}  // namespace patlab
