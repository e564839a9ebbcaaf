// native/cli/device_commands.cpp: `patlab device-sim`, `devices`, `systems` and `fit-twin`.
#include <glob.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli.h"
#include "patlab/core/twin_learning.h"
#include "patlab/devices/device_server.h"
#include "patlab/devices/registry.h"
#include "patlab/emulators/catalog.h"

namespace patlab::cli {

namespace {

std::vector<std::string> glob_paths(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.push_back(g.gl_pathv[i]);
  ::globfree(&g);
  return out;
}

KnobValues parse_knobs(const std::vector<std::string>& flags) {
  KnobValues k;
  for (const std::string& kv : flags) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos)
      throw UsageError("--knob " + kv + ": write KEY=VALUE, e.g. --knob eta=0.3");
    k[kv.substr(0, eq)] = parse_double(kv.substr(eq + 1), "--knob " + kv);
  }
  return k;
}

// "drop-reply", "disconnect@40:2" (after 40 requests, gone for 2 s), "garbage@5". AFTER is a
// whole number of requests, SECONDS a finite time (delay and disconnect only).
Fault parse_fault(const std::string& spec) {
  const Fault::Kind kinds[] = {Fault::Kind::Garbage,   Fault::Kind::DropRequest,
                               Fault::Kind::DropReply, Fault::Kind::CorruptChecksum,
                               Fault::Kind::Delay,     Fault::Kind::Disconnect};
  std::string name = spec, rest;
  const size_t at = spec.find_first_of("@:");
  if (at != std::string::npos) {
    name = spec.substr(0, at);
    rest = spec.substr(at);
  }
  Fault f;
  bool found = false;
  std::string names;
  for (Fault::Kind k : kinds) {
    names += std::string(names.empty() ? "" : ", ") + fault_name(k);
    if (name == fault_name(k)) {
      f.kind = k;
      found = true;
    }
  }
  if (!found)
    throw UsageError("--fault " + spec + ": unknown fault '" + name + "'; choose " + names);
  const std::string where = "--fault " + spec + ": ";
  if (!rest.empty() && rest[0] == '@') {
    const size_t colon = rest.find(':');
    const std::string after =
        rest.substr(1, colon == std::string::npos ? std::string::npos : colon - 1);
    const std::string range = "a whole number of requests from 0 to " + std::to_string(INT_MAX);
    if (after.empty() || after.find_first_not_of("0123456789") != std::string::npos)
      throw UsageError(where + "AFTER '" + after + "' is not " + range);
    errno = 0;
    const unsigned long long v = std::strtoull(after.c_str(), nullptr, 10);
    if (errno == ERANGE || v > (unsigned long long)INT_MAX)
      throw UsageError(where + "AFTER " + after + " is not " + range);
    f.after = int(v);
    rest = colon == std::string::npos ? "" : rest.substr(colon);
  }
  if (!rest.empty() && rest[0] == ':') {
    if (f.kind != Fault::Kind::Delay && f.kind != Fault::Kind::Disconnect)
      throw UsageError(where + name + " takes no :SECONDS (only delay and disconnect do)");
    const std::string text = rest.substr(1);
    char range[64];
    std::snprintf(range, sizeof range, "a finite number of seconds from 0 to %g", kMaxFaultSeconds);
    const double v = parse_double(text, "--fault " + spec);
    if (!std::isfinite(v) || v < 0.0 || v > kMaxFaultSeconds)
      throw UsageError(where + "SECONDS " + text + " is not " + range);
    f.seconds = v;
  }
  const std::string problem = fault_problem(f);
  if (!problem.empty()) throw UsageError(where + problem);
  return f;
}

// CLI11 reads "-1" into an unsigned option as 18446744073709551615: a sign is refused.
CLI::Validator unsigned_number() {
  return CLI::Validator(
      [](std::string& v) {
        return v.find_first_of("-+") == std::string::npos
                   ? std::string()
                   : "'" + v + "' is not a whole number from 0 to 18446744073709551615";
      },
      "UINT", "unsigned");
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// --inputs/--outputs: 0 picks the system's default, a size is checked by the system.
void check_shape_flag(const char* flag, int v) {
  if (v < 0)
    throw UsageError(std::string(flag) + " " + std::to_string(v) +
                     ": give 0 (the system's default) or a size the system takes (`patlab "
                     "systems ID`)");
}

}  // namespace

