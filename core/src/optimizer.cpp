#include "patlab/core/optimizer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace patlab {

const char* optimizer_name(OptimizerKind k) { return k == OptimizerKind::SGD ? "sgd" : "adam"; }

OptimizerKind optimizer_from_name(const std::string& name) {
  if (name == "sgd") return OptimizerKind::SGD;
  if (name == "adam") return OptimizerKind::Adam;
  throw std::invalid_argument("unknown optimizer '" + name + "': choose sgd or adam");
}

void Optimizer::step(Network& net, double lr) {
  State& s = state_;
  if (int(s.m.size()) != net.size()) {
    s.m.resize(net.size());
    s.v.resize(net.size());
  }
  ++s.t;
  const OptimizerConfig& c = config_;
  const double c1 = 1.0 - std::pow(c.beta1, double(s.t));
  const double c2 = 1.0 - std::pow(c.beta2, double(s.t));
  for (int i = 0; i < net.size(); ++i) {
    Layer& l = net.layer(i);
    if (l.params().size() == 0) continue;
    if (s.m[i].size() != l.params().size()) {
      s.m[i].setZero(l.params().size());
      s.v[i].setZero(c.kind == OptimizerKind::Adam ? l.params().size() : 0);
    }
    if (c.kind == OptimizerKind::SGD) {
      s.m[i] = c.momentum * s.m[i] + l.grad();
      l.params() -= lr * s.m[i];
    } else {
      s.m[i] = c.beta1 * s.m[i] + (1.0 - c.beta1) * l.grad();
      s.v[i] = c.beta2 * s.v[i] + (1.0 - c.beta2) * l.grad().cwiseAbs2();
      l.params().array() -= lr * (s.m[i].array() / c1) / ((s.v[i].array() / c2).sqrt() + c.eps);
    }
  }
}

double Schedule::factor(long long step) const {
  switch (kind) {
    case Kind::Constant: return 1.0;
    case Kind::Step: return std::pow(gamma, double(step / std::max(1LL, step_every)));
    case Kind::Cosine: {
      const double t = std::min(1.0, double(step) / double(std::max(1LL, total_steps)));
      return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + std::cos(3.14159265358979323846 * t));
    }
  }
  return 1.0;
}

const char* schedule_name(Schedule::Kind k) {
  switch (k) {
    case Schedule::Kind::Constant: return "constant";
    case Schedule::Kind::Step: return "step";
    case Schedule::Kind::Cosine: return "cosine";
  }
  return "?";
}

Schedule::Kind schedule_from_name(const std::string& name) {
  if (name == "constant") return Schedule::Kind::Constant;
  if (name == "step") return Schedule::Kind::Step;
  if (name == "cosine") return Schedule::Kind::Cosine;
  throw std::invalid_argument("unknown schedule '" + name + "': choose constant, step or cosine");
}

}  // namespace patlab
