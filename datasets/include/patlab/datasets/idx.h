// patlab/datasets/idx.h: image sets in the IDX format of MNIST and Fashion-MNIST, gzipped.
//
// Fashion-MNIST comes from Debian's `dataset-fashion-mnist` (MIT licence), installed by
// scripts/setup.sh under /usr/share/datasets/fashion-mnist/: train-images-idx3-ubyte.gz (60,000
// images) and t10k-images-idx3-ubyte.gz (10,000), with matching *-labels-idx1-ubyte.gz.
#pragma once

#include <string>

#include "patlab/core/dataset.h"

namespace patlab {

// Reads the first `count` images (0 = all) and their labels, average-pooled pool x pool
// (28 must be divisible by pool), scaled to [0, 1]. Throws std::runtime_error naming the file
// on a missing file, a bad magic number, mismatched counts or a truncated file.
Dataset load_idx_gz(const std::string& images_path, const std::string& labels_path, int count,
                    int pool);

// Fashion-MNIST's training (train = true) or test split from `dir`.
Dataset load_fashion_mnist(const std::string& dir, bool train, int count, int pool);
// The ten class names of Fashion-MNIST, in label order.
const char* fashion_mnist_class(int label);

}  // namespace patlab
