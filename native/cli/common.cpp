// native/cli/common.cpp: run building (in-process or over serial ports), files, parsing.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cli.h"
#include "patlab/core/layer.h"
#include "patlab/core/twin_learning.h"
#include "patlab/devices/registry.h"
#include "patlab/emulators/catalog.h"

namespace patlab::cli {

volatile std::sig_atomic_t g_stop = 0;

namespace {
void on_stop(int) { g_stop = 1; }
}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_stop);
  std::signal(SIGTERM, on_stop);
}

void add_run_options(CLI::App& cmd, RunOptions& o, bool with_devices) {
  cmd.add_option(
      "--data-dir", o.data_dir,
      "Folder of the data packs (digits8, mnist14, fashion14, mnist, fashion); default: $PATLAB_DATA_DIR, "
      "else the build's data folder");
  if (!with_devices) return;
  cmd.add_option(
      "--device", o.device_paths,
      "Device of a physical layer (repeat once per physical layer, in layer order): a serial "
      "port, e.g. /dev/ttyUSB0 or the path `patlab device-sim` prints (also serial:PATH), or "
      "emulated:SYSTEM. Default: in-process emulation");
  // The serial settings: --help shows each one's default.
  auto setting = [&](const std::string& name, auto& value, const std::string& help) {
    cmd.add_option(name, value, help)->capture_default_str();
  };
  setting("--baud", o.serial.baud, "Serial baud rate (a standard rate, 300 to 4000000)");
  setting("--format", o.serial_format,
          "Sample format on the wire: auto, f32, q16, f64 (f64 is lossless)");
  setting("--timeout", o.serial.timeout_s,
          "Seconds to wait for a reply, on top of the time on the wire (above 0, at most 3600)");
  setting("--retries", o.serial.retries, "Re-sends of an unanswered request (0 to 100)");
  setting("--device-wait", o.device_wait_s,
          "Seconds to keep retrying a device that has gone away before giving up (a checkpoint "
          "is kept; 0 to 1000000)");
}

CLI::App* add_command(CLI::App& parent, const std::string& name, const std::string& about,
                      const std::string& footer) {
  CLI::App* c = parent.add_subcommand(name, about);
  c->footer(footer);
  return c;
}

namespace {
// Limits of the serial options: beyond them a value is a mistake (a wait of years, a duration
// the clock cannot hold), not a setting.
constexpr double kMaxTimeoutS = 3600.0, kMaxDeviceWaitS = 1e6;
constexpr int kMaxRetries = 100;

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}
}  // namespace

void check_run_options(const RunOptions& o) {
  const LinkOptions& s = o.serial;
  if (!is_standard_baud_rate(s.baud)) {
    std::string rates;
    for (int r : standard_baud_rates()) rates += (rates.empty() ? "" : ", ") + std::to_string(r);
    throw UsageError("--baud " + std::to_string(s.baud) +
                     ": not a serial port rate; choose one of " + rates);
  }
  if (!(std::isfinite(s.timeout_s) && s.timeout_s > 0.0 && s.timeout_s <= kMaxTimeoutS))
    throw UsageError("--timeout " + number(s.timeout_s) + ": give seconds above 0, at most " +
                     number(kMaxTimeoutS));
  if (s.retries < 0 || s.retries > kMaxRetries)
    throw UsageError("--retries " + std::to_string(s.retries) + ": give 0 to " +
                     std::to_string(kMaxRetries));
  if (!(std::isfinite(o.device_wait_s) && o.device_wait_s >= 0.0 &&
        o.device_wait_s <= kMaxDeviceWaitS))
    throw UsageError("--device-wait " + number(o.device_wait_s) + ": give seconds from 0 to " +
                     number(kMaxDeviceWaitS));
  try {
    sample_format_from_name(o.serial_format);
  } catch (const std::invalid_argument& err) {
    throw UsageError(std::string("--format: ") + err.what());
  }
}

std::string pack_dir(const RunOptions& o) {
  if (!o.data_dir.empty()) return o.data_dir;
  if (const char* env = std::getenv("PATLAB_DATA_DIR"); env && *env) return env;
  return PATLAB_DEFAULT_PACK_DIR;
}

