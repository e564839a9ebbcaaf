#include "patlab/core/dataset.h"

namespace patlab {

void Dataset::gather(const std::vector<int>& index, Mat& xb, Labels& yb) const {
  xb.resize(x.rows(), Eigen::Index(index.size()));
  yb.resize(Eigen::Index(index.size()));
  for (size_t i = 0; i < index.size(); ++i) {
    xb.col(Eigen::Index(i)) = x.col(index[i]);
    yb[Eigen::Index(i)] = y[index[i]];
  }
}

}  // namespace patlab
