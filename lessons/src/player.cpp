#include "patlab/lessons/player.h"

#include <imgui.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "patlab/app/lab.h"
#include "patlab/app/style.h"

namespace patlab {

namespace {
const ImVec4 kAccent(1.0f, 0.55f, 0.16f, 1.0f);
const ImVec4 kMet(0.45f, 0.85f, 0.55f, 1.0f);
const ImVec4 kMissed(1.0f, 0.50f, 0.45f, 1.0f);
const ImVec4 kDim(0.67f, 0.69f, 0.75f, 1.0f);

std::string strip_md(const std::string& file) {
  return file.size() > 3 && file.compare(file.size() - 3, 3, ".md") == 0 ? file.substr(0, file.size() - 3) : file;
}
// "03-reality-gap" -> "reality-gap"
std::string without_number(const std::string& name) {
  size_t i = 0;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
  return i > 0 && i < name.size() && name[i] == '-' ? name.substr(i + 1) : name;
}

// Inline Markdown, flattened for ImGui's plain text: emphasis and code markers dropped,
// [text](link) kept as its text.
std::string inline_text(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '*' || c == '`') continue;
    if (c == '_' && (i == 0 || s[i - 1] == ' ' || i + 1 == s.size() || s[i + 1] == ' ' ||
                     s[i + 1] == '.' || s[i + 1] == ',')) continue;
    if (c == ']' && i + 1 < s.size() && s[i + 1] == '(') {  // [text](url): keep the text
      const size_t close = s.find(')', i);
      if (close != std::string::npos) {
        i = close;
        continue;
      }
    }
    if (c == '[' && s.find("](", i) != std::string::npos) continue;
    out += c;
  }
  return out;
}

// A small Markdown renderer for lesson prose: paragraphs, "- " and "1. " lists, "### "
// headings, fenced code, blank lines. Enough for what lessons use; anything else shows as text.
void draw_markdown(const std::string& md) {
  ImGui::PushTextWrapPos(0.0f);
  std::string para;
  const auto flush = [&] {
    if (!para.empty()) ImGui::TextUnformatted(inline_text(para).c_str());
    para.clear();
  };
  bool code = false;
  size_t pos = 0;
  while (pos <= md.size()) {
    size_t end = md.find('\n', pos);
    if (end == std::string::npos) end = md.size();
    std::string line = md.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t indent = line.find_first_not_of(' ');
    const std::string t = indent == std::string::npos ? "" : line.substr(indent);
    if (t.rfind("```", 0) == 0) {
      flush();
      code = !code;
      continue;
    }
    if (code) {
      ImGui::TextColored(ImVec4(0.62f, 0.80f, 0.95f, 1), "  %s", line.c_str());
      continue;
    }
    if (t.empty()) {
      flush();
      ImGui::Spacing();
      continue;
    }
    if (t.rfind("#", 0) == 0) {
      flush();
      ImGui::TextColored(kAccent, "%s", inline_text(t.substr(t.find_first_not_of('#'))).c_str());
      continue;
    }
    const bool bullet = t.rfind("- ", 0) == 0 || t.rfind("* ", 0) == 0;
    size_t digits = 0;
    while (digits < t.size() && t[digits] >= '0' && t[digits] <= '9') ++digits;
    const bool numbered = digits > 0 && t.compare(digits, 2, ". ") == 0;
    if (bullet || numbered) {
      flush();
      para = numbered ? t : t.substr(2);
      if (bullet) {
        ImGui::Bullet();
        ImGui::SameLine();
      }
      // the item's continuation lines join it below
      continue;
    }
    para += (para.empty() ? "" : " ") + t;
  }
  flush();
  ImGui::PopTextWrapPos();
}

