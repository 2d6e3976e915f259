#pragma once
// Marathon's app definition (the body of POST /v2/apps): the model with Marathon's defaults,
// parsed and validated the way Marathon does it, and written back as Marathon's JSON. Pure
// functions: no I/O.

#include "common/json.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dcos::marathon {

// One URI the fetcher downloads into the sandbox before the task starts.
struct FetchUri {
  std::string uri;
  bool executable = false;
  bool extract = true;
  bool cache = false;
  std::optional<std::string> outputFile;
  bool operator==(const FetchUri&) const = default;
};

// One host port an app asks for. `port` 0 means "any port from the offer".
struct PortDefinition {
  uint32_t port = 0;
  std::string protocol = "tcp";  // "tcp", "udp" or "udp,tcp"
  std::optional<std::string> name;
  std::map<std::string, std::string> labels;
  bool operator==(const PortDefinition&) const = default;
};

// A placement constraint: [field, OPERATOR] or [field, OPERATOR, value].
struct Constraint {
  std::string field;
  std::string op;  // UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS
  std::optional<std::string> value;
  bool operator==(const Constraint&) const = default;
};

struct UpgradeStrategy {
  double minimumHealthCapacity = 1.0;  // in [0, 1]
  double maximumOverCapacity = 1.0;    // in [0, 1]
  bool operator==(const UpgradeStrategy&) const = default;
};

// What happens to instances whose agent became unreachable: after inactiveAfterSeconds a
// replacement is launched, after expungeAfterSeconds the instance is forgotten (and killed if it
// comes back). `enabled` false is Marathon's string form "disabled".
struct UnreachableStrategy {
  bool enabled = true;
  int64_t inactiveAfterSeconds = 300;  // >= 0, <= expungeAfterSeconds
  int64_t expungeAfterSeconds = 600;
  bool operator==(const UnreachableStrategy&) const = default;
};

// More instances than any cluster here could run: refused rather than attempted (Marathon's limit
// is its Int type).
inline constexpr int64_t kMaxInstances = 1'000'000;

struct AppDefinition {
  std::string id;  // absolute and normalized: "/prod/web"
  std::optional<std::string> cmd;
  std::optional<std::vector<std::string>> args;
  std::optional<std::string> user;
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> labels;
  int64_t instances = 1;
  double cpus = 1;
  double mem = 128;
  double disk = 0;
  int64_t gpus = 0;
  std::vector<FetchUri> fetch;
  std::vector<PortDefinition> portDefinitions = {PortDefinition{}};  // absent: one, any port
  bool requirePorts = false;
  std::vector<Constraint> constraints;
  std::vector<std::string> acceptedResourceRoles;
  Json healthChecks = Json::array();     // validated, Marathon's defaults filled in
  Json readinessChecks = Json::array();  // validated, Marathon's defaults filled in (readiness.hpp)
  std::vector<std::string> dependencies;  // normalized app ids
  UpgradeStrategy upgradeStrategy;
  double backoffSeconds = 1;
  double backoffFactor = 1.15;  // >= 1.0
  int64_t maxLaunchDelaySeconds = 300;
  std::string killSelection = "YOUNGEST_FIRST";  // or "OLDEST_FIRST"
  UnreachableStrategy unreachableStrategy;
  Json container;  // null when none; else validated type "MESOS" or "DOCKER"
  std::optional<std::string> version;

  // A Docker image is asked for: only a Docker-capable agent can run it.
  bool needsDocker() const;

  bool operator==(const AppDefinition&) const = default;
};

// Parses and validates an app definition. Relative ids ("web", "../web") and dependencies are
// resolved against `baseGroup`. Every violation is reported, not just the first: the error is
// kUnprocessable "Object is not valid" with one detail per JSON path ("/cpus",
// "/portDefinitions/0/port"), as in Marathon's 422 answers. Wrong JSON types are violations
// too; unknown fields are ignored.
Result<AppDefinition> parseApp(const Json& json, const std::string& baseGroup = "/");

// Marathon's JSON for the app, every default written out.
Json appToJson(const AppDefinition& app);

// `id` made absolute against `base` with "." and ".." resolved and no trailing '/':
// ("web", "/prod") -> "/prod/web"; ("../web", "/prod/a") -> "/prod/web". Does not check
// segment syntax (parseApp does); ".." above the root stays at the root.
std::string normalizeAppId(const std::string& id, const std::string& base);

// Mesos-DNS' name for an app: its segments reversed, joined with '-': "/prod/web" -> "web-prod".
std::string mesosDnsName(const std::string& appId);

}  // namespace dcos::marathon
