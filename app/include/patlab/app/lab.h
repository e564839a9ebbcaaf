// patlab/app/lab.h: the interactive lab. One object holds everything a session shows: the
// data, the hybrid network (digital encoder -> emulated physical layer -> digital readout),
// the trainer, and the curves measured so far.
//
// The host (browser or desktop main) calls, once per frame:
//   lab.advance(budget_ms);   // trains a few batches, never longer than the budget
//   lab.draw();               // the ImGui UI, between Platform::begin_frame/end_frame
// and may drive it from outside with command() and read it with status_json().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <imgui.h>

#include "patlab/core/dataset.h"
#include "patlab/core/network.h"
#include "patlab/core/trainer.h"
#include "patlab/datasets/pack.h"
#include "patlab/emulators/catalog.h"

namespace patlab {

// The knobs the lab starts a system with: a device that is visibly imperfect but trainable
// (every mismatch and structural knob a third of the way from its default to its maximum,
// continuous noise a twentieth of the way; converter bits stay ideal).
KnobValues lab_knobs(const std::string& system);

// The data sets the lab offers: 2-D toys and synthetic vowels made on the spot, and the real
// image sets as packs (patlab/datasets/pack.h) the host loads on demand.
struct DataChoice {
  std::string id;     // the command's name: dataset:<id>
  std::string title;  // for people
  bool packed = false;
  double learning_rate = 0.02;  // a rate that trains it well: selecting the set applies it
};
const std::vector<DataChoice>& data_choices();

struct LabSettings {
  std::string dataset = "circles";  // an id of data_choices()
  int train_size = 400;           // generated sets; packs use all their training samples
  int test_size = 400;            // samples measured per curve point (packs: the first ones)
  double data_noise = 0.1;        // jitter of the toy points
  // Race: train PAT and in-silico side by side, each on its own copy of the same device from
  // the same starting parameters. Otherwise one network trained by `method`.
  bool race = true;
  Method method = Method::PAT;
  std::string system = "oscillators";  // any catalog id
  KnobValues knobs = lab_knobs("oscillators");
  uint64_t device_seed = 1;
  int physical_layers = 2;        // depth: errors of a wrong twin compound layer by layer
  double learning_rate = 0.02;
  int batch_size = 32;
  int steps_per_frame = 4;        // training speed while the UI stays live
  uint64_t seed = 1;
};

// One trained network: its devices, trainer and measured curves.
struct Lane {
  Method method = Method::PAT;
  Network net;
  std::vector<std::shared_ptr<EmulatedDevice>> devices;
  std::unique_ptr<Trainer> trainer;
  std::vector<float> step, acc_device, acc_twin, loss_device, loss_twin;  // one point per measurement
  Evaluation last_device, last_twin;
  Mat map_device, map_twin;  // class probabilities on the map grid (classes x cells)
};

class Lab {
 public:
  explicit Lab(const LabSettings& settings = LabSettings());
  ~Lab();

  // Rebuilds data, networks and trainers from the settings; clears the curves.
  void reset();
  void set_training(bool on) { training_ = on; }
  bool training() const { return training_; }

  // Trains up to steps_per_frame batches per lane, stopping early once budget_ms is used.
  void advance(double budget_ms);
  void draw();

  // External control (JavaScript hook, command line, tests). Commands:
  //   train | pause | reset | race:on | race:off | method:<name> | dataset:<name>
  //   system:<id> | knob:<key>=<value> | set:<setting>=<value>, settings being
  //   lr, steps_per_frame (apply at once), batch, layers, noise, train_size, test_size, seed,
  //   device_seed (rebuild the networks)
  // Returns false (and changes nothing) for an unknown or malformed command. dataset:<pack>
  // may complete later: the pack is requested from the host first (see set_pack_loader).
  bool command(const std::string& cmd);

  // Packed data sets come from the host: the browser downloads them, the desktop reads files.
  // The loader is asked for a pack id and answers, now or later, with provide_pack (the
  // file's bytes) or pack_failed (a message for the user).
  void set_pack_loader(std::function<void(const std::string& id)> loader) { pack_loader_ = std::move(loader); }
  void provide_pack(const std::string& id, const std::string& bytes);
  void pack_failed(const std::string& id, const std::string& message);
  const std::string& error() const { return error_; }  // the last problem, in words; "" if none

  // Everything a test or the page needs to know, as JSON (see status_json in lab.cpp).
  std::string status_json() const;

  long long steps() const;
  const Lane& lane(int i) const { return lanes_[size_t(i)]; }
  int lanes() const { return int(lanes_.size()); }

 private:
  void measure();        // evaluates the test set on device and twin, appends to the curves
  void refresh_maps();   // recomputes the class maps on a grid, device and twin
  void draw_controls();
  void draw_results();
  const SystemInfo& system_info() const { return lanes_.front().devices.front()->info(); }
  void set_knobs_everywhere(const KnobValues& k);
  bool set_setting(const std::string& assignment);  // "lr=0.01", "layers=3", ...
  void make_data();      // train_/test_ from settings_.dataset (its pack must be loaded)
  void draw_samples(const char* title, ImVec2 size, const Lane& lane) const;
  void report(const std::string& message);  // shows an error in the UI and on the console

  LabSettings settings_;
  Dataset train_, test_;
  std::map<std::string, std::shared_ptr<const DataPack>> packs_;
  std::function<void(const std::string&)> pack_loader_;
  std::string loading_;  // the pack asked for and not yet arrived
  std::string error_;
  std::vector<Lane> lanes_;
  bool training_ = false;
  long long frames_ = 0;
  long long measured_at_step_ = -1;
  long long mapped_at_step_ = -1;

  // Screen rectangles of the main buttons (x, y, w, h), reported in status_json() so an
  // end-to-end test can click them like a user.
  float train_button_[4] = {0, 0, 0, 0};
  float reset_button_[4] = {0, 0, 0, 0};
};

}  // namespace patlab
