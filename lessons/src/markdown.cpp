// Lesson prose on screen: a small Markdown renderer for ImGui (patlab/lessons/markdown.h).
#include "patlab/lessons/markdown.h"

#include <imgui.h>

#include "player_colors.h"

namespace patlab {

// Inline Markdown, flattened for ImGui's plain text: emphasis and code markers dropped,
// [text](link) kept as its text.
std::string markdown_inline_text(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '*' || c == '`') continue;
    if (c == '_' && (i == 0 || s[i - 1] == ' ' || i + 1 == s.size() || s[i + 1] == ' ' ||
                     s[i + 1] == '.' || s[i + 1] == ',')) continue;
    if (c == ']' && i + 1 < s.size() && s[i + 1] == '(') {  // [text](url): keep the text
      const size_t close = s.find(')', i);
      if (close != std::string::npos) {
        i = close;
        continue;
      }
    }
    if (c == '[' && s.find("](", i) != std::string::npos) continue;
    out += c;
  }
  return out;
}

// A small Markdown renderer for lesson prose: paragraphs, "- " and "1. " lists, "### "
// headings, fenced code, blank lines. Enough for what lessons use; anything else shows as text.
void draw_markdown(const std::string& md) {
  ImGui::PushTextWrapPos(0.0f);
  std::string para;
  const auto flush = [&] {
    if (!para.empty()) ImGui::TextUnformatted(markdown_inline_text(para).c_str());
    para.clear();
  };
  bool code = false;
  size_t pos = 0;
  while (pos <= md.size()) {
    size_t end = md.find('\n', pos);
    if (end == std::string::npos) end = md.size();
    std::string line = md.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t indent = line.find_first_not_of(' ');
    const std::string t = indent == std::string::npos ? "" : line.substr(indent);
    if (t.rfind("```", 0) == 0) {
      flush();
      code = !code;
      continue;
    }
    if (code) {
      ImGui::TextColored(ImVec4(0.62f, 0.80f, 0.95f, 1), "  %s", line.c_str());
      continue;
    }
    if (t.empty()) {
      flush();
      ImGui::Spacing();
      continue;
    }
    if (t.rfind("#", 0) == 0) {
      flush();
      ImGui::TextColored(kAccent, "%s", markdown_inline_text(t.substr(t.find_first_not_of('#'))).c_str());
      continue;
    }
    const bool bullet = t.rfind("- ", 0) == 0 || t.rfind("* ", 0) == 0;
    size_t digits = 0;
    while (digits < t.size() && t[digits] >= '0' && t[digits] <= '9') ++digits;
    const bool numbered = digits > 0 && t.compare(digits, 2, ". ") == 0;
    if (bullet || numbered) {
      flush();
      para = numbered ? t : t.substr(2);
      if (bullet) {
        ImGui::Bullet();
        ImGui::SameLine();
      }
      // the item's continuation lines join it below
      continue;
    }
    para += (para.empty() ? "" : " ") + t;
  }
  flush();
  ImGui::PopTextWrapPos();
}

}  // namespace patlab
