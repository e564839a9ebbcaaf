#include "patlab/core/optimizer.h"

#include <cmath>

namespace patlab {

void Adam::step(Network& net) {
  if (int(m_.size()) != net.size()) {
    m_.resize(net.size());
    v_.resize(net.size());
  }
  ++t_;
  const double c1 = 1.0 - std::pow(beta1_, double(t_));
  const double c2 = 1.0 - std::pow(beta2_, double(t_));
  for (int i = 0; i < net.size(); ++i) {
    Layer& l = net.layer(i);
    if (m_[i].size() != l.params().size()) {
      m_[i].setZero(l.params().size());
      v_[i].setZero(l.params().size());
    }
    m_[i] = beta1_ * m_[i] + (1.0 - beta1_) * l.grad();
    v_[i] = beta2_ * v_[i] + (1.0 - beta2_) * l.grad().cwiseAbs2();
    l.params().array() -=
        lr_ * (m_[i].array() / c1) / ((v_[i].array() / c2).sqrt() + eps_);
  }
  net.project_params();
}

}  // namespace patlab
