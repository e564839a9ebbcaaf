// native/cli/sweep.cpp: `patlab sweep` (a grid of runs, shardable) and `patlab merge`.
//
// The grid's cells are numbered in one fixed order (knob values, first knob outermost, then
// methods, then seeds), and shard i of N runs the cells whose number is i modulo N. So any
// number of machines can each run one shard with no coordination, and `merge` can tell from
// the numbers alone which cells are missing or were run twice.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli.h"
#include "patlab/emulators/catalog.h"

namespace patlab::cli {

namespace {

std::string exact(double v) {
  // The shortest of %.15g..%.17g that reads back as the same double: exact (merged and
  // unsharded files match byte for byte) and still readable (0.4, not 0.40000000000000002).
  char buf[40];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

struct Cell {
  std::vector<double> knobs;  // in the order of Grid::keys
  std::string method;
  uint64_t seed = 1;
};

struct Grid {
  std::vector<std::string> keys;
  std::vector<std::vector<double>> values;
  std::vector<std::string> methods;
  std::vector<uint64_t> seeds;

  std::vector<Cell> cells() const {
    std::vector<Cell> out;
    std::vector<size_t> idx(keys.size(), 0);
    for (;;) {
      for (const std::string& m : methods)
        for (uint64_t s : seeds) {
          Cell c;
          for (size_t k = 0; k < keys.size(); ++k) c.knobs.push_back(values[k][idx[k]]);
          c.method = m;
          c.seed = s;
          out.push_back(c);
        }
      // Odometer over the knob values, last knob fastest.
      int k = int(keys.size()) - 1;
      while (k >= 0 && ++idx[size_t(k)] == values[size_t(k)].size()) idx[size_t(k--)] = 0;
      if (k < 0) break;
    }
    return out;
  }
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  return out;
}

int do_sweep(const std::string& experiment_path, const std::string& spec_path,
             const std::vector<std::string>& knob_flags, const std::string& methods_flag,
             const std::string& seeds_flag, long long steps, const std::string& shard,
             std::string out, bool quiet, const RunOptions& ro) {
  Experiment base =
      experiment_path.empty() ? default_experiment() : read_experiment_file(experiment_path);
  Grid g;
  if (!spec_path.empty()) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_text(spec_path));
      for (auto it = j.begin(); it != j.end(); ++it)
        if (it.key() != "experiment" && it.key() != "knobs" && it.key() != "methods" &&
            it.key() != "seeds" && it.key() != "steps")
          throw UsageError(spec_path + ": unknown key '" + it.key() +
                           "' (a sweep file has experiment, knobs, methods, seeds, steps)");
      if (j.contains("experiment")) {
        if (!experiment_path.empty())
          throw UsageError("the experiment is given twice: in " + spec_path +
                           " and on the command line");
        const auto& ej = j["experiment"];
        base =
            ej.is_string() ? read_experiment_file(ej.get<std::string>()) : experiment_from_json(ej);
      }
      if (j.contains("knobs"))
        for (auto it = j["knobs"].begin(); it != j["knobs"].end(); ++it) {
          g.keys.push_back(it.key());
          g.values.push_back(it.value().get<std::vector<double>>());
        }
      if (j.contains("methods")) g.methods = j["methods"].get<std::vector<std::string>>();
      if (j.contains("seeds")) g.seeds = j["seeds"].get<std::vector<uint64_t>>();
      if (j.contains("steps")) base.steps = j["steps"].get<long long>();
    } catch (const nlohmann::json::exception& err) {
      throw UsageError(spec_path + ": " + err.what());
    } catch (const std::invalid_argument& err) {
      throw UsageError(spec_path + ": " + err.what());
    }
  }
  for (const std::string& kv : knob_flags) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos)
      throw UsageError("--knob " + kv + ": write KEY=V1,V2,..., e.g. --knob eta=0,0.25,0.5");
    g.keys.push_back(kv.substr(0, eq));
    g.values.push_back(parse_double_list(kv.substr(eq + 1), "--knob " + kv));
  }
  if (!methods_flag.empty()) g.methods = split(methods_flag, ',');
  if (!seeds_flag.empty()) g.seeds = parse_int_list(seeds_flag, "--seeds");
  if (g.methods.empty()) g.methods = {method_name(base.train.method)};
  if (g.seeds.empty()) g.seeds = {base.train.seed};
  if (steps > 0) base.steps = steps;
  for (size_t k = 0; k < g.keys.size(); ++k) {
    if (g.values[k].empty()) throw UsageError("knob " + g.keys[k] + ": no values");
    for (size_t j = 0; j < k; ++j)
      if (g.keys[j] == g.keys[k]) throw UsageError("knob " + g.keys[k] + " is swept twice");
  }
  for (const std::string& m : g.methods) {
    try {
      method_from_name(m);
    } catch (const std::invalid_argument& err) {
      throw UsageError(std::string("--method: ") + err.what());
    }
  }

  long long shard_i = 0, shard_n = 1;
  if (!shard.empty()) {
    const auto parts = split(shard, '/');
    char* e1 = nullptr;
    char* e2 = nullptr;
    if (parts.size() == 2) {
      shard_i = std::strtoll(parts[0].c_str(), &e1, 10);
      shard_n = std::strtoll(parts[1].c_str(), &e2, 10);
    }
    if (parts.size() != 2 || *e1 || *e2 || parts[0].empty() || parts[1].empty() || shard_n < 1 ||
        shard_i < 0 || shard_i >= shard_n)
      throw UsageError(
          "--shard " + shard +
          ": write I/N with 0 <= I < N, e.g. --shard 0/4 "
          "(on Slurm: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=0-3)");
  }
  if (out.empty())
    out = shard.empty()
              ? "sweep.csv"
              : "sweep-" + std::to_string(shard_i) + "of" + std::to_string(shard_n) + ".csv";

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

  std::string header = "cell,cells,method,seed";
  for (const std::string& k : g.keys) header += "," + k;
  header += ",steps,test_loss_device,device_accuracy,twin_accuracy,queries\n";
  const std::string tmp = out + ".partial";
  std::ofstream f(tmp, std::ios::trunc);
  if (!f) throw std::runtime_error("cannot write " + tmp);
  f << header;
  install_stop_handlers();
  long long mine = 0, done = 0;
  for (size_t i = 0; i < cells.size(); ++i) mine += (long long)i % shard_n == shard_i;
  if (!quiet)
    std::fprintf(stderr,
                 "sweep: %zu cells, shard %lld/%lld runs %lld of them, %lld steps each -> %s\n",
                 cells.size(), shard_i, shard_n, mine, base.steps, out.c_str());
  for (size_t i = 0; i < cells.size(); ++i) {
    if ((long long)i % shard_n != shard_i) continue;
    if (g_stop) {
      std::fprintf(stderr, "patlab: sweep interrupted; finished cells are in %s\n", tmp.c_str());
      return kExitInterrupted;
    }
    auto run = make_run(exps[i], ro);
    while (run->trainer->steps() < exps[i].steps) run->trainer->step();
    const Evaluation dev = run->trainer->evaluate(run->test, Pass::Device);
    const Evaluation twin = run->trainer->evaluate(run->test, Pass::Twin);
    const Cell& c = cells[i];
    f << i << ',' << cells.size() << ',' << c.method << ',' << c.seed;
    for (double v : c.knobs) f << ',' << exact(v);
    f << ',' << exps[i].steps << ',' << exact(dev.loss) << ',' << exact(dev.accuracy) << ','
      << exact(twin.accuracy) << ',' << run->net.device_queries() << '\n';
    f.flush();
    ++done;
    if (!quiet) {
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

// "1-3,7" for people.
std::string ranges(const std::vector<long long>& v) {
  std::string s;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    s += (s.empty() ? "" : ",") + std::to_string(v[i]) + (j > i ? "-" + std::to_string(v[j]) : "");
    i = j + 1;
  }
  return s;
}

int do_merge(const std::vector<std::string>& inputs, const std::string& out, bool allow_missing) {
  std::string header;
  long long total = -1;
  std::map<long long, std::string> rows;
  std::map<long long, std::string> source;
  std::vector<std::string> problems;
  for (const std::string& path : inputs) {
    std::istringstream in(read_text(path));
    std::string line;
    if (!std::getline(in, line) || line.rfind("cell,cells,", 0) != 0)
      throw UsageError(path +
                       ": not a sweep result (its first line should start with cell,cells,)");
    if (header.empty()) header = line;
    if (line != header)
      throw UsageError(path + ": its columns differ from " + inputs[0] +
                       "'s: these files are not from the same sweep");
    int n = 1;
    while (std::getline(in, line)) {
      ++n;
      if (line.empty()) continue;
      const auto f = split(line, ',');
      char* end = nullptr;
      const long long cell = f.size() > 1 ? std::strtoll(f[0].c_str(), &end, 10) : -1;
      const long long cells = f.size() > 1 ? std::atoll(f[1].c_str()) : -1;
      if (f.size() != split(header, ',').size() || cell < 0 || (end && *end))
        throw UsageError(path + ":" + std::to_string(n) + ": malformed row");
      if (total < 0) total = cells;
      if (cells != total)
        throw UsageError(path + ":" + std::to_string(n) + ": the sweep has " +
                         std::to_string(cells) + " cells here but " + std::to_string(total) +
                         " elsewhere: mixed sweeps?");
      auto it = rows.find(cell);
      if (it != rows.end()) {
        if (it->second != line) {
          problems.push_back("cell " + std::to_string(cell) + " differs between " + source[cell] +
                             " and " + path);
        } else {
          std::fprintf(stderr,
                       "patlab merge: cell %lld is in both %s and %s (identical; kept once)\n",
                       cell, source[cell].c_str(), path.c_str());
        }
        continue;
      }
      rows[cell] = line;
      source[cell] = path;
    }
  }
  std::vector<long long> missing;
  for (long long c = 0; c < total; ++c)
    if (!rows.count(c)) missing.push_back(c);
  for (const auto& [cell, line] : rows)
    if (cell >= total)
      problems.push_back("cell " + std::to_string(cell) + " is beyond the sweep's " +
                         std::to_string(total));
  for (const std::string& p : problems) std::fprintf(stderr, "patlab merge: %s\n", p.c_str());
  if (!missing.empty())
    std::fprintf(stderr,
                 "patlab merge: %zu of %lld cells missing: %s (rerun the shards that hold them, or "
                 "pass --allow-missing)\n",
                 missing.size(), total, ranges(missing).c_str());
  if (!problems.empty() || (!missing.empty() && !allow_missing)) return kExitFailure;
  std::string text = header + "\n";
  for (const auto& [cell, line] : rows) text += line + "\n";
  write_text_atomic(out, text);
  std::printf("%s: %zu cells from %zu files\n", out.c_str(), rows.size(), inputs.size());
  return kExitOk;
}

}  // namespace

