// Loading and preparing data: the CSV importer on good and bad files, splits, scaling, and
// the paper's real vowel features when they are available beside the project.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "patlab/core/trainer.h"
#include "patlab/datasets/csv.h"
#include "patlab/datasets/idx.h"
#include "patlab/datasets/processing.h"
#include "patlab/datasets/toy2d.h"
#include "patlab/datasets/uci_digits.h"
#include "patlab/datasets/vowels.h"
#include "patlab/emulators/coupled_oscillators.h"
#include "what_thrown.h"

namespace patlab {
namespace {

std::string error_of(const std::string& text, const CsvOptions& o = CsvOptions()) {
  return what_thrown<CsvError>([&] { parse_csv(text, o); }, "accepted:\n" + text);
}

// Adds affine(features -> oscillators) -> default coupled oscillators (a device with `knobs`,
// seed 1) -> affine(-> classes) to `net`, drawing the weights and the initial θ from rng.
void add_oscillator_classifier(Network& net, int features, int classes, const KnobValues& knobs,
                               Rng& rng, double input_gain = 1.0) {
  OscillatorSpec spec;
  auto device = std::make_shared<OscillatorDevice>(spec, knobs, 1);
  auto twin = std::make_shared<OscillatorTwin>(spec);
  net.add(std::make_unique<AffineLayer>(features, spec.n, rng, input_gain));
  net.add(std::make_unique<PhysicalLayer>(device, twin, twin->model().initial_theta(rng)));
  net.add(std::make_unique<AffineLayer>(spec.n, classes, rng));
}

// Trains `net` on `train` for `steps` steps (the default configuration at `learning_rate`) and
// returns its accuracy on `test` through `pass`.
double accuracy_after_training(Network& net, const Dataset& train, const Dataset& test,
                               double learning_rate, int steps, Pass pass) {
  TrainConfig cfg;
  cfg.optimizer.learning_rate = learning_rate;
  Trainer t(net, train, cfg);
  for (int i = 0; i < steps; ++i) t.step();
  return t.evaluate(test, pass).accuracy;
}

}  // namespace

TEST(Csv, ReadsFeaturesLabelsAndASplitColumn) {
  CsvOptions o;
  o.split_column = "split";
  const CsvData r = parse_csv("split,label,a,b\r\ntrain,cat,1,2\ntest,dog,3.5,-4e-1\n\ntrain,cat,0,0\n", o);
  EXPECT_EQ(r.data.size(), 3);
  EXPECT_EQ(r.data.features(), 2);
  EXPECT_EQ(r.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(r.feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.data.y[1], 1);
  EXPECT_DOUBLE_EQ(r.data.x(1, 1), -0.4);
  EXPECT_EQ(r.is_test, (std::vector<int>{0, 1, 0}));
}

TEST(Csv, IntegerLabelsAreOrderedNumericallyAndQuotesWork) {
  const CsvData r = parse_csv("\"x, the first\",label\n1,10\n2,9\n3,\"10\"\n");
  EXPECT_EQ(r.class_names, (std::vector<std::string>{"9", "10"}));
  EXPECT_EQ(r.data.y[0], 1);
  EXPECT_EQ(r.feature_names[0], "x, the first");
}

TEST(Csv, HeaderAndGuessedOptionsReadTheHeaderAsTheParserDoes) {
  // Blank lines before the header, quoted names with commas, spaces and carriage returns.
  const std::string text = "\n  \r\n\"x, first\" , \"Class\",split\r\n1,a,train\n2,b,test\n";
  EXPECT_EQ(csv_header(text), (std::vector<std::string>{"x, first", "Class", "split"}));
  const CsvOptions o = guess_csv_options(text);
  EXPECT_EQ(o.label_column, "Class");
  EXPECT_EQ(o.split_column, "split");
  const CsvData r = parse_csv(text, o);
  EXPECT_EQ(r.feature_names, (std::vector<std::string>{"x, first"}));
  EXPECT_EQ(r.is_test, (std::vector<int>{0, 1}));
  // Preference: label over class over target over y; else the last column; no split column.
  EXPECT_EQ(guess_csv_options("y,target,a\n").label_column, "target");
  EXPECT_EQ(guess_csv_options("a,y,b\n").label_column, "y");
  const CsvOptions last = guess_csv_options("a,b,kind\n");
  EXPECT_EQ(last.label_column, "kind");
  EXPECT_EQ(last.split_column, "");
  EXPECT_TRUE(csv_header("").empty());
  EXPECT_TRUE(csv_header("\n \n").empty());
  EXPECT_THROW(csv_header("\"open,label\n"), CsvError);
  EXPECT_EQ(guess_csv_options(";a;label\n", ';').label_column, "label");
}

TEST(Csv, BadFilesAreRefusedNamingTheLineAndColumn) {
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("a,label\n").find("not followed by any data"), std::string::npos);
  EXPECT_NE(error_of("a,b,label\n1,2,x\n1,2\n").find("line 3: has 2 fields, the header has 3"),
            std::string::npos);
  EXPECT_NE(error_of("a,b,label\n1,2,x\n1,abc,y\n").find("line 3, column 'b': 'abc' is not a number"),
            std::string::npos);
  EXPECT_NE(error_of("a,label\nnan,x\n").find("not a finite number"), std::string::npos);
  EXPECT_NE(error_of("a,label\n1e300,x\n").find("larger than"), std::string::npos);
  EXPECT_NE(error_of("a,label\n1e999,x\n").find("not a finite number"), std::string::npos);
  EXPECT_NE(error_of("a,label\n,x\n").find("the cell is empty"), std::string::npos);
  EXPECT_NE(error_of("a,class\n1,x\n").find("column 'label': no such label column (columns: a, class)"),
            std::string::npos);
  EXPECT_NE(error_of("a,a,label\n1,2,x\n").find("appears twice"), std::string::npos);
  EXPECT_NE(error_of("a,label\n\"1,x\n").find("not closed"), std::string::npos);
  CsvOptions o;
  o.split_column = "split";
  EXPECT_NE(error_of("split,a,label\nvalid,1,x\n", o).find("'valid' is neither train nor test"),
            std::string::npos);
  try {
    load_csv_file("no/such/file.csv");
    FAIL();
  } catch (const CsvError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos);
  }
}

