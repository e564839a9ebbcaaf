// The lesson parser: line-based, no recursion, every error with its line. Kept strict on
// purpose: a typo in a key or a view name is an error, not a silently ignored line, because
// the teacher who wrote it would otherwise never learn why the step misbehaves.
#include "patlab/lessons/lesson.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace patlab {

namespace {

constexpr size_t kMaxLine = 4000;          // longer lines are surely not a lesson
constexpr long long kMaxWithin = 1000000;  // steps a checkpoint may wait for
constexpr size_t kMaxTerms = 64;           // per condition

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> words;
  std::string w;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\r') {
      if (!w.empty()) words.push_back(w);
      w.clear();
    } else {
      w += c;
    }
  }
  if (!w.empty()) words.push_back(w);
  return words;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::stringstream in(s);
  while (std::getline(in, part, sep)) parts.push_back(trim(part));
  if (!s.empty() && s.back() == sep) parts.push_back("");
  return parts;
}

bool parse_double(const std::string& s, double& v) {
  if (s.empty()) return false;
  // Plain decimal numbers only: no hex, inf or nan, which strtod would take.
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E'))
      return false;
  char* end = nullptr;
  errno = 0;
  v = std::strtod(s.c_str(), &end);
  return end && *end == '\0' && errno == 0 && std::isfinite(v);
}

bool is_number_start(const std::string& w) {
  return !w.empty() && (std::isdigit(static_cast<unsigned char>(w[0])) || w[0] == '.');
}

