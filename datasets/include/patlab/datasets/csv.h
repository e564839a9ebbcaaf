// patlab/datasets/csv.h: the user's own data, from a CSV file.
//
// Format: UTF-8 text (a byte order mark before the header is skipped; UTF-16 is refused), a
// header row of column names, then one sample per row. One column holds the class label
// (chosen by name), an optional column assigns rows to "train" or "test", and every other
// column is a numeric feature. Fields may be double-quoted ("" is a quote inside quotes);
// spaces around a field are dropped. Anything else is refused with a CsvError that names the
// line and the column: an empty file, a ragged row, text after a closing quote, a cell that is
// not a number (the whole cell must be one: a NUL byte or trailing text is not), that is NaN,
// infinite or absurdly large, an empty label, a NUL byte in a label or column name, an
// unknown label column.
//
// Classes. A label that is a decimal number ([+-] digits [. digits] [e [+-] digits]) stands
// for its value, compared exactly: 1, 01, 1.0, +1e0 and 100e-2 are one class, named as
// JavaScript writes the number ("1"; "0.5", "1e-7", "1e+21"). Any other label is text,
// compared byte for byte ("Cat" and "cat" are two classes; so are "nan" and "0x10"). Class
// indices: the numbers first, ascending by value, then the text labels in byte order. So the
// classes do not depend on the order of the rows.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "patlab/core/dataset.h"

namespace patlab {

struct CsvOptions {
  std::string label_column = "label";
  std::string split_column;          // "" = none; else its cells must be "train" or "test"
  char delimiter = ',';
  double max_abs_value = 1e9;        // larger magnitudes are refused as likely garbage
};

struct CsvData {
  Dataset data;                            // every row; data.num_classes = class_names.size()
  std::vector<std::string> class_names;    // class 0, 1, ...: its label (a number as written above)
  std::vector<std::string> feature_names;
  std::vector<int> is_test;                // per row: 1 test, 0 train (all 0 without a split column)
};

class CsvError : public std::runtime_error {
 public:
  CsvError(int line, const std::string& column, const std::string& what);
  int line() const { return line_; }            // 1-based; 0 when the whole file is at fault
  const std::string& column() const { return column_; }

 private:
  int line_;
  std::string column_;
};

// Numbers in feature cells are read by strtod after trimming: decimal, hexadecimal floats
// (0x1p3) and exponents are fine; a magnitude below the smallest double rounds to 0.
CsvData parse_csv(const std::string& text, const CsvOptions& options = CsvOptions());
// The column names of the header row (the first line that is not blank), read as parse_csv
// reads them (byte order mark, quotes, spaces around names); empty for a file with no such
// line. Throws CsvError for a malformed quoted name and for UTF-16 text.
std::vector<std::string> csv_header(const std::string& text, char delimiter = ',');
// Options for a file whose columns nobody named (one dropped on the lab): the label is the
// first column called label, class, target or y (in that order of preference; any case), else
// the last column; a column called split, if any, assigns rows to train and test.
CsvOptions guess_csv_options(const std::string& text, char delimiter = ',');
// Reads the file (throws CsvError with line 0 if it cannot be opened).
CsvData load_csv_file(const std::string& path, const CsvOptions& options = CsvOptions());

}  // namespace patlab
