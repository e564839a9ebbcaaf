// patlab/core/layer.h: the layers a network is built from.
//
//   Layer             forward(x, pass) -> y, remembering x; backward(g_y, via) -> g_x, adding
//                     ∂ℓ/∂θ into grad(). Parameters live in one flat vector per layer.
//   AffineLayer       digital y = W x + b
//   ScaleOffsetLayer  digital y = s ∘ x + b, elementwise (input encoding, output calibration)
//   ActivationLayer   digital y = σ(x): relu, tanh, sigmoid; no parameters
//   ReadoutScaleLayer digital y = α x, one scalar (scales physical outputs into logits)
//   AppendLayer       digital y = [x; c ... c]: constant rows after the input; no parameters
//   SelectLayer       digital y = rows first .. first + count - 1 of x; no parameters
//   PhysicalLayer     a PhysicalSystem plus its Twin. forward(Device) queries the device,
//                     forward(Twin) runs the model, forward(Oracle) the emulator's true
//                     noiseless physics. backward() uses the twin's VJP (or the oracle's) at
//                     the input remembered by the last forward. After a Device pass that
//                     input is the measured output of the layer below: physics-aware training.
#pragma once

#include <memory>
#include <string>

#include "patlab/core/device_samples.h"
#include "patlab/core/rng.h"
#include "patlab/core/system.h"
#include "patlab/core/tensor.h"

namespace patlab {

// Which forward model a pass runs through. Digital layers behave the same in all three.
enum class Pass { Device, Twin, Oracle };
// Which model's Jacobians the backward pass uses for physical layers.
enum class Backprop { Twin, Oracle };

class Layer {
 public:
  virtual ~Layer() = default;

  virtual std::string kind() const = 0;
  virtual int input_size() const = 0;
  virtual int output_size() const = 0;

  virtual Mat forward(const Mat& x, Pass pass) = 0;
  // Uses the batch of the last forward(); adds into grad(), returns ∂ℓ/∂x.
  virtual Mat backward(const Mat& g_y, Backprop via = Backprop::Twin) = 0;
  // Puts parameters back inside their valid (physical) range after an update.
  virtual void project_params() {}

  Vec& params() { return params_; }
  const Vec& params() const { return params_; }
  Vec& grad() { return grad_; }
  const Vec& grad() const { return grad_; }

 protected:
  Vec params_;
  Vec grad_;
};

// y = W x + b, W is out x in (stored column-major first in params), b follows.
class AffineLayer : public Layer {
 public:
  // Weights ~ N(0, gain²/in) (He/Xavier-style scale), biases zero.
  AffineLayer(int in, int out, Rng& rng, double gain = 1.0);

  std::string kind() const override { return "affine"; }
  int input_size() const override { return in_; }
  int output_size() const override { return out_; }
  Mat forward(const Mat& x, Pass pass) override;
  Mat backward(const Mat& g_y, Backprop via) override;

 private:
  int in_, out_;
  Mat x_;
};

// What the elementwise layers below share: n inputs, n outputs (one each), and the batch of
// the last forward() kept for backward().
class ElementwiseLayer : public Layer {
 public:
  int input_size() const override { return n_; }
  int output_size() const override { return n_; }

 protected:
  // Throws std::invalid_argument "<layer>: size must be >= 1" for n < 1.
  ElementwiseLayer(const char* layer, int n);

  int n_;
  Mat x_;
};

// y = s ∘ x + b elementwise; params = [s (n), b (n)], starting at s = scale0, b = offset0.
class ScaleOffsetLayer : public ElementwiseLayer {
 public:
  explicit ScaleOffsetLayer(int n, double scale0 = 1.0, double offset0 = 0.0);

  std::string kind() const override { return "scale_offset"; }
  Mat forward(const Mat& x, Pass pass) override;
  Mat backward(const Mat& g_y, Backprop via) override;
};

enum class Activation { Relu, Tanh, Sigmoid };
const char* activation_name(Activation a);  // "relu", "tanh", "sigmoid"
// Parses a name; throws std::invalid_argument listing the valid ones.
Activation activation_from_name(const std::string& name);

class ActivationLayer : public ElementwiseLayer {
 public:
  ActivationLayer(int n, Activation a);

  std::string kind() const override { return activation_name(a_); }
  Activation activation() const { return a_; }
  Mat forward(const Mat& x, Pass pass) override;
  Mat backward(const Mat& g_y, Backprop via) override;

 private:
  Activation a_;
  Mat y_;
};

// y = α x with one trainable scalar α.
class ReadoutScaleLayer : public ElementwiseLayer {
 public:
  ReadoutScaleLayer(int n, double alpha0);

