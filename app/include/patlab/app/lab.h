// patlab/app/lab.h: the interactive lab. One object holds everything a session shows: the
// data, the hybrid network (digital encoder -> emulated physical layer -> digital readout),
// the trainer, and the curves measured so far.
//
// The host (browser or desktop main) calls, once per frame:
//   lab.advance(budget_ms);   // trains a few batches, never longer than the budget
//   lab.draw();               // the ImGui UI, between Platform::begin_frame/end_frame
// and may drive it from outside with command() and read it with status_json().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "patlab/core/dataset.h"
#include "patlab/core/network.h"
#include "patlab/core/trainer.h"
#include "patlab/emulators/catalog.h"

namespace patlab {

// The knobs the lab starts a system with: a device that is visibly imperfect but trainable
// (every mismatch and structural knob at a third of its range, noise at a twentieth).
KnobValues lab_knobs(const std::string& system);

struct LabSettings {
  std::string dataset = "moons";  // one of toy2d_names()
  int train_size = 400;
  int test_size = 400;
  double data_noise = 0.1;        // jitter of the toy points
  Method method = Method::PAT;
  std::string system = "oscillators";  // any catalog id
  KnobValues knobs = lab_knobs("oscillators");
  uint64_t device_seed = 1;
  double learning_rate = 0.02;
  int batch_size = 32;
  int steps_per_frame = 4;        // training speed while the UI stays live
  uint64_t seed = 1;
};

class Lab {
 public:
  explicit Lab(const LabSettings& settings = LabSettings());
  ~Lab();

  // Rebuilds data, network and trainer from the settings; clears the curves.
  void reset();
  void set_training(bool on) { training_ = on; }
  bool training() const { return training_; }

  // Trains up to steps_per_frame batches, stopping early once budget_ms of wall time is used.
  void advance(double budget_ms);
  void draw();

  // External control (JavaScript hook, command line, tests). Commands:
  //   train | pause | reset | method:pat | method:in-silico | dataset:<name> | system:<id>
  //   knob:<key>=<value>
  // Returns false (and changes nothing) for an unknown or malformed command.
  bool command(const std::string& cmd);
  // Everything a test or the page needs to know, as JSON (see status_json in lab.cpp).
  std::string status_json() const;

  long long steps() const;
  const Evaluation& last_device_eval() const { return last_device_; }
  const Evaluation& last_twin_eval() const { return last_twin_; }

 private:
  void measure();        // evaluates the test set on device and twin, appends to the curves
  void refresh_maps();   // recomputes the class maps on a grid, device and twin
  void draw_controls();
  void draw_results();

  LabSettings settings_;
  Dataset train_, test_;
  Network net_;
  std::shared_ptr<EmulatedDevice> device_;
  std::unique_ptr<Trainer> trainer_;
  bool training_ = false;
  long long frames_ = 0;

  // Curves: one point per measurement.
  std::vector<float> curve_step_, acc_device_, acc_twin_, loss_device_, loss_twin_;
  Evaluation last_device_, last_twin_;
  long long measured_at_step_ = -1;
  Mat map_device_, map_twin_;  // class probabilities on the map grid (classes x cells)
  long long mapped_at_step_ = -1;

  // Screen rectangles of the main buttons (x, y, w, h), reported in status_json() so an
  // end-to-end test can click them like a user.
  float train_button_[4] = {0, 0, 0, 0};
  float reset_button_[4] = {0, 0, 0, 0};
};

}  // namespace patlab
