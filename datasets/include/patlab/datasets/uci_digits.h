// patlab/datasets/uci_digits.h: the 1,797 8x8 handwritten digits of the UCI "Optical
// Recognition of Handwritten Digits" test set (E. Alpaydin, 1998; CC BY 4.0), as shipped in
// Debian's python3-sklearn (sklearn/datasets/data/digits.csv.gz). scripts/setup.sh extracts
// that one file from the package into the cache folder (<cache>/sklearn-digits/). Small
// enough to train on in seconds in the browser.
#pragma once

#include <string>

#include "patlab/core/dataset.h"

namespace patlab {

// Reads the gzipped CSV (64 pixel counts 0..16, then the label, per line): 64 features scaled
// to [0, 1], 10 classes. Throws std::runtime_error naming the file and line on bad data.
Dataset load_uci_digits(const std::string& csv_gz_path);

}  // namespace patlab
