// The lesson player's state machine (patlab/lessons/lesson_session.h): plain C++ over the lab.
#include "patlab/lessons/lesson_session.h"

#include <algorithm>
#include <cstdlib>

#include "patlab/app/lab.h"

namespace patlab {

namespace {
std::string strip_md(const std::string& file) {
  return file.size() > 3 && file.compare(file.size() - 3, 3, ".md") == 0 ? file.substr(0, file.size() - 3) : file;
}
// "03-reality-gap" -> "reality-gap"
std::string without_number(const std::string& name) {
  size_t i = 0;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
  return i > 0 && i < name.size() && name[i] == '-' ? name.substr(i + 1) : name;
}
}  // namespace

LessonSession::LessonSession(Lab& lab, const std::vector<std::pair<std::string, std::string>>& files)
    : lab_(lab) {
  for (const auto& [file, text] : files) {
    ParsedLesson p = parse_lesson(text, file);
    Entry e;
    e.name = strip_md(file);
    e.lesson = std::move(p.lesson);
    if (!p.errors.empty()) e.problem = p.errors.front().to_string();
    progress_.emplace_back(e.lesson.steps.size());
    entries_.push_back(std::move(e));
  }
}

int LessonSession::find(const std::string& name) const {
  const std::string n = strip_md(name);
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].name == n || without_number(entries_[i].name) == n) return int(i);
  return -1;
}

std::string LessonSession::current_name() const { return current_ >= 0 ? entries_[size_t(current_)].name : ""; }

LessonSession::Progress& LessonSession::current_progress() { return progress_[size_t(current_)]; }
const LessonStep& LessonSession::step() const { return entries_[size_t(current_)].lesson.steps[size_t(step_)]; }

bool LessonSession::needs_apply(const LessonStep& s) {
  return !s.setup.empty() || !s.actions.empty() || !s.view.empty();
}

void LessonSession::set_error(const std::string& e) {
  error_ = e;
  ++revision_;
}

bool LessonSession::open(const std::string& name) {
  const int i = find(name);
  if (i < 0) {
    std::string known;
    for (const Entry& e : entries_) known += (known.empty() ? "" : ", ") + e.name;
    set_error("there is no lesson '" + name + "' (lessons: " + known + ")");
    return false;
  }
  if (!entries_[size_t(i)].problem.empty()) {
    set_error("the lesson cannot be opened: " + entries_[size_t(i)].problem);
    return false;
  }
  current_ = i;
  error_.clear();
  enter(std::clamp(current_progress().step, 0, int(entries_[size_t(i)].lesson.steps.size()) - 1));
  return true;
}

void LessonSession::close() {
  current_ = -1;
  checks_.clear();
  watches_.clear();
  details_.clear();
  active_ = -1;
  lab_.show_all_controls();
  ++revision_;
}

void LessonSession::enter(int s) {
  step_ = s;
  current_progress().step = s;
  applied_ = false;
  asked_to_predict_ = false;
  const LessonStep& st = step();
  checks_.assign(st.checks.size(), CheckState::Inactive);
  details_.assign(st.checks.size(), "");
  watches_.clear();
  active_ = -1;
  if (teacher_) {
    if (st.controls_given) lab_.show_only_controls(st.controls);
    else lab_.show_all_controls();
  }
  // A step with nothing to set up continues from the lab as it is: its checkpoints start now.
  if (!needs_apply(st)) {
    applied_ = true;
    start_checks();
  }
  ++revision_;
}

bool LessonSession::apply() {
  if (current_ < 0) return false;
  const std::vector<LessonError> errors = enter_step(lab_, entries_[size_t(current_)].lesson, step());
  if (!errors.empty()) {
    set_error(errors.front().to_string());
    return false;
  }
  error_.clear();
  applied_ = true;
  checks_.assign(step().checks.size(), CheckState::Inactive);
  start_checks();
  ++revision_;
  return true;
}

void LessonSession::start_checks() {
  watches_.clear();
  active_ = -1;
  const LessonStep& st = step();
  for (const LessonCheck& c : st.checks) watches_.emplace_back(c, lab_.steps());
  if (!st.checks.empty()) {
    active_ = 0;
    checks_[0] = CheckState::Waiting;
  }
  seen_revision_ = -1;
  finish_step_if_done();
}

void LessonSession::finish_step_if_done() {
  const bool all = std::all_of(checks_.begin(), checks_.end(), [](CheckState s) { return s == CheckState::Met; });
  if (applied_ && all && !current_progress().done[size_t(step_)]) {
    current_progress().done[size_t(step_)] = true;
    ++revision_;
  }
}

