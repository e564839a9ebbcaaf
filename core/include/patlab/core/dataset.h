// patlab/core/dataset.h: a labelled data set held in memory.
#pragma once

#include <string>
#include <vector>

#include "patlab/core/tensor.h"

namespace patlab {

struct Dataset {
  std::string name;
  Mat x;             // features x N
  Labels y;          // N class indices
  int num_classes = 0;

  int size() const { return int(x.cols()); }
  int features() const { return int(x.rows()); }
  // Copies the samples at `index` into a batch.
  void gather(const std::vector<int>& index, Mat& xb, Labels& yb) const;
};

}  // namespace patlab
