#include "patlab/app/lab.h"

#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "patlab/devices/link.h"
#include "patlab/app/plot.h"
#include "patlab/app/style.h"
#include "patlab/core/layer.h"
#include "patlab/core/loss.h"
#include "patlab/datasets/processing.h"
#include "patlab/datasets/toy2d.h"
#include "patlab/datasets/vowels.h"

namespace patlab {

namespace {
constexpr int kMeasureEvery = 10;   // steps between test-set measurements
constexpr int kMapEvery = 50;       // steps between class-map refreshes
constexpr size_t kMaxCurvePoints = 600;
// What a device's pending reply held back (Lab::owed_), done on a later frame.
constexpr int kOwedMeasure = 1, kOwedMaps = 2, kOwedStep = 4;

// Keeps every other point once a curve is long: bounded memory, whole history visible.
void thin(std::vector<float>& v) {
  size_t j = 0;
  for (size_t i = 0; i < v.size(); i += 2) v[j++] = v[i];
  v.resize(j);
}

}  // namespace

KnobValues lab_knobs(const std::string& system) {
  KnobValues k;
  for (const KnobInfo& info : find_system(system).info.knobs) {
    double f = 0.0;
    if (info.kind == "mismatch" || info.kind == "structural") f = 1.0 / 3.0;
    // Converter resolutions (integer noise knobs, "bits") are ideal at 0 and crude at small
    // values: the lab leaves them ideal.
    if (info.kind == "noise" && !info.integer) f = 1.0 / 20.0;
    const double v = info.default_value + f * (info.max - info.default_value);
    k[info.key] = info.integer ? std::round(v) : v;
  }
  return k;
}

const std::vector<DataChoice>& data_choices() {
  static const std::vector<DataChoice> choices = {
      {"circles", "circles (2-D)"},
      {"moons", "moons (2-D)"},
      {"spiral", "spiral (2-D)"},
      {"xor", "XOR (2-D)"},
      {"clusters", "3 Gaussian clusters (2-D)"},
      {"vowels", "vowels: 7 classes of formants (synthetic)", false, 0.01},
      // Many input features: a gentler rate keeps the encoder's drives in the range where the
      // twin is good (at 0.02 PAT on MNIST wanders off after a few hundred steps).
      {"digits8", "8x8 handwritten digits (UCI)", true, 0.005},
      {"mnist14", "MNIST digits, 14x14", true, 0.005},
      {"fashion14", "Fashion-MNIST, 14x14", true, 0.005},
  };
  return choices;
}

namespace {
}  // namespace

ImU32 method_color(Method m) {
  switch (m) {
    case Method::PAT: return palette::device;
    case Method::InSilico: return palette::twin;
    case Method::Ideal: return IM_COL32(120, 210, 110, 255);
    case Method::SPSA: return IM_COL32(200, 130, 255, 255);
    default: return IM_COL32(220, 220, 220, 255);
  }
}

const DataChoice* Lab::choice(const std::string& id) const {
  for (const DataChoice& c : data_choices())
    if (c.id == id) return &c;
  if (!user_data_.id.empty() && id == user_data_.id) return &user_data_;
  return nullptr;
}

Lab::Lab(const LabSettings& settings) : settings_(settings) {
  const DataChoice* c = choice(settings_.dataset);
  if (!c || c->packed) settings_.dataset = "circles";  // packs arrive later, by command
  reset();
}
Lab::~Lab() = default;

long long Lab::steps() const { return lanes_.empty() ? 0 : lanes_.front().trainer->steps(); }

void Lab::make_data() {
  const std::string& id = settings_.dataset;
  const auto pack = packs_.find(id);
  if (id == "drawn" && pack != packs_.end()) {
    // The user's points: one pool, a quarter of each class held out for testing (seeded).
    std::tie(train_, test_) = split_dataset(pack->second->train, 0.25, settings_.seed);
  } else if (pack != packs_.end()) {
    train_ = pack->second->train;
    // The curves measure a fixed subset: every point costs a pass of it through the device.
    const int n = std::min(settings_.test_size, pack->second->test.size());
    test_ = pack->second->test;
    test_.x = pack->second->test.x.leftCols(n).eval();
    test_.y = pack->second->test.y.head(n).eval();
  } else if (id == "vowels") {
    train_ = make_vowels(settings_.train_size, settings_.seed);
    test_ = make_vowels(settings_.test_size, settings_.seed + 1000);
  } else {
    train_ = make_toy2d(id, settings_.train_size, settings_.data_noise, settings_.seed);
    test_ = make_toy2d(id, settings_.test_size, settings_.data_noise, settings_.seed + 1000);
  }
}

void Lab::report(const std::string& message) {
  ++revision_;
  error_ = message;
  std::fprintf(stderr, "patlab: %s\n", message.c_str());
}

void Lab::provide_pack(const std::string& id, const std::string& bytes) {
  try {
    auto pack = std::make_shared<DataPack>(decode_pack(bytes));
    if (pack->info.id != id) throw PackError("the file holds '" + pack->info.id + "', not '" + id + "'");
    packs_[id] = std::move(pack);
  } catch (const std::exception& e) {
    if (loading_ == id) loading_.clear();
    report("data set " + id + ": " + e.what());
    return;
  }
  if (loading_ == id) {
    loading_.clear();
    settings_.dataset = id;
    settings_.learning_rate = choice(id)->learning_rate;
    error_.clear();
    reset();
  }
}

void Lab::pack_failed(const std::string& id, const std::string& message) {
  if (loading_ == id) loading_.clear();
  report("data set " + id + " could not be loaded: " + message);
}

void Lab::build_lane(Lane& lane, Method method, const KnobValues& knobs, bool measure_alignment,
                     bool on_device) const {
  // Every lane is built from the same seeds: the same devices, the same starting point.
  lane.method = method;
  Rng rng(settings_.seed);
  int width = train_.features();
  lane.net.add(std::make_unique<AffineLayer>(width, find_system(settings_.system).info.default_shape.inputs, rng));
  width = lane.net.output_size();
  for (int l = 0; l < settings_.physical_layers; ++l) {
    SystemInstance sys = make_system(settings_.system, Shape{width, width}, knobs,
                                     settings_.device_seed + uint64_t(l));
    lane.devices.push_back(sys.device);
    // A PAT lane may run on the host's device (Web Serial) instead, with the same twin.
    std::shared_ptr<PhysicalSystem> system = sys.device;
    if (on_device && method == Method::PAT && device_.source)
      if (auto d = device_.source(*sys.device, l)) {
        system = std::move(d);
        lane.on_device = true;
      }
    lane.net.add(std::make_unique<PhysicalLayer>(system, sys.twin, sys.theta0));
    width = sys.device->output_size();
  }
  // A hybrid network: digital layers between the physical ones and the readout.
  for (int l = 0; l < settings_.digital_layers; ++l) {
    lane.net.add(std::make_unique<AffineLayer>(width, settings_.digital_width, rng));
    lane.net.add(std::make_unique<ActivationLayer>(settings_.digital_width, Activation::Tanh));
    width = settings_.digital_width;
  }
  lane.net.add(std::make_unique<AffineLayer>(width, train_.num_classes, rng));
  TrainConfig cfg;
  cfg.method = method;
  cfg.optimizer.learning_rate = settings_.learning_rate;
  cfg.batch_size = settings_.batch_size;
  cfg.seed = settings_.seed;
  // How well each method's gradient points: the emulators know the true physics, so the lab
  // can show it (no device queries; about one more backward pass per step).
  cfg.measure_alignment = measure_alignment && !lane.on_device;  // a real device has no oracle
  lane.trainer = std::make_unique<Trainer>(lane.net, train_, cfg);
}

void Lab::reset() {
  ++revision_;
  make_data();
  lanes_.clear();
  lanes_.resize(settings_.methods.size());
  for (size_t i = 0; i < lanes_.size(); ++i)
    build_lane(lanes_[i], settings_.methods[i], settings_.knobs, true, true);
  owed_ = 0;
  step_target_ = 0;
  measured_at_step_ = mapped_at_step_ = -1;
  twin_fit_ = TwinFit();  // new lanes, nominal twins
  measure();
  refresh_maps();
  explorer_.dirty = true;
  // A map computed for other data, network or system no longer answers the question.
  robustness_ = RobustnessMap();
  sweep_lane_.reset();
  slow_ = SlowMotion();
}

namespace {
// One training step of a lane, with the inside-the-training figures accumulated.
void train_step(Lane& lane) {
  const StepResult r = lane.trainer->step();
  if (std::isfinite(r.twin_gap)) {
    lane.gap_sum += r.twin_gap;
    ++lane.gap_n;
  }
  if (std::isfinite(r.grad_alignment)) {
    lane.align_sum += r.grad_alignment;
    ++lane.align_n;
  }
}

float mean_or_nan(double sum, int n) { return n ? float(sum / n) : std::nanf(""); }
}  // namespace

void Lab::measure_lane(Lane& lane, int part) {
  // part 0: the device's answers on the test set; 1: the twin's, then the curves' new point.
  if (part == 0) {
    lane.last_device = lane.trainer->evaluate(test_, Pass::Device);
    return;
  }
  lane.last_twin = lane.trainer->evaluate(test_, Pass::Twin);
  lane.step.push_back(float(lane.trainer->steps()));
  lane.acc_device.push_back(float(lane.last_device.accuracy));
  lane.acc_twin.push_back(float(lane.last_twin.accuracy));
  lane.loss_device.push_back(float(lane.last_device.loss));
  lane.loss_twin.push_back(float(lane.last_twin.loss));
  lane.twin_gap.push_back(mean_or_nan(lane.gap_sum, lane.gap_n));
  lane.alignment.push_back(mean_or_nan(lane.align_sum, lane.align_n));
  lane.queries.push_back(float(lane.net.device_queries()));
  lane.gap_sum = lane.align_sum = 0;
  lane.gap_n = lane.align_n = 0;
  if (lane.step.size() > kMaxCurvePoints)
    for (auto* v : {&lane.step, &lane.acc_device, &lane.acc_twin, &lane.loss_device, &lane.loss_twin,
                    &lane.twin_gap, &lane.alignment, &lane.queries})
      thin(*v);
}

void Lab::measure() {
  // The device passes first, all of them: one waiting for its device's reply leaves nothing
  // half-recorded, and the measurement is taken again on a later frame (advance).
  try {
    for (Lane& lane : lanes_) measure_lane(lane, 0);
  } catch (const DevicePending& e) {
    owed_ |= kOwedMeasure;
    device_waits(e);
    return;
  }
  owed_ &= ~kOwedMeasure;
  for (Lane& lane : lanes_) measure_lane(lane, 1);
  measured_at_step_ = steps();
  measuring_lane_ = 0;
  ++revision_;
}

const Mat& Lab::map_grid() {
  // The cells' centres, row by row: the same for every map, so made once.
  static const Mat grid = [] {
    Mat g(2, kMapGrid * kMapGrid);
    for (int r = 0; r < kMapGrid; ++r)
      for (int c = 0; c < kMapGrid; ++c) {
        g(0, r * kMapGrid + c) = kMapLo + (c + 0.5) * (kMapHi - kMapLo) / kMapGrid;
        g(1, r * kMapGrid + c) = kMapLo + (r + 0.5) * (kMapHi - kMapLo) / kMapGrid;
      }
    return g;
  }();
  return grid;
}

void Lab::refresh_map(Lane& lane) {
  if (train_.features() != 2) return;  // maps are for 2-D data only
  const Mat& grid = map_grid();
  auto probabilities = [&](Pass pass, Mat& out) {
    // Softmax over the class logits, per cell.
    out = lane.net.forward(grid, pass).topRows(train_.num_classes);
    for (Eigen::Index i = 0; i < out.cols(); ++i) {
      out.col(i) = (out.col(i).array() - out.col(i).maxCoeff()).exp().matrix();
      out.col(i) /= out.col(i).sum();
    }
  };
  probabilities(Pass::Device, lane.map_device);
  // The twin's map is shown only for a single method (a race shows the devices side by side).
  if (lanes_.size() == 1) probabilities(Pass::Twin, lane.map_twin);
}

void Lab::refresh_maps() {
  try {
    for (Lane& lane : lanes_) refresh_map(lane);
  } catch (const DevicePending& e) {
    owed_ |= kOwedMaps;
    device_waits(e);
    return;
  }
  owed_ &= ~kOwedMaps;
  mapped_at_step_ = steps();
  mapping_lane_ = 0;
  ++revision_;
}

void Lab::advance(double budget_ms) {
  ++frames_;
  if (robustness_.running) {
    advance_robustness(budget_ms);
    return;
  }
  if (view_ == "explorer" && (explorer_.dirty || steps() - explorer_.computed_at_step >= kMapEvery))
    refresh_explorer();
  if (owed_) {
    // A device's reply held something back (a Step, a measurement, a map): finish it first.
    try {
      if ((owed_ & kOwedStep) && step_lanes()) owed_ &= ~kOwedStep;
    } catch (const DeviceError& e) {
      owed_ &= ~kOwedStep;
      step_target_ = steps();
      report(std::string("step refused: ") + e.what());
    } catch (const TrainingError& e) {
      owed_ &= ~kOwedStep;
      training_ = false;
      step_target_ = steps();
      report(std::string("training diverged and was stopped: ") + e.what());
    }
    if (!(owed_ & kOwedStep)) {
      if (owed_ & kOwedMeasure) measure();
      if (!(owed_ & kOwedMeasure) && (owed_ & kOwedMaps)) refresh_maps();
    }
    return;
  }
  if (!training_) return;
  if (settings_.epochs > 0 && lanes_.front().trainer->epoch() >= settings_.epochs) {
    training_ = false;
    notify("paused after " + std::to_string(settings_.epochs) + " epochs");
    return;
  }
  // Lanes step in lockstep: one waiting for its device's reply holds the others back.
  try {
    if (!step_lanes()) return;
  } catch (const DeviceError& e) {
    training_ = false;
    step_target_ = steps();
    report(std::string("training paused: ") + e.what());
    return;
  } catch (const TrainingError& e) {
    training_ = false;
    step_target_ = steps();
    report(std::string("training diverged and was stopped: ") + e.what());
    return;
  }
  // A measurement and a map refresh each take a frame of their own: done inside a training
  // frame they would overrun its budget and the page would stutter.
  if (steps() - measured_at_step_ >= kMeasureEvery) {
    // One pass of one lane per frame: measuring a race of four at once would take a while.
    try {
      measure_lane(lanes_[size_t(measuring_lane_ / 2)], measuring_lane_ % 2);
    } catch (const DevicePending& e) {
      device_waits(e);  // the same pass again next frame
      return;
    }
    if (++measuring_lane_ == 2 * int(lanes_.size())) {
      measuring_lane_ = 0;
      measured_at_step_ = steps();
      ++revision_;
    }
    return;
  }
  if (steps() - mapped_at_step_ >= kMapEvery) {
    try {
      refresh_map(lanes_[size_t(mapping_lane_)]);
    } catch (const DevicePending& e) {
      device_waits(e);
      return;
    }
    if (++mapping_lane_ == int(lanes_.size())) {
      mapping_lane_ = 0;
      mapped_at_step_ = steps();
      ++revision_;
    }
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  try {
    for (int i = 0; i < settings_.steps_per_frame; ++i) {
      step_target_ = steps() + 1;
      if (!step_lanes()) break;  // a device's reply is on its way: this step again next frame
      if (steps() - measured_at_step_ >= kMeasureEvery || steps() - mapped_at_step_ >= kMapEvery) break;
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (ms > budget_ms) break;
    }
  } catch (const DeviceError& e) {
    // The step was rolled back; the user decides what to change before going on.
    training_ = false;
    step_target_ = steps();
    report(std::string("training paused: ") + e.what());
  } catch (const TrainingError& e) {
    training_ = false;
    step_target_ = steps();
    report(std::string("training diverged and was stopped: ") + e.what());
  }
}

bool Lab::step_lanes() {
  bool stepped = false;
  for (Lane& lane : lanes_)
    while (lane.trainer->steps() < step_target_) {
      try {
        train_step(lane);
        stepped = true;
      } catch (const DevicePending& e) {
        device_waits(e);
        return false;
      }
    }
  if (stepped && !stall_.empty()) {
    // The device is back: its message goes.
    if (error_ == stall_) error_.clear();
    stall_.clear();
    ++revision_;
  }
  return true;
}

void Lab::device_waits(const DevicePending& e) {
  if (!e.stalled() || stall_ == e.what()) return;
  stall_ = e.what();
  report(stall_);
}

bool parse_lab_methods(const std::string& list, std::vector<Method>& methods, std::string* why) {
  methods.clear();
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    Method m;
    try {
      m = method_from_name(list.substr(start, comma - start));
    } catch (const std::invalid_argument&) {
      if (why) *why = "names an unknown method";
      return false;
    }
    // The lab trains networks of a dozen to a few hundred parameters: finite differences
    // would take a device query per parameter per step, so the lab offers the others.
    if (m == Method::FiniteDifference || std::find(methods.begin(), methods.end(), m) != methods.end()) {
      if (why) *why = "lists a method twice or one the lab does not offer";
      return false;
    }
    methods.push_back(m);
    start = comma + 1;
  }
  return true;  // never empty: an empty list names the method ""
}

bool Lab::set_methods(const std::string& list) {
  std::vector<Method> methods;
  if (!parse_lab_methods(list, methods, nullptr)) return false;
  settings_.methods = methods;
  reset();
  return true;
}

void Lab::step_once() {
  try {
    step_target_ = steps() + 1;
    if (!step_lanes()) {
      owed_ |= kOwedStep | kOwedMeasure | kOwedMaps;  // finished when the reply is there
      return;
    }
  } catch (const DeviceError& e) {
    step_target_ = steps();
    report(std::string("step refused: ") + e.what());
  } catch (const TrainingError& e) {
    step_target_ = steps();
    report(std::string("step refused, the training diverged: ") + e.what());
  }
  measure();
  refresh_maps();
}

bool apply_lab_setting(LabSettings& s, const std::string& key, double v) {
  const bool whole = v == std::floor(v);
  // Each setting with its valid range; anything else is refused.
  if (key == "lr" && v > 0 && v <= 1) s.learning_rate = v;
  else if (key == "steps_per_frame" && whole && v >= 1 && v <= 200) s.steps_per_frame = int(v);
  else if (key == "epochs" && whole && v >= 0 && v <= 100000) s.epochs = int(v);
  else if (key == "batch" && whole && v >= 1 && v <= 1024) s.batch_size = int(v);
  else if (key == "layers" && whole && v >= 1 && v <= 8) s.physical_layers = int(v);
  else if (key == "digital" && whole && v >= 0 && v <= 4) s.digital_layers = int(v);
  else if (key == "digital_width" && whole && v >= 2 && v <= 256) s.digital_width = int(v);
  else if (key == "noise" && v >= 0 && v <= 1) s.data_noise = v;
  else if (key == "train_size" && whole && v >= 20 && v <= 20000) s.train_size = int(v);
  else if (key == "test_size" && whole && v >= 20 && v <= 20000) s.test_size = int(v);
  else if (key == "seed" && whole && v >= 0 && v < 1e15) s.seed = uint64_t(v);
  else if (key == "device_seed" && whole && v >= 0 && v < 1e15) s.device_seed = uint64_t(v);
  else return false;
  return true;
}

bool Lab::set_setting(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos) return false;
  const std::string key = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !std::isfinite(v)) return false;
  LabSettings next = settings_;
  if (!apply_lab_setting(next, key, v)) return false;
  settings_ = next;
  // The learning rate and the training speed apply at once; the rest rebuilds the networks.
  if (key == "lr") {
    for (Lane& lane : lanes_) lane.trainer->set_learning_rate(v);
  } else if (key != "steps_per_frame" && key != "epochs") {
    reset();
  }
  return true;
}

