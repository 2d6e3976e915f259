#pragma once
// The agent (`dcos agent`): registers this machine's resources with the master, runs the tasks
// the master sends it and reports their states reliably. It runs on a given EventLoop, so a
// process may host a master and an agent side by side (`dcos dev`). The protocol is described
// in docs/ARCHITECTURE.md, "Agent ↔ master protocol".
//
// Issue 3 scope: tasks are plain child processes (ProcessLauncher), killed when the agent stops;
// executors that survive agent restarts come with issue 4 behind the same TaskLauncher seam.

#include "common/clock.hpp"
#include "common/event_loop.hpp"
#include "common/http/http.hpp"
#include "common/http/router.hpp"
#include "common/json.hpp"
#include "common/result.hpp"
#include "kernel/agent/checkpoint.hpp"
#include "kernel/agent/launcher.hpp"
#include "kernel/agent/master_link.hpp"
#include "kernel/agent/status_updates.hpp"
#include "kernel/resources/resources.hpp"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dcos::kernel {

class Fetcher;
struct SandboxScan;

struct AgentOptions {
  std::string master;  // "host:port" of the master
  std::string joinToken;  // sent on every call to the master (`dcos master token`); "" sends none
  std::string workDir;  // absolute; holds agent_id and sandboxes/
  std::string hostname;
  // The address its HTTP server listens on, for the endpoint custom executors call
  // (MESOS_AGENT_ENDPOINT); 0.0.0.0 means every address, so executors use loopback.
  std::string listenAddress = "127.0.0.1";
  Resources resources;   // what the agent offers (detected + --resources)
  Json attributes = Json::array();  // Mesos v1 Attribute objects
  Duration defaultGracePeriod = std::chrono::seconds(3);  // SIGTERM → SIGKILL when the task sets none
  Duration defaultPingInterval = std::chrono::seconds(15);  // until SUBSCRIBED tells
  Duration minReconnectDelay = std::chrono::milliseconds(100);
  Duration maxReconnectDelay = std::chrono::seconds(5);
  Duration initialUpdateBackoff = std::chrono::seconds(10);  // as Mesos: resends must not swamp a busy master
  Duration maxUpdateBackoff = std::chrono::seconds(30);
  uint64_t fetcherCacheBytes = 2ull << 30;  // the bound of <workDir>/fetcher-cache (LRU)
  bool cgroupsEnableCfs = false;  // --cgroups_enable_cfs: a hard CFS quota of the task's cpus
  // Sandbox garbage collection (kernel/agent/gc.hpp): finished sandboxes go after gcDelay, sooner
  // as the disk fills (Mesos' --gc_delay, --gc_disk_headroom); checked every diskWatchInterval.
  Duration gcDelay = std::chrono::hours(24 * 7);
  double gcDiskHeadroom = 0.1;
  Duration diskWatchInterval = std::chrono::minutes(1);
  // Executors: the dcos binary they run ("" = this process's own) and how long one whose task
  // ended waits for an agent to come back (kernel/executor/executor.hpp).
  std::string executorBinary;
  Duration executorRecoveryTimeout = std::chrono::minutes(15);
  // --recover=cleanup: when the checkpoint does not match (e.g. other resources), kill what the
  // last agent ran and register as a new agent instead of refusing to start.
  bool recoverCleanup = false;
  bool pidNamespace = false;  // --pid_namespace: each task in its own PID namespace (namespaces/pid)
};

// The options `dcos agent` runs with: the resources detected on this machine (disk on the file
// system of `workDir`) with --resources applied, --attributes parsed, --hostname or this
// machine's name. Errors are kInvalidArgument naming the flag, or kIo when detection failed.
Result<AgentOptions> agentOptionsFromFlags(const std::string& master, const std::string& workDir,
                                           const std::string& resources, const std::string& attributes,
                                           const std::string& hostname);

