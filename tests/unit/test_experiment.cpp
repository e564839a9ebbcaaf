// The experiment description, runs built from it, and checkpoints that resume exactly.
#include "patlab/experiment/experiment.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <limits>

#include "what_thrown.h"

namespace patlab {
namespace {

Experiment noisy_experiment() {
  Experiment e = default_experiment();
  e.data.train_size = 100;
  e.data.test_size = 50;
  e.layers[1].knobs["readout_noise_rad"] = 0.02;  // the device's noise stream must resume too
  e.train.batch_size = 16;
  return e;
}

std::string expect_invalid(const std::string& text) {
  return what_thrown<std::invalid_argument>([&] { experiment_from_string(text); },
                                            "accepted: " + text);
}

std::string expect_refused(const std::string& text) {
  return what_thrown<CheckpointError>([&] { checkpoint_from_string(text); },
                                      "accepted a bad checkpoint");
}

}  // namespace

TEST(Experiment, RoundTripsThroughJson) {
  Experiment e = noisy_experiment();
  e.train.method = Method::SPSA;
  e.train.optimizer.kind = OptimizerKind::SGD;
  e.train.schedule.kind = Schedule::Kind::Cosine;
  e.train.seed = 0xFFFFFFFFFFFFFFFFull;  // the full 64-bit range survives
  e.train.twin_refresh_every = 25;
  e.layers[1].encoding.scale = 0.5;
  const nlohmann::json j = to_json(e);
  const Experiment back = experiment_from_string(j.dump());
  EXPECT_EQ(to_json(back), j);
  EXPECT_EQ(back.train.method, Method::SPSA);
  EXPECT_EQ(back.train.seed, 0xFFFFFFFFFFFFFFFFull);
  EXPECT_EQ(back.train.twin_refresh_every, 25);
  EXPECT_EQ(back.layers[1].encoding.scale, 0.5);
}

TEST(Experiment, MissingKeysTakeDefaults) {
  const Experiment e = experiment_from_string(R"({"steps": 5})");
  EXPECT_EQ(e.steps, 5);
  EXPECT_EQ(e.data.name, "moons");
  EXPECT_EQ(e.train.method, Method::PAT);
}

TEST(Experiment, BadInputIsAClearErrorNamingTheKey) {
  EXPECT_NE(expect_invalid(R"({"train": {"optimizer": {"learning_rte": 0.1}}})")
                .find("train.optimizer.learning_rte: unknown key"),
            std::string::npos);
  EXPECT_NE(expect_invalid(R"({"train": {"batch_size": "32"}})").find("train.batch_size: expected an integer"),
            std::string::npos);
  EXPECT_NE(expect_invalid(R"({"train": {"method": "magic"}})").find("choose in-silico, pat"),
            std::string::npos);
  EXPECT_NE(expect_invalid(R"({"layers": [{"kind": "physical", "knobs": {"eta": "x"}}]})")
                .find("layers[0].knobs.eta: expected a number"),
            std::string::npos);
  EXPECT_NE(expect_invalid(R"({"layers": [{"kind": "physical", "knobs": {"eta": 7}}]})")
                .find("layers[0].knobs: oscillators: knob 'eta'"),
            std::string::npos);
  EXPECT_NE(expect_invalid(R"({"layers": [{"kind": "physical", "system": "warp"}]})")
                .find("layers[0].system: unknown physical system 'warp'"),
            std::string::npos);
  EXPECT_NE(expect_invalid(R"({"format_version": 99})").find("format 99"), std::string::npos);
  EXPECT_NE(expect_invalid(R"({"steps": 5)").find("not valid JSON"), std::string::npos);
  EXPECT_NE(expect_invalid(R"({"data": {"name": "iris"}})").find("unknown data set 'iris'"),
            std::string::npos);
}

TEST(Experiment, EveryNumberHasARangeAndAValueOutsideItIsNamed) {
  // {file, the key path and range the message must give}
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"train": {"optimizer": {"beta1": 2}}})", "train.optimizer.beta1: 2 is out of range: must be in [0, 1)"},
      {R"({"train": {"optimizer": {"beta2": -5}}})", "train.optimizer.beta2: -5 is out of range"},
      {R"({"train": {"optimizer": {"eps": -1}}})", "train.optimizer.eps: -1 is out of range: must be in (0, 1]"},
      {R"({"train": {"optimizer": {"eps": 0}}})", "train.optimizer.eps: 0 is out of range"},
      {R"({"train": {"optimizer": {"learning_rate": 0}}})", "train.optimizer.learning_rate: 0 is out of range: must be > 0"},
      {R"({"train": {"optimizer": {"momentum": 1}}})", "train.optimizer.momentum: 1 is out of range"},
      {R"({"train": {"range_penalty": -1}})", "train.range_penalty: -1 is out of range: must be >= 0"},
      {R"({"train": {"schedule": {"kind": "cosine", "total_steps": 0}}})", "train.schedule.total_steps: 0 is out of range: must be in [1, 1000000000000]"},
      {R"({"train": {"schedule": {"step_every": 0}}})", "train.schedule.step_every: 0 is out of range"},
      {R"({"train": {"schedule": {"gamma": 0}}})", "train.schedule.gamma: 0 is out of range: must be > 0"},
      {R"({"train": {"schedule": {"min_factor": 2}}})", "train.schedule.min_factor: 2 is out of range: must be in [0, 1]"},
      {R"({"train": {"spsa_samples": 2000000000}})", "train.spsa_samples: 2000000000 is out of range: must be in [1, 1000]"},
      {R"({"train": {"twin_refresh": {"iterations": 2000000000}}})", "train.twin_refresh.iterations: 2000000000 is out of range: must be in [1, 10000]"},
      {R"({"train": {"twin_refresh": {"samples": 0}}})", "train.twin_refresh.samples: 0 is out of range"},
      {R"({"train": {"twin_refresh": {"learning_rate": -0.1}}})", "train.twin_refresh.learning_rate: -0.1 is out of range"},
      {R"({"train": {"batch_size": 0}})", "train.batch_size: 0 is out of range: must be in [1, 1000000]"},
      {R"({"train": {"fd_step": 0}})", "train.fd_step: 0 is out of range"},
      {R"({"train": {"spsa_perturbation": -1}})", "train.spsa_perturbation: -1 is out of range"},
      {R"({"data": {"train_size": 5000000000}})", "data.train_size: 5000000000 is out of range"},
      {R"({"data": {"noise": -0.1}})", "data.noise: -0.1 is out of range"},
      {R"({"steps": 0})", "steps: 0 is out of range: must be in [1, 1000000000000]"},
      {R"({"steps": -5})", "steps: -5 is out of range"},
      {R"({"layers": [{"kind": "affine", "size": 100000}]})", "layers[0].size: 100000 is out of range"},
      {R"({"layers": [{"kind": "affine"}]})", "layers[0].size: an affine layer needs its number of outputs"},
      {R"({"layers": [{"kind": "relu", "size": 4}]})", "layers[0].size: a relu layer keeps its input's width"},
      {R"({"layers": [{"kind": "tanh", "init": 4}]})", "layers[0].init: a tanh layer has no initial value"},
      {R"({"layers": [{"kind": "physical", "encoding": {"scale": 1e9}}]})", "layers[0].encoding.scale: 1000000000 is out of range"},
      {R"({"train": {"seed": -1}})", "train.seed: expected an integer from 0 to 18446744073709551615"},
      {R"({"train": {"seed": 99999999999999999999999}})", "train.seed: expected an integer from 0"},
      {R"({"steps": 1e999})", "experiment: a number is out of range"},
      {R"({"train": {"batch_size": 8, "batch_size": 16}})", "experiment: train: the key 'batch_size' is given twice"},
      {R"({"layers": [{"kind": "relu"}, {"kind": "affine", "size": 2, "kind": "tanh"}]})", "layers[1]: the key 'kind' is given twice"},
      {R"({"steps": 5, "steps": 6})", "experiment: the key 'steps' is given twice"},
      {"{\n  \"steps\": 5,\n  \"name\" \"x\"\n}", "experiment: not valid JSON at line 3, column"},
  };
  for (const auto& [text, want] : cases) {
    const std::string got = expect_invalid(text);
    EXPECT_NE(got.find(want), std::string::npos) << text << "\n  said: " << got << "\n  want: " << want;
    EXPECT_EQ(got.find("json.exception"), std::string::npos) << "the library's own text: " << got;
  }
  // Every default is inside its range, and a file with every key at its default reads back.
  EXPECT_EQ(to_json(experiment_from_json(to_json(default_experiment()))), to_json(default_experiment()));
  EXPECT_EQ(to_json(experiment_from_json(to_json(Experiment()))), to_json(Experiment()));
}

