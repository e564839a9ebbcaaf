// Classroom lessons (lessons/): the parser on good and bad input, conditions, and every shipped
// lesson parses. Against the lab (setups, checkpoints run headless): test_lesson_check.cpp.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include "patlab/lessons/lesson.h"

namespace patlab {
namespace {

const char* kGood = R"(# A lesson

Intro text.

## First step

Some *prose*.

```sh
## not a heading: this is code
```

```lesson
setup: data=moons&methods=pat,in-silico&knob.eta=0.5
view: race
controls: training, knobs
# a comment
do: knob:eta=0.4
check: pat.device_accuracy >= 0.9 and step > 10 within 300 steps
predict: Which wins? | PAT | in silico
answer: PAT
check: in-silico.device_accuracy < pat.device_accuracy - 0.1 within 50 steps
```

More prose.

## Second step

Just text.
)";

TEST(LessonParser, ReadsAGoodLesson) {
  const ParsedLesson p = parse_lesson(kGood, "good.md");
  ASSERT_TRUE(p.ok()) << p.errors.front().to_string();
  const Lesson& l = p.lesson;
  EXPECT_EQ(l.title, "A lesson");
  EXPECT_EQ(l.intro, "Intro text.");
  ASSERT_EQ(l.steps.size(), 2u);
  const LessonStep& s = l.steps[0];
  EXPECT_EQ(s.title, "First step");
  EXPECT_EQ(s.line, 5);
  EXPECT_EQ(s.setup, "data=moons&methods=pat,in-silico&knob.eta=0.5");
  EXPECT_EQ(s.setup_line, 14);
  EXPECT_EQ(s.view, "race");
  EXPECT_EQ(s.controls, (std::vector<std::string>{"training", "knobs"}));
  ASSERT_EQ(s.actions.size(), 1u);
  EXPECT_EQ(s.actions[0].second, "knob:eta=0.4");
  ASSERT_EQ(s.checks.size(), 2u);
  EXPECT_EQ(s.checks[0].within_steps, 300);
  EXPECT_EQ(s.checks[0].condition.all.size(), 2u);
  EXPECT_EQ(s.checks[1].line, 22);
  ASSERT_TRUE(s.predict.has_value());
  EXPECT_EQ(s.predict->answers, (std::vector<std::string>{"PAT", "in silico"}));
  EXPECT_EQ(s.predict->correct, 0);
  EXPECT_NE(s.text.find("## not a heading"), std::string::npos) << "code fences are prose";
  EXPECT_NE(s.text.find("More prose."), std::string::npos);
  EXPECT_EQ(s.text.find("setup:"), std::string::npos) << "the lesson block is not prose";
  EXPECT_FALSE(l.steps[1].controls_given);
}

TEST(LessonParser, LongerFencesHoldShorterOnes) {
  const ParsedLesson p = parse_lesson(
      "# T\n## S\n````md\n```lesson\n## code\n```\n````\n## U\n~~~\n## x\n~~~\n", "f.md");
  ASSERT_TRUE(p.ok()) << p.errors.front().to_string();
  ASSERT_EQ(p.lesson.steps.size(), 2u);
  EXPECT_TRUE(p.lesson.steps[0].checks.empty());
  EXPECT_NE(p.lesson.steps[0].text.find("```lesson"), std::string::npos) << "quoted, not a block";
  EXPECT_NE(p.lesson.steps[1].text.find("## x"), std::string::npos);
}

// The first error's line and a piece of its message, for a lesson whose step block is `block`
// (block line 1 is file line 6).
std::pair<int, std::string> first_error(const std::string& block) {
  const ParsedLesson p = parse_lesson("# T\n\n## S\n\n```lesson\n" + block + "\n```\n", "bad.md");
  if (p.ok()) return {-1, ""};
  return {p.errors.front().line, p.errors.front().message};
}

TEST(LessonParser, ReportsBadBlocksWithTheirLines) {
  struct Case {
    std::string block;
    int line;
    std::string says;
  };
  const Case cases[] = {
      {"colour: red", 6, "unknown key"},
      {"view: race\nview: data", 7, "second 'view:'"},
      {"view: sideways", 6, "unknown view"},
      {"controls: knobs, levers", 6, "unknown control"},
      {"setup: data moons", 6, "link query"},
      {"check: pat.device_accuracy >= 0.9", 6, "within"},
      {"check: pat.device_accuracy >= 0.9 within 0 steps", 6, "whole number"},
      {"check: pat.device_accuracy >= 0.9 within 2.5 steps", 6, "whole number"},
      {"check: pat.accuracy >= 0.9 within 10 steps", 6, "unknown value"},
      {"check: warp.device_accuracy >= 0.9 within 10 steps", 6, "unknown value"},
      {"check: pat.device_accuracy>=0.9 within 10 steps", 6, "unknown value"},
      {"check: pat.device_accuracy 0.9 within 10 steps", 6, "operator"},
      {"check: pat.device_accuracy >= within 10 steps", 6, "ends with an operator"},
      {"check: step within 10 steps", 6, "no comparison"},
      {"check: step > 1 < 2 within 10 steps", 6, "without 'and'"},
      {"check: step > 1e999 within 10 steps", 6, "not a number"},
      {"predict: Who? | A\nanswer: A\ncheck: step > 1 within 10 steps", 6, "two answers"},
      {"predict: Who? | A | B\ncheck: step > 1 within 10 steps", 6, "answer:"},
      {"predict: Who? | A | B\nanswer: C\ncheck: step > 1 within 10 steps", 7, "none of"},
      {"predict: Who? | A | B\nanswer: A", 6, "check:"},
      {"answer: A", 6, "without a 'predict:'"},
      {"do: knob:eta=0.1; ", 6, "'do:'"},
      {"just words", 6, "key: value"},
      {"view:", 6, "no value"},
  };
  for (const Case& c : cases) {
    const auto [line, message] = first_error(c.block);
    EXPECT_EQ(line, c.line) << c.block << " -> " << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << c.block << " -> " << message;
  }
}

TEST(LessonParser, ReportsBadStructureWithLines) {
  auto first = [](const std::string& text) {
    const ParsedLesson p = parse_lesson(text, "x.md");
    return p.ok() ? LessonError{"", -1, ""} : p.errors.front();
  };
  EXPECT_EQ(first("Hello\n# T\n## S\n").line, 1) << "no title first";
  EXPECT_EQ(first("# T\n\n## S\n```lesson\nview: race\n").line, 4) << "unclosed block";
  EXPECT_EQ(first("# T\n## S\n```lesson\nview: race\n```\n```lesson\nview: data\n```\n").line, 6);
  EXPECT_EQ(first("# T\n```lesson\nview: race\n```\n").line, 2) << "a block outside any step";
  EXPECT_EQ(first("# T\n## S\n# U\n").line, 3) << "a second title";
  EXPECT_EQ(first("# T\nno steps\n").line, 0);
  EXPECT_EQ(first("").line, 1);
  const LessonError e = first("# T\n## S\n```lesson\nfoo: 1\n```\n");
  EXPECT_EQ(e.to_string().rfind("x.md:4: unknown key", 0), 0u) << e.to_string();
}

TEST(LessonConditions, EvaluateSumsComparisonsAndMissingValues) {
  std::string why;
  const auto c =
      parse_condition("in-silico.device_accuracy < pat.device_accuracy - 0.1 and step >= 50", &why);
  ASSERT_TRUE(c) << why;
  std::map<std::string, double> v = {
      {"in-silico.device_accuracy", 0.7}, {"pat.device_accuracy", 0.9}, {"step", 50}};
  auto look = [&](const std::string& n) -> std::optional<double> {
    const auto it = v.find(n);
    return it == v.end() ? std::nullopt : std::optional<double>(it->second);
  };
  std::string detail;
  EXPECT_TRUE(evaluate_condition(*c, look, &detail));
  EXPECT_NE(detail.find("pat.device_accuracy = 0.9"), std::string::npos) << detail;
  v["in-silico.device_accuracy"] = 0.85;
  EXPECT_FALSE(evaluate_condition(*c, look));
  v["in-silico.device_accuracy"] = 0.5;
  v["step"] = 49;
  EXPECT_FALSE(evaluate_condition(*c, look)) << "every comparison must hold";
  v.erase("step");
  EXPECT_FALSE(evaluate_condition(*c, look)) << "a value not measured is not met";

  for (const char* good : {"step == 3", "knob.eta != 0", "-0.5 < pat.twin_gap", "1 + step > 2 - 1",
                           "explorer.rms_residual <= 1e-3"})
    EXPECT_TRUE(parse_condition(good, &why)) << good << ": " << why;
  for (const char* bad :
       {"", "step", "step >", "> 1", "step == nan", "knob. > 1", "step and step", "step = 1"})
    EXPECT_FALSE(parse_condition(bad, &why)) << bad;
}

}  // namespace

