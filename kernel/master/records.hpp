#pragma once
// What the master knows about agents, frameworks, tasks and offers. Plain data, owned by the
// Master on its event loop; the Registry persists the parts that must survive a restart.

#include "common/clock.hpp"
#include "common/json.hpp"
#include "kernel/resources/resources.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>
#include <string>

namespace dcos::kernel {

// Where a subscriber's events go: an HTTP RecordIO stream, or an in-process scheduler.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Delivers one event; false once the subscriber is gone.
  virtual bool send(const Json& event) = 0;
  // Ends the subscription from the master's side.
  virtual void close() = 0;
};

enum class AgentState { kActive, kDisconnected, kUnreachable, kGone };
const char* agentStateName(AgentState s);

struct AgentRecord {
  std::string id;
  Json info;  // AgentInfo as the agent sent it, with "id" filled in
  Resources total;
  AgentState state = AgentState::kActive;
  TimePoint registeredAt;
  std::optional<TimePoint> reregisteredAt;  // the latest reregistration with this master
  TimePoint unreachableAt;
  bool recovered = false;  // loaded from the registry and not reregistered since
  // Connection (not persisted).
  std::shared_ptr<EventSink> sink;
  std::string streamId;
  std::string address;  // "ip:port" its latest SUBSCRIBE came from; the ip reaches its HTTP API
  int missedPings = 0;
  bool pongPending = false;
  std::set<std::string> taskKeys;  // "<framework>/<task>"

  std::string hostname() const { return info.value("hostname", std::string()); }
};

struct FrameworkRecord {
  std::string id;
  Json info;  // FrameworkInfo with "id" filled in
  std::set<std::string> roles;
  bool active = false;     // subscribed right now
  bool completed = false;  // torn down or failed over past its timeout
  bool recovered = false;  // loaded from the registry and not resubscribed since
  TimePoint registeredAt;
  std::optional<TimePoint> reregisteredAt;  // the latest resubscription
  TimePoint disconnectedAt;
  std::shared_ptr<EventSink> sink;
  std::string streamId;
  std::optional<uint64_t> failoverTimer;
  std::set<std::string> taskKeys;
  std::set<std::string> offerIds;

  Duration failoverTimeout() const;
  bool partitionAware() const;
};

// An earlier status of a task, in brief, for its history in state (the latest is kept whole).
struct PastStatus {
  std::string state, reason, message, source;
  double timestamp = 0;
  std::optional<bool> healthy;
};

struct TaskRecord {
  static constexpr size_t kHistory = 15;  // earlier statuses kept (in memory only)

  std::string frameworkId;
  std::string taskId;
  std::string agentId;
  Json task;    // TaskInfo as launched (agent_id set)
  Json status;  // the latest TaskStatus (empty before the first update); set it with setStatus
  std::vector<PastStatus> history;  // earlier statuses that differ in state or health, oldest first
  std::string state = "TASK_STAGING";
  Resources resources;  // with allocation role
  std::string role;
  bool acknowledged = true;  // the latest status needs no (more) ack
  bool killRequested = false;  // resent to the agent when it reregisters

  std::string key() const { return frameworkId + "/" + taskId; }
  // Makes `s` the latest status; the one it replaces joins the history when the state or the
  // health changes (a resent update with the same uuid does not).
  void setStatus(Json s);
  // Every status, oldest first, as TaskStatus JSON (the earlier ones in brief).
  Json statusesJson() const;
};

struct OfferRecord {
  std::string id;
  std::string frameworkId;
  std::string agentId;
  std::string role;
  Resources resources;
  TimePoint createdAt;
  std::optional<uint64_t> timeoutTimer;
};

bool isTerminalState(const std::string& state);

}  // namespace dcos::kernel
