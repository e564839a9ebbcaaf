// patlab/app/lab.h: the interactive lab. One object holds everything a session shows: the
// data, the hybrid network (digital encoder -> emulated physical layer -> digital readout),
// the trainer, and the curves measured so far.
//
// This is the model: no ImGui (patlab/app/lab_view.h draws it). The host (browser or desktop
// main) calls, once per frame:
//   lab.advance(budget_ms);   // trains a few batches, never longer than the budget
//   view.draw();              // LabView: the ImGui UI, between Platform::begin_frame/end_frame
// and may drive it from outside with command() and read it with status_json().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "patlab/core/dataset.h"
#include "patlab/core/network.h"
#include "patlab/core/pat_step.h"
#include "patlab/core/trainer.h"
#include "patlab/datasets/pack.h"
#include "patlab/emulators/catalog.h"
#include "patlab/experiment/experiment.h"

namespace patlab {

// The knobs the lab starts a system with: a device that is visibly imperfect but trainable
// (every mismatch and structural knob a third of the way from its default to its maximum,
// continuous noise a twentieth of the way; converter bits stay ideal; the oscillators' unknown
// coupling, whose range is made for the paper's big network, at 0.1).
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

// The network every lane of the lab trains, as the lab's controls see it. In the experiment it
// is: an affine encoder to the system's default number of inputs; `physical` layers of `system`
// at `knobs`, seeded device_seed, device_seed + 1, ...; `digital` hidden layers (affine of
// `width` outputs + tanh); an affine readout with one output per class.
struct LabNetwork {
  std::string system = "oscillators";  // any catalog id
  KnobValues knobs;                    // every knob of the system (SystemInfo::complete)
  uint64_t device_seed = 1;
  int physical = 2;  // depth: errors of a wrong twin compound layer by layer
  int digital = 0;   // hidden digital layers (affine + tanh) after the physical ones
  int width = 16;    // their width
  // The network is not the lab's shape but a file's (say the paper's reference network, with
  // append and select layers): the lab trains and shows it as it is, and the controls that would
  // rebuild it (layers, digital, width) replace it with the lab's own shape.
  bool custom = false;
};
// The lab's network of an experiment: its shape, or custom. Throws std::invalid_argument saying
// why when the lab cannot run it: no physical layer, or physical layers of different systems or
// knobs (the lab's knobs turn every layer; the command line trains any network).
LabNetwork lab_network(const Experiment& e);
// Sets every physical layer of e to `knobs` (completed and checked by the system; throws
// std::invalid_argument); in the lab's shape the layers' widths follow.
void set_lab_knobs(Experiment& e, const KnobValues& knobs);
// Makes e's network n (the readout keeps e's readout size; 2 when e has none). Throws
// std::invalid_argument for knobs or sizes the system refuses.
void set_lab_network(Experiment& e, LabNetwork n);
// The lab's start: circles, two layers of oscillators at lab_knobs, learning rate 0.02, batch 32.
Experiment lab_experiment();

// What the lab is set to: an experiment (the file format of patlab/experiment: the command line,
// exported and imported files and the lab's links all speak it) and how the lab runs it.
struct LabSettings {
  // Data, network (in the lab's shape: LabNetwork) and training. Its train.method is the first
  // lane's; the lab's own data sets (a drawing, an imported CSV) are named here as "drawn" and
  // "csv", which only the lab has.
  Experiment experiment = lab_experiment();
  // One lane per method, each on its own copy of the same device from the same starting
  // parameters: two or more make a race (by default PAT against in-silico).
  std::vector<Method> methods = {Method::PAT, Method::InSilico};
  int steps_per_frame = 4;  // training speed while the UI stays live
  int epochs = 0;           // training pauses after this many passes over the data; 0 = never
};

// Sets one numeric setting by its link/command name, each a field of the experiment or of how the
// lab runs it: lr (train.optimizer.learning_rate), batch (train.batch_size), seed (data.seed and
// train.seed), data_seed (data.seed alone), noise, train_size, test_size (data.*), layers,
// digital, digital_width, device_seed (the network: LabNetwork), steps_per_frame, epochs. False,
// and no change, for an unknown name or a value out of its range.
bool apply_lab_setting(LabSettings& settings, const std::string& key, double value);

// Parses "pat,in-silico,...": the methods the lab offers, each once. False, with the reason in
// *why (when given), for anything else.
bool parse_lab_methods(const std::string& list, std::vector<Method>& methods, std::string* why);

class DevicePending;    // patlab/devices/link.h

// One trained network: a run of the lab's experiment for one method (the experiment layer's
// Run: network, devices as its layers see them, trainer; the data are the lab's) and the curves
// measured on it.
struct Lane : Run {
  Method method = Method::PAT;
  std::vector<std::shared_ptr<EmulatedDevice>> emulated;  // each physical layer's emulator
  bool on_device = false;  // its physical layers run on the host's device (Lab::set_device_hook)
  std::string emulated_because;  // why it stays on the emulator while a device is offered; "" else
  std::vector<float> step, acc_device, acc_twin, loss_device, loss_twin;  // one point per measurement
  // Inside the training, per measurement: the twin's relative error on the device's own inputs
  // and the cosine between the gradient used and the ideal one, both averaged over the steps
  // since the last point (NaN where the method has none), and the device queries so far.
  std::vector<float> twin_gap, alignment, queries;
  double gap_sum = 0, align_sum = 0;
  int gap_n = 0, align_n = 0;
  Evaluation last_device, last_twin;
  Mat map_device, map_twin;  // class probabilities on the map grid (classes x cells)
};

// Final device accuracy over a grid of one noise knob x one mismatch knob, for each method:
// where does PAT's advantage hold? Computed on demand, a cell at a time within the frame
// budget, by training a fresh network per cell.
struct RobustnessMap {
  std::string noise_key, mismatch_key;      // the system's first continuous noise and mismatch knobs
  std::vector<double> noise, mismatch;      // grid values (rows: noise, columns: mismatch)
  std::vector<Method> methods;
  std::vector<Mat> accuracy;                // per method, noise x mismatch; NaN = not yet
  int steps_per_cell = 120;
  int done = 0, total = 0;                  // cells finished (all methods) and in all
  bool running = false;
  std::string system;                       // what the map was computed for
};

// What one device does to an input, next to what its twin predicts: an input channel swept
// over its range (the others at 0), one output channel read, at the PAT lane's current
// parameters of the first physical layer, on a separate copy of the device.
struct Explorer {
  int input_channel = 0, output_channel = 0;
  std::vector<float> drive, device, twin, residual;
  long long computed_at_step = -1;
  bool dirty = true;
};

// PAT's one step, slowed down into its three phases (patlab/core/pat_step.h), on a few test
// samples of the first lane:
// 1 forward on the device (and, for comparison, the twin's prediction at every physical
// layer's real input); 2 backward through the twin at the device's activations, next to the
// true gradient (the emulator's exact physics at the same activations) and in-silico's (the
// twin all the way); 3 the update (a real training step of every lane).
struct SlowMotion {
  int phase = 0;  // 0: not started; 1, 2, 3: the phase last shown
  int samples = 0;
  std::vector<Vec> device_out, twin_out;  // per physical layer, the first sample's outputs
  std::vector<double> twin_gap;           // per physical layer, over the samples
  Mat logits;
  double loss = 0.0;
  std::vector<Vec> grad_pat, grad_true, grad_insilico;  // per physical layer, ∂ℓ/∂θ
  std::vector<double> cos_pat, cos_insilico;             // with the true gradient
  std::vector<double> update_norm;                       // ‖Δθ‖ per physical layer in phase 3
  PatForward forward;  // phase 1's whole account, which phase 2 continues from
};

// The twin refitted from measurements of the device (command twin:fit): the held-out relative
// error ‖twin − device‖ / ‖device‖ before and after, averaged over the physical layers.
struct TwinFit {
  bool fitted = false;
  std::string kind;  // "calibrated" (the physics twin's constants) or "mlp-residual"
  double error_before = 0.0, error_after = 0.0;
  long long queries = 0;  // device queries the measurements took
  int samples = 0;        // per layer, for fitting (a quarter as many more are held out)
};

class Lab {
 public:
  // The 2-D class maps: cells per side, and the square of the plane they cover.
  static constexpr int kMapGrid = 28;
  static constexpr float kMapLo = -2.0f, kMapHi = 2.0f;

