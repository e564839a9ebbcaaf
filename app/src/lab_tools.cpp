// The lab's tools beside the race: the robustness map, the point editor, PAT in slow motion
// and the device explorer.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "patlab/app/lab.h"
#include "patlab/core/layer.h"
#include "patlab/core/loss.h"
#include "patlab/core/pat_step.h"
#include "patlab/datasets/processing.h"

namespace patlab {

void Lab::start_robustness() {
  RobustnessMap m;
  m.system = network_.system;
  const SystemInfo& info = find_system(network_.system).info;
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
      KnobValues k = network_.knobs;
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
  if (settings_.experiment.data.name == "drawn" && packs_.count("drawn")) {
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
  settings_.experiment.data.name = "drawn";
  reset();
  return true;
}

// ---------------------------------------------------------------------------------------
// Slow motion

void Lab::slow_motion_phase() {
  // PAT's three phases as patlab/core/pat_step.h writes them, one per press, on a few test
  // samples of the first lane; phase 3 is a real training step of every lane.
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
  try {
    if (sm.phase == 0 || sm.phase == 3) {
      // Phase 1: forward on the device, layer by layer, the twin's prediction beside it.
      sm = SlowMotion();
      sm.forward = pat_forward(lane.net, x, y);
      sm.samples = n;
      for (size_t l = 0; l < sm.forward.device_out.size(); ++l) {
        sm.device_out.push_back(sm.forward.device_out[l].col(0));
        sm.twin_out.push_back(sm.forward.twin_out[l].col(0));
      }
      sm.twin_gap = sm.forward.twin_gap;
      sm.logits = sm.forward.logits;
      sm.loss = sm.forward.loss;
      sm.phase = 1;
    } else if (sm.phase == 1) {
      // Phase 2: back through the twin at the device's activations (PAT), through the true
      // physics at the same activations, and in silico.
      PatBackward b = pat_backward(lane.net, x, y, sm.forward);
      sm.grad_pat = std::move(b.grad_pat);
      sm.grad_true = std::move(b.grad_true);
      sm.grad_insilico = std::move(b.grad_insilico);
      sm.cos_pat = std::move(b.cos_pat);
      sm.cos_insilico = std::move(b.cos_insilico);
      sm.phase = 2;
    } else {
      // Phase 3: the update, as training does it: one real step of every lane.
      const std::vector<Vec> before = physical_params(lane.net);
      for (Lane& l : lanes_) train_step(l);
      sm.update_norm = physical_param_change(lane.net, before);
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
  SystemInstance sys = make_system(network_.system, Shape{layer->input_size(), layer->input_size()},
                                   network_.knobs, network_.device_seed);
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
