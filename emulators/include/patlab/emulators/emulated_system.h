// patlab/emulators/emulated_system.h: what one emulated physical system implements.
//
// A system is its physics plus its metadata:
//   * a model class: the equations, forward and their exact vector-Jacobian product (VJP),
//     with the calibratable constants (see ModelTwin for the few members it needs);
//   * a device class deriving from ModelDevice<Model>: the true physics of the knobs (a model
//     around the device's constants, which is also its oracle), plus noise and drift;
//   * a SystemInfo: what the system is and its knobs, described as data (KnobInfo), and a
//     maker, together its CatalogEntry (see system_entry).
// The catalog (catalog.h) lists the systems; this header is all a system's own header needs.
//
// Knob kinds:  noise | mismatch (parametric) | structural (an effect the twin leaves out) |
//              drift | setting (fixes the physics' resolution; not a mismatch)
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "patlab/core/rng.h"
#include "patlab/core/system.h"
#include "patlab/core/twin_learning.h"

namespace patlab {

struct KnobInfo {
  std::string key;        // identifier, e.g. "eta"
  std::string label;      // for a slider, e.g. "nonlinearity mismatch"
  std::string unit;       // "", "rad", "V", "%", "per 1000 queries", ...
  std::string kind;       // noise | mismatch | structural | drift | setting
  double min = 0.0, max = 1.0, default_value = 0.0;
  std::string help;       // one line: what turning it up does
  bool integer = false;   // settings such as a number of steps
};

// What one query of the real device this system stands for would cost.
struct CostModel {
  double latency_s = 0.0;   // per query (one sample through the device)
  double energy_j = 0.0;    // per query
  std::string source;       // where the figures come from
};

// Input and output sizes; each system documents what they mean and which it accepts.
struct Shape {
  int inputs = 0;
  int outputs = 0;
};

// Knob values by key: the one way knobs are given, read and stored.
using KnobValues = std::map<std::string, double>;

// A system's entry lists these fields in this order (aggregate initialization).
struct SystemInfo {
  std::string id;             // "oscillators"
  std::string name;           // "Coupled oscillators"
  std::string description;    // a paragraph for the UI and lessons
  std::string input_encoding; // how data becomes the physical input, with its range
  std::string param_encoding; // what the trainable parameters physically are, with ranges
  Shape default_shape;
  std::vector<KnobInfo> knobs;
  CostModel cost;

  const KnobInfo& knob(const std::string& key) const;  // throws std::invalid_argument
  KnobValues defaults() const;
  // Fills missing keys with defaults; throws std::invalid_argument naming an unknown key or a
  // value outside its range.
  KnobValues complete(const KnobValues& given) const;
  // given with the settings a device was built for: a setting missing from given is added, one
  // that disagrees throws std::invalid_argument naming it.
  KnobValues with_settings(const KnobValues& given, const KnobValues& settings) const;
};

// An emulated device: a PhysicalSystem whose physics follows knob values, with its noiseless
// true physics as the oracle. Knobs can change at any time (the app's sliders).
class EmulatedDevice : public PhysicalSystem {
 public:
  virtual const SystemInfo& info() const = 0;
  std::string name() const override { return info().id; }
  const KnobValues& knobs() const { return knobs_; }
  double knob(const std::string& key) const;
  // Validates (see SystemInfo::complete), stores and applies the knobs.
  void set_knobs(const KnobValues& knobs);

 protected:
  // Rebuilds the true physics from knobs_ (called by set_knobs).
  virtual void apply_knobs() = 0;

