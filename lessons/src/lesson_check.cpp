// Lessons against the lab: validation that needs the lab, and checkpoints run headless.
#include "patlab/lessons/lesson_check.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "patlab/app/lab.h"

namespace patlab {

namespace {

// The JSON value a name stands for, or null when the lab has no such thing.
const nlohmann::json* find_value(const nlohmann::json& s, const std::string& name) {
  auto at = [](const nlohmann::json& j, const std::string& key) -> const nlohmann::json* {
    if (!j.is_object()) return nullptr;
    const auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
  };
  if (name == "step" || name == "physical_layers" || name == "classes" || name == "features")
    return at(s, name);
  if (name == "explorer.rms_residual") {
    const nlohmann::json* e = at(s, "explorer");
    return e ? at(*e, "rms_residual") : nullptr;
  }
  if (name == "twin.error_before" || name == "twin.error_after") {  // after twin:fit
    const nlohmann::json* t = at(s, "twin");
    return t ? at(*t, name.substr(5)) : nullptr;
  }
  if (name == "slow_motion.phase") {
    const nlohmann::json* e = at(s, "slow_motion");
    return e ? at(*e, "phase") : nullptr;
  }
  if (name.rfind("knob.", 0) == 0) {
    const nlohmann::json* k = at(s, "knobs");
    return k ? at(*k, name.substr(5)) : nullptr;
  }
  const size_t dot = name.find('.');
  if (dot == std::string::npos || !s.contains("lanes")) return nullptr;
  const std::string method = name.substr(0, dot), field = name.substr(dot + 1);
  for (const nlohmann::json& lane : s["lanes"]) {
    if (!lane.is_object() || lane.value("method", "") != method) continue;
    const nlohmann::json* test = at(lane, "test");
    if (field == "device_accuracy" || field == "device_loss" || field == "twin_accuracy" ||
        field == "twin_loss") {
      const nlohmann::json* pass = test ? at(*test, field.substr(0, field.find('_'))) : nullptr;
      return pass ? at(*pass, field.substr(field.find('_') + 1)) : nullptr;
    }
    return at(lane, field);
  }
  return nullptr;
}

// Whether the lab has the thing a name reads at all (a value not measured yet counts).
bool name_available(const nlohmann::json& s, const std::string& name) {
  if (name == "explorer.rms_residual") return true;  // appears once the explorer has run
  if (name.rfind("twin.", 0) == 0) return true;      // appears once the twin is refitted
  return find_value(s, name) != nullptr;
}

std::optional<double> number_at(const nlohmann::json& s, const std::string& name) {
  const nlohmann::json* v = find_value(s, name);
  if (!v || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

}  // namespace

std::optional<double> lesson_value(const std::string& status_json, const std::string& name) {
  const nlohmann::json s = nlohmann::json::parse(status_json, nullptr, false);
  if (s.is_discarded()) return std::nullopt;
  return number_at(s, name);
}

bool condition_met(const Condition& c, const std::string& status_json, std::string* detail) {
  const nlohmann::json s = nlohmann::json::parse(status_json, nullptr, false);
  return evaluate_condition(
      c,
      [&](const std::string& name) { return s.is_discarded() ? std::nullopt : number_at(s, name); },
      detail);
}

std::vector<LessonError> enter_step(Lab& lab, const Lesson& lesson, const LessonStep& step) {
  std::vector<LessonError> errors;
  auto error = [&](int line, const std::string& message) {
    errors.push_back({lesson.name, line, message});
  };
  lab.set_training(false);
  if (!step.setup.empty() && !lab.apply_state(step.setup))
    error(step.setup_line, "the lab refuses this setup: " + lab.error());
  for (const auto& [line, cmd] : step.actions)
    if (cmd.rfind("export:", 0) == 0 || cmd == "train" || cmd == "toggle")
      error(line,
            "'" + cmd + "' is not a lesson action: the player trains when the learner runs a step");
    else if (!lab.command(cmd))
      error(line, "the lab refuses the command '" + cmd + "'" +
                      (lab.error().empty() ? "" : ": " + lab.error()));
  if (!step.view.empty() && !lab.command("view:" + step.view))
    error(step.view_line, "the lab has no view '" + step.view + "'");
  // Every name a checkpoint reads must exist in this lab: a lane it runs, a knob of its system.
  const nlohmann::json s = nlohmann::json::parse(lab.status_json());
  for (const LessonCheck& check : step.checks)
    for (const Condition::Comparison& cmp : check.condition.all)
      for (const auto* side : {&cmp.left, &cmp.right})
        for (const Condition::Term& t : *side)
          if (!t.name.empty() && !name_available(s, t.name))
            error(check.line, "'" + t.name + "' is not in this lab (methods: " +
                                  s["methods"].dump() + ", system: " + s.value("system", "") + ")");
  return errors;
}

CheckpointResult run_checkpoint(Lab& lab, const LessonCheck& check, int step_index) {
  CheckpointResult r;
  r.step = step_index;
  r.line = check.line;
  r.check = check.text;
  const auto t0 = std::chrono::steady_clock::now();
  const long long start = lab.steps();
  lab.set_training(true);
  int idle = 0;
  bool final_measure = false;
  long long last = start;
  while (true) {
    // Judged on measurements taken since the checkpoint began (the lab measures every 10 steps),
    // never on ones from before a "do:" changed the device.
    const std::string status = lab.status_json();
    const nlohmann::json s = nlohmann::json::parse(status);
    if (s.value("measured_at_step", -1LL) > start &&
        condition_met(check.condition, status, &r.detail)) {
      r.met = true;
      break;
    }
    if (lab.steps() - start >= check.within_steps) {
      // The budget is spent, but the lab measures every 10 steps, spread over frames: judge the
      // state reached by one last measurement (Lab::step_once adds one step and measures).
      if (s.value("measured_at_step", -1LL) < lab.steps() && !final_measure) {
        final_measure = true;
        lab.step_once();
        continue;
      }
      break;
    }
    lab.advance(1e9);
    // A lab that stops training (a refused step, a pack never arriving) must not hang us.
    idle = lab.steps() == last ? idle + 1 : 0;
    last = lab.steps();
    if (idle > 1000) {
      r.detail = "training stopped: " + lab.error();
      break;
    }
  }
  if (!r.met && r.detail.empty()) condition_met(check.condition, lab.status_json(), &r.detail);
  lab.set_training(false);
  r.steps = lab.steps() - start;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

CheckpointWatch::State CheckpointWatch::update(const std::string& status_json) {
  if (state_ != State::Waiting) return state_;
  const nlohmann::json s = nlohmann::json::parse(status_json, nullptr, false);
  if (s.is_discarded()) return state_;
  const long long measured = s.value("measured_at_step", -1LL);
  if (measured <= start_) return state_;
  if (condition_met(check_.condition, status_json, &detail_))
    state_ = State::Met;
  else if (measured >= start_ + check_.within_steps)
    state_ = State::Missed;
  return state_;
}

bool LessonReport::ok() const {
  if (!errors.empty()) return false;
  for (const CheckpointResult& c : checkpoints)
    if (!c.met) return false;
  return true;
}

LessonReport check_lesson(const Lesson& lesson, const LessonCheckOptions& options) {
  LessonReport report;
  Lab lab;
  for (size_t i = 0; i < lesson.steps.size(); ++i) {
    const LessonStep& step = lesson.steps[i];
    const std::vector<LessonError> errors = enter_step(lab, lesson, step);
    report.errors.insert(report.errors.end(), errors.begin(), errors.end());
    if (!errors.empty() || !options.run_checkpoints) continue;
    for (const LessonCheck& check : step.checks) {
      const CheckpointResult r = run_checkpoint(lab, check, int(i));
      report.checkpoints.push_back(r);
      if (options.on_checkpoint) options.on_checkpoint(r);
      if (!r.met)
        report.errors.push_back({lesson.name, check.line,
                                 "checkpoint not met within " + std::to_string(check.within_steps) +
                                     " steps (" + r.detail + ")"});
    }
  }
  return report;
}

}  // namespace patlab
