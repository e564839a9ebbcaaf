// native/cli/sweep_grid.h: what `patlab sweep` (sweep.cpp) and `patlab merge` (merge.cpp)
// share: a sweep's grid, the numbering and identity of its cells, its CSV columns, and the
// strict reading of the numbers both take from their input.
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
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli.h"

namespace patlab::cli {

// Every cell's experiment is built (and checked) before the first cell runs; this keeps a typo
// such as --seeds 1-100000000 from filling the memory instead.
constexpr uint64_t kMaxCells = 1000000;
// The largest seed and number of steps, as messages print them.
extern const std::string kMaxSeed, kMaxSteps;

// A result file's columns: kHeadColumns, one column per knob, kTailColumns.
inline const std::string kHeadColumns = "cell,cells,sweep,method,seed";
inline const std::string kTailColumns =
    ",steps,test_loss_device,device_accuracy,twin_accuracy,queries";

// The shortest of %.15g..%.17g that reads back as the same double: exact (merged and unsharded
// files match byte for byte) and still readable (0.4, not 0.40000000000000002).
std::string exact(double v);
// Splits at every separator and keeps empty fields: "a,,b," -> a, "", b, "".
std::vector<std::string> split(const std::string& s, char sep);
std::string join(const std::vector<std::string>& v, const std::string& sep);
// A whole number in plain decimal digits, at most `max` (no sign, space, fraction or overflow).
bool parse_whole(const std::string& s, uint64_t max, uint64_t& out);
// A number, all of s (strtod's syntax: also nan and inf), within a double's range.
bool parse_number(const std::string& s, double& out);
bool parse_finite(const std::string& s, double& out);
// Whether two paths name one file (a.csv and ./a.csv), or are the same name.
bool same_file(const std::string& a, const std::string& b);

// Each value is one position on its axis of the grid, so a value listed twice is a mistake:
// throws UsageError starting with `what`.
void require_distinct(const std::vector<double>& values, const std::string& what);
// Known training methods, each once; throws UsageError starting with `what`.
void check_methods(const std::vector<std::string>& methods, const std::string& what);
// "--knob eta=0,0.25,0.5": finite, distinct numbers (the catalog checks the knob's range).
std::vector<double> parse_knob_values(const std::string& flag);
// "--seeds 1-3,7": distinct whole numbers from 0 to 2^64-1.
std::vector<uint64_t> parse_seeds(const std::string& list);

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

  // Every cell, in numbering order.
  std::vector<Cell> cells() const;
  // The axes in numbering order (each knob, methods, seeds), each as its values print in a row.
  std::vector<std::vector<std::string>> axes() const;
};

// A cell number's position on each axis: the odometer of Grid::cells(), seeds fastest.
std::vector<uint64_t> positions(uint64_t cell, const std::vector<uint64_t>& shape);

// The hash of a grid's axes as rows print them: a row of the merged file can be checked
// against it without the experiment.
std::string axes_hash(const std::vector<std::string>& keys,
                      const std::vector<std::vector<std::string>>& axes);

// A sweep's identity as its rows carry it: SHAPE:AXES:CELLS.
struct Identity {
  std::vector<uint64_t> shape;  // values per axis: each knob, methods, seeds
  std::string axes, cells;      // 16 hex digits each
  uint64_t total = 1;
};
// Reads an identity of n_axes axes; false if it is not one.
bool parse_identity(const std::string& s, size_t n_axes, Identity& id);

}  // namespace patlab::cli