class Agent {
 public:
  // Reads <workDir>/agent_id (an unreadable one is an error) and the checkpoint
  // (kernel/agent/checkpoint.hpp). Other resources than checkpointed are refused
  // (kConflict, saying what changed) unless options.recoverCleanup. `launcher`
  // defaults to executors (makeExecutorLauncher) on `loop`. Nothing talks to the master and no
  // task is touched before start().
  static Result<std::unique_ptr<Agent>> create(EventLoop& loop, AgentOptions options,
                                               const Clock& clock = SystemClock::instance(),
                                               std::unique_ptr<TaskLauncher> launcher = nullptr);
  ~Agent();  // stop()s
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // GET /health, GET /state and the sandbox files API (registerFileRoutes).
  void registerRoutes(http::Router& router);
  // POST /api/v1/executor: Mesos' v1 executor API for custom executors. Part of registerRoutes;
  // separate for `dcos dev`, like the files routes.
  void registerExecutorRoutes(http::Router& router);
  // GET /files/{browse,read,download} over <work_dir>/sandboxes (kernel/agent/sandbox_files.hpp).
  // Separate so that `dcos dev` can add them to the master's router, where /health and /state
  // are the master's.
  void registerFileRoutes(http::Router& router);
  // GET /state and /monitor/statistics (the master has neither; `dcos dev` adds them).
  void registerStateRoutes(http::Router& router);

  // Reattaches to the tasks the checkpoint holds (reporting those whose executor died as
  // failed), then subscribes to the master, reporting `port` as the agent's HTTP port;
  // reconnects on its own from then on. Loop thread (or before the loop runs).
  void start(uint16_t port);

  // Disconnects. With `killTasks` every task is killed (SIGTERM to each, SIGKILL after the
  // longest grace period among them) and waited for; without, the tasks keep running under their
  // executors for the next agent process to recover. Call on the loop thread or after the loop
  // stopped, and before the loop is destroyed. Idempotent.
  void stop(bool killTasks = true);

  // Called (on the loop thread) when the master refuses this agent for good: 403, it was removed
  // from the cluster and must not come back with this id; or 401, its join token is missing or
  // wrong. The agent has logged why (the message) and stops reconnecting first.
  void onRemoved(std::function<void(const std::string& message)> fn) { onRemoved_ = std::move(fn); }

  const std::string& agentId() const { return agentId_; }
  bool registered() const { return registered_; }
  Json stateJson() const;
  // POST /api/v1 (Mesos' agent operator API): GET_HEALTH, GET_STATE, GET_CONTAINERS.
  http::Response operatorCall(const http::Request& request) const;
  Json healthJson() const;
  Json monitorStatistics() const;  // GET /monitor/statistics

 private:
  struct Task {
    std::string frameworkId, taskId;
    Json frameworkInfo, task;
    Json status;  // the latest TaskStatus sent for it
    std::string state = "TASK_STAGING";
    std::string containerId, sandbox;
    int pid = 0;
    bool launched = false, killRequested = false, terminal = false;
    std::optional<bool> healthy;  // after its health check's first result
    std::string executorKey;      // "<framework>/<executor id>" when it runs on a custom executor
    Duration grace{};
    std::string key() const { return frameworkId + "/" + taskId; }
    Json toCheckpoint() const;
    static Task fromCheckpoint(const Json& json);
  };

  Agent(EventLoop& loop, AgentOptions options, const Clock& clock, std::unique_ptr<TaskLauncher> launcher,
        std::string agentId, std::unique_ptr<AgentCheckpoint> checkpoint, AgentCheckpoint::Loaded recovered);

  // Checkpoint and recovery (agent_recovery.cpp).
  static Result<void> checkRecoverable(const AgentOptions& options, const AgentCheckpoint::Loaded& loaded);
  void recover();
  void checkpoint(const Task& t);
  void persistSoon();
  void persistNow();
  TaskLauncher::Callbacks callbacksFor(const std::string& key, const std::string& containerId);

  // Connection (agent.cpp).
  void subscribe();
  Json subscribeCall() const;
  void handleEvent(const Json& event);
  void dispatch(const std::string& type, const Json& event);
  void handleSubscribed(const Json& subscribed);
  void handleClosed(const Error& why, int status);
  void scheduleReconnect(Duration delay);