  std::string kind() const override { return "readout_scale"; }
  Mat forward(const Mat& x, Pass pass) override;
  Mat backward(const Mat& g_y, Backprop via) override;
};

// y = [x; value (count rows)]: count constant rows appended to the n inputs, e.g. extra
// oscillators that start at rest (angle 0). No parameters; ∂y/∂x passes the first n rows back.
class AppendLayer : public Layer {
 public:
  // Throws std::invalid_argument for n < 1, count < 1 or a value that is not finite.
  AppendLayer(int n, int count, double value = 0.0);

  std::string kind() const override { return "append"; }
  int input_size() const override { return n_; }
  int output_size() const override { return n_ + count_; }
  int count() const { return count_; }
  double value() const { return value_; }
  Mat forward(const Mat& x, Pass pass) override;
  Mat backward(const Mat& g_y, Backprop via) override;

 private:
  int n_, count_;
  double value_;
};

// y = rows first, ..., first + count - 1 of the n inputs (0-based), e.g. the class oscillators
// of a physical layer. No parameters; the rows left out get no gradient.
class SelectLayer : public Layer {
 public:
  // Throws std::invalid_argument unless 1 <= count and 0 <= first and first + count <= n.
  SelectLayer(int n, int first, int count);

  std::string kind() const override { return "select"; }
  int input_size() const override { return n_; }
  int output_size() const override { return count_; }
  int first() const { return first_; }
  Mat forward(const Mat& x, Pass pass) override;
  Mat backward(const Mat& g_y, Backprop via) override;

 private:
  int n_, first_, count_;
};

// How a layer's input u becomes what the device physically receives:
//   x = clamp(scale · u + offset, device.input_min(), device.input_max()).
// The system itself decides how x and θ together drive the hardware (initial angles and
// couplings, a waveform's data and parameter segments, ...); this is the digital side.
struct InputEncoding {
  double scale = 1.0;
  double offset = 0.0;
  bool clamp = true;  // never drive the device outside its input range
};

class PhysicalLayer : public Layer {
 public:
  // theta0: initial parameters, clamped into the device's parameter range. The device's and
  // the twin's sizes must agree.
  PhysicalLayer(std::shared_ptr<PhysicalSystem> device, std::shared_ptr<Twin> twin,
                const Vec& theta0, const InputEncoding& encoding = InputEncoding());

  std::string kind() const override { return "physical"; }
  int input_size() const override { return device_->input_size(); }
  int output_size() const override { return device_->output_size(); }
  // A Device pass checks the device's answer: wrong shape or a NaN/Inf entry throws
  // DeviceError naming the device, and nothing is remembered.
  Mat forward(const Mat& x, Pass pass) override;
  // via = Oracle needs a device with an oracle(); throws std::logic_error otherwise.
  Mat backward(const Mat& g_y, Backprop via) override;
  void project_params() override;

  // Relative distance ‖f_m(x, θ) − y‖ / ‖y‖ between the twin and the device on the batch of
  // the last Device pass, at the device's own inputs. Adds the two squared norms into
  // *num and *den (to pool several layers); returns false if the last pass was not a Device pass.
  // After a backward pass through the twin the twin's prediction is already known (the pass
  // computed it, see Twin::forward_vjp) and costs nothing more.
  bool twin_gap(double* num, double* den) const;

  PhysicalSystem& device() { return *device_; }
  const PhysicalSystem& device() const { return *device_; }
  const Twin& twin() const { return *twin_; }
  Twin& twin() {  // (may change the twin: forgets its remembered prediction)
    y_twin_valid_ = false;
    return *twin_;
  }
  const std::shared_ptr<Twin>& shared_twin() const { return twin_; }  // e.g. as a refit's base
  void set_twin(std::shared_ptr<Twin> twin);

  // Keeps the newest `capacity` (x, θ, y) of every Device pass (0 = off), e.g. to refresh the
  // twin from the data PAT measures anyway.
  void record_samples(int capacity) { record_capacity_ = capacity; }
  const DeviceSamples& recorded() const { return recorded_; }
  void set_recorded(const DeviceSamples& s) { recorded_ = s; }

 private:
  Mat encode(const Mat& u) const;

  std::shared_ptr<PhysicalSystem> device_;
  std::shared_ptr<Twin> twin_;
  InputEncoding encoding_;
  Vec theta_min_, theta_max_;
  Mat x_, y_;  // the device input (after encoding) and output of the last forward
  Pass last_pass_ = Pass::Twin;
  // The twin's prediction at x_ from the last backward pass through it, and the parameters it
  // was made with; valid until the next forward, set_twin or twin() (which may change it).
  Mat y_twin_;
  Vec y_twin_params_;
  bool y_twin_valid_ = false;
  int record_capacity_ = 0;
  DeviceSamples recorded_;
};

}  // namespace patlab
