#pragma once
// The master: the registry of agents, frameworks and tasks, offers made by the DRF allocator,
// the Mesos v1 scheduler protocol and the v1 operator API. Everything runs on the master's
// EventLoop thread; the HTTP handlers (http_api.cpp, operator_api.cpp) and the in-process
// scheduler driver call in here on that thread.

#include "common/clock.hpp"
#include "common/event_loop.hpp"
#include "common/http/router.hpp"
#include "common/result.hpp"
#include "kernel/allocator/allocator.hpp"
#include "kernel/master/operator_events.hpp"
#include "kernel/master/records.hpp"
#include "kernel/master/registry.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace dcos::kernel {

struct MasterOptions {
  Duration allocationInterval = std::chrono::seconds(1);
  std::optional<Duration> offerTimeout;  // rescind offers older than this
  Duration heartbeatInterval = std::chrono::seconds(15);  // HEARTBEAT events to schedulers
  Duration agentPingTimeout = std::chrono::seconds(15);
  int maxAgentPingTimeouts = 5;
  Duration agentRemovalTimeout = std::chrono::minutes(10);  // UNREACHABLE -> GONE
  std::string hostname;  // for master_info
  uint16_t port = 5050;
  std::map<std::string, std::string> flags;  // effective flag values, for GET_FLAGS
  std::map<std::string, double> weights;     // role -> DRF weight (default 1)
  // Agents must send it to use /api/v1/agents (kernel/master/join_token.hpp); empty: the agent
  // API is open (in-process masters of tests).
  std::string joinToken;
};

// Parses Mesos' --weights syntax, "role1=2,role2=0.5". Errors name the bad entry.
Result<std::map<std::string, double>> parseWeights(const std::string& text);

class Master {
 public:
  static Result<std::unique_ptr<Master>> open(EventLoop& loop, const Clock& clock, const std::string& workDir,
                                              MasterOptions options);
  ~Master();

  // Starts the allocation, heartbeat and ping timers. Call once, on the loop.
  void start();
  // The HTTP port actually bound (the --port flag may have been 0), for master_info.
  void listening(uint16_t port) { options_.port = port; }
  void registerRoutes(http::Router& router);

  const std::string& clusterId() const { return registry_->clusterId(); }
  const std::string& masterId() const { return masterId_; }
  Json masterInfo() const;

  // ---- Schedulers (scheduler_calls.cpp) ----
  struct Subscription {
    std::string frameworkId;
    std::string streamId;
  };
  // SUBSCRIBE: validates framework_info, (re)registers the framework, sends SUBSCRIBED on
  // `sink`. A framework that subscribes again replaces its old connection (failover).
  Result<Subscription> subscribeFramework(const Json& call, std::shared_ptr<EventSink> sink);
  // Every other call. kForbidden when the framework is not subscribed, kInvalidArgument for a
  // stream id that is not the framework's current one or a malformed call.
  Result<void> frameworkCall(const Json& call, const std::string& streamId);
  // The framework's event stream ended (only acts if `streamId` is still its current one).
  void frameworkDisconnected(const std::string& frameworkId, const std::string& streamId);

  // ---- Agents (agent_calls.cpp) ----
  struct AgentSubscription {
    std::string agentId;
    std::string streamId;
  };
  Result<AgentSubscription> subscribeAgent(const Json& call, std::shared_ptr<EventSink> sink);
  Result<void> agentCall(const Json& call, const std::string& streamId);
  void agentDisconnected(const std::string& agentId, const std::string& streamId);

  // ---- State (http_api.cpp) ----
  Json stateJson() const;         // GET /master/state
  Json stateSummaryJson() const;  // GET /master/state-summary

  // `fn` runs on the loop after every change of a task (added, state, health), an agent or a
  // framework: discovery rebuilds its records from the state then. It must not call back into
  // the master's mutating methods.
  void onChange(std::function<void()> fn) { changeListeners_.push_back(std::move(fn)); }

  // For tests and the operator API.
  const std::map<std::string, AgentRecord>& agents() const { return agents_; }
  const std::map<std::string, FrameworkRecord>& frameworks() const { return frameworks_; }
  const std::map<std::string, TaskRecord>& tasks() const { return tasks_; }

 private:
  Master(EventLoop& loop, const Clock& clock, std::unique_ptr<Registry> registry, MasterOptions options);
  Result<void> recover();
  void every(Duration period, std::function<void()> fn);

  // Allocation and offers (master.cpp)
  void requestAllocation();
  void allocate();
  void rescindOffer(const std::string& offerId, bool recover);
  void removeOffer(const std::string& offerId);
  void rescindAgentOffers(const std::string& agentId);
  void rescindFrameworkOffers(const std::string& frameworkId);

