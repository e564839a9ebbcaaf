#include "patlab/core/trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "patlab/core/twin_learning.h"

namespace patlab {

const char* method_name(Method m) {
  switch (m) {
    case Method::InSilico: return "in-silico";
    case Method::PAT: return "pat";
    case Method::Ideal: return "ideal";
    case Method::SPSA: return "spsa";
    case Method::FiniteDifference: return "fd";
  }
  return "?";
}

const char* method_label(Method m) {
  switch (m) {
    case Method::InSilico: return "in-silico";
    case Method::PAT: return "PAT";
    case Method::Ideal: return "ideal";
    case Method::SPSA: return "SPSA";
    case Method::FiniteDifference: return "finite differences";
  }
  return "?";
}

Method method_from_name(const std::string& name) {
  for (Method m : {Method::InSilico, Method::PAT, Method::Ideal, Method::SPSA,
                   Method::FiniteDifference})
    if (name == method_name(m)) return m;
  throw std::invalid_argument("unknown training method '" + name +
                              "': choose in-silico, pat, ideal, spsa or fd");
}

Trainer::Trainer(Network& net, const Dataset& train, const TrainConfig& config)
    : net_(net), train_(train), config_(config), optimizer_(config.optimizer), rng_(config.seed) {
  if (train.size() == 0) throw std::invalid_argument("Trainer: empty training set");
  if (config.batch_size < 1) throw std::invalid_argument("Trainer: batch_size must be >= 1");
  if (train.features() != net.input_size())
    throw std::invalid_argument("Trainer: the data has " + std::to_string(train.features()) +
                                " features but the network takes " +
                                std::to_string(net.input_size()) + " inputs");
  if (train.is_regression() && train.t.rows() != net.output_size())
    throw std::invalid_argument("Trainer: regression targets and network outputs differ in size");
  if (!train.is_regression() && config.loss == LossKind::CrossEntropy &&
      train.num_classes > net.output_size())
    throw std::invalid_argument("Trainer: fewer network outputs than classes");
  if (train.is_regression() && config.loss == LossKind::CrossEntropy)
    throw std::invalid_argument("Trainer: cross-entropy needs class labels, not regression targets");
  if (config.twin_refresh_every > 0)
    for (PhysicalLayer* l : net.physical_layers()) l->record_samples(config.twin_refresh_samples);
  order_.resize(train.size());
  reshuffle();
}

void Trainer::reshuffle() {
  std::iota(order_.begin(), order_.end(), 0);
  // Fisher-Yates with our own generator (std::shuffle's algorithm is not portable).
  for (int i = int(order_.size()) - 1; i > 0; --i) std::swap(order_[i], order_[rng_.below(i + 1)]);
  cursor_ = 0;
}

LossResult Trainer::loss_of(const Mat& out, const Labels& y, const Mat& t) const {
  if (t.size() != 0) return mean_squared_error(out, t);
  if (config_.loss == LossKind::MeanSquared) return mean_squared_error(out, y);
  return softmax_cross_entropy(out, y);
}

LossResult Trainer::compute_gradient(const Mat& x, const Labels& y, const Mat& t) {
  net_.zero_grad();
  const Method m = config_.method;
  if (m == Method::SPSA || m == Method::FiniteDifference) return zeroth_order(x, y, t);
  // The methods differ in which model runs forward and whose Jacobians carry the gradient
  // back; the backward pass always runs at the inputs each layer actually saw.
  const Pass pass = m == Method::InSilico ? Pass::Twin : Pass::Device;
  const Backprop via = m == Method::Ideal ? Backprop::Oracle : Backprop::Twin;
  LossResult r = loss_of(net_.forward(x, pass), y, t);
  net_.backward(r.grad, via);
  return r;
}

LossResult Trainer::zeroth_order(const Mat& x, const Labels& y, const Mat& t) {
  const Vec theta0 = net_.get_params();
  const int P = int(theta0.size());
  Vec g = Vec::Zero(P);
  LossResult r;
  double loss_sum = 0.0;
  int evaluations = 0;
  auto loss_at = [&](const Vec& theta) {
    check_interrupt();  // a step of many device evaluations can take long
    net_.set_params(theta);
    LossResult lr = loss_of(net_.forward(x, Pass::Device), y, t);
    loss_sum += lr.loss;
    ++evaluations;
    r.correct = lr.correct;
    return lr.loss;
  };
  try {
    if (config_.method == Method::SPSA) {
      const double c = config_.spsa_perturbation;
      Vec delta(P);
      for (int s = 0; s < config_.spsa_samples; ++s) {
        for (int i = 0; i < P; ++i) delta[i] = rng_.uniform() < 0.5 ? -1.0 : 1.0;
        const double lp = loss_at(theta0 + c * delta), lm = loss_at(theta0 - c * delta);
        g += ((lp - lm) / (2.0 * c)) * delta;  // Δ_i = ±1, so 1/Δ_i = Δ_i
      }
      g /= double(config_.spsa_samples);
    } else {
      const double eps = config_.fd_step;
      Vec theta = theta0;
      for (int i = 0; i < P; ++i) {
        theta[i] = theta0[i] + eps;
        const double lp = loss_at(theta);
        theta[i] = theta0[i] - eps;
        const double lm = loss_at(theta);
        theta[i] = theta0[i];
        g[i] = (lp - lm) / (2.0 * eps);
      }
    }
  } catch (...) {
    net_.set_params(theta0);
    throw;
  }
  net_.set_params(theta0);
  net_.set_grads(g);
  r.loss = loss_sum / std::max(1, evaluations);  // the mean over the perturbed evaluations
  return r;
}

double Trainer::add_range_penalty() {
  const double lambda = config_.range_penalty;
  if (lambda <= 0.0) return 0.0;
  double penalty = 0.0;
  for (PhysicalLayer* l : net_.physical_layers()) {
    const Vec hi = (l->params() - l->device().param_max()).cwiseMax(0.0);
    const Vec lo = (l->device().param_min() - l->params()).cwiseMax(0.0);
    penalty += lambda * (hi.squaredNorm() + lo.squaredNorm());
    l->grad() += 2.0 * lambda * (hi - lo);
  }
  return penalty;
}

namespace {
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
}  // namespace

void Trainer::check_interrupt() const {
  if (interrupt_ && interrupt_()) throw Interrupted();
}

StepResult Trainer::step() {
  // Where everything stood before the step: a rejected step (a device fault, a diverging
  // update, an interruption) must not consume its batch or random numbers.
  const int cursor0 = cursor_, epoch0 = epoch_;
  const long long steps0 = steps_;
  const auto rng0 = rng_.words();
  std::vector<int> order0;
  const std::vector<PhysicalLayer*> physical = net_.physical_layers();
  // An interrupted step is undone on the devices too (their noise streams and query counts,
  // the samples recorded for twin refits), so a run stopped mid-step and resumed passes
  // through exactly the states of one never stopped. Only a caller that can interrupt pays.
  std::vector<std::vector<uint64_t>> devices0;
  std::vector<DeviceSamples> recorded0;
  if (interrupt_)
    for (PhysicalLayer* l : physical) {
      devices0.push_back(l->device().save_state());
      if (config_.twin_refresh_every > 0) recorded0.push_back(l->recorded());
    }
  // A twin refit comes after the update: undoing it needs the parameters, the optimiser and
  // the twins as they were. Taken only on the steps that refit.
  const bool refit = config_.twin_refresh_every > 0 && (steps_ + 1) % config_.twin_refresh_every == 0;
  Vec params0;
  Optimizer::State optimizer0;
  std::vector<Vec> twins0;
  if (refit) {
    params0 = net_.get_params();
    optimizer0 = optimizer_.state();
    for (PhysicalLayer* l : physical) {
      auto* f = dynamic_cast<FittableTwin*>(&l->twin());
      twins0.push_back(f ? f->fitted_state() : Vec());
    }
  }
  auto roll_back = [&](bool interrupted, bool updated) {
    cursor_ = cursor0;
    epoch_ = epoch0;
    steps_ = steps0;
    rng_.set_words(rng0);
    if (!order0.empty()) order_ = order0;
    if (updated) {
      net_.set_params(params0);
      optimizer_.set_state(optimizer0);
      for (size_t i = 0; i < physical.size(); ++i)
        if (auto* f = dynamic_cast<FittableTwin*>(&physical[i]->twin())) f->set_fitted_state(twins0[i]);
    }
    if (interrupted && !devices0.empty())
      for (size_t i = 0; i < physical.size(); ++i) {
        physical[i]->device().load_state(devices0[i]);
        if (!recorded0.empty()) physical[i]->set_recorded(recorded0[i]);
      }
  };
  // Runs one part of the step; if it throws, rolls the whole step back (an interruption also
  // on the devices) and rethrows.
  auto undo_on_throw = [&](bool updated, const auto& part) {
    try {
      part();
    } catch (const Interrupted&) {
      roll_back(true, updated);
      throw;
    } catch (...) {
      roll_back(false, updated);
      throw;
    }
  };

  StepResult r;
  r.learning_rate = config_.optimizer.learning_rate * config_.schedule.factor(steps_);
  // The training's own failures name the step and the learning rate, the usual culprit.
  auto diverged = [&](const std::string& what) {
    return TrainingError("step " + std::to_string(steps0 + 1) + ": " + what + "; learning rate " +
                         number(r.learning_rate) + " (" + number(config_.optimizer.learning_rate) +
                         " x schedule factor " + number(config_.schedule.factor(steps0)) + ")");
  };

  const int n = std::min(config_.batch_size, train_.size());
  if (cursor_ + n > train_.size()) {
    order0 = order_;
    ++epoch_;
    reshuffle();
  }
  std::vector<int> index(order_.begin() + cursor_, order_.begin() + cursor_ + n);
  cursor_ += n;
  Mat xb, tb;
  Labels yb;
  train_.gather(index, xb, yb, tb);

  LossResult lr;
  double penalty = 0.0;
  undo_on_throw(false, [&] {
    lr = compute_gradient(xb, yb, tb);
    if (!std::isfinite(lr.loss)) throw diverged("the loss on the batch is " + number(lr.loss));
    if (config_.method == Method::PAT || config_.method == Method::Ideal) {
      double num = 0.0, den = 0.0;
      for (PhysicalLayer* l : physical) l->twin_gap(&num, &den);
      if (den > 0.0) r.twin_gap = std::sqrt(num / den);
    }
    if (config_.measure_alignment) {
      const Vec g = net_.get_grads();
      net_.zero_grad();
      const LossResult ref = loss_of(net_.forward(xb, Pass::Oracle), yb, tb);
      net_.backward(ref.grad, Backprop::Oracle);
      const Vec g_ideal = net_.get_grads();
      const double denom = g.norm() * g_ideal.norm();
      r.grad_alignment = denom > 0.0 ? g.dot(g_ideal) / denom : 0.0;
      net_.set_grads(g);
    }
    penalty = add_range_penalty();
    try {
      optimizer_.step(net_, r.learning_rate);  // all or nothing
    } catch (const TrainingError& e) {
      throw diverged(e.what());
    }
  });
  if (config_.clamp_params) net_.project_params();

  ++steps_;
  if (refit) {
    undo_on_throw(true, [&] {
      for (size_t i = 0; i < physical.size(); ++i) {
        PhysicalLayer* l = physical[i];
        auto* fittable = dynamic_cast<FittableTwin*>(&l->twin());
        if (!fittable || l->recorded().size() == 0) continue;
        try {
          fittable->fit(l->recorded(), config_.twin_refresh_iterations,
                        config_.twin_refresh_learning_rate, rng_, interrupt_);
        } catch (const TrainingError& e) {
          throw diverged("the twin refit of physical layer " + std::to_string(i) + ": " + e.what());
        }
        if (!fittable->fitted_state().allFinite())
          throw diverged("the twin refit of physical layer " + std::to_string(i) +
                         " made it non-finite (twin_refresh.learning_rate " +
                         number(config_.twin_refresh_learning_rate) + ")");
        r.twin_refreshed = true;
      }
    });
  }
  r.step = steps_;
  r.epoch = epoch_;
  r.loss = lr.loss + penalty;
  r.accuracy = train_.is_regression() ? 0.0 : double(lr.correct) / n;
  r.device_queries = net_.device_queries();
  return r;
}

Vec Trainer::gradient(const Mat& x, const Labels& y, const Mat& t) {
  compute_gradient(x, y, t);
  return net_.get_grads();
}

Evaluation Trainer::evaluate(const Dataset& data, Pass pass, int batch_size) {
  Evaluation e;
  if (data.size() == 0) return e;
  long long correct = 0;
  if (!data.is_regression()) e.predicted.resize(data.size());
  for (int start = 0; start < data.size(); start += batch_size) {
    const int n = std::min(batch_size, data.size() - start);
    const Mat out = net_.forward(data.x.middleCols(start, n), pass);
    if (!data.is_regression())
      for (int i = 0; i < n; ++i) out.col(i).maxCoeff(&e.predicted(start + i));
    const LossResult lr = data.is_regression()
                              ? mean_squared_error(out, Mat(data.t.middleCols(start, n)))
                              : loss_of(out, data.y.segment(start, n), Mat());
    e.loss += lr.loss * n;
    correct += lr.correct;
  }
  e.loss /= data.size();
  e.accuracy = data.is_regression() ? 0.0 : double(correct) / data.size();
  return e;
}

TrainerState Trainer::save_state() const {
  TrainerState s;
  s.steps = steps_;
  s.epoch = epoch_;
  s.cursor = cursor_;
  s.order = order_;
  s.rng = rng_.words();
  s.optimizer = optimizer_.state();
  return s;
}

void Trainer::load_state(const TrainerState& s) {
  if (int(s.order.size()) != train_.size())
    throw std::invalid_argument("trainer state: the data order has " +
                                std::to_string(s.order.size()) + " entries but the training set has " +
                                std::to_string(train_.size()) + " samples");
  std::vector<char> seen(s.order.size(), 0);
  for (int i : s.order) {
    if (i < 0 || i >= train_.size() || seen[size_t(i)])
      throw std::invalid_argument("trainer state: the data order is not a permutation");
    seen[size_t(i)] = 1;
  }
  if (s.cursor < 0 || s.cursor > train_.size() || s.steps < 0 || s.epoch < 0 || s.optimizer.t < 0)
    throw std::invalid_argument("trainer state: step, epoch or cursor out of range");
  if ((!s.optimizer.m.empty() && int(s.optimizer.m.size()) != net_.size()) ||
      s.optimizer.v.size() != s.optimizer.m.size())
    throw std::invalid_argument("trainer state: optimiser state is for a different network");
  const bool adam = config_.optimizer.kind == OptimizerKind::Adam;
  for (size_t i = 0; i < s.optimizer.m.size(); ++i) {
    const Eigen::Index p = net_.layer(int(i)).params().size();
    // Each moment is not made yet (empty) or the layer's size; Adam updates with both or
    // neither, so one without the other is refused (the step would read past the empty one).
    if ((s.optimizer.m[i].size() != 0 && s.optimizer.m[i].size() != p) ||
        (s.optimizer.v[i].size() != 0 && s.optimizer.v[i].size() != p) ||
        (adam && s.optimizer.m[i].size() != s.optimizer.v[i].size()))
      throw std::invalid_argument("trainer state: optimiser state of layer " + std::to_string(i) +
                                  " has the wrong size");
  }
  steps_ = s.steps;
  epoch_ = s.epoch;
  cursor_ = s.cursor;
  order_ = s.order;
  rng_.set_words(s.rng);
  optimizer_.set_state(s.optimizer);
}

}  // namespace patlab
