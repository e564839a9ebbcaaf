// patlab/lessons/lesson.h: classroom lessons as data. A lesson is a Markdown file: a "# " title,
// prose, and steps as "## " headings, each step holding at most one fenced ```lesson block of
// "key: value" lines (the experiment to load, the view, the visible controls, checkpoints the
// app verifies, a question to predict). The format is documented in lessons/README.md.
//
// This part depends on nothing but the standard library, so the parser builds everywhere and
// runs under libFuzzer. Running checkpoints on a lab is in patlab/lessons/lesson_check.h.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace patlab {

// A problem in a lesson file, at a line (1-based; 0 when it concerns the whole file).
struct LessonError {
  std::string file;
  int line = 0;
  std::string message;
  std::string to_string() const;  // "file:line: message", as compilers print them
};

// A checkpoint's condition: comparisons of sums of numbers and status values, joined by "and".
// Names: see is_lesson_value_name() and lessons/README.md (pat.device_accuracy, step, knob.eta).
struct Condition {
  struct Term {
    double sign = 1.0;  // +1 or -1
    std::string name;   // empty: a number
    double number = 0.0;
  };
  struct Comparison {
    std::vector<Term> left, right;
    std::string op;  // < <= > >= == !=
  };
  std::vector<Comparison> all;  // every one must hold
  std::string text;
};

// Parses a condition; on failure returns nullopt and says why in *error.
std::optional<Condition> parse_condition(const std::string& text, std::string* error);
// Evaluates a condition, looking each name up with value(name) (nullopt: not known yet, e.g.
// no measurement: the condition is then not met). *detail gets the values seen, for people:
// "pat.device_accuracy = 0.93 >= 0.9".
bool evaluate_condition(const Condition& c,
                        const std::function<std::optional<double>(const std::string&)>& value,
                        std::string* detail = nullptr);
// Whether a name is one a condition may read (syntax only: whether the lab has that lane is
// known only when the step's setup is applied).
bool is_lesson_value_name(const std::string& name);

// "check: <condition> within <N> steps": met once the condition holds, within N training steps
// of every lane from the moment the checkpoint becomes active.
struct LessonCheck {
  int line = 0;
  Condition condition;
  long long within_steps = 0;
  std::string text;  // as written after "check:"
};

// "predict: question | answer | answer ..." with "answer: <one of them>": the learner commits
// to an answer before the step's checkpoints run and show who was right.
struct LessonPredict {
  int line = 0;
  std::string question;
  std::vector<std::string> answers;
  int correct = -1;  // index into answers
};

struct LessonStep {
  int line = 0;  // of the "## " heading
  std::string title;
  std::string text;   // the step's Markdown, without the heading and the lesson block
  std::string setup;  // a URL-query setup for Lab::apply_state (empty: keep the lab as it is)
  int setup_line = 0;
  std::vector<std::pair<int, std::string>> actions;  // "do:" lab commands, with their lines
  std::string view;  // race|data|slow|inside|explorer|robustness, or empty
  int view_line = 0;
  std::vector<std::string> controls;  // visible controls in teacher mode (empty: none shown)
  bool controls_given = false;        // false: the player shows all controls
  std::vector<LessonCheck> checks;
  std::optional<LessonPredict> predict;
};

struct Lesson {
  std::string name;  // the file name it came from
  std::string title;
  std::string intro;  // Markdown before the first step
  std::vector<LessonStep> steps;
};

struct ParsedLesson {
  Lesson lesson;
  std::vector<LessonError> errors;  // empty: the lesson is valid as far as its text goes
  bool ok() const { return errors.empty(); }
};

// Parses a lesson file. name is used in errors (usually the file name).
ParsedLesson parse_lesson(const std::string& text, const std::string& name);

// The views and controls a lesson may name.
const std::vector<std::string>& lesson_views();
const std::vector<std::string>& lesson_controls();

// The lessons shipped in lessons/*.md, compiled into the program (file name, text) in file-name
// order, so the browser needs no file system.
const std::vector<std::pair<std::string, std::string>>& builtin_lessons();

}  // namespace patlab