  // Events
  void sendToFramework(FrameworkRecord& fw, const Json& event);
  void sendToAgent(AgentRecord& agent, const Json& event);
  Json masterStatus(const TaskRecord& task, const std::string& state, const std::string& reason,
                    const std::string& message) const;
  // Records a status for a task and forwards it to its framework (scheduler_calls.cpp).
  void applyStatus(TaskRecord& task, const Json& status);
  void sendUpdateToFramework(const std::string& frameworkId, const Json& status);

  // Framework lifecycle (scheduler_calls.cpp)
  void removeFramework(FrameworkRecord& fw, const std::string& why);
  void accept(FrameworkRecord& fw, const Json& accept);
  void decline(FrameworkRecord& fw, const Json& decline);
  void kill(FrameworkRecord& fw, const Json& kill);
  void acknowledge(FrameworkRecord& fw, const Json& ack);
  void reconcile(FrameworkRecord& fw, const Json& reconcile);

  // Launching (launch.cpp)
  // The validated launches of one ACCEPT are recorded in one transaction, then sent (a group's
  // tasks together in one RUN_TASK_GROUP). When they cannot be persisted, every one of them is a
  // TASK_ERROR and its resources go back.
  struct PendingLaunch {
    TaskRecord record;
    bool inGroup = false;
  };
  void commitLaunches(FrameworkRecord& fw, AgentRecord& agent, std::vector<PendingLaunch> launches,
                      std::vector<Json> groupEvents);
  void killTask(TaskRecord& task, const Json& killPolicy);
  void finishTask(TaskRecord& task);
  // Status changes and removals of tasks are written in one transaction per loop turn
  // (flushTasks); an acknowledgement is forwarded to an agent only after they are durable, so an
  // agent never forgets a task whose end the registry does not hold yet.
  void persistTaskSoon(const TaskRecord& task);
  void flushTasks();
  void postTaskFlush();

  // Agent health (agent_calls.cpp)
  void pingAgents();
  void markUnreachable(AgentRecord& agent, const std::string& why);
  void markGone(AgentRecord& agent);
  void reconcileAgentTasks(AgentRecord& agent, const Json& reported);

  // GET /agent/{agent_id}/files/{browse,read,download}: forwarded to the agent (agent_files.cpp).
  void registerAgentFilesRoutes(http::Router& router);
  // Answers `req` with the agent's answer to GET <agentPath><req's query> (streamed or whole).
  void forwardToAgent(http::Request& req, const std::string& agentPath, bool streamed, http::Responder responder);

  // Operator API (operator_api.cpp): POST /api/v1 and its event stream.
  void registerOperatorRoutes(http::Router& router);
  void subscribeOperator(const http::Request& req, const http::Responder& responder);
  // Every call but SUBSCRIBE: the response body, null for "200 without a body", or
  // kInvalidArgument for an unknown, unsupported or malformed call.
  Result<Json> operatorCall(const Json& call);
  // Response.GetState and its parts (operator_state.cpp).
  Json getState() const;
  Json getAgents() const;
  Json getFrameworks() const;
  Json getTasks() const;
  Json getRoles() const;
  Json v1Agent(const AgentRecord& agent, const Resources& offered) const;
  Json v1Framework(const FrameworkRecord& fw) const;
  Resources offeredOn(const std::string& agentId) const;
  // Events for operator subscribers, built only when someone listens.
  void publishTaskAdded(const TaskRecord& task);
  void publishTaskUpdated(const TaskRecord& task);
  void publishAgentAdded(const AgentRecord& agent);
  void publishAgentRemoved(const std::string& agentId);
  void publishFramework(const FrameworkRecord& fw, bool added);
  void publishFrameworkRemoved(const FrameworkRecord& fw);
  void notifyChange();

  EventLoop& loop_;
  const Clock& clock_;
  std::unique_ptr<Registry> registry_;
  MasterOptions options_;
  std::string masterId_;
  TimePoint startedAt_;
  Allocator allocator_;

  std::map<std::string, AgentRecord> agents_;
  std::set<std::string> goneAgents_;  // removed for good: refused if they come back
  std::map<std::string, FrameworkRecord> frameworks_;
  std::map<std::string, TaskRecord> tasks_;  // by "<framework>/<task>"
  std::map<std::string, OfferRecord> offers_;
  std::deque<TaskRecord> completedTasks_;    // the most recent terminal tasks, for state
  std::set<std::string> dirtyTasks_;         // keys whose status is not written yet
  std::set<std::pair<std::string, std::string>> removedTasks_;  // (framework, task) to delete
  bool taskFlushPosted_ = false;
  std::shared_ptr<int> lifetime_ = std::make_shared<int>(0);  // posted work checks it
  std::deque<FrameworkRecord> completedFrameworks_;  // the most recently removed, for state
  OperatorEvents operatorEvents_;
  std::vector<std::function<void()>> changeListeners_;
  uint64_t nextOffer_ = 0;
  bool allocationPending_ = false;
  bool started_ = false;
};

}  // namespace dcos::kernel