TEST(Experiment, ANetworkThatCannotLearnTheTaskIsRefused) {
  auto build_error = [](const Experiment& e) -> std::string {
    try {
      build_run(e);
    } catch (const std::invalid_argument& err) {
      return err.what();
    }
    return "";
  };
  Experiment e = default_experiment();
  e.layers.back().size = 7;  // a readout of 7 outputs for the 2 classes of moons
  EXPECT_NE(build_error(e).find("layers[2] (affine) is the readout and gives 7 outputs, but moons "
                                "has 2 classes: set its size to 2"),
            std::string::npos)
      << build_error(e);
  e.layers = {LayerSpec()};
  e.layers[0].kind = "relu";
  EXPECT_NE(build_error(e).find("no trainable parameters"), std::string::npos) << build_error(e);
  // A physical last layer gives what its system gives: 8 pendula read as 2 classes is fine.
  e = default_experiment();
  e.layers.pop_back();
  EXPECT_EQ(build_error(e), "");
}

TEST(Experiment, AFingerprintTellsExperimentsApartButNotTheirLength) {
  const Experiment a = default_experiment();
  Experiment b = a;
  b.steps = 5000;
  EXPECT_EQ(experiment_fingerprint(a), experiment_fingerprint(b));
  EXPECT_EQ(experiment_fingerprint(a).size(), 16u);
  b.data.name = "circles";
  b.layers[1].knobs["eta"] = 0.4;
  EXPECT_NE(experiment_fingerprint(a), experiment_fingerprint(b));
  const std::vector<std::string> d = experiment_differences(a, b);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], R"(data.name: "moons" vs "circles")");
  EXPECT_EQ(d[1], "layers[1].knobs.eta: 0.2 vs 0.4");
  b = a;
  b.train.seed = 2;
  EXPECT_NE(experiment_fingerprint(a), experiment_fingerprint(b));
}

