// native/cli/cli.h: what the subcommands of `patlab` share.
//
// Exit codes (docs/cli.md): 0 done, 1 the work failed (a device gave up, a file could not be
// written), 2 the request was wrong (a bad flag, experiment or file). Subcommands throw
// UsageError for the latter; main() maps exceptions to codes in one place.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "patlab/devices/link.h"
#include "patlab/experiment/experiment.h"

namespace patlab::cli {

inline constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitInterrupted = 130;

// Bad input from the user: exit code 2. The message should say what to do instead.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Set by SIGINT/SIGTERM; long loops poll it and stop at a clean point (a step boundary).
extern volatile std::sig_atomic_t g_stop;
void install_stop_handlers();

// Options every command that builds a run understands.
struct RunOptions {
  std::string data_dir;                   // data packs; defaults to the build's folder
  // One device per physical layer, in order: a spec of patlab/devices/registry.h (a serial
  // port's path, serial:<path>, emulated:<system>).
  std::vector<std::string> device_paths;
  LinkOptions serial;
  std::string serial_format = "auto";
  double device_wait_s = 600.0;  // give up after the device is gone this long
};
void add_run_options(CLI::App& cmd, RunOptions& o, bool with_devices);
// Throws UsageError naming a bad --baud, --timeout, --retries, --device-wait or --format and
// its allowed range. make_run calls it; so must every other command that uses RunOptions.
void check_run_options(const RunOptions& o);
std::string pack_dir(const RunOptions& o);

// build_run(), but with the physical layers on the devices device_paths names (the registry,
// patlab/devices/registry.h). The network starts from exactly the parameters build_run()
// gives, so a run over the wire and an in-process run begin alike.
std::unique_ptr<Run> make_run(const Experiment& e, const RunOptions& o);
// The link options of --baud, --timeout, --retries and --format.
LinkOptions link_options(const RunOptions& o);
// Opens a device from its spec through `open`, waiting (with_device_retries) for one that is
// not there yet; throws UsageError for a malformed spec.
std::shared_ptr<PhysicalSystem> open_device(const RunOptions& o, const std::string& spec,
                                            const std::function<std::shared_ptr<PhysicalSystem>()>& open);

// Puts twins fitted by `patlab fit-twin` (their JSON files' contents) into the run's physical
// layers, one per layer in order; throws UsageError if one does not fit its layer.
void apply_twins(Run& run, const Experiment& e, const std::vector<nlohmann::json>& twins);

// Runs `what` (a step or an evaluation); on DeviceError prints the message, waits with
// exponential backoff and tries again, until it succeeds, the device has been gone for
// o.device_wait_s (rethrows) or a stop is requested (returns false).
template <class F>
bool with_device_retries(const RunOptions& o, F&& what);

// Files.
Experiment read_experiment_file(const std::string& path);  // throws UsageError naming it
// Throws UsageError naming the file if it cannot be read, is a folder or holds more than
// max_bytes (read in pieces: /dev/zero is refused, not read until memory runs out).
std::string read_text(const std::string& path, size_t max_bytes = size_t(256) << 20);
std::vector<std::string> list_dir(const std::string& path);  // names, sorted; none if unreadable
void write_text_atomic(const std::string& path, const std::string& text);  // tmp + rename
bool is_dir(const std::string& path);
void make_dirs(const std::string& path);  // throws std::runtime_error
bool file_exists(const std::string& path);

// "1-3,7" -> {1,2,3,7}; "0,0.25" -> doubles. Throw UsageError naming `what`.
std::vector<uint64_t> parse_int_list(const std::string& s, const std::string& what);
std::vector<double> parse_double_list(const std::string& s, const std::string& what);
double parse_double(const std::string& s, const std::string& what);
// Applies "KEY=VALUE" to every physical layer; checks KEY against the layer's catalog entry.
void apply_knob(Experiment& e, const std::string& key, double value);

// Subcommands: each adds itself to the app and returns its handler.
using Handler = std::function<int()>;
// Adds a (sub)command: its name, the line `--help` lists it with, and the footer its own
// `--help` ends with (examples, what it writes, exit codes).
CLI::App* add_command(CLI::App& parent, const std::string& name, const std::string& about,
                      const std::string& footer);
Handler add_train(CLI::App& app);
Handler add_evaluate(CLI::App& app);
Handler add_sweep(CLI::App& app);
Handler add_merge(CLI::App& app);
Handler add_fit_twin(CLI::App& app);
Handler add_device_sim(CLI::App& app);
Handler add_devices(CLI::App& app);
Handler add_systems(CLI::App& app);
Handler add_lesson(CLI::App& app);

}  // namespace patlab::cli

#include "retry.h"
