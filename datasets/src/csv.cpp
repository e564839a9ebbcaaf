#include "patlab/datasets/csv.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace patlab {

namespace {

// A name or cell as messages show it: control bytes escaped (a NUL would end the message
// wherever it is shown as a C string), long text cut short.
std::string shown(const std::string& s) {
  constexpr size_t kMax = 40;
  size_t n = std::min(s.size(), kMax);
  // Cut before a UTF-8 continuation byte: whole characters only.
  while (n < s.size() && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return n < s.size() ? out + "..." : out;
}

}  // namespace

CsvError::CsvError(int line, const std::string& column, const std::string& what)
    : std::runtime_error((line > 0 ? "line " + std::to_string(line) : std::string("CSV")) +
                         (column.empty() ? "" : ", column '" + shown(column) + "'") + ": " + what),
      line_(line), column_(column) {}

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && is_blank(s[a])) ++a;
  while (b > a && is_blank(s[b - 1])) --b;
  return s.substr(a, b - a);
}

// Where the text starts: after a UTF-8 byte order mark, which spreadsheets write and which
// would otherwise become part of the first column's name. UTF-16 (or 32) is refused.
std::streamoff text_start(const std::string& text) {
  if (text.size() >= 2 &&
      ((text[0] == '\xFF' && text[1] == '\xFE') || (text[0] == '\xFE' && text[1] == '\xFF')))
    throw CsvError(0, "", "the file is UTF-16 text: save it as UTF-8");
  return text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
}

// Splits one line into fields. A field may be double-quoted ("" is a quote inside quotes);
// spaces around a field are dropped, inside quotes kept; after the closing quote only spaces
// may follow. `names` (the header, once known) names the column of an error.
std::vector<std::string> split_fields(const std::string& line, char delim, int line_no,
                                      const std::vector<std::string>* names = nullptr) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false, blank = true;  // blank: cur holds spaces only
  const auto fail = [&](const std::string& what) {
    const size_t i = out.size();
    if (names && i < names->size()) throw CsvError(line_no, (*names)[i], what);
    throw CsvError(line_no, "", "field " + std::to_string(i + 1) + ": " + what);
  };
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        cur += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == delim) {
      out.push_back(was_quoted ? cur : trim(cur));
      cur.clear();
      was_quoted = false;
      blank = true;
    } else if (is_blank(c)) {
      if (!was_quoted) cur += c;  // spaces after the closing quote are not part of the field
    } else if (was_quoted) {
      fail("text after the closing quote (a quote inside quotes is written \"\")");
    } else if (c == '"' && blank) {
      quoted = was_quoted = true;
      cur.clear();
    } else {
      cur += c;
      blank = false;
    }
  }
  if (quoted) fail("a quoted field is not closed (line breaks inside quotes are not supported)");
  out.push_back(was_quoted ? cur : trim(cur));
  return out;
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

// A label that is a decimal number ([+-] digits [. digits] [e [+-] digits]), exactly:
// value = ±0.digits × 10^exponent with no leading or trailing zeros in digits (none for 0).
struct Decimal {
  bool negative = false;
  std::string digits;
  long long exponent = 0;
};

bool parse_decimal(const std::string& s, Decimal& d) {
  size_t i = 0;
  const size_t n = s.size();
  d = Decimal();
  if (i < n && (s[i] == '+' || s[i] == '-')) d.negative = s[i++] == '-';
  std::string all;
  long long point = -1;  // digits before the decimal point
  for (; i < n; ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) {
      all += s[i];
    } else if (s[i] == '.' && point < 0) {
      point = (long long)all.size();
    } else {
      break;
    }
  }
  if (all.empty()) return false;
  if (point < 0) point = (long long)all.size();
  long long exp10 = 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (i == n) return false;
    for (; i < n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      exp10 = exp10 * 10 + (s[i] - '0');
      if (exp10 > 1000000000) return false;  // absurd exponents stay text
    }
    if (neg) exp10 = -exp10;
  }
  if (i != n) return false;
  const size_t first = all.find_first_not_of('0');
  if (first == std::string::npos) {  // zero, of either sign
    d.negative = false;
    return true;
  }
  const size_t last = all.find_last_not_of('0');
  d.digits = all.substr(first, last + 1 - first);
  d.exponent = point - (long long)first + exp10;
  return true;
}

// -1, 0 or 1 as a is less than, equal to or greater than b.
int compare(const Decimal& a, const Decimal& b) {
  const int sa = a.digits.empty() ? 0 : a.negative ? -1 : 1;
  const int sb = b.digits.empty() ? 0 : b.negative ? -1 : 1;
  if (sa != sb || sa == 0) return sa < sb ? -1 : sa > sb ? 1 : 0;
  int m =
      a.exponent != b.exponent ? (a.exponent < b.exponent ? -1 : 1) : a.digits.compare(b.digits);
  m = m < 0 ? -1 : m > 0 ? 1 : 0;
  return sa * m;
}

