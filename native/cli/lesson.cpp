// native/cli/lesson.cpp: `patlab lesson check|run FILE...`, the lesson checker for teachers
// and for CI (lessons/README.md).
//
//   patlab lesson check FILE...   validate: the text, and setups and names against the lab
//   patlab lesson run FILE...     validate, then run every checkpoint headless
//
// Errors print as "file:line: message" (editors jump to them); the exit status is 1 on any.
// The checker runs lessons on the lab (patlab_lessons, which needs patlab_app); a build without
// the app (PATLAB_BUILD_APP=OFF, the sanitizer preset) has the command but says it cannot.
#include <cstdio>

#include "cli.h"

#ifdef PATLAB_HAVE_LESSONS
#include <fstream>
#include <sstream>

#include "patlab/lessons/lesson_check.h"
#endif

namespace patlab::cli {

namespace {

#ifdef PATLAB_HAVE_LESSONS
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

// Every file, even after one fails, so that one run lists every problem.
int check_files(const std::vector<std::string>& files, bool run) {
  bool ok = true;
  for (const std::string& f : files) ok = check_file(f, run) && ok;
  return ok ? kExitOk : kExitFailure;
}
#else
int check_files(const std::vector<std::string>&, bool) {
  throw std::runtime_error(
      "this patlab was built without the lab (PATLAB_BUILD_APP=OFF), which `patlab lesson` "
      "needs to try setups and checkpoints: use the native-release build");
}
#endif

}  // namespace

// The end of `patlab lesson --help`: examples, and what to expect.
const char* const kLessonFooter =
    "A lesson is a Markdown file: prose for the learner and, per step, what the lab should set\n"
    "up, show and verify. Check one after every edit, before a class sees it:\n"
    "  patlab lesson check lessons/03-reality-gap.md   the text, setups, commands and names\n"
    "  patlab lesson run lessons/03-reality-gap.md     and train through every checkpoint\n"
    "                                                  headless, as a learner pressing Run\n"
    "Problems print as FILE:LINE: MESSAGE (an editor jumps to the line); every file is\n"
    "checked even after one fails. Exit codes: 0 all fine, 1 a problem in some file (or a\n"
    "checkpoint not met), 2 bad usage. The format: lessons/README.md";

Handler add_lesson(CLI::App& app) {
  struct Flags {
    std::vector<std::string> check_files, run_files;
    CLI::App *check, *run;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c = add_command(
      app, "lesson", "Check classroom lessons, the Markdown files a teacher writes (check, run)",
      kLessonFooter);
  c->require_subcommand(1);
  f->check = add_command(
      *c, "check", "Validate lesson files: the text, and every setup, command and name on the lab",
      "Example:\n  patlab lesson check lessons/*.md");
  f->check->add_option("files", f->check_files, "Lesson files (Markdown)")->required();
  f->run = add_command(
      *c, "run", "Validate lesson files, then train through every checkpoint headless",
      "Prints each checkpoint as FILE:LINE: step N \"CHECK\": met (or NOT MET) after S steps.\n"
      "Example:\n  patlab lesson run lessons/04-pat-closes-the-gap.md");
  f->run->add_option("files", f->run_files, "Lesson files (Markdown)")->required();
  return [f] {
    return f->check->parsed() ? check_files(f->check_files, false)
                              : check_files(f->run_files, true);
  };
}

}  // namespace patlab::cli
