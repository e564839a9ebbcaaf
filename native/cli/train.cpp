// native/cli/train.cpp: `patlab train` and `patlab evaluate`.
//
// A run folder (docs/cli.md) holds experiment.json, run.json (the command line's own settings,
// so --resume keeps the same evaluation and checkpoint schedule), curves.csv, checkpoint.bin,
// parameters.json, summary.json and log.txt.
//
// Exact resume: a device evaluation spends device queries and so moves an emulator's noise
// stream; evaluations and checkpoints therefore happen at fixed step multiples, evaluation
// first, so an interrupted and resumed run passes through exactly the states an uninterrupted
// one does.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "cli.h"
#include "patlab/emulators/catalog.h"

namespace patlab::cli {

namespace {

struct TrainFlags {
  std::string experiment_path, out_dir, resume_dir;
  long long steps = 0, stop_after = 0;
  long long eval_every = 0, checkpoint_every = 0;
  std::string method, data, system;
  std::vector<std::string> knobs, twin_files;
  std::vector<nlohmann::json> twins;  // the files' contents, kept in run.json for --resume
  std::string seed;
  double learning_rate = 0.0;
  int batch_size = 0;
  bool force = false, quiet = false;
  RunOptions run;
  // Which options were given: 0 is a value to refuse, not "unset".
  CLI::Option *steps_opt = nullptr, *lr_opt = nullptr, *batch_opt = nullptr, *seed_opt = nullptr,
              *eval_opt = nullptr, *checkpoint_opt = nullptr, *stop_opt = nullptr,
              *out_opt = nullptr, *method_opt = nullptr, *data_opt = nullptr,
              *system_opt = nullptr, *resume_opt = nullptr;
};



std::string fmt(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string now_string() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

class Log {
 public:
  explicit Log(const std::string& path) : out_(path, std::ios::app) {}
  void line(const std::string& s) {
    out_ << now_string() << "  " << s << "\n";
    out_.flush();
  }

 private:
  std::ofstream out_;
};

// On a terminal: one bar redrawn in place. Otherwise (a Slurm log, a pipe): a plain line
// every tenth of the run, so logs stay readable.
class Progress {
 public:
  Progress(long long total, bool quiet) : total_(total), quiet_(quiet), tty_(::isatty(2)) {
    start_ = std::chrono::steady_clock::now();
  }
  void update(long long step, double loss, double acc) {
    if (quiet_) return;
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    if (tty_) {
      if (step != total_ && now - last_ < std::chrono::milliseconds(100)) return;
      last_ = now;
      const int width = 30;
      const int filled = int(width * double(step) / double(total_));
      std::string bar(size_t(filled), '#');
      bar += std::string(size_t(width - filled), '.');
      const double eta =
          step > first_ ? elapsed / double(step - first_) * double(total_ - step) : 0;
      std::fprintf(stderr, "\r[%s] %3d%%  step %lld/%lld  loss %.4f  batch acc %.3f  eta %.0fs ",
                   bar.c_str(), int(100.0 * double(step) / double(total_)), step, total_, loss, acc,
                   eta);
      if (step == total_) std::fprintf(stderr, "\n");
    } else {
      const long long tenth = std::max(1LL, total_ / 10);
      if (step % tenth != 0 && step != total_) return;
      std::fprintf(stderr, "step %lld/%lld  loss %.4f  batch acc %.3f  %.1fs\n", step, total_, loss,
                   acc, elapsed);
    }
  }
  void set_first(long long s) { first_ = s; }
  void break_line() {
    if (tty_ && !quiet_) std::fprintf(stderr, "\n");
  }

 private:
  long long total_, first_ = 0;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_, last_{};
};

// Keeps rows up to `step` (a killed run may have written curves past its last checkpoint).
void trim_curves(const std::string& path, long long step) {
  std::ifstream in(path);
  std::string line, kept;
  bool header = true;
  while (std::getline(in, line)) {
    if (header || std::atoll(line.c_str()) <= step) kept += line + "\n";
    header = false;
  }
  write_text_atomic(path, kept);
}

bool given(const CLI::Option* o) { return o && o->count() > 0; }

// Each flag's range, checked before anything is read or written.
void check_train_flags(const TrainFlags& f) {
  // An empty value is not "unset": `--data ""` from a script with an empty variable must not
  // train the default data set.
  for (const CLI::Option* o : {f.out_opt, f.method_opt, f.data_opt, f.system_opt, f.resume_opt})
    if (given(o) && o->as<std::string>().empty())
      throw UsageError(o->get_name() + " was given an empty value");
  auto at_least = [](const CLI::Option* o, long long v, long long lo, const char* what) {
    if (given(o) && v < lo)
      throw UsageError(std::string(o->get_name()) + " " + std::to_string(v) + ": " + what +
                       " must be at least " + std::to_string(lo));
  };
  at_least(f.steps_opt, f.steps, 1, "the number of training steps");
  if (given(f.steps_opt) && double(f.steps) > limits::kMaxSteps)
    throw UsageError("--steps " + std::to_string(f.steps) + ": at most 1e12 steps");
  at_least(f.eval_opt, f.eval_every, 1, "the evaluation interval");
  at_least(f.checkpoint_opt, f.checkpoint_every, 1, "the checkpoint interval");
  at_least(f.stop_opt, f.stop_after, 1, "the step to stop after");
  if (given(f.batch_opt) && (f.batch_size < 1 || f.batch_size > limits::kMaxSamples))
    throw UsageError("--batch " + std::to_string(f.batch_size) + ": the batch size must be from 1 to " +
                     std::to_string(limits::kMaxSamples));
  if (given(f.lr_opt) && !(std::isfinite(f.learning_rate) && f.learning_rate > 0))
    throw UsageError("--lr " + fmt(f.learning_rate) + ": the learning rate must be > 0 and finite");
}

// A seed is any integer from 0 to 2^64 - 1; "-1" must not wrap around, nor a longer number
// saturate.
uint64_t parse_seed(const std::string& s) {
  const std::string range = "--seed " + s + ": expected an integer from 0 to 18446744073709551615";
  if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError(range);
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno == ERANGE || *end) throw UsageError(range);
  return uint64_t(v);
}

// run.json: the command line's own settings of a run folder, read as strictly as an
// experiment (a hand edit to 0 must not divide by zero later).
struct RunSettings {
  long long eval_every = 0, checkpoint_every = 0;
  std::vector<std::string> devices;
  std::string format;
  std::vector<nlohmann::json> twins;
  std::string experiment;  // experiment_fingerprint(); empty in folders of older versions
};

RunSettings read_run_settings(const std::string& dir) {
  const std::string path = dir + "/run.json";
  RunSettings r;
  auto bad = [&](const std::string& key, const std::string& what) {
    return UsageError(path + ": " + key + ": " + what +
                      " (this file is written by `patlab train`; restore it or start a new run)");
  };
  nlohmann::json j;
  try {
    j = parse_json_strict(read_text(path, 1 << 20), path);
  } catch (const std::invalid_argument& err) {
    throw UsageError(err.what());
  }
  if (!j.is_object()) throw bad("(top)", "expected an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const nlohmann::json& v = it.value();
    if (k == "eval_every" || k == "checkpoint_every") {
      if (!v.is_number_integer() || v.get<long long>() < 1)
        throw bad(k, "expected an integer >= 1, found " + v.dump());
      (k == "eval_every" ? r.eval_every : r.checkpoint_every) = v.get<long long>();
    } else if (k == "devices") {
      if (!v.is_array() || v.empty()) throw bad(k, "expected a list of serial ports");
      for (const auto& d : v) {
        if (!d.is_string() || d.get<std::string>().empty()) throw bad(k, "expected a list of serial ports");
        r.devices.push_back(d.get<std::string>());
      }
    } else if (k == "format") {
      if (!v.is_string()) throw bad(k, "expected a sample format name");
      r.format = v.get<std::string>();
      try {
        sample_format_from_name(r.format);
      } catch (const std::invalid_argument& err) {
        throw bad(k, err.what());
      }
    } else if (k == "twins") {
      if (!v.is_array()) throw bad(k, "expected a list of twin files' contents");
      for (const auto& t : v) {
        if (!t.is_object()) throw bad(k, "expected a list of twin files' contents");
        r.twins.push_back(t);
      }
    } else if (k == "experiment") {
      if (!v.is_string() || v.get<std::string>().size() != 16) throw bad(k, "expected 16 hex digits");
      r.experiment = v.get<std::string>();
    } else {
      throw bad(k, "unknown key");
    }
  }
  if (!r.eval_every) throw bad("eval_every", "missing");
  if (!r.checkpoint_every) throw bad("checkpoint_every", "missing");
  return r;
}

// A checkpoint belongs to one experiment: the folder's experiment.json and run.json say which.
// One copied in from another run (another data set, knob or seed) is refused.
void check_same_experiment(const std::string& dir, const Experiment& ckpt, const RunSettings& s) {
  const Experiment folder = read_experiment_file(dir + "/experiment.json");
  const std::string fc = experiment_fingerprint(ckpt), ff = experiment_fingerprint(folder);
  std::string why;
  if (fc != ff) {
    why = dir + "/experiment.json ('" + folder.name + "', " + ff + ")";
    std::string diffs;
    for (const std::string& d : experiment_differences(ckpt, folder))
      diffs += (diffs.empty() ? "" : "; ") + d;
    why += "; they differ in " + diffs + " (checkpoint vs folder)";
  } else if (!s.experiment.empty() && s.experiment != fc) {
    why = dir + "/run.json, which was written for experiment " + s.experiment;
  }
  if (!why.empty())
    throw UsageError(dir + "/checkpoint.bin is a checkpoint of experiment '" + ckpt.name + "' (" +
                     fc + "), not of this run folder's " + why +
                     ": put back the run's own checkpoint, or train the other experiment in a new "
                     "folder");
}

// -o: a new folder, an empty one, or a patlab run (replaced only with --force). A folder of
// other files is not written into: its summary.json or curves.csv may be someone's work.
void check_output_folder(const std::string& dir, bool force) {
  if (file_exists(dir) && !is_dir(dir))
    throw UsageError("-o " + dir + ": is a file, not a folder: choose a folder for the run");
  if (!is_dir(dir) || force) return;
  if (file_exists(dir + "/checkpoint.bin"))
    throw UsageError(dir + " already holds a run: continue it with `patlab train --resume " + dir +
                     "`, choose another -o, or pass --force to start over");
  const std::vector<std::string> names = list_dir(dir);
  if (names.empty() || file_exists(dir + "/run.json")) return;  // empty, or a run stopped early
  std::string some;
  for (size_t i = 0; i < names.size() && i < 3; ++i) some += (i ? ", " : "") + names[i];
  if (names.size() > 3) some += ", ...";
  throw UsageError("-o " + dir + ": the folder is not empty and is not a patlab run (it holds " +
                   some + "): choose a new or empty folder, or pass --force to write the run's "
                   "files into it (files of the same names are replaced)");
}

const char* kCurvesHeader =
    "step,loss,batch_accuracy,learning_rate,test_loss_device,device_accuracy,twin_accuracy,"
    "queries\n";

int do_train(TrainFlags& f) {
  check_train_flags(f);
  const bool resuming = !f.resume_dir.empty();
  Experiment e;
  Checkpoint ckpt;
  std::string dir;
  if (resuming) {
    if (!f.experiment_path.empty() || !f.method.empty() || !f.data.empty() || !f.system.empty() ||
        !f.knobs.empty() || given(f.seed_opt) || given(f.lr_opt) || given(f.batch_opt) ||
        given(f.eval_opt) || given(f.checkpoint_opt) || !f.twin_files.empty())
      throw UsageError(
          "--resume continues a run as it was: only --steps (to extend it), "
          "--stop-after and device options may be given with it");
    if (given(f.out_opt))
      throw UsageError("--resume " + f.resume_dir + " continues the run in its own folder: -o " +
                       f.out_dir + " cannot be given with it (copy the folder first to branch off)");
    dir = f.resume_dir;
    const std::string cp = dir + "/checkpoint.bin";
    if (!file_exists(cp))
      throw UsageError(cp + " does not exist: is " + dir +
                       " a run folder written by `patlab train`?");
    ckpt = load_checkpoint_file(cp);
    e = ckpt.experiment;
    const RunSettings settings = read_run_settings(dir);
    f.eval_every = settings.eval_every;
    f.checkpoint_every = settings.checkpoint_every;
    // A run trained over serial ports resumes over the same ports unless told otherwise (its
    // checkpoint holds no emulator state to resume in-process from).
    if (f.run.device_paths.empty() && !settings.devices.empty()) {
      f.run.device_paths = settings.devices;
      if (!settings.format.empty()) f.run.serial_format = settings.format;
    }
    f.twins = settings.twins;
    check_same_experiment(dir, ckpt.experiment, settings);
    if (given(f.steps_opt)) {
      if (f.steps < ckpt.trainer.steps)
        throw UsageError("--steps " + std::to_string(f.steps) + " is fewer than the " +
                         std::to_string(ckpt.trainer.steps) + " steps already taken");
      e.steps = f.steps;
    }
  } else {
    e = f.experiment_path.empty() ? default_experiment() : read_experiment_file(f.experiment_path);
    if (!f.data.empty()) {
      if (!known_data_set(f.data)) throw UsageError("--data: unknown data set '" + f.data + "'");
      e.data.name = f.data;
    }
    if (!f.system.empty()) {
      find_system(f.system);  // throws listing the valid ids
      for (LayerSpec& l : e.layers)
        if (l.kind == "physical") {
          l.system = f.system;
          l.knobs.clear();  // another system's knobs mean nothing here
        }
    }
    for (const std::string& kv : f.knobs) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos)
        throw UsageError("--knob " + kv + ": write KEY=VALUE, e.g. --knob eta=0.3");
      apply_knob(e, kv.substr(0, eq), parse_double(kv.substr(eq + 1), "--knob " + kv));
    }
    if (!f.method.empty()) e.train.method = method_from_name(f.method);
    if (given(f.seed_opt)) e.train.seed = parse_seed(f.seed);
    if (given(f.lr_opt)) e.train.optimizer.learning_rate = f.learning_rate;
    if (given(f.batch_opt)) e.train.batch_size = f.batch_size;
    if (given(f.steps_opt)) e.steps = f.steps;
    // Round-trip through JSON: the experiment module's checks apply to flags as well.
    try {
      e = experiment_from_json(to_json(e));
    } catch (const std::invalid_argument& err) {
      throw UsageError(err.what());
    }
    if (!given(f.eval_opt)) f.eval_every = std::max(1LL, e.steps / 20);
    if (!given(f.checkpoint_opt)) f.checkpoint_every = f.eval_every;
    dir = f.out_dir;
    if (dir.empty()) {
      char buf[32];
      const std::time_t t = std::time(nullptr);
      std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::localtime(&t));
      dir = std::string("runs/") + buf;
    }
    check_output_folder(dir, f.force);
  }

  if (!f.twin_files.empty() && resuming)
    throw UsageError("--twin cannot change the twins of a run being resumed");
  for (const std::string& path : f.twin_files) {
    try {
      f.twins.push_back(parse_json_strict(read_text(path, 64 << 20), path));
    } catch (const std::invalid_argument& err) {
      throw UsageError(err.what());
    }
  }
  auto run = make_run(e, f.run);
  apply_twins(*run, e, f.twins);
  if (resuming) {
    // A serial device keeps its own state (noise, drift) on the far side of the line: the
    // checkpoint cannot restore it, so the live device's state is kept.
    if (!f.run.device_paths.empty())
      for (size_t i = 0; i < ckpt.devices.size() && i < run->devices.size(); ++i)
        ckpt.devices[i] = run->devices[i]->save_state();
    try {
      restore(*run, ckpt);
    } catch (const CheckpointError& err) {
      throw UsageError(std::string(err.what()) +
                       " (resume with the same --device settings the run was written with)");
    }
  } else {
    make_dirs(dir);
    write_text_atomic(dir + "/experiment.json", to_json(e).dump(2) + "\n");
    nlohmann::json settings = {{"eval_every", f.eval_every},
                               {"checkpoint_every", f.checkpoint_every},
                               {"experiment", experiment_fingerprint(e)}};
    if (!f.run.device_paths.empty()) {
      settings["devices"] = f.run.device_paths;
      settings["format"] = f.run.serial_format;
    }
    if (!f.twins.empty()) settings["twins"] = f.twins;
    write_text_atomic(dir + "/run.json", settings.dump(2) + "\n");
    write_text_atomic(dir + "/curves.csv", kCurvesHeader);
  }
  if (resuming) {
    trim_curves(dir + "/curves.csv", run->trainer->steps());
    // The folder describes the run: an extended run's file says its new length.
    if (given(f.steps_opt)) write_text_atomic(dir + "/experiment.json", to_json(e).dump(2) + "\n");
  }
  Log log(dir + "/log.txt");
  const std::string where = f.run.device_paths.empty() ? "in-process emulation" : "serial devices";
  log.line(std::string(resuming ? "resumed" : "started") + " at step " +
           std::to_string(run->trainer->steps()) + " of " + std::to_string(e.steps) + ", method " +
           method_name(e.train.method) + ", on " + where);
  if (!f.quiet)
    std::fprintf(stderr, "%s '%s': %s, %lld steps, run folder %s\n",
                 resuming ? "resuming" : "training", e.name.c_str(), method_label(e.train.method),
                 e.steps, dir.c_str());

  std::ofstream curves(dir + "/curves.csv", std::ios::app);
  install_stop_handlers();
  Progress progress(e.steps, f.quiet);
  progress.set_first(run->trainer->steps());

  // Ctrl-C or SIGTERM inside a long step (many SPSA draws, a long twin refit) stops it within
  // moments; the trainer rolls the step back, so the checkpoint below is exact.
  run->trainer->set_interrupt([] { return g_stop != 0; });
  long long checkpointed = resuming ? run->trainer->steps() : -1;  // the last good checkpoint
  auto checkpoint = [&] {
    save_checkpoint_file(dir + "/checkpoint.bin", capture(*run));
    checkpointed = run->trainer->steps();
  };
  Evaluation dev_eval, twin_eval;
  auto evaluate = [&]() -> bool {
    if (!with_device_retries(f.run,
                             [&] { dev_eval = run->trainer->evaluate(run->test, Pass::Device); }))
      return false;
    twin_eval = run->trainer->evaluate(run->test, Pass::Twin);
    return true;
  };
  auto stop_here = [&](const char* why) {
    progress.break_line();
    checkpoint();
    log.line(std::string("stopped at step ") + std::to_string(run->trainer->steps()) + " (" + why +
             ")");
    std::fprintf(stderr,
                 "patlab: stopped at step %lld (%s); checkpoint saved. Continue with:\n  patlab "
                 "train --resume %s\n",
                 run->trainer->steps(), why, dir.c_str());
  };

  // A run stopped while evaluating (the device failed then) checkpointed after its step but
  // has no curve point for it: measure it now. The step's own loss is not known any more.
  if (resuming) {
    const long long at = run->trainer->steps();
    std::ifstream in(dir + "/curves.csv");
    std::string line, last_line;
    while (std::getline(in, line))
      if (!line.empty()) last_line = line;
    const bool due = at > 0 && (at % f.eval_every == 0 || at == e.steps);
    if (due && std::atoll(last_line.c_str()) < at) {
      if (!evaluate()) {
        stop_here("interrupted");
        return kExitInterrupted;
      }
      curves << at << ",nan,nan,nan," << fmt(dev_eval.loss) << ',' << fmt(dev_eval.accuracy) << ','
             << fmt(twin_eval.accuracy) << ',' << run->net.device_queries() << '\n';
      curves.flush();
    }
  }

  StepResult r;
  try {
    try {
    while (run->trainer->steps() < e.steps) {
      if (g_stop) {
        stop_here("interrupted");
        return kExitInterrupted;
      }
      // A step that throws DeviceError is rolled back by the trainer, so retrying it applies
      // the update exactly once.
      if (!with_device_retries(f.run, [&] { r = run->trainer->step(); })) {
        stop_here("interrupted");
        return kExitInterrupted;
      }
      progress.update(r.step, r.loss, r.accuracy);
      const bool last = r.step == e.steps;
      if (r.step % f.eval_every == 0 || last) {
        if (!evaluate()) {
          // The step itself is complete, so the checkpoint holds it; --resume then takes the
          // missing evaluation first (above).
          stop_here("interrupted during an evaluation; --resume measures it first");
          return kExitInterrupted;
        }
        curves << r.step << ',' << fmt(r.loss) << ',' << fmt(r.accuracy) << ','
               << fmt(r.learning_rate) << ',' << fmt(dev_eval.loss) << ',' << fmt(dev_eval.accuracy)
               << ',' << fmt(twin_eval.accuracy) << ',' << run->net.device_queries() << '\n';
        curves.flush();
      }
      if (r.step % f.checkpoint_every == 0 || last) checkpoint();
      if (f.stop_after > 0 && r.step >= f.stop_after && !last) {
        stop_here("--stop-after");
        return kExitOk;
      }
    }
    } catch (const Interrupted&) {
      // The step was rolled back completely, devices included.
      stop_here("interrupted");
      return kExitInterrupted;
    }
  } catch (const TrainingError& err) {
    // The optimiser, not the device, made something non-finite. Retrying gives the same, and
    // the rolled-back state leads straight back here: stop, and leave the last checkpoint
    // (written before the divergence, all finite) as it is.
    progress.break_line();
    log.line(std::string("diverged: ") + err.what());
    throw TrainingError(
        std::string("training diverged at ") + err.what() + ". " +
        (checkpointed >= 0 ? "The last checkpoint (step " + std::to_string(checkpointed) +
                                 ") is kept unchanged in " + dir +
                                 "; resuming it would diverge again: lower the learning rate or "
                                 "change the schedule, and start a new run"
                           : std::string("No checkpoint was written: lower the learning rate or "
                                         "change the schedule, and start again")));
  } catch (const DeviceError& err) {
    // The device stayed away past --device-wait. The failed step was rolled back, so the state
    // is consistent: keep it, so --resume loses nothing.
    progress.break_line();
    checkpoint();
    log.line(std::string("gave up at step ") + std::to_string(run->trainer->steps()) + ": " +
             err.what());
    throw DeviceError(
        std::string(err.what()) + "; gave up after --device-wait " + fmt(f.run.device_wait_s) +
        " s. A checkpoint is saved: continue with `patlab train --resume " + dir + "`");
  }
  if (run->trainer->steps() == 0 || r.step == 0) {  // nothing to do: already at the end
    if (!evaluate()) return kExitInterrupted;
  }

  const Vec p = run->net.get_params();
  nlohmann::json params = {{"steps", run->trainer->steps()},
                           {"parameters", std::vector<double>(p.data(), p.data() + p.size())}};
  nlohmann::json layers = nlohmann::json::array();
  for (int i = 0; i < run->net.size(); ++i)
    layers.push_back({{"kind", run->net.layer(i).kind()},
                      {"parameters", int(run->net.layer(i).params().size())}});
  params["layers"] = layers;
  write_text_atomic(dir + "/parameters.json", params.dump(1) + "\n");
  nlohmann::json summary = {
      {"steps", run->trainer->steps()},      {"method", method_name(e.train.method)},
      {"test_loss_device", dev_eval.loss},   {"device_accuracy", dev_eval.accuracy},
      {"twin_accuracy", twin_eval.accuracy}, {"queries", run->net.device_queries()}};
  write_text_atomic(dir + "/summary.json", summary.dump(2) + "\n");
  log.line("finished: device accuracy " + fmt(dev_eval.accuracy) + ", twin accuracy " +
           fmt(twin_eval.accuracy));
  std::printf("done: %lld steps, test accuracy on the device %.3f, on the twin %.3f; %s\n",
              run->trainer->steps(), dev_eval.accuracy, twin_eval.accuracy, dir.c_str());
  return kExitOk;
}

}  // namespace