// The number as JavaScript writes it: plain from 1e-6 up to 1e21, else with an exponent.
std::string number_text(const Decimal& d) {
  if (d.digits.empty()) return "0";
  const std::string& g = d.digits;
  const long long n = (long long)g.size(), e = d.exponent;
  std::string out = d.negative ? "-" : "";
  if (e >= n && e <= 21) {
    out += g + std::string(size_t(e - n), '0');
  } else if (e > 0 && e <= 21) {
    out += g.substr(0, size_t(e)) + "." + g.substr(size_t(e));
  } else if (e <= 0 && e > -6) {
    out += "0." + std::string(size_t(-e), '0') + g;
  } else {
    out += g.substr(0, 1) + (n > 1 ? "." + g.substr(1) : "") + "e" + (e - 1 >= 0 ? "+" : "") +
           std::to_string(e - 1);
  }
  return out;
}

}  // namespace

std::vector<std::string> csv_header(const std::string& text, char delimiter) {
  std::istringstream in(text);
  in.seekg(text_start(text));
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
  in.seekg(text_start(text));
  std::string line;
  int line_no = 0;
  const std::vector<std::string> header = read_header(in, opt.delimiter, line_no);
  if (header.empty()) throw CsvError(0, "", "the file is empty");
  const int header_line = line_no;
  std::set<std::string> seen;
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string& h = header[c];
    if (h.empty())
      throw CsvError(header_line, "", "column " + std::to_string(c + 1) + " has no name");
    if (h.find('\0') != std::string::npos)
      throw CsvError(header_line, "",
                     "the name of column " + std::to_string(c + 1) + " contains a NUL byte");
    if (!seen.insert(h).second) throw CsvError(header_line, h, "the column name appears twice");
  }
  auto column_index = [&](const std::string& name, const char* role) {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      std::string cols;
      for (const std::string& h : header) cols += (cols.empty() ? "" : ", ") + shown(h);
      throw CsvError(header_line, name,
                     std::string("no such ") + role + " column (columns: " + cols + ")");
    }
    return int(it - header.begin());
  };
  const int label_col = column_index(opt.label_column, "label");
  const int split_col = opt.split_column.empty() ? -1 : column_index(opt.split_column, "split");
  if (split_col == label_col)
    throw CsvError(header_line, opt.split_column, "is both the label and the split column");

  CsvData r;
  std::vector<int> feature_cols;
  for (int c = 0; c < int(header.size()); ++c)
    if (c != label_col && c != split_col) {
      feature_cols.push_back(c);
      r.feature_names.push_back(header[size_t(c)]);
    }
  if (feature_cols.empty()) throw CsvError(header_line, "", "there are no feature columns");

  std::vector<std::vector<double>> rows;
  std::vector<std::string> labels;         // each row's class name
  std::map<std::string, Decimal> numeric;  // the class names that are numbers, with their values
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const std::vector<std::string> f = split_fields(line, opt.delimiter, line_no, &header);
    if (f.size() != header.size())
      throw CsvError(line_no, "",
                     "has " + std::to_string(f.size()) + " fields, the header has " +
                         std::to_string(header.size()) +
                         (f.size() < header.size()
                              ? " (the row ends before column '" + shown(header[f.size()]) + "')"
                              : std::string()));
    std::vector<double> row;
    row.reserve(feature_cols.size());
    for (int c : feature_cols) {
      const std::string& name = header[size_t(c)];
      const std::string cell = trim(f[size_t(c)]);  // a quoted number may have spaces around it
      if (cell.empty()) throw CsvError(line_no, name, "the cell is empty");
      // The whole cell must be the number: strtod would stop at an embedded NUL byte, and
      // would skip leading white space the trimming leaves (a vertical tab, a form feed).
      const char* begin = cell.c_str();
      char* end = nullptr;
      const double v =
          std::isspace(static_cast<unsigned char>(cell[0])) ? 0.0 : std::strtod(begin, &end);
      if (end != begin + cell.size() || end == begin)
        throw CsvError(line_no, name, "'" + shown(cell) + "' is not a number");
      // Overflow reads as infinity and is refused; underflow rounds to 0 or a subnormal, as
      // any number rounds to the nearest double.
      if (!std::isfinite(v))
        throw CsvError(line_no, name, "'" + shown(cell) + "' is not a finite number");
      if (std::abs(v) > opt.max_abs_value)
        throw CsvError(line_no, name,
                       "'" + shown(cell) + "' is larger than " + std::to_string(opt.max_abs_value) +
                           " in magnitude");
      row.push_back(v);
    }
    const std::string& label = f[size_t(label_col)];
    if (label.empty()) throw CsvError(line_no, opt.label_column, "the label is empty");
    if (label.find('\0') != std::string::npos)
      throw CsvError(line_no, opt.label_column, "the label contains a NUL byte");
    Decimal d;
    if (parse_decimal(trim(label), d)) {
      const std::string name = number_text(d);
      numeric.emplace(name, d);
      labels.push_back(name);
    } else {
      labels.push_back(label);
    }
    if (split_col >= 0) {
      const std::string& sp = f[size_t(split_col)];
      if (sp != "train" && sp != "test")
        throw CsvError(line_no, opt.split_column, "'" + shown(sp) + "' is neither train nor test");
      r.is_test.push_back(sp == "test");
    } else {
      r.is_test.push_back(0);
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw CsvError(header_line, "", "the header is not followed by any data rows");

  // Class names: the numbers first, by value; then the other labels in byte order.
  std::vector<std::string> names;
  for (const auto& [name, value] : numeric) names.push_back(name);
  std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return compare(numeric.at(a), numeric.at(b)) < 0;
  });
  const std::set<std::string> text_labels(labels.begin(), labels.end());
  for (const std::string& l : text_labels)
    if (!numeric.count(l)) names.push_back(l);
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