  explicit Lab(const LabSettings& settings = LabSettings());
  ~Lab();

  // Rebuilds data, networks and trainers from the settings; clears the curves.
  void reset();
  void set_training(bool on) {
    training_ = on;
    ++revision_;
  }
  bool training() const { return training_; }

  // Trains up to steps_per_frame batches per lane, stopping early once budget_ms is used; a
  // running robustness map gets the frame's budget instead.
  void advance(double budget_ms);
  const RobustnessMap& robustness() const { return robustness_; }
  const Explorer& explorer() const { return explorer_; }
  const TwinFit& twin_fit() const { return twin_fit_; }
  const SlowMotion& slow_motion() const { return slow_; }
  // One training step of every lane, then a fresh measurement (the Step button).
  void step_once();

  // External control (JavaScript hook, command line, tests). Commands:
  //   train | pause | toggle | step | reset | dataset:<id> | system:<id>
  //   methods:<m>,<m>,... (one lane each; names of method_from_name: pat, in-silico, ideal,
  //   spsa) | race:on (= methods:pat,in-silico) | race:off | method:<m> (one lane)
  //   knob:<key>=<value> | set:<setting>=<value>, settings being lr, steps_per_frame (apply at
  //   once), batch, layers, noise, train_size, test_size, seed, device_seed (rebuild)
  //   export:<curves|parameters|experiment> (hands a file to the download handler)
  //   view:<race|inside|explorer|robustness> (the results tab)
  //   robustness:start[=<steps per cell>] | robustness:stop
  //   explore:in=<i> | explore:out=<k> (explorer channels)
  //   twin:fit (measures every physical layer's device, fits its twin, every lane's; see
  //   TwinFit; a reset brings the nominal twins back)
  //   phase (slow motion: the next of PAT's three phases; pauses training)
  //   point:add=<x>,<y>,<class> | point:remove=<x>,<y> (2-D data: edits the points, which
  //   become the data set "drawn"; a quarter of each class is held out for testing)
  //   device:<...> (passed to the device hook: device:serial connects a Web Serial port,
  //   device:emulated disconnects and goes back to the emulator; see set_device_hook)
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
  // A passing message for the user ("saved patlab-curves.csv"), shown under the share buttons.
  void notify(const std::string& message) {
    notice_ = message;
    ++revision_;
  }

