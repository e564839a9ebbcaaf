// The CSV importer (datasets/src/csv.cpp: parse_csv, csv_header, guess_csv_options) under
// libFuzzer: any bytes must parse or be refused with a CsvError, without a crash, a hang or
// undefined behaviour. What parses must keep the promises of csv.h. Each input is read with
// the options the lab would guess, with three delimiters, and with the default options.
// Seeds: tests/fuzz/corpus/csv/.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "patlab/datasets/csv.h"

namespace {

using namespace patlab;

[[noreturn]] void broken(const std::string& what, const std::string& text) {
  std::fprintf(stderr, "fuzz: %s (input of %zu bytes)\n", what.c_str(), text.size());
  std::abort();
}

void check(const CsvData& r, const CsvOptions& o, const std::string& text) {
  const Dataset& d = r.data;
  const int n = d.size();
  if (n < 1 || d.features() < 1) broken("accepted a file without rows or features", text);
  if (d.y.size() != n || int(r.is_test.size()) != n)
    broken("rows, labels and splits differ in number", text);
  if (int(r.feature_names.size()) != d.features())
    broken("feature names and features differ", text);
  if (d.num_classes != int(r.class_names.size()) || d.num_classes < 1) broken("class count", text);
  if (!d.x.allFinite() || d.x.cwiseAbs().maxCoeff() > o.max_abs_value)
    broken("accepted a value that is not finite or too large", text);
  std::vector<int> used(r.class_names.size(), 0);
  for (int i = 0; i < n; ++i) {
    if (d.y[i] < 0 || d.y[i] >= d.num_classes) broken("a label index out of range", text);
    used[size_t(d.y[i])] = 1;
    if (r.is_test[size_t(i)] != 0 && r.is_test[size_t(i)] != 1)
      broken("is_test is not 0 or 1", text);
  }
  for (int u : used)
    if (!u) broken("a class no row has", text);
  const std::set<std::string> names(r.class_names.begin(), r.class_names.end());
  if (names.size() != r.class_names.size()) broken("two classes with one name", text);
  for (const std::string& c : r.class_names)
    if (c.empty() || c.find('\0') != std::string::npos)
      broken("an empty class name or one with NUL", text);
  // A class name is its own class: read back as the only label of a file, it names the same
  // one class (numbers are written in their canonical form). Four are enough.
  for (size_t k = 0; k < r.class_names.size() && k < 4; ++k) {
    std::string quoted;
    for (char ch : r.class_names[k]) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    try {
      const CsvData again = parse_csv("x,label\n0,\"" + quoted + "\"\n");
      if (again.class_names != std::vector<std::string>{r.class_names[k]})
        broken("a class name read back names another class: '" + r.class_names[k] + "' -> '" +
                   again.class_names[0] + "'",
               text);
    } catch (const CsvError& e) {
      broken(std::string("a class name read back is refused: ") + e.what(), text);
    }
  }
}

void parse_with(const std::string& text, const CsvOptions& o) {
  try {
    check(parse_csv(text, o), o, text);
  } catch (const CsvError& e) {
    if (e.line() < 0) broken("an error with a negative line number", text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const char delim : {',', ';', '\t'}) {
    CsvOptions o;
    try {
      (void)csv_header(text, delim);
      o = guess_csv_options(text, delim);
    } catch (const CsvError&) {
      continue;
    }
    if (o.delimiter != delim) broken("guess_csv_options changed the delimiter", text);
    parse_with(text, o);
  }
  parse_with(text, CsvOptions());
  return 0;
}