void Lab::set_knobs_everywhere(const KnobValues& k) {
  // All lanes see the same physics: one knob turns every copy of the device.
  for (Lane& lane : lanes_)
    for (auto& d : lane.devices) d->set_knobs(k);
  settings_.knobs = lanes_.front().devices.front()->knobs();
}

bool Lab::command(const std::string& cmd) {
  ++revision_;  // whatever it does, redraw
  if (cmd == "train") {
    training_ = true;
  } else if (cmd == "pause") {
    training_ = false;
  } else if (cmd == "reset") {
    reset();
  } else if (cmd == "toggle") {
    training_ = !training_;
  } else if (cmd == "step") {
    step_once();
  } else if (cmd == "race:on") {
    return set_methods("pat,in-silico");
  } else if (cmd == "race:off") {
    return set_methods(method_name(settings_.methods.front()));
  } else if (cmd.rfind("method:", 0) == 0) {
    return set_methods(cmd.substr(7));
  } else if (cmd.rfind("methods:", 0) == 0) {
    return set_methods(cmd.substr(8));
  } else if (cmd.rfind("view:", 0) == 0) {
    const std::string v = cmd.substr(5);
    if (v != "race" && v != "data" && v != "slow" && v != "inside" && v != "explorer" && v != "robustness") return false;
    view_ = v;
    select_view_ = true;
    explorer_.dirty = true;
  } else if (cmd.rfind("point:", 0) == 0) {
    return edit_points(cmd);
  } else if (cmd == "phase") {
    slow_motion_phase();
  } else if (cmd == "robustness:start" || cmd.rfind("robustness:start=", 0) == 0) {
    // robustness:start=<steps per cell> (default 120) trades precision for time.
    int steps_per_cell = 120;
    if (cmd.size() > 16) {
      char* end = nullptr;
      steps_per_cell = int(std::strtol(cmd.c_str() + 17, &end, 10));
      if (*end != '\0' || steps_per_cell < 1 || steps_per_cell > 100000) return false;
    }
    start_robustness();
    robustness_.steps_per_cell = steps_per_cell;
    return robustness_.running;
  } else if (cmd == "twin:fit") {
    return fit_twins();
  } else if (cmd == "robustness:stop") {
    robustness_.running = false;
    sweep_lane_.reset();
  } else if (cmd.rfind("explore:in=", 0) == 0 || cmd.rfind("explore:out=", 0) == 0) {
    const bool in = cmd[8] == 'i';
    const std::string value = cmd.substr(in ? 11 : 12);
    char* end = nullptr;
    const long v = std::strtol(value.c_str(), &end, 10);
    const PhysicalSystem& d = *lanes_.front().devices.front();
    if (value.empty() || *end != '\0' || v < 0 || v >= (in ? d.input_size() : d.output_size())) return false;
    (in ? explorer_.input_channel : explorer_.output_channel) = int(v);
    explorer_.dirty = true;
  } else if (cmd.rfind("export:", 0) == 0) {
    const std::string kind = cmd.substr(7);
    if (kind != "curves" && kind != "parameters" && kind != "experiment") return false;
    if (!download_) {
      report("this host cannot save files");
      return false;
    }
    download_(export_file(kind));
  } else if (cmd.rfind("dataset:", 0) == 0) {
    const std::string name = cmd.substr(8);
    const DataChoice* pick = choice(name);
    if (!pick) return false;
    if (pick->packed && !packs_.count(name)) {
      if (!pack_loader_) {
        report("data set " + name + " needs a data pack, and this host cannot load any");
        return false;
      }
      loading_ = name;  // reset() happens when the pack arrives
      pack_loader_(name);
      return true;
    }
    loading_.clear();
    settings_.dataset = name;
    settings_.learning_rate = pick->learning_rate;
    reset();
  } else if (cmd.rfind("system:", 0) == 0) {
    const std::string id = cmd.substr(7);
    bool known = false;
    for (const CatalogEntry& e : catalog()) known |= e.info.id == id;
    if (!known) return false;
    settings_.system = id;
    settings_.knobs = lab_knobs(id);
    reset();
  } else if (cmd.rfind("set:", 0) == 0) {
    return set_setting(cmd.substr(4));
  } else if (cmd.rfind("device:", 0) == 0) {
    return device_.command && device_.command(cmd);
  } else if (cmd.rfind("knob:", 0) == 0) {
    const size_t eq = cmd.find('=');
    if (eq == std::string::npos) return false;
    KnobValues k = settings_.knobs;
    char* end = nullptr;
    const std::string value = cmd.substr(eq + 1);
    k[cmd.substr(5, eq - 5)] = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0') return false;
    try {
      system_info().complete(k);  // validate before touching any device
    } catch (const std::invalid_argument&) {
      return false;
    }
    set_knobs_everywhere(k);
  } else {
    return false;
  }
  return true;
}