  // The whole setup as a URL query ("data=circles&methods=pat,in-silico&system=...&knob.eta=
  // 0.2"): a link with it reproduces the lab. apply_state() applies one, all or nothing; on a
  // bad key or value it changes nothing, reports the problem and returns false. Keys it does
  // not own (lesson=...) are left to others.
  std::string state_query() const;
  bool apply_state(const std::string& query);

  // Files for the user: "curves" (CSV), "parameters" (JSON), "experiment" (the experiment file
  // format of patlab/experiment). The host decides what a download is (browser: a file save;
  // desktop: a file in the working folder).
  struct ExportFile {
    std::string name, mime, text;
  };
  ExportFile export_file(const std::string& kind) const;
  // The lab's network and training as an experiment (the first lane's method): build_run() on
  // it builds the same network from the same seeds.
  Experiment experiment() const;
  // The experiment of one lane: the lab's data, network and training for `method`, with the
  // physical layers at `knobs` (the robustness map varies them).
  Experiment lane_experiment(Method method, const KnobValues& knobs) const;
  DataSpec data_spec() const;  // the data part of it
  void set_download_handler(std::function<void(const ExportFile&)> handler) { download_ = std::move(handler); }
  // Shows an "Open a file..." button that calls this (the browser's file picker).
  void set_open_handler(std::function<void()> handler) { open_file_ = std::move(handler); }
  // A file the user dropped or picked: an experiment (.json) sets the lab up as it describes;
  // a CSV (.csv) becomes the data set "csv" (label column: label, class, target or y, else the
  // last one). Returns false and reports why when the file cannot be used.
  bool import_file(const std::string& name, const std::string& text);