void LessonSession::update() {
  if (current_ < 0) return;
  const LessonStep& st = step();
  // Predict, then play: training waits for the learner's answer.
  if (st.predict && current_progress().answers[size_t(step_)] < 0 && lab_.training()) {
    lab_.set_training(false);
    asked_to_predict_ = true;
    ++revision_;
  }
  if (active_ < 0 || lab_.revision() == seen_revision_) return;
  seen_revision_ = lab_.revision();
  // The lab was reset under the checkpoint (the Reset button, a new setting): follow it from
  // the new start.
  if (lab_.steps() < watches_[size_t(active_)].start_step())
    watches_[size_t(active_)] = CheckpointWatch(st.checks[size_t(active_)], lab_.steps());
  const std::string status = lab_.status_json();
  const CheckpointWatch::State s = watches_[size_t(active_)].update(status);
  details_[size_t(active_)] = watches_[size_t(active_)].detail();
  if (s == CheckpointWatch::State::Waiting) return;
  ++revision_;
  if (s == CheckpointWatch::State::Missed) {
    checks_[size_t(active_)] = CheckState::Missed;
    lab_.set_training(false);
    active_ = -1;
    return;
  }
  checks_[size_t(active_)] = CheckState::Met;
  if (size_t(active_) + 1 < watches_.size()) {
    ++active_;
    watches_[size_t(active_)] = CheckpointWatch(st.checks[size_t(active_)], lab_.steps());
    checks_[size_t(active_)] = CheckState::Waiting;
  } else {
    active_ = -1;
    lab_.set_training(false);  // the step is done: time to read on
  }
  finish_step_if_done();
}

bool LessonSession::command(const std::string& cmd) {
  const size_t eq = cmd.find('=');
  const std::string verb = cmd.substr(0, eq), arg = eq == std::string::npos ? "" : cmd.substr(eq + 1);
  const auto need_open = [&] {
    if (current_ >= 0) return true;
    set_error("no lesson is open (lesson:open=<name> first)");
    return false;
  };
  if (verb == "lesson:open" && !arg.empty()) return open(arg);
  if (verb == "lesson:close" && eq == std::string::npos) {
    close();
    return true;
  }
  if (verb == "lesson:teacher" && (arg == "on" || arg == "off")) {
    teacher_ = arg == "on";
    if (!teacher_) lab_.show_all_controls();
    else if (current_ >= 0 && step().controls_given) lab_.show_only_controls(step().controls);
    ++revision_;
    return true;
  }
  if (verb == "lesson:forget" && eq == std::string::npos) {
    for (size_t i = 0; i < entries_.size(); ++i) progress_[i] = Progress(entries_[i].lesson.steps.size());
    ++revision_;
    return true;
  }
  if ((verb == "lesson:next" || verb == "lesson:back" || verb == "lesson:apply" || verb == "lesson:retry") &&
      eq == std::string::npos) {
    if (!need_open()) return false;
    const int n = int(entries_[size_t(current_)].lesson.steps.size());
    if (verb == "lesson:apply") return apply();
    if (verb == "lesson:retry") {  // a missed checkpoint: the step from the start
      if (needs_apply(step())) return apply();
      checks_.assign(step().checks.size(), CheckState::Inactive);
      start_checks();
      ++revision_;
      return true;
    }
    const int to = step_ + (verb == "lesson:next" ? 1 : -1);
    if (to < 0 || to >= n) {
      set_error(verb == "lesson:next" ? "this is the lesson's last step" : "this is the lesson's first step");
      return false;
    }
    enter(to);
    return true;
  }
  if (verb == "lesson:step" || verb == "lesson:predict") {
    if (!need_open()) return false;
    char* end = nullptr;
    const long v = std::strtol(arg.c_str(), &end, 10);
    if (arg.empty() || *end != '\0') {
      set_error("'" + cmd + "' needs a whole number after '='");
      return false;
    }
    if (verb == "lesson:step") {
      if (v < 0 || v >= long(entries_[size_t(current_)].lesson.steps.size())) {
        set_error("the lesson has no step " + arg);
        return false;
      }
      enter(int(v));
      return true;
    }
    const LessonStep& st = step();
    if (!st.predict || v < 0 || v >= long(st.predict->answers.size())) {
      set_error(st.predict ? "the question has no answer " + arg : "this step asks no question");
      return false;
    }
    current_progress().answers[size_t(step_)] = int(v);
    asked_to_predict_ = false;
    ++revision_;
    return true;
  }
  set_error("unknown lesson command '" + cmd + "'");
  return false;
}

}  // namespace patlab