const std::vector<std::string>& lane_methods() {
  static const std::vector<std::string> m = {"pat", "in-silico", "ideal", "spsa"};
  return m;
}
const std::vector<std::string>& lane_fields() {
  static const std::vector<std::string> f = {"device_accuracy", "twin_accuracy", "device_loss",
                                             "twin_loss",       "twin_gap",      "alignment",
                                             "device_queries",  "epoch"};
  return f;
}
const std::vector<std::string>& plain_names() {
  static const std::vector<std::string> n = {
      "step",     "physical_layers",       "classes",
      "features", "explorer.rms_residual", "slow_motion.phase",
      "twin.error_before", "twin.error_after"};
  return n;
}

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string join(const std::vector<std::string>& list) {
  std::string s;
  for (const std::string& x : list) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

std::string LessonError::to_string() const {
  return file + ":" + std::to_string(line) + ": " + message;
}

const std::vector<std::string>& lesson_views() {
  static const std::vector<std::string> v = {"race",   "data",     "slow",
                                             "inside", "explorer", "robustness"};
  return v;
}

const std::vector<std::string>& lesson_controls() {
  // What the player may show of the lab's control panel; the lead's UI maps each to widgets.
  static const std::vector<std::string> c = {"training", "data",     "system", "methods", "knobs",
                                             "layers",   "settings", "views",  "share"};
  return c;
}

bool is_lesson_value_name(const std::string& name) {
  if (contains(plain_names(), name)) return true;
  if (name.rfind("knob.", 0) == 0) {
    const std::string key = name.substr(5);
    if (key.empty()) return false;
    for (char c : key)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return true;
  }
  const size_t dot = name.find('.');
  if (dot == std::string::npos) return false;
  return contains(lane_methods(), name.substr(0, dot)) &&
         contains(lane_fields(), name.substr(dot + 1));
}

std::optional<Condition> parse_condition(const std::string& text, std::string* error) {
  static const std::vector<std::string> ops = {"<", "<=", ">", ">=", "==", "!="};
  auto fail = [&](const std::string& why) -> std::optional<Condition> {
    if (error) *error = why;
    return std::nullopt;
  };
  Condition c;
  c.text = trim(text);
  const std::vector<std::string> words = split_words(text);
  if (words.empty()) return fail("empty condition");
  if (words.size() > kMaxTerms * 2) return fail("condition too long");
  Condition::Comparison cmp;
  bool left = true;
  bool want_term = true;  // alternates: term, sign or operator, term, ...
  double sign = 1.0;
  for (const std::string& w : words) {
    if (want_term) {
      Condition::Term t;
      t.sign = sign;
      if (is_number_start(w) ||
          ((w[0] == '-' || w[0] == '+') && w.size() > 1 && is_number_start(w.substr(1)))) {
        if (!parse_double(w, t.number)) return fail("'" + w + "' is not a number");
      } else if (is_lesson_value_name(w)) {
        t.name = w;
      } else if (contains(ops, w) || w == "+" || w == "-" || w == "and") {
        return fail("expected a value before '" + w + "'");
      } else {
        return fail("unknown value '" + w +
                    "' (try pat.device_accuracy, in-silico.twin_accuracy, step, knob.eta, ...)");
      }
      (left ? cmp.left : cmp.right).push_back(t);
      want_term = false;
      continue;
    }
    want_term = true;
    if (w == "+" || w == "-") {
      sign = w == "+" ? 1.0 : -1.0;
    } else if (contains(ops, w)) {
      if (!left) return fail("two comparisons without 'and' between them at '" + w + "'");
      cmp.op = w;
      left = false;
      sign = 1.0;
    } else if (w == "and") {
      if (left) return fail("'and' joins comparisons: the part before it compares nothing");
      c.all.push_back(cmp);
      cmp = Condition::Comparison();
      left = true;
      sign = 1.0;
    } else {
      return fail("expected an operator (< <= > >= == != + - and; with spaces around it) before '" +
                  w + "'");
    }
  }
  if (want_term) return fail("the condition ends with an operator");
  if (left) return fail("no comparison: write e.g. 'pat.device_accuracy >= 0.9'");
  c.all.push_back(cmp);
  return c;
}

bool evaluate_condition(const Condition& c,
                        const std::function<std::optional<double>(const std::string&)>& value,
                        std::string* detail) {
  std::string seen;
  bool met = true;
  for (const Condition::Comparison& cmp : c.all) {
    auto sum = [&](const std::vector<Condition::Term>& terms, bool& known) {
      double s = 0.0;
      for (const Condition::Term& t : terms) {
        double v = t.number;
        if (!t.name.empty()) {
          const std::optional<double> got = value(t.name);
          if (!got || !std::isfinite(*got)) {
            known = false;
            seen += (seen.empty() ? "" : ", ") + t.name + " = (not measured)";
            continue;
          }
          v = *got;
          seen += (seen.empty() ? "" : ", ") + t.name + " = " + number_text(v);
        }
        s += t.sign * v;
      }
      return s;
    };
    bool known = true;
    const double a = sum(cmp.left, known), b = sum(cmp.right, known);
    bool holds = false;
    if (known) {
      if (cmp.op == "<")
        holds = a < b;
      else if (cmp.op == "<=")
        holds = a <= b;
      else if (cmp.op == ">")
        holds = a > b;
      else if (cmp.op == ">=")
        holds = a >= b;
      else if (cmp.op == "==")
        holds = a == b;
      else if (cmp.op == "!=")
        holds = a != b;
    }
    met = met && holds;
  }
  if (detail) *detail = seen;
  return met;
}

ParsedLesson parse_lesson(const std::string& text, const std::string& name) {
  ParsedLesson out;
  Lesson& lesson = out.lesson;
  lesson.name = name;
  auto error = [&](int line, const std::string& message) {
    out.errors.push_back({name, line, message});
  };

  std::vector<std::string> lines;
  {
    std::string line;
    std::stringstream in(text);
    while (std::getline(in, line)) lines.push_back(line);
  }
  if (text.find('\0') != std::string::npos) {
    error(0, "the file holds a NUL byte: is it really a text file?");
    return out;
  }

  LessonStep* step = nullptr;
  std::string* prose = &lesson.intro;
  std::string fence;      // the opening fence of a prose code block we are in ("" if none)
  bool in_block = false;  // inside the step's ```lesson block
  int block_line = 0;
  bool title_seen = false;
  std::vector<int> blocks_in_step;
  int answer_line = 0;
  std::string answer;

  // Checks a finished step for consistency between its keys.
  auto finish_step = [&]() {
    if (!step) return;
    if (step->predict) {
      if (answer.empty()) {
        error(step->predict->line, "a predict needs an 'answer:' line naming the right answer");
      } else {
        const auto& a = step->predict->answers;
        const auto it = std::find(a.begin(), a.end(), answer);
        if (it == a.end())
          error(answer_line, "the answer '" + answer + "' is none of the predict's answers");
        else
          step->predict->correct = int(it - a.begin());
      }
      if (step->checks.empty())
        error(step->predict->line,
              "a predict needs a 'check:' in the same step that shows the answer");
    } else if (!answer.empty()) {
      error(answer_line, "'answer:' without a 'predict:' line in the step");
    }
    answer.clear();
    answer_line = 0;
    step->text = trim(step->text);
  };

  for (size_t i = 0; i < lines.size(); ++i) {
    const int ln = int(i) + 1;
    std::string line = lines[i];
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > kMaxLine) {
      error(ln, "line longer than " + std::to_string(kMaxLine) + " characters");
      continue;
    }
    const std::string t = trim(line);

    if (in_block) {
      if (t == "```") {
        in_block = false;
        continue;
      }
      if (t.empty() || t[0] == '#') continue;  // blank lines and comments
      const size_t colon = t.find(':');
      if (colon == std::string::npos) {
        error(ln, "expected 'key: value' in the lesson block");
        continue;
      }
      const std::string key = trim(t.substr(0, colon)), value = trim(t.substr(colon + 1));
      if (value.empty()) {
        error(ln, "'" + key + ":' has no value");
        continue;
      }
      if (key == "setup") {
        if (!step->setup.empty()) error(ln, "a second 'setup:' in one step");
        bool good = true;
        for (const std::string& part : split(value, '&'))
          if (part.find('=') == std::string::npos || part.find('=') == 0 ||
              part.find(' ') != std::string::npos)
            good = false;
        if (!good)
          error(ln, "setup must be a link query: key=value pairs joined by '&', no spaces");
        step->setup = value;
        step->setup_line = ln;
      } else if (key == "view") {
        if (!step->view.empty()) error(ln, "a second 'view:' in one step");
        if (!contains(lesson_views(), value))
          error(ln, "unknown view '" + value + "' (views: " + join(lesson_views()) + ")");
        step->view = value;
        step->view_line = ln;
      } else if (key == "controls") {
        if (step->controls_given) error(ln, "a second 'controls:' in one step");
        step->controls_given = true;
        if (value != "none")
          for (const std::string& c : split(value, ',')) {
            if (!contains(lesson_controls(), c))
              error(ln, "unknown control '" + c + "' (controls: " + join(lesson_controls()) +
                            ", or none)");
            else if (contains(step->controls, c))
              error(ln, "control '" + c + "' listed twice");
            else
              step->controls.push_back(c);
          }
      } else if (key == "do") {
        for (const std::string& cmd : split(value, ';')) {
          if (cmd.empty() || cmd.find(' ') != std::string::npos) {
            error(ln, "'do:' takes lab commands separated by ';', each without spaces");
            break;
          }
          step->actions.emplace_back(ln, cmd);
        }
      } else if (key == "check") {
        LessonCheck check;
        check.line = ln;
        check.text = value;
        const std::vector<std::string> words = split_words(value);
        const size_t n = words.size();
        // "<condition> within <N> steps"
        if (n < 4 || words[n - 3] != "within" ||
            (words[n - 1] != "steps" && words[n - 1] != "step")) {
          error(ln, "a check reads '<condition> within <N> steps'");
          continue;
        }
        double within = 0;
        if (!parse_double(words[n - 2], within) || within != std::floor(within) || within < 1 ||
            within > kMaxWithin) {
          error(ln, "'within " + words[n - 2] +
                        " steps': the steps must be a whole number from 1 to " +
                        std::to_string(kMaxWithin));
          continue;
        }
        check.within_steps = static_cast<long long>(within);
        std::string cond;
        for (size_t w = 0; w + 3 < n; ++w) cond += (w ? " " : "") + words[w];
        std::string why;
        const std::optional<Condition> c = parse_condition(cond, &why);
        if (!c) {
          error(ln, "bad condition: " + why);
          continue;
        }
        check.condition = *c;
        step->checks.push_back(check);
      } else if (key == "predict") {
        if (step->predict) error(ln, "a second 'predict:' in one step");
        LessonPredict p;
        p.line = ln;
        std::vector<std::string> parts = split(value, '|');
        p.question = parts.front();
        p.answers.assign(parts.begin() + 1, parts.end());
        if (p.question.empty() || p.answers.size() < 2)
          error(ln, "predict reads 'question | answer | answer ...' with at least two answers");
        for (const std::string& a : p.answers)
          if (a.empty()) error(ln, "an empty answer in the predict");
        step->predict = p;
      } else if (key == "answer") {
        if (!answer.empty()) error(ln, "a second 'answer:' in one step");
        answer = value;
        answer_line = ln;
      } else {
        error(ln, "unknown key '" + key +
                      "' (keys: setup, view, controls, do, check, predict, answer)");
      }
      continue;
    }

    // Prose. Fenced code blocks in it are passed through untouched: a "## " inside one is code.
    if (!fence.empty()) {
      // Closed by a run of the same character at least as long, and nothing else (CommonMark).
      const size_t run = t.find_first_not_of(fence[0]);
      if (t.rfind(fence, 0) == 0 && run == std::string::npos) fence.clear();
      *prose += line + "\n";
      continue;
    }
    if (t.rfind("```", 0) == 0 || t.rfind("~~~", 0) == 0) {
      const std::string info = trim(t.substr(3));
      if (t.rfind("```", 0) == 0 && info == "lesson") {
        if (!step) {
          error(ln, "a lesson block belongs in a step: put it under a '## ' heading");
        } else if (!blocks_in_step.empty()) {
          error(ln, "a second lesson block in one step (the first is at line " +
                        std::to_string(blocks_in_step[0]) + ")");
        }
        blocks_in_step.push_back(ln);
        in_block = true;
        block_line = ln;
        if (!step) {
          // Parse it anyway into a throwaway step so later lines are checked in context.
          lesson.steps.emplace_back();
          step = &lesson.steps.back();
          step->line = ln;
          prose = &step->text;
        }
        continue;
      }
      fence = t.substr(0, std::min(t.find_first_not_of(t[0]), t.size()));
      *prose += line + "\n";
      continue;
    }
    if (line.rfind("# ", 0) == 0) {
      if (title_seen) {
        error(ln, "a second '# ' title: steps are '## ' headings");
      } else if (step || !trim(lesson.intro).empty()) {
        error(ln, "the '# ' title must come first");
      }
      title_seen = true;
      lesson.title = trim(line.substr(2));
      if (lesson.title.empty()) error(ln, "empty title");
      continue;
    }
    if (line.rfind("## ", 0) == 0) {
      finish_step();
      lesson.steps.emplace_back();
      step = &lesson.steps.back();
      step->line = ln;
      step->title = trim(line.substr(3));
      if (step->title.empty()) error(ln, "a step needs a title after '## '");
      prose = &step->text;
      blocks_in_step.clear();
      continue;
    }
    if (!title_seen && !t.empty()) {
      error(ln, "a lesson starts with its title: '# <title>'");
      title_seen = true;  // one error is enough
    }
    *prose += line + "\n";
  }
  if (in_block) error(block_line, "the lesson block is not closed with ```");
  finish_step();
  if (!title_seen || lesson.title.empty()) {
    if (out.errors.empty()) error(1, "a lesson starts with its title: '# <title>'");
  }
  if (lesson.steps.empty()) error(0, "a lesson needs at least one step ('## ' heading)");
  lesson.intro = trim(lesson.intro);
  return out;
}

}  // namespace patlab
