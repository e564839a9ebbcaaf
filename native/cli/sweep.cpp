// native/cli/sweep.cpp: `patlab sweep`, a grid of runs over knob values, methods and seeds,
// one CSV row per cell, shardable across machines (sweep_grid.h: how cells are numbered and
// identified; merge.cpp joins the shards).
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>

#include "patlab/emulators/catalog.h"
#include "sweep_grid.h"

namespace patlab::cli {

namespace {

// Reads a sweep file into g, base and steps. Every key is checked, and a message names it:
// "sweep.json: knobs.eta[2]: expected a finite number, got "x"". Knobs keep the file's order.
void read_spec(const std::string& path, bool experiment_given, Experiment& base, Grid& g,
               long long& steps) {
  using OJ = nlohmann::ordered_json;
  const std::string text = read_text(path);
  // Where the parser is (knobs.eta[2]), for messages; and keys given twice, of which the JSON
  // library would silently keep one.
  struct Frame {
    bool array = false;
    std::string key;
    size_t index = 0;
    std::set<std::string> keys;
  };
  std::vector<Frame> at;
  auto where = [&] {
    std::string p;
    for (const Frame& f : at)
      if (f.array)
        p += "[" + std::to_string(f.index) + "]";
      else if (!f.key.empty())
        p += (p.empty() ? "" : ".") + f.key;
    return p;
  };
  auto one_done = [&] {
    if (!at.empty() && at.back().array) ++at.back().index;
  };
  OJ j;
  try {
    j = OJ::parse(text, [&](int, OJ::parse_event_t ev, OJ& parsed) {
      switch (ev) {
        case OJ::parse_event_t::object_start:
          at.push_back(Frame{});
          break;
        case OJ::parse_event_t::array_start:
          at.push_back(Frame{true, "", 0, {}});
          break;
        case OJ::parse_event_t::key:
          at.back().key = parsed.get<std::string>();
          if (!at.back().keys.insert(at.back().key).second)
            throw UsageError(path + ": " + where() + ": the key is given twice");
          break;
        case OJ::parse_event_t::object_end:
        case OJ::parse_event_t::array_end:
          at.pop_back();
          one_done();
          break;
        case OJ::parse_event_t::value:
          one_done();
          break;
      }
      return true;
    });
  } catch (const nlohmann::json::exception& err) {
    // The library's "[json.exception.parse_error.101] " tag means nothing to a user.
    std::string what = err.what();
    if (what.rfind("[json.exception.", 0) == 0 && what.find("] ") != std::string::npos)
      what = what.substr(what.find("] ") + 2);
    const std::string p = where();
    if (err.id == 406)  // number overflow, e.g. 1e999
      throw UsageError(path + ": " + (p.empty() ? "" : p + ": ") + what +
                       " (a number must be finite: at most about 1.8e308 in size)");
    throw UsageError(path + ": not valid JSON" + (p.empty() ? "" : " (near " + p + ")") + ": " +
                     what);
  }
  auto bad = [&](const std::string& key, const std::string& msg) {
    return UsageError(path + ": " + key + ": " + msg);
  };
  if (!j.is_object())
    throw UsageError(path + ": expected a JSON object, e.g. {\"knobs\": {\"eta\": [0, 0.5]}, " +
                     "\"steps\": 300}");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "experiment" && it.key() != "knobs" && it.key() != "methods" &&
        it.key() != "seeds" && it.key() != "steps")
      throw UsageError(path + ": unknown key '" + it.key() +
                       "' (a sweep file has experiment, knobs, methods, seeds, steps)");
  if (j.contains("experiment")) {
    if (experiment_given)
      throw UsageError("the experiment is given twice: in " + path + " and on the command line");
    const OJ& ej = j["experiment"];
    if (ej.is_string() && !ej.get<std::string>().empty()) {
      base = read_experiment_file(ej.get<std::string>());
    } else if (ej.is_object()) {
      try {
        base = experiment_from_json(nlohmann::json::parse(ej.dump()));
      } catch (const std::invalid_argument& err) {
        throw bad("experiment", err.what());
      } catch (const nlohmann::json::exception& err) {
        throw bad("experiment", err.what());
      }
    } else {
      throw bad("experiment",
                "expected an experiment file's name or an experiment object, got " + ej.dump());
    }
  }
  if (j.contains("knobs")) {
    const OJ& kj = j["knobs"];
    if (!kj.is_object())
      throw bad("knobs", "expected knob names with lists of values, e.g. {\"eta\": [0, 0.25]}, " +
                             std::string("got ") + kj.dump());
    for (auto it = kj.begin(); it != kj.end(); ++it) {
      const std::string key = "knobs." + it.key();
      const OJ& vs = it.value();
      if (!vs.is_array() || vs.empty())
        throw bad(key,
                  "expected a list of one or more numbers, e.g. [0, 0.25, 0.5], got " + vs.dump());
      std::vector<double> values;
      for (size_t i = 0; i < vs.size(); ++i) {
        if (!vs[i].is_number() || !std::isfinite(vs[i].get<double>()))
          throw bad(key + "[" + std::to_string(i) + "]",
                    "expected a finite number, got " + vs[i].dump());
        values.push_back(vs[i].get<double>());
      }
      require_distinct(values, path + ": " + key);
      g.keys.push_back(it.key());
      g.values.push_back(values);
    }
  }
  if (j.contains("methods")) {
    const OJ& mj = j["methods"];
    if (!mj.is_array() || mj.empty())
      throw bad("methods",
                "expected a list of one or more methods, e.g. [\"pat\", \"in-silico\"], " +
                    std::string("got ") + mj.dump());
    for (size_t i = 0; i < mj.size(); ++i) {
      if (!mj[i].is_string())
        throw bad(
            "methods[" + std::to_string(i) + "]",
            "expected a method's name (pat, in-silico, ideal, spsa, fd), got " + mj[i].dump());
      g.methods.push_back(mj[i].get<std::string>());
    }
    check_methods(g.methods, path + ": methods");
  }
  if (j.contains("seeds")) {
    const OJ& sj = j["seeds"];
    if (!sj.is_array() || sj.empty() || sj.size() > kMaxCells)
      throw bad("seeds", "expected a list of 1 to " + std::to_string(kMaxCells) +
                             " seeds, e.g. [1, 2, 3], got " +
                             (sj.is_array() ? std::to_string(sj.size()) + " of them" : sj.dump()));
    std::set<uint64_t> seen;
    for (size_t i = 0; i < sj.size(); ++i) {
      if (!sj[i].is_number_unsigned())
        throw bad("seeds[" + std::to_string(i) + "]",
                  "expected a whole number from 0 to " + kMaxSeed + ", got " + sj[i].dump());
      const uint64_t s = sj[i].get<uint64_t>();
      if (!seen.insert(s).second)
        throw bad("seeds", "seed " + std::to_string(s) + " is listed twice");
      g.seeds.push_back(s);
    }
  }
  if (j.contains("steps")) {
    const OJ& st = j["steps"];
    if (!st.is_number_unsigned() || st.get<uint64_t>() < 1 ||
        st.get<uint64_t>() > uint64_t(LLONG_MAX))
      throw bad("steps", "expected a whole number from 1 to " + kMaxSteps + ", got " + st.dump());
    steps = st.get<long long>();
  }
}

struct SweepFlags {
  std::string experiment, spec;
  std::vector<std::string> knobs;
  std::optional<std::string> methods, seeds, steps, shard, out;  // unset: not given
  bool quiet = false;
  RunOptions run;
};

int do_sweep(const SweepFlags& fl) {
  Experiment base =
      fl.experiment.empty() ? default_experiment() : read_experiment_file(fl.experiment);
  Grid g;
  long long spec_steps = -1;  // -1: the sweep file does not set it
  if (!fl.spec.empty()) read_spec(fl.spec, !fl.experiment.empty(), base, g, spec_steps);
  for (const std::string& kv : fl.knobs) {
    g.values.push_back(parse_knob_values(kv));
    g.keys.push_back(kv.substr(0, kv.find('=')));
  }
  if (fl.methods) {
    g.methods = split(*fl.methods, ',');
    check_methods(g.methods, "--method " + *fl.methods);
  }
  if (fl.seeds) g.seeds = parse_seeds(*fl.seeds);
  if (g.methods.empty()) g.methods = {method_name(base.train.method)};
  if (g.seeds.empty()) g.seeds = {base.train.seed};
  if (spec_steps > 0) base.steps = spec_steps;
  if (fl.steps) {
    uint64_t v = 0;
    if (!parse_whole(*fl.steps, uint64_t(LLONG_MAX), v) || v < 1)
      throw UsageError("--steps " + *fl.steps +
                       ": expected a whole number of steps per cell from 1 to " + kMaxSteps);
    base.steps = (long long)v;
  }
  for (size_t k = 0; k < g.keys.size(); ++k)
    for (size_t j = 0; j < k; ++j)
      if (g.keys[j] == g.keys[k]) throw UsageError("knob " + g.keys[k] + " is swept twice");

  // The grid's shape; its size before it is built.
  std::vector<uint64_t> shape;
  for (const auto& vs : g.values) shape.push_back(vs.size());
  shape.push_back(g.methods.size());
  shape.push_back(g.seeds.size());
  std::vector<std::string> dims;
  uint64_t total = 1;
  for (uint64_t n : shape) dims.push_back(std::to_string(n));
  for (uint64_t n : shape)
    if (total > kMaxCells / n)
      throw UsageError("the grid (" + join(dims, " x ") + ") has more than " +
                       std::to_string(kMaxCells) + " cells, more than a sweep runs: split it");
    else
      total *= n;

  uint64_t shard_i = 0, shard_n = 1;
  if (fl.shard) {
    const auto parts = split(*fl.shard, '/');
    if (parts.size() != 2 || !parse_whole(parts[0], uint64_t(LLONG_MAX), shard_i) ||
        !parse_whole(parts[1], uint64_t(LLONG_MAX), shard_n) || shard_n < 1 || shard_i >= shard_n)
      throw UsageError(
          "--shard " + *fl.shard +
          ": write I/N, whole numbers with 0 <= I < N and N at most the number of cells, "
          "e.g. --shard 0/4 "
          "(on Slurm: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=0-3)");
    if (shard_n > total)
      throw UsageError("--shard " + *fl.shard + ": " + std::to_string(shard_n) +
                       " shards of a sweep of " + std::to_string(total) +
                       (total == 1 ? " cell" : " cells") +
                       " would leave some with none: use N from 1 to " + std::to_string(total));
  }
  std::string out;
  if (fl.out) {
    out = *fl.out;
    if (out.empty()) throw UsageError("-o: the result file's name is empty");
    for (const std::string& in : {fl.experiment, fl.spec})
      if (!in.empty() && same_file(out, in))
        throw UsageError("-o " + out + " is the sweep's own input " + in +
                         ": the result would overwrite it");
  } else {
    out = fl.shard ? "sweep-" + std::to_string(shard_i) + "of" + std::to_string(shard_n) + ".csv"
                   : "sweep.csv";
  }

  const std::vector<Cell> cells = g.cells();
  // Check every cell's experiment before running any: a typo must not surface hours in.
  std::vector<Experiment> exps;
  for (const Cell& c : cells) {
    Experiment e = base;
    for (size_t k = 0; k < g.keys.size(); ++k) apply_knob(e, g.keys[k], c.knobs[k]);
    e.train.method = method_from_name(c.method);
    e.train.seed = c.seed;
    e.data.seed = c.seed;
    try {
      e = experiment_from_json(to_json(e));
    } catch (const std::invalid_argument& err) {
      throw UsageError(err.what());
    }
    exps.push_back(e);
  }

  // The sweep's identity, in every row: its shape, a hash of its axes as the rows print them
  // (merge recomputes it from the rows), and a hash of every cell's complete experiment in
  // order (steps, data, network, every setting). Shards of one sweep compute the same.
  uint64_t cells_hash = fnv1a64("patlab sweep cells 1\n" + join(g.keys, ",") + "\n");
  for (const Experiment& e : exps) cells_hash = fnv1a64(to_json(e).dump() + "\n", cells_hash);
  const std::string identity =
      join(dims, "x") + ":" + axes_hash(g.keys, g.axes()) + ":" + hex16(cells_hash);

  std::string header = kHeadColumns;
  for (const std::string& k : g.keys) header += "," + k;
  header += kTailColumns + "\n";
  const std::string tmp = out + ".partial";
  std::ofstream f(tmp, std::ios::trunc);
  if (!f) throw std::runtime_error("cannot write " + tmp);
  f << header;
  f.flush();
  install_stop_handlers();
  long long mine = 0, done = 0;
  for (size_t i = 0; i < cells.size(); ++i) mine += i % shard_n == shard_i;
  if (!fl.quiet)
    std::fprintf(stderr,
                 "sweep %s: %zu cells, shard %llu/%llu runs %lld of them, %lld steps each -> %s\n",
                 identity.c_str(), cells.size(), (unsigned long long)shard_i,
                 (unsigned long long)shard_n, mine, base.steps, out.c_str());
  auto interrupted = [&] {
    std::fprintf(stderr, "patlab: sweep interrupted; %s finished in %s\n",
                 done == 1 ? "the 1 cell" : ("the " + std::to_string(done) + " cells").c_str(),
                 tmp.c_str());
    return kExitInterrupted;
  };
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i % shard_n != shard_i) continue;
    if (g_stop) return interrupted();
    auto run = make_run(exps[i], fl.run);
    // A stop request is honoured between steps, not only between cells: a cell can be long,
    // and so can one step (many SPSA draws, a long twin refit), which the trainer interrupts.
    run->trainer->set_interrupt([] { return g_stop != 0; });
    try {
      while (run->trainer->steps() < exps[i].steps) {
        if (g_stop) return interrupted();
        run->trainer->step();
      }
    } catch (const Interrupted&) {
      return interrupted();
    } catch (const TrainingError& err) {
      // A cell that diverges has no accuracy to report; the sweep stops rather than write a
      // row that is not a result. Finished cells stay in the .partial file.
      throw TrainingError("cell " + std::to_string(i) + " (" + cells[i].method + ", seed " +
                          std::to_string(cells[i].seed) + ") diverged at " + err.what() +
                          ". The cells finished so far are in " + tmp +
                          "; change the experiment's learning rate or schedule");
    }
    const Evaluation dev = run->trainer->evaluate(run->test, Pass::Device);
    const Evaluation twin = run->trainer->evaluate(run->test, Pass::Twin);
    const Cell& c = cells[i];
    f << i << ',' << cells.size() << ',' << identity << ',' << c.method << ',' << c.seed;
    for (double v : c.knobs) f << ',' << exact(v);
    f << ',' << exps[i].steps << ',' << exact(dev.loss) << ',' << exact(dev.accuracy) << ','
      << exact(twin.accuracy) << ',' << run->net.device_queries() << '\n';
    f.flush();
    if (!f) throw std::runtime_error("cannot write " + tmp);
    ++done;
    if (!fl.quiet) {
      std::fprintf(stderr, "cell %zu (%lld/%lld): %s seed %llu", i, done, mine, c.method.c_str(),
                   (unsigned long long)c.seed);
      for (size_t k = 0; k < g.keys.size(); ++k)
        std::fprintf(stderr, " %s=%g", g.keys[k].c_str(), c.knobs[k]);
      std::fprintf(stderr, ": device accuracy %.3f, twin %.3f\n", dev.accuracy, twin.accuracy);
    }
  }
  f.close();
  if (std::rename(tmp.c_str(), out.c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp + " to " + out);
  std::printf("%s: %lld cells\n", out.c_str(), done);
  return kExitOk;
}

}  // namespace

