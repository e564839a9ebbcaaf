// patlab/core/system.h: what a physical system and its digital twin are, to the core.
//
//   PhysicalSystem  y = f_p(x, θ): a black box. Noisy, a little unlike any model, no gradient.
//                   Every forward() is a batch of real device queries, and is counted.
//   Twin            y = f_m(x, θ): a differentiable model of the same system, with
//                   vector-Jacobian products (VJPs) with respect to x and θ.
//
// Shapes: x is input_size() x B, y is output_size() x B, θ has param_size() entries and is
// shared by every sample of the batch. Units and ranges are the system's own (see its header).
#pragma once

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "patlab/core/errors.h"  // DeviceError
#include "patlab/core/tensor.h"

namespace patlab {

class Twin {
 public:
  virtual ~Twin() = default;

  virtual int input_size() const = 0;
  virtual int param_size() const = 0;
  virtual int output_size() const = 0;

  // The model's prediction of the device output; resizes y.
  virtual void forward(const Mat& x, const Vec& theta, Mat& y) const = 0;

  // Given g_y = ∂ℓ/∂y (output_size x B) for outputs at inputs x, computes
  //   g_x     = (∂f_m/∂x)ᵀ g_y           per sample, input_size x B (resized), and
  //   g_theta += Σ_b (∂f_m/∂θ)ᵀ g_y[:, b]  summed over the batch (param_size, accumulated).
  // Either output may be null when it is not needed. The Jacobians are taken at (x, theta):
  // in physics-aware training x is the *measured* input of the layer, not the twin's.
  virtual void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x,
                   Vec* g_theta) const = 0;

  // vjp, and the prediction y = forward(x, theta) as well. Models whose vjp integrates forward
  // first (the ODE twins) override it to hand out that forward pass for free; the default
  // runs both.
  virtual void forward_vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat& y, Mat* g_x,
                           Vec* g_theta) const {
    forward(x, theta, y);
    vjp(x, theta, g_y, g_x, g_theta);
  }
};

class PhysicalSystem {
 public:
  virtual ~PhysicalSystem() = default;

  virtual std::string name() const = 0;
  virtual int input_size() const = 0;
  virtual int param_size() const = 0;
  virtual int output_size() const = 0;
  // The ranges the device may be driven in (and its twin is valid in), per entry.
  virtual double input_min() const { return -std::numeric_limits<double>::infinity(); }
  virtual double input_max() const { return std::numeric_limits<double>::infinity(); }
  virtual Vec param_min() const = 0;
  virtual Vec param_max() const = 0;

  // Runs the device once per column of x with parameters theta; resizes y.
  void forward(const Mat& x, const Vec& theta, Mat& y) {
    queries_ += x.cols();
    run(x, theta, y);
  }
  // How many single-sample queries the device has answered.
  long long queries() const { return queries_; }

  // The noiseless true physics as a differentiable model, for emulators that know it: the
  // "ideal" oracle, the upper bound no real device offers. nullptr for real devices.
  virtual const Twin* oracle() const { return nullptr; }

  // Whatever changes as the device is used (noise stream, drift clock, query count), so a
  // checkpoint can resume the very same run. The layout is the system's own.
  virtual std::vector<uint64_t> save_state() const { return {uint64_t(queries_)}; }
  virtual void load_state(const std::vector<uint64_t>& s) {
    if (s.size() != 1) throw std::invalid_argument(name() + ": device state has the wrong size");
    queries_ = (long long)s[0];
  }

 protected:
  virtual void run(const Mat& x, const Vec& theta, Mat& y) = 0;
  void set_queries(long long q) { queries_ = q; }

 private:
  long long queries_ = 0;
};

}  // namespace patlab
