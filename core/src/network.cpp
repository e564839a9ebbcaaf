#include "patlab/core/network.h"

#include <stdexcept>
#include <string>

namespace patlab {

Layer& Network::add(std::unique_ptr<Layer> layer) {
  if (!layers_.empty() && layers_.back()->output_size() != layer->input_size())
    throw std::invalid_argument("Network::add: layer expects " +
                                std::to_string(layer->input_size()) + " inputs but the previous "
                                "layer gives " + std::to_string(layers_.back()->output_size()));
  layers_.push_back(std::move(layer));
  return *layers_.back();
}

Mat Network::forward(const Mat& x, Pass pass) {
  Mat h = x;
  for (auto& l : layers_) h = l->forward(h, pass);
  return h;
}

void Network::backward(const Mat& g_out) {
  Mat g = g_out;
  for (int i = int(layers_.size()) - 1; i >= 0; --i) g = layers_[i]->backward(g);
}

void Network::zero_grad() {
  for (auto& l : layers_) l->grad().setZero();
}

void Network::project_params() {
  for (auto& l : layers_) l->project_params();
}

long long Network::device_queries() const {
  long long n = 0;
  for (const auto& l : layers_)
    if (auto* p = dynamic_cast<const PhysicalLayer*>(l.get()))
      n += p->device().queries();
  return n;
}

}  // namespace patlab