// The end of `patlab sweep --help`: examples, and what to expect.
const char* const kSweepFooter =
    "Cells are numbered knob values first (first knob outermost), then methods, then seeds.\n"
    "--shard I/N runs cells I, I+N, I+2N, ...: start N copies anywhere, then `patlab merge`.\n"
    "Every row names its sweep (column sweep), so merge refuses shards of different sweeps.\n"
    "Examples:\n"
    "  patlab sweep --knob eta=0,0.25,0.5 --method pat,in-silico --seeds 1-3 --steps 300\n"
    "  patlab sweep --spec sweep.json --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\n"
    "  patlab merge sweep-*of4.csv -o all.csv\n"
    "A sweep file: {\"experiment\": \"exp.json\", \"knobs\": {\"eta\": [0, 0.5]}, \"methods\": "
    "[\"pat\"],\n"
    "               \"seeds\": [1, 2], \"steps\": 300}";

Handler add_sweep(CLI::App& app) {
  struct Flags {
    SweepFlags sweep;
    std::string methods, seeds, steps, shard, out;
    CLI::Option *methods_opt, *seeds_opt, *steps_opt, *shard_opt, *out_opt;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c = add_command(
      app, "sweep", "Train a grid of runs over knobs, methods and seeds; one CSV row per run",
      kSweepFooter);
  c->add_option("experiment", f->sweep.experiment,
                "Experiment JSON file (default: the built-in experiment)");
  c->add_option("--spec", f->sweep.spec, "Sweep JSON file (flags add to it)");
  c->add_option("--knob", f->sweep.knobs,
                "KEY=V1,V2,... applied to every physical layer (repeatable)");
  f->methods_opt = c->add_option("--method", f->methods,
                                 "Comma-separated methods: pat, in-silico, ideal, spsa, fd");
  f->seeds_opt =
      c->add_option("--seeds", f->seeds, "Seeds, e.g. 1-5 or 1,4,9 (training and data seed)");
  f->steps_opt =
      c->add_option("--steps", f->steps, "Training steps per cell (1 or more)")->type_name("INT");
  f->shard_opt =
      c->add_option("--shard", f->shard, "I/N: run only every N-th cell starting at I (0 <= I < N)")
          ->type_name("I/N");
  f->out_opt = c->add_option("-o,--out", f->out,
                             "Result CSV (default: sweep.csv, or sweep-IofN.csv for a shard)");
  c->add_flag("-q,--quiet", f->sweep.quiet, "No progress output");
  add_run_options(*c, f->sweep.run, false);
  return [f] {
    // A flag that is given, even empty, is checked; one that is not takes the default.
    auto given = [](CLI::Option* o, const std::string& v) {
      return o->count() > 0 ? std::optional<std::string>(v) : std::nullopt;
    };
    f->sweep.methods = given(f->methods_opt, f->methods);
    f->sweep.seeds = given(f->seeds_opt, f->seeds);
    f->sweep.steps = given(f->steps_opt, f->steps);
    f->sweep.shard = given(f->shard_opt, f->shard);
    f->sweep.out = given(f->out_opt, f->out);
    return do_sweep(f->sweep);
  };
}

}  // namespace patlab::cli