TEST(Csv, AByteOrderMarkBeforeTheHeaderIsSkipped) {
  // Spreadsheets often save "UTF-8 with BOM": the mark must not become part of the first name.
  const std::string text = "\xEF\xBB\xBFlabel,x1,x2\na,1,2\nb,3,4\n";
  EXPECT_EQ(csv_header(text), (std::vector<std::string>{"label", "x1", "x2"}));
  EXPECT_EQ(guess_csv_options(text).label_column, "label");
  const CsvData r = parse_csv(text);
  EXPECT_EQ(r.feature_names, (std::vector<std::string>{"x1", "x2"}));
  EXPECT_EQ(r.class_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parse_csv(text, guess_csv_options(text)).feature_names, r.feature_names);
  // Only at the very start: elsewhere it is text like any other.
  EXPECT_NE(error_of(std::string("label,x\na,\xEF\xBB\xBF") + "1\n").find("is not a number"),
            std::string::npos);
  // UTF-16 (every other byte NUL) is refused as such, not read as garbage.
  const std::string utf16("\xFF\xFEl\0a\0b\0e\0l\0,\0x\0\n\0", 18);
  EXPECT_NE(error_of(utf16).find("UTF-16"), std::string::npos);
  EXPECT_THROW(csv_header(utf16), CsvError);
}