TEST(Experiment, UsesVowelsAndDataPacks) {
  Experiment e = default_experiment();
  e.data.name = "vowels";
  e.layers.back().size = 7;
  auto run = build_run(e);
  EXPECT_EQ(run->train.features(), 12);
  EXPECT_EQ(run->train.num_classes, 7);

  e = experiment_from_string(R"({"data": {"name": "digits8", "test_size": 100}})");
  e.layers = default_experiment().layers;
  e.layers.back().size = 10;
  try {
    build_run(e);
    FAIL() << "a pack without the packs folder";
  } catch (const std::invalid_argument& err) {
    EXPECT_NE(std::string(err.what()).find("packs folder"), std::string::npos) << err.what();
  }
  run = build_run(e, PATLAB_PACK_DIR);
  EXPECT_EQ(run->train.features(), 64);
  EXPECT_GT(run->train.size(), 1400);
  EXPECT_EQ(run->test.size(), 100);
}

TEST(Experiment, BuildRunChecksLayerSizes) {
  Experiment e = default_experiment();
  e.layers[1].size = 5;  // 8 pendula cannot give 5 outputs
  try {
    build_run(e);
    FAIL();
  } catch (const std::invalid_argument& err) {
    EXPECT_NE(std::string(err.what()).find("layers[1]"), std::string::npos) << err.what();
  }
}

