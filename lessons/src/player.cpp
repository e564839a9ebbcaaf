// The lesson panel: an ImGui view over the LessonSession (lesson_session.h). It only draws;
// what its buttons ask for is queued as commands and run by update(), outside the drawing.
#include "patlab/lessons/player.h"

#include <imgui.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "patlab/app/lab.h"
#include "patlab/lessons/markdown.h"
#include "player_colors.h"

namespace patlab {

namespace {
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
}  // namespace

LessonPlayer::LessonPlayer(Lab& lab, const std::vector<std::pair<std::string, std::string>>& files)
    : lab_(lab), session_(lab, files) {
  lab_.set_panel([this] { draw(); });
}

LessonPlayer::~LessonPlayer() {
  lab_.set_panel(nullptr);
  lab_.show_all_controls();
}

void LessonPlayer::update() {
  // What the panel's buttons asked for, now that no widget is reading the lab.
  std::vector<std::string> asked;
  asked.swap(pending_);
  for (const std::string& c : asked) session_.command(c);
  session_.update();
}

std::string LessonPlayer::status_json() const {
  nlohmann::json j = nlohmann::json::parse(session_.status_json());
  j["ui"] = {{"apply", ui_apply_}, {"next", ui_next_}, {"answers", ui_answers_}};
  return j.dump();
}

void LessonPlayer::draw() {
  ImGui::PushID("lessons");
  if (!session_.is_open()) draw_list();
  else draw_step();
  ImGui::PopID();
}

void LessonPlayer::draw_list() {
  // Closed: one line that invites, and the course when unfolded.
  if (ImGui::CollapsingHeader("Lessons: a guided path through PAT")) {
    for (size_t i = 0; i < session_.entries().size(); ++i) {
      const LessonSession::Entry& e = session_.entries()[i];
      const auto& d = session_.progress()[i].done;
      const long done = long(std::count(d.begin(), d.end(), true));
      const std::string label = std::to_string(i + 1) + ". " + (e.lesson.title.empty() ? e.name : e.lesson.title);
      if (ImGui::Selectable(label.c_str(), false, 0, ImVec2(ImGui::GetContentRegionAvail().x - 44, 0)) && e.problem.empty())
        pending_.push_back("lesson:open=" + e.name);
      if (ImGui::IsItemHovered() && !e.problem.empty()) ImGui::SetTooltip("%s", e.problem.c_str());
      ImGui::SameLine(ImGui::GetContentRegionAvail().x - 36);
      if (done == long(d.size()) && !d.empty()) ImGui::TextColored(kMet, "done");
      else ImGui::TextDisabled("%ld/%zu", done, d.size());
    }
    bool teacher = session_.teacher_mode();
    if (ImGui::Checkbox("teacher mode: show only the controls a step needs", &teacher))
      pending_.push_back(teacher ? "lesson:teacher=on" : "lesson:teacher=off");
  }
  if (!session_.error().empty()) {
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextColored(kMissed, "%s", session_.error().c_str());
    ImGui::PopTextWrapPos();
  }
  ImGui::Separator();
}

void LessonPlayer::draw_step() {
  ui_apply_.clear();
  ui_next_.clear();
  ui_answers_.clear();
  const int current = session_.current(), step = session_.step_index();
  const LessonSession::Entry& e = session_.entries()[size_t(current)];
  const LessonSession::Progress& progress = session_.progress()[size_t(current)];
  const LessonStep& st = session_.step();
  const int n = int(e.lesson.steps.size());
  ImGui::TextColored(kDim, "Lesson %d", current + 1);
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
    const bool done = progress.done[size_t(s)];
    const ImU32 col = ImGui::GetColorU32(done ? kMet : (s == step ? kAccent : kDim));
    if (done || s == step) dl->AddCircleFilled(c, 5, col);
    else dl->AddCircle(c, 5, col, 0, 1.5f);
  }
  ImGui::Dummy(ImVec2(float(n) * 18, 16));
  ImGui::SameLine();
  ImGui::TextDisabled("step %d of %d", step + 1, n);
  if (step == 0 && !e.lesson.intro.empty()) draw_markdown(e.lesson.intro);
  ImGui::TextColored(kAccent, "%s", st.title.c_str());
  draw_markdown(st.text);