TEST(Csv, ANulByteIsRefusedNamingTheLineAndColumn) {
  // The cell "2<NUL>5": strtod on c_str() would stop at the NUL and read 2.
  const std::string nul(1, '\0');
  EXPECT_NE(error_of("a,b,label\n1,2,x\n1,2" + nul + "5,y\n")
                .find("line 3, column 'b': '2\\x005' is not a number"),
            std::string::npos);
  EXPECT_NE(
      error_of("a,label\n1" + nul + ",x\n").find("line 2, column 'a': '1\\x00' is not a number"),
      std::string::npos);
  // In a label or a column name a NUL would cut the text wherever it is shown.
  EXPECT_NE(error_of("a,label\n1,x" + nul + "y\n")
                .find("line 2, column 'label': the label contains a NUL byte"),
            std::string::npos);
  EXPECT_NE(error_of("a" + nul + "b,label\n1,x\n")
                .find("line 1: the name of column 1 contains a NUL byte"),
            std::string::npos);
}

TEST(Csv, NumericLabelsCompareAsNumbersAndClassesAreOrderedDeterministically) {
  // 1, 01, 1.0, +1e0 and " 1 " are one class "1"; numbers come first, by value, written as
  // JavaScript writes them; text labels follow in byte order (so "Cat" before "cat").
  const CsvData r = parse_csv(
      "x,label\n0,1\n0,01\n0,1.0\n0,+1e0\n0, 1 \n0,10\n0,2\n0,-0.5\n0,cat\n0,Cat\n0,-0\n0,0.00\n"
      "0,1e21\n0,0.0000001\n0,100e-2\n0,nan\n0,0x10\n0,1.\n0,.5\n");
  EXPECT_EQ(r.class_names, (std::vector<std::string>{"-0.5", "0", "1e-7", "0.5", "1", "2", "10",
                                                     "1e+21", "0x10", "Cat", "cat", "nan"}));
  const std::vector<int> y(r.data.y.data(), r.data.y.data() + r.data.y.size());
  EXPECT_EQ(y, (std::vector<int>{4, 4, 4, 4, 4, 6, 5, 0, 10, 9, 1, 1, 7, 2, 4, 11, 8, 4, 3}));
  // The same rows in another order give the same classes.
  const CsvData s = parse_csv("x,label\n0,cat\n0,2\n0,1.0\n0,01\n");
  EXPECT_EQ(s.class_names, (std::vector<std::string>{"1", "2", "cat"}));
  // Exact: labels that differ only beyond double precision stay apart.
  EXPECT_EQ(parse_csv("x,label\n0,9007199254740993\n0,9007199254740992\n").class_names,
            (std::vector<std::string>{"9007199254740992", "9007199254740993"}));
}

TEST(Csv, MalformedRowsAndCellsAreRefusedNotGuessed) {
  // Text after a closing quote was glued onto the field ("1"2 read as 12).
  EXPECT_NE(
      error_of("a,label\n\"1\"2,x\n").find("line 2, column 'a': text after the closing quote"),
      std::string::npos);
  EXPECT_NE(error_of("a,label\n1,\"x\" \"y\"\n")
                .find("line 2, column 'label': text after the closing quote"),
            std::string::npos);
  // Spaces around a quoted field are still fine, and "" is a quote.
  EXPECT_EQ(parse_csv("a,label\n \"1\" ,\"say \"\"hi\"\"\"\n").class_names,
            (std::vector<std::string>{"say \"hi\""}));
  // Infinities in any spelling, and NaN, are not finite numbers.
  for (const char* v : {"inf", "-inf", "Infinity", "NAN", "nan(1)"})
    EXPECT_NE(error_of(std::string("a,label\n") + v + ",x\n").find("not a finite number"),
              std::string::npos)
        << v;
  // A row longer than the header, and which column a short row lacks.
  EXPECT_NE(error_of("a,label\n1,x,2\n").find("line 2: has 3 fields, the header has 2"),
            std::string::npos);
  EXPECT_NE(error_of("a,b,label\n1,2\n").find("the row ends before column 'label'"),
            std::string::npos);
  EXPECT_NE(error_of("a,,label\n1,2,x\n").find("line 1: column 2 has no name"), std::string::npos);
  // One column cannot be both the label and the split.
  CsvOptions o;
  o.split_column = "label";
  EXPECT_NE(error_of("a,label\n1,train\n", o)
                .find("column 'label': is both the label and the split column"),
            std::string::npos);
  // A long cell is cut short in the message.
  const std::string msg = error_of("a,label\n" + std::string(1000, 'z') + ",x\n");
  EXPECT_LT(msg.size(), 200u);
  // A magnitude below the smallest double rounds to 0 like any other rounding; it is not
  // "infinite".
  EXPECT_EQ(parse_csv("a,label\n1e-400,x\n-1e-400,y\n").data.x(0, 1), 0.0);
}
TEST(Processing, SplitIsSeededStratifiedAndDisjoint) {
  const Dataset d = make_moons(200, 0.1, 1);
  const auto [a_train, a_test] = split_dataset(d, 0.25, 9);
  const auto [b_train, b_test] = split_dataset(d, 0.25, 9);
  const auto [c_train, c_test] = split_dataset(d, 0.25, 10);
  EXPECT_EQ(a_test.x, b_test.x);
  EXPECT_NE(a_test.x, c_test.x);
  EXPECT_EQ(a_train.size() + a_test.size(), 200);
  EXPECT_EQ(class_counts(a_test), (std::vector<int>{25, 25}));
  EXPECT_EQ(class_counts(a_train), (std::vector<int>{75, 75}));
  // No test sample also sits in the training set.
  for (int i = 0; i < a_test.size(); ++i)
    for (int j = 0; j < a_train.size(); ++j) ASSERT_NE(a_test.x.col(i), a_train.x.col(j));
}

