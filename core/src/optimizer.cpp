#include "patlab/core/optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "patlab/core/errors.h"

namespace patlab {

namespace {
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
}  // namespace

const char* optimizer_name(OptimizerKind k) { return k == OptimizerKind::SGD ? "sgd" : "adam"; }

OptimizerKind optimizer_from_name(const std::string& name) {
  if (name == "sgd") return OptimizerKind::SGD;
  if (name == "adam") return OptimizerKind::Adam;
  throw std::invalid_argument("unknown optimizer '" + name + "': choose sgd or adam");
}

void Optimizer::step(Network& net, double lr) {
  State& s = state_;
  const OptimizerConfig& c = config_;
  if (!std::isfinite(lr))
    throw TrainingError("the learning rate is not finite (" + number(lr) + ")");
  if (int(s.m.size()) != net.size()) {
    s.m.resize(net.size());
    s.v.resize(net.size());
  }
  next_m_.resize(size_t(net.size()));
  next_v_.resize(size_t(net.size()));
  next_p_.resize(size_t(net.size()));
  const long long t = s.t + 1;
  const double c1 = 1.0 - std::pow(c.beta1, double(t));
  const double c2 = 1.0 - std::pow(c.beta2, double(t));
  // Every layer's new moments and parameters go to scratch first; only if all of them are
  // finite are they swapped in. A diverging update thus changes nothing (a missing moment
  // buffer and a zero one are the same state).
  for (int i = 0; i < net.size(); ++i) {
    Layer& l = net.layer(i);
    const Eigen::Index n = l.params().size();
    if (n == 0) continue;
    if (s.m[size_t(i)].size() != n) {
      s.m[size_t(i)].setZero(n);
      s.v[size_t(i)].setZero(c.kind == OptimizerKind::Adam ? n : 0);
    }
    Vec& m = next_m_[size_t(i)];
    Vec& v = next_v_[size_t(i)];
    Vec& p = next_p_[size_t(i)];
    if (c.kind == OptimizerKind::SGD) {
      m = c.momentum * s.m[size_t(i)] + l.grad();
      p = l.params() - lr * m;
      v.resize(0);
    } else {
      m = c.beta1 * s.m[size_t(i)] + (1.0 - c.beta1) * l.grad();
      v = c.beta2 * s.v[size_t(i)] + (1.0 - c.beta2) * l.grad().cwiseAbs2();
      p = (l.params().array() -
           lr * (m.array() / c1) / ((v.array() / c2).sqrt() + c.eps)).matrix();
    }
    // x * 0 is 0 for every finite x and NaN otherwise: three vectorised sums test all of it
    // (a non-finite gradient always reaches m, as 1 - beta1 > 0). Only a failure pays for
    // finding which it was.
    const double probe = (m.array() * 0.0).sum() + (v.array() * 0.0).sum() + (p.array() * 0.0).sum();
    if (probe != 0.0) {
      const std::string which = "layer " + std::to_string(i) + " (" + l.kind() + ")";
      if (!l.grad().allFinite()) throw TrainingError("the gradient of " + which + " is not finite");
      if (!m.allFinite() || !v.allFinite())
        throw TrainingError("the optimiser's moments of " + which +
                            " are not finite (are beta1, beta2 and eps in range?)");
      throw TrainingError("the update made the parameters of " + which + " non-finite (learning rate " +
                          number(lr) + ")");
    }
  }
  for (int i = 0; i < net.size(); ++i) {
    Layer& l = net.layer(i);
    if (l.params().size() == 0) continue;
    s.m[size_t(i)].swap(next_m_[size_t(i)]);
    if (c.kind == OptimizerKind::Adam) s.v[size_t(i)].swap(next_v_[size_t(i)]);
    l.params().swap(next_p_[size_t(i)]);
  }
  s.t = t;
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