  KnobValues knobs_;
};

namespace detail {
// Whether a model has forward_vjp(x, θ, g_y, y, g_x, g_θ).
template <class M, class = void>
struct HasForwardVjp : std::false_type {};
template <class M>
struct HasForwardVjp<M, std::void_t<decltype(std::declval<const M&>().forward_vjp(
                            std::declval<const Mat&>(), std::declval<const Vec&>(),
                            std::declval<const Mat&>(), std::declval<Mat&>(),
                            std::declval<Mat*>(), std::declval<Vec*>()))>> : std::true_type {};
// Whether a model has calibration_vjp(x, θ, g_y, g_c).
template <class M, class = void>
struct HasCalibrationVjp : std::false_type {};
template <class M>
struct HasCalibrationVjp<M, std::void_t<decltype(std::declval<const M&>().calibration_vjp(
                                std::declval<const Mat&>(), std::declval<const Vec&>(),
                                std::declval<const Mat&>(), std::declval<Vec&>()))>>
    : std::true_type {};
}  // namespace detail

// A system's model as a Twin: the nominal twin, and (around the device's true constants) the
// device's oracle. The model provides
//   input_size(), param_size(), output_size(), forward(x, θ, y), vjp(x, θ, g_y, g_x, g_θ);
//   calibration()                      its calibratable constants, a Vec;
//   calibrated(c)                      a copy with those constants set to c (throws if bad);
//   calibration_vjp(x, θ, g_y, g_c)    g_c += Σ_b ∂<g_y, y>/∂c, or instead a vjp that takes
//                                      that Vec as a sixth argument, vjp(..., g_θ, &g_c);
// and, if its vjp runs forward anyway, forward_vjp(x, θ, g_y, y, g_x, g_θ) to hand that out.
// ModelTwin(args...) builds the model from args (e.g. a spec: the nominal model).
template <class Model>
class ModelTwin : public CalibratableTwin {
 public:
  template <class... Args,
            class = std::enable_if_t<std::is_constructible_v<Model, Args&&...>>>
  explicit ModelTwin(Args&&... args) : model_(std::forward<Args>(args)...) {}

  int input_size() const override { return model_.input_size(); }
  int param_size() const override { return model_.param_size(); }
  int output_size() const override { return model_.output_size(); }
  void forward(const Mat& x, const Vec& theta, Mat& y) const override {
    model_.forward(x, theta, y);
  }
  void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x,
           Vec* g_theta) const override {
    model_.vjp(x, theta, g_y, g_x, g_theta);
  }
  void forward_vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat& y, Mat* g_x,
                   Vec* g_theta) const override {
    if constexpr (detail::HasForwardVjp<Model>::value)
      model_.forward_vjp(x, theta, g_y, y, g_x, g_theta);
    else
      Twin::forward_vjp(x, theta, g_y, y, g_x, g_theta);
  }

  const Model& model() const { return model_; }
  void set_model(Model model) { model_ = std::move(model); }

  Vec constants() const override { return model_.calibration(); }
  void set_constants(const Vec& c) override { model_ = model_.calibrated(c); }
  void constants_vjp(const Mat& x, const Vec& theta, const Mat& g_y, Vec& g_c) const override {
    if constexpr (detail::HasCalibrationVjp<Model>::value)
      model_.calibration_vjp(x, theta, g_y, g_c);
    else
      model_.vjp(x, theta, g_y, nullptr, nullptr, &g_c);
  }

 private:
  Model model_;
};

// The ranges a device is driven in, the same for every entry (PhysicalSystem::input_min ...).
struct DriveRanges {
  double input_min, input_max;
  double param_min, param_max;
};

// What every emulated device shares: its true physics as a ModelTwin (sizes and oracle come
// from it), its drive ranges, its seed, its noise and drift streams, and the state that
// save_state/load_state carry. A device's constructor takes its spec, knob values (any of the
// system's knobs, missing ones take defaults; the settings come from the spec, and a setting
// knob that disagrees with it throws) and the seed that draws its fixed imperfections, noise
// and drift. A device derives from it, and
//   * in its constructor calls keep_state (what evolves with use) and then set_knobs;
//   * in apply_knobs builds the truth with set_truth and reseeds (reseed_streams);
//   * in run adds the noise and drift to the truth's forward;
//   * in resume rebuilds the truth from the state load_state has just restored.
template <class Model>
class ModelDevice : public EmulatedDevice {
 public:
  using Truth = ModelTwin<Model>;

  int input_size() const override { return truth_->input_size(); }
  int param_size() const override { return truth_->param_size(); }
  int output_size() const override { return truth_->output_size(); }
  double input_min() const override { return ranges_.input_min; }
  double input_max() const override { return ranges_.input_max; }
  Vec param_min() const override { return Vec::Constant(param_size(), ranges_.param_min); }
  Vec param_max() const override { return Vec::Constant(param_size(), ranges_.param_max); }
  // The noiseless true physics, differentiable: what only an emulator can offer.
  const Twin* oracle() const override { return truth_.get(); }
  const Model& truth() const { return truth_->model(); }

  // [queries, the words of each kept random stream, the bits of each kept value].
  std::vector<uint64_t> save_state() const final { return pack_state(); }
  // Throws std::invalid_argument naming the system on a size mismatch (restores nothing then).
  void load_state(const std::vector<uint64_t>& s) final {
    unpack_state(s);
    resume();
  }

  ModelDevice(const ModelDevice&) = delete;  // keep_state holds pointers into this device
  ModelDevice& operator=(const ModelDevice&) = delete;