TEST(Processing, ScalingMapsTheTrainingRangeOntoThePhysicalRange) {
  Dataset d = make_circles(100, 0.1, 2);
  const FeatureScaling s = FeatureScaling::fit(d, -0.5, 1.5);
  s.apply(d);
  EXPECT_NEAR(d.x.rowwise().minCoeff().maxCoeff(), -0.5, 1e-12);
  EXPECT_NEAR(d.x.rowwise().maxCoeff().minCoeff(), 1.5, 1e-12);
}

TEST(Vowels, ThePapersVowelFeaturesImportAndAPatNetworkLearnsThem) {
  const std::string path = "../shared/data/vowels/vowels.csv";  // beside the project, if present
  if (!std::ifstream(path)) GTEST_SKIP() << path << " not present";
  CsvOptions o;
  o.split_column = "split";
  const CsvData r = load_csv_file(path, o);
  EXPECT_EQ(r.data.size(), 259);
  EXPECT_EQ(r.data.features(), 12);
  EXPECT_EQ(r.data.num_classes, 7);
  std::vector<int> train_idx, test_idx;
  for (int i = 0; i < r.data.size(); ++i) (r.is_test[size_t(i)] ? test_idx : train_idx).push_back(i);
  EXPECT_EQ(train_idx.size(), 210u);
  const Dataset train = select(r.data, train_idx), test = select(r.data, test_idx);

  Rng rng(1);
  const KnobValues knobs = {{"eta", 0.1}, {"coupling_noise", 0.1}, {"readout_noise_rad", 0.01}};
  Network net;
  add_oscillator_classifier(net, 12, 7, knobs, rng, 3.0);
  const double acc = accuracy_after_training(net, train, test, 0.02, 800, Pass::Device);
  std::printf("vowels (7 classes, chance 0.14): PAT device test accuracy %.3f\n", acc);
  EXPECT_GT(acc, 0.5);
}

TEST(FashionMnist, LoadsPooledImagesWithLabelsFromDebiansPackage) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";  // Debian dataset-fashion-mnist
  if (!std::ifstream(dir + "/t10k-labels-idx1-ubyte.gz")) GTEST_SKIP() << dir << " not installed";
  const Dataset d = load_fashion_mnist(dir, false, 500, 4);
  EXPECT_EQ(d.size(), 500);
  EXPECT_EQ(d.features(), 49);
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_GE(d.x.minCoeff(), 0.0);
  EXPECT_LE(d.x.maxCoeff(), 1.0);
  EXPECT_GT(d.x.mean(), 0.1) << "clothes cover a good part of the frame";
  const std::vector<int> n = class_counts(d);
  for (int c = 0; c < 10; ++c) EXPECT_GT(n[size_t(c)], 20) << fashion_mnist_class(c);
  EXPECT_STREQ(fashion_mnist_class(9), "Ankle boot");
}