  // Everything a test or the page needs to know, as JSON (see status_json in lab.cpp).
  std::string status_json() const;

  // Lessons (patlab/lessons/player.h) hook in here. The panel is drawn at the top of the
  // controls column every frame. Teacher mode shows only the controls named (of training,
  // data, system, methods, knobs, layers, settings, views, share; "views" is the tab bar: without
  // it only the current view's tab shows); show_all_controls() ends it.
  void set_panel(std::function<void()> draw) { panel_ = std::move(draw); }
  void show_only_controls(const std::vector<std::string>& names);
  void show_all_controls();
  bool control_visible(const std::string& name) const;

  // A real device for the lanes (the browser's Web Serial port: wasm/web_serial.cpp; the
  // desktop's serial port: native/desktop_device.cpp). `layers` is the experiment layer's
  // DeviceFactory, asked for each physical layer of each lane whose method can train on a real
  // device (PAT, in-silico, SPSA; ideal needs the emulator's true physics): it gives the system
  // to run that layer on instead, or nullptr to keep the emulator; the twin stays the emulated
  // system's. Such a system may throw DevicePending (patlab/devices/link.h): the step was rolled
  // back and the lab repeats it on a later frame, lanes in lockstep, measurements and maps
  // likewise. panel draws the "Device" section of the controls; command takes the device:<...>
  // commands; status gives status_json()'s "device" (JSON text). Call reset() when the
  // factory's answer changes.
  struct DeviceHook {
    DeviceFactory layers;
    std::function<void()> panel;
    std::function<bool(const std::string& cmd)> command;
    std::function<std::string()> status;
  };
  void set_device_hook(DeviceHook hook) {
    device_ = std::move(hook);
    reset();
  }
  const std::string& system() const { return network_.system; }  // the catalog id in use
  const LabSettings& settings() const { return settings_; }
  const LabNetwork& network() const { return network_; }  // lab_network(settings().experiment)

  long long steps() const;
  // Changes whenever what the lab shows changes (a measurement, a command, a finished cell of a
  // map...): the host redraws only then, or on input.
  long long revision() const { return revision_; }
  const Lane& lane(int i) const { return lanes_[size_t(i)]; }
  // Some lane's physical layers run on the host's device: the knobs cannot reach those.
  bool any_lane_on_device() const {
    for (const Lane& l : lanes_)
      if (l.on_device) return true;
    return false;
  }
  int lanes() const { return int(lanes_.size()); }

 private:
  // The view (lab_view.h) reads the model's state to draw it and keeps a few things of its
  // own here (the selected tab, the buttons' screen rectangles); changes go through command().
  friend class LabView;

