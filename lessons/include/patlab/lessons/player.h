// patlab/lessons/player.h: the lesson player, a panel of the lab (browser and desktop).
//
// It lists the lessons, shows a step's text, sets the lab up for the step ("Set up the lab"),
// asks the step's question before training (predict, then play), ticks the step's checkpoints
// as the learner trains, and keeps the learner's progress (which steps are done, the answers
// given) as JSON the host stores: the browser in localStorage, the desktop in a file. In
// teacher mode the lab shows only the controls a step names.
//
// The host, once per frame: lab.advance(...); player.update(); then draws (the panel is drawn
// by the lab, see Lab::set_panel). The state (which step, its checkpoints, the answers, the
// progress) is a LessonSession (lesson_session.h), plain C++; this class draws it. Commands (from links, tests, the JavaScript hook):
//   lesson:open=<name>   a lesson by file name, with or without ".md" and the number
//                        ("03-reality-gap", "reality-gap"); it resumes at the step last seen
//   lesson:close | lesson:next | lesson:back | lesson:step=<i> (0-based)
//   lesson:apply         sets the lab up for the current step (its setup, actions and view)
//   lesson:retry         after a missed checkpoint: sets the step up again (or restarts its
//                        checkpoints when it has nothing to set up)
//   lesson:predict=<i>   answers the step's question (0-based among its answers)
//   lesson:teacher=on|off
//   lesson:forget        forgets all progress
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "patlab/lessons/lesson.h"
#include "patlab/lessons/lesson_check.h"
#include "patlab/lessons/lesson_session.h"

namespace patlab {

class Lab;

class LessonPlayer {
 public:
  // The lessons to offer: (file name, text) pairs, by default those compiled in. A lesson that
  // does not parse is listed with its first error instead of being opened.
  explicit LessonPlayer(Lab& lab, const std::vector<std::pair<std::string, std::string>>& files = builtin_lessons());
  ~LessonPlayer();
  LessonPlayer(const LessonPlayer&) = delete;
  LessonPlayer& operator=(const LessonPlayer&) = delete;

  // Follows the lab: checkpoints, the pause a pending prediction asks for. Once per frame,
  // after Lab::advance.
  void update();
  // See the commands above; false (and the reason in error()) for anything else.
  bool command(const std::string& cmd) { return session_.command(cmd); }

  bool open(const std::string& name) { return session_.open(name); }
  void close() { session_.close(); }
  bool is_open() const { return session_.is_open(); }
  std::string current_name() const { return session_.current_name(); }  // "" when none is open
  bool teacher_mode() const { return session_.teacher_mode(); }

  // For tests and the page: the open lesson, its step, checkpoints and question, the list of
  // lessons with their progress, and where the panel last drew its buttons ("ui").
  std::string status_json() const;
  // The learner's progress, to keep across visits; restore_progress() takes what
  // progress_json() gave (unknown lessons and steps in it are ignored). False for text that is
  // not such JSON (nothing changes).
  std::string progress_json() const { return session_.progress_json(); }
  bool restore_progress(const std::string& json) { return session_.restore_progress(json); }

  // Changes whenever the panel shows something new: the host redraws then.
  long long revision() const { return session_.revision(); }
  const std::string& error() const { return session_.error(); }
  const LessonSession& session() const { return session_; }

  // The panel (called by the lab inside its controls column).
  void draw();

 private:
  void draw_list();
  void draw_step();

  Lab& lab_;
  LessonSession session_;  // everything but the drawing
  std::vector<std::string> pending_;  // asked for by the panel while drawing, run by update()
  // Where the panel last drew its buttons (x, y, w, h; empty: not shown), for browser tests.
  std::vector<float> ui_apply_, ui_next_;
  std::vector<std::vector<float>> ui_answers_;
};

}  // namespace patlab
