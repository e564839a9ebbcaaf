// The lab's model without a window: commands, settings, and data packs arriving from the host
// (the browser downloads them; here they are read from the build's pack folder).
#ifdef PATLAB_HAVE_APP
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "patlab/app/lab.h"
#include "patlab/datasets/pack.h"

namespace patlab {
namespace {

nlohmann::json status(const Lab& lab) { return nlohmann::json::parse(lab.status_json()); }

std::string pack_file(const std::string& id) { return std::string(PATLAB_PACK_DIR) + "/" + id + ".pdp"; }

}  // namespace

TEST(Lab, StartsWithARaceOnTwoDimensionalData) {
  Lab lab;
  const auto s = status(lab);
  EXPECT_EQ(s["dataset"], "circles");
  EXPECT_EQ(s["features"], 2);
  ASSERT_EQ(s["lanes"].size(), 2u);
  EXPECT_EQ(s["lanes"][0]["method"], "pat");
  EXPECT_EQ(s["lanes"][1]["method"], "in-silico");
}

TEST(Lab, RefusesUnknownAndMalformedCommands) {
  Lab lab;
  for (const char* bad : {"dance", "dataset:nope", "system:warp-drive", "method:magic", "knob:eta",
                          "knob:eta=x", "set:lr", "set:lr=abc", "set:lr=-1", "set:layers=99",
                          "set:layers=1.5", "set:bogus=1", "set:lr=nan"})
    EXPECT_FALSE(lab.command(bad)) << bad;
  EXPECT_EQ(status(lab)["dataset"], "circles");
}

TEST(Lab, SettingsApplyAndRebuildWhenTheyMust) {
  Lab lab;
  EXPECT_TRUE(lab.command("set:layers=3"));
  EXPECT_EQ(status(lab)["physical_layers"], 3);
  EXPECT_EQ(lab.lane(0).devices.size(), 3u);
  EXPECT_TRUE(lab.command("set:lr=0.01"));
  EXPECT_TRUE(lab.command("set:train_size=100"));
  EXPECT_EQ(status(lab)["train_size"], 100);
  EXPECT_TRUE(lab.command("dataset:vowels"));
  EXPECT_EQ(status(lab)["features"], 12);
  EXPECT_EQ(status(lab)["classes"], 7);
}

TEST(Lab, APackIsRequestedFromTheHostAndUsedWhenItArrives) {
  Lab lab;
  EXPECT_FALSE(lab.command("dataset:digits8")) << "no loader: nothing can fetch the pack";
  EXPECT_NE(lab.error().find("digits8"), std::string::npos);

  std::vector<std::string> asked;
  lab.set_pack_loader([&](const std::string& id) { asked.push_back(id); });
  ASSERT_TRUE(lab.command("dataset:digits8"));
  EXPECT_EQ(asked, std::vector<std::string>{"digits8"});
  EXPECT_EQ(status(lab)["loading"], "digits8");
  EXPECT_EQ(status(lab)["dataset"], "circles") << "the old data stays until the pack arrives";

  // A broken download: the lab says so and keeps what it had.
  lab.provide_pack("digits8", "not a pack");
  EXPECT_EQ(status(lab)["dataset"], "circles");
  EXPECT_EQ(status(lab)["loading"], "");
  EXPECT_NE(lab.error().find("digits8"), std::string::npos);

  ASSERT_TRUE(lab.command("dataset:digits8"));
  lab.pack_failed("digits8", "HTTP 404");
  EXPECT_NE(lab.error().find("HTTP 404"), std::string::npos);

  ASSERT_TRUE(lab.command("dataset:digits8"));
  lab.provide_pack("digits8", read_file_bytes(pack_file("digits8")));
  const auto s = status(lab);
  EXPECT_EQ(s["dataset"], "digits8");
  EXPECT_EQ(s["error"], "");
  EXPECT_EQ(s["features"], 64);
  EXPECT_EQ(s["classes"], 10);
  EXPECT_GT(s["train_size"].get<int>(), 1400);
  // Loaded once: selecting it again needs no download.
  ASSERT_TRUE(lab.command("dataset:circles"));
  ASSERT_TRUE(lab.command("dataset:digits8"));
  EXPECT_EQ(asked.size(), 3u);
  EXPECT_EQ(status(lab)["dataset"], "digits8");
}

TEST(Lab, TrainsOnRealDigitsAboveChance) {
  Lab lab;
  lab.set_pack_loader([&](const std::string& id) { lab.provide_pack(id, read_file_bytes(pack_file(id))); });
  ASSERT_TRUE(lab.command("dataset:digits8"));
  ASSERT_TRUE(lab.command("set:steps_per_frame=50"));
  lab.set_training(true);
  while (lab.steps() < 300) lab.advance(1e9);
  const auto s = status(lab);
  for (const auto& lane : s["lanes"]) {
    EXPECT_GT(lane["test"]["device"]["accuracy"].get<double>(), 0.5) << lane["method"];
    // The gallery's predictions are per sample, for every test sample measured.
  }
  EXPECT_EQ(lab.lane(0).last_device.predicted.size(), s["test_size"].get<int>());
}

}  // namespace patlab
#endif  // PATLAB_HAVE_APP