// The end of `patlab train --help`: examples, and what to expect.
const char* const kTrainFooter =
    "Examples:\n"
    "  patlab train -o runs/first                      the default experiment (moons, "
    "oscillators, PAT)\n"
    "  patlab train exp.json -o runs/a --steps 2000    an experiment file, with one change\n"
    "  patlab train --method in-silico --knob eta=0.4 -o runs/b\n"
    "  patlab train --resume runs/a                    continue from runs/a/checkpoint.bin\n"
    "  patlab train -o runs/hw --device /dev/ttyUSB0   the physical layer on a serial device\n"
    "  patlab train bench/reference_experiment.json    the benchmarks' reference network\n"
    "An experiment file's layers: affine, scale_offset, relu, tanh, sigmoid, readout_scale,\n"
    "append (constant rows after the input, e.g. {\"kind\": \"append\", \"count\": 10}),\n"
    "select (a range of rows: {\"kind\": \"select\", \"first\": 64, \"count\": 10} or\n"
    "{\"kind\": \"select\", \"last\": 10}) and physical; keys and ranges: docs/cli.md.\n"
    "Ctrl-C (or SIGTERM) saves a checkpoint at the next step and stops (exit 130).\n"
    "A device that fails pauses training: it retries with backoff and continues.\n"
    "A training that diverges (NaN/Inf from a too-large learning rate) stops with exit 1,\n"
    "keeping the last checkpoint written before it.\n"
    "The run folder is described in docs/cli.md.";

