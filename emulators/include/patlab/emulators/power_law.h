// patlab/emulators/power_law.h: the toy of Wright et al. (2022) that shows why PAT works.
//
// "Reality" is f(x) = a x^p elementwise with a = 2, p = 1.1; the twin believes a = 2.01. One
// layer is off by 0.5 %, but composed n times the forward outputs drift apart (about 33 % at
// n = 20), while PAT, which only borrows the twin's *local* derivative a p x^(p−1) at each
// measured x, keeps its gradient error small. No trainable parameters: put a digital layer
// (e.g. ScaleOffsetLayer) in front to have something to train.
//
// Inputs must be >= 0 (x^1.1 is not real below 0); negative inputs are clipped to 0.
#pragma once

#include "patlab/core/system.h"

namespace patlab {

class PowerLawModel : public Twin {
 public:
  PowerLawModel(int n, double a, double p) : n_(n), a_(a), p_(p) {}
  int input_size() const override { return n_; }
  int param_size() const override { return 0; }
  int output_size() const override { return n_; }
  void forward(const Mat& x, const Vec& theta, Mat& y) const override;
  void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta) const override;

 private:
  int n_;
  double a_, p_;
};

// The emulated device: f(x) = a_true x^p, noiseless, with its exact model as the oracle.
class PowerLawDevice : public PhysicalSystem {
 public:
  PowerLawDevice(int n, double a_true = 2.0, double p = 1.1) : model_(n, a_true, p) {}
  std::string name() const override { return "power-law"; }
  int input_size() const override { return model_.input_size(); }
  int param_size() const override { return 0; }
  int output_size() const override { return model_.output_size(); }
  double input_min() const override { return 0.0; }
  Vec param_min() const override { return Vec(); }
  Vec param_max() const override { return Vec(); }
  const Twin* oracle() const override { return &model_; }

 protected:
  void run(const Mat& x, const Vec& theta, Mat& y) override { model_.forward(x, theta, y); }

 private:
  PowerLawModel model_;
};

}  // namespace patlab
