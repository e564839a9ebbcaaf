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

void Network::backward(const Mat& g_out, Backprop via) {
  Mat g = g_out;
  for (int i = int(layers_.size()) - 1; i >= 0; --i) g = layers_[i]->backward(g, via);
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
    if (auto* p = dynamic_cast<const PhysicalLayer*>(l.get())) n += p->device().queries();
  return n;
}

std::vector<PhysicalLayer*> Network::physical_layers() {
  std::vector<PhysicalLayer*> out;
  for (auto& l : layers_)
    if (auto* p = dynamic_cast<PhysicalLayer*>(l.get())) out.push_back(p);
  return out;
}

int Network::param_count() const {
  int n = 0;
  for (const auto& l : layers_) n += int(l->params().size());
  return n;
}

namespace {
template <typename Get>
Vec gather(const std::vector<std::unique_ptr<Layer>>& layers, int total, Get get) {
  Vec flat(total);
  int k = 0;
  for (const auto& l : layers) {
    const Vec& v = get(*l);
    flat.segment(k, v.size()) = v;
    k += int(v.size());
  }
  return flat;
}
}  // namespace

Vec Network::get_params() const {
  return gather(layers_, param_count(), [](const Layer& l) -> const Vec& { return l.params(); });
}

Vec Network::get_grads() const {
  return gather(layers_, param_count(), [](const Layer& l) -> const Vec& { return l.grad(); });
}

void Network::set_params(const Vec& flat) {
  if (flat.size() != param_count())
    throw std::invalid_argument("Network::set_params: " + std::to_string(flat.size()) +
                                " values for " + std::to_string(param_count()) + " parameters");
  int k = 0;
  for (auto& l : layers_) {
    l->params() = flat.segment(k, l->params().size());
    k += int(l->params().size());
  }
}

void Network::set_grads(const Vec& flat) {
  if (flat.size() != param_count())
    throw std::invalid_argument("Network::set_grads: wrong size");
  int k = 0;
  for (auto& l : layers_) {
    l->grad() = flat.segment(k, l->grad().size());
    k += int(l->grad().size());
  }
}

}  // namespace patlab
