// The lab's model without a window: commands, settings, and data packs arriving from the host
// (the browser downloads them; here they are read from the build's pack folder).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "patlab/app/lab.h"
#include "patlab/datasets/pack.h"
#include "patlab/experiment/experiment.h"

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
  while (lab.steps() < 200) lab.advance(1e9);
  const auto s = status(lab);
  for (const auto& lane : s["lanes"]) {
    EXPECT_GT(lane["test"]["device"]["accuracy"].get<double>(), 0.5) << lane["method"];
    // The gallery's predictions are per sample, for every test sample measured.
  }
  EXPECT_EQ(lab.lane(0).last_device.predicted.size(), s["test_size"].get<int>());
}

TEST(Lab, StopsAfterTheEpochsAsked) {
  Lab lab;
  ASSERT_TRUE(lab.command("set:epochs=2"));
  ASSERT_TRUE(lab.command("set:steps_per_frame=50"));
  lab.set_training(true);
  for (int i = 0; i < 500 && lab.training(); ++i) lab.advance(1e9);
  EXPECT_FALSE(lab.training());
  EXPECT_EQ(lab.lane(0).trainer->epoch(), 2);
  EXPECT_NE(status(lab)["state"].get<std::string>().find("epochs=2"), std::string::npos);
  EXPECT_NE(status(lab)["notice"].get<std::string>().find("2 epochs"), std::string::npos);
}

TEST(LabState, ALinkReproducesTheSetup) {
  Lab a;
  ASSERT_TRUE(a.command("system:crossbar"));
  ASSERT_TRUE(a.command("methods:pat,ideal,spsa"));
  ASSERT_TRUE(a.command("set:layers=3"));
  ASSERT_TRUE(a.command("set:lr=0.007"));
  ASSERT_TRUE(a.command("dataset:moons"));  // resets lr to the set's own
  ASSERT_TRUE(a.command("set:batch=16"));
  const std::string q = a.state_query();
  EXPECT_NE(q.find("system=crossbar"), std::string::npos) << q;
  EXPECT_NE(q.find("methods=pat,ideal,spsa"), std::string::npos) << q;
  EXPECT_NE(q.find("knob."), std::string::npos) << q;

  Lab b;
  ASSERT_NE(b.state_query(), q);
  ASSERT_TRUE(b.apply_state("?" + q + "&lesson=intro")) << b.error();  // lesson= is not the lab's
  EXPECT_EQ(b.state_query(), q);
  EXPECT_EQ(b.lanes(), 3);
  EXPECT_EQ(b.lane(2).method, Method::SPSA);
  EXPECT_EQ(b.lane(0).devices.size(), 3u);
  // The same seeds give the same starting networks.
  EXPECT_EQ(a.lane(0).net.get_params(), b.lane(0).net.get_params());
}

TEST(LabState, ABadLinkChangesNothingAndSaysWhy) {
  Lab lab;
  const std::string before = lab.state_query();
  for (const char* bad : {"data=nope", "methods=pat,pat", "methods=warp", "layers=0", "lr=abc",
                          "system=nope", "knob.eta=99", "knob.nonsense=1", "colour=red"}) {
    EXPECT_FALSE(lab.apply_state(std::string("layers=4&") + bad)) << bad;
    EXPECT_EQ(lab.state_query(), before) << bad;
    EXPECT_FALSE(lab.error().empty()) << bad;
  }
  EXPECT_TRUE(lab.apply_state(""));
  EXPECT_TRUE(lab.apply_state("layers=4&methods=in-silico"));
  EXPECT_EQ(lab.lanes(), 1);
}

TEST(LabShare, ExportsCurvesParametersAndAnExperimentThatRebuildsTheNetwork) {
  Lab lab;
  ASSERT_TRUE(lab.command("dataset:moons"));
  for (int i = 0; i < 3; ++i) lab.step_once();
  const Lab::ExportFile curves = lab.export_file("curves");
  EXPECT_EQ(curves.name, "patlab-curves.csv");
  EXPECT_EQ(curves.text.rfind("method,step,device_accuracy,twin_accuracy,device_loss,twin_loss\n", 0), 0u);
  // Two lanes, four measurements each (the start and three steps), a header.
  EXPECT_EQ(std::count(curves.text.begin(), curves.text.end(), '\n'), 1 + 2 * 4);
  EXPECT_NE(curves.text.find("\nin-silico,3,"), std::string::npos);

  const auto params = nlohmann::json::parse(lab.export_file("parameters").text);
  ASSERT_EQ(params["lanes"].size(), 2u);
  EXPECT_EQ(params["lanes"][0]["parameters"].size(), size_t(lab.lane(0).net.get_params().size()));
  EXPECT_EQ(params["lanes"][0]["steps"], 3);

  // The experiment file rebuilds the lab's very network (fresh lab: parameters at the start).
  Lab fresh;
  ASSERT_TRUE(fresh.command("dataset:moons"));
  const Experiment e = experiment_from_string(fresh.export_file("experiment").text);
  EXPECT_EQ(e.data.name, "moons");
  const auto run = build_run(e);
  EXPECT_EQ(run->net.get_params(), fresh.lane(0).net.get_params());
}

