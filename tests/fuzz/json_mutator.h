// A structure-aware mutator for the JSON fuzzers (experiments, checkpoints). Byte mutations
// alone mostly break the syntax, so the loaders' checks behind json::parse are rarely reached;
// part of the time this one parses the input instead, changes one value of the tree (an edge-case
// number, another type, an element dropped or copied, a value spliced in from elsewhere in the
// file) and writes it back, so the input stays JSON and reaches the checks one key at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace patlab::fuzz {

inline void collect(nlohmann::json& j, std::vector<nlohmann::json*>& out) {
  out.push_back(&j);
  if (j.is_structured())
    for (auto& child : j) collect(child, out);
}

// Mutates data[keep, size) as JSON (json_percent of the time), or the whole input as bytes;
// returns the new size. *as_json (if given) says which it was.
inline size_t mutate_json(uint8_t* data, size_t size, size_t max_size, unsigned seed,
                          size_t keep = 0, unsigned json_percent = 50, bool* as_json = nullptr) {
  std::minstd_rand rng(seed);
  if (as_json) *as_json = false;
  if (size <= keep || rng() % 100 >= json_percent) return LLVMFuzzerMutate(data, size, max_size);
  using nlohmann::json;
  json root = json::parse(data + keep, data + size, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return LLVMFuzzerMutate(data, size, max_size);
  std::vector<json*> nodes;
  collect(root, nodes);
  json& n = *nodes[rng() % nodes.size()];
  const json other = *nodes[rng() % nodes.size()];  // a copy: n may contain it
  // clang-format off
  static const json interesting[] = {
      0, 1, -1, 2, 3, 7, 8, 16, 64, 255, 256, 1000, 65535, 1 << 20, 2147483647, -2147483647 - 1,
      2147483648LL, 4294967295LL, 4294967296LL, std::numeric_limits<int64_t>::max(),
      std::numeric_limits<int64_t>::min(), std::numeric_limits<uint64_t>::max(), 0.0, -0.0, 0.5,
      -0.5, 1e-300, 1e-9, 1e9, 1e300, -1e300, 1.7976931348623157e308, 4.9e-324, 2.5, 1e19};
  // clang-format on
  switch (rng() % 7) {
    case 0:
      n = interesting[rng() % (sizeof interesting / sizeof interesting[0])];
      break;
    case 1:  // a nearby number
      if (n.is_number_unsigned())
        n = n.get<uint64_t>() + rng() % 3 - 1;  // wraps, like a counter
      else if (n.is_number_integer())
        n = int64_t(uint64_t(n.get<int64_t>()) + rng() % 3 - 1);
      else if (n.is_number())
        n = n.get<double>() * (rng() % 2 ? 2.0 : -1.0);
      else
        n = int(rng() % 10);
      break;
    case 2:  // one element fewer, or one more
      if (n.is_array() && !n.empty()) {
        const size_t i = rng() % n.size();
        const json copy = n[i];
        if (rng() % 2)
          n.erase(i);
        else
          n.insert(n.begin() + long(i), copy);
      } else if (n.is_object() && !n.empty()) {
        auto it = n.begin();
        std::advance(it, long(rng() % n.size()));
        n.erase(it);
      }
      break;
    case 3:  // another type
      switch (rng() % 6) {
        case 0:
          n = nullptr;
          break;
        case 1:
          n = bool(rng() % 2);
          break;
        case 2:
          n = "";
          break;
        case 3:
          n = json::array();
          break;
        case 4:
          n = json::object();
          break;
        default:
          n = n.dump();
          break;
      }
      break;
    case 4:  // a value from elsewhere in the file
      n = other;
      break;
    case 5:  // an object gains a key copied from elsewhere (objects may hold names, knobs)
      if (n.is_object() && other.is_object() && !other.empty()) {
        auto it = other.begin();
        std::advance(it, long(rng() % other.size()));
        n[it.key()] = it.value();
      } else if (n.is_array()) {
        n.push_back(other);
      }
      break;
    default:  // the bytes of a string
      if (n.is_string()) {
        std::string s = n.get<std::string>();
        s.resize(s.size() + 8);
        s.resize(LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(&s[0]), s.size() - 8, s.size()));
        n = s;
      }
      break;
  }
  // Invalid UTF-8 from a mutated string is replaced, not thrown: the result is always JSON.
  const std::string text =
      root.dump(rng() % 2 ? 1 : -1, ' ', false, json::error_handler_t::replace);
  if (keep + text.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data + keep, text.data(), text.size());
  if (as_json) *as_json = true;
  return keep + text.size();
}

}  // namespace patlab::fuzz