// A checkpoint's condition in words: "pat.device_accuracy >= 0.9" -> "PAT's accuracy on the
// device at least 0.9" (the exact text is in the tooltip).
std::string readable(const std::string& text) {
  static const std::pair<const char*, const char*> kOps[] = {
      {">=", "at least"}, {"<=", "at most"}, {">", "above"}, {"<", "below"}, {"==", "equal to"}, {"!=", "not"}};
  static const std::pair<const char*, const char*> kValues[] = {
      {"device_accuracy", "accuracy on the device"}, {"twin_accuracy", "accuracy on the twin"},
      {"device_loss", "loss on the device"},         {"twin_loss", "loss on the twin"},
      {"twin_gap", "twin gap"},                      {"alignment", "gradient alignment"},
      {"device_queries", "device queries"},          {"epoch", "epoch"},
      {"rms_residual", "RMS residual"},              {"phase", "phase"},
      {"error_before", "error before the fit"},      {"error_after", "error after the fit"}};
  static const std::pair<const char*, const char*> kOwners[] = {
      {"pat", "PAT's"}, {"in-silico", "in-silico's"}, {"ideal", "ideal's"}, {"spsa", "SPSA's"},
      {"explorer", "the explorer's"}, {"slow_motion", "slow motion's"}, {"knob", "knob"},
      {"twin", "the twin's"}};
  std::string out, word;
  const auto put = [&](const std::string& w) {
    if (w.empty()) return;
    std::string r = w;
    for (const auto& [op, words] : kOps)
      if (w == op) r = words;
    const size_t dot = w.find('.');
    if (dot != std::string::npos && !(w[0] >= '0' && w[0] <= '9')) {
      std::string owner = w.substr(0, dot), value = w.substr(dot + 1);
      for (const auto& [k, v] : kOwners)
        if (owner == k) owner = v;
      for (const auto& [k, v] : kValues)
        if (value == k) value = v;
      r = owner + " " + value;
    }
    out += (out.empty() ? "" : " ") + r;
  };
  for (char c : text) {
    if (c == ' ') {
      put(word);
      word.clear();
    } else {
      word += c;
    }
  }
  put(word);
  const size_t within = out.find(" within ");
  if (within != std::string::npos) out.replace(within, 8, ", within ");
  return out;
}

// The last item's screen rectangle (x, y, w, h): reported so a browser test clicks like a user.
std::vector<float> last_rect() {
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  return {a.x, a.y, b.x - a.x, b.y - a.y};
}

const char* state_name(int s) {
  static const char* kNames[] = {"inactive", "waiting", "met", "missed"};
  return kNames[s];
}
}  // namespace

LessonPlayer::LessonPlayer(Lab& lab, const std::vector<std::pair<std::string, std::string>>& files)
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
  lab_.set_panel([this] { draw(); });
}

LessonPlayer::~LessonPlayer() {
  lab_.set_panel(nullptr);
  lab_.show_all_controls();
}

int LessonPlayer::find(const std::string& name) const {
  const std::string n = strip_md(name);
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].name == n || without_number(entries_[i].name) == n) return int(i);
  return -1;
}

std::string LessonPlayer::current_name() const { return current_ >= 0 ? entries_[size_t(current_)].name : ""; }

LessonPlayer::Progress& LessonPlayer::progress() { return progress_[size_t(current_)]; }
const LessonStep& LessonPlayer::step() const { return entries_[size_t(current_)].lesson.steps[size_t(step_)]; }

bool LessonPlayer::needs_apply(const LessonStep& s) const {
  return !s.setup.empty() || !s.actions.empty() || !s.view.empty();
}

void LessonPlayer::set_error(const std::string& e) {
  error_ = e;
  ++revision_;
}

bool LessonPlayer::open(const std::string& name) {
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
  enter(std::clamp(progress().step, 0, int(entries_[size_t(i)].lesson.steps.size()) - 1));
  return true;
}

void LessonPlayer::close() {
  current_ = -1;
  checks_.clear();
  watches_.clear();
  details_.clear();
  active_ = -1;
  lab_.show_all_controls();
  ++revision_;
}