Handler add_device_sim(CLI::App& app) {
  struct Flags {
    std::string system, port, link, experiment, output_range;
    std::vector<std::string> knobs, faults;
    int layer = 0, inputs = 0, outputs = 0, baud = 0;
    uint64_t seed = 1;
    bool quiet = false;
    RunOptions run;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c = app.add_subcommand(
      "device-sim", "Serve an emulated system over a serial line (a new pty, or a port)");
  c->footer(
      "The device speaks patlab's wire protocol (docs/protocol.md) as firmware would. It prints "
      "the\n"
      "path to open, then traffic counts; Ctrl-C stops it.\n"
      "Examples:\n"
      "  patlab device-sim oscillators --knob eta=0.2             a new pseudo-terminal\n"
      "  patlab device-sim --experiment exp.json --link /tmp/dev0 what exp.json's physical layer 0 "
      "is\n"
      "  patlab device-sim crossbar --port /dev/ttyUSB1            on a real port (e.g. a "
      "null-modem pair)\n"
      "  patlab device-sim oscillators --fault disconnect@200:3    vanish for 3 s after 200 "
      "requests\n"
      "Faults: garbage, drop-request, drop-reply, corrupt-checksum, delay, disconnect; written\n"
      "KIND[@AFTER][:SECONDS], applied in the order given.");
  c->add_option("system", f->system, "Catalog system (`patlab systems` lists them)");
  c->add_option("--experiment", f->experiment,
                "Serve what this experiment's physical layer is (system, shape, knobs, seed)");
  c->add_option("--layer", f->layer, "With --experiment: which physical layer (0 = the first)")
      ->capture_default_str();
  c->add_option("--port", f->port, "Serve on this serial port instead of a new pseudo-terminal");
  c->add_option("--link", f->link,
                "Keep a symbolic link to the pty here (stays valid across restarts); made only "
                "where nothing is, or over a link to a pty that no longer exists; removed at "
                "exit if still ours");
  c->add_option("--knob", f->knobs, "KEY=VALUE (repeatable)");
  c->add_option("--seed", f->seed, "The device's imperfections and noise")
      ->capture_default_str()
      ->check(unsigned_number());
  c->add_option("--inputs", f->inputs, "Device inputs (0 = the system's default)");
  c->add_option("--outputs", f->outputs, "Device outputs (0 = the system's choice)");
  c->add_option("--baud", f->baud,
                "Pace bytes like a UART at this rate (0 = as fast as possible; else a standard "
                "rate, 300 to 4000000)");
  c->add_option("--fault", f->faults, "Inject a fault, KIND[@AFTER][:SECONDS] (repeatable)");
  c->add_flag("-q,--quiet", f->quiet, "Print only the path");
  add_run_options(*c, f->run, false);
  return [f] {
    // Every number first: nothing starts on a value that is wrong.
    check_run_options(f->run);
    if (f->baud != 0 && !is_standard_baud_rate(f->baud)) {
      std::string rates;
      for (int r : standard_baud_rates()) rates += (rates.empty() ? "" : ", ") + std::to_string(r);
      throw UsageError("--baud " + std::to_string(f->baud) +
                       ": give 0 (no pacing) or a serial port rate: " + rates);
    }
    check_shape_flag("--inputs", f->inputs);
    check_shape_flag("--outputs", f->outputs);
    if (f->experiment.empty() && f->layer != 0)
      throw UsageError("--layer " + std::to_string(f->layer) +
                       ": only with --experiment (which of its physical layers to serve)");
    std::vector<Fault> faults;
    for (const std::string& s : f->faults) faults.push_back(parse_fault(s));
    std::shared_ptr<PhysicalSystem> device;
    std::string what;
    if (!f->experiment.empty()) {
      if (!f->system.empty() || !f->knobs.empty() || f->inputs || f->outputs)
        throw UsageError(
            "--experiment sets the system, its shape and knobs: give none of them with it");
      const Experiment e = read_experiment_file(f->experiment);
      auto run = make_run(e, f->run);
      const int layers = int(run->devices.size());
      if (f->layer < 0 || f->layer >= layers)
        throw UsageError("--layer " + std::to_string(f->layer) + ": " + f->experiment + " has " +
                         std::to_string(layers) + " physical layer" + (layers == 1 ? "" : "s") +
                         (layers > 0 ? ": give 0 to " + std::to_string(layers - 1) : ""));
      device = run->devices[size_t(f->layer)];
      what = device->name();
    } else {
      if (f->system.empty())
        throw UsageError(
            "name a system to serve (`patlab systems` lists them), or give --experiment");
      try {
        device = DeviceRegistry().open("emulated:" + f->system, LinkOptions(),
                                       {Shape{f->inputs, f->outputs}, parse_knobs(f->knobs), f->seed});
      } catch (const std::invalid_argument& err) {
        throw UsageError(err.what());
      }
      what = f->system;
    }
    if (!f->port.empty() && !f->link.empty())
      throw UsageError("--link " + f->link +
                       ": a link is kept only to a pseudo-terminal; with --port " + f->port +
                       " hosts open the port itself");
    if (!f->link.empty()) {
      // Never replace (and later delete) what is not ours: only a link to a pty that is gone.
      const std::string why = link_refusal(f->link);
      if (!why.empty())
        throw UsageError("--link " + f->link + " " + why +
                         ": not replacing it; remove it yourself or choose another path "
                         "(device-sim replaces only a link to a pseudo-terminal that no longer "
                         "exists)");
    }
    ServerOptions so;
    so.serial_path = f->port;
    so.link_path = f->link;
    so.baud = f->baud;
    so.seed = f->seed;
    // Before the server exists: a host may see its link and stop it at once, and a SIGINT
    // that came before the handler would be lost (a background job ignores it until then).
    install_stop_handlers();
    DeviceServer server(device, so);
    for (const Fault& ft : faults) server.inject(ft);
    std::printf("serving '%s' (%d inputs, %d parameters, %d outputs) on %s\n", what.c_str(),
                device->input_size(), device->param_size(), device->output_size(),
                server.path().c_str());
    std::fflush(stdout);
    long long last = -1;
    int ticks = 0;
    while (!g_stop) {
      // Short sleeps so Ctrl-C stops at once; traffic counts at most once a second.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (++ticks % 10 != 0) continue;
      const ServerStats st = server.stats();
      if (!f->quiet && st.requests != last) {
        std::printf("requests %lld, batches %lld, replays %lld, bad frames %lld, faults %lld\n",
                    st.requests, st.batches_run, st.replays, st.bad_frames, st.faults);
        std::fflush(stdout);
        last = st.requests;
      }
    }
    std::printf("stopped\n");
    return kExitOk;
  };
}

Handler add_devices(CLI::App& app) {
  struct Flags {
    bool pty = false, probe = false, all = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c = app.add_subcommand("devices", "List serial ports a device may be on");
  c->footer(
      "Lists /dev/ttyUSB*, /dev/ttyACM* and /dev/serial/by-id/* (stable names for USB adapters).\n"
      "--probe opens each and asks it what it is (it sends a HELLO frame: only probe ports\n"
      "you know hold a patlab device or nothing). No permission? Add yourself to group dialout.");
  c->add_flag("--pty", f->pty, "Also list pseudo-terminals (/dev/pts/*), e.g. from device-sim");
  c->add_flag("--all", f->all, "Also list built-in UARTs (/dev/ttyS*)");
  c->add_flag("--probe", f->probe, "Open each port and print what device answers");
  return [f] {
    std::vector<std::string> ports;
    for (const char* p : {"/dev/serial/by-id/*", "/dev/ttyUSB*", "/dev/ttyACM*"})
      for (const std::string& s : glob_paths(p)) ports.push_back(s);
    if (f->all)
      for (const std::string& s : glob_paths("/dev/ttyS*")) ports.push_back(s);
    if (f->pty)
      for (const std::string& s : glob_paths("/dev/pts/[0-9]*")) ports.push_back(s);
    if (ports.empty()) {
      std::printf(
          "no serial ports found (plug a device in, or try --pty for device-sim's "
          "pseudo-terminals)\n");
      return kExitOk;
    }
    for (const std::string& p : ports) {
      char target[512] = {0};
      const ssize_t n = ::readlink(p.c_str(), target, sizeof target - 1);
      std::string line = p + (n > 0 ? std::string(" -> ") + target : "");
      if (::access(p.c_str(), R_OK | W_OK) != 0)
        line += "  (no permission: join group dialout)";
      else if (f->probe) {
        try {
          LinkOptions so;
          so.timeout_s = 0.3;
          so.retries = 0;
          const std::shared_ptr<PhysicalSystem> d = DeviceRegistry().open("serial:" + p, so);
          line += "  '" + d->name() + "' " + std::to_string(d->input_size()) + " inputs, " +
                  std::to_string(d->param_size()) + " parameters, " +
                  std::to_string(d->output_size()) + " outputs";
        } catch (const std::exception&) {
          line += "  (no patlab device answered)";
        }
      }
      std::printf("%s\n", line.c_str());
    }
    return kExitOk;
  };
}

Handler add_systems(CLI::App& app) {
  struct Flags {
    std::string id;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c = app.add_subcommand("systems", "List the emulated physical systems and their knobs");
  c->footer(
      "Examples:\n  patlab systems\n  patlab systems oscillators     knobs with units, ranges and "
      "help\n");
  c->add_option("id", f->id, "Show one system in full");
  c->add_flag("--json", f->json, "Print JSON");
  return [f] {
    nlohmann::json all = nlohmann::json::array();
    for (const CatalogEntry& e : catalog()) {
      if (!f->id.empty() && e.info.id != f->id) continue;
      const SystemInfo& s = e.info;
      nlohmann::json j = {{"id", s.id},
                          {"name", s.name},
                          {"inputs", s.default_shape.inputs},
                          {"outputs", s.default_shape.outputs},
                          {"knobs", nlohmann::json::array()}};
      for (const KnobInfo& k : s.knobs)
        j["knobs"].push_back({{"key", k.key},
                              {"label", k.label},
                              {"unit", k.unit},
                              {"kind", k.kind},
                              {"min", k.min},
                              {"max", k.max},
                              {"default", k.default_value},
                              {"help", k.help}});
      all.push_back(j);
      if (f->json) continue;
      std::printf("%-12s %s (%d inputs, %d outputs by default)\n", s.id.c_str(), s.name.c_str(),
                  s.default_shape.inputs, s.default_shape.outputs);
      if (!f->id.empty())
        std::printf("\n%s\n\ninputs: %s\nparameters: %s\n\n", s.description.c_str(),
                    s.input_encoding.c_str(), s.param_encoding.c_str());
      for (const KnobInfo& k : s.knobs) {
        std::printf("  --knob %-22s %-10s [%g, %g] default %g %s\n", (k.key + "=").c_str(),
                    k.kind.c_str(), k.min, k.max, k.default_value, k.unit.c_str());
        if (!f->id.empty()) std::printf("      %s: %s\n", k.label.c_str(), k.help.c_str());
      }
    }
    if (all.empty()) find_system(f->id);  // throws, listing the valid ids
    if (f->json) std::printf("%s\n", all.dump(2).c_str());
    return kExitOk;
  };
}

Handler add_fit_twin(CLI::App& app) {
  struct Flags {
    std::string device_path, system, out;
    std::vector<std::string> knobs;
    int inputs = 0, outputs = 0, groups = 64, per_group = 16, iterations = 300;
    double lr = 0.01;
    std::vector<double> x_range;
    std::vector<int> mlp;
    uint64_t seed = 1;
    RunOptions run;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c =
      app.add_subcommand("fit-twin", "Measure a device, fit its digital twin, save the twin");
  c->footer(
      "Physics twins that can be calibrated (e.g. the oscillators) fit their constants; others, "
      "or\n"
      "with --mlp, learn a neural-network correction added to the nominal twin.\n"
      "Examples:\n"
      "  patlab fit-twin --device /dev/ttyUSB0 -o twin.json\n"
      "  patlab fit-twin --system oscillators --knob eta=0.4 -o twin.json   (an emulator, "
      "in-process)\n"
      "The file records the twin's fitted state and its held-out error before and after.");
  c->add_option("--system", f->system, "Or: measure an emulated catalog system in-process");
  c->add_option("--knob", f->knobs, "With --system: KEY=VALUE (repeatable)");
  c->add_option("--inputs", f->inputs, "With --system: inputs (0 = default)");
  c->add_option("--outputs", f->outputs, "With --system: outputs (0 = default)");
  c->add_option("--seed", f->seed, "Sampling seed (and the emulator's)")
      ->capture_default_str()
      ->check(unsigned_number());
  c->add_option("--groups", f->groups, "Random parameter vectors to measure")
      ->capture_default_str();
  c->add_option("--per-group", f->per_group, "Random inputs per parameter vector")
      ->capture_default_str();
  c->add_option("--x-range", f->x_range,
                "LO HI of the random inputs (default: the device's input range, else -1 1)")
      ->expected(2);
  c->add_option("--iterations", f->iterations, "Fitting iterations (Adam)")->capture_default_str();
  c->add_option("--lr", f->lr, "Fitting learning rate")->capture_default_str();
  c->add_option("--mlp", f->mlp, "Hidden layer sizes of a learned correction, e.g. --mlp 32 32");
  c->add_option("-o,--out", f->out, "Twin file to write (JSON)")->required();
  add_run_options(*c, f->run, true);
  return [f] {
    check_run_options(f->run);
    check_shape_flag("--inputs", f->inputs);
    check_shape_flag("--outputs", f->outputs);
    if (f->groups < 1 || f->per_group < 1 || (long long)f->groups * f->per_group > 1000000)
      throw UsageError("--groups " + std::to_string(f->groups) + " --per-group " +
                       std::to_string(f->per_group) +
                       ": give 1 or more of each, at most 1000000 samples in all");
    if (f->iterations < 0 || f->iterations > 100000)
      throw UsageError("--iterations " + std::to_string(f->iterations) + ": give 0 to 100000");
    if (!std::isfinite(f->lr) || f->lr <= 0.0)
      throw UsageError("--lr " + number(f->lr) + ": give a finite rate above 0");
    for (double v : f->x_range)
      if (!std::isfinite(v)) throw UsageError("--x-range: give two finite numbers, LO below HI");
    for (int h : f->mlp)
      if (h < 1 || h > 4096)
        throw UsageError("--mlp " + std::to_string(h) + ": hidden layer sizes are 1 to 4096");
    if (f->run.device_paths.size() > 1)
      throw UsageError("fit-twin measures one device: give --device once");
    if (!f->run.device_paths.empty()) f->device_path = f->run.device_paths[0];
    if (f->device_path.empty() == f->system.empty())
      throw UsageError("give either --device PATH (a serial device) or --system ID (an emulator)");
    std::shared_ptr<PhysicalSystem> device;
    SystemInstance nominal;
    std::string id;
    install_stop_handlers();
    if (!f->system.empty()) {
      try {
        nominal =
            make_system(f->system, Shape{f->inputs, f->outputs}, parse_knobs(f->knobs), f->seed);
      } catch (const std::invalid_argument& err) {
        throw UsageError(err.what());
      }
      device = nominal.device;
      id = f->system;
    } else {
      const LinkOptions so = link_options(f->run);
      const DeviceRegistry registry;
      std::shared_ptr<PhysicalSystem> d;
      try {
        d = open_device(f->run, f->device_path, [&] { return registry.open(f->device_path, so); });
      } catch (const std::runtime_error& err) {
        if (g_stop) return kExitInterrupted;
        throw;
      }
      device = d;
      id = d->name();
      try {
        nominal = make_system(id, Shape{d->input_size(), d->output_size()}, {}, f->seed);
      } catch (const std::invalid_argument&) {
        // Not a catalog system: there is no physics twin to start from; the MLP learns it all.
      }
    }
    double lo = f->x_range.size() == 2 ? f->x_range[0] : device->input_min();
    double hi = f->x_range.size() == 2 ? f->x_range[1] : device->input_max();
    if (!std::isfinite(lo) || !std::isfinite(hi)) lo = -1.0, hi = 1.0;
    if (!(lo < hi)) throw UsageError("--x-range: LO must be below HI");
    Rng rng(f->seed + 7);
    DeviceSamples train, test;
    // A collection the device interrupted starts again from the same draws, so it asks the
    // same questions: those answered before are not run twice (the serial host recalls them)
    // and the samples are those of an uninterrupted collection.
    auto collect = [&](DeviceSamples& out, int groups) {
      const Rng start = rng;
      return with_device_retries(f->run, [&] {
        rng = start;
        out = collect_samples(*device, groups, f->per_group, lo, hi, rng);
      });
    };
    if (!collect(train, f->groups) || !collect(test, std::max(4, f->groups / 4)))
      return kExitInterrupted;

    const std::vector<int> mlp_hidden = f->mlp.empty() ? std::vector<int>{32} : f->mlp;
    const TwinFitResult fit =
        fit_twin(nominal.twin, device->input_size(), device->param_size(), device->output_size(),
                 train, test, mlp_hidden, !f->mlp.empty(), f->iterations, f->lr, rng);
    const std::string& kind = fit.kind;
    const double before = fit.error_before, after = fit.error_after;
    const std::vector<int> hidden = kind == "calibrated" ? std::vector<int>() : mlp_hidden;
    const Vec st = fit.twin->fitted_state();
    nlohmann::json j = {{"system", id},
                        {"inputs", device->input_size()},
                        {"parameters", device->param_size()},
                        {"outputs", device->output_size()},
                        {"kind", kind},
                        {"mlp_hidden", hidden},
                        {"seed", f->seed},
                        {"samples", train.size()},
                        {"error_before", before},
                        {"error_after", after},
                        {"state", std::vector<double>(st.data(), st.data() + st.size())}};
    write_text_atomic(f->out, j.dump(1) + "\n");
    std::printf(
        "%s twin of '%s': held-out error %.4f -> %.4f (%d samples, %lld device queries); %s\n",
        kind.c_str(), id.c_str(), before, after, train.size() + test.size(), device->queries(),
        f->out.c_str());
    return kExitOk;
  };
}

}  // namespace patlab::cli
