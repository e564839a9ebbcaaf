// patlab/datasets/processing.h: what happens between loading data and training on it.
//
//   split_dataset      a seeded, stratified train/test split
//   select             the samples at some indices
//   class_counts       samples per class (balance reporting)
//   FeatureScaling     per-feature affine map fitted on training data into a physical range
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "patlab/core/dataset.h"

namespace patlab {

Dataset select(const Dataset& d, const std::vector<int>& indices);

// Puts round(test_fraction * n_c) samples of every class c into the test set, chosen by a
// seeded shuffle: the same seed gives the same split on every platform.
std::pair<Dataset, Dataset> split_dataset(const Dataset& d, double test_fraction, uint64_t seed);

std::vector<int> class_counts(const Dataset& d);

// x ↦ offset + scale ∘ x per feature. fit() maps each feature's training range onto [lo, hi]
// (a constant feature maps to the middle); apply() may push unseen data slightly outside.
struct FeatureScaling {
  Vec offset, scale;
  static FeatureScaling fit(const Dataset& train, double lo, double hi);
  void apply(Dataset& d) const;
};

}  // namespace patlab
