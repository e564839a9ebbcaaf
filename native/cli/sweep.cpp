// native/cli/sweep.cpp: `patlab sweep` (a grid of runs, shardable) and `patlab merge`.
//
// The grid's cells are numbered in one fixed order (knob values, first knob outermost, then
// methods, then seeds), and shard i of N runs the cells whose number is i modulo N. So any
// number of machines can each run one shard with no coordination, and `merge` can tell from
// the numbers alone which cells are missing or were run twice.
//
// Every row carries its sweep's identity (column `sweep`), SHAPE:AXES:CELLS: the number of
// values on each axis in numbering order (each knob, methods, seeds; e.g. 3x2x5), a hash of the
// axes as the rows print them, and a hash of every cell's complete experiment. Shards of one
// sweep agree on it and any other setting changes it, so merge refuses mixtures. With the shape,
// merge knows where each cell number lies on every axis and checks each row's method, seed and
// knob values against it; with every position seen, it recomputes AXES from the rows.
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "cli.h"
#include "patlab/emulators/catalog.h"

namespace patlab::cli {

namespace {

// Every cell's experiment is built (and checked) before the first cell runs; this keeps a typo
// such as --seeds 1-100000000 from filling the memory instead.
constexpr uint64_t kMaxCells = 1000000;

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

// Splits at every separator and keeps empty fields: "a,,b," -> a, "", b, "".
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s)
    if (c == sep)
      out.emplace_back();
    else
      out.back() += c;
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

// A whole number in plain decimal digits, at most `max` (no sign, space, fraction or overflow).
bool parse_whole(const std::string& s, uint64_t max, uint64_t& out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = uint64_t(c - '0');
    if (d > max || v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

// A number, all of s (strtod's syntax: also nan and inf), within a double's range.
bool parse_number(const std::string& s, double& out) {
  if (s.empty() || std::isspace((unsigned char)s[0])) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (*end != '\0' || errno == ERANGE) return false;
  out = v;
  return true;
}

bool parse_finite(const std::string& s, double& out) {
  return parse_number(s, out) && std::isfinite(out);
}

const std::string kMaxSeed = std::to_string(UINT64_MAX);
const std::string kMaxSteps = std::to_string(LLONG_MAX);

// Each value is one position on its axis of the grid, so a value listed twice is a mistake.
void require_distinct(const std::vector<double>& values, const std::string& what) {
  std::set<double> seen;  // 0 and -0 count as the same value
  for (double v : values)
    if (const auto [it, fresh] = seen.insert(v); !fresh)
      throw UsageError(
          what + ": the value " + exact(v) + " is listed twice" +
          (exact(*it) == exact(v) ? "" : " (as " + exact(*it) + " and " + exact(v) + ")"));
}

void check_methods(const std::vector<std::string>& methods, const std::string& what) {
  std::set<std::string> seen;
  for (const std::string& m : methods) {
    try {
      method_from_name(m);
    } catch (const std::invalid_argument& err) {
      throw UsageError(what + ": " + err.what());
    }
    if (!seen.insert(m).second) throw UsageError(what + ": method " + m + " is listed twice");
  }
}

// "--knob eta=0,0.25,0.5": finite, distinct numbers (the catalog checks the knob's range).
std::vector<double> parse_knob_values(const std::string& flag) {
  const size_t eq = flag.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError("--knob " + flag + ": write KEY=V1,V2,..., e.g. --knob eta=0,0.25,0.5");
  const std::string what = "--knob " + flag;
  std::vector<double> out;
  for (const std::string& item : split(flag.substr(eq + 1), ',')) {
    double v = 0;
    if (!parse_finite(item, v))
      throw UsageError(what + ": '" + item +
                       "' is not a finite number (write the values separated by commas, e.g. " +
                       "--knob " + flag.substr(0, eq) + "=0,0.25,0.5)");
    out.push_back(v);
  }
  require_distinct(out, what);
  return out;
}

// "--seeds 1-3,7": distinct whole numbers from 0 to 2^64-1.
std::vector<uint64_t> parse_seeds(const std::string& list) {
  const std::string what = "--seeds " + list;
  std::vector<uint64_t> out;
  std::set<uint64_t> seen;
  for (const std::string& item : split(list, ',')) {
    const size_t dash = item.find('-');
    uint64_t a = 0, b = 0;
    const bool ok = dash == std::string::npos
                        ? parse_whole(item, UINT64_MAX, a) && (b = a, true)
                        : parse_whole(item.substr(0, dash), UINT64_MAX, a) &&
                              parse_whole(item.substr(dash + 1), UINT64_MAX, b);
    if (!ok)
      throw UsageError(what + ": '" + item +
                       "' is neither a seed nor a range of seeds (whole numbers from 0 to " +
                       kMaxSeed + "; write e.g. 1-5 or 1,4,9)");
    if (b < a)
      throw UsageError(what + ": the range '" + item + "' runs backwards (write e.g. 1-5)");
    for (uint64_t s = a;; ++s) {
      if (!seen.insert(s).second)
        throw UsageError(what + ": seed " + std::to_string(s) + " is listed twice");
      out.push_back(s);
      if (out.size() > kMaxCells)
        throw UsageError(what + ": more than " + std::to_string(kMaxCells) +
                         " seeds, more cells than a sweep runs");
      if (s == b) break;
    }
  }
  return out;
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

  // The axes in numbering order (each knob, methods, seeds), each as its values print in a row.
  std::vector<std::vector<std::string>> axes() const {
    std::vector<std::vector<std::string>> out;
    for (const auto& vs : values) {
      out.emplace_back();
      for (double v : vs) out.back().push_back(exact(v));
    }
    out.push_back(methods);
    out.emplace_back();
    for (uint64_t s : seeds) out.back().push_back(std::to_string(s));
    return out;
  }
};

// A cell number's position on each axis: the odometer of Grid::cells(), seeds fastest.
std::vector<uint64_t> positions(uint64_t cell, const std::vector<uint64_t>& shape) {
  std::vector<uint64_t> p(shape.size());
  for (size_t a = shape.size(); a-- > 0;) {
    p[a] = cell % shape[a];
    cell /= shape[a];
  }
  return p;
}

// The hash of a grid's axes as rows print them: a row of the merged file can be checked
// against it without the experiment.
std::string axes_hash(const std::vector<std::string>& keys,
                      const std::vector<std::vector<std::string>>& axes) {
  std::string text = "patlab sweep axes 1\n";
  for (size_t a = 0; a < axes.size(); ++a)
    text += (a < keys.size()    ? "knob " + keys[a]
             : a == keys.size() ? "methods"
                                : "seeds") +
            "=" + join(axes[a], ",") + "\n";
  return hex16(fnv1a64(text));
}

// A sweep's identity as its rows carry it: SHAPE:AXES:CELLS.
struct Identity {
  std::vector<uint64_t> shape;  // values per axis: each knob, methods, seeds
  std::string axes, cells;      // 16 hex digits each
  uint64_t total = 1;
};

bool is_hex16(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool parse_identity(const std::string& s, size_t n_axes, Identity& id) {
  const auto parts = split(s, ':');
  if (parts.size() != 3 || !is_hex16(parts[1]) || !is_hex16(parts[2])) return false;
  const auto dims = split(parts[0], 'x');
  if (dims.size() != n_axes) return false;
  id = Identity{};
  for (const std::string& d : dims) {
    uint64_t n = 0;
    if (!parse_whole(d, kMaxCells, n) || n < 1 || id.total > kMaxCells / n) return false;
    id.shape.push_back(n);
    id.total *= n;
  }
  id.axes = parts[1];
  id.cells = parts[2];
  return true;
}

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

// Whether two paths name one file (a.csv and ./a.csv), or are the same name.
bool same_file(const std::string& a, const std::string& b) {
  if (a == b) return true;
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
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

  std::string header = "cell,cells,sweep,method,seed";
  for (const std::string& k : g.keys) header += "," + k;
  header += ",steps,test_loss_device,device_accuracy,twin_accuracy,queries\n";
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

const std::string kHead = "cell,cells,sweep,method,seed";
const std::string kTail = ",steps,test_loss_device,device_accuracy,twin_accuracy,queries";

// One row of a shard, checked field by field.
struct Row {
  std::string where;  // file:line
  std::string file;
  long long line_no = 0;
  std::string line;
  std::vector<std::string> fields;
  uint64_t cell = 0;
};

// The text of a row's value on axis a (knobs, methods, seeds) of a grid with `knobs` knobs.
const std::string& axis_value(const Row& r, size_t a, size_t knobs) {
  return a < knobs ? r.fields[5 + a] : a == knobs ? r.fields[3] : r.fields[4];
}

int do_merge(const std::vector<std::string>& inputs, const std::string& out, bool allow_missing) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      if (same_file(inputs[i], inputs[j]))
        throw UsageError(inputs[i] + " is given twice" +
                         (inputs[i] == inputs[j] ? "" : " (also as " + inputs[j] + ")"));
    if (same_file(out, inputs[i]))
      throw UsageError("-o " + out + " is also an input: merging would overwrite it; write the " +
                       "merged file elsewhere");
  }

  // Read every file: the columns, and rows with well-formed fields.
  std::string header, header_file;
  std::vector<std::string> keys;
  std::vector<Row> rows;
  std::vector<std::string> identities;                    // in order of first appearance
  std::map<std::string, std::vector<std::string>> files;  // identity -> its files
  std::map<std::pair<std::string, std::string>, std::vector<long long>> lines_of;  // id, file
  std::map<std::string, size_t> rows_in;  // file -> its number of rows
  for (const std::string& path : inputs) {
    const std::string text = read_text(path);
    if (text.empty()) throw UsageError(path + ": an empty file, not a sweep result");
    if (text.rfind("\xEF\xBB\xBF", 0) == 0)
      throw UsageError(path + ": begins with a byte-order mark, so it is not as patlab sweep " +
                       "wrote it (saved by a spreadsheet?)");
    std::vector<std::string> lines = split(text, '\n');
    if (!lines.back().empty())
      throw UsageError(path + ":" + std::to_string(lines.size()) +
                       ": the last line has no line end: the file was cut short (a .partial file "
                       "being written?)");
    lines.pop_back();
    for (std::string& l : lines)  // CRLF line ends (the file went through Windows) are fine
      if (!l.empty() && l.back() == '\r') l.pop_back();

    const std::string& h = lines[0];
    if (h.rfind("cell,cells,", 0) == 0 && h.rfind(kHead, 0) != 0)
      throw UsageError(path + ": written by an older patlab, without the sweep column that " +
                       "identifies its sweep: run its shard again with this patlab");
    const bool shaped = h.size() >= kHead.size() + kTail.size() && h.rfind(kHead, 0) == 0 &&
                        h.compare(h.size() - kTail.size(), kTail.size(), kTail) == 0;
    const std::string middle =
        shaped ? h.substr(kHead.size(), h.size() - kHead.size() - kTail.size()) : "";
    if (!shaped || (!middle.empty() && middle[0] != ','))
      throw UsageError(path + ": not a sweep result (its first line should be " + kHead +
                       ", the knobs, " + kTail.substr(1) + ")");
    if (header.empty()) {
      header = h;
      header_file = path;
      if (!middle.empty()) keys = split(middle.substr(1), ',');
      std::set<std::string> seen;
      for (const std::string& k : keys)
        if (k.empty() || !seen.insert(k).second)
          throw UsageError(path + ": not a sweep result (its knob columns " + middle.substr(1) +
                           " have an empty or repeated name)");
    } else if (h != header) {
      throw UsageError(path + ": its columns (" + h + ") differ from " + header_file + "'s (" +
                       header + "): the files are from different sweeps");
    }
    if (lines.size() == 1)
      throw UsageError(path + ": no rows, only the header (the .partial file of a shard that " +
                       "finished no cell yet?)");

    const std::vector<std::string> names = split(header, ',');
    const size_t ncols = names.size();
    const size_t n_axes = keys.size() + 2;
    for (size_t n = 1; n < lines.size(); ++n) {
      Row r;
      r.file = path;
      r.line_no = (long long)n + 1;
      r.where = path + ":" + std::to_string(n + 1);
      r.line = lines[n];
      if (r.line.empty())
        throw UsageError(r.where + ": a blank line, which patlab sweep never writes (was the " +
                         "file edited?)");
      r.fields = split(r.line, ',');
      if (r.fields.size() != ncols)
        throw UsageError(r.where + ": " + std::to_string(r.fields.size()) + " fields, but the " +
                         "header has " + std::to_string(ncols) + " columns");
      auto bad = [&](size_t col, const std::string& want) {
        return UsageError(r.where + ": " + names[col] + " '" + r.fields[col] + "' is not " + want);
      };
      uint64_t cells = 0, u = 0;
      double d = 0;
      if (!parse_whole(r.fields[0], kMaxCells, r.cell)) throw bad(0, "a cell number");
      if (!parse_whole(r.fields[1], kMaxCells, cells) || cells < 1)
        throw bad(1, "a number of cells (1 to " + std::to_string(kMaxCells) + ")");
      Identity id;
      if (!parse_identity(r.fields[2], n_axes, id))
        throw bad(2, "a sweep's identity (SHAPE:HASH:HASH, the shape giving the number of " +
                         std::string("values of each knob, of methods and of seeds, e.g. ") +
                         join(std::vector<std::string>(n_axes, "2"), "x") + ":...)");
      try {
        method_from_name(r.fields[3]);
      } catch (const std::invalid_argument&) {
        throw bad(3, "a training method (in-silico, pat, ideal, spsa, fd)");
      }
      if (!parse_whole(r.fields[4], UINT64_MAX, u)) throw bad(4, "a seed (0 to " + kMaxSeed + ")");
      for (size_t k = 0; k < keys.size(); ++k)
        if (!parse_finite(r.fields[5 + k], d)) throw bad(5 + k, "a finite number");
      const size_t s = 5 + keys.size();
      if (!parse_whole(r.fields[s], uint64_t(LLONG_MAX), u) || u < 1)
        throw bad(s, "a number of steps (1 to " + kMaxSteps + ")");
      if (!parse_number(r.fields[s + 1], d)) throw bad(s + 1, "a number");
      if (!parse_finite(r.fields[s + 2], d) || d < 0 || d > 1)
        throw bad(s + 2, "an accuracy (0 to 1)");
      if (!parse_finite(r.fields[s + 3], d) || d < 0 || d > 1)
        throw bad(s + 3, "an accuracy (0 to 1)");
      if (!parse_whole(r.fields[s + 4], UINT64_MAX, u)) throw bad(s + 4, "a number of queries");
      if (cells != id.total)
        throw UsageError(r.where + ": cells is " + r.fields[1] + ", but the sweep's shape " +
                         split(r.fields[2], ':')[0] + " has " + std::to_string(id.total));
      if (r.cell >= cells)
        throw UsageError(r.where + ": cell " + r.fields[0] + " is beyond the sweep's " +
                         r.fields[1] + " cells (0 to " + std::to_string(cells - 1) + ")");
      const std::string& ident = r.fields[2];
      if (!files.count(ident)) identities.push_back(ident);
      auto& ln = lines_of[{ident, path}];
      if (ln.empty()) files[ident].push_back(path);
      ln.push_back(r.line_no);
      rows.push_back(std::move(r));
    }
    rows_in[path] = lines.size() - 1;
  }

  // One sweep: the same identity everywhere. Say which files (or lines) are of which.
  if (identities.size() > 1) {
    std::string which;
    for (const std::string& ident : identities) {
      std::vector<std::string> parts;
      for (const std::string& file : files[ident]) {
        const auto& ln = lines_of[{ident, file}];
        parts.push_back(ln.size() == rows_in[file] ? file : file + " lines " + ranges(ln));
      }
      which += (which.empty() ? "" : "; ") + ident + " in " + join(parts, ", ");
    }
    throw UsageError("the files are from different sweeps (a setting differs, e.g. steps, the " +
                     std::string("experiment, a knob, method or seed): sweep ") + which +
                     ". Merge the shards of one sweep");
  }
  Identity id;
  parse_identity(identities[0], keys.size() + 2, id);
  const size_t n_axes = id.shape.size();
  const size_t steps_col = 5 + keys.size();
  // Every cell trains the same number of steps (the identity covers it; this names the row).
  std::map<std::string, std::vector<const Row*>> by_steps;
  for (const Row& r : rows) by_steps[r.fields[steps_col]].push_back(&r);
  if (by_steps.size() > 1) {
    const std::vector<const Row*>* most = nullptr;
    for (const auto& [s, by] : by_steps)
      if (!most || by.size() > most->size()) most = &by;
    const Row& good = *most->front();
    for (const Row& r : rows)
      if (r.fields[steps_col] != good.fields[steps_col])
        throw UsageError(r.where + ": steps is " + r.fields[steps_col] + ", but " +
                         std::to_string(most->size()) + " rows (e.g. " + good.where + ") have " +
                         good.fields[steps_col] + ": every cell of a sweep trains the same " +
                         "number of steps");
  }

  // Each row's method, seed and knob values against its cell number. The number gives the cell's
  // position on every axis (Grid::cells()'s odometer), so all rows at one position must show
  // the same value, and different positions different values. Where rows disagree, the value
  // most of them show is taken as right, and a row showing another is named.
  auto axis_name = [&](size_t a) {
    return a < keys.size() ? keys[a] : a == keys.size() ? std::string("method") : "seed";
  };
  std::vector<std::vector<uint64_t>> pos;  // per row
  // axis -> position -> value -> the rows showing it
  std::vector<std::map<uint64_t, std::map<std::string, std::vector<const Row*>>>> seen(n_axes);
  for (const Row& r : rows) {
    pos.push_back(positions(r.cell, id.shape));
    for (size_t a = 0; a < n_axes; ++a)
      seen[a][pos.back()[a]][axis_value(r, a, keys.size())].push_back(&r);
  }
  auto where_at = [&](size_t a, uint64_t p) {
    return axis_name(a) + " position " + std::to_string(p + 1) + " of " +
           std::to_string(id.shape[a]);
  };
  std::vector<std::map<uint64_t, std::string>> value_at(n_axes);  // the agreed values
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    for (size_t a = 0; a < n_axes; ++a) {
      const auto& shown = seen[a][pos[i][a]];
      if (shown.size() == 1) continue;
      const std::string& v = axis_value(r, a, keys.size());
      const Row* best = nullptr;  // a row of the most shown value other than r's
      size_t best_n = 0;
      for (const auto& [value, by] : shown)
        if (value != v && by.size() > best_n) best = by.front(), best_n = by.size();
      const std::string& w = axis_value(*best, a, keys.size());
      const std::string who = best_n == 1 ? "cell " + best->fields[0] + " (" + best->where + ")"
                                          : std::to_string(best_n) + " cells (e.g. cell " +
                                                best->fields[0] + ", " + best->where + ")";
      if (best_n > shown.at(v).size())
        throw UsageError(r.where + ": cell " + r.fields[0] + " has " + axis_name(a) + " " + v +
                         ", but its number puts it at " + where_at(a, pos[i][a]) + ", where " +
                         who + " " + (best_n == 1 ? "has " : "have ") + w +
                         ": the row contradicts its cell number");
      if (best_n == shown.at(v).size())
        throw UsageError(r.where + ": cell " + r.fields[0] + " has " + axis_name(a) + " " + v +
                         " but " + who + " " + (best_n == 1 ? "has " : "have ") + w +
                         ", though their numbers put both at " + where_at(a, pos[i][a]) +
                         ": a row contradicts its cell number");
    }
  }
  for (size_t a = 0; a < n_axes; ++a) {
    std::map<std::string, uint64_t> position_of;
    for (const auto& [p, shown] : seen[a]) {
      const std::string& v = shown.begin()->first;
      value_at[a][p] = v;
      const auto [it, fresh] = position_of.emplace(v, p);
      if (fresh) continue;
      const Row& r = *shown.begin()->second.front();
      const Row& q = *seen[a][it->second].begin()->second.front();
      throw UsageError(q.where + " and " + r.where + ": cells " + q.fields[0] + " and " +
                       r.fields[0] + " both have " + axis_name(a) + " " + v +
                       ", though their numbers put them at " + axis_name(a) + " positions " +
                       std::to_string(it->second + 1) + " and " + std::to_string(p + 1) + " of " +
                       std::to_string(id.shape[a]) +
                       " (a sweep lists each value once): a row contradicts its cell number");
    }
  }
  // With every position of every axis seen, the axes are known: they must be the identity's.
  bool complete = true;
  std::vector<std::vector<std::string>> axes(n_axes);
  for (size_t a = 0; a < n_axes; ++a) {
    complete = complete && value_at[a].size() == id.shape[a];
    for (const auto& [p, v] : value_at[a]) axes[a].push_back(v);
  }
  if (complete && axes_hash(keys, axes) != id.axes)
    throw UsageError("the rows' knob values, methods and seeds are not those of the sweep " +
                     identities[0] + " that they name (they hash to " + axes_hash(keys, axes) +
                     "): a row of " + join(files[identities[0]], ", ") + " was edited");

  // Cells: each once, none missing.
  std::map<uint64_t, const Row*> by_cell;
  std::vector<std::string> problems;
  for (const Row& r : rows) {
    const auto [it, fresh] = by_cell.emplace(r.cell, &r);
    if (fresh) continue;
    if (it->second->line != r.line)
      problems.push_back("cell " + r.fields[0] + " differs between " + it->second->where + " and " +
                         r.where);
    else
      std::fprintf(stderr, "patlab merge: cell %s is in both %s and %s (identical; kept once)\n",
                   r.fields[0].c_str(), it->second->where.c_str(), r.where.c_str());
  }
  std::vector<long long> missing;
  for (uint64_t c = 0; c < id.total; ++c)
    if (!by_cell.count(c)) missing.push_back((long long)c);
  for (const std::string& p : problems) std::fprintf(stderr, "patlab merge: %s\n", p.c_str());
  if (!missing.empty())
    std::fprintf(stderr,
                 "patlab merge: %zu of %llu cells missing: %s (rerun the shards that hold them, "
                 "or pass --allow-missing)\n",
                 missing.size(), (unsigned long long)id.total, ranges(missing).c_str());
  if (!problems.empty() || (!missing.empty() && !allow_missing)) return kExitFailure;
  std::string text = header + "\n";
  for (const auto& [cell, r] : by_cell) text += r->line + "\n";
  write_text_atomic(out, text);
  std::printf("%s: %zu cells from %zu files\n", out.c_str(), by_cell.size(), inputs.size());
  return kExitOk;
}

}  // namespace

Handler add_sweep(CLI::App& app) {
  struct Flags {
    SweepFlags sweep;
    std::string methods, seeds, steps, shard, out;
    CLI::Option *methods_opt, *seeds_opt, *steps_opt, *shard_opt, *out_opt;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c = app.add_subcommand(
      "sweep", "Train a grid of runs over knobs, methods and seeds; one CSV row per run");
  c->footer(
      "Cells are numbered knob values first (first knob outermost), then methods, then seeds.\n"
      "--shard I/N runs cells I, I+N, I+2N, ...: start N copies anywhere, then `patlab merge`.\n"
      "Every row names its sweep (column sweep), so merge refuses shards of different sweeps.\n"
      "Examples:\n"
      "  patlab sweep --knob eta=0,0.25,0.5 --method pat,in-silico --seeds 1-3 --steps 300\n"
      "  patlab sweep --spec sweep.json --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\n"
      "  patlab merge sweep-*of4.csv -o all.csv\n"
      "A sweep file: {\"experiment\": \"exp.json\", \"knobs\": {\"eta\": [0, 0.5]}, \"methods\": "
      "[\"pat\"],\n"
      "               \"seeds\": [1, 2], \"steps\": 300}");
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
      "Every row must name the same sweep (column sweep) and agree with its cell number.\n"
      "Exit code 2 (and nothing written) for files of different sweeps, a row contradicting its\n"
      "cell number or a malformed file, naming file and line; 1 when cells are missing or\n"
      "disagree.");
  c->add_option("inputs", f->inputs, "Shard CSV files")->required();
  c->add_option("-o,--out", f->out, "Merged CSV")->required();
  c->add_flag("--allow-missing", f->allow_missing, "Write the merged file even with cells missing");
  return [f] { return do_merge(f->inputs, f->out, f->allow_missing); };
}

}  // namespace patlab::cli
