// patlab/core/dataset.h: a labelled data set held in memory.
#pragma once

#include <string>
#include <vector>

#include "patlab/core/tensor.h"

namespace patlab {

struct Dataset {
  std::string name;
  Mat x;             // features x N
  Labels y;          // N class indices (classification)
  int num_classes = 0;
  Mat t;             // outputs x N regression targets; empty for classification

  bool is_regression() const { return t.size() != 0; }

  int size() const { return int(x.cols()); }
  int features() const { return int(x.rows()); }
  // Copies the samples at `index` into a batch (labels, or targets for regression).
  void gather(const std::vector<int>& index, Mat& xb, Labels& yb, Mat& tb) const;
};

}  // namespace patlab
