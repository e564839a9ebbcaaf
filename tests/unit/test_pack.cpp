// The data packs of the web build: the format round-trips, refuses damaged input with a clear
// error, is deterministic, and the packs this build made are all there and small.
#include <gtest/gtest.h>

#include <zlib.h>

#include <cmath>
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "patlab/datasets/pack.h"
#include "patlab/datasets/processing.h"
#include "what_thrown.h"

namespace patlab {
namespace {

DataPack small_pack() {
  DataPack p;
  p.info = {"tiny", "Tiny set", "made up in a test", "CC0", {"a", "b", "c"}, 2, 2};
  p.train.num_classes = p.test.num_classes = 3;
  p.train.x.resize(4, 5);
  p.test.x.resize(4, 2);
  p.train.y.resize(5);
  p.test.y.resize(2);
  for (int i = 0; i < 5; ++i) {
    for (int f = 0; f < 4; ++f) p.train.x(f, i) = -1.0 + 2.0 * ((i * 7 + f * 3) % 11) / 10.0;
    p.train.y(i) = i % 3;
  }
  p.test.x.setConstant(0.25);
  p.test.y << 2, 0;
  return p;
}

std::string error_of(const std::string& bytes) {
  return what_thrown<PackError>([&] { decode_pack(bytes); }, "a damaged pack was accepted");
}

// Feeds all of `in` through the set-up stream z in one call of `run` (deflate or inflate) into
// at most `capacity` bytes, and returns what came out.
std::string run_stream(z_stream& z, int (*run)(z_streamp, int), const std::string& in,
                       size_t capacity) {
  std::string out(capacity, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = uInt(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  run(&z, Z_FINISH);
  out.resize(z.total_out);
  return out;
}

// A gzip stream of arbitrary bytes, to build packs that are damaged inside the compression.
std::string gzip_of(const std::string& raw) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  const std::string out = run_stream(z, deflate, raw, deflateBound(&z, uLong(raw.size())));
  deflateEnd(&z);
  return out;
}

// The uncompressed form of a good pack, to damage field by field.
std::string raw_of(const DataPack& p) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  const std::string out = run_stream(z, inflate, encode_pack(p), 1 << 16);
  inflateEnd(&z);
  return out;
}

}  // namespace

TEST(Pack, RoundTripsWithinEightBitQuantisation) {
  const DataPack p = small_pack();
  const DataPack q = decode_pack(encode_pack(p));
  EXPECT_EQ(q.info.id, "tiny");
  EXPECT_EQ(q.info.title, "Tiny set");
  EXPECT_EQ(q.info.licence, "CC0");
  EXPECT_EQ(q.info.class_names, p.info.class_names);
  EXPECT_EQ(q.info.image_width, 2);
  ASSERT_EQ(q.train.size(), 5);
  ASSERT_EQ(q.test.size(), 2);
  ASSERT_EQ(q.train.features(), 4);
  EXPECT_EQ(q.train.num_classes, 3);
  EXPECT_EQ(q.train.y, p.train.y);
  EXPECT_EQ(q.test.y, p.test.y);
  // Range [-1, 1] in 255 steps: every value within half a step.
  EXPECT_LE((q.train.x - p.train.x).cwiseAbs().maxCoeff(), 1.0 / 255.0 + 1e-12);
  EXPECT_LE((q.test.x - p.test.x).cwiseAbs().maxCoeff(), 1.0 / 255.0 + 1e-12);
  EXPECT_DOUBLE_EQ(q.train.x.minCoeff(), -1.0);
  EXPECT_DOUBLE_EQ(q.train.x.maxCoeff(), 1.0);
}

TEST(Pack, IsDeterministicAndCompresses) {
  const DataPack p = small_pack();
  EXPECT_EQ(encode_pack(p), encode_pack(p));
  // 2,000 mostly-zero samples of 100 features compress far below their raw size.
  DataPack big;
  big.info.id = "zeros";
  big.train.num_classes = 2;
  big.train.x = Mat::Zero(100, 2000);
  big.train.x(0, 0) = 1.0;
  big.train.y = Labels::Zero(2000);
  big.train.y(3) = 1;
  EXPECT_LT(encode_pack(big).size(), 2000u * 100u / 50u);
}

TEST(Pack, RefusesWhatItCannotRepresent) {
  DataPack p = small_pack();
  p.train.x(0, 0) = std::nan("");
  EXPECT_THROW(encode_pack(p), std::invalid_argument);
  p = small_pack();
  p.train.y(0) = 7;
  EXPECT_THROW(encode_pack(p), std::invalid_argument);
  p = small_pack();
  p.test.x.resize(3, 2);
  EXPECT_THROW(encode_pack(p), std::invalid_argument);
}

TEST(Pack, DamagedBytesGiveClearErrors) {
  const std::string good = encode_pack(small_pack());
  EXPECT_NE(error_of("").find("gzip"), std::string::npos);
  EXPECT_NE(error_of("hello, this is not gzip").find("gzip"), std::string::npos);
  EXPECT_NE(error_of(good.substr(0, good.size() / 2)).find("truncated"), std::string::npos);
  std::string flipped = good;
  flipped[flipped.size() / 2] = char(flipped[flipped.size() / 2] ^ 0x55);
  EXPECT_NE(error_of(flipped), "");  // deflate data or its CRC no longer check out

  // Well-formed gzip, damaged content.
  const std::string raw = raw_of(small_pack());
  std::string magic = raw;
  magic[0] = 'X';
  EXPECT_NE(error_of(gzip_of(magic)).find("magic"), std::string::npos);
  std::string version = raw;
  version[8] = 9;
  EXPECT_NE(error_of(gzip_of(version)).find("version 9"), std::string::npos);
  std::string header = raw;
  header[16] = '[';  // the JSON header no longer parses
  EXPECT_NE(error_of(gzip_of(header)).find("header"), std::string::npos);
  EXPECT_NE(error_of(gzip_of(raw.substr(0, raw.size() - 3))).find("bytes of samples"), std::string::npos);
  std::string label = raw;
  label.back() = char(200);  // the last test label, of 3 classes
  EXPECT_NE(error_of(gzip_of(label)).find("label 200"), std::string::npos);
  std::string huge_header = raw;
  huge_header[15] = char(0x7f);  // header length beyond the data
  EXPECT_NE(error_of(gzip_of(huge_header)).find("past the end"), std::string::npos);
  DataPack unnamed = small_pack();
  unnamed.info.class_names.clear();
  EXPECT_NO_THROW(decode_pack(encode_pack(unnamed)));  // class names are optional
}

TEST(Pack, TheBuildsPacksAreCompleteAndSmall) {
  const std::string dir = PATLAB_PACK_DIR;
  std::ifstream index_file(dir + "/packs.json");
  ASSERT_TRUE(index_file) << dir << "/packs.json missing: the build makes it (patlab_data_packs)";
  const nlohmann::json index = nlohmann::json::parse(index_file);
  std::vector<std::string> ids;
  size_t total = 0, web = 0;
  const auto& web_ids = web_pack_ids();
  for (const auto& e : index.at("packs")) {
    const std::string bytes = read_file_bytes(dir + "/" + e.at("file").get<std::string>());
    EXPECT_EQ(bytes.size(), e.at("bytes").get<size_t>());
    const DataPack p = decode_pack(bytes);
    EXPECT_EQ(p.info.id, e.at("id").get<std::string>());
    EXPECT_FALSE(p.info.licence.empty());
    EXPECT_EQ(p.train.size(), e.at("train").get<int>());
    EXPECT_EQ(p.test.size(), e.at("test").get<int>());
    EXPECT_EQ(p.train.features(), p.info.image_width * p.info.image_height);
    const std::vector<int> tr = class_counts(p.train), te = class_counts(p.test);
    if (std::find(web_ids.begin(), web_ids.end(), p.info.id) != web_ids.end()) {
      // Stratified 80/20: every class in both parts, in the same proportion (±1 sample).
      for (size_t c = 0; c < tr.size(); ++c) EXPECT_NEAR(te[c], 0.25 * tr[c], 1.0 + 0.01 * tr[c]);
      web += bytes.size();
    } else {
      // The full-scale sets: the original files, whole, in their order.
      EXPECT_EQ(p.train.size(), 60000) << p.info.id;
      EXPECT_EQ(p.test.size(), 10000) << p.info.id;
      EXPECT_EQ(p.train.features(), 784) << p.info.id;
      EXPECT_EQ(p.train.num_classes, 10) << p.info.id;
      for (size_t c = 0; c < tr.size(); ++c) EXPECT_GT(te[c], 800) << p.info.id << " class " << c;
      // The first training and test labels of the original files (MNIST: 5 and 7; Fashion-MNIST:
      // ankle boot and ankle boot), and pixels in [0, 1] with ink in the middle.
      EXPECT_EQ(p.train.y[0], p.info.id == "mnist" ? 5 : 9) << p.info.id;
      EXPECT_EQ(p.test.y[0], p.info.id == "mnist" ? 7 : 9) << p.info.id;
      EXPECT_GE(p.train.x.minCoeff(), 0.0);
      EXPECT_LE(p.train.x.maxCoeff(), 1.0);
      EXPECT_GT(p.train.x.col(0).segment(14 * 28, 28).maxCoeff(), 0.5) << p.info.id;
    }
    ids.push_back(p.info.id);
    total += bytes.size();
  }
  EXPECT_EQ(total, index.at("total_bytes").get<size_t>());
  // scripts/setup.sh installs every source, so a complete build has every pack: all of them
  // natively, the web's in the web build.
#ifdef __EMSCRIPTEN__
  EXPECT_EQ(ids, web_ids);
#else
  EXPECT_EQ(ids, pack_ids());
#endif
  // The page's data budget: its packs must leave room for the wasm (about 0.6 MB compressed)
  // within the 3 MB the whole download aims at.
  EXPECT_LT(web, 2'300'000u);
}

}  // namespace patlab
