#include "patlab/datasets/processing.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "patlab/core/rng.h"

namespace patlab {

Dataset select(const Dataset& d, const std::vector<int>& indices) {
  Dataset out;
  out.name = d.name;
  out.num_classes = d.num_classes;
  Labels y;
  d.gather(indices, out.x, y, out.t);
  out.y = y;
  return out;
}

std::pair<Dataset, Dataset> split_dataset(const Dataset& d, double test_fraction, uint64_t seed) {
  if (!(test_fraction >= 0.0 && test_fraction < 1.0))
    throw std::invalid_argument("split_dataset: test_fraction must be in [0, 1)");
  if (d.is_regression()) throw std::invalid_argument("split_dataset: needs class labels");
  Rng rng(seed);
  std::vector<int> train, test;
  for (int c = 0; c < d.num_classes; ++c) {
    std::vector<int> members;
    for (int i = 0; i < d.size(); ++i)
      if (d.y[i] == c) members.push_back(i);
    for (int i = int(members.size()) - 1; i > 0; --i) std::swap(members[size_t(i)], members[size_t(rng.below(i + 1))]);
    const size_t n_test = size_t(std::lround(test_fraction * double(members.size())));
    test.insert(test.end(), members.begin(), members.begin() + long(n_test));
    train.insert(train.end(), members.begin() + long(n_test), members.end());
  }
  // Interleave classes again: sort by original position.
  std::sort(train.begin(), train.end());
  std::sort(test.begin(), test.end());
  return {select(d, train), select(d, test)};
}

std::vector<int> class_counts(const Dataset& d) {
  std::vector<int> n(size_t(std::max(0, d.num_classes)), 0);
  for (int i = 0; i < d.size(); ++i)
    if (d.y[i] >= 0 && d.y[i] < d.num_classes) ++n[size_t(d.y[i])];
  return n;
}

FeatureScaling FeatureScaling::fit(const Dataset& train, double lo, double hi) {
  if (train.size() == 0) throw std::invalid_argument("FeatureScaling::fit: no data");
  FeatureScaling s;
  const Vec mn = train.x.rowwise().minCoeff(), mx = train.x.rowwise().maxCoeff();
  s.scale.resize(mn.size());
  s.offset.resize(mn.size());
  for (Eigen::Index i = 0; i < mn.size(); ++i) {
    const double range = mx[i] - mn[i];
    s.scale[i] = range > 0 ? (hi - lo) / range : 0.0;
    s.offset[i] = range > 0 ? lo - mn[i] * s.scale[i] : 0.5 * (lo + hi);
  }
  return s;
}

void FeatureScaling::apply(Dataset& d) const {
  if (d.x.rows() != scale.size()) throw std::invalid_argument("FeatureScaling: wrong feature count");
  d.x = ((d.x.array().colwise() * scale.array()).colwise() + offset.array()).matrix();
}

}  // namespace patlab
