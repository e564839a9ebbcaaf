#include "patlab/app/lab.h"

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
#include "patlab/core/layer.h"
#include "patlab/core/loss.h"
#include "patlab/datasets/processing.h"
#include "patlab/datasets/toy2d.h"
#include "patlab/datasets/vowels.h"
#include "patlab/experiment/experiment.h"

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
  // Knobs whose range is made for bigger networks than the lab's first race: the oscillators'
  // unknown coupling reaches 0.75, where the 64 + 74 pendula of the paper's reference network
  // collapse in-silico; on the lab's 8 pendula a third of that already hides the twin's
  // gradients from PAT too (alignment 0.39), so the lab starts at 0.1.
  static const std::map<std::string, KnobValues> kOwn = {{"oscillators", {{"coupling_noise", 0.1}}}};
  KnobValues k;
  const auto own = kOwn.find(system);
  for (const KnobInfo& info : find_system(system).info.knobs) {
    if (own != kOwn.end() && own->second.count(info.key)) {
      k[info.key] = own->second.at(info.key);
      continue;
    }
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

const DataChoice* Lab::choice(const std::string& id) const {
  for (const DataChoice& c : data_choices())
    if (c.id == id) return &c;
  if (!user_data_.id.empty() && id == user_data_.id) return &user_data_;
  return nullptr;
}

Lab::Lab(const LabSettings& settings) : settings_(settings) {
  network_ = lab_network(settings_.experiment);  // throws for a network of another shape
  const DataChoice* c = choice(settings_.experiment.data.name);
  if (!c || c->packed) settings_.experiment.data.name = "circles";  // packs arrive later, by command
  settings_.experiment.train.method = settings_.methods.front();
  reset();
}
Lab::~Lab() = default;

long long Lab::steps() const { return lanes_.empty() ? 0 : lanes_.front().trainer->steps(); }

void Lab::make_data() {
  const std::string& id = settings_.experiment.data.name;
  const auto pack = packs_.find(id);
  if (id == "drawn" && pack != packs_.end()) {
    // The user's points: one pool, a quarter of each class held out for testing (seeded).
    std::tie(train_, test_) = split_dataset(pack->second->train, 0.25, settings_.experiment.data.seed);
    return;
  }
  // Everything else as an experiment makes it (packs: the loaded ones, kept in memory).
  make_experiment_data(data_spec(),
                       pack != packs_.end() ? pack->second.get() : nullptr, train_, test_);
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
    if (loading_ == id) loading_.clear(), pending_.reset();
    report("data set " + id + ": " + e.what());
    return;
  }
  if (loading_ == id && pending_) {
    loading_.clear();
    LabSettings next = *pending_;
    pending_.reset();
    if (!pending_lr_) next.experiment.train.optimizer.learning_rate = choice(id)->learning_rate;
    adopt(next, "data set " + id + " ", true);
  } else if (loading_ == id) {
    loading_.clear();
    settings_.experiment.data.name = id;
    settings_.experiment.train.optimizer.learning_rate = choice(id)->learning_rate;
    error_.clear();
    reset();
  }
}

void Lab::pack_failed(const std::string& id, const std::string& message) {
  if (loading_ == id) loading_.clear(), pending_.reset();
  report("data set " + id + " could not be loaded: " + message);
}

void Lab::build_lane(Lane& lane, Method method, const KnobValues& knobs, bool measure_alignment,
                     bool on_device) const {
  // Every lane is the lab's experiment for its method, built by the experiment layer from the
  // same seeds: the same devices, the same starting point. The data are the lab's own.
  lane.method = method;
  Experiment e = lane_experiment(method, knobs);
  // How well each method's gradient points: the emulators know the true physics, so the lab
  // can show it (no device queries; about one more backward pass per step).
  e.train.measure_alignment = measure_alignment;
  // Each physical layer keeps its emulator (knobs, oracle, explorer); a lane may run on the
  // host's device instead (DeviceHook::layers), with the same twin. Ideal cannot: its gradient is
  // the emulator's exact physics, which a real device does not tell.
  const bool offered = on_device && device_.layers;
  const bool can = method != Method::Ideal;
  const DeviceFactory factory = [&](const LayerSpec& l, int index,
                                    const SystemInstance& sys) -> std::shared_ptr<PhysicalSystem> {
    lane.emulated.push_back(sys.device);
    if (offered && can)
      if (auto d = device_.layers(l, index, sys)) {
        lane.on_device = true;
        return d;
      }
    return sys.device;
  };
  build_network(e, train_, lane, factory);
  if (lane.on_device) lane.trainer->set_measure_alignment(false);  // a real device has no oracle
  if (offered && !can)
    lane.emulated_because = "ideal trains on the emulator: its gradients are the true physics, "
                            "which only an emulator knows";
}

void Lab::build_lanes() {
  lanes_.clear();
  lanes_.resize(settings_.methods.size());
  for (size_t i = 0; i < lanes_.size(); ++i)
    build_lane(lanes_[i], settings_.methods[i], network_.knobs, true, true);
}

void Lab::reset() {
  ++revision_;
  make_data();
  if (!network_.custom) settings_.experiment.layers.back().size = train_.num_classes;  // one per class
  try {
    build_lanes();
  } catch (const std::invalid_argument& e) {
    // Only a file's network can fail to fit the data (the lab's own always does): the lab's own
    // network of the same system replaces it.
    if (!network_.custom) throw;
    report(std::string("the file's network does not fit ") + settings_.experiment.data.name + " (" +
           e.what() + "): the lab's own network replaces it");
    LabNetwork n = network_;
    n.custom = false;
    n.physical = LabNetwork().physical;
    set_lab_network(settings_.experiment, n);
    settings_.experiment.layers.back().size = train_.num_classes;
    network_ = lab_network(settings_.experiment);
    build_lanes();
  }
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

// One training step of a lane, with the inside-the-training figures accumulated.
void Lab::train_step(Lane& lane) {
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

namespace {
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


}  // namespace patlab