Handler add_train(CLI::App& app) {
  auto f = std::make_shared<TrainFlags>();
  CLI::App* c = add_command(app, "train", "Train a physical neural network; write a run folder",
                            kTrainFooter);
  c->add_option("experiment", f->experiment_path,
                "Experiment JSON file (default: the built-in experiment)");
  f->out_opt = c->add_option("-o,--out", f->out_dir,
                             "Run folder to write, new or empty (default: runs/<date-time>)");
  f->resume_opt =
      c->add_option("--resume", f->resume_dir, "Continue the run in this folder from its checkpoint");
  f->steps_opt = c->add_option(
      "--steps", f->steps, "Training steps, >= 1 (with --resume: extend the run to this many)");
  f->method_opt = c->add_option("--method", f->method, "pat, in-silico, ideal, spsa or fd");
  f->data_opt = c->add_option(
      "--data", f->data,
      "Data set: moons, circles, spiral, xor, clusters, vowels, digits8, mnist14, fashion14, mnist (60,000 digits), fashion (60,000 images)");
  f->system_opt = c->add_option("--system", f->system,
                "Put this catalog system in every physical layer (`patlab systems` lists them)");
  c->add_option("--knob", f->knobs,
                "KEY=VALUE for every physical layer, e.g. eta=0.3 (repeatable)");
  f->seed_opt = c->add_option("--seed", f->seed,
                              "Training seed, 0 to 2^64-1: initial weights, data order");
  f->lr_opt = c->add_option("--lr", f->learning_rate, "Learning rate, > 0");
  f->batch_opt = c->add_option("--batch", f->batch_size, "Samples per step, 1 to 1000000");
  c->add_option(
      "--twin", f->twin_files,
      "Twin file from `patlab fit-twin` (once per physical layer, in order): the twin PAT and "
      "in-silico training use");
  f->eval_opt = c->add_option("--eval-every", f->eval_every,
                              "Evaluate on the test set every N >= 1 steps (default: steps/20)");
  f->checkpoint_opt =
      c->add_option("--checkpoint-every", f->checkpoint_every,
                    "Write checkpoint.bin every N >= 1 steps (default: as --eval-every)");
  f->stop_opt = c->add_option(
      "--stop-after", f->stop_after,
      "Stop (with a checkpoint) after this step, >= 1, e.g. to fit a job's time limit");
  c->add_flag("--force", f->force,
              "Start over in a folder that already holds a run, or write into a folder of other "
              "files");
  c->add_flag("-q,--quiet", f->quiet, "No progress output");
  add_run_options(*c, f->run, true);
  return [f] { return do_train(*f); };
}

