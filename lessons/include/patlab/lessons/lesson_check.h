// patlab/lessons/lesson_check.h: a lesson against the real lab. Validates what only the lab can
// judge (setups, commands, the lanes a condition names) and runs checkpoints headless, as the
// lesson player does when a learner presses Run, to show each can be met within its steps.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "patlab/lessons/lesson.h"

namespace patlab {

class Lab;

// A status value a condition names, read from Lab::status_json() text (nullopt: not there, e.g.
// a lane the lab does not run, or a value not measured yet).
std::optional<double> lesson_value(const std::string& status_json, const std::string& name);
// A condition over Lab::status_json() text; *detail lists the values seen.
bool condition_met(const Condition& c, const std::string& status_json,
                   std::string* detail = nullptr);

// Enters a step on the lab as the player does: its setup (if any), its "do:" commands, its view.
// Training is paused. Returns the problems (none: the step is ready).
std::vector<LessonError> enter_step(Lab& lab, const Lesson& lesson, const LessonStep& step);

// One checkpoint on the lab, from its current state: trains (every lane) until the condition
// holds or within_steps steps have passed. The lab is left paused where it stopped.
struct CheckpointResult {
  int step = 0;  // index into lesson.steps
  int line = 0;
  std::string check;  // as written
  bool met = false;
  long long steps = 0;  // training steps it took (or the whole budget when not met)
  double seconds = 0.0;
  std::string detail;  // the values at the end
};
CheckpointResult run_checkpoint(Lab& lab, const LessonCheck& check, int step_index);

// For the player: one checkpoint followed frame by frame while the learner trains (the lab
// advancing as usual). Met once the condition holds on a measurement taken after start_step;
// missed once within_steps have passed and a measurement after that has not met it.
class CheckpointWatch {
 public:
  enum class State { Waiting, Met, Missed };
  CheckpointWatch(const LessonCheck& check, long long start_step)
      : check_(check), start_(start_step) {}
  // Call after each Lab::advance with Lab::status_json(); returns the state (final once not
  // Waiting). detail() lists the values last seen.
  State update(const std::string& status_json);
  State state() const { return state_; }
  long long start_step() const { return start_; }
  const std::string& detail() const { return detail_; }

 private:
  LessonCheck check_;
  long long start_;
  State state_ = State::Waiting;
  std::string detail_;
};

struct LessonCheckOptions {
  bool run_checkpoints = true;  // false: validate setups, commands and names only
  // Called after each checkpoint (the command line prints progress).
  std::function<void(const CheckpointResult&)> on_checkpoint;
};

struct LessonReport {
  std::vector<LessonError> errors;  // the parser's and the lab's
  std::vector<CheckpointResult> checkpoints;
  bool ok() const;  // no errors, every checkpoint run was met
};

// Walks the lesson's steps in order on one fresh lab, as a learner would: a step without a
// setup continues from the lab the previous step left. Each checkpoint that is not met is an
// error at its line.
LessonReport check_lesson(const Lesson& lesson,
                          const LessonCheckOptions& options = LessonCheckOptions());

}  // namespace patlab
