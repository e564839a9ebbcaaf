// patlab/core/tensor.h: the two array types the core speaks.
//
// Batches are column-major: one sample per column, features down the rows. A batch of B
// inputs to a layer with n inputs is an n x B matrix; Eigen stores each sample contiguously.
#pragma once

#include <Eigen/Core>

namespace patlab {

using Mat = Eigen::MatrixXd;   // features x batch
using Vec = Eigen::VectorXd;   // one sample, or a flat parameter vector
using Labels = Eigen::VectorXi;  // class index per sample, in [0, num_classes)

}  // namespace patlab