// The end of `patlab evaluate --help`: examples, and what to expect.
const char* const kEvaluateFooter =
    "Examples:\n  patlab evaluate runs/a\n  patlab evaluate runs/a/checkpoint.bin --pass device "
    "--json\n"
    "  patlab evaluate runs/a --device /dev/ttyUSB0   the trained network on real hardware";

Handler add_evaluate(CLI::App& app) {
  struct Flags {
    std::string target, pass = "both";
    bool json = false;
    RunOptions run;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c =
      add_command(app, "evaluate", "Test a trained run (its checkpoint) on the device and the twin",
                  kEvaluateFooter);
  c->add_option("run", f->target, "Run folder or checkpoint file")->required();
  c->add_option("--pass", f->pass, "device, twin or both")
      ->check(CLI::IsMember({"device", "twin", "both"}))
      ->capture_default_str();
  c->add_flag("--json", f->json, "Print JSON instead of text");
  add_run_options(*c, f->run, true);
  return [f] {
    const std::string path = is_dir(f->target) ? f->target + "/checkpoint.bin" : f->target;
    if (!file_exists(path))
      throw UsageError(path + " does not exist: give a run folder or a checkpoint file");
    Checkpoint ckpt = load_checkpoint_file(path);
    std::vector<nlohmann::json> twins;  // a run folder's fitted twins (train --twin)
    if (is_dir(f->target) && file_exists(f->target + "/run.json")) {
      const RunSettings settings = read_run_settings(f->target);
      check_same_experiment(f->target, ckpt.experiment, settings);
      twins = settings.twins;
    }
    auto run = make_run(ckpt.experiment, f->run);
    apply_twins(*run, ckpt.experiment, twins);
    if (!f->run.device_paths.empty())
      for (size_t i = 0; i < ckpt.devices.size() && i < run->devices.size(); ++i)
        ckpt.devices[i] = run->devices[i]->save_state();
    restore(*run, ckpt);
    install_stop_handlers();
    nlohmann::json out = {{"steps", run->trainer->steps()}, {"test_samples", run->test.size()}};
    if (f->pass != "twin") {
      Evaluation ev;
      if (!with_device_retries(f->run,
                               [&] { ev = run->trainer->evaluate(run->test, Pass::Device); }))
        return kExitInterrupted;
      out["device"] = {{"loss", ev.loss}, {"accuracy", ev.accuracy}};
    }
    if (f->pass != "device") {
      const Evaluation ev = run->trainer->evaluate(run->test, Pass::Twin);
      out["twin"] = {{"loss", ev.loss}, {"accuracy", ev.accuracy}};
    }
    if (f->json) {
      std::printf("%s\n", out.dump(2).c_str());
    } else {
      std::printf("%s after %lld steps, %d test samples\n", ckpt.experiment.name.c_str(),
                  run->trainer->steps(), run->test.size());
      for (const char* k : {"device", "twin"})
        if (out.contains(k))
          std::printf("  %-6s accuracy %.4f  loss %.4f\n", k, out[k]["accuracy"].get<double>(),
                      out[k]["loss"].get<double>());
    }
    return kExitOk;
  };
}

}  // namespace patlab::cli