void Lab::show_only_controls(const std::vector<std::string>& names) {
  teacher_mode_ = true;
  visible_controls_ = names;
  ++revision_;
}

void Lab::show_all_controls() {
  teacher_mode_ = false;
  visible_controls_.clear();
  ++revision_;
}

bool Lab::control_visible(const std::string& name) const {
  return !teacher_mode_ ||
         std::find(visible_controls_.begin(), visible_controls_.end(), name) != visible_controls_.end();
}

std::string Lab::status_json() const {
  nlohmann::json j;
  j["ready"] = frames_ >= 2;  // the UI has been laid out and drawn at least once
  j["frames"] = frames_;
  j["training"] = training_;
  j["race"] = lanes_.size() > 1;
  j["methods"] = nlohmann::json::array();
  for (Method m : settings_.methods) j["methods"].push_back(method_name(m));
  j["state"] = state_query();
  j["learning_rate"] = settings_.learning_rate;
  j["dataset"] = settings_.dataset;
  j["loading"] = loading_;
  j["error"] = error_;
  j["notice"] = notice_;
  j["view"] = view_;
  // Teacher mode: the controls on show (absent: all of them).
  if (teacher_mode_) j["controls"] = visible_controls_;
  j["robustness"] = {{"running", robustness_.running}, {"done", robustness_.done},
                     {"total", robustness_.total}, {"noise_knob", robustness_.noise_key},
                     {"mismatch_knob", robustness_.mismatch_key}};
  j["robustness"]["accuracy"] = nlohmann::json::array();
  for (const Mat& a : robustness_.accuracy) {
    nlohmann::json rows = nlohmann::json::array();
    for (Eigen::Index r = 0; r < a.rows(); ++r) {
      nlohmann::json row = nlohmann::json::array();
      for (Eigen::Index c = 0; c < a.cols(); ++c)
        row.push_back(std::isfinite(a(r, c)) ? nlohmann::json(a(r, c)) : nlohmann::json(nullptr));
      rows.push_back(row);
    }
    j["robustness"]["accuracy"].push_back(rows);
  }
  j["slow_motion"] = {{"phase", slow_.phase}, {"cos_pat", slow_.cos_pat},
                      {"cos_insilico", slow_.cos_insilico}, {"twin_gap", slow_.twin_gap},
                      {"update_norm", slow_.update_norm}};
  j["explorer"] = {{"input", explorer_.input_channel}, {"output", explorer_.output_channel},
                   {"points", explorer_.drive.size()}};
  if (!explorer_.residual.empty()) {
    double r2 = 0;
    for (float r : explorer_.residual) r2 += double(r) * r;
    j["explorer"]["rms_residual"] = std::sqrt(r2 / double(explorer_.residual.size()));
  }
  if (twin_fit_.fitted)
    j["twin"] = {{"kind", twin_fit_.kind}, {"error_before", twin_fit_.error_before},
                 {"error_after", twin_fit_.error_after}, {"queries", twin_fit_.queries},
                 {"samples", twin_fit_.samples}};
  j["classes"] = train_.num_classes;
  j["features"] = train_.features();
  j["train_size"] = train_.size();
  j["test_size"] = test_.size();
  j["system"] = settings_.system;
  j["physical_layers"] = settings_.physical_layers;
  j["step"] = steps();
  j["measured_at_step"] = measured_at_step_;
  j["knobs"] = lanes_.front().devices.front()->knobs();
  if (device_.status) j["device"] = nlohmann::json::parse(device_.status(), nullptr, false);
  j["lanes"] = nlohmann::json::array();
  for (const Lane& lane : lanes_)
    j["lanes"].push_back(
        {{"method", method_name(lane.method)},
         {"twin_gap", lane.twin_gap.empty() || !std::isfinite(lane.twin_gap.back()) ? nlohmann::json(nullptr) : nlohmann::json(lane.twin_gap.back())},
         {"alignment", lane.alignment.empty() || !std::isfinite(lane.alignment.back()) ? nlohmann::json(nullptr) : nlohmann::json(lane.alignment.back())},
         {"epoch", lane.trainer->epoch()},
         {"on_device", lane.on_device},
         {"device_queries", lane.net.device_queries()},
         {"test", {{"device", {{"loss", lane.last_device.loss}, {"accuracy", lane.last_device.accuracy}}},
                   {"twin", {{"loss", lane.last_twin.loss}, {"accuracy", lane.last_twin.accuracy}}}}}});
  // The first lane also at top level, for simple clients.
  j["method"] = j["lanes"][0]["method"];
  j["epoch"] = j["lanes"][0]["epoch"];
  j["device_queries"] = j["lanes"][0]["device_queries"];
  j["test"] = j["lanes"][0]["test"];
  j["ui"]["train_button"] = train_button_;
  j["ui"]["reset_button"] = reset_button_;
  j["ui"]["step_button"] = step_button_;
  j["ui"]["scatter"] = scatter_rect_;
  if (ImGui::GetCurrentContext()) j["ui"]["pixel_ratio"] = ImGui::GetIO().DisplayFramebufferScale.x;
  return j.dump();
}

