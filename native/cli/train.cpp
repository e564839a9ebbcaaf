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
  uint64_t seed = 0;
  bool seed_set = false;
  double learning_rate = 0.0;
  int batch_size = 0;
  bool force = false, quiet = false;
  RunOptions run;
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

const char* kCurvesHeader =
    "step,loss,batch_accuracy,learning_rate,test_loss_device,device_accuracy,twin_accuracy,"
    "queries\n";

int do_train(TrainFlags& f) {
  const bool resuming = !f.resume_dir.empty();
  Experiment e;
  Checkpoint ckpt;
  std::string dir;
  if (resuming) {
    if (!f.experiment_path.empty() || !f.method.empty() || !f.data.empty() || !f.system.empty() ||
        !f.knobs.empty() || f.seed_set || f.learning_rate > 0 || f.batch_size > 0)
      throw UsageError(
          "--resume continues a run as it was: only --steps (to extend it), "
          "--stop-after and device options may be given with it");
    dir = f.resume_dir;
    const std::string cp = dir + "/checkpoint.bin";
    if (!file_exists(cp))
      throw UsageError(cp + " does not exist: is " + dir +
                       " a run folder written by `patlab train`?");
    ckpt = load_checkpoint_file(cp);
    e = ckpt.experiment;
    try {
      const auto settings = nlohmann::json::parse(read_text(dir + "/run.json"));
      f.eval_every = settings.at("eval_every").get<long long>();
      f.checkpoint_every = settings.at("checkpoint_every").get<long long>();
      // A run trained over serial ports resumes over the same ports unless told otherwise
      // (its checkpoint holds no emulator state to resume in-process from).
      if (f.run.device_paths.empty() && settings.contains("devices")) {
        f.run.device_paths = settings["devices"].get<std::vector<std::string>>();
        f.run.serial_format = settings.value("format", f.run.serial_format);
      }
      if (settings.contains("twins"))
        f.twins = settings["twins"].get<std::vector<nlohmann::json>>();
    } catch (const nlohmann::json::exception& err) {
      throw UsageError(dir + "/run.json: " + err.what());
    }
    if (f.steps > 0) {
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
    if (f.seed_set) e.train.seed = f.seed;
    if (f.learning_rate > 0) e.train.optimizer.learning_rate = f.learning_rate;
    if (f.batch_size > 0) e.train.batch_size = f.batch_size;
    if (f.steps > 0) e.steps = f.steps;
    // Round-trip through JSON: the experiment module's checks apply to flags as well.
    try {
      e = experiment_from_json(to_json(e));
    } catch (const std::invalid_argument& err) {
      throw UsageError(err.what());
    }
    if (f.eval_every <= 0) f.eval_every = std::max(1LL, e.steps / 20);
    if (f.checkpoint_every <= 0) f.checkpoint_every = f.eval_every;
    dir = f.out_dir;
    if (dir.empty()) {
      char buf[32];
      const std::time_t t = std::time(nullptr);
      std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::localtime(&t));
      dir = std::string("runs/") + buf;
    }
    if (file_exists(dir + "/checkpoint.bin") && !f.force)
      throw UsageError(dir + " already holds a run: continue it with `patlab train --resume " +
                       dir + "`, choose another -o, or pass --force to start over");
  }

  if (!f.twin_files.empty() && resuming)
    throw UsageError("--twin cannot change the twins of a run being resumed");
  for (const std::string& path : f.twin_files) {
    try {
      f.twins.push_back(nlohmann::json::parse(read_text(path)));
    } catch (const nlohmann::json::exception& err) {
      throw UsageError(path + ": " + err.what());
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
                               {"checkpoint_every", f.checkpoint_every}};
    if (!f.run.device_paths.empty()) {
      settings["devices"] = f.run.device_paths;
      settings["format"] = f.run.serial_format;
    }
    if (!f.twins.empty()) settings["twins"] = f.twins;
    write_text_atomic(dir + "/run.json", settings.dump(2) + "\n");
    write_text_atomic(dir + "/curves.csv", kCurvesHeader);
  }
  if (resuming) trim_curves(dir + "/curves.csv", run->trainer->steps());
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

  auto checkpoint = [&] { save_checkpoint_file(dir + "/checkpoint.bin", capture(*run)); };
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

Handler add_train(CLI::App& app) {
  auto f = std::make_shared<TrainFlags>();
  CLI::App* c = app.add_subcommand("train", "Train a physical neural network; write a run folder");
  c->footer(
      "Examples:\n"
      "  patlab train -o runs/first                      the default experiment (moons, "
      "oscillators, PAT)\n"
      "  patlab train exp.json -o runs/a --steps 2000    an experiment file, with one change\n"
      "  patlab train --method in-silico --knob eta=0.4 -o runs/b\n"
      "  patlab train --resume runs/a                    continue from runs/a/checkpoint.bin\n"
      "  patlab train -o runs/hw --device /dev/ttyUSB0   the physical layer on a serial device\n"
      "Ctrl-C (or SIGTERM) saves a checkpoint at the next step and stops (exit 130).\n"
      "A device that fails pauses training: it retries with backoff and continues.\n"
      "The run folder is described in docs/cli.md.");
  c->add_option("experiment", f->experiment_path,
                "Experiment JSON file (default: the built-in experiment)");
  c->add_option("-o,--out", f->out_dir, "Run folder to write (default: runs/<date-time>)");
  c->add_option("--resume", f->resume_dir, "Continue the run in this folder from its checkpoint");
  c->add_option("--steps", f->steps, "Training steps (with --resume: extend the run to this many)");
  c->add_option("--method", f->method, "pat, in-silico, ideal, spsa or fd");
  c->add_option(
      "--data", f->data,
      "Data set: moons, circles, spiral, xor, clusters, vowels, digits8, mnist14, fashion14");
  c->add_option("--system", f->system,
                "Put this catalog system in every physical layer (`patlab systems` lists them)");
  c->add_option("--knob", f->knobs,
                "KEY=VALUE for every physical layer, e.g. eta=0.3 (repeatable)");
  c->add_option_function<uint64_t>(
      "--seed",
      [f](const uint64_t& s) {
        f->seed = s;
        f->seed_set = true;
      },
      "Training seed: initial weights, data order");
  c->add_option("--lr", f->learning_rate, "Learning rate");
  c->add_option("--batch", f->batch_size, "Samples per step");
  c->add_option(
      "--twin", f->twin_files,
      "Twin file from `patlab fit-twin` (once per physical layer, in order): the twin PAT and "
      "in-silico training use");
  c->add_option("--eval-every", f->eval_every,
                "Evaluate on the test set every N steps (default: steps/20)");
  c->add_option("--checkpoint-every", f->checkpoint_every,
                "Write checkpoint.bin every N steps (default: as --eval-every)");
  c->add_option("--stop-after", f->stop_after,
                "Stop (with a checkpoint) after this step, e.g. to fit a job's time limit");
  c->add_flag("--force", f->force, "Overwrite a run folder that already holds a run");
  c->add_flag("-q,--quiet", f->quiet, "No progress output");
  add_run_options(*c, f->run, true);
  return [f] { return do_train(*f); };
}

Handler add_evaluate(CLI::App& app) {
  struct Flags {
    std::string target, pass = "both";
    bool json = false;
    RunOptions run;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c = app.add_subcommand(
      "evaluate", "Test a trained run (its checkpoint) on the device and the twin");
  c->footer(
      "Examples:\n  patlab evaluate runs/a\n  patlab evaluate runs/a/checkpoint.bin --pass device "
      "--json\n"
      "  patlab evaluate runs/a --device /dev/ttyUSB0   the trained network on real hardware");
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
      const auto settings = nlohmann::json::parse(read_text(f->target + "/run.json"));
      if (settings.contains("twins")) twins = settings["twins"].get<std::vector<nlohmann::json>>();
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