 protected:
  ModelDevice(const DriveRanges& ranges, uint64_t seed) : ranges_(ranges), seed_(seed) {}

  void set_truth(Model model) { truth_ = std::make_unique<Truth>(std::move(model)); }
  // Restarts the noise and drift streams from the seed.
  void reseed_streams() {
    noise_rng_.reseed(seed_ ^ 0x6E6F697365ull);  // "noise"
    drift_rng_.reseed(seed_ ^ 0x6472696674ull);  // "drift"
  }
  // What the saved state holds besides the query count, in order.
  void keep_state(std::vector<Rng*> rngs, std::vector<double*> values = {}) {
    kept_rngs_ = std::move(rngs);
    kept_values_ = std::move(values);
  }
  // Brings the truth up to the state load_state has just restored.
  virtual void resume() = 0;

  DriveRanges ranges_;
  uint64_t seed_;
  std::unique_ptr<Truth> truth_;
  Rng noise_rng_, drift_rng_;

 private:
  std::vector<uint64_t> pack_state() const;
  void unpack_state(const std::vector<uint64_t>& s);

  std::vector<Rng*> kept_rngs_;
  std::vector<double*> kept_values_;
};

// One made system: the device, its nominal twin and initial parameters.
struct SystemInstance {
  std::shared_ptr<EmulatedDevice> device;
  std::shared_ptr<Twin> twin;  // nominal constants: what a physicist would write down
  Vec theta0;                  // initial parameters, inside the device's range
};

struct CatalogEntry {
  SystemInfo info;
  // shape: sizes wanted (0 = the system's default); throws std::invalid_argument if the system
  // cannot take that shape. seed: draws the device's fixed imperfections, its noise and theta0.
  std::function<SystemInstance(const Shape& shape, const KnobValues& knobs, uint64_t seed)> make;
};

// A system's maker, as system_entry calls it: shape is the asked shape with zeros replaced by
// the default shape, knobs are completed and checked (SystemInfo::complete); asked is the
// shape as given.
using SystemMaker = std::function<SystemInstance(const Shape& shape, const KnobValues& knobs,
                                                 uint64_t seed, const Shape& asked)>;
CatalogEntry system_entry(const SystemInfo& info, SystemMaker make);
// The random stream a system draws its initial parameters from, for a seed.
Rng theta_rng(uint64_t seed);

// What a maker returns for a model-based system: the nominal twin TwinT(spec...) (built first:
// it checks the spec), the device Device(spec..., knobs, seed) and θ0 drawn by the model's
// initial_theta from theta_rng(seed). spec is the arguments both are built from (a spec).
template <class Device, class TwinT, class... Spec>
SystemInstance model_instance(const KnobValues& knobs, uint64_t seed, const Spec&... spec) {
  auto twin = std::make_shared<TwinT>(spec...);
  auto device = std::make_shared<Device>(spec..., knobs, seed);
  Rng rng = theta_rng(seed);
  Vec theta0 = twin->model().initial_theta(rng);
  return SystemInstance{device, twin, theta0};
}

// The entry of a system whose maker only turns the shape and the (completed) knobs into a
// spec: spec_of(shape, knobs) builds and checks it (throws std::invalid_argument for a shape
// the system cannot take); model_instance builds the rest from it.
template <class Device, class TwinT, class SpecOf>
CatalogEntry spec_entry(const SystemInfo& info, SpecOf spec_of) {
  return system_entry(info, [spec_of](const Shape& shape, const KnobValues& knobs,
                                      uint64_t seed, const Shape&) {
    return model_instance<Device, TwinT>(knobs, seed, spec_of(shape, knobs));
  });
}

// The state words shared by every device (emulated_system.cpp).
std::vector<uint64_t> pack_device_state(std::vector<uint64_t> words,
                                        const std::vector<Rng*>& rngs,
                                        const std::vector<double*>& values);
void unpack_device_state(const std::vector<uint64_t>& s, const std::string& id,
                         const std::vector<Rng*>& rngs, const std::vector<double*>& values);

template <class Model>
std::vector<uint64_t> ModelDevice<Model>::pack_state() const {
  return pack_device_state(PhysicalSystem::save_state(), kept_rngs_, kept_values_);
}

template <class Model>
void ModelDevice<Model>::unpack_state(const std::vector<uint64_t>& s) {
  unpack_device_state(s, info().id, kept_rngs_, kept_values_);
  PhysicalSystem::load_state({s[0]});
}

}  // namespace patlab
