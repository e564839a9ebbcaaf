// patlab/core/network.h: a stack of layers, physical and digital mixed freely.
#pragma once

#include <memory>
#include <vector>

#include "patlab/core/layer.h"

namespace patlab {

class Network {
 public:
  // Appends a layer; its input size must match the previous layer's output size.
  Layer& add(std::unique_ptr<Layer> layer);

  // Runs the batch through every layer; each layer remembers its input for backward().
  Mat forward(const Mat& x, Pass pass);
  // Backpropagates ∂ℓ/∂(network output) through every layer, accumulating grads.
  void backward(const Mat& g_out, Backprop via = Backprop::Twin);
  void zero_grad();
  void project_params();

  int size() const { return int(layers_.size()); }
  Layer& layer(int i) { return *layers_[i]; }
  const Layer& layer(int i) const { return *layers_[i]; }
  int input_size() const { return layers_.empty() ? 0 : layers_.front()->input_size(); }
  int output_size() const { return layers_.empty() ? 0 : layers_.back()->output_size(); }
  // Device queries spent by all physical layers.
  long long device_queries() const;
  std::vector<PhysicalLayer*> physical_layers();

  // All parameters (or gradients) of all layers as one vector, layer by layer.
  int param_count() const;
  Vec get_params() const;
  void set_params(const Vec& flat);  // throws std::invalid_argument on a size mismatch
  Vec get_grads() const;
  void set_grads(const Vec& flat);

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
};

}  // namespace patlab
