// patlab/app/lab_view.h: the lab drawn with Dear ImGui. The model (lab.h) trains and measures;
// the view draws what it holds into the current ImGui frame and turns clicks into commands,
// run on the model after drawing (a command may rebuild the networks the widgets still read).
//
//   Lab lab;  LabView view(lab);
//   per frame:  lab.advance(budget_ms);  platform.begin_frame();  view.draw();  platform.end_frame();
//
// The window and the GL context are the platform layer's (patlab/platform/platform.h): the view
// draws into whatever ImGui context exists, so tests draw it headless.
#pragma once

#include <imgui.h>

#include <string>
#include <vector>

#include "patlab/app/lab.h"

namespace patlab {

// The colour a method's curves and maps wear everywhere in the lab.
ImU32 method_color(Method m);

class LabView {
 public:
  explicit LabView(Lab& lab) : lab_(lab) {}
  // The whole lab in one full-window ImGui window, then the commands its widgets asked for.
  void draw();

 private:
  void ask(const std::string& cmd) { asked_.push_back(cmd); }  // run after drawing
  static void rect_of_last_item(float out[4]);  // (x, y, w, h) of the last widget

  void draw_header();  // the name and, outside teacher mode, the question the lab asks
  void draw_controls();  // the column on the left, one group after another:
  void draw_methods();
  void draw_training();
  void draw_data_controls();
  void draw_system();
  void draw_knobs();
  void draw_network();
  void draw_share();
  void draw_results();  // the tab bar and the selected view
  // The views (lab_view_tabs.cpp).
  void draw_race();
  void draw_data();
  void draw_scatter_editor(ImVec2 size);
  void draw_slow_motion();
  void draw_inside();
  void draw_explorer();
  void draw_robustness();
  void draw_samples(const char* title, ImVec2 size, const Lane& lane) const;

  Lab& lab_;
  std::vector<std::string> asked_;
};

}  // namespace patlab
