// The lesson parser (lessons/src/lesson.cpp) under libFuzzer: any bytes must parse to a lesson
// or to errors, without a crash, a hang or undefined behaviour. Conditions get fuzzed through
// the check lines, and on their own with the evaluator.
#include <cstddef>
#include <cstdint>
#include <string>

#include "patlab/lessons/lesson.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const patlab::ParsedLesson p = patlab::parse_lesson(text, "fuzz.md");
  for (const patlab::LessonError& e : p.errors) (void)e.to_string();
  std::string why;
  if (const auto c = patlab::parse_condition(text, &why))
    (void)patlab::evaluate_condition(*c, [](const std::string& name) -> std::optional<double> {
      return name.size() % 3 ? std::optional<double>(double(name.size())) : std::nullopt;
    });
  return 0;
}
