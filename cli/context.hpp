#pragma once
// What every command implementation shares (private to cli/): parsed arguments, the attached
// cluster, HTTP calls that turn failures into CLI errors with the right exit code, and output.

#include "common/json.hpp"
#include "common/result.hpp"

#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dcos::cli {

inline constexpr int kExitOk = 0, kExitRefused = 1, kExitUsage = 2, kExitUnreachable = 3;

// Commands fail with an Error; its exit code (exitCodeFor): usageError() → 2; kUnavailable and
// kTimeout (the cluster cannot be reached, or none is configured) → 3; anything else (the
// cluster refused or failed the request, a bad local file) → 1. The message is printed as
// "dcos: <message>".
Error usageError(const std::string& message);
int exitCodeFor(const Error& error);

// A command's arguments: positionals in order, and --flags. "--name=value" and "--name value"
// (for flags declared as taking a value) both work; "--" ends flags. Declared per command (see
// Command), so unknown flags are usage errors.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // flags with values
  std::map<std::string, bool> switches;       // boolean flags given
  bool has(const std::string& flag) const { return switches.count(flag) || values.count(flag); }
  std::optional<std::string> value(const std::string& flag) const;
};

// Parses `words` (what follows the command path) against a command's `flags` ("json",
// "lines="). "--help"/"-h" is always accepted as the switch "help". A usage error for an unknown
// flag, a missing value, or a value given to a switch.
Result<Args> parseArgs(const std::vector<std::string>& words, const std::vector<std::string>& flags);

// The Error for a non-2xx answer: the server's JSON "message" and "details" ("Object is not valid
// (/cpus: must be greater than or equal to 0)"), else the status line and the body's first line.
// Never kUnavailable or kTimeout, so a refusal exits 1 whatever the status.
Error serverError(int status, const std::string& body);

// A configured cluster (in ~/.dcos/clusters.json).
struct Cluster {
  std::string name;
  std::string url;   // "http://10.0.0.1:5050", no trailing '/'
  std::string token; // optional: sent as "Authorization: token=<token>"
  bool attached = false;
};

class Context {
 public:
  Context(const std::map<std::string, std::string>& env, std::ostream& out, std::ostream& err);

  std::ostream& out;
  std::ostream& err;
  const std::map<std::string, std::string>& env;

  // ~/.dcos (or $DCOS_DIR when set, for tests).
  std::string configDir() const;
  // The clusters in the config file (empty when none), and saving them back.
  std::vector<Cluster> clusters() const;
  Result<void> saveClusters(const std::vector<Cluster>& clusters) const;
  // The cluster commands talk to: $DCOS_URL, else the one named by $DCOS_CLUSTER, else the
  // attached one. kUnavailable (exit 3) when none is configured.
  Result<Cluster> cluster() const;

  // One HTTP exchange with the cluster (path such as "/v2/apps"); the parsed JSON body of a 2xx
  // answer (null for an empty body). A 4xx/5xx is an Error (exit 1) whose message is the
  // server's "message" plus its details as "path: error" ("Object is not valid (/cpus: must be
  // greater than or equal to 0)"); a connection failure or timeout is kUnavailable (exit 3,
  // "cannot reach the cluster at URL: ...").
  Result<Json> get(const std::string& path) const;
  Result<Json> send(const std::string& method, const std::string& path, const Json& body) const;
  // Same, with the raw response headers kept (e.g. Marathon-Deployment-Id).
  struct Reply {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    Json body;
  };
  Result<Reply> exchange(const std::string& method, const std::string& path, const std::string& body) const;
  // A streamed GET (for `task log --follow`, `deployment watch`): `onData` gets each piece as it
  // arrives until it returns false or the server ends the stream.
  Result<void> stream(const std::string& path, const std::function<bool(std::string_view)>& onData) const;

  // Prints `value` as indented JSON (for --json).
  void printJson(const Json& value) const;
};

// An aligned text table: headers in capitals, columns separated by two spaces, no trailing
// spaces. Cells are printed as given.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void add(std::vector<std::string> row);
  void print(std::ostream& out) const;
  size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// One command: `dcos <noun> <verb...>`. `flags` lists the flags it accepts: "json" for a switch,
// "lines=" for a flag with a value. `run` gets the parsed Args; an Error it returns is printed
// as "dcos: <message>" with exitCodeFor(error).
struct Command {
  std::vector<std::string> path;  // {"marathon", "app", "list"}
  std::string usage;              // "dcos marathon app list [--json]"
  std::string summary;            // one line for help
  std::vector<std::string> flags;
  std::function<Result<void>(Context&, const Args&)> run;
};

// The command tables, one function per file (each registers its commands).
void addClusterCommands(std::vector<Command>& commands);   // cluster setup|list|attach|remove
void addNodeCommands(std::vector<Command>& commands);      // node list|describe
void addServiceCommands(std::vector<Command>& commands);   // service list|shutdown
void addTaskCommands(std::vector<Command>& commands);      // task list|log|ls
void addMarathonCommands(std::vector<Command>& commands);  // marathon app|deployment|task|group ...
void addPackageCommands(std::vector<Command>& commands);   // package search|describe|install|list|uninstall|repo

// Helpers for command implementations.
std::string formatTime(double epochSeconds);     // "2026-11-25T18:00:00Z"; "-" for 0
std::string formatScalar(double value);          // 0.5, 128, 1.25 (no trailing zeros)

}  // namespace dcos::cli
