// patlab/lessons/lesson_session.h: what the lesson player knows and does, without drawing
// anything (no ImGui): the lessons on offer, the one open and its step, the step's checkpoints
// as the lab trains, the question asked before training, and the learner's progress. The panel
// (patlab/lessons/player.h) is a view over it; tests drive it headless.
//
// A step goes through these states:
//   entered        enter(): its text is shown; the lab is as the learner left it
//   applied        lesson:apply set the lab up (a step with nothing to set up is applied at
//                  once); its checkpoints start, one at a time, in order
//   checkpoint     Waiting while the lab trains; Met when its condition held (the next one
//                  starts), Missed when its step budget ran out (training pauses; lesson:retry)
//   done           all its checkpoints met: recorded in the progress
// A step with a question pauses training until the learner answers (predict, then play).
// The commands are those listed in player.h.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "patlab/lessons/lesson.h"
#include "patlab/lessons/lesson_check.h"

namespace patlab {

class Lab;

class LessonSession {
 public:
  struct Entry {
    std::string name;  // file name without ".md"
    Lesson lesson;
    std::string problem;  // first parse error, if any: then it cannot be opened
  };
  struct Progress {
    int step = 0;                 // the step last seen
    std::vector<bool> done;       // per step: its checkpoints met (or it had none and was seen)
    std::vector<int> answers;     // per step: the answer given, -1 none
    explicit Progress(size_t steps = 0) : done(steps, false), answers(steps, -1) {}  // none yet
  };
  enum class CheckState { Inactive, Waiting, Met, Missed };

  // The lessons to offer: (file name, text) pairs. A lesson that does not parse is listed with
  // its first error instead of being opened. The session keeps a reference to the lab.
  LessonSession(Lab& lab, const std::vector<std::pair<std::string, std::string>>& files);

  // Follows the lab: checkpoints, the pause a pending prediction asks for. Once per frame.
  void update();
  // A lesson:... command (see player.h); false (and the reason in error()) for anything else.
  bool command(const std::string& cmd);
  bool open(const std::string& name);
  void close();

  // The open lesson, its step, checkpoints and question, the list of lessons with their
  // progress (lesson_progress.cpp).
  std::string status_json() const;
  // The learner's progress, to keep across visits; restore_progress() takes what
  // progress_json() gave (unknown lessons and steps in it are ignored). False for text that is
  // not such JSON (nothing changes). (lesson_progress.cpp)
  std::string progress_json() const;
  bool restore_progress(const std::string& json);

  // What a view shows.
  bool is_open() const { return current_ >= 0; }
  int current() const { return current_; }  // index into entries(), -1 none
  std::string current_name() const;          // "" when none is open
  const std::vector<Entry>& entries() const { return entries_; }
  const std::vector<Progress>& progress() const { return progress_; }
  int step_index() const { return step_; }
  const LessonStep& step() const;  // the open lesson's current step (is_open() only)
  bool applied() const { return applied_; }  // the current step's setup is on the lab
  bool waiting_for_answer() const { return asked_to_predict_; }
  const std::vector<CheckState>& checks() const { return checks_; }  // per checkpoint
  const std::vector<std::string>& check_details() const { return details_; }
  bool checking() const { return active_ >= 0; }  // a checkpoint is being watched
  bool teacher_mode() const { return teacher_; }
  // Changes whenever there is something new to show.
  long long revision() const { return revision_; }
  const std::string& error() const { return error_; }
  // Does the step change the lab (a setup, actions or a view to show)?
  static bool needs_apply(const LessonStep& s);

 private:
  void enter(int step);            // shows a step (does not touch the lab)
  bool apply();                    // sets the lab up for it and starts its checkpoints
  void start_checks();             // the first checkpoint becomes active from now
  void finish_step_if_done();
  int find(const std::string& name) const;
  Progress& current_progress();
  void set_error(const std::string& e);

  Lab& lab_;
  std::vector<Entry> entries_;
  std::vector<Progress> progress_;  // per entry
  int current_ = -1;                // entry open, -1 none
  int step_ = 0;
  bool applied_ = false;
  bool teacher_ = false;
  std::vector<CheckState> checks_;  // per checkpoint of the current step
  std::vector<std::string> details_;
  std::vector<CheckpointWatch> watches_;  // the active one is watches_[active_]
  int active_ = -1;
  long long seen_revision_ = -1;
  bool asked_to_predict_ = false;  // training was paused for the question
  long long revision_ = 0;
  std::string error_;
};

}  // namespace patlab
