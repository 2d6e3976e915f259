// dcos: one binary, several modes. This file only picks the mode and hands it the arguments.

#include "cli/cli.hpp"
#include "common/flags.hpp"
#include "common/version.hpp"
#include "node/modes.hpp"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

const dcos::node::Mode* const kModes[] = {
    &dcos::node::masterMode(),
    &dcos::node::masterTokenMode(),
    &dcos::node::agentMode(),
    &dcos::node::devMode(),
    &dcos::node::executorMode(),
};

void printUsage(std::ostream& out) {
  out << "Usage: dcos <mode> [flags]\n"
         "       dcos <command> <subcommand> [arguments]\n\n"
         "A datacenter operating system in one binary.\n\nModes:\n";
  for (const auto* m : kModes) {
    out << "  " << m->name << std::string(std::max<size_t>(14, std::strlen(m->name) + 2) - std::strlen(m->name), ' ')
        << m->summary << "\n";
  }
  out << "\nCommands (talk to a cluster):\n";
  dcos::cli::printCommandSummary(out);
  out << "\nOptions:\n"
         "  --help      Show this help (dcos <mode> --help shows a mode's flags, dcos help <command> a command's)\n"
         "  --version   Show the version, commit, build date and linked libraries\n";
}

// How many leading arguments spell the mode's name ("master token" takes two), or 0.
size_t matchMode(const dcos::node::Mode& mode, const std::vector<std::string>& args) {
  std::istringstream words(mode.name);
  std::string word;
  size_t n = 0;
  while (words >> word) {
    if (n >= args.size() || args[n] != word) return 0;
    ++n;
  }
  return n;
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
  // The longest name wins: "dcos master token" is not "dcos master" with an argument.
  const dcos::node::Mode* mode = nullptr;
  size_t words = 0;
  for (const auto* m : kModes) {
    if (size_t n = matchMode(*m, args); n > words) {
      mode = m;
      words = n;
    }
  }
  if (mode) {
    dcos::flags::FlagSet flags(std::string("dcos ") + mode->name);
    mode->addFlags(flags);
    auto parsed = flags.parse({args.begin() + static_cast<std::ptrdiff_t>(words), args.end()}, env);
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