// The reference architecture (bench/reference.cpp): 64 oscillators, 10 class oscillators at
// rest appended, 74 oscillators, the last 10 kept, a readout scale.
const char* const kReferenceLayers = R"([
  {"kind": "physical", "size": 64, "seed": 1},
  {"kind": "append", "count": 10, "value": 0},
  {"kind": "physical", "size": 74, "seed": 2},
  {"kind": "select", "last": 10},
  {"kind": "readout_scale", "init": 10}])";

TEST(Experiment, AppendAndSelectLayersRoundTripThroughJson) {
  const Experiment e = experiment_from_string(std::string(R"({"layers": [
      {"kind": "affine", "size": 6},
      {"kind": "append", "count": 3, "value": 0.25},
      {"kind": "append", "count": 2},
      {"kind": "select", "first": 2, "count": 5},
      {"kind": "select", "count": 4},
      {"kind": "select", "last": 2}]})"));
  ASSERT_EQ(e.layers.size(), 6u);
  EXPECT_EQ(e.layers[1].count, 3);
  EXPECT_EQ(e.layers[1].value, 0.25);
  EXPECT_EQ(e.layers[2].value, 0.0);  // the default: rows at rest
  EXPECT_EQ(e.layers[3].first, 2);
  EXPECT_EQ(e.layers[3].count, 5);
  EXPECT_FALSE(e.layers[3].last);
  EXPECT_EQ(e.layers[4].first, 0);  // first defaults to 0
  EXPECT_TRUE(e.layers[5].last);
  EXPECT_EQ(e.layers[5].count, 2);
  const nlohmann::json j = to_json(e);
  EXPECT_EQ(j["layers"][1], nlohmann::json::parse(R"({"kind": "append", "count": 3, "value": 0.25})"));
  EXPECT_EQ(j["layers"][3], nlohmann::json::parse(R"({"kind": "select", "first": 2, "count": 5})"));
  EXPECT_EQ(j["layers"][5], nlohmann::json::parse(R"({"kind": "select", "last": 2})"));
  EXPECT_EQ(to_json(experiment_from_json(j)), j);
  // A different selection is a different experiment.
  Experiment other = e;
  other.layers[5].last = false;
  EXPECT_NE(experiment_fingerprint(e), experiment_fingerprint(other));
}

TEST(Experiment, AppendAndSelectRefuseKeysTheyDoNotHave) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"kind": "relu", "count": 3})", "layers[0].count: a relu layer has no count: only append and select layers do"},
      {R"({"kind": "affine", "size": 2, "count": 3})", "layers[0].count: an affine layer has no count"},
      {R"({"kind": "select", "count": 2, "value": 1})", "layers[0].value: a select layer has no value: only append layers do"},
      {R"({"kind": "append", "count": 2, "first": 1})", "layers[0].first: an append layer has no first: only select layers do"},
      {R"({"kind": "physical", "last": 1})", "layers[0].last: a physical layer has no last: only select layers do"},
      {R"({"kind": "append", "count": 2, "init": 1})", "layers[0].init: an append layer has no initial value"},
      {R"({"kind": "append", "count": 2, "size": 4})", "layers[0].size: an append layer adds `count` rows to its input: only affine and physical layers have a size"},
      {R"({"kind": "select", "last": 2, "size": 4})", "layers[0].size: a select layer keeps `count` rows of its input"},
      {R"({"kind": "append"})", "layers[0].count: an append layer needs the number of rows it adds"},
      {R"({"kind": "append", "count": 0})", "layers[0].count: 0 is out of range: must be in [1, 16384]"},
      {R"({"kind": "append", "count": 2.5})", "layers[0].count: expected an integer"},
      {R"({"kind": "append", "count": 2, "value": 1e7})", "layers[0].value: 10000000 is out of range"},
      {R"({"kind": "select"})", "layers[0].count: a select layer needs the number of rows it keeps (count, with first), or last"},
      {R"({"kind": "select", "first": 3})", "layers[0].count: a select layer needs the number of rows it keeps"},
      {R"({"kind": "select", "last": 2, "first": 0})", "layers[0].first: a select layer takes either last, or first and count: not both"},
      {R"({"kind": "select", "last": 2, "count": 2})", "layers[0].count: a select layer takes either last, or first and count"},
      {R"({"kind": "select", "last": 0})", "layers[0].last: 0 is out of range: must be in [1, 16384]"},
      {R"({"kind": "select", "count": 2, "first": -1})", "layers[0].first: -1 is out of range"},
      {R"({"kind": "select", "count": 2, "colour": 1})", "layers[0].colour: unknown key"},
      {R"({"kind": "concat"})", "unknown layer kind 'concat': choose affine, scale_offset, relu, tanh, sigmoid, readout_scale, append, select or physical"},
  };
  for (const auto& [layer, want] : cases) {
    const std::string text = R"({"layers": [)" + layer + "]}";
    const std::string got = expect_invalid(text);
    EXPECT_NE(got.find(want), std::string::npos) << text << "\n  said: " << got << "\n  want: " << want;
  }
}

