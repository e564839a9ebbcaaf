// Every shipped lesson against the lab: its setups are ones the lab takes, and each of its
// checkpoints is met when run headless within its steps (patlab/lessons/lesson_check.h).
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <string>

#include "patlab/lessons/lesson.h"
#include "patlab/app/lab.h"
#include "patlab/lessons/lesson_check.h"

namespace patlab {

std::string readme_example();  // lessons/README.md's complete example (test_lessons.cpp)

namespace {

TEST(LessonLab, StatusValuesAndLabValidation) {
  Lab lab;
  const std::string s = lab.status_json();
  EXPECT_EQ(lesson_value(s, "step"), 0.0);
  EXPECT_TRUE(lesson_value(s, "pat.device_accuracy").has_value());
  EXPECT_FALSE(lesson_value(s, "spsa.device_accuracy").has_value()) << "no such lane";
  EXPECT_TRUE(lesson_value(s, "knob.eta").has_value());
  EXPECT_FALSE(lesson_value(s, "knob.nope").has_value());

  const ParsedLesson p = parse_lesson(
      "# T\n## S\n```lesson\nsetup: data=nowhere\n```\n## U\n```lesson\nsetup: "
      "data=moons&methods=pat\n"
      "do: knob:warp=1\ncheck: in-silico.device_accuracy > 0.5 within 10 steps\n```\n",
      "lab.md");
  ASSERT_TRUE(p.ok());
  LessonCheckOptions o;
  o.run_checkpoints = false;
  const LessonReport r = check_lesson(p.lesson, o);
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].line, 4) << r.errors[0].message;
  EXPECT_EQ(r.errors[1].line, 9) << r.errors[1].message;
  EXPECT_EQ(r.errors[2].line, 10) << r.errors[2].message;
  EXPECT_NE(r.errors[2].message.find("in-silico.device_accuracy"), std::string::npos);
}

TEST(LessonLab, ACheckpointRunsHeadlessAndStopsAtItsBudget) {
  const ParsedLesson p = parse_lesson(
      "# T\n## S\n```lesson\nsetup: data=moons&methods=pat\ncheck: step >= 20 within 100 steps\n"
      "check: step >= 100000 within 30 steps\n```\n",
      "run.md");
  ASSERT_TRUE(p.ok());
  const LessonReport r = check_lesson(p.lesson);
  ASSERT_EQ(r.checkpoints.size(), 2u);
  EXPECT_TRUE(r.checkpoints[0].met);
  EXPECT_LE(r.checkpoints[0].steps, 40);
  EXPECT_FALSE(r.checkpoints[1].met);
  EXPECT_GE(r.checkpoints[1].steps, 30);
  EXPECT_LE(r.checkpoints[1].steps, 40);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 6);
}

TEST(LessonLab, APlayerWatchesACheckpointFrameByFrame) {
  Lab lab;
  ASSERT_TRUE(lab.apply_state("data=circles&methods=pat&knob.eta=0"));
  std::string why;
  LessonCheck met{0, *parse_condition("pat.device_accuracy >= 0.9", &why), 400, ""};
  LessonCheck missed{0, *parse_condition("pat.device_accuracy > 1", &why), 30, ""};
  CheckpointWatch a(met, lab.steps()), b(missed, lab.steps());
  EXPECT_EQ(a.update(lab.status_json()), CheckpointWatch::State::Waiting) << "no measurement yet";
  lab.set_training(true);
  for (int frame = 0; frame < 2000 && a.state() == CheckpointWatch::State::Waiting; ++frame) {
    lab.advance(1e9);
    const std::string s = lab.status_json();
    a.update(s);
    b.update(s);
  }
  EXPECT_EQ(a.state(), CheckpointWatch::State::Met) << a.detail();
  EXPECT_EQ(b.state(), CheckpointWatch::State::Missed) << b.detail();
}

TEST(LessonLab, TheReadmeExampleRunsHeadless) {
  const ParsedLesson p = parse_lesson(readme_example(), "README.md example");
  ASSERT_TRUE(p.ok());
  const LessonReport r = check_lesson(p.lesson);
  for (const LessonError& e : r.errors) ADD_FAILURE() << e.to_string();
  EXPECT_EQ(r.checkpoints.size(), 2u);
}

// Every checkpoint of every shipped lesson, run as a learner would. Natively only: under node
// the whole course takes too long for the unit tests.
#ifndef __EMSCRIPTEN__
TEST(LessonLab, EveryCheckpointOfEveryShippedLessonIsMet) {
  const std::clock_t t0 = std::clock();
  for (const auto& [name, text] : builtin_lessons()) {
    const ParsedLesson p = parse_lesson(text, name);
    ASSERT_TRUE(p.ok()) << name;
    const LessonReport r = check_lesson(p.lesson);
    for (const LessonError& e : r.errors) ADD_FAILURE() << e.to_string();
    for (const CheckpointResult& c : r.checkpoints)
      std::printf("  %s:%d %s: %lld steps, %.2f s\n", name.c_str(), c.line,
                  c.met ? "met" : "NOT MET", c.steps, c.seconds);
  }
  // Printed for whoever keeps the course cheap; a speed target is a benchmark's business, not a
  // unit test's (shared machines, sanitizers).
  std::printf("  the whole course: %.1f CPU seconds\n", double(std::clock() - t0) / CLOCKS_PER_SEC);
}
#endif

}  // namespace
}  // namespace patlab
