#include "patlab/core/trainer.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "patlab/core/loss.h"

namespace patlab {

const char* method_name(Method m) {
  switch (m) {
    case Method::InSilico: return "in-silico";
    case Method::PAT: return "PAT";
  }
  return "?";
}

Trainer::Trainer(Network& net, const Dataset& train, const TrainConfig& config)
    : net_(net), train_(train), config_(config), adam_(config.learning_rate),
      rng_(config.seed) {
  if (train.size() == 0) throw std::invalid_argument("Trainer: empty training set");
  if (config.batch_size < 1) throw std::invalid_argument("Trainer: batch_size must be >= 1");
  if (train.features() != net.input_size())
    throw std::invalid_argument("Trainer: data has a different number of features than the "
                                "network has inputs");
  order_.resize(train.size());
  reshuffle();
}

void Trainer::reshuffle() {
  std::iota(order_.begin(), order_.end(), 0);
  // Fisher-Yates with our own generator (std::shuffle's algorithm is not portable).
  for (int i = int(order_.size()) - 1; i > 0; --i) std::swap(order_[i], order_[rng_.below(i + 1)]);
  cursor_ = 0;
}

StepResult Trainer::step() {
  const int n = std::min(config_.batch_size, train_.size());
  if (cursor_ + n > train_.size()) {
    ++epoch_;
    reshuffle();
  }
  std::vector<int> index(order_.begin() + cursor_, order_.begin() + cursor_ + n);
  cursor_ += n;
  Mat xb;
  Labels yb;
  train_.gather(index, xb, yb);

  // The method differs only in which model runs forward: the backward pass always goes
  // through each layer's twin at the inputs that layer actually saw.
  const Pass pass = config_.method == Method::PAT ? Pass::Device : Pass::Twin;
  net_.zero_grad();
  const Mat out = net_.forward(xb, pass);
  const LossResult lr = softmax_cross_entropy(out, yb);
  net_.backward(lr.grad);
  adam_.step(net_);

  ++steps_;
  StepResult r;
  r.step = steps_;
  r.epoch = epoch_;
  r.loss = lr.loss;
  r.accuracy = double(lr.correct) / n;
  return r;
}

Evaluation Trainer::evaluate(const Dataset& data, Pass pass, int batch_size) {
  Evaluation e;
  if (data.size() == 0) return e;
  long long correct = 0;
  for (int start = 0; start < data.size(); start += batch_size) {
    const int n = std::min(batch_size, data.size() - start);
    const Mat out = net_.forward(data.x.middleCols(start, n), pass);
    const LossResult lr = softmax_cross_entropy(out, data.y.segment(start, n));
    e.loss += lr.loss * n;
    correct += lr.correct;
  }
  e.loss /= data.size();
  e.accuracy = double(correct) / data.size();
  return e;
}

}  // namespace patlab