TEST(Experiment, TheReferenceArchitectureBuildsWithTheWidthsOfItsLayers) {
  const Experiment e = experiment_from_string(
      std::string(R"({"data": {"name": "digits8", "test_size": 50}, "layers": )") + kReferenceLayers + "}");
  auto run = build_run(e, PATLAB_PACK_DIR);
  ASSERT_EQ(run->net.size(), 5);
  const std::vector<std::pair<std::string, std::pair<int, int>>> want = {
      {"physical", {64, 64}}, {"append", {64, 74}}, {"physical", {74, 74}},
      {"select", {74, 10}}, {"readout_scale", {10, 10}}};
  for (int i = 0; i < 5; ++i) {
    const Layer& l = run->net.layer(i);
    EXPECT_EQ(l.kind(), want[i].first) << i;
    EXPECT_EQ(std::make_pair(l.input_size(), l.output_size()), want[i].second) << i;
  }
  ASSERT_EQ(run->devices.size(), 2u);
  EXPECT_EQ(run->devices[1]->input_size(), 74);  // the physical layer after append sees 74 inputs
  // The select layer keeps rows 64 to 73: the appended class oscillators.
  EXPECT_EQ(dynamic_cast<const SelectLayer&>(run->net.layer(3)).first(), 64);
  const Mat y = run->net.forward(run->test.x, Pass::Twin);
  EXPECT_EQ(y.rows(), 10);
  EXPECT_EQ(y.cols(), 50);
  // Only the physical layers and α have parameters.
  EXPECT_EQ(run->net.layer(1).params().size() + run->net.layer(3).params().size(), 0);
  EXPECT_EQ(run->net.layer(4).params().size(), 1);
}

TEST(Experiment, ASelectionOutsideItsInputIsRefusedNamingTheLayer) {
  auto build_error = [](const std::string& layers) -> std::string {
    const Experiment e = experiment_from_string(R"({"layers": )" + layers + "}");
    return what_thrown<std::invalid_argument>([&] { build_run(e); }, "built: " + layers);
  };
  const std::string osc = R"({"kind": "affine", "size": 8}, {"kind": "physical"}, )";
  EXPECT_NE(build_error("[" + osc + R"({"kind": "select", "first": 6, "count": 4}])")
                .find("experiment: layers[2] (select): asks for rows 6 to 9, but its input has 8 rows (0 to 7)"),
            std::string::npos)
      << build_error("[" + osc + R"({"kind": "select", "first": 6, "count": 4}])");
  EXPECT_NE(build_error("[" + osc + R"({"kind": "select", "last": 9}])")
                .find("experiment: layers[2] (select): asks for the last 9 rows, but its input has 8 rows"),
            std::string::npos);
  EXPECT_NE(build_error(R"([{"kind": "affine", "size": 16000}, {"kind": "append", "count": 1000}, )"
                        R"({"kind": "affine", "size": 2}])")
                .find("experiment: layers[1] (append): 16000 inputs + 1000 rows would be more than 16384 outputs"),
            std::string::npos);
  // The last 2 of 8 pendula are the 2 classes of moons: a select ends the network like a
  // physical layer (no readout-size rule for the affine layer before it).
  const Experiment e = experiment_from_string(
      R"({"layers": [{"kind": "affine", "size": 8}, {"kind": "physical"}, {"kind": "affine", "size": 8},)"
      R"( {"kind": "select", "last": 2}]})");
  EXPECT_EQ(build_run(e)->net.output_size(), 2);
}

