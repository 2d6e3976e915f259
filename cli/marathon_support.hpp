#pragma once
// What the `dcos marathon ...` command files share (private to cli/): app ids and paths, reading
// a JSON definition from a file or stdin, and following a deployment to its end (`--wait`,
// `deployment watch`).

#include "cli/context.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace dcos::cli::marathon {

// The flags every change command takes besides its own: follow the deployment, and for how long.
inline const std::vector<std::string> kWaitFlags = {"wait", "timeout="};
inline constexpr double kDefaultWaitSeconds = 300;

// "web" and "/web/" → "/web" (Marathon's absolute ids).
std::string normalizeId(const std::string& id);

// The i-th positional argument, or a usage error naming what is missing ("missing APP_ID").
Result<std::string> positional(const Args& args, size_t index, const std::string& name);
// A usage error when more than `max` positionals were given.
Result<void> atMostPositionals(const Args& args, size_t max);

// The JSON document in file `source` ("-" or empty: stdin). A file that cannot be read or is not
// JSON is an Error (exit 1) in one line naming the file and where parsing stopped.
Result<Json> readJsonInput(const std::string& source);

// Marathon's action names as the DC/OS CLI shows them: "ScaleApplication" → "scale".
std::string shortAction(const std::string& action);

// The value of --`flag` as a positive integer (`fallback` when absent); a usage error otherwise.
Result<int> positiveInt(const Args& args, const std::string& flag, int fallback);

// "?force=true" when --force was given, else "".
std::string forceQuery(const Args& args);

// A string member of `j` ("" when absent or not a string).
std::string textOf(const Json& j, const char* key);
// A number member of `j` (0 when absent).
double numberOf(const Json& j, const char* key);

// The deployment a change started: the Marathon-Deployment-Id header, else the body's
// "deploymentId", else the first of its "deployments" ("" when there is none).
std::string deploymentIdOf(const Context::Reply& reply);

struct FollowOptions {
  double timeoutSeconds = 0;     // 0: no deadline
  double intervalSeconds = 0.25; // between polls of /v2/deployments
  int maxLines = 0;              // stop (successfully) after this many progress lines; 0: no limit
  bool mustExist = false;        // the deployment must be running when we start (deployment watch)
};

// Polls /v2/deployments and prints a progress line to `progress` whenever it changes (step i/n,
// each app's healthy/target instances, why offers are refused) until the deployment is gone.
// Success when it finished with its apps at their target; an Error (exit 1) when it was rolled
// back, replaced or stopped meanwhile, or when the deadline passed.
Result<void> followDeployment(Context& ctx, const std::string& id, const FollowOptions& options,
                              std::ostream& progress);

// --timeout in seconds (kDefaultWaitSeconds when absent); a usage error when it is not > 0.
Result<double> waitTimeout(const Args& args);

// After a change (POST/PUT/DELETE answered with a deployment): prints "Created deployment ID"
// and, with --wait, follows it (progress on stderr) until it is done or --timeout passes.
Result<void> reportChange(Context& ctx, const Args& args, const Context::Reply& reply);

// Registers one command; usage errors its `run` returns get the usage line appended.
void addCommand(std::vector<Command>& commands, std::vector<std::string> path, std::string usage, std::string summary,
                std::vector<std::string> flags, std::function<Result<void>(Context&, const Args&)> run);
// `flags` plus kWaitFlags.
std::vector<std::string> withWait(std::vector<std::string> flags);

// The `dcos marathon app ...` commands (marathon_app_commands.cpp).
void addAppCommands(std::vector<Command>& commands);

}  // namespace dcos::cli::marathon
