// The agent's tasks: launching, killing, and the reliable status updates that report them.
#include "kernel/agent/agent.hpp"

#include "common/log.hpp"
#include "kernel/agent/paths.hpp"
#include "kernel/master/protocol.hpp"  // Mesos v1 JSON helpers shared with the master
#include "kernel/master/records.hpp"   // isTerminalState

#include <cstdlib>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("agent"); }

std::string envOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

constexpr size_t kCompletedTasksKept = 100;

bool hasCapability(const Json& frameworkInfo, const std::string& type) {
  for (const auto& c : frameworkInfo.value("capabilities", Json::array())) {
    if (c.is_object() && c.value("type", "") == type) return true;
  }
  return false;
}

}  // namespace

void Agent::runTask(const Json& frameworkIdJson, const Json& frameworkInfo, const Json& taskInfo) {
  std::string frameworkId = frameworkIdJson.is_object() ? frameworkIdJson.value("value", "") : "";
  std::string taskId = idValue(taskInfo, "task_id");
  if (frameworkId.empty() || taskId.empty()) {
    logger().error("ignoring RUN_TASK without framework_id or task_id");
    return;
  }
  std::string key = frameworkId + "/" + taskId;
  if (tasks_.count(key)) {
    logger().warn("ignoring RUN_TASK for task '{}' of framework '{}': it is already known here", taskId, frameworkId);
    return;
  }
  Task& t = tasks_[key];
  t.frameworkId = frameworkId;
  t.taskId = taskId;
  t.frameworkInfo = frameworkInfo;
  t.task = taskInfo;
  t.containerId = newRunId();
  t.sandbox = sandboxPath(options_.workDir, frameworkId, taskId, t.containerId);
  t.grace = gracePeriod(taskInfo.value("kill_policy", Json()), options_.defaultGracePeriod);
  if (usesCustomExecutor(taskInfo)) {
    runOnExecutor(key);
    return;
  }

  TaskPlacement placement{frameworkId, agentId_, options_.hostname, t.containerId, t.sandbox,
                          envOr("PATH", ""), envOr("LANG", "")};
  auto spec = buildLaunchSpec(taskInfo, placement);
  if (!spec) {
    bool invalid = spec.error().code == ErrorCode::kInvalidArgument;
    logger().warn("cannot run task '{}' of framework '{}': {}", taskId, frameworkId, spec.error().message);
    sendStatus(t, invalid ? "TASK_ERROR" : "TASK_FAILED", spec.error().message,
               invalid ? "REASON_TASK_INVALID" : "REASON_CONTAINER_LAUNCH_FAILED");
    return;
  }
  auto uris = taskInfo.value("/command/uris"_json_pointer, Json::array());
  if (uris.is_array() && !uris.empty()) {
    fetchAndLaunch(key, std::move(*spec), uris);
    return;
  }
  launch(key, *spec);
}

void Agent::launch(const std::string& key, const LaunchSpec& spec) {
  Task& t = tasks_.at(key);
  logger().info("launching task '{}' of framework '{}' in '{}'", t.taskId, t.frameworkId, t.sandbox);
  sendStatus(t, "TASK_STARTING", "", "");
  launcher_->launch(spec, callbacksFor(key, t.containerId));
}

// A task group (Mesos' LAUNCH_GROUP with the DEFAULT executor): each task runs under an executor
// of its own, bound to the others: when one fails or is killed, the others are killed too.
void Agent::runTaskGroup(const Json& run) {
  Json executor = run.value("executor", Json::object());
  if (!executor.contains("type")) executor["type"] = "DEFAULT";
  for (Json task : run.value("/task_group/tasks"_json_pointer, Json::array())) {
    task["executor"] = executor;
    runTask(run.value("framework_id", Json()), run.value("framework_info", Json()), task);
  }
}

std::string Agent::groupOf(const Task& t) {
  const Json executor = t.task.value("executor", Json());
  if (!executor.is_object() || executor.value("type", "") != "DEFAULT") return "";
  std::string id = idValue(executor, "executor_id");
  return id.empty() ? "" : t.frameworkId + "/" + id;
}

void Agent::killGroupMembers(const Task& t, const std::string& why) {
  std::string group = groupOf(t);
  if (group.empty()) return;
  std::vector<std::pair<std::string, std::string>> members;
  for (const auto& [key, other] : tasks_) {
    if (other.taskId != t.taskId && !other.terminal && !other.killRequested && groupOf(other) == group) {
      members.emplace_back(other.frameworkId, other.taskId);
    }
  }
  for (const auto& [fid, tid] : members) {
    logger().info("killing task '{}' of framework '{}': {}", tid, fid, why);
    killTask(fid, tid, Json());
  }
}

