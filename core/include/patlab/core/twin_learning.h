// patlab/core/twin_learning.h: making a twin agree with its device, from measured data.
//
//   DeviceSamples    (x, θ, y) triples measured on a device
//   collect_samples  queries a device at random inputs and parameters in its ranges
//   FittableTwin     a twin that can be fitted to samples by gradient descent on the MSE:
//                      * a physics twin calibrating its constants (e.g. the oscillators' η),
//                      * MlpTwin: a small neural network on [x; θ], alone or as a learned
//                        correction added to a physics twin
//   twin_error       held-out relative error ‖f_m(x, θ) − y‖ / ‖y‖
//
// The trainer can also refresh fittable twins during PAT from the (x, θ, y) that PAT measures
// anyway (TrainConfig::twin_refresh_every), at no extra device queries.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "patlab/core/device_samples.h"
#include "patlab/core/layer.h"
#include "patlab/core/network.h"
#include "patlab/core/rng.h"
#include "patlab/core/system.h"

namespace patlab {

// Queries `device` at `groups` random parameter vectors, each uniform in the device's
// parameter range, with `per_group` random inputs uniform in [x_lo, x_hi]:
// groups · per_group samples for that many device queries.
DeviceSamples collect_samples(PhysicalSystem& device, int groups, int per_group, double x_lo,
                              double x_hi, Rng& rng);

// Relative error of the twin on the samples: ‖f_m − y‖_F / ‖y‖_F.
double twin_error(const Twin& twin, const DeviceSamples& s);

class FittableTwin : public Twin {
 public:
  // `iterations` Adam steps on the mean squared error over minibatches of the samples.
  // `interrupt` is asked every iteration: when it says stop, fit() throws Interrupted (the
  // twin is then partly fitted; callers restore fitted_state()). A diverging fit throws
  // TrainingError.
  virtual void fit(const DeviceSamples& s, int iterations, double learning_rate, Rng& rng,
                   const Interrupt& interrupt = {}) = 0;
  // What fitting changes, as one vector (for checkpoints).
  virtual Vec fitted_state() const = 0;
  virtual void set_fitted_state(const Vec& s) = 0;  // throws std::invalid_argument on a bad size
};

// A physics twin whose constants c can be calibrated: it supplies Σ_b (∂f/∂c)ᵀ g_y, and fit()
// runs Adam on them (implemented here once for every such twin).
class CalibratableTwin : public FittableTwin {
 public:
  virtual Vec constants() const = 0;
  virtual void set_constants(const Vec& c) = 0;
  virtual void constants_vjp(const Mat& x, const Vec& theta, const Mat& g_y, Vec& g_c) const = 0;
  void fit(const DeviceSamples& s, int iterations, double learning_rate, Rng& rng,
           const Interrupt& interrupt = {}) override;
  Vec fitted_state() const override { return constants(); }
  void set_fitted_state(const Vec& s) override;
};

// y = base(x, θ) + MLP([x; θ]) (or the MLP alone when base is null). The MLP has tanh hidden
// layers and a linear output whose weights start at zero, so a fresh residual twin equals its
// base. Its VJP is exact backprop through the MLP (plus the base's VJP).
class MlpTwin;

// Fits a twin to measured samples, as `patlab fit-twin` and the lab's twin refit do: a nominal
// twin that can be fitted (a physics twin with constants) is fitted in place ("calibrated");
// otherwise an MlpTwin with `hidden` layers learns a correction on top of the nominal twin
// ("mlp-residual"), or the whole device when there is none ("mlp"). mlp_only skips calibration.
// error_before is the nominal twin's held-out error (1 without one), error_after the fit's.
struct TwinFitResult {
  std::shared_ptr<FittableTwin> twin;
  std::string kind;
  double error_before = 1.0, error_after = 1.0;
};
TwinFitResult fit_twin(const std::shared_ptr<Twin>& nominal, int input_size, int param_size,
                       int output_size, const DeviceSamples& train, const DeviceSamples& test,
                       const std::vector<int>& hidden, bool mlp_only, int iterations,
                       double learning_rate, Rng& rng);

class MlpTwin : public FittableTwin {
 public:
  MlpTwin(int input_size, int param_size, int output_size, const std::vector<int>& hidden,
          Rng& rng, std::shared_ptr<const Twin> base = nullptr);

  int input_size() const override { return in_; }
  int param_size() const override { return p_; }
  int output_size() const override { return out_; }
  void forward(const Mat& x, const Vec& theta, Mat& y) const override;
  void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta) const override;
  void fit(const DeviceSamples& s, int iterations, double learning_rate, Rng& rng,
           const Interrupt& interrupt = {}) override;
  Vec fitted_state() const override { return mlp_.get_params(); }
  void set_fitted_state(const Vec& s) override { mlp_.set_params(s); }

 private:
  Mat stack(const Mat& x, const Mat& theta) const;  // [x; θ] per column

  int in_, p_, out_;
  std::shared_ptr<const Twin> base_;
  mutable Network mlp_;  // forward/backward remember activations: scratch, not state
};

}  // namespace patlab
