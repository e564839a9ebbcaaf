// experiment/src/checkpoint.cpp: checkpoints, which resume a run on the very same trajectory.
// capture() and restore() move the state between a Run and a Checkpoint; the file is JSON with
// a format name, a version and a checksum, written atomically and read strictly, so a damaged,
// truncated or foreign file is refused with a CheckpointError saying what is wrong.
#include <cstdint>
#include <cstdio>
#include <fstream>

#include "patlab/experiment/experiment.h"

namespace patlab {

using nlohmann::json;

namespace {

constexpr const char* kCheckpointMagic = "patlab-checkpoint";
constexpr int kCheckpointVersion = 1;

json vec_json(const Vec& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

Vec json_vec(const json& j, const char* what) {
  if (!j.is_array()) throw CheckpointError(std::string("checkpoint: ") + what + " is not an array");
  Vec v(Eigen::Index(j.size()));
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_number()) throw CheckpointError(std::string("checkpoint: ") + what + " holds a non-number");
    v[Eigen::Index(i)] = j[i].get<double>();
  }
  return v;
}

// Whole numbers of a checkpoint, read strictly: a float where an integer belongs (1e20 for an
// epoch) or a value beyond the field's type is damage, not something to cast.
long long whole(const json& j, long long lo, long long hi, const char* what) {
  if (!j.is_number_integer())
    throw CheckpointError(std::string("checkpoint: ") + what + " is not a whole number");
  if (j.is_number_unsigned() ? j.get<uint64_t>() > uint64_t(hi) : j.get<long long>() < lo || j.get<long long>() > hi)
    throw CheckpointError(std::string("checkpoint: ") + what + " is out of range");
  return j.get<long long>();
}

uint64_t word(const json& j, const char* what) {
  if (!j.is_number_unsigned())
    throw CheckpointError(std::string("checkpoint: ") + what + " holds a value that is not a 64-bit word");
  return j.get<uint64_t>();
}

const json& array_at(const json& j, const char* key, const char* what) {
  const json& a = j.at(key);
  if (!a.is_array()) throw CheckpointError(std::string("checkpoint: ") + what + " is not an array");
  return a;
}

}  // namespace

Checkpoint capture(const Run& run) {
  Checkpoint c;
  c.experiment = run.experiment;
  c.params = run.net.get_params();
  c.trainer = run.trainer->save_state();
  for (const auto& d : run.devices) c.devices.push_back(d->save_state());
  if (run.experiment.train.twin_refresh_every > 0)
    for (PhysicalLayer* l : const_cast<Network&>(run.net).physical_layers()) {
      auto* f = dynamic_cast<const FittableTwin*>(&l->twin());
      c.twins.push_back(f ? f->fitted_state() : Vec());
      c.recorded.push_back(l->recorded());
    }
  return c;
}

void restore(Run& run, const Checkpoint& c) {
  if (c.params.size() != run.net.param_count())
    throw CheckpointError("checkpoint: it holds " + std::to_string(c.params.size()) +
                          " parameters but the network has " + std::to_string(run.net.param_count()));
  if (c.devices.size() != run.devices.size())
    throw CheckpointError("checkpoint: it holds the state of " + std::to_string(c.devices.size()) +
                          " devices but the network has " + std::to_string(run.devices.size()));
  if (!c.params.allFinite()) throw CheckpointError("checkpoint: parameters contain NaN or Inf");
  for (size_t i = 0; i < c.trainer.optimizer.m.size(); ++i)
    if (!c.trainer.optimizer.m[i].allFinite() ||
        (i < c.trainer.optimizer.v.size() && !c.trainer.optimizer.v[i].allFinite()))
      throw CheckpointError("checkpoint: the optimiser state contains NaN or Inf");
  const auto layers = run.net.physical_layers();
  if (!c.twins.empty() && (c.twins.size() != layers.size() || c.recorded.size() != layers.size()))
    throw CheckpointError("checkpoint: twin states do not match the physical layers");
  try {
    run.trainer->load_state(c.trainer);
    for (size_t i = 0; i < c.devices.size(); ++i) run.devices[i]->load_state(c.devices[i]);
    for (size_t i = 0; i < c.twins.size(); ++i) {
      if (auto* f = dynamic_cast<FittableTwin*>(&layers[i]->twin())) f->set_fitted_state(c.twins[i]);
      const DeviceSamples& r = c.recorded[i];
      if (r.size() && (r.x.rows() != layers[i]->device().input_size() ||
                       r.theta.rows() != layers[i]->device().param_size() ||
                       r.y.rows() != layers[i]->device().output_size()))
        throw CheckpointError("checkpoint: recorded samples do not fit physical layer " + std::to_string(i));
      layers[i]->set_recorded(r);
    }
  } catch (const std::invalid_argument& e) {
    throw CheckpointError(std::string("checkpoint: ") + e.what());
  }
  run.net.set_params(c.params);
}