// ---------------------------------------------------------------------------------------
// Robustness map

void Lab::start_robustness() {
  RobustnessMap m;
  m.system = settings_.system;
  const SystemInfo& info = find_system(settings_.system).info;
  for (const KnobInfo& k : info.knobs) {
    if (m.noise_key.empty() && k.kind == "noise" && !k.integer) m.noise_key = k.key;
    if (m.mismatch_key.empty() && k.kind == "mismatch") m.mismatch_key = k.key;
  }
  if (m.noise_key.empty() || m.mismatch_key.empty()) {
    report(info.name + " has no continuous noise knob or no mismatch knob to map");
    return;
  }
  constexpr int kGrid = 5;
  for (const KnobInfo& k : info.knobs)
    for (int i = 0; i < kGrid; ++i) {
      const double v = k.default_value + (k.max - k.default_value) * i / (kGrid - 1);
      if (k.key == m.noise_key) m.noise.push_back(v);
      if (k.key == m.mismatch_key) m.mismatch.push_back(v);
    }
  m.methods = settings_.methods;
  for (size_t i = 0; i < m.methods.size(); ++i)
    m.accuracy.push_back(Mat::Constant(kGrid, kGrid, std::numeric_limits<double>::quiet_NaN()));
  m.total = int(m.methods.size()) * kGrid * kGrid;
  m.running = true;
  robustness_ = std::move(m);
  training_ = false;  // the map takes the frames' budget while it runs
  sweep_method_ = sweep_cell_ = 0;
  sweep_lane_.reset();
}

