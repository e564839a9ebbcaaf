#include "patlab/datasets/uci_digits.h"

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "gunzip.h"

namespace patlab {

Dataset load_uci_digits(const std::string& path) {
  const std::vector<unsigned char> bytes = gunzip_file(path);
  const std::string text(bytes.begin(), bytes.end());
  std::vector<double> values;
  std::vector<int> labels;
  size_t pos = 0;
  int line = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    ++line;
    if (end > pos) {
      const char* p = text.c_str() + pos;
      double row[65];
      for (int k = 0; k < 65; ++k) {
        char* q = nullptr;
        row[k] = std::strtod(p, &q);
        if (q == p || (k < 64 && *q != ',') || (k == 64 && q != text.c_str() + end && *q != '\r'))
          throw std::runtime_error(path + ": line " + std::to_string(line) + ": expected 65 numbers");
        p = q + 1;
      }
      for (int k = 0; k < 64; ++k) values.push_back(row[k] / 16.0);
      const int label = int(row[64]);
      if (label < 0 || label > 9 || row[64] != label)
        throw std::runtime_error(path + ": line " + std::to_string(line) + ": label is not a digit");
      labels.push_back(label);
    }
    pos = end + 1;
  }
  if (labels.empty()) throw std::runtime_error(path + ": no data");
  Dataset d;
  d.name = "digits8x8";
  d.num_classes = 10;
  d.x = Eigen::Map<const Mat>(values.data(), 64, Eigen::Index(labels.size()));
  d.y = Eigen::Map<const Labels>(labels.data(), Eigen::Index(labels.size()));
  return d;
}

}  // namespace patlab