TEST(LabShare, HybridNetworksExportAndOpenToo) {
  Lab a;
  ASSERT_TRUE(a.command("method:pat"));  // an experiment file holds one method
  ASSERT_TRUE(a.command("set:digital=2"));
  ASSERT_TRUE(a.command("set:digital_width=12"));
  // encoder, 2 physical, 2 x (affine + tanh), readout
  EXPECT_EQ(a.lane(0).net.size(), 1 + 2 + 4 + 1);
  const std::string file = a.export_file("experiment").text;
  const auto run = build_run(experiment_from_string(file));
  EXPECT_EQ(run->net.get_params(), a.lane(0).net.get_params()) << "the same network from the same seeds";
  Lab b;
  ASSERT_TRUE(b.import_file("hybrid.json", file)) << b.error();
  EXPECT_EQ(b.state_query(), a.state_query());
  EXPECT_NE(b.state_query().find("digital=2&digital_width=12"), std::string::npos);
  EXPECT_FALSE(a.command("set:digital=5"));
}

TEST(LabShare, OpensAnExperimentFileItExported) {
  Lab a;
  ASSERT_TRUE(a.command("system:circuit"));
  ASSERT_TRUE(a.command("set:layers=3"));
  ASSERT_TRUE(a.command("method:ideal"));
  const std::string file = a.export_file("experiment").text;
  Lab b;
  ASSERT_TRUE(b.import_file("setup.json", file)) << b.error();
  EXPECT_EQ(b.state_query(), a.state_query());
  EXPECT_FALSE(b.import_file("setup.json", "{\"layers\": 3}"));
  EXPECT_NE(b.error().find("layers"), std::string::npos) << b.error();
  EXPECT_FALSE(b.import_file("notes.txt", "hello"));
  EXPECT_EQ(b.state_query(), a.state_query());
}

// The lab's settings are an experiment (one schema with files and the command line): what a
// file says about training that the lab has no control for (optimiser, schedule) is kept,
// trained with and written back; a network of another shape is refused, saying where.
TEST(LabShare, ItsSettingsAreTheExperimentAFileGivesAndKeepsWhatItHasNoControlFor) {
  Lab a;
  ASSERT_TRUE(a.command("method:pat"));
  Experiment e = experiment_from_string(a.export_file("experiment").text);
  e.train.optimizer.kind = OptimizerKind::SGD;
  e.train.optimizer.momentum = 0.8;
  e.train.loss = LossKind::MeanSquared;
  e.data.seed = 7;  // a data seed other than the training seed
  Lab b;
  ASSERT_TRUE(b.import_file("tuned.json", to_json(e).dump())) << b.error();
  EXPECT_EQ(b.settings().experiment.train.optimizer.kind, OptimizerKind::SGD);
  EXPECT_EQ(b.lane(0).trainer->config().optimizer.momentum, 0.8) << "trained with it";
  EXPECT_EQ(b.lane(0).trainer->config().loss, LossKind::MeanSquared);
  EXPECT_NE(b.state_query().find("data_seed=7"), std::string::npos) << b.state_query();
  const Experiment back = experiment_from_string(b.export_file("experiment").text);
  EXPECT_EQ(experiment_differences(back, e), std::vector<std::string>{}) << "written back as it came";
  // The lab's controls edit the same experiment.
  ASSERT_TRUE(b.command("set:layers=3"));
  int physical = 0;
  for (const LayerSpec& l : b.settings().experiment.layers) physical += l.kind == "physical";
  EXPECT_EQ(physical, 3);
  EXPECT_EQ(b.network().physical, 3);
  EXPECT_EQ(lab_network(b.settings().experiment).physical, 3);
  // A network the lab cannot run: physical layers of two systems (its knobs turn every layer).
  Experiment mixed = e;
  mixed.layers[2].system = "circuit";
  mixed.layers[2].knobs.clear();
  const std::string before = b.state_query();
  EXPECT_FALSE(b.import_file("mixed.json", to_json(mixed).dump()));
  EXPECT_NE(b.error().find("layers[2] is another system (circuit, not oscillators)"), std::string::npos) << b.error();
  EXPECT_NE(b.error().find("command line"), std::string::npos) << b.error();
  EXPECT_EQ(b.state_query(), before) << "nothing changed";
  EXPECT_THROW(lab_network(mixed), std::invalid_argument);
  // The lab's start is in the lab's shape.
  EXPECT_EQ(lab_network(lab_experiment()).physical, 2);
}