void Lab::advance_robustness(double budget_ms) {
  RobustnessMap& m = robustness_;
  const auto t0 = std::chrono::steady_clock::now();
  const int cols = int(m.mismatch.size());
  while (m.running) {
    const int row = sweep_cell_ / cols, col = sweep_cell_ % cols;
    if (!sweep_lane_) {
      KnobValues k = settings_.knobs;
      k[m.noise_key] = m.noise[size_t(row)];
      k[m.mismatch_key] = m.mismatch[size_t(col)];
      sweep_lane_ = std::make_unique<Lane>();
      build_lane(*sweep_lane_, m.methods[size_t(sweep_method_)], k, false);
    }
    Lane& lane = *sweep_lane_;
    try {
      while (lane.trainer->steps() < m.steps_per_cell) {
        lane.trainer->step();
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (ms > budget_ms) return;  // go on next frame
      }
      m.accuracy[size_t(sweep_method_)](row, col) = lane.trainer->evaluate(test_, Pass::Device).accuracy;
    } catch (const DeviceError&) {
      m.accuracy[size_t(sweep_method_)](row, col) = 0.0;  // the device failed: nothing learnt
    } catch (const TrainingError&) {
      m.accuracy[size_t(sweep_method_)](row, col) = 0.0;  // the training diverged
    }
    sweep_lane_.reset();
    ++m.done;
    ++revision_;
    // Every method on a cell before the next cell: a half-finished map still compares them.
    if (++sweep_method_ == int(m.methods.size())) {
      sweep_method_ = 0;
      if (++sweep_cell_ == int(m.noise.size()) * cols) m.running = false;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Drawing 2-D data

bool Lab::edit_points(const std::string& cmd) {
  if (train_.features() != 2) return false;
  const bool add = cmd.rfind("point:add=", 0) == 0;
  if (!add && cmd.rfind("point:remove=", 0) != 0) return false;
  std::vector<double> v;
  std::stringstream in(cmd.substr(add ? 10 : 13));
  for (std::string part; std::getline(in, part, ',');) {
    char* end = nullptr;
    v.push_back(std::strtod(part.c_str(), &end));
    if (part.empty() || *end != '\0' || !std::isfinite(v.back())) return false;
  }
  if (v.size() != (add ? 3u : 2u) || std::abs(v[0]) > 10 || std::abs(v[1]) > 10) return false;
  // The pool: the drawing so far, or the current data (train and test) as its start.
  Dataset pool;
  if (settings_.dataset == "drawn" && packs_.count("drawn")) {
    pool = packs_["drawn"]->train;
  } else {
    pool.num_classes = train_.num_classes;
    pool.x.resize(2, train_.size() + test_.size());
    pool.x << train_.x, test_.x;
    pool.y.resize(pool.x.cols());
    pool.y << train_.y, test_.y;
  }
  if (add) {
    const int c = int(v[2]);
    if (c != v[2] || c < 0 || c > std::min(pool.num_classes, 3)) return false;  // at most 4 classes
    pool.num_classes = std::max(pool.num_classes, c + 1);
    pool.x.conservativeResize(2, pool.x.cols() + 1);
    pool.x.col(pool.x.cols() - 1) << v[0], v[1];
    pool.y.conservativeResize(pool.y.size() + 1);
    pool.y(pool.y.size() - 1) = c;
  } else {
    Eigen::Index nearest = -1;
    const double d = pool.size() ? (pool.x.colwise() - Eigen::Vector2d(v[0], v[1])).colwise().norm().minCoeff(&nearest) : 1e9;
    if (d > 0.2) return false;  // nothing there
    std::vector<int> keep;
    for (int i = 0; i < pool.size(); ++i)
      if (i != nearest) keep.push_back(i);
    const int classes = pool.num_classes;
    pool = select(pool, keep);
    pool.num_classes = classes;
  }
  if (pool.size() < 8) {
    report("a drawing needs at least 8 points (6 to train on, 2 to test)");
    return false;
  }
  auto pack = std::make_shared<DataPack>();
  pack->info.id = "drawn";
  pack->info.title = "your drawing";
  pack->train = pool;
  packs_["drawn"] = pack;
  user_data_ = DataChoice{"drawn", "your drawing (2-D)", true, 0.02};
  settings_.dataset = "drawn";
  reset();
  return true;
}

// ---------------------------------------------------------------------------------------
// Slow motion

namespace {
double cosine(const Vec& a, const Vec& b) {
  const double d = a.norm() * b.norm();
  return d > 0 ? a.dot(b) / d : 0.0;
}
}  // namespace

void Lab::slow_motion_phase() {
  SlowMotion& sm = slow_;
  Lane& lane = lanes_.front();
  for (const Lane& l : lanes_)
    if (l.on_device) {
      // Its phase 2 needs the true physics, which only an emulator has.
      report("slow motion needs the emulator's true physics: it is off while a lane trains on "
             "a connected device (Device: emulated turns it back on)");
      return;
    }
  training_ = false;
  const int n = std::min(8, test_.size());
  const Mat x = test_.x.leftCols(n);
  const Labels y = test_.y.head(n);
  std::vector<PhysicalLayer*> physical;
  for (int i = 0; i < lane.net.size(); ++i)
    if (auto* p = dynamic_cast<PhysicalLayer*>(&lane.net.layer(i))) physical.push_back(p);
  auto zero_grads = [&] {
    for (int i = 0; i < lane.net.size(); ++i) lane.net.layer(i).grad().setZero();
  };
  auto physical_grads = [&] {
    std::vector<Vec> g;
    for (PhysicalLayer* p : physical) g.push_back(p->grad());
    return g;
  };
  try {
    if (sm.phase == 0 || sm.phase == 3) {
      // Phase 1: forward on the device, layer by layer.
      sm = SlowMotion();
      sm.samples = n;
      Mat a = x;
      for (int i = 0; i < lane.net.size(); ++i) {
        Layer& layer = lane.net.layer(i);
        if (auto* p = dynamic_cast<PhysicalLayer*>(&layer)) {
          const Mat t = p->forward(a, Pass::Twin);
          const Mat d = p->forward(a, Pass::Device);  // last, so the layer keeps the device's activations
          sm.device_out.push_back(d.col(0));
          sm.twin_out.push_back(t.col(0));
          sm.twin_gap.push_back((t - d).norm() / std::max(d.norm(), 1e-12));
          a = d;
        } else {
          a = layer.forward(a, Pass::Device);
        }
      }
      sm.logits = a;
      sm.loss = softmax_cross_entropy(a, y).loss;
      sm.phase = 1;
    } else if (sm.phase == 1) {
      // Phase 2: the same loss gradient back through the twin's Jacobians at the device's
      // activations (PAT), and through the true physics at the same activations.
      const Mat g = softmax_cross_entropy(sm.logits, y).grad;
      zero_grads();
      lane.net.backward(g, Backprop::Twin);
      sm.grad_pat = physical_grads();
      zero_grads();
      lane.net.backward(g, Backprop::Oracle);
      sm.grad_true = physical_grads();
      // In silico: the twin forward and backward, never looking at the device.
      zero_grads();
      const Mat t = lane.net.forward(x, Pass::Twin);
      lane.net.backward(softmax_cross_entropy(t, y).grad, Backprop::Twin);
      sm.grad_insilico = physical_grads();
      zero_grads();
      for (size_t l = 0; l < physical.size(); ++l) {
        sm.cos_pat.push_back(cosine(sm.grad_pat[l], sm.grad_true[l]));
        sm.cos_insilico.push_back(cosine(sm.grad_insilico[l], sm.grad_true[l]));
      }
      sm.phase = 2;
    } else {
      // Phase 3: the update, as training does it: one real step of every lane.
      std::vector<Vec> before;
      for (PhysicalLayer* p : physical) before.push_back(p->params());
      for (Lane& l : lanes_) train_step(l);
      for (size_t l = 0; l < physical.size(); ++l) sm.update_norm.push_back((physical[l]->params() - before[l]).norm());
      measure();
      refresh_maps();
      sm.phase = 3;
    }
  } catch (const std::exception& e) {
    report(std::string("slow motion: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------
// Device explorer

void Lab::refresh_explorer() {
  Explorer& e = explorer_;
  const Lane& lane = lanes_.front();
  const auto* layer = dynamic_cast<const PhysicalLayer*>(&lane.net.layer(1));
  if (!layer) return;
  // A copy of the first device (same seed: the same fixed imperfections), so exploring never
  // disturbs the training's devices, their noise or their query counts.
  SystemInstance sys = make_system(settings_.system, Shape{layer->input_size(), layer->input_size()},
                                   settings_.knobs, settings_.device_seed);
  e.input_channel = std::clamp(e.input_channel, 0, sys.device->input_size() - 1);
  e.output_channel = std::clamp(e.output_channel, 0, sys.device->output_size() - 1);
  const double lo = std::max(-1.0, sys.device->input_min()), hi = std::min(1.0, sys.device->input_max());
  constexpr int kPoints = 61;
  Mat x = Mat::Zero(sys.device->input_size(), kPoints);
  if (lo > 0 || hi < 0) x.setConstant(lo);  // zero is outside the range: rest at the low end
  e.drive.resize(kPoints);
  for (int i = 0; i < kPoints; ++i) {
    e.drive[size_t(i)] = float(lo + (hi - lo) * i / (kPoints - 1));
    x(e.input_channel, i) = e.drive[size_t(i)];
  }
  Mat y_device, y_twin;
  sys.device->forward(x, layer->params(), y_device);
  layer->twin().forward(x, layer->params(), y_twin);  // the lane's twin: refitted, if it was
  e.device.resize(kPoints);
  e.twin.resize(kPoints);
  e.residual.resize(kPoints);
  for (int i = 0; i < kPoints; ++i) {
    e.device[size_t(i)] = float(y_device(e.output_channel, i));
    e.twin[size_t(i)] = float(y_twin(e.output_channel, i));
    e.residual[size_t(i)] = e.device[size_t(i)] - e.twin[size_t(i)];
  }
  e.computed_at_step = steps();
  e.dirty = false;
  ++revision_;
}

}  // namespace patlab
