// native/cli/merge.cpp: `patlab merge`, which joins the result files of a sharded sweep into
// the file the unsharded sweep would have written, refusing files of other sweeps, rows that
// contradict their cell numbers and malformed files (sweep_grid.h: how cells are numbered).
#include <climits>
#include <cstdio>
#include <map>
#include <set>

#include "sweep_grid.h"

namespace patlab::cli {

namespace {

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
    const std::string &head = kHeadColumns, &tail = kTailColumns;
    if (h.rfind("cell,cells,", 0) == 0 && h.rfind(head, 0) != 0)
      throw UsageError(path + ": written by an older patlab, without the sweep column that " +
                       "identifies its sweep: run its shard again with this patlab");
    const bool shaped = h.size() >= head.size() + tail.size() && h.rfind(head, 0) == 0 &&
                        h.compare(h.size() - tail.size(), tail.size(), tail) == 0;
    const std::string middle =
        shaped ? h.substr(head.size(), h.size() - head.size() - tail.size()) : "";
    if (!shaped || (!middle.empty() && middle[0] != ','))
      throw UsageError(path + ": not a sweep result (its first line should be " + head +
                       ", the knobs, " + tail.substr(1) + ")");
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

// The end of `patlab merge --help`: examples, and what to expect.
const char* const kMergeFooter =
    "Example:\n  patlab merge sweep-0of4.csv sweep-1of4.csv sweep-2of4.csv sweep-3of4.csv -o "
    "all.csv\n"
    "Every row must name the same sweep (column sweep) and agree with its cell number.\n"
    "Exit code 2 (and nothing written) for files of different sweeps, a row contradicting its\n"
    "cell number or a malformed file, naming file and line; 1 when cells are missing or\n"
    "disagree.";

Handler add_merge(CLI::App& app) {
  struct Flags {
    std::vector<std::string> inputs;
    std::string out;
    bool allow_missing = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c = add_command(
      app, "merge", "Join the CSVs of a sharded sweep, checking for missing and duplicate cells",
      kMergeFooter);
  c->add_option("inputs", f->inputs, "Shard CSV files")->required();
  c->add_option("-o,--out", f->out, "Merged CSV")->required();
  c->add_flag("--allow-missing", f->allow_missing, "Write the merged file even with cells missing");
  return [f] { return do_merge(f->inputs, f->out, f->allow_missing); };
}

}  // namespace patlab::cli
