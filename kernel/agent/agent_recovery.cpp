// The agent's checkpoint and its recovery after a restart (kill -9 included): tasks and their
// unacknowledged updates come back from <work_dir>/agent.db, their executors are reattached.
#include "kernel/agent/agent.hpp"

#include "common/log.hpp"

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("agent"); }

}  // namespace

Json Agent::Task::toCheckpoint() const {
  Json j = {{"framework_id", frameworkId},
            {"task_id", taskId},
            {"framework_info", frameworkInfo},
            {"task", task},
            {"status", status},
            {"state", state},
            {"container_id", containerId},
            {"sandbox", sandbox},
            {"pid", pid},
            {"launched", launched},
            {"kill_requested", killRequested},
            {"terminal", terminal},
            {"grace_ns", std::chrono::nanoseconds(grace).count()}};
  if (healthy) j["healthy"] = *healthy;
  if (!executorKey.empty()) j["executor_key"] = executorKey;
  return j;
}

Agent::Task Agent::Task::fromCheckpoint(const Json& j) {
  Task t;
  t.frameworkId = j.value("framework_id", "");
  t.taskId = j.value("task_id", "");
  t.frameworkInfo = j.value("framework_info", Json());
  t.task = j.value("task", Json());
  t.status = j.value("status", Json());
  t.state = j.value("state", "TASK_STAGING");
  t.containerId = j.value("container_id", "");
  t.sandbox = j.value("sandbox", "");
  t.pid = j.value("pid", 0);
  t.launched = j.value("launched", false);
  t.killRequested = j.value("kill_requested", false);
  t.terminal = j.value("terminal", false);
  t.grace = std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(j.value("grace_ns", 0LL)));
  if (j.contains("healthy")) t.healthy = j.value("healthy", false);
  t.executorKey = j.value("executor_key", "");
  return t;
}

Result<void> Agent::checkRecoverable(const AgentOptions& options, const AgentCheckpoint::Loaded& loaded) {
  if (loaded.resources.is_null()) return success();
  auto before = Resources::fromJson(loaded.resources);
  if (before && *before == options.resources) return success();
  return Error(ErrorCode::kConflict,
               "the agent's resources changed since it last ran in " + options.workDir + " (checkpointed: " +
                   (before ? before->toString() : std::string("unreadable")) + "; now: " + options.resources.toString() +
                   "); start it with the same resources, or with --recover=cleanup to kill the tasks of the last run "
                   "and register as a new agent");
}

TaskLauncher::Callbacks Agent::callbacksFor(const std::string& key, const std::string& containerId) {
  return {[this, key, containerId](Result<int> pid) { taskStarted(key, containerId, std::move(pid)); },
          [this, key, containerId](const TaskTermination& how) { taskTerminated(key, containerId, how); },
          [this, key, containerId](bool healthy, const std::string& message) {
            taskHealth(key, containerId, healthy, message);
          }};
}

void Agent::recover() {
  auto loaded = std::move(recovered_);
  recovered_ = {};
  bool cleanup = false;
  std::vector<std::string> live;
  for (const auto& j : loaded.tasks) {
    Task t = Task::fromCheckpoint(j);
    if (t.frameworkId.empty() || t.taskId.empty()) continue;
    if (j.value("cleanup", false)) {
      // --recover=cleanup: the last run's tasks are killed and forgotten.
      cleanup = true;
      if (!t.terminal) {
        launcher_->recover(t.containerId, {[](Result<int>) {}, [](const TaskTermination&) {}, {}});
        launcher_->kill(t.containerId, Duration::zero());
      }
      continue;
    }
    if (t.terminal) finishedSandboxes_.emplace(t.sandbox, clock_.now());
    if (!t.terminal) live.push_back(t.key());
    tasks_.emplace(t.key(), std::move(t));
  }
  if (cleanup) checkpoint_->clear();
  checkpoint_->putResources(options_.resources.toJson());
  for (auto& u : loaded.updates) updates_.add(std::move(u));
  if (!loaded.tasks.empty()) {
    logger().info("recovering {} task(s) ({} running) and {} unacknowledged update(s) from the checkpoint",
                  tasks_.size(), live.size(), loaded.updates.size());
  }
  // Terminal tasks whose every update was acknowledged before the restart are done.
  std::vector<std::string> done;
  for (const auto& [key, t] : tasks_) {
    if (t.terminal && !updates_.pending(t.frameworkId, t.taskId)) done.push_back(key);
  }
  for (const auto& key : done) retire(key);
  // Reattaching may report a dead executor at once, which may retire the task: keys, not iterators.
  std::set<std::string> known;
  for (const auto& key : live) {
    auto it = tasks_.find(key);
    if (it == tasks_.end()) continue;
    known.insert(it->second.containerId);
    if (!it->second.executorKey.empty()) {
      recoverOnExecutor(it->second);
    } else {
      launcher_->recover(it->second.containerId, callbacksFor(key, it->second.containerId));
    }
  }
  launcher_->removeOrphans(known);
  persistSoon();
}

void Agent::checkpoint(const Task& t) {
  checkpoint_->putTask(t.key(), t.toCheckpoint());
  persistSoon();
}

// Commits what was staged during this turn of the loop in one transaction, then sends the
// updates that are due: nothing reaches the master (or an executor's acknowledgement leaves)
// before it is on disk.
void Agent::persistSoon() {
  if (commitPosted_) return;
  commitPosted_ = true;
  loop_.post([this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    commitPosted_ = false;
    persistNow();
  });
}

void Agent::persistNow() {
  if (auto r = checkpoint_->commit(); !r) logger().error("cannot write the checkpoint: {}", r.error().message);
  flushUpdates();
}

}  // namespace dcos::kernel
