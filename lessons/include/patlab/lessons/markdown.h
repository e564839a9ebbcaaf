// patlab/lessons/markdown.h: lesson prose on screen. Lessons are Markdown; the panel shows the
// few constructs lessons use: paragraphs, "- " and "1. " lists, "### " headings, fenced code and
// blank lines. Anything else shows as text.
#pragma once

#include <string>

namespace patlab {

// Inline Markdown flattened to plain text: emphasis and code markers dropped, [text](link)
// kept as its text. "**PAT** uses the `twin`" -> "PAT uses the twin".
std::string markdown_inline_text(const std::string& s);

// Draws `md` into the current ImGui window, wrapped to its width.
void draw_markdown(const std::string& md);

}  // namespace patlab