std::string checkpoint_to_string(const Checkpoint& c) {
  json p;
  p["experiment"] = to_json(c.experiment);
  p["params"] = vec_json(c.params);
  json t;
  t["steps"] = c.trainer.steps;
  t["epoch"] = c.trainer.epoch;
  t["cursor"] = c.trainer.cursor;
  t["order"] = c.trainer.order;
  t["rng"] = c.trainer.rng;
  t["optimizer"]["t"] = c.trainer.optimizer.t;
  t["optimizer"]["m"] = json::array();
  t["optimizer"]["v"] = json::array();
  for (size_t i = 0; i < c.trainer.optimizer.m.size(); ++i) {
    t["optimizer"]["m"].push_back(vec_json(c.trainer.optimizer.m[i]));
    t["optimizer"]["v"].push_back(vec_json(c.trainer.optimizer.v[i]));
  }
  p["trainer"] = t;
  p["devices"] = c.devices;
  p["twins"] = json::array();
  for (size_t i = 0; i < c.twins.size(); ++i) {
    const DeviceSamples& r = c.recorded[i];
    auto mat = [](const Mat& m) {
      return json{{"rows", m.rows()}, {"data", std::vector<double>(m.data(), m.data() + m.size())}};
    };
    p["twins"].push_back({{"state", vec_json(c.twins[i])},
                          {"recorded", {{"x", mat(r.x)}, {"theta", mat(r.theta)}, {"y", mat(r.y)}}}});
  }
  const std::string payload = p.dump();
  json file = {{"format", kCheckpointMagic},
               {"version", kCheckpointVersion},
               {"checksum", hex16(fnv1a64(payload))},
               {"payload", p}};
  return file.dump(1);
}


