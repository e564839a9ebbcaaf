// The lesson session as JSON: its status (for tests and the page) and the learner's progress
// (kept across visits: the browser's localStorage, the desktop's file).
#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "patlab/lessons/lesson_session.h"

namespace patlab {

namespace {
const char* state_name(int s) {
  static const char* kNames[] = {"inactive", "waiting", "met", "missed"};
  return kNames[s];
}
}  // namespace

std::string LessonSession::status_json() const {
  nlohmann::json j;
  j["open"] = current_name();
  j["teacher"] = teacher_;
  j["error"] = error_;
  j["lessons"] = nlohmann::json::array();
  for (size_t i = 0; i < entries_.size(); ++i) {
    const auto& d = progress_[i].done;
    j["lessons"].push_back({{"name", entries_[i].name},
                            {"title", entries_[i].lesson.title},
                            {"steps", entries_[i].lesson.steps.size()},
                            {"done", std::count(d.begin(), d.end(), true)},
                            {"problem", entries_[i].problem}});
  }
  if (current_ >= 0) {
    const LessonStep& st = step();
    j["step"] = step_;
    j["steps"] = entries_[size_t(current_)].lesson.steps.size();
    j["title"] = st.title;
    j["applied"] = applied_;
    j["done"] = bool(progress_[size_t(current_)].done[size_t(step_)]);
    j["checks"] = nlohmann::json::array();
    for (size_t c = 0; c < st.checks.size(); ++c)
      j["checks"].push_back({{"text", st.checks[c].text}, {"state", state_name(int(checks_[c]))}, {"detail", details_[c]}});
    if (st.predict) {
      j["predict"] = {{"question", st.predict->question},
                      {"answers", st.predict->answers},
                      {"answered", progress_[size_t(current_)].answers[size_t(step_)]},
                      {"waiting_for_answer", asked_to_predict_}};
    }
  }
  return j.dump();
}

std::string LessonSession::progress_json() const {
  nlohmann::json j;
  j["open"] = current_name();
  j["teacher"] = teacher_;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Progress& p = progress_[i];
    const bool any = p.step > 0 || std::find(p.done.begin(), p.done.end(), true) != p.done.end() ||
                     std::any_of(p.answers.begin(), p.answers.end(), [](int a) { return a >= 0; });
    if (!any) continue;
    nlohmann::json done = nlohmann::json::array();
    for (size_t s = 0; s < p.done.size(); ++s)
      if (p.done[s]) done.push_back(s);
    nlohmann::json answers = nlohmann::json::object();
    for (size_t s = 0; s < p.answers.size(); ++s)
      if (p.answers[s] >= 0) answers[std::to_string(s)] = p.answers[s];
    j["lessons"][entries_[i].name] = {{"step", p.step}, {"done", done}, {"answers", answers}};
  }
  return j.dump();
}

bool LessonSession::restore_progress(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  if (j.contains("lessons") && j["lessons"].is_object()) {
    for (auto it = j["lessons"].begin(); it != j["lessons"].end(); ++it) {
      const int i = find(it.key());
      if (i < 0 || !it.value().is_object()) continue;
      const size_t n = entries_[size_t(i)].lesson.steps.size();
      Progress& p = progress_[size_t(i)];
      const nlohmann::json& v = it.value();
      if (v.contains("step") && v["step"].is_number_integer()) p.step = std::clamp(v["step"].get<int>(), 0, int(n) - 1);
      if (v.contains("done") && v["done"].is_array())
        for (const auto& s : v["done"])
          if (s.is_number_integer() && s.get<long>() >= 0 && size_t(s.get<long>()) < n) p.done[size_t(s.get<long>())] = true;
      if (v.contains("answers") && v["answers"].is_object())
        for (auto a = v["answers"].begin(); a != v["answers"].end(); ++a) {
          const size_t s = size_t(std::strtoul(a.key().c_str(), nullptr, 10));
          const LessonStep* st = s < n ? &entries_[size_t(i)].lesson.steps[s] : nullptr;
          if (st && st->predict && a.value().is_number_integer() && a.value().get<int>() >= 0 &&
              a.value().get<int>() < int(st->predict->answers.size()))
            p.answers[s] = a.value().get<int>();
        }
    }
  }
  if (j.contains("teacher") && j["teacher"].is_boolean()) teacher_ = j["teacher"].get<bool>();
  if (j.contains("open") && j["open"].is_string() && !j["open"].get<std::string>().empty() && current_ < 0)
    open(j["open"].get<std::string>());
  ++revision_;
  return true;
}

}  // namespace patlab
