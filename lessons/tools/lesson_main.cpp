// patlab_lesson: checks lesson files for teachers and for CI.
//
//   patlab_lesson check FILE...   validate: the text, and setups and names against the lab
//   patlab_lesson run FILE...     validate, then run every checkpoint headless
//
// Errors print as "file:line: message" (editors jump to them); the exit status is 1 on any.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "patlab/lessons/lesson_check.h"

using namespace patlab;

namespace {

// Validates (and with run, runs) one file; returns whether it is fine.
bool check_file(const std::string& path, bool run) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "%s:0: cannot read the file\n", path.c_str());
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  const ParsedLesson parsed = parse_lesson(text.str(), path);
  for (const LessonError& e : parsed.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!parsed.ok()) return false;

  LessonCheckOptions options;
  options.run_checkpoints = run;
  options.on_checkpoint = [&](const CheckpointResult& r) {
    std::printf("%s:%d: step %d \"%s\": %s after %lld steps, %.1f s [%s]\n", path.c_str(), r.line,
                r.step + 1, r.check.c_str(), r.met ? "met" : "NOT MET", r.steps, r.seconds,
                r.detail.c_str());
    std::fflush(stdout);
  };
  if (run)
    std::printf("%s: %s (%zu steps)\n", path.c_str(), parsed.lesson.title.c_str(),
                parsed.lesson.steps.size());
  const LessonReport report = check_lesson(parsed.lesson, options);
  for (const LessonError& e : report.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (report.ok() && !run) std::printf("%s: ok\n", path.c_str());
  return report.ok();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"patlab_lesson: validate and run patlab's classroom lessons (lessons/README.md)"};
  app.require_subcommand(1);
  std::vector<std::string> check_files, run_files;
  app.add_subcommand("check", "validate lesson files")
      ->add_option("files", check_files, "lesson files")
      ->required();
  app.add_subcommand("run", "validate lesson files and run every checkpoint headless")
      ->add_option("files", run_files, "lesson files")
      ->required();
  CLI11_PARSE(app, argc, argv);

  bool ok = true;
  for (const std::string& f : check_files) ok = check_file(f, false) && ok;
  for (const std::string& f : run_files) ok = check_file(f, true) && ok;
  return ok ? 0 : 1;
}
