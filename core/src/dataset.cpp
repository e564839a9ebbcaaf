#include "patlab/core/dataset.h"

namespace patlab {

void Dataset::gather(const std::vector<int>& index, Mat& xb, Labels& yb, Mat& tb) const {
  const Eigen::Index n = Eigen::Index(index.size());
  xb.resize(x.rows(), n);
  yb.resize(is_regression() ? 0 : n);
  tb.resize(t.rows(), is_regression() ? n : 0);
  for (Eigen::Index i = 0; i < n; ++i) {
    xb.col(i) = x.col(index[size_t(i)]);
    if (is_regression())
      tb.col(i) = t.col(index[size_t(i)]);
    else
      yb[i] = y[index[size_t(i)]];
  }
}

}  // namespace patlab