  // Set up the lab.
  if (LessonSession::needs_apply(st)) {
    ImGui::Spacing();
    const bool first = !session_.applied();
    if (first) {
      ImGui::PushStyleColor(ImGuiCol_Button, kAccent);
      ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.08f, 0.08f, 0.1f, 1));
    }
    if (ImGui::Button(session_.applied() ? "Set up again" : "Set up the lab for this step", ImVec2(-1, 30)))
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
  const int answered = progress.answers[size_t(step)];
  if (st.predict) {
    ImGui::Spacing();
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextColored(kAccent, "Predict first:");
    ImGui::SameLine();
    ImGui::TextUnformatted(st.predict->question.c_str());
    ImGui::PopTextWrapPos();
    const bool revealed = progress.done[size_t(step)];
    ui_answers_.clear();
    for (size_t a = 0; a < st.predict->answers.size(); ++a) {
      if (a) ImGui::SameLine();
      if (ImGui::RadioButton(st.predict->answers[a].c_str(), answered == int(a)) && !revealed)
        pending_.push_back("lesson:predict=" + std::to_string(a));
      ui_answers_.push_back(last_rect());
    }
    if (answered < 0 && session_.waiting_for_answer()) ImGui::TextColored(kAccent, "Answer before you train.");
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
      const LessonSession::CheckState s = session_.checks()[c];
      const ImVec2 q = ImGui::GetCursorScreenPos();
      const float r = 6, y = q.y + ImGui::GetTextLineHeight() * 0.5f;
      if (s == LessonSession::CheckState::Met) {
        dl->AddCircleFilled(ImVec2(q.x + r, y), r, ImGui::GetColorU32(kMet));
        dl->AddLine(ImVec2(q.x + 3, y), ImVec2(q.x + 5.5f, y + 3), IM_COL32(20, 22, 28, 255), 2);
        dl->AddLine(ImVec2(q.x + 5.5f, y + 3), ImVec2(q.x + 9.5f, y - 3), IM_COL32(20, 22, 28, 255), 2);
      } else if (s == LessonSession::CheckState::Missed) {
        dl->AddCircleFilled(ImVec2(q.x + r, y), r, ImGui::GetColorU32(kMissed));
      } else {
        dl->AddCircle(ImVec2(q.x + r, y), r, ImGui::GetColorU32(s == LessonSession::CheckState::Waiting ? kAccent : kDim), 0, 1.5f);
      }
      ImGui::Dummy(ImVec2(2 * r + 4, 2 * r));
      ImGui::SameLine();
      ImGui::PushTextWrapPos(0.0f);
      ImGui::TextUnformatted(readable(st.checks[c].text).c_str());
      ImGui::PopTextWrapPos();
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("check: %s%s%s", st.checks[c].text.c_str(), session_.check_details()[c].empty() ? "" : "\nnow: ",
                          session_.check_details()[c].c_str());
      if (s == LessonSession::CheckState::Missed) {
        ImGui::TextColored(kMissed, "Not met within %lld steps.", st.checks[c].within_steps);
        ImGui::SameLine();
        if (ImGui::SmallButton("Try again")) pending_.push_back("lesson:retry");
      }
    }
    if (!session_.applied()) ImGui::TextDisabled("Set up the lab first; then train.");
    else if (session_.checking()) ImGui::TextDisabled("Train (space bar) and watch.");
  }

  if (!session_.error().empty()) {
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextColored(kMissed, "%s", session_.error().c_str());
    ImGui::PopTextWrapPos();
  }

  // Back / next.
  ImGui::Spacing();
  const float half = (ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ItemSpacing.x) * 0.5f;
  ImGui::BeginDisabled(step == 0);
  if (ImGui::Button("< Back", ImVec2(half, 0))) pending_.push_back("lesson:back");
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (step + 1 < n) {
    if (ImGui::Button("Next >", ImVec2(half, 0))) pending_.push_back("lesson:next");
    ui_next_ = last_rect();
  } else if (ImGui::Button("Finish", ImVec2(half, 0))) {
    pending_.push_back("lesson:close");
  }
  bool teacher = session_.teacher_mode();
  if (ImGui::Checkbox("teacher mode", &teacher))
    pending_.push_back(teacher ? "lesson:teacher=on" : "lesson:teacher=off");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("shows only the controls this step needs");
  ImGui::Separator();
}

}  // namespace patlab