LinkOptions link_options(const RunOptions& o) {
  LinkOptions so = o.serial;
  try {
    so.format = sample_format_from_name(o.serial_format);
  } catch (const std::invalid_argument& err) {
    throw UsageError(std::string("--format: ") + err.what());
  }
  return so;
}

std::shared_ptr<PhysicalSystem> open_device(const RunOptions& o, const std::string& spec,
                                            const std::function<std::shared_ptr<PhysicalSystem>()>& open) {
  try {
    parse_device_spec(spec);
  } catch (const std::invalid_argument& err) {
    throw UsageError(std::string("--device: ") + err.what());
  }
  std::shared_ptr<PhysicalSystem> dev;
  // A device that is not there yet (still booting, being replugged) is waited for like one
  // that goes away during training.
  if (!with_device_retries(o, [&] { dev = open(); }))
    throw std::runtime_error("stopped while waiting for the device " + parse_device_spec(spec).where());
  return dev;
}

std::unique_ptr<Run> make_run(const Experiment& e, const RunOptions& o) {
  check_run_options(o);
  DeviceFactory devices;
  if (!o.device_paths.empty()) {
    int physical = 0;
    for (const LayerSpec& l : e.layers) physical += l.kind == "physical";
    if (int(o.device_paths.size()) != physical)
      throw UsageError("--device given " + std::to_string(o.device_paths.size()) +
                       " times, but the experiment has " + std::to_string(physical) +
                       " physical layers: give one device per physical layer, in layer order");
    const LinkOptions so = link_options(o);
    // Each physical layer on the device given for it, in layer order, with the catalog's twin
    // and starting parameters for the system and shape the device must be.
    devices = [&o, so](const LayerSpec&, int index, const SystemInstance& sys) {
      const std::string& spec = o.device_paths[size_t(index)];
      static const DeviceRegistry registry;
      return open_device(o, spec, [&] { return registry.open_for_layer(spec, sys.device, index, so); });
    };
  }
  try {
    return build_run(e, pack_dir(o), devices);
  } catch (const std::invalid_argument& err) {
    throw UsageError(err.what());
  }
}

void apply_twins(Run& run, const Experiment& e, const std::vector<nlohmann::json>& twins) {
  if (twins.empty()) return;
  const std::vector<PhysicalLayer*> layers = run.net.physical_layers();
  if (twins.size() != layers.size())
    throw UsageError("--twin given " + std::to_string(twins.size()) +
                     " times, but the experiment has " + std::to_string(layers.size()) +
                     " physical layers: give one twin file per physical layer");
  std::vector<const LayerSpec*> specs;
  for (const LayerSpec& l : e.layers)
    if (l.kind == "physical") specs.push_back(&l);
  for (size_t i = 0; i < layers.size(); ++i) {
    const nlohmann::json& t = twins[i];
    PhysicalLayer& layer = *layers[i];
    const std::string where = "twin for physical layer " + std::to_string(i);
    try {
      const std::string system = t.at("system").get<std::string>();
      if (system != specs[i]->system || t.at("inputs").get<int>() != layer.device().input_size() ||
          t.at("parameters").get<int>() != layer.device().param_size() ||
          t.at("outputs").get<int>() != layer.device().output_size())
        throw UsageError(where + ": it was fitted to '" + system +
                         "' of another shape than the layer's '" + specs[i]->system +
                         "': fit it to this layer's device");
      const std::vector<double> st = t.at("state").get<std::vector<double>>();
      const Vec state = Eigen::Map<const Vec>(st.data(), Eigen::Index(st.size()));
      const std::string kind = t.at("kind").get<std::string>();
      if (kind == "calibrated") {
        auto* f = dynamic_cast<FittableTwin*>(&layer.twin());
        if (!f) throw UsageError(where + ": the layer's twin cannot be calibrated");
        f->set_fitted_state(state);
      } else if (kind == "mlp-residual" || kind == "mlp") {
        // The correction sits on a fresh nominal twin, as fit-twin fitted it.
        const LayerSpec& l = *specs[i];
        SystemInstance nominal =
            make_system(l.system, Shape{layer.device().input_size(), l.size}, l.knobs, l.seed);
        Rng rng(1);
        auto mlp = std::make_shared<MlpTwin>(
            layer.device().input_size(), layer.device().param_size(), layer.device().output_size(),
            t.at("mlp_hidden").get<std::vector<int>>(), rng,
            kind == "mlp" ? nullptr : nominal.twin);
        mlp->set_fitted_state(state);
        layer.set_twin(mlp);
      } else {
        throw UsageError(where + ": unknown kind '" + kind + "'");
      }
    } catch (const nlohmann::json::exception& err) {
      throw UsageError(where + ": not a file written by `patlab fit-twin` (" + err.what() + ")");
    } catch (const std::invalid_argument& err) {
      throw UsageError(where + ": " + err.what());
    }
  }
}