TEST(Experiment, ADeviceFactoryReplacesEachPhysicalLayersEmulator) {
  // Two physical layers: the factory is asked for each in order, with the catalog's instance
  // for its shape; the layer runs on what it returns and keeps the catalog's twin and θ0.
  Experiment e = default_experiment();
  e.data.train_size = 40;
  LayerSpec second = e.layers[1];
  second.seed = 7;
  e.layers.insert(e.layers.begin() + 2, second);
  std::vector<int> asked;
  std::vector<std::shared_ptr<PhysicalSystem>> made;
  const auto factory = [&](const LayerSpec& l, int index, const SystemInstance& sys) {
    asked.push_back(index);
    EXPECT_EQ(l.system, "oscillators");
    // Another emulator of the same system and shape, as a serial device would be.
    SystemInstance other = make_system(l.system, Shape{sys.device->input_size(), l.size}, l.knobs,
                                       l.seed + 100);
    made.push_back(other.device);
    return other.device;
  };
  auto run = build_run(e, "", factory);
  EXPECT_EQ(asked, (std::vector<int>{0, 1}));
  ASSERT_EQ(run->devices.size(), 2u);
  const std::vector<PhysicalLayer*> layers = run->net.physical_layers();
  ASSERT_EQ(layers.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(run->devices[i], made[i]);
    EXPECT_EQ(&layers[i]->device(), made[i].get());
  }
  // Without a factory, the same experiment starts from the same parameters on the emulators.
  auto plain = build_run(e);
  EXPECT_EQ(plain->net.get_params(), run->net.get_params());
  EXPECT_NE(plain->devices[0], made[0]);
}

TEST(Experiment, TheDefaultTrainsAboveChance) {
  auto run = build_run(default_experiment());
  for (long long i = 0; i < run->experiment.steps; ++i) run->trainer->step();
  EXPECT_GT(run->trainer->evaluate(run->test, Pass::Device).accuracy, 0.9);
}

TEST(Checkpoint, ResumingGivesTheSameTrajectoryAsAnUninterruptedRun) {
  const Experiment e = noisy_experiment();
  auto whole = build_run(e);
  std::vector<double> losses_whole;
  for (int i = 0; i < 30; ++i) losses_whole.push_back(whole->trainer->step().loss);

  auto first = build_run(e);
  std::vector<double> losses;
  for (int i = 0; i < 13; ++i) losses.push_back(first->trainer->step().loss);
  const std::string path = testing::TempDir() + "patlab_resume_test.ckpt";
  save_checkpoint_file(path, capture(*first));
  first.reset();  // nothing survives but the file

  const Checkpoint c = load_checkpoint_file(path);
  auto second = build_run(c.experiment);
  restore(*second, c);
  for (int i = 13; i < 30; ++i) losses.push_back(second->trainer->step().loss);
  std::remove(path.c_str());

  EXPECT_EQ(losses, losses_whole);
  EXPECT_EQ(second->net.get_params(), whole->net.get_params());
  EXPECT_EQ(second->net.device_queries(), whole->net.device_queries());
}

