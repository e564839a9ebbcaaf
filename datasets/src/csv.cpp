#include "patlab/datasets/csv.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace patlab {

CsvError::CsvError(int line, const std::string& column, const std::string& what)
    : std::runtime_error((line > 0 ? "line " + std::to_string(line) : std::string("CSV")) +
                         (column.empty() ? "" : ", column '" + column + "'") + ": " + what),
      line_(line), column_(column) {}

namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return s.substr(a, b - a);
}

// Splits one line into fields; a field may be double-quoted ("" is a quote inside quotes).
std::vector<std::string> split_fields(const std::string& line, char delim, int line_no) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"' && trim(cur).empty()) {
      quoted = was_quoted = true;
      cur.clear();
    } else if (c == delim) {
      out.push_back(was_quoted ? cur : trim(cur));
      cur.clear();
      was_quoted = false;
    } else if (was_quoted && (c == ' ' || c == '\t' || c == '\r')) {
      // Spaces between a closing quote and the delimiter are not part of the field.
    } else {
      cur += c;
    }
  }
  if (quoted) throw CsvError(line_no, "", "a quoted field is not closed");
  out.push_back(was_quoted ? cur : trim(cur));
  return out;
}

bool parse_integer(const std::string& s, long long& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  v = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && *end == '\0';
}

// The header row: the first line that is not blank (line_no is left at its number).
std::vector<std::string> read_header(std::istream& in, char delim, int& line_no) {
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    if (!trim(line).empty()) return split_fields(line, delim, line_no);
  }
  return {};
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::vector<std::string> csv_header(const std::string& text, char delimiter) {
  std::istringstream in(text);
  int line_no = 0;
  return read_header(in, delimiter, line_no);
}

CsvOptions guess_csv_options(const std::string& text, char delimiter) {
  const std::vector<std::string> cols = csv_header(text, delimiter);
  CsvOptions o;
  o.delimiter = delimiter;
  if (!cols.empty()) o.label_column = cols.back();
  const auto named = [&](const char* want) {
    return std::find_if(cols.begin(), cols.end(),
                        [&](const std::string& c) { return lower(c) == want; });
  };
  for (const char* want : {"label", "class", "target", "y"})
    if (auto it = named(want); it != cols.end()) {
      o.label_column = *it;
      break;
    }
  if (auto it = named("split"); it != cols.end() && *it != o.label_column) o.split_column = *it;
  return o;
}

CsvData parse_csv(const std::string& text, const CsvOptions& opt) {
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  const std::vector<std::string> header = read_header(in, opt.delimiter, line_no);
  if (header.empty()) throw CsvError(0, "", "the file is empty");
  const int header_line = line_no;
  std::set<std::string> seen;
  for (const std::string& h : header) {
    if (h.empty()) throw CsvError(header_line, "", "a column has no name in the header");
    if (!seen.insert(h).second) throw CsvError(header_line, h, "the column name appears twice");
  }
  auto column_index = [&](const std::string& name, const char* role) {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      std::string cols;
      for (const std::string& h : header) cols += (cols.empty() ? "" : ", ") + h;
      throw CsvError(header_line, name, std::string("no such ") + role + " column (columns: " + cols + ")");
    }
    return int(it - header.begin());
  };
  const int label_col = column_index(opt.label_column, "label");
  const int split_col = opt.split_column.empty() ? -1 : column_index(opt.split_column, "split");

  CsvData r;
  std::vector<int> feature_cols;
  for (int c = 0; c < int(header.size()); ++c)
    if (c != label_col && c != split_col) {
      feature_cols.push_back(c);
      r.feature_names.push_back(header[size_t(c)]);
    }
  if (feature_cols.empty()) throw CsvError(header_line, "", "there are no feature columns");

  std::vector<std::vector<double>> rows;
  std::vector<std::string> labels;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const std::vector<std::string> f = split_fields(line, opt.delimiter, line_no);
    if (f.size() != header.size())
      throw CsvError(line_no, "", "has " + std::to_string(f.size()) + " fields, the header has " +
                                      std::to_string(header.size()));
    std::vector<double> row;
    row.reserve(feature_cols.size());
    for (int c : feature_cols) {
      const std::string& cell = f[size_t(c)];
      const std::string& name = header[size_t(c)];
      if (cell.empty()) throw CsvError(line_no, name, "the cell is empty");
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(cell.c_str(), &end);
      if (*end != '\0' || end == cell.c_str())
        throw CsvError(line_no, name, "'" + cell + "' is not a number");
      if (!std::isfinite(v) || errno == ERANGE)
        throw CsvError(line_no, name, "'" + cell + "' is not a finite number");
      if (std::abs(v) > opt.max_abs_value)
        throw CsvError(line_no, name, "'" + cell + "' is larger than " +
                                          std::to_string(opt.max_abs_value) + " in magnitude");
      row.push_back(v);
    }
    const std::string& label = f[size_t(label_col)];
    if (label.empty()) throw CsvError(line_no, opt.label_column, "the label is empty");
    labels.push_back(label);
    if (split_col >= 0) {
      const std::string& sp = f[size_t(split_col)];
      if (sp != "train" && sp != "test")
        throw CsvError(line_no, opt.split_column, "'" + sp + "' is neither train nor test");
      r.is_test.push_back(sp == "test");
    } else {
      r.is_test.push_back(0);
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw CsvError(header_line, "", "the header is not followed by any data rows");

  // Class names: numerically ordered when every label is an integer, else alphabetical.
  const std::set<std::string> distinct(labels.begin(), labels.end());
  std::vector<std::string> names(distinct.begin(), distinct.end());
  bool all_int = true;
  long long tmp;
  for (const std::string& n : names) all_int &= parse_integer(n, tmp);
  if (all_int)
    std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      return std::strtoll(a.c_str(), nullptr, 10) < std::strtoll(b.c_str(), nullptr, 10);
    });
  std::map<std::string, int> index;
  for (size_t i = 0; i < names.size(); ++i) index[names[i]] = int(i);
  r.class_names = names;

  Dataset& d = r.data;
  d.name = "csv";
  d.num_classes = int(names.size());
  d.x.resize(Eigen::Index(feature_cols.size()), Eigen::Index(rows.size()));
  d.y.resize(Eigen::Index(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t j = 0; j < rows[i].size(); ++j) d.x(Eigen::Index(j), Eigen::Index(i)) = rows[i][j];
    d.y[Eigen::Index(i)] = index[labels[i]];
  }
  return r;
}

CsvData load_csv_file(const std::string& path, const CsvOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CsvError(0, "", "cannot open " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_csv(ss.str(), options);
}

}  // namespace patlab