// The complete example of lessons/README.md, which must stay a valid lesson (test_lesson_check
// runs it on the lab too).
std::string readme_example() {
  std::ifstream in(std::string(PATLAB_LESSON_DIR) + "/README.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str(), open = "````markdown\n";
  const size_t b = s.find(open), e = s.find("\n````\n", b + open.size());
  if (b == std::string::npos || e == std::string::npos) return "";
  return s.substr(b + open.size(), e - b - open.size() + 1);
}

namespace {

TEST(LessonFiles, TheReadmeExampleIsAValidLesson) {
  const ParsedLesson p = parse_lesson(readme_example(), "README.md example");
  for (const LessonError& e : p.errors) ADD_FAILURE() << e.to_string();
  ASSERT_EQ(p.lesson.steps.size(), 2u);
  EXPECT_NE(p.lesson.steps[0].text.find("## not a step heading"), std::string::npos);
  EXPECT_TRUE(p.lesson.steps[1].predict.has_value());
}

TEST(LessonFiles, EveryShippedLessonParsesAndIsBuiltIn) {
  const auto& lessons = builtin_lessons();
  ASSERT_GE(lessons.size(), 10u);
  for (size_t i = 0; i < lessons.size(); ++i) {
    const ParsedLesson p = parse_lesson(lessons[i].second, lessons[i].first);
    for (const LessonError& e : p.errors) ADD_FAILURE() << e.to_string();
    EXPECT_FALSE(p.lesson.title.empty()) << lessons[i].first;
    // Numbered 01-, 02-, ... in order, so the list is the course.
    const std::string prefix = (i + 1 < 10 ? "0" : "") + std::to_string(i + 1) + "-";
    EXPECT_EQ(lessons[i].first.rfind(prefix, 0), 0u) << lessons[i].first;
  }
}

}  // namespace
}  // namespace patlab
