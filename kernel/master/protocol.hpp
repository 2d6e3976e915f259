#pragma once
// Mesos v1 JSON shapes the master reads and writes, and the checks on what clients send.
// Field names follow include/mesos/v1/mesos.proto and scheduler/scheduler.proto.

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/result.hpp"
#include "kernel/master/records.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dcos::kernel {

inline Json idJson(const std::string& value) { return {{"value", value}}; }

// obj[field]["value"] as a string, or "" when absent or not a string.
std::string idValue(const Json& obj, const char* field);

// A field that must be an {"value": "..."} id: kInvalidArgument naming `path` otherwise.
Result<std::string> requireId(const Json& obj, const char* field, const std::string& path);

// Mesos rules for ids chosen by clients (task ids): non-empty, no '/', no whitespace or control
// characters, not "." or "..", at most 255 bytes.
Result<void> validateClientId(const std::string& id, const std::string& path);

// The roles of a FrameworkInfo: "roles" when it has the MULTI_ROLE capability, else "role"
// (default "*").
std::set<std::string> frameworkRoles(const Json& frameworkInfo);

// Checks a FrameworkInfo from SUBSCRIBE: user and name strings, valid roles, failover_timeout
// a non-negative number. Errors carry paths under `path`.
Result<void> validateFrameworkInfo(const Json& info, const std::string& path);

// The classic /master/state shapes: {"cpus": 4, "mem": 2048, "ports": "[31000-32000]"} and
// {"rack": "r1", "level": 3}.
Json resourcesObject(const Resources& resources);
Json attributesObject(const Json& attributes);

Json offerJson(const OfferRecord& offer, const AgentRecord& agent);
Json frameworkStateJson(const FrameworkRecord& fw, const std::vector<Json>& tasks);
Json taskStateJson(const TaskRecord& task);
Json agentStateJson(const AgentRecord& agent, const Resources& used);

// The refuse_seconds of a call's "filters" (ACCEPT, DECLINE), if it is a valid number.
std::optional<Duration> refuseFilter(const Json& call);

Error invalidCall(const std::string& path, const std::string& message);

}  // namespace dcos::kernel
