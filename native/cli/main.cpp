// patlab: the command line. Train, evaluate and sweep experiments; fit twins; serve emulated
// devices on serial lines; check classroom lessons. See docs/cli.md, or `patlab --help` and
// `patlab COMMAND --help`.
//
// All subcommands report errors the same way, here: a message on stderr starting "patlab:"
// and an exit code (0 done, 1 the work failed, 2 the request was wrong, 130 interrupted).
#include <cstdio>

#include "cli.h"
#include "patlab/datasets/pack.h"

using namespace patlab;
using namespace patlab::cli;

namespace {

// Prints the error that ended a command as one line on stderr and returns its exit code: 2 for
// bad input, 1 for work that failed (a device gave up, a damaged checkpoint, a diverged run).
int report(const std::exception& e) {
  int code = kExitFailure;
  const char *before = "", *after = "";
  if (dynamic_cast<const UsageError*>(&e) || dynamic_cast<const std::invalid_argument*>(&e)) {
    code = kExitUsage;  // the libraries say "unknown system 'x': choose ..." and the like
  } else if (dynamic_cast<const PackError*>(&e)) {
    code = kExitUsage;
    after = " (is --data-dir right? the build writes the packs to its data folder)";
  } else if (dynamic_cast<const DeviceError*>(&e)) {
    before = "device failed: ";
  }
  std::fprintf(stderr, "patlab: %s%s%s\n", before, e.what(), after);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "patlab: physics-aware training of physical neural networks, from the command line.\n"
      "A network's physical layers run on emulated devices in-process, or on real (or emulated)\n"
      "devices over serial ports; training survives devices that fail and runs that are killed."};
  app.name("patlab");
  app.require_subcommand(1);
  app.footer(
      "Start here:\n"
      "  patlab systems                          what can be emulated, and its knobs\n"
      "  patlab train -o runs/first              train the default experiment, write runs/first\n"
      "  patlab evaluate runs/first              test it again\n"
      "  patlab lesson check LESSON.md           check a classroom lesson you wrote\n"
      "  patlab COMMAND --help                   each command's options and examples\n"
      "Exit codes: 0 done, 1 failed (e.g. a device gave up), 2 bad input, 130 interrupted\n"
      "(a checkpoint was saved). User's guide: docs/cli.md");
  std::vector<std::pair<CLI::App*, Handler>> commands;
  auto add = [&](Handler (*f)(CLI::App&)) {
    Handler h = f(app);
    commands.emplace_back(app.get_subcommands({}).back(), std::move(h));
  };
  add(add_train);
  add(add_evaluate);
  add(add_sweep);
  add(add_merge);
  add(add_fit_twin);
  add(add_device_sim);
  add(add_devices);
  add(add_systems);
  add(add_lesson);

  // CLI11 would say only "a subcommand is required" for a misspelt command.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string names;
    for (auto& [cmd, handler] : commands) {
      known = known || cmd->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + cmd->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "patlab: unknown command '%s': choose %s (see `patlab --help`)\n",
                   argv[1], names.c_str());
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11's own message says which option; add where to read more.
    std::fprintf(stderr, "patlab: %s\n", e.what());
    std::fprintf(stderr, "Run `patlab --help` or `patlab COMMAND --help` for usage.\n");
    return kExitUsage;
  }
  try {
    for (auto& [cmd, handler] : commands)
      if (cmd->parsed()) return handler();
  } catch (const std::exception& e) {
    return report(e);
  }
  return kExitUsage;
}
