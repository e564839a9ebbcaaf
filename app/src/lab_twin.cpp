// The lab's twin refit (command twin:fit): measure each physical layer's device at random inputs
// and parameters, fit its twin to the measurements, and give every lane the fitted twin. A
// physics twin with constants (the oscillators' η, the board's diode) calibrates them; any other
// learns a small neural-network correction on top of its physics (core/twin_learning.h, as
// `patlab fit-twin` does). What the twin's form cannot express stays in the residual: the
// Device explorer shows it.
#include <algorithm>
#include <memory>

#include "patlab/app/lab.h"
#include "patlab/core/layer.h"
#include "patlab/core/twin_learning.h"

namespace patlab {

namespace {
constexpr int kGroups = 4, kPerGroup = 32;  // 128 measurements to fit, 32 held out, per layer
constexpr int kIterations = 80;
constexpr double kLearningRate = 0.05;

std::vector<PhysicalLayer*> physical_layers(Network& net) {
  std::vector<PhysicalLayer*> out;
  for (int i = 0; i < net.size(); ++i)
    if (auto* p = dynamic_cast<PhysicalLayer*>(&net.layer(i))) out.push_back(p);
  return out;
}
}  // namespace

bool Lab::fit_twins() {
  for (const Lane& l : lanes_)
    if (l.on_device) {
      report("twin:fit measures the emulated device; for a connected one use `patlab fit-twin --device`");
      return false;
    }
  Rng rng(network_.device_seed * 1000003ULL + 7);
  TwinFit fit;
  fit.fitted = true;
  fit.samples = kGroups * kPerGroup;
  // Measured on the first lane's devices (every lane has copies of the same ones).
  const std::vector<PhysicalLayer*> first = physical_layers(lanes_.front().net);
  for (size_t k = 0; k < first.size(); ++k) {
    PhysicalLayer& layer = *first[k];
    PhysicalSystem& device = layer.device();
    double lo = std::max(-1.0, device.input_min()), hi = std::min(1.0, device.input_max());
    if (!(lo < hi)) lo = device.input_min(), hi = device.input_max();
    const long long q0 = device.queries();
    const DeviceSamples train = collect_samples(device, kGroups, kPerGroup, lo, hi, rng);
    const DeviceSamples test = collect_samples(device, kGroups / 4, kPerGroup, lo, hi, rng);
    fit.queries += device.queries() - q0;

    // The lane's twin as it stands (the textbook one, or an earlier refit) is the nominal one.
    const TwinFitResult r = fit_twin(layer.shared_twin(), device.input_size(), device.param_size(),
                                     device.output_size(), train, test, {32}, false, kIterations,
                                     kLearningRate, rng);
    fit.error_before += r.error_before / double(first.size());
    fit.error_after += r.error_after / double(first.size());
    fit.kind = dynamic_cast<const MlpTwin*>(r.twin.get()) ? "mlp-residual" : "calibrated";
    const bool calibrated = r.twin == layer.shared_twin();  // fitted in place
    const Vec state = r.twin->fitted_state();
    if (!calibrated) layer.set_twin(r.twin);

    // The other lanes get the same fit of their own twin.
    for (size_t i = 1; i < lanes_.size(); ++i) {
      PhysicalLayer& other = *physical_layers(lanes_[i].net)[k];
      if (calibrated) {
        std::dynamic_pointer_cast<FittableTwin>(other.shared_twin())->set_fitted_state(state);
      } else {
        auto mlp = std::make_shared<MlpTwin>(device.input_size(), device.param_size(), device.output_size(),
                                             std::vector<int>{32}, rng, other.shared_twin());
        mlp->set_fitted_state(state);
        other.set_twin(mlp);
      }
    }
  }
  twin_fit_ = fit;
  explorer_.dirty = true;
  notify("twin refitted from " + std::to_string(fit.queries) + " device measurements");
  ++revision_;
  return true;
}

}  // namespace patlab