// The paper's reference architecture is no shape the lab builds (class oscillators appended
// before the last physical layer, the last ones selected, a scale for a readout), but a file
// with it opens: the lab trains it as it is, a link carries it whole, the system's knobs turn
// every layer, and the layer controls replace it with the lab's own network.
TEST(LabShare, OpensTheReferenceArchitectureFromAFileAndALinkCarriesIt) {
  const std::string file = R"({
    "data": {"name": "circles", "train_size": 200, "test_size": 200},
    "layers": [
      {"kind": "affine", "size": 6},
      {"kind": "physical", "system": "oscillators", "size": 6, "seed": 1, "knobs": {"eta": 0.3}},
      {"kind": "append", "count": 2, "value": 0},
      {"kind": "physical", "system": "oscillators", "size": 8, "seed": 2, "knobs": {"eta": 0.3}},
      {"kind": "select", "last": 2},
      {"kind": "readout_scale", "init": 5}],
    "train": {"method": "pat", "optimizer": {"kind": "adam", "learning_rate": 0.02}, "batch_size": 32, "seed": 3}})";
  Lab a;
  ASSERT_TRUE(a.import_file("reference.json", file)) << a.error();
  EXPECT_TRUE(a.network().custom);
  EXPECT_EQ(a.network().physical, 2);
  const Experiment want = experiment_from_string(file);
  const auto run = build_run(want);
  EXPECT_EQ(a.lane(0).net.get_params(), run->net.get_params()) << "the file's network, as the command line builds it";
  auto status = [](const Lab& l) { return nlohmann::json::parse(l.status_json()); };
  EXPECT_TRUE(status(a)["custom_network"]);
  for (int i = 0; i < 60; ++i) a.step_once();
  EXPECT_GT(a.lane(0).last_device.accuracy, 0.7) << "it trains";
  // A link carries the network whole.
  Lab b;
  ASSERT_TRUE(b.apply_state(a.state_query())) << b.error();
  EXPECT_TRUE(b.network().custom);
  EXPECT_EQ(b.state_query(), a.state_query());
  EXPECT_EQ(b.lane(0).net.size(), a.lane(0).net.size());
  EXPECT_EQ(experiment_differences(b.experiment(), a.experiment()), std::vector<std::string>{})
      << "the same experiment";
  // Knobs turn every physical layer; a bad network in a link changes nothing.
  ASSERT_TRUE(b.command("knob:eta=0.1"));
  for (const LayerSpec& l : b.settings().experiment.layers)
    if (l.kind == "physical") EXPECT_EQ(l.knobs.at("eta"), 0.1);
  const std::string before = b.state_query();
  EXPECT_FALSE(b.apply_state("network=%5B%7B%22kind%22%3A%22warp%22%7D%5D"));
  EXPECT_NE(b.error().find("warp"), std::string::npos) << b.error();
  EXPECT_EQ(b.state_query(), before);
  // Data it does not fit: the lab's own network of the system replaces it, and says so.
  ASSERT_TRUE(b.command("dataset:clusters"));  // 3 classes: a 2-oscillator selection cannot read them
  EXPECT_FALSE(b.network().custom);
  EXPECT_NE(b.error().find("does not fit clusters"), std::string::npos) << b.error();
  // The layer controls make the lab's own network.
  ASSERT_TRUE(a.command("set:layers=3"));
  EXPECT_FALSE(a.network().custom);
  EXPECT_EQ(a.network().physical, 3);
}