std::string read_text(const std::string& path, size_t max_bytes) {
  if (is_dir(path)) throw UsageError("cannot read " + path + ": it is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + path + ": " + std::strerror(errno));
  // In pieces up to the limit: /dev/zero or a FIFO has no size to ask for first.
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, size_t(in.gcount()));
    if (text.size() > max_bytes)
      throw UsageError(path + ": larger than " +
                       (max_bytes >= (1u << 20) ? std::to_string(max_bytes >> 20) + " MiB"
                                                : std::to_string(max_bytes) + " bytes") +
                       ", more than such a file can be: is it the right file?");
  }
  if (in.bad()) throw UsageError("cannot read " + path + ": " + std::strerror(errno));
  return text;
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(path.c_str())) {
    while (const dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.push_back(e->d_name);
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Experiment read_experiment_file(const std::string& path) {
  const std::string text = read_text(path, limits::kMaxExperimentBytes);
  try {
    return experiment_from_string(text);
  } catch (const std::exception& err) {
    throw UsageError(path + ": " + err.what());
  }
}

void write_text_atomic(const std::string& path, const std::string& text) {
  // Same discipline as checkpoints: a reader never sees half a file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void make_dirs(const std::string& path) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && !is_dir(cur) && ::mkdir(cur.c_str(), 0777) != 0 && errno != EEXIST)
        throw std::runtime_error("cannot create folder " + cur + ": " + std::strerror(errno));
    }
    if (i < path.size()) cur += path[i];
  }
}

double parse_double(const std::string& s, const std::string& what) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno == ERANGE)
    throw UsageError(what + ": '" + s + "' is not a number");
  return v;
}

std::vector<double> parse_double_list(const std::string& s, const std::string& what) {
  std::vector<double> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(parse_double(item, what));
  if (out.empty()) throw UsageError(what + ": expected a comma-separated list of numbers");
  return out;
}

std::vector<uint64_t> parse_int_list(const std::string& s, const std::string& what) {
  std::vector<uint64_t> out;
  std::stringstream ss(s);
  std::string item;
  auto to_u = [&](const std::string& t) {
    char* end = nullptr;
    if (t.empty() || t[0] == '-')
      throw UsageError(what + ": '" + t + "' is not a non-negative integer");
    const unsigned long long v = std::strtoull(t.c_str(), &end, 10);
    if (*end != '\0') throw UsageError(what + ": '" + t + "' is not a non-negative integer");
    return uint64_t(v);
  };
  while (std::getline(ss, item, ',')) {
    const size_t dash = item.find('-', 1);
    if (dash == std::string::npos) {
      out.push_back(to_u(item));
    } else {
      const uint64_t a = to_u(item.substr(0, dash)), b = to_u(item.substr(dash + 1));
      if (b < a || b - a > 100000)
        throw UsageError(what + ": bad range '" + item + "' (write e.g. 1-5)");
      for (uint64_t v = a; v <= b; ++v) out.push_back(v);
    }
  }
  if (out.empty()) throw UsageError(what + ": expected e.g. 1-3 or 1,2,7");
  return out;
}

void apply_knob(Experiment& e, const std::string& key, double value) {
  bool any = false;
  for (LayerSpec& l : e.layers) {
    if (l.kind != "physical") continue;
    any = true;
    const SystemInfo& info = find_system(l.system).info;
    KnobValues k = l.knobs;
    k[key] = value;
    try {
      info.complete(k);
    } catch (const std::invalid_argument& err) {
      throw UsageError(std::string("--knob ") + key + ": " + err.what() + " (`patlab systems " +
                       l.system + "` lists its knobs and ranges)");
    }
    l.knobs[key] = value;
  }
  if (!any) throw UsageError("--knob " + key + ": the experiment has no physical layer");
}

}  // namespace patlab::cli
