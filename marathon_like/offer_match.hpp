#pragma once
// Matching one Mesos offer against one more instance of a Marathon app, and building the Mesos
// v1 TaskInfo that launches it. Pure functions: no I/O, no clock (newTaskId alone draws random
// bits).
//
// Semantics (Marathon's, narrowed to what our agents offer):
//  * An app with a Docker image never matches: agents here have only the Mesos containerizer.
//  * acceptedResourceRoles empty means unreserved ("*") resources only; otherwise resources whose
//    reservation role is listed ("*" only if listed). Resources reserved for a role other than
//    the framework's are never used. Reserved resources are taken before unreserved ones.
//  * Every reason that applies is reported, in this order: UnfulfilledRole,
//    UnfulfilledConstraint, InsufficientCpus, InsufficientMemory, InsufficientDisk,
//    InsufficientGpus, InsufficientPorts (disk and gpus only when the app asks for some).
//  * One host port per portDefinition. With requirePorts a declared non-zero port must be offered
//    as it is; otherwise (or for port 0) the lowest free offered port is taken, reserved ranges
//    first. Declared ports are claimed before dynamic ones, and no port is used twice.

#include "common/json.hpp"
#include "common/result.hpp"
#include "kernel/resources/resources.hpp"
#include "marathon_like/app.hpp"
#include "marathon_like/placement.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace dcos::marathon {

// The parts of a Mesos v1 Offer the scheduler decides on.
struct OfferView {
  std::string offerId, agentId, hostname, allocationRole;
  kernel::Resources resources;
  AgentView agent;  // attributes rendered as Mesos shows them ("3", "[1-2]", "{a,b}", text)
};

// Reads a Mesos v1 Offer (as the master's OFFERS event carries it). Malformed input is
// kInvalidArgument naming the field ("offer /agent_id/value: ...").
Result<OfferView> parseOffer(const Json& offer);

// Everything an instance needs besides the offer.
struct LaunchRequest {
  const AppDefinition* app = nullptr;          // must be set; outlives the call
  std::string taskId;                           // chosen by the caller (see newTaskId)
  std::string frameworkRole = "*";              // role the framework subscribed with
  std::map<std::string, std::string> extraEnv;  // added last (e.g. MESOS_DNS_DOMAIN), may be empty
};

struct LaunchPlan {
  Json taskInfo;                    // Mesos v1 TaskInfo for an ACCEPT LAUNCH operation
  std::vector<uint32_t> hostPorts;  // one per portDefinition, in order
  kernel::Resources consumed;       // exactly the resources in taskInfo, as `remaining` has them
};

// Marathon's NoOfferMatchReason names produced here (kUnfulfilledConstraint is in placement.hpp).
inline constexpr const char* kNoDockerContainerizer = "NoDockerContainerizer";
inline constexpr const char* kUnfulfilledRole = "UnfulfilledRole";
inline constexpr const char* kInsufficientCpus = "InsufficientCpus";
inline constexpr const char* kInsufficientMemory = "InsufficientMemory";
inline constexpr const char* kInsufficientDisk = "InsufficientDisk";
inline constexpr const char* kInsufficientGpus = "InsufficientGpus";
inline constexpr const char* kInsufficientPorts = "InsufficientPorts";

// Does one more instance of request.app fit into `remaining` (what is still unused of `offer`),
// given where its instances already run? Yes: the plan to launch it. No: every refusal that
// applies (see the order above), so the caller can count refusals per reason.
//
// The TaskInfo carries name (mesosDnsName of the app id), task_id, agent_id, resources, command
// (cmd as a shell command, or args[0] with arguments; fetch URIs; user; environment), labels,
// discovery (visibility FRAMEWORK, one port entry per protocol) and health_check (the app's first
// health check in Mesos' form, when its port can be resolved). The environment is the app's
// `env`; then Marathon's variables (MARATHON_APP_*, MESOS_TASK_ID, HOST, PORT0..n, PORT, PORTS,
// PORT_<declared or host port>, PORT_<NAME>), except names the app's env already sets; then
// extraEnv, which replaces any earlier variable of the same name.
std::variant<LaunchPlan, std::vector<Refusal>> matchOffer(const LaunchRequest& request, const OfferView& offer,
                                                          const kernel::Resources& remaining,
                                                          const std::vector<PlacedInstance>& placed);

// Marathon's task id: the app id without its leading '/', '/' replaced by '_', a '.', and a
// random UUID v4: "/prod/web" -> "prod_web.6e2b1c3a-...".
std::string newTaskId(const std::string& appId);

// The app id a task id of newTaskId's form belongs to ("prod_web.x" -> "/prod/web"); app ids
// never contain '_' but may contain '.', so the id ends at the last '.'. "" when there is none.
std::string appIdFromTaskId(const std::string& taskId);

}  // namespace dcos::marathon
