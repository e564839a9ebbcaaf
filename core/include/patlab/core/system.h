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

#include "patlab/core/tensor.h"

namespace patlab {

class PhysicalSystem {
 public:
  virtual ~PhysicalSystem() = default;

  virtual int input_size() const = 0;
  virtual int param_size() const = 0;
  virtual int output_size() const = 0;

  // Runs the device once per column of x with parameters theta; resizes y.
  void forward(const Mat& x, const Vec& theta, Mat& y) {
    queries_ += x.cols();
    run(x, theta, y);
  }
  // How many single-sample queries the device has answered since construction.
  long long queries() const { return queries_; }

 protected:
  virtual void run(const Mat& x, const Vec& theta, Mat& y) = 0;

 private:
  long long queries_ = 0;
};

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
};

}  // namespace patlab