TEST(Checkpoint, ResumingARunThatRefreshesItsTwinIsExactToo) {
  Experiment e = noisy_experiment();
  e.layers[1].knobs["eta"] = 0.3;
  e.train.twin_refresh_every = 5;
  e.train.twin_refresh_iterations = 5;
  e.train.twin_refresh_samples = 64;
  auto whole = build_run(e);
  for (int i = 0; i < 24; ++i) whole->trainer->step();

  auto first = build_run(e);
  for (int i = 0; i < 12; ++i) first->trainer->step();
  const std::string text = checkpoint_to_string(capture(*first));
  const Checkpoint c = checkpoint_from_string(text);
  ASSERT_EQ(c.twins.size(), 1u);
  EXPECT_NE(c.twins[0][0], 0.0) << "the twin's eta was refitted before the checkpoint";
  auto second = build_run(c.experiment);
  restore(*second, c);
  for (int i = 12; i < 24; ++i) second->trainer->step();
  EXPECT_EQ(second->net.get_params(), whole->net.get_params());
}

TEST(Checkpoint, DamagedOrForeignFilesAreRefusedWithAClearMessage) {
  auto run = build_run(noisy_experiment());
  for (int i = 0; i < 3; ++i) run->trainer->step();
  const std::string good = checkpoint_to_string(capture(*run));
  ASSERT_NO_THROW(checkpoint_from_string(good));

  EXPECT_NE(expect_refused("").find("empty"), std::string::npos);
  EXPECT_NE(expect_refused(good.substr(0, good.size() / 2)).find("not valid JSON"), std::string::npos);
  EXPECT_NE(expect_refused(R"({"hello": 1})").find("not a patlab checkpoint"), std::string::npos);

  // Change one digit of one parameter: still valid JSON, but the checksum catches it.
  std::string flipped = good;
  const size_t at = flipped.find("\"params\"");
  ASSERT_NE(at, std::string::npos);
  size_t d = flipped.find_first_of("123456789", at);
  flipped[d] = flipped[d] == '9' ? '8' : char(flipped[d] + 1);
  EXPECT_NE(expect_refused(flipped).find("checksum mismatch"), std::string::npos);

  nlohmann::json newer = nlohmann::json::parse(good);
  newer["version"] = 2;
  EXPECT_NE(expect_refused(newer.dump()).find("format version 2"), std::string::npos);

  try {
    load_checkpoint_file(testing::TempDir() + "no_such_patlab_checkpoint");
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos);
  }
}

TEST(Checkpoint, RestoringIntoADifferentNetworkIsRefused) {
  auto run = build_run(noisy_experiment());
  const Checkpoint c = capture(*run);
  Experiment other = noisy_experiment();
  other.layers[0].size = 4;  // 4 oscillators follow
  auto different = build_run(other);
  EXPECT_THROW(restore(*different, c), CheckpointError);
}

TEST(Checkpoint, ACheckpointThatCouldNotBeResumedNeverReplacesOneThatCan) {
  auto run = build_run(noisy_experiment());
  run->trainer->step();
  const std::string path = testing::TempDir() + "patlab_nonfinite.ckpt";
  save_checkpoint_file(path, capture(*run));
  const std::string good = checkpoint_to_string(load_checkpoint_file(path));
  Checkpoint bad = capture(*run);
  bad.params[3] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(save_checkpoint_file(path, bad), CheckpointError);
  bad = capture(*run);
  bad.trainer.optimizer.v[0][0] = std::numeric_limits<double>::infinity();
  EXPECT_THROW(save_checkpoint_file(path, bad), CheckpointError);
  EXPECT_EQ(checkpoint_to_string(load_checkpoint_file(path)), good);
  std::remove(path.c_str());
}

TEST(Checkpoint, AFailedSaveLeavesThePreviousFileIntact) {
  auto run = build_run(noisy_experiment());
  const std::string path = testing::TempDir() + "patlab_atomic_test.ckpt";
  save_checkpoint_file(path, capture(*run));
  run->trainer->step();
  // A directory where the temporary file should go makes the write fail.
  EXPECT_THROW(save_checkpoint_file(testing::TempDir() + "no_such_dir/x.ckpt", capture(*run)),
               CheckpointError);
  EXPECT_NO_THROW(load_checkpoint_file(path));
  EXPECT_EQ(load_checkpoint_file(path).trainer.steps, 0);
  std::remove(path.c_str());
}

}  // namespace patlab