TEST(FashionMnist, AMissingOrWrongFileIsAClearError) {
  try {
    load_idx_gz("no/such/images.gz", "no/such/labels.gz", 10, 1);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open no/such/images.gz"), std::string::npos);
  }
  const std::string labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
  if (!std::ifstream(labels)) GTEST_SKIP();
  try {
    load_idx_gz(labels, labels, 10, 1);  // a label file where images belong
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad magic number"), std::string::npos);
  }
}

TEST(SyntheticVowels, HaveTwelveFeaturesSevenBalancedClassesAndAreLearnable) {
  const Dataset d = make_vowels(700, 1);
  EXPECT_EQ(d.features(), 12);
  EXPECT_EQ(d.num_classes, 7);
  EXPECT_EQ(class_counts(d), std::vector<int>(7, 100));
  EXPECT_GE(d.x.minCoeff(), 0.0);
  EXPECT_LE(d.x.maxCoeff(), 1.0);
  EXPECT_EQ(make_vowels(70, 3).x, make_vowels(70, 3).x);
  // "heed" has the lowest F1 and a high F2 for every speaker group: check the class means.
  Vec f1 = Vec::Zero(7), f2 = Vec::Zero(7);
  for (int i = 0; i < d.size(); ++i) {
    f1[d.y[i]] += d.x(0, i);
    f2[d.y[i]] += d.x(1, i);
  }
  Eigen::Index lowest_f1, highest_f2;
  f1.minCoeff(&lowest_f1);
  f2.maxCoeff(&highest_f2);
  EXPECT_STREQ(vowel_word(int(lowest_f1)), "heed");
  EXPECT_STREQ(vowel_word(int(highest_f2)), "heed");
  // A plain linear classifier gets well above chance (1/7): the classes carry information.
  const auto [train, test] = split_dataset(d, 0.3, 2);
  Rng rng(4);
  Network net;
  net.add(std::make_unique<AffineLayer>(12, 7, rng));
  const double acc = accuracy_after_training(net, train, test, 0.05, 1500, Pass::Twin);
  std::printf("synthetic vowels: linear classifier test accuracy %.3f (chance 0.143)\n", acc);
  EXPECT_GT(acc, 0.5);
}

TEST(UciDigits, LoadsTheSklearnCopyAndAPatNetworkLearnsIt) {
  const std::string path = std::string(PATLAB_CACHE_DIR) + "/sklearn-digits/digits.csv.gz";
  if (!std::ifstream(path)) GTEST_SKIP() << path << " missing (run scripts/setup.sh)";
  const Dataset d = load_uci_digits(path);
  EXPECT_EQ(d.size(), 1797);
  EXPECT_EQ(d.features(), 64);
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_GE(d.x.minCoeff(), 0.0);
  EXPECT_LE(d.x.maxCoeff(), 1.0);
  for (int n : class_counts(d)) EXPECT_GT(n, 170);
  const auto [train, test] = split_dataset(d, 0.3, 1);
  Rng rng(2);
  const KnobValues knobs = {{"eta", 0.1}, {"readout_noise_rad", 0.01}};
  Network net;
  add_oscillator_classifier(net, 64, 10, knobs, rng);
  const double default_rate = TrainConfig().optimizer.learning_rate;
  const double acc = accuracy_after_training(net, train, test, default_rate, 600, Pass::Device);
  std::printf("8x8 digits: PAT device test accuracy %.3f (chance 0.1)\n", acc);
  EXPECT_GT(acc, 0.7);
  try {
    load_uci_digits("no/such/digits.csv.gz");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos);
  }
}

}  // namespace patlab