Handler add_sweep(CLI::App& app) {
  struct Flags {
    std::string experiment, spec, methods, seeds, shard, out;
    std::vector<std::string> knobs;
    long long steps = 0;
    bool quiet = false;
    RunOptions run;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c = app.add_subcommand(
      "sweep", "Train a grid of runs over knobs, methods and seeds; one CSV row per run");
  c->footer(
      "Cells are numbered knob values first (first knob outermost), then methods, then seeds.\n"
      "--shard I/N runs cells I, I+N, I+2N, ...: start N copies anywhere, then `patlab merge`.\n"
      "Examples:\n"
      "  patlab sweep --knob eta=0,0.25,0.5 --method pat,in-silico --seeds 1-3 --steps 300\n"
      "  patlab sweep --spec sweep.json --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\n"
      "  patlab merge sweep-*of4.csv -o all.csv\n"
      "A sweep file: {\"experiment\": \"exp.json\", \"knobs\": {\"eta\": [0, 0.5]}, \"methods\": "
      "[\"pat\"],\n"
      "               \"seeds\": [1, 2], \"steps\": 300}");
  c->add_option("experiment", f->experiment,
                "Experiment JSON file (default: the built-in experiment)");
  c->add_option("--spec", f->spec, "Sweep JSON file (flags add to it)");
  c->add_option("--knob", f->knobs, "KEY=V1,V2,... applied to every physical layer (repeatable)");
  c->add_option("--method", f->methods, "Comma-separated methods: pat, in-silico, ideal, spsa, fd");
  c->add_option("--seeds", f->seeds, "Seeds, e.g. 1-5 or 1,4,9 (training and data seed)");
  c->add_option("--steps", f->steps, "Training steps per cell");
  c->add_option("--shard", f->shard, "I/N: run only every N-th cell starting at I (0 <= I < N)");
  c->add_option("-o,--out", f->out,
                "Result CSV (default: sweep.csv, or sweep-IofN.csv for a shard)");
  c->add_flag("-q,--quiet", f->quiet, "No progress output");
  add_run_options(*c, f->run, false);
  return [f] {
    return do_sweep(f->experiment, f->spec, f->knobs, f->methods, f->seeds, f->steps, f->shard,
                    f->out, f->quiet, f->run);
  };
}

Handler add_merge(CLI::App& app) {
  struct Flags {
    std::vector<std::string> inputs;
    std::string out;
    bool allow_missing = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c = app.add_subcommand(
      "merge", "Join the CSVs of a sharded sweep, checking for missing and duplicate cells");
  c->footer(
      "Example:\n  patlab merge sweep-0of4.csv sweep-1of4.csv sweep-2of4.csv sweep-3of4.csv -o "
      "all.csv\n"
      "Exit code 1 (and nothing written) when cells are missing or disagree.");
  c->add_option("inputs", f->inputs, "Shard CSV files")->required();
  c->add_option("-o,--out", f->out, "Merged CSV")->required();
  c->add_flag("--allow-missing", f->allow_missing, "Write the merged file even with cells missing");
  return [f] { return do_merge(f->inputs, f->out, f->allow_missing); };
}

}  // namespace patlab::cli
