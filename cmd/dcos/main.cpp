// dcos: one binary, several modes. This file only picks the mode and hands it the arguments.

#include "cli/cli.hpp"
#include "common/flags.hpp"
#include "common/version.hpp"
#include "node/modes.hpp"

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

extern char** environ;

namespace {

const dcos::node::Mode* const kModes[] = {
    &dcos::node::masterMode(),
    &dcos::node::agentMode(),
    &dcos::node::devMode(),
    &dcos::node::executorMode(),
};

void printUsage(std::ostream& out) {
  out << "Usage: dcos <mode> [flags]\n"
         "       dcos <command> <subcommand> [arguments]\n\n"
         "A datacenter operating system in one binary.\n\nModes:\n";
  for (const auto* m : kModes) out << "  " << m->name << std::string(10 - std::strlen(m->name), ' ') << m->summary << "\n";
  out << "\nCommands (talk to a cluster):\n";
  dcos::cli::printCommandSummary(out);
  out << "\nOptions:\n"
         "  --help      Show this help (dcos <mode> --help shows a mode's flags, dcos help <command> a command's)\n"
         "  --version   Show the version, commit, build date and linked libraries\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || (args[0] == "help" && args.size() == 1)) {
    printUsage(std::cout);
    return 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << dcos::version::text();
    return 0;
  }
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  if (dcos::cli::handles(args[0])) {
    dcos::cli::Invocation invocation{args, {}};
    for (const auto& kv : env) {
      auto eq = kv.find('=');
      if (eq != std::string::npos) invocation.env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return dcos::cli::run(invocation);
  }
  for (const auto* mode : kModes) {
    if (args[0] != mode->name) continue;
    dcos::flags::FlagSet flags(std::string("dcos ") + mode->name);
    mode->addFlags(flags);
    auto parsed = flags.parse({args.begin() + 1, args.end()}, env);
    if (!parsed) {
      std::cerr << "dcos " << mode->name << ": " << parsed.error().message << " (see dcos " << mode->name
                << " --help)\n";
      return 2;
    }
    if (flags.helpRequested()) {
      std::cout << flags.help(mode->summary);
      return 0;
    }
    return mode->run(flags);
  }
  std::cerr << "dcos: unknown mode '" << args[0] << "' (see dcos --help)\n";
  return 2;
}
