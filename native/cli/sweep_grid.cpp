// native/cli/sweep_grid.cpp: a sweep's grid, its cells' numbering and identity, and the strict
// number parsing of `patlab sweep` and `patlab merge` (sweep_grid.h says how they fit).
#include "sweep_grid.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace patlab::cli {

const std::string kMaxSeed = std::to_string(UINT64_MAX);
const std::string kMaxSteps = std::to_string(LLONG_MAX);

std::string exact(double v) {
  char buf[40];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

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

bool same_file(const std::string& a, const std::string& b) {
  if (a == b) return true;
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

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

std::vector<Cell> Grid::cells() const {
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

std::vector<std::vector<std::string>> Grid::axes() const {
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

std::vector<uint64_t> positions(uint64_t cell, const std::vector<uint64_t>& shape) {
  std::vector<uint64_t> p(shape.size());
  for (size_t a = shape.size(); a-- > 0;) {
    p[a] = cell % shape[a];
    cell /= shape[a];
  }
  return p;
}

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

namespace {

bool is_hex16(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

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

}  // namespace patlab::cli