Checkpoint checkpoint_from_string(const std::string& text) {
  json file;
  try {
    file = json::parse(text);
  } catch (const json::exception&) {  // parse_error, or out_of_range for a number like 1e400
    throw CheckpointError(text.empty() ? "checkpoint: the file is empty"
                                       : "checkpoint: the file is not valid JSON (truncated or damaged)");
  }
  if (!file.is_object() || !file.contains("format") || !file["format"].is_string() ||
      file["format"].get<std::string>() != kCheckpointMagic)
    throw CheckpointError("checkpoint: this is not a patlab checkpoint");
  if (!file.contains("version") || !file["version"].is_number_integer())
    throw CheckpointError("checkpoint: the format version is missing");
  if (file["version"] != kCheckpointVersion)
    throw CheckpointError("checkpoint: format version " + file["version"].dump() +
                          " is not readable by this patlab (it reads version " +
                          std::to_string(kCheckpointVersion) + ")");
  if (!file.contains("payload") || !file.contains("checksum"))
    throw CheckpointError("checkpoint: payload or checksum missing");
  const json& p = file["payload"];
  if (file["checksum"] != hex16(fnv1a64(p.dump())))
    throw CheckpointError("checkpoint: checksum mismatch: the file was changed or damaged");

  Checkpoint c;
  try {
    c.experiment = experiment_from_json(p.at("experiment"));
    c.params = json_vec(p.at("params"), "params");
    const json& t = p.at("trainer");
    constexpr long long kInt = INT32_MAX, kLong = INT64_MAX;
    c.trainer.steps = whole(t.at("steps"), 0, kLong, "trainer.steps");
    c.trainer.epoch = int(whole(t.at("epoch"), 0, kInt, "trainer.epoch"));
    c.trainer.cursor = int(whole(t.at("cursor"), 0, kInt, "trainer.cursor"));
    for (const json& i : array_at(t, "order", "trainer.order"))
      c.trainer.order.push_back(int(whole(i, 0, kInt, "trainer.order")));
    const json& rng = array_at(t, "rng", "trainer.rng");
    if (rng.size() != c.trainer.rng.size()) throw CheckpointError("checkpoint: trainer.rng has the wrong size");
    for (size_t i = 0; i < rng.size(); ++i) c.trainer.rng[i] = word(rng[i], "trainer.rng");
    c.trainer.optimizer.t = whole(t.at("optimizer").at("t"), 0, kLong, "optimizer.t");
    const json& m = array_at(t.at("optimizer"), "m", "optimizer.m");
    const json& v = array_at(t.at("optimizer"), "v", "optimizer.v");
    if (m.size() != v.size()) throw CheckpointError("checkpoint: optimiser moments differ in length");
    for (size_t i = 0; i < m.size(); ++i) {
      c.trainer.optimizer.m.push_back(json_vec(m[i], "optimizer.m"));
      c.trainer.optimizer.v.push_back(json_vec(v[i], "optimizer.v"));
    }
    for (const json& d : array_at(p, "devices", "devices")) {
      if (!d.is_array()) throw CheckpointError("checkpoint: a device state is not an array");
      std::vector<uint64_t> words;
      for (const json& w : d) words.push_back(word(w, "a device state"));
      c.devices.push_back(std::move(words));
    }
    if (p.contains("twins")) {
      auto mat = [](const json& mj, Eigen::Index cols) {
        const Eigen::Index rows = Eigen::Index(whole(mj.at("rows"), 0, INT32_MAX, "twins.recorded.rows"));
        const Vec data = json_vec(mj.at("data"), "twins.recorded");
        if (data.size() != rows * cols) throw CheckpointError("checkpoint: recorded samples have a bad size");
        return Mat(Eigen::Map<const Mat>(data.data(), rows, cols));
      };
      for (const json& twin : array_at(p, "twins", "twins")) {
        c.twins.push_back(json_vec(twin.at("state"), "twins.state"));
        const json& r = twin.at("recorded");
        const Eigen::Index x_rows = Eigen::Index(whole(r.at("x").at("rows"), 0, INT32_MAX, "twins.recorded.rows"));
        const Eigen::Index n = x_rows ? Eigen::Index(array_at(r.at("x"), "data", "twins.recorded").size()) / x_rows : 0;
        c.recorded.push_back({mat(r.at("x"), n), mat(r.at("theta"), n), mat(r.at("y"), n)});
      }
    }
  } catch (const json::exception& e) {
    throw CheckpointError(std::string("checkpoint: malformed contents (") + e.what() + ")");
  } catch (const std::invalid_argument& e) {
    throw CheckpointError(std::string("checkpoint: its experiment is invalid: ") + e.what());
  }
  return c;
}

void save_checkpoint_file(const std::string& path, const Checkpoint& c) {
  // A checkpoint that could not be resumed must never replace one that can.
  bool finite = c.params.allFinite();
  for (size_t i = 0; i < c.trainer.optimizer.m.size(); ++i)
    finite = finite && c.trainer.optimizer.m[i].allFinite() && c.trainer.optimizer.v[i].allFinite();
  for (const Vec& t : c.twins) finite = finite && t.allFinite();
  if (!finite)
    throw CheckpointError("checkpoint: refusing to write " + path +
                          ": its parameters, optimiser state or twins hold NaN or Inf (the "
                          "previous checkpoint, if any, is kept)");
  const std::string text = checkpoint_to_string(c);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw CheckpointError("checkpoint: cannot write " + tmp);
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw CheckpointError("checkpoint: writing " + tmp + " failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw CheckpointError("checkpoint: cannot replace " + path);
  }
}

Checkpoint load_checkpoint_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError("checkpoint: cannot open " + path);
  // Read in pieces up to the limit: a device file such as /dev/zero has no size to ask for.
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, size_t(in.gcount()));
    // A checkpoint is a JSON object: anything else (/dev/zero, a binary file) is refused at
    // once, not read up to the limit.
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] != '{')
      throw CheckpointError(path + ": checkpoint: this is not a patlab checkpoint");
    if (text.size() > limits::kMaxCheckpointBytes)
      throw CheckpointError(path + ": checkpoint: larger than " +
                            std::to_string(limits::kMaxCheckpointBytes >> 20) +
                            " MiB: not a patlab checkpoint");
  }
  try {
    return checkpoint_from_string(text);
  } catch (const CheckpointError& e) {
    throw CheckpointError(path + ": " + e.what());
  }
}

}  // namespace patlab
