#include "patlab/datasets/pack.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace patlab {

namespace {

constexpr char kMagic[8] = {'P', 'A', 'T', 'L', 'A', 'B', 'D', 'P'};
// A pack that inflates beyond this is refused rather than exhausting the browser's memory.
constexpr size_t kMaxInflated = size_t(256) << 20;

std::string gzip(const std::string& raw) {
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("encode_pack: zlib could not start");
  std::string out(deflateBound(&z, uLong(raw.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = uInt(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("encode_pack: zlib could not compress");
  return out;
}

std::string gunzip(const std::string& packed) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw PackError("data pack: zlib could not start");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  z.avail_in = uInt(packed.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > kMaxInflated) rc = Z_MEM_ERROR;
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) rc = Z_BUF_ERROR;  // truncated input
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) throw PackError("data pack: not a complete gzip stream (truncated or corrupt)");
  return out;
}

void put_u32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}

uint32_t get_u32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(uint8_t(s[at + size_t(i)])) << (8 * i);
  return v;
}

}  // namespace

std::string encode_pack(const DataPack& p) {
  const Dataset* parts[2] = {&p.train, &p.test};
  const int features = p.train.features();
  if (p.test.size() > 0 && p.test.features() != features)
    throw std::invalid_argument("encode_pack: train and test have different feature counts");
  const int classes = std::max(p.train.num_classes, p.test.num_classes);
  if (classes < 1 || classes > 256) throw std::invalid_argument("encode_pack: 1 to 256 classes");
  double lo = 0.0, hi = 0.0;
  bool first = true;
  for (const Dataset* d : parts) {
    if (d->size() == 0) continue;
    if (!d->x.allFinite()) throw std::invalid_argument("encode_pack: features must be finite");
    lo = first ? d->x.minCoeff() : std::min(lo, d->x.minCoeff());
    hi = first ? d->x.maxCoeff() : std::max(hi, d->x.maxCoeff());
    first = false;
    for (int label : d->y)
      if (label < 0 || label >= classes) throw std::invalid_argument("encode_pack: label out of range");
  }
  if (hi <= lo) hi = lo + 1.0;

  nlohmann::json h;
  h["id"] = p.info.id;
  h["title"] = p.info.title;
  h["source"] = p.info.source;
  h["licence"] = p.info.licence;
  h["class_names"] = p.info.class_names;
  h["image"] = {p.info.image_width, p.info.image_height};
  h["features"] = features;
  h["classes"] = classes;
  h["train"] = p.train.size();
  h["test"] = p.test.size();
  h["range"] = {lo, hi};
  const std::string header = h.dump();

  std::string raw(kMagic, sizeof kMagic);
  put_u32(raw, kPackVersion);
  put_u32(raw, uint32_t(header.size()));
  raw += header;
  for (const Dataset* d : parts)
    for (int i = 0; i < d->size(); ++i)
      for (int f = 0; f < features; ++f)
        raw.push_back(char(uint8_t(std::lround((d->x(f, i) - lo) / (hi - lo) * 255.0))));
  for (const Dataset* d : parts)
    for (int label : d->y) raw.push_back(char(uint8_t(label)));
  return gzip(raw);
}

DataPack decode_pack(const std::string& bytes) {
  const std::string raw = gunzip(bytes);
  if (raw.size() < 16 || std::memcmp(raw.data(), kMagic, sizeof kMagic) != 0)
    throw PackError("data pack: not a patlab data pack (bad magic)");
  const uint32_t version = get_u32(raw, 8);
  if (version != kPackVersion)
    throw PackError("data pack: format version " + std::to_string(version) + ", this build reads " +
                    std::to_string(kPackVersion) + " (rebuild the packs)");
  const size_t header_len = get_u32(raw, 12);
  if (16 + header_len > raw.size()) throw PackError("data pack: header runs past the end");
  DataPack p;
  int features = 0, classes = 0, n_train = 0, n_test = 0;
  double lo = 0, hi = 1;
  try {
    const nlohmann::json h = nlohmann::json::parse(raw.begin() + 16, raw.begin() + 16 + long(header_len));
    p.info.id = h.at("id").get<std::string>();
    p.info.title = h.at("title").get<std::string>();
    p.info.source = h.at("source").get<std::string>();
    p.info.licence = h.at("licence").get<std::string>();
    p.info.class_names = h.at("class_names").get<std::vector<std::string>>();
    p.info.image_width = h.at("image").at(0).get<int>();
    p.info.image_height = h.at("image").at(1).get<int>();
    features = h.at("features").get<int>();
    classes = h.at("classes").get<int>();
    n_train = h.at("train").get<int>();
    n_test = h.at("test").get<int>();
    lo = h.at("range").at(0).get<double>();
    hi = h.at("range").at(1).get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw PackError(std::string("data pack: bad header: ") + e.what());
  }
  if (features < 1 || classes < 1 || classes > 256 || n_train < 0 || n_test < 0 || !(hi > lo))
    throw PackError("data pack: header sizes are out of range");
  const size_t n = size_t(n_train) + size_t(n_test);
  const size_t body = 16 + header_len;
  if (raw.size() != body + n * size_t(features) + n)
    throw PackError("data pack: " + std::to_string(raw.size() - body) + " bytes of samples, expected " +
                    std::to_string(n * size_t(features) + n));
  const uint8_t* px = reinterpret_cast<const uint8_t*>(raw.data() + body);
  const uint8_t* py = px + n * size_t(features);
  size_t k = 0;
  for (Dataset* d : {&p.train, &p.test}) {
    const int count = d == &p.train ? n_train : n_test;
    d->name = p.info.id;
    d->num_classes = classes;
    d->x.resize(features, count);
    d->y.resize(count);
    for (int i = 0; i < count; ++i, ++k) {
      for (int f = 0; f < features; ++f) d->x(f, i) = lo + (hi - lo) * px[k * size_t(features) + size_t(f)] / 255.0;
      if (py[k] >= classes) throw PackError("data pack: label " + std::to_string(py[k]) + " out of range");
      d->y(i) = py[k];
    }
  }
  return p;
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PackError("cannot open " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace patlab