  void measure();        // evaluates the test set on device and twin, appends to the curves
  void measure_lane(Lane& lane, int part);
  // Builds a lane in place (its trainer refers to its network: lanes never move once built).
  void build_lane(Lane& lane, Method method, const KnobValues& knobs, bool measure_alignment = true,
                  bool on_device = false) const;
  void build_lanes();  // one per method, from settings_ (throws as build_network does)
  // Steps every lane up to step_target_; false while one waits for its device (DevicePending).
  bool step_lanes();
  static void train_step(Lane& lane);  // one step, the inside-the-training figures accumulated
  void device_waits(const DevicePending& e);  // shows a stalled device's reason, once
  void start_robustness();
  void advance_robustness(double budget_ms);
  void refresh_explorer();
  bool fit_twins();  // twin:fit (lab_twin.cpp)
  void slow_motion_phase();
  bool edit_points(const std::string& cmd);
  void refresh_maps();   // recomputes the class maps on a grid, device and twin
  static const Mat& map_grid();  // the maps' cell centres (2 x kMapGrid², row by row)
  void refresh_map(Lane& lane);
  const SystemInfo& system_info() const { return lanes_.front().emulated.front()->info(); }
  void set_knobs_everywhere(const KnobValues& k);
  bool set_setting(const std::string& assignment);  // "lr=0.01", "layers=3", ...
  // Takes `next` (its network one the lab can run), all or nothing: false, and the reason
  // reported, if it cannot be used. A data pack not here yet is asked for first, and `next`
  // waits for it whole (pending_); without keeps_lr it then takes the data set's learning rate.
  bool adopt(const LabSettings& next, const std::string& why_prefix, bool keeps_lr);
  bool set_methods(const std::string& list);        // "pat,in-silico"
  bool import_experiment(const std::string& text);
  bool import_csv(const std::string& name, const std::string& text);
  const DataChoice* choice(const std::string& id) const;  // built in, or the user's CSV
  void make_data();      // train_/test_ from settings_.dataset (its pack must be loaded)
  void report(const std::string& message);  // shows an error in the UI and on the console

  LabSettings settings_;
  LabNetwork network_;  // lab_network(settings_.experiment), kept with it
  Dataset train_, test_;
  std::map<std::string, std::shared_ptr<const DataPack>> packs_;
  std::function<void(const std::string&)> pack_loader_;
  std::string loading_;  // the pack asked for and not yet arrived
  std::unique_ptr<LabSettings> pending_;  // a link's or file's setup waiting for that pack
  bool pending_lr_ = false;
  std::string error_;
  std::string notice_;
  DataChoice user_data_;  // the imported CSV, once there is one (id "csv")
  std::function<void(const ExportFile&)> download_;
  std::function<void()> open_file_;
  std::function<void()> panel_;
  DeviceHook device_;
  int owed_ = 0;                // kOwed* bits: work a pending device reply holds back
  long long step_target_ = 0;   // the step count every lane is brought to
  std::string stall_;           // the stalled device's message on show, if any
  bool teacher_mode_ = false;
  std::vector<std::string> visible_controls_;  // in teacher mode
  std::vector<Lane> lanes_;
  RobustnessMap robustness_;
  std::unique_ptr<Lane> sweep_lane_;  // the robustness cell in training
  int sweep_method_ = 0, sweep_cell_ = 0;
  Explorer explorer_;
  TwinFit twin_fit_;
  SlowMotion slow_;
  std::string view_ = "race";
  bool select_view_ = false;  // view_ was set by a command: select its tab
  bool training_ = false;
  long long frames_ = 0;
  long long revision_ = 0;
  long long measured_at_step_ = -1;
  int measuring_lane_ = 0;  // while a measurement is spread over frames: 2 x lane + part
  long long mapped_at_step_ = -1;
  int mapping_lane_ = 0;

  // Screen rectangles of the main buttons (x, y, w, h), reported in status_json() so an
  // end-to-end test can click them like a user.
  float train_button_[4] = {0, 0, 0, 0};
  float reset_button_[4] = {0, 0, 0, 0};
  float step_button_[4] = {0, 0, 0, 0};
  float scatter_rect_[4] = {0, 0, 0, 0};  // the Data view's drawing area ([-2, 2]² of data)
  float pixel_ratio_ = 0;  // device pixels per logical pixel, as the view last drew (0: not drawn)
};

}  // namespace patlab