// A file whose data are a pack the host has not loaded yet waits whole for it: the paper's
// reference network on 8x8 digits opens as the file says, learning rate included, once the pack
// is there (tried on the old data, the network would not fit).
TEST(LabShare, AFileWaitsWholeForItsDataPack) {
  std::ifstream f(std::string(PATLAB_LESSON_DIR) + "/../bench/reference_experiment.json");
  ASSERT_TRUE(f);
  const std::string file((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Lab lab;
  std::vector<std::string> asked;
  lab.set_pack_loader([&](const std::string& id) { asked.push_back(id); });
  const std::string before = lab.state_query();
  ASSERT_TRUE(lab.import_file("reference_experiment.json", file)) << lab.error();
  EXPECT_EQ(asked, std::vector<std::string>{"digits8"});
  EXPECT_EQ(lab.state_query(), before) << "nothing changes while the pack is on its way";
  lab.provide_pack("digits8", read_file_bytes(pack_file("digits8")));
  EXPECT_EQ(lab.error(), "");
  EXPECT_TRUE(lab.network().custom);
  EXPECT_EQ(lab.settings().experiment.data.name, "digits8");
  EXPECT_EQ(lab.settings().experiment.train.optimizer.learning_rate, 0.02) << "the file's, not the data set's";
  const Experiment want = experiment_from_string(file);
  EXPECT_EQ(lab.lane(0).net.size(), int(want.layers.size()));
  // A link naming a pack without its learning rate takes the data set's once it arrives.
  Lab b;
  b.set_pack_loader([&](const std::string& id) { b.provide_pack(id, read_file_bytes(pack_file(id))); });
  ASSERT_TRUE(b.apply_state("data=digits8&methods=pat")) << b.error();
  EXPECT_EQ(b.settings().experiment.data.name, "digits8");
  EXPECT_EQ(b.settings().experiment.train.optimizer.learning_rate, 0.005);
}

TEST(LabShare, OpensTheUsersCsvAndExplainsABadOne) {
  Lab lab;
  std::string csv = "x1,x2,label\n";
  for (int i = 0; i < 60; ++i)
    csv += std::to_string(100 + i % 7) + "," + std::to_string(i % 2 ? 5.0 : -5.0) + "," + (i % 2 ? "up" : "down") + "\n";
  ASSERT_TRUE(lab.import_file("mine.CSV", csv)) << lab.error();
  auto s = status(lab);
  EXPECT_EQ(s["dataset"], "csv");
  EXPECT_EQ(s["classes"], 2);
  EXPECT_EQ(s["features"], 2);
  EXPECT_EQ(s["train_size"].get<int>() + s["test_size"].get<int>(), 60);
  lab.set_training(true);
  ASSERT_TRUE(lab.command("set:steps_per_frame=50"));
  while (lab.steps() < 200) lab.advance(1e9);
  EXPECT_GT(status(lab)["lanes"][0]["test"]["device"]["accuracy"].get<double>(), 0.9)
      << "the second feature separates the classes";

  EXPECT_FALSE(lab.import_file("broken.csv", "x1,x2,label\n1,2,a\n3,oops,b\n"));
  EXPECT_NE(lab.error().find("line 3"), std::string::npos) << lab.error();
  EXPECT_EQ(status(lab)["dataset"], "csv") << "the good data stays";
}

TEST(LabViews, InsideTheTrainingTracksTwinGapAlignmentAndQueries) {
  Lab lab;
  ASSERT_TRUE(lab.command("knob:eta=0.5"));
  for (int i = 0; i < 12; ++i) lab.step_once();
  const auto s = status(lab);
  const auto& pat = s["lanes"][0];
  const auto& insilico = s["lanes"][1];
  ASSERT_TRUE(pat["twin_gap"].is_number()) << "PAT runs the device forward: the gap is measured";
  EXPECT_GT(pat["twin_gap"].get<double>(), 0.01) << "eta 0.5: the twin is visibly wrong";
  EXPECT_TRUE(insilico["twin_gap"].is_null()) << "in-silico never runs the device while training";
  // The cosine with the true gradient: PAT's backward pass runs at the device's activations, so
  // its gradient points closer to the truth than in-silico's, whose twin is visibly wrong here.
  ASSERT_TRUE(pat["alignment"].is_number());
  ASSERT_TRUE(insilico["alignment"].is_number());
  const double a_pat = pat["alignment"].get<double>(), a_insilico = insilico["alignment"].get<double>();
  EXPECT_GT(a_pat, 0.5);
  EXPECT_LT(a_insilico, 0.999) << "a wrong twin gives a gradient that is not the true one";
  EXPECT_GT(a_pat, a_insilico) << "PAT " << a_pat << ", in-silico " << a_insilico;
  EXPECT_EQ(lab.lane(0).queries.size(), lab.lane(0).step.size());
  EXPECT_GT(lab.lane(0).queries.back(), lab.lane(1).queries.back()) << "PAT pays queries to train";
}

TEST(LabViews, TheExplorerShowsTheTwinExactOnlyWithoutMismatchOrNoise) {
  Lab lab;
  ASSERT_TRUE(lab.command("view:explorer"));
  for (const char* k : {"knob:eta=0", "knob:coupling_noise=0", "knob:readout_noise_rad=0", "knob:input_noise_rad=0"})
    ASSERT_TRUE(lab.command(k)) << k;
  lab.advance(0);
  auto s = status(lab);
  EXPECT_EQ(s["view"], "explorer");
  EXPECT_EQ(s["explorer"]["points"], 61);
  EXPECT_LT(s["explorer"]["rms_residual"].get<double>(), 1e-9) << "an ideal device is its twin";
  ASSERT_TRUE(lab.command("knob:eta=0.5"));
  ASSERT_TRUE(lab.command("explore:in=3"));
  ASSERT_TRUE(lab.command("explore:out=5"));
  EXPECT_FALSE(lab.command("explore:out=99"));
  lab.advance(0);
  s = status(lab);
  EXPECT_EQ(s["explorer"]["input"], 3);
  EXPECT_EQ(s["explorer"]["output"], 5);
  EXPECT_GT(s["explorer"]["rms_residual"].get<double>(), 1e-3) << "a stiffer nonlinearity than the twin's";
}

TEST(LabViews, FittingTheTwinShrinksTheResidualForEveryLane) {
  Lab lab;
  for (const char* c : {"knob:eta=0.4", "knob:coupling_noise=0", "knob:readout_noise_rad=0",
                        "knob:input_noise_rad=0", "view:explorer"})
    ASSERT_TRUE(lab.command(c)) << c;
  lab.advance(0);
  auto s = status(lab);
  const double residual_before = s["explorer"]["rms_residual"].get<double>();
  ASSERT_GT(residual_before, 0.01) << "eta 0.4: the textbook twin is off";
  EXPECT_FALSE(s.contains("twin"));
  const long long queries_before = s["lanes"][0]["device_queries"].get<long long>();

  ASSERT_TRUE(lab.command("twin:fit"));
  lab.advance(0);
  s = status(lab);
  ASSERT_TRUE(s.contains("twin"));
  EXPECT_EQ(s["twin"]["kind"], "calibrated") << "the oscillators' twin calibrates its constants";
  EXPECT_LT(s["twin"]["error_after"].get<double>(), 0.2 * s["twin"]["error_before"].get<double>())
      << "eta is a constant of the twin: with nothing else wrong, the refit finds it";
  EXPECT_GT(s["twin"]["queries"].get<long long>(), 0);
  EXPECT_GT(s["lanes"][0]["device_queries"].get<long long>(), queries_before) << "measuring costs queries";
  EXPECT_LT(s["explorer"]["rms_residual"].get<double>(), 0.2 * residual_before)
      << "the explorer compares the device with the lane's (refitted) twin";

  // Every lane trains with the refitted twin: in-silico, which sees only the twin, now does
  // about as well on the device as PAT.
  ASSERT_TRUE(lab.command("set:steps_per_frame=10"));
  for (int i = 0; i < 30; ++i) lab.step_once();
  s = status(lab);
  const double pat = s["lanes"][0]["test"]["device"]["accuracy"], insilico = s["lanes"][1]["test"]["device"]["accuracy"];
  EXPECT_GT(insilico, pat - 0.08) << "PAT " << pat << ", in-silico " << insilico;

  ASSERT_TRUE(lab.command("reset"));
  EXPECT_FALSE(status(lab).contains("twin")) << "a reset brings the textbook twins back";
}

TEST(LabViews, TheRobustnessMapFillsEveryCellForEveryMethod) {
  Lab lab;
  EXPECT_FALSE(lab.command("robustness:start=0"));
  ASSERT_TRUE(lab.command("robustness:start=5"));
  auto s = status(lab);
  EXPECT_TRUE(s["robustness"]["running"].get<bool>());
  EXPECT_EQ(s["robustness"]["total"], 2 * 5 * 5);
  EXPECT_EQ(s["robustness"]["noise_knob"], "readout_noise_rad");
  EXPECT_EQ(s["robustness"]["mismatch_knob"], "eta");
  int frames = 0;
  while (lab.robustness().running && frames++ < 10000) lab.advance(5.0);
  s = status(lab);
  EXPECT_EQ(s["robustness"]["done"], 50);
  for (const auto& method : s["robustness"]["accuracy"])
    for (const auto& row : method)
      for (const auto& cell : row) {
        ASSERT_TRUE(cell.is_number());
        EXPECT_GE(cell.get<double>(), 0.0);
        EXPECT_LE(cell.get<double>(), 1.0);
      }
  // Changing the setup makes the map obsolete.
  ASSERT_TRUE(lab.command("dataset:moons"));
  EXPECT_EQ(status(lab)["robustness"]["total"], 0);
}

TEST(LabViews, SlowMotionShowsPatsThreePhases) {
  // An ideal device: PAT's gradient is the true one.
  Lab ideal;
  for (const char* k : {"knob:eta=0", "knob:coupling_noise=0", "knob:readout_noise_rad=0", "knob:input_noise_rad=0"})
    ASSERT_TRUE(ideal.command(k)) << k;
  ASSERT_TRUE(ideal.command("phase"));
  ASSERT_TRUE(ideal.command("phase"));
  auto s = status(ideal)["slow_motion"];
  ASSERT_EQ(s["phase"], 2);
  for (const auto& c : s["cos_pat"]) EXPECT_NEAR(c.get<double>(), 1.0, 1e-9);
  for (const auto& g : s["twin_gap"]) EXPECT_LT(g.get<double>(), 1e-12);

  // A stiffer device than its twin: the twin is off, PAT's gradient still points the right way,
  // better than in-silico's in the deepest layer (this seed: 0.91 against 0.69).
  Lab lab;
  ASSERT_TRUE(lab.command("knob:eta=0.5"));
  ASSERT_TRUE(lab.command("train"));
  ASSERT_TRUE(lab.command("phase"));
  EXPECT_FALSE(lab.training()) << "slow motion pauses training";
  s = status(lab)["slow_motion"];
  EXPECT_EQ(s["phase"], 1);
  EXPECT_GT(s["twin_gap"][1].get<double>(), 0.1);
  ASSERT_TRUE(lab.command("phase"));
  s = status(lab)["slow_motion"];
  ASSERT_EQ(s["cos_pat"].size(), 2u);
  EXPECT_GT(s["cos_pat"][1].get<double>(), 0.85);
  EXPECT_GT(s["cos_pat"][1].get<double>(), s["cos_insilico"][1].get<double>() + 0.1);
  const long long before = lab.steps();
  ASSERT_TRUE(lab.command("phase"));
  s = status(lab)["slow_motion"];
  EXPECT_EQ(s["phase"], 3);
  EXPECT_EQ(lab.steps(), before + 1) << "the update is a real training step";
  for (const auto& u : s["update_norm"]) EXPECT_GT(u.get<double>(), 0.0);
  ASSERT_TRUE(lab.command("phase"));
  EXPECT_EQ(status(lab)["slow_motion"]["phase"], 1) << "and round again";
}

TEST(LabData, PointsCanBeDrawnAndRemoved) {
  Lab lab;
  const int before = status(lab)["train_size"].get<int>() + status(lab)["test_size"].get<int>();
  ASSERT_TRUE(lab.command("point:add=0.05,0.05,2"));  // a third class, in the middle
  auto s = status(lab);
  EXPECT_EQ(s["dataset"], "drawn");
  EXPECT_EQ(s["classes"], 3);
  EXPECT_EQ(s["train_size"].get<int>() + s["test_size"].get<int>(), before + 1);
  // Stratified: both classes of the circles are in the test part.
  EXPECT_GT(s["test_size"].get<int>(), 150);
  ASSERT_TRUE(lab.command("point:remove=0.06,0.05"));  // the nearest point goes
  s = status(lab);
  EXPECT_EQ(s["train_size"].get<int>() + s["test_size"].get<int>(), before);
  EXPECT_FALSE(lab.command("point:remove=9,9")) << "nothing near";
  EXPECT_FALSE(lab.command("point:add=0,0,7")) << "at most four classes";
  EXPECT_FALSE(lab.command("point:add=0,0")) << "which class?";
  EXPECT_FALSE(lab.command("point:add=nan,0,1"));
  ASSERT_TRUE(lab.command("dataset:vowels"));
  EXPECT_FALSE(lab.command("point:add=0,0,1")) << "only 2-D data can be drawn";
  EXPECT_TRUE(lab.command("dataset:drawn")) << "the drawing stays available";
}

}  // namespace patlab
