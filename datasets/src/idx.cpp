#include "patlab/datasets/idx.h"

#include "gunzip.h"

#include <zlib.h>

#include <stdexcept>
#include <vector>

namespace patlab {

std::vector<unsigned char> gunzip_file(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<unsigned char> out;
  unsigned char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  const bool failed = n < 0;
  gzclose(f);
  if (failed) throw std::runtime_error(path + ": not a valid gzip file");
  return out;
}

namespace {

uint32_t be32(const std::vector<unsigned char>& b, size_t at) {
  return (uint32_t(b[at]) << 24) | (uint32_t(b[at + 1]) << 16) | (uint32_t(b[at + 2]) << 8) | b[at + 3];
}

}  // namespace

Dataset load_idx_gz(const std::string& images_path, const std::string& labels_path, int count,
                    int pool) {
  const std::vector<unsigned char> img = gunzip_file(images_path), lab = gunzip_file(labels_path);
  if (img.size() < 16 || be32(img, 0) != 0x00000803)
    throw std::runtime_error(images_path + ": not an IDX image file (bad magic number)");
  if (lab.size() < 8 || be32(lab, 0) != 0x00000801)
    throw std::runtime_error(labels_path + ": not an IDX label file (bad magic number)");
  const int n = int(be32(img, 4)), rows = int(be32(img, 8)), cols = int(be32(img, 12));
  if (int(be32(lab, 4)) != n) throw std::runtime_error(labels_path + ": label count differs from the images'");
  if (img.size() < 16 + size_t(n) * rows * cols || lab.size() < 8 + size_t(n))
    throw std::runtime_error(images_path + ": truncated");
  if (pool < 1 || rows % pool || cols % pool)
    throw std::invalid_argument("load_idx_gz: pool must divide the image size");
  const int take = count > 0 ? std::min(count, n) : n;
  const int orows = rows / pool, ocols = cols / pool;
  Dataset d;
  d.x.resize(orows * ocols, take);
  d.y.resize(take);
  int max_label = 0;
  for (int i = 0; i < take; ++i) {
    const unsigned char* p = img.data() + 16 + size_t(i) * rows * cols;
    for (int r = 0; r < orows; ++r)
      for (int c = 0; c < ocols; ++c) {
        int sum = 0;
        for (int a = 0; a < pool; ++a)
          for (int b = 0; b < pool; ++b) sum += p[(r * pool + a) * cols + c * pool + b];
        d.x(r * ocols + c, i) = sum / (255.0 * pool * pool);
      }
    d.y[i] = lab[8 + size_t(i)];
    max_label = std::max(max_label, int(d.y[i]));
  }
  d.num_classes = max_label + 1;
  return d;
}

Dataset load_fashion_mnist(const std::string& dir, bool train, int count, int pool) {
  const std::string prefix = dir + (train ? "/train" : "/t10k");
  Dataset d = load_idx_gz(prefix + "-images-idx3-ubyte.gz", prefix + "-labels-idx1-ubyte.gz", count, pool);
  d.name = "fashion-mnist";
  d.num_classes = 10;
  return d;
}

const char* fashion_mnist_class(int label) {
  static const char* names[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  return label >= 0 && label < 10 ? names[label] : "?";
}

}  // namespace patlab
