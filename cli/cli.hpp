#pragma once
// The `dcos` command line: the nouns `cluster`, `node`, `service`, `task`, `marathon`,
// `package`, plus `help`, `completion` and `--version`, in the same binary as the daemons.
// cmd/dcos/main.cpp hands every invocation whose first word is not a daemon mode to run().
//
// Conventions (DC/OS CLI habits): listings print an aligned table, or JSON with --json; errors
// are one line on stderr ("dcos: <message>"), never a stack dump. Exit codes: 0 success, 1 the
// cluster refused or failed the request (its message and field paths are in the line), 2 usage
// errors (unknown command, flag or missing argument), 3 the cluster cannot be reached (or none is
// configured).

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace dcos::cli {

struct Invocation {
  std::vector<std::string> args;                // after the program name: {"marathon", "app", "list"}
  std::map<std::string, std::string> env;       // the process environment (HOME, DCOS_URL, DCOS_CLUSTER)
};

// Whether `word` (the first argument) is a CLI noun or one of help/completion/--version.
bool handles(const std::string& word);

// Runs the command; returns the exit code. Output on stdout, errors on stderr.
int run(const Invocation& invocation);

// One line per command noun ("  cluster   Manage the clusters this CLI talks to"), for `dcos --help`.
void printCommandSummary(std::ostream& out);

}  // namespace dcos::cli