  // Tasks and updates (agent_tasks.cpp).
  void runTask(const Json& frameworkId, const Json& frameworkInfo, const Json& task);
  void runTaskGroup(const Json& runTaskGroup);
  static std::string groupOf(const Task& t);  // "<framework>/<executor id>" of a task group's member, or ""
  void killGroupMembers(const Task& t, const std::string& why);
  void killTask(const std::string& frameworkId, const std::string& taskId, const Json& killPolicy);
  void shutdownFramework(const std::string& frameworkId);
  void finishFrameworkShutdown(std::string frameworkId);
  void fetchAndLaunch(const std::string& key, LaunchSpec spec, const Json& uris);  // agent_fetch.cpp
  void launch(const std::string& key, const LaunchSpec& spec);
  void taskStarted(const std::string& key, const std::string& containerId, Result<int> pid);
  void taskTerminated(const std::string& key, const std::string& containerId, const TaskTermination& how);
  void taskHealth(const std::string& key, const std::string& containerId, bool healthy, const std::string& message);
  void sendStatus(Task& task, const std::string& state, const std::string& message, const std::string& reason);
  void recordStatus(Task& task, Json status);
  Json newStatus(const std::string& taskId, const std::string& state, const std::string& message,
                 const std::string& reason) const;
  void queueUpdate(const std::string& frameworkId, const std::string& taskId, Json status);
  void acknowledge(const std::string& frameworkId, const std::string& taskId, const std::string& uuid);
  void flushUpdates();
  void retire(const std::string& key);

  // Custom executors and the v1 executor API (agent_executors.cpp).
  struct CustomExecutor {
    std::string frameworkId, executorId, containerId, sandbox;
    Json info, frameworkInfo;
    std::shared_ptr<http::ResponseStream> stream;  // while subscribed
    std::vector<std::string> queued;               // task keys to LAUNCH once subscribed
  };
  static bool usesCustomExecutor(const Json& task);
  void runOnExecutor(const std::string& key);
  void recoverOnExecutor(Task& t);
  TaskLauncher::Callbacks executorCallbacks(const std::string& exKey);
  void launchQueued(CustomExecutor& ex);
  void sendToExecutor(CustomExecutor& ex, const Json& event);
  void executorEnded(const std::string& exKey, const std::string& message, int waitStatus);
  void killOnExecutor(Task& t, const Json& killPolicy);
  void shutdownExecutors(const std::string& frameworkId);
  void deliverMessage(const Json& message);
  void executorCall(http::Request& request, http::Responder responder);
  std::string executorUpdate(CustomExecutor& ex, Json status);

  // Sandbox garbage collection (agent_gc.cpp): a timer scans on the blocking pool, the loop
  // decides against the tasks it knows, the blocking pool deletes.
  void scheduleGc(Duration delay);
  void collectGarbage();
  void removeOldSandboxes(SandboxScan scan, double usage, TimePoint scannedAt);
  void sandboxesRemoved(const std::vector<std::string>& removed, const std::vector<std::string>& emptyDirs);

  EventLoop& loop_;
  AgentOptions options_;
  const Clock& clock_;
  std::unique_ptr<TaskLauncher> launcher_;
  std::unique_ptr<MasterLink> link_;
  std::unique_ptr<AgentCheckpoint> checkpoint_;
  AgentCheckpoint::Loaded recovered_;  // until start() recovers it
  bool commitPosted_ = false;
  StatusUpdateQueue updates_;
  std::string agentId_;
  uint16_t port_ = 0;
  TimePoint startedAt_;
  bool started_ = false, stopped_ = false, registered_ = false;
  Duration pingInterval_;
  Duration reconnectDelay_;
  std::optional<EventLoop::TimerId> reconnectTimer_, updateTimer_, gcTimer_;
  std::map<std::string, Task> tasks_;  // by "<framework>/<task>"
  std::deque<Json> completedTasks_;    // the latest finished tasks, for /state
  std::map<std::string, TimePoint> finishedSandboxes_;  // sandbox path → when its task ended
  std::set<std::string> frameworksShuttingDown_;
  std::map<std::string, CustomExecutor> executors_;  // by "<framework>/<executor id>"
  std::function<void(const std::string&)> onRemoved_;
  std::shared_ptr<Fetcher> fetcher_;                               // made on first use
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);    // for work finishing after us
};

// Jitter for reconnect delays, so agents that lost the same master do not return in step:
// a delay drawn from [delay/2, delay] by `random01` in [0, 1].
Duration withJitter(Duration delay, double random01);

}  // namespace dcos::kernel
