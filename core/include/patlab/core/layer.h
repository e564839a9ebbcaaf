// patlab/core/layer.h: the layers a network is built from.
//
//   Layer          forward(x, pass) -> y, remembering x; backward(g_y) -> g_x, adding ∂ℓ/∂θ
//                  into grad(). Parameters live in one flat vector per layer.
//   AffineLayer    digital y = W x + b.
//   PhysicalLayer  a PhysicalSystem plus its Twin. forward(Device) queries the device,
//                  forward(Twin) runs the model; backward() always uses the twin's VJP at the
//                  input remembered by the last forward. After a Device pass that input is the
//                  measured output of the layer below: that is physics-aware training.
#pragma once

#include <memory>
#include <string>

#include "patlab/core/rng.h"
#include "patlab/core/system.h"
#include "patlab/core/tensor.h"

namespace patlab {

// Which forward model a pass runs through. Digital layers behave the same in both.
enum class Pass { Device, Twin };

class Layer {
 public:
  virtual ~Layer() = default;

  virtual std::string kind() const = 0;
  virtual int input_size() const = 0;
  virtual int output_size() const = 0;

  virtual Mat forward(const Mat& x, Pass pass) = 0;
  // Uses the batch of the last forward(); adds into grad(), returns ∂ℓ/∂x.
  virtual Mat backward(const Mat& g_y) = 0;
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
  Mat backward(const Mat& g_y) override;

 private:
  int in_, out_;
  Mat x_;
};

class PhysicalLayer : public Layer {
 public:
  // theta0: initial parameters; [theta_min, theta_max]: the range in which the device may be
  // driven (and the twin is valid). Parameters are clamped into it after every update.
  PhysicalLayer(std::shared_ptr<PhysicalSystem> device, std::shared_ptr<const Twin> twin,
                const Vec& theta0, const Vec& theta_min, const Vec& theta_max);

  std::string kind() const override { return "physical"; }
  int input_size() const override { return device_->input_size(); }
  int output_size() const override { return device_->output_size(); }
  Mat forward(const Mat& x, Pass pass) override;
  Mat backward(const Mat& g_y) override;
  void project_params() override;

  PhysicalSystem& device() { return *device_; }
  const PhysicalSystem& device() const { return *device_; }
  const Twin& twin() const { return *twin_; }

 private:
  std::shared_ptr<PhysicalSystem> device_;
  std::shared_ptr<const Twin> twin_;
  Vec theta_min_, theta_max_;
  Mat x_;
};

}  // namespace patlab