void Agent::taskStarted(const std::string& key, const std::string& containerId, Result<int> pid) {
  auto it = tasks_.find(key);
  if (it == tasks_.end() || it->second.containerId != containerId) return;
  Task& t = it->second;
  if (!pid) {
    logger().warn("task '{}' of framework '{}' failed to start: {}", t.taskId, t.frameworkId, pid.error().message);
    sendStatus(t, "TASK_FAILED", pid.error().message, "REASON_CONTAINER_LAUNCH_FAILED");
    finishFrameworkShutdown(t.frameworkId);
    return;
  }
  t.pid = *pid;
  t.launched = true;
  if (t.killRequested) {
    // Killed while it was being launched: it never counts as running.
    launcher_->kill(t.containerId, t.grace);
    checkpoint(t);
    return;
  }
  sendStatus(t, "TASK_RUNNING", "", "");
}

void Agent::taskHealth(const std::string& key, const std::string& containerId, bool healthy, const std::string& message) {
  auto it = tasks_.find(key);
  if (it == tasks_.end() || it->second.containerId != containerId || it->second.terminal) return;
  Task& t = it->second;
  if (t.healthy == healthy) return;
  t.healthy = healthy;
  logger().info("task '{}' of framework '{}' is {}: {}", t.taskId, t.frameworkId, healthy ? "healthy" : "unhealthy", message);
  sendStatus(t, t.state, message, "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
}

void Agent::taskTerminated(const std::string& key, const std::string& containerId, const TaskTermination& how) {
  auto it = tasks_.find(key);
  if (it == tasks_.end() || it->second.containerId != containerId) return;
  Task& t = it->second;
  t.pid = 0;
  logger().info("task '{}' of framework '{}' ended: {}", t.taskId, t.frameworkId, how.message);
  if (how.unhealthy) t.healthy = false;
  if (!how.reason.empty()) {
    sendStatus(t, "TASK_FAILED", how.message, how.reason);  // an isolator's limit ended it, or its executor died
  } else if (t.killRequested || how.killed) {
    sendStatus(t, "TASK_KILLED", how.message, how.unhealthy ? "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED" : "");
  } else if (how.succeeded()) {
    sendStatus(t, "TASK_FINISHED", how.message, "");
  } else {
    sendStatus(t, "TASK_FAILED", how.message, "REASON_COMMAND_EXECUTOR_FAILED");
  }
  finishFrameworkShutdown(t.frameworkId);
}

void Agent::killTask(const std::string& frameworkId, const std::string& taskId, const Json& killPolicy) {
  auto it = tasks_.find(frameworkId + "/" + taskId);
  if (it == tasks_.end()) {
    // The master believes the task is here; saying it is not lets the framework move on.
    logger().info("kill for task '{}' of framework '{}', which this agent does not know", taskId, frameworkId);
    if (!frameworkId.empty() && !taskId.empty()) {
      queueUpdate(frameworkId, taskId,
                  newStatus(taskId, "TASK_LOST", "task unknown to the agent", "REASON_TASK_UNKNOWN"));
    }
    return;
  }
  Task& t = it->second;
  if (t.terminal) return;
  t.killRequested = true;
  killGroupMembers(t, "a task of its group '" + taskId + "' is being killed");
  t.grace = gracePeriod(killPolicy, t.grace);
  logger().info("killing task '{}' of framework '{}' (grace period {} ms)", taskId, frameworkId,
                std::chrono::duration_cast<std::chrono::milliseconds>(t.grace).count());
  if (!t.executorKey.empty()) {
    killOnExecutor(t, killPolicy);
  } else if (t.launched) {
    // Frameworks that understand it hear that the kill has begun (Mesos' TASK_KILLING_STATE).
    if ((t.state == "TASK_RUNNING" || t.state == "TASK_STARTING") && hasCapability(t.frameworkInfo, "TASK_KILLING_STATE")) {
      sendStatus(t, "TASK_KILLING", "", "");
    }
    launcher_->kill(t.containerId, t.grace);
  }
  checkpoint(t);
}

void Agent::shutdownFramework(const std::string& frameworkId) {
  logger().info("shutting down framework '{}': killing its tasks", frameworkId);
  frameworksShuttingDown_.insert(frameworkId);
  shutdownExecutors(frameworkId);
  for (auto& [key, t] : tasks_) {
    if (t.frameworkId == frameworkId && !t.terminal) killTask(t.frameworkId, t.taskId, Json());
  }
  finishFrameworkShutdown(frameworkId);
}

// Once every task of a framework being shut down has ended, its pending updates go too (as in
// Mesos: the framework is gone, nobody would acknowledge them).
void Agent::finishFrameworkShutdown(std::string frameworkId) {
  if (!frameworksShuttingDown_.count(frameworkId)) return;
  std::vector<std::string> keys;
  for (const auto& [key, t] : tasks_) {
    if (t.frameworkId != frameworkId) continue;
    if (!t.terminal) return;
    keys.push_back(key);
  }
  persistNow();  // the terminal updates leave once before they are dropped
  for (const auto& key : keys) {
    updates_.forget(frameworkId, tasks_.at(key).taskId);
    checkpoint_->forgetUpdates(frameworkId, tasks_.at(key).taskId);
    retire(key);
  }
  frameworksShuttingDown_.erase(frameworkId);
  logger().info("framework '{}' is shut down on this agent", frameworkId);
}

Json Agent::newStatus(const std::string& taskId, const std::string& state, const std::string& message,
                      const std::string& reason) const {
  Json status = {{"task_id", idJson(taskId)},
                 {"state", state},
                 {"source", "SOURCE_EXECUTOR"},
                 {"timestamp", toEpochSeconds(clock_.now())},
                 {"uuid", newUpdateUuid()},
                 {"agent_id", idJson(agentId_)},
                 {"executor_id", idJson(taskId)}};
  if (!message.empty()) status["message"] = message;
  if (!reason.empty()) status["reason"] = reason;
  return status;
}

void Agent::sendStatus(Task& t, const std::string& state, const std::string& message, const std::string& reason) {
  Json status = newStatus(t.taskId, state, message, reason);
  Json container = {{"container_id", idJson(t.containerId)}};
  if (t.pid > 0) container["executor_pid"] = t.pid;
  status["container_status"] = container;
  if (t.healthy) status["healthy"] = *t.healthy;
  recordStatus(t, std::move(status));
}

// A task's new status, ours or its custom executor's: kept, checkpointed and queued for the master.
void Agent::recordStatus(Task& t, Json status) {
  std::string state = status.value("state", "");
  t.status = status;
  t.state = state;
  t.terminal = isTerminalState(state);
  // From now on the sandbox is garbage to collect once old enough (agent_gc.cpp).
  if (t.terminal) finishedSandboxes_.emplace(t.sandbox, clock_.now());
  queueUpdate(t.frameworkId, t.taskId, std::move(status));
  checkpoint(t);
  if (t.terminal && state != "TASK_FINISHED") killGroupMembers(t, "a task of its group '" + t.taskId + "' ended " + state);
}

void Agent::queueUpdate(const std::string& frameworkId, const std::string& taskId, Json status) {
  std::string uuid = status.value("uuid", "");
  logger().debug("status update {} for task '{}' of framework '{}' (uuid {})", status.value("state", ""), taskId,
                 frameworkId, uuid);
  StatusUpdate update{frameworkId, taskId, uuid, std::move(status)};
  checkpoint_->addUpdate(update);
  updates_.add(std::move(update));
  persistSoon();  // sent once checkpointed
}

void Agent::flushUpdates() {
  if (updateTimer_) loop_.cancel(*updateTimer_);
  updateTimer_.reset();
  // While disconnected nothing is sent; SUBSCRIBED makes every head due again.
  if (!registered_ || stopped_) return;
  // Whatever is due goes in batches: one call per batch rather than one per update.
  constexpr size_t kBatch = 256;
  auto due = updates_.takeDue();
  for (size_t i = 0; i < due.size(); i += kBatch) {
    Json batch = Json::array();
    for (size_t j = i; j < std::min(due.size(), i + kBatch); ++j) {
      batch.push_back({{"framework_id", idJson(due[j].frameworkId)}, {"status", std::move(due[j].status)}});
    }
    link_->call({{"type", "UPDATE"}, {"agent_id", idJson(agentId_)}, {"updates", std::move(batch)}});
  }
  if (auto next = updates_.nextDue()) {
    Duration delay = std::max(Duration::zero(), *next - clock_.now());
    updateTimer_ = loop_.schedule(delay, [this] {
      updateTimer_.reset();
      flushUpdates();
    });
  }
}

void Agent::acknowledge(const std::string& frameworkId, const std::string& taskId, const std::string& uuid) {
  if (!updates_.acknowledge(frameworkId, taskId, uuid)) {
    logger().debug("ignoring a stale acknowledgement for task '{}' of framework '{}'", taskId, frameworkId);
    return;
  }
  checkpoint_->acknowledge(frameworkId, taskId, uuid);
  std::string key = frameworkId + "/" + taskId;
  auto it = tasks_.find(key);
  if (it != tasks_.end() && it->second.terminal && !updates_.pending(frameworkId, taskId)) retire(key);
  persistSoon();
}

// A terminal task whose every update was acknowledged: only /state remembers it now.
void Agent::retire(const std::string& key) {
  auto it = tasks_.find(key);
  if (it == tasks_.end()) return;
  const Task& t = it->second;
  completedTasks_.push_back({{"id", t.taskId},
                             {"name", t.task.value("name", "")},
                             {"framework_id", t.frameworkId},
                             {"state", t.state},
                             {"sandbox", t.sandbox},
                             {"status", t.status}});
  while (completedTasks_.size() > kCompletedTasksKept) completedTasks_.pop_front();
  checkpoint_->removeTask(key);
  persistSoon();
  tasks_.erase(it);
}

}  // namespace dcos::kernel
