// The lesson player on a real lab, headless: opening lessons, setting up a step, predict then
// play, checkpoints ticking as the lab trains, teacher mode, progress kept across visits, and
// the panel drawn in an ImGui context.
#include <gtest/gtest.h>
#include <imgui.h>

#include <nlohmann/json.hpp>

#include "patlab/app/lab_view.h"
#include "patlab/lessons/lesson_session.h"
#include "patlab/lessons/markdown.h"
#include "patlab/lessons/player.h"

namespace patlab {
namespace {

using nlohmann::json;

// Two steps: a setup with a checkpoint the lab meets in a few dozen steps, then a question
// and a second checkpoint on the same network. A third step that nothing can meet.
const char* kLesson = R"(# Two steps

Introduction.

## Learn the circles

Train in silico on a perfect device.

```lesson
setup: data=circles&methods=in-silico&knob.eta=0&knob.coupling_noise=0&seed=3
view: inside
controls: training, knobs
check: in-silico.device_accuracy >= 0.8 within 400 steps
```

## Keep going

```lesson
controls: training
predict: Will it stay above 0.5? | yes | no
answer: yes
check: in-silico.device_accuracy >= 0.5 within 100 steps
```

## Impossible

```lesson
check: in-silico.device_accuracy > 1.5 within 20 steps
```
)";

const std::vector<std::pair<std::string, std::string>>& files() {
  static const std::vector<std::pair<std::string, std::string>> f = {
      {"01-two-steps.md", kLesson}, {"02-broken.md", "no title here\n"}};
  return f;
}

json status(const LessonPlayer& p) { return json::parse(p.status_json()); }
json lab_status(const Lab& lab) { return json::parse(lab.status_json()); }

// Trains as the host's frame loop does, until the player's active checkpoint is decided or
// `frames` frames have passed.
void run_frames(Lab& lab, LessonPlayer& player, int frames) {
  lab.set_training(true);
  for (int i = 0; i < frames; ++i) {
    lab.advance(50.0);
    player.update();
    if (!lab.training()) break;  // the player pauses the lab once a checkpoint is decided
  }
}

// Gives the player `command` and, if it takes it, trains as run_frames(lab, player, 2000) does.
::testing::AssertionResult command_then_run(Lab& lab, LessonPlayer& player,
                                            const std::string& command) {
  if (!player.command(command)) return ::testing::AssertionFailure() << command << " refused";
  run_frames(lab, player, 2000);
  return ::testing::AssertionSuccess();
}

TEST(LessonPlayer, OpensLessonsByNameAndRefusesUnknownOrBrokenOnes) {
  Lab lab;
  LessonPlayer player(lab, files());
  EXPECT_FALSE(player.is_open());
  EXPECT_TRUE(player.open("two-steps"));
  EXPECT_EQ(player.current_name(), "01-two-steps");
  player.close();
  EXPECT_TRUE(player.command("lesson:open=01-two-steps.md"));
  EXPECT_FALSE(player.command("lesson:open=nope"));
  EXPECT_NE(player.error().find("01-two-steps"), std::string::npos) << "the error lists the lessons";
  EXPECT_FALSE(player.open("broken"));
  EXPECT_NE(player.error().find("02-broken.md:1"), std::string::npos) << player.error();
  EXPECT_FALSE(player.command("lesson:jump"));
  EXPECT_FALSE(player.command("lesson:step=x"));
  EXPECT_FALSE(player.command("lesson:step=7"));
  const json s = status(player);
  ASSERT_EQ(s["lessons"].size(), 2u);
  EXPECT_EQ(s["lessons"][0]["title"], "Two steps");
  EXPECT_EQ(s["lessons"][0]["steps"], 3);
  EXPECT_NE(s["lessons"][1]["problem"].get<std::string>(), "");
}

TEST(LessonPlayer, EveryShippedLessonOpens) {
  Lab lab;
  LessonPlayer player(lab);
  const json s = status(player);
  ASSERT_GE(s["lessons"].size(), 10u);
  for (const auto& l : s["lessons"]) {
    EXPECT_EQ(l["problem"], "") << l["name"];
    EXPECT_TRUE(player.open(l["name"].get<std::string>())) << player.error();
  }
}

TEST(LessonPlayer, SetUpThenTrainTicksTheCheckpoint) {
  Lab lab;
  LessonPlayer player(lab, files());
  ASSERT_TRUE(player.open("two-steps"));
  json s = status(player);
  EXPECT_EQ(s["step"], 0);
  EXPECT_FALSE(s["applied"].get<bool>());
  EXPECT_EQ(s["checks"][0]["state"], "inactive") << "checkpoints wait for the setup";

  ASSERT_TRUE(player.command("lesson:apply"));
  const json l = lab_status(lab);
  EXPECT_EQ(l["methods"], json::array({"in-silico"}));
  EXPECT_EQ(l["view"], "inside");
  EXPECT_NE(l["state"].get<std::string>().find("seed=3"), std::string::npos);
  s = status(player);
  EXPECT_EQ(s["checks"][0]["state"], "waiting");

  run_frames(lab, player, 2000);
  s = status(player);
  EXPECT_EQ(s["checks"][0]["state"], "met") << s.dump();
  EXPECT_TRUE(s["done"].get<bool>());
  EXPECT_FALSE(lab.training()) << "a finished step pauses the lab: time to read on";
  EXPECT_EQ(s["lessons"][0]["done"], 1);
}

TEST(LessonPlayer, PredictBeforePlayThenSecondStepContinuesTheNetwork) {
  Lab lab;
  LessonPlayer player(lab, files());
  ASSERT_TRUE(player.open("two-steps"));
  ASSERT_TRUE(command_then_run(lab, player, "lesson:apply"));
  const long long trained = lab.steps();
  ASSERT_GT(trained, 0);

  ASSERT_TRUE(player.command("lesson:next"));
  json s = status(player);
  EXPECT_EQ(s["step"], 1);
  EXPECT_TRUE(s["applied"].get<bool>()) << "nothing to set up: the step continues the lab";
  EXPECT_EQ(lab.steps(), trained) << "entering the step keeps the trained network";
  EXPECT_EQ(s["predict"]["answered"], -1);

  // Training waits for an answer.
  lab.set_training(true);
  player.update();
  EXPECT_FALSE(lab.training());
  EXPECT_TRUE(status(player)["predict"]["waiting_for_answer"].get<bool>());
  EXPECT_FALSE(player.command("lesson:predict=2"));
  ASSERT_TRUE(command_then_run(lab, player, "lesson:predict=0"));
  s = status(player);
  EXPECT_EQ(s["checks"][0]["state"], "met") << s.dump();
  EXPECT_EQ(s["predict"]["answered"], 0);
  EXPECT_GT(lab.steps(), trained);
}

TEST(LessonPlayer, AMissedCheckpointPausesAndCanBeRetried) {
  Lab lab;
  LessonPlayer player(lab, files());
  ASSERT_TRUE(player.open("two-steps"));
  ASSERT_TRUE(command_then_run(lab, player, "lesson:step=2"));
  json s = status(player);
  EXPECT_EQ(s["checks"][0]["state"], "missed") << s.dump();
  EXPECT_FALSE(lab.training());
  EXPECT_FALSE(s["done"].get<bool>());
  ASSERT_TRUE(player.command("lesson:retry"));
  EXPECT_EQ(status(player)["checks"][0]["state"], "waiting");
}

TEST(LessonPlayer, ALabResetUnderACheckpointRestartsItsCount) {
  Lab lab;
  LessonPlayer player(lab, files());
  ASSERT_TRUE(player.open("two-steps"));
  ASSERT_TRUE(player.command("lesson:step=2"));  // nothing to set up: its checkpoint is active
  for (int i = 0; i < 30; ++i) lab.step_once();
  ASSERT_TRUE(player.command("lesson:retry"));   // counts 20 steps from step 30 ...
  ASSERT_TRUE(lab.command("reset"));             // ... but the lab starts again from 0
  run_frames(lab, player, 2000);
  EXPECT_EQ(status(player)["checks"][0]["state"], "missed");
  EXPECT_LT(lab.steps(), 45) << "decided 20 steps after the reset, not 20 after step 30";
}

TEST(LessonPlayer, TeacherModeShowsOnlyTheStepsControls) {
  Lab lab;
  LessonPlayer player(lab, files());
  ASSERT_TRUE(player.open("two-steps"));
  EXPECT_TRUE(lab.control_visible("knobs")) << "teacher mode is off by default";
  ASSERT_TRUE(player.command("lesson:teacher=on"));
  EXPECT_TRUE(lab.control_visible("training"));
  EXPECT_TRUE(lab.control_visible("knobs"));
  EXPECT_FALSE(lab.control_visible("data"));
  EXPECT_FALSE(lab.control_visible("views"));
  EXPECT_EQ(lab_status(lab)["controls"], json::array({"training", "knobs"}));
  ASSERT_TRUE(player.command("lesson:next"));
  EXPECT_FALSE(lab.control_visible("knobs"));
  ASSERT_TRUE(player.command("lesson:next"));
  EXPECT_TRUE(lab.control_visible("data")) << "a step without a controls line shows them all";
  ASSERT_TRUE(player.command("lesson:teacher=off"));
  ASSERT_TRUE(player.command("lesson:back"));
  EXPECT_TRUE(lab.control_visible("data"));
  EXPECT_FALSE(lab_status(lab).contains("controls"));
  player.close();
  EXPECT_TRUE(lab.control_visible("data"));
}

TEST(LessonPlayer, ProgressSurvivesANewVisit) {
  std::string saved;
  {
    Lab lab;
    LessonPlayer player(lab, files());
    ASSERT_TRUE(player.open("two-steps"));
    ASSERT_TRUE(command_then_run(lab, player, "lesson:apply"));
    ASSERT_TRUE(player.command("lesson:next"));
    ASSERT_TRUE(player.command("lesson:predict=1"));
    ASSERT_TRUE(player.command("lesson:teacher=on"));
    saved = player.progress_json();
  }
  Lab lab;
  LessonPlayer player(lab, files());
  EXPECT_FALSE(player.restore_progress("not json"));
  EXPECT_FALSE(player.is_open());
  ASSERT_TRUE(player.restore_progress(saved));
  const json s = status(player);
  EXPECT_EQ(s["open"], "01-two-steps") << "the lesson open last time opens again";
  EXPECT_EQ(s["step"], 1) << "at the step last seen";
  EXPECT_EQ(s["lessons"][0]["done"], 1);
  EXPECT_EQ(s["predict"]["answered"], 1);
  EXPECT_TRUE(s["teacher"].get<bool>());
  // Foreign or damaged entries are ignored, not fatal.
  EXPECT_TRUE(player.restore_progress(R"({"lessons":{"nope":{"step":3},"two-steps":{"step":99,"done":[7,"x"]}}})"));
  EXPECT_TRUE(player.command("lesson:forget"));
  EXPECT_EQ(status(player)["lessons"][0]["done"], 0);
}

// The state machine on its own: no panel, no ImGui context, only the lab.
TEST(LessonSession, WalksAStepThroughItsStatesWithoutAPanel) {
  Lab lab;
  LessonSession session(lab, files());
  using State = LessonSession::CheckState;
  EXPECT_FALSE(session.is_open());
  EXPECT_EQ(session.entries().size(), 2u);
  EXPECT_FALSE(session.entries()[1].problem.empty());
  ASSERT_TRUE(session.open("two-steps"));
  EXPECT_EQ(session.step_index(), 0);
  EXPECT_TRUE(LessonSession::needs_apply(session.step()));
  EXPECT_FALSE(session.applied());
  EXPECT_EQ(session.checks(), std::vector<State>{State::Inactive});
  EXPECT_FALSE(session.checking());

  ASSERT_TRUE(session.command("lesson:apply"));
  EXPECT_TRUE(session.applied());
  EXPECT_EQ(session.checks(), std::vector<State>{State::Waiting});
  EXPECT_TRUE(session.checking());
  lab.set_training(true);
  for (int i = 0; i < 2000 && lab.training(); ++i) {
    lab.advance(50.0);
    session.update();
  }
  EXPECT_EQ(session.checks(), std::vector<State>{State::Met});
  EXPECT_FALSE(session.checking());
  EXPECT_TRUE(session.progress()[0].done[0]);

  // The next step asks first: training pauses until the answer.
  ASSERT_TRUE(session.command("lesson:next"));
  EXPECT_TRUE(session.applied()) << "nothing to set up";
  lab.set_training(true);
  session.update();
  EXPECT_FALSE(lab.training());
  EXPECT_TRUE(session.waiting_for_answer());
  ASSERT_TRUE(session.command("lesson:predict=0"));
  EXPECT_FALSE(session.waiting_for_answer());
  EXPECT_EQ(session.progress()[0].answers[1], 0);

  // Progress round-trips through its JSON into a fresh session.
  Lab lab2;
  LessonSession again(lab2, files());
  ASSERT_TRUE(again.restore_progress(session.progress_json()));
  EXPECT_EQ(again.current_name(), "01-two-steps");
  EXPECT_EQ(again.step_index(), 1);
  EXPECT_EQ(again.progress()[0].done, session.progress()[0].done);
  EXPECT_EQ(again.progress()[0].answers, session.progress()[0].answers);
}

TEST(LessonSession, MarkdownInlineTextKeepsOnlyTheWords) {
  EXPECT_EQ(markdown_inline_text("**PAT** uses the `twin`"), "PAT uses the twin");
  EXPECT_EQ(markdown_inline_text("see [the lab](https://example.org) now"), "see the lab now");
  EXPECT_EQ(markdown_inline_text("_slow_ motion, snake_case stays"), "slow motion, snake_case stays");
}

// The panel in a headless ImGui context, as the lab draws it: the list, then an open lesson
// with its question and checkpoints.
TEST(LessonPlayer, ThePanelDrawsInTheLab) {
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;
  io.DisplaySize = ImVec2(1280, 800);
  io.DeltaTime = 1.0f / 60.0f;
  io.Fonts->AddFontDefault();
  unsigned char* pixels = nullptr;
  int w = 0, h = 0;
  io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
  {
    Lab lab;
    LessonPlayer player(lab, files());
    const auto frame = [&] {
      ImGui::NewFrame();
      LabView(lab).draw();
      ImGui::Render();
      player.update();
      return ImGui::GetDrawData()->TotalVtxCount;
    };
    const int closed = frame();
    EXPECT_GT(closed, 0);
    ASSERT_TRUE(player.open("two-steps"));
    ASSERT_TRUE(player.command("lesson:next"));
    const int open = frame();
    EXPECT_GT(open, closed) << "an open lesson draws its text, question and checkpoint";
  }
  {
    // Every step of every shipped lesson, in and out of teacher mode.
    Lab lab;
    LessonPlayer player(lab);
    const json list = status(player)["lessons"];
    for (const char* mode : {"lesson:teacher=off", "lesson:teacher=on"}) {
      ASSERT_TRUE(player.command(mode));
      for (const auto& l : list)
        for (int st = 0; st < l["steps"].get<int>(); ++st) {
          ASSERT_TRUE(player.open(l["name"].get<std::string>()));
          ASSERT_TRUE(player.command("lesson:step=" + std::to_string(st)));
          ImGui::NewFrame();
          LabView(lab).draw();
          ImGui::Render();
          EXPECT_GT(ImGui::GetDrawData()->TotalVtxCount, 0) << l["name"] << " step " << st;
        }
    }
  }
  ImGui::DestroyContext();
}

}  // namespace
}  // namespace patlab