void LessonPlayer::enter(int s) {
  step_ = s;
  progress().step = s;
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

bool LessonPlayer::apply() {
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

void LessonPlayer::start_checks() {
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

void LessonPlayer::finish_step_if_done() {
  const bool all = std::all_of(checks_.begin(), checks_.end(), [](CheckState s) { return s == CheckState::Met; });
  if (applied_ && all && !progress().done[size_t(step_)]) {
    progress().done[size_t(step_)] = true;
    ++revision_;
  }
}

void LessonPlayer::update() {
  // What the panel's buttons asked for, now that no widget is reading the lab.
  std::vector<std::string> asked;
  asked.swap(pending_);
  for (const std::string& c : asked) command(c);
  if (current_ < 0) return;
  const LessonStep& st = step();
  // Predict, then play: training waits for the learner's answer.
  if (st.predict && progress().answers[size_t(step_)] < 0 && lab_.training()) {
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

bool LessonPlayer::command(const std::string& cmd) {
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
    progress().answers[size_t(step_)] = int(v);
    asked_to_predict_ = false;
    ++revision_;
    return true;
  }
  set_error("unknown lesson command '" + cmd + "'");
  return false;
}

std::string LessonPlayer::status_json() const {
  nlohmann::json j;
  j["open"] = current_name();
  j["teacher"] = teacher_;
  j["error"] = error_;
  j["ui"] = {{"apply", ui_apply_}, {"next", ui_next_}, {"answers", ui_answers_}};
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

std::string LessonPlayer::progress_json() const {
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

bool LessonPlayer::restore_progress(const std::string& text) {
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

void LessonPlayer::draw() {
  ImGui::PushID("lessons");
  if (current_ < 0) draw_list();
  else draw_step();
  ImGui::PopID();
}

void LessonPlayer::draw_list() {
  // Closed: one line that invites, and the course when unfolded.
  if (ImGui::CollapsingHeader("Lessons: a guided path through PAT")) {
    for (size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      const auto& d = progress_[i].done;
      const long done = long(std::count(d.begin(), d.end(), true));
      const std::string label = std::to_string(i + 1) + ". " + (e.lesson.title.empty() ? e.name : e.lesson.title);
      if (ImGui::Selectable(label.c_str(), false, 0, ImVec2(ImGui::GetContentRegionAvail().x - 44, 0)) && e.problem.empty())
        pending_.push_back("lesson:open=" + e.name);
      if (ImGui::IsItemHovered() && !e.problem.empty()) ImGui::SetTooltip("%s", e.problem.c_str());
      ImGui::SameLine(ImGui::GetContentRegionAvail().x - 36);
      if (done == long(d.size()) && !d.empty()) ImGui::TextColored(kMet, "done");
      else ImGui::TextDisabled("%ld/%zu", done, d.size());
    }
    bool teacher = teacher_;
    if (ImGui::Checkbox("teacher mode: show only the controls a step needs", &teacher))
      pending_.push_back(teacher ? "lesson:teacher=on" : "lesson:teacher=off");
  }
  if (!error_.empty()) {
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextColored(kMissed, "%s", error_.c_str());
    ImGui::PopTextWrapPos();
  }
  ImGui::Separator();
}

void LessonPlayer::draw_step() {
  ui_apply_.clear();
  ui_next_.clear();
  ui_answers_.clear();
  const Entry& e = entries_[size_t(current_)];
  const LessonStep& st = step();
  const int n = int(e.lesson.steps.size());
  ImGui::TextColored(kDim, "Lesson %d", current_ + 1);
  ImGui::SameLine();
  ImGui::PushTextWrapPos(ImGui::GetContentRegionAvail().x - 60);
  ImGui::TextUnformatted(e.lesson.title.c_str());
  ImGui::PopTextWrapPos();
  ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - 50);
  if (ImGui::SmallButton("Close")) pending_.push_back("lesson:close");

  // Where we are: a dot per step, filled when done.
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  for (int s = 0; s < n; ++s) {
    const ImVec2 c(p.x + 7 + float(s) * 18, p.y + 8);
    const bool done = progress_[size_t(current_)].done[size_t(s)];
    const ImU32 col = ImGui::GetColorU32(done ? kMet : (s == step_ ? kAccent : kDim));
    if (done || s == step_) dl->AddCircleFilled(c, 5, col);
    else dl->AddCircle(c, 5, col, 0, 1.5f);
  }
  ImGui::Dummy(ImVec2(float(n) * 18, 16));
  ImGui::SameLine();
  ImGui::TextDisabled("step %d of %d", step_ + 1, n);
  if (step_ == 0 && !e.lesson.intro.empty()) draw_markdown(e.lesson.intro);
  ImGui::TextColored(kAccent, "%s", st.title.c_str());
  draw_markdown(st.text);

  // Set up the lab.
  if (needs_apply(st)) {
    ImGui::Spacing();
    const bool first = !applied_;
    if (first) {
      ImGui::PushStyleColor(ImGuiCol_Button, kAccent);
      ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.08f, 0.08f, 0.1f, 1));
    }
    if (ImGui::Button(applied_ ? "Set up again" : "Set up the lab for this step", ImVec2(-1, 30)))
      pending_.push_back("lesson:apply");
    ui_apply_ = last_rect();
    if (first) ImGui::PopStyleColor(2);
    if (ImGui::IsItemHovered()) {
      std::string what = st.setup.empty() ? "keeps the trained network" : "loads: " + st.setup;
      for (const auto& a : st.actions) what += "\nthen: " + a.second;
      ImGui::SetTooltip("%s", what.c_str());
    }
  }

  // Predict, then play.
  const int answered = progress_[size_t(current_)].answers[size_t(step_)];
  if (st.predict) {
    ImGui::Spacing();
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextColored(kAccent, "Predict first:");
    ImGui::SameLine();
    ImGui::TextUnformatted(st.predict->question.c_str());
    ImGui::PopTextWrapPos();
    const bool revealed = progress_[size_t(current_)].done[size_t(step_)];
    ui_answers_.clear();
    for (size_t a = 0; a < st.predict->answers.size(); ++a) {
      if (a) ImGui::SameLine();
      if (ImGui::RadioButton(st.predict->answers[a].c_str(), answered == int(a)) && !revealed)
        pending_.push_back("lesson:predict=" + std::to_string(a));
      ui_answers_.push_back(last_rect());
    }
    if (answered < 0 && asked_to_predict_) ImGui::TextColored(kAccent, "Answer before you train.");
    if (answered >= 0 && revealed) {
      const bool right = answered == st.predict->correct;
      ImGui::TextColored(right ? kMet : kMissed, right ? "You predicted it." : "Not what you predicted: the answer is \"%s\".",
                         st.predict->answers[size_t(st.predict->correct)].c_str());
    } else if (answered >= 0) {
      ImGui::TextDisabled("Now train and see.");
    }
  }

  // Checkpoints.
  if (!st.checks.empty()) {
    ImGui::Spacing();
    ImGui::TextUnformatted(st.checks.size() > 1 ? "Checkpoints" : "Checkpoint");
    for (size_t c = 0; c < st.checks.size(); ++c) {
      const CheckState s = checks_[c];
      const ImVec2 q = ImGui::GetCursorScreenPos();
      const float r = 6, y = q.y + ImGui::GetTextLineHeight() * 0.5f;
      if (s == CheckState::Met) {
        dl->AddCircleFilled(ImVec2(q.x + r, y), r, ImGui::GetColorU32(kMet));
        dl->AddLine(ImVec2(q.x + 3, y), ImVec2(q.x + 5.5f, y + 3), IM_COL32(20, 22, 28, 255), 2);
        dl->AddLine(ImVec2(q.x + 5.5f, y + 3), ImVec2(q.x + 9.5f, y - 3), IM_COL32(20, 22, 28, 255), 2);
      } else if (s == CheckState::Missed) {
        dl->AddCircleFilled(ImVec2(q.x + r, y), r, ImGui::GetColorU32(kMissed));
      } else {
        dl->AddCircle(ImVec2(q.x + r, y), r, ImGui::GetColorU32(s == CheckState::Waiting ? kAccent : kDim), 0, 1.5f);
      }
      ImGui::Dummy(ImVec2(2 * r + 4, 2 * r));
      ImGui::SameLine();
      ImGui::PushTextWrapPos(0.0f);
      ImGui::TextUnformatted(readable(st.checks[c].text).c_str());
      ImGui::PopTextWrapPos();
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("check: %s%s%s", st.checks[c].text.c_str(), details_[c].empty() ? "" : "\nnow: ",
                          details_[c].c_str());
      if (s == CheckState::Missed) {
        ImGui::TextColored(kMissed, "Not met within %lld steps.", st.checks[c].within_steps);
        ImGui::SameLine();
        if (ImGui::SmallButton("Try again")) pending_.push_back("lesson:retry");
      }
    }
    if (!applied_) ImGui::TextDisabled("Set up the lab first; then train.");
    else if (active_ >= 0) ImGui::TextDisabled("Train (space bar) and watch.");
  }

  if (!error_.empty()) {
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextColored(kMissed, "%s", error_.c_str());
    ImGui::PopTextWrapPos();
  }

  // Back / next.
  ImGui::Spacing();
  const float half = (ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ItemSpacing.x) * 0.5f;
  ImGui::BeginDisabled(step_ == 0);
  if (ImGui::Button("< Back", ImVec2(half, 0))) pending_.push_back("lesson:back");
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (step_ + 1 < n) {
    if (ImGui::Button("Next >", ImVec2(half, 0))) pending_.push_back("lesson:next");
    ui_next_ = last_rect();
  } else if (ImGui::Button("Finish", ImVec2(half, 0))) {
    pending_.push_back("lesson:close");
  }
  bool teacher = teacher_;
  if (ImGui::Checkbox("teacher mode", &teacher))
    pending_.push_back(teacher ? "lesson:teacher=on" : "lesson:teacher=off");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("shows only the controls this step needs");
  ImGui::Separator();
}

}  // namespace patlab
