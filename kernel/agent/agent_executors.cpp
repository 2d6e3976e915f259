// Custom executors: a task whose TaskInfo names an ExecutorInfo (and no command) runs under the
// framework's own executor, which speaks Mesos' v1 executor HTTP API to this agent
// (POST /api/v1/executor: SUBSCRIBE, UPDATE, MESSAGE; events SUBSCRIBED, LAUNCH, KILL,
// ACKNOWLEDGED, MESSAGE, SHUTDOWN). The executor's process itself runs in a container of its
// own under a `dcos executor`, like any task, so it is isolated, killed and cleaned up the same
// way. Framework messages travel scheduler → master → agent → executor and back.
#include "kernel/agent/agent.hpp"

#include "common/http/http.hpp"
#include "common/log.hpp"
#include "kernel/agent/paths.hpp"
#include "kernel/master/protocol.hpp"  // Mesos v1 JSON helpers shared with the master

#include <cstdlib>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("agent"); }

http::Response badCall(const std::string& path, const std::string& message) {
  return http::Response::error(400, message, {{path, {message}}});
}

// A string field of a call, "" when it is missing or not a string (callers say which is required).
std::string stringField(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

bool Agent::usesCustomExecutor(const Json& task) {
  auto it = task.find("executor");
  return it != task.end() && it->is_object() && !task.contains("command") && stringField(*it, "type") != "DEFAULT";
}

// RUN_TASK for a custom executor: the task waits for its executor, started now if it is not
// running yet, and is sent to it once it has subscribed.
void Agent::runOnExecutor(const std::string& key) {
  Task& t = tasks_.at(key);
  Json info = t.task["executor"];
  std::string executorId = idValue(info, "executor_id");
  if (executorId.empty() || !info.contains("command")) {
    sendStatus(t, "TASK_ERROR", "the task's executor needs an executor_id and a command", "REASON_TASK_INVALID");
    return;
  }
  std::string exKey = t.frameworkId + "/" + executorId;
  t.executorKey = exKey;
  auto it = executors_.find(exKey);
  if (it == executors_.end()) {
    CustomExecutor ex;
    ex.frameworkId = t.frameworkId;
    ex.executorId = executorId;
    ex.info = info;
    ex.frameworkInfo = t.frameworkInfo;
    ex.containerId = newRunId();
    ex.sandbox = sandboxPath(options_.workDir, t.frameworkId, executorId, ex.containerId);
    // The executor runs like a task whose command is the executor's, with the environment the
    // Mesos executor libraries read.
    Json pseudo = {{"task_id", idJson(executorId)},
                   {"name", stringField(info, "name").empty() ? executorId : stringField(info, "name")},
                   {"command", info["command"]},
                   {"resources", info.value("resources", Json::array())}};
    if (info.contains("container")) pseudo["container"] = info["container"];
    Json& vars = pseudo["command"]["environment"]["variables"];
    if (!vars.is_array()) vars = Json::array();
    auto add = [&](const std::string& name, const std::string& value) { vars.push_back({{"name", name}, {"value", value}}); };
    std::string endpointHost = options_.listenAddress == "0.0.0.0" ? "127.0.0.1" : options_.listenAddress;
    add("MESOS_AGENT_ENDPOINT", endpointHost + ":" + std::to_string(port_));
    add("MESOS_DIRECTORY", ex.sandbox);
    add("MESOS_CHECKPOINT", "1");
    add("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "5secs");
    add("MESOS_SUBSCRIPTION_BACKOFF_MAX", "2secs");
    TaskPlacement placement{t.frameworkId, agentId_, options_.hostname, ex.containerId, ex.sandbox,
                            std::getenv("PATH") ? std::getenv("PATH") : "", std::getenv("LANG") ? std::getenv("LANG") : ""};
    auto spec = buildLaunchSpec(pseudo, placement);
    if (!spec) {
      sendStatus(t, "TASK_FAILED", "cannot start its executor: " + spec.error().message, "REASON_EXECUTOR_TERMINATED");
      return;
    }
    logger().info("starting executor '{}' of framework '{}' in '{}'", executorId, t.frameworkId, ex.sandbox);
    it = executors_.emplace(exKey, std::move(ex)).first;
    launcher_->launch(*spec, executorCallbacks(exKey));
  }
  CustomExecutor& ex = it->second;
  t.containerId = ex.containerId;
  t.sandbox = ex.sandbox;
  ex.queued.push_back(key);
  checkpoint(t);
  launchQueued(ex);
}

// The executor's process as a container: only its start failing and its end matter.
TaskLauncher::Callbacks Agent::executorCallbacks(const std::string& exKey) {
  return {[this, exKey](Result<int> pid) {
            if (!pid) executorEnded(exKey, "Executor failed to start: " + pid.error().message, 127 << 8);
          },
          [this, exKey](const TaskTermination& how) {
            // "Command exited with status 1" → "Executor exited with status 1"
            std::string what = how.message.rfind("Command ", 0) == 0 ? how.message.substr(8) : how.message;
            executorEnded(exKey, "Executor " + what, how.signaled ? how.code : how.code << 8);
          },
          {}};
}

// After an agent restart: the executor of a recovered task is reattached (its process runs on
// under its `dcos executor`) and will subscribe again, repeating what was not acknowledged.
void Agent::recoverOnExecutor(Task& t) {
  Json info = t.task.value("executor", Json::object());
  auto [it, added] = executors_.try_emplace(t.executorKey);
  CustomExecutor& ex = it->second;
  if (added) {
    ex.frameworkId = t.frameworkId;
    ex.executorId = idValue(info, "executor_id");
    ex.info = info;
    ex.frameworkInfo = t.frameworkInfo;
    ex.containerId = t.containerId;
    ex.sandbox = t.sandbox;
    launcher_->recover(ex.containerId, executorCallbacks(t.executorKey));
  }
  if (!t.launched) ex.queued.push_back(t.key());
}

void Agent::launchQueued(CustomExecutor& ex) {
  if (!ex.stream) return;
  for (const auto& key : ex.queued) {
    auto it = tasks_.find(key);
    if (it == tasks_.end() || it->second.terminal) continue;
    it->second.launched = true;
    checkpoint(it->second);
    sendToExecutor(ex, {{"type", "LAUNCH"}, {"launch", {{"task", it->second.task}}}});
  }
  ex.queued.clear();
}

void Agent::sendToExecutor(CustomExecutor& ex, const Json& event) {
  if (ex.stream) ex.stream->write(http::recordIoFrame(event.dump()));
}

// The executor's process ended: its tasks that did not report an end failed.
void Agent::executorEnded(const std::string& exKey, const std::string& message, int waitStatus) {
  auto it = executors_.find(exKey);
  if (it == executors_.end()) return;
  // The scheduler hears of it as a FAILURE event, as in Mesos.
  link_->call({{"type", "EXECUTOR_EXITED"},
               {"agent_id", idJson(agentId_)},
               {"executor_exited",
                {{"framework_id", idJson(it->second.frameworkId)}, {"executor_id", idJson(it->second.executorId)}, {"status", waitStatus}}}});
  logger().info("executor '{}' of framework '{}' ended: {}", it->second.executorId, it->second.frameworkId, message);
  if (it->second.stream) it->second.stream->close();
  std::vector<std::string> keys;
  for (const auto& [key, t] : tasks_) {
    if (t.executorKey == exKey && !t.terminal) keys.push_back(key);
  }
  std::string frameworkId = it->second.frameworkId;
  executors_.erase(it);
  for (const auto& key : keys) {
    Task& t = tasks_.at(key);
    sendStatus(t, t.killRequested ? "TASK_KILLED" : "TASK_FAILED", message, t.killRequested ? "" : "REASON_EXECUTOR_TERMINATED");
  }
  finishFrameworkShutdown(frameworkId);
}

// KILL_TASK for a task of a custom executor: the executor kills it and reports.
void Agent::killOnExecutor(Task& t, const Json& killPolicy) {
  auto it = executors_.find(t.executorKey);
  if (it == executors_.end() || !t.launched) {
    sendStatus(t, "TASK_KILLED", "Killed before its executor started it", "");
    return;
  }
  Json kill = {{"task_id", idJson(t.taskId)}};
  if (killPolicy.is_object()) kill["kill_policy"] = killPolicy;
  sendToExecutor(it->second, {{"type", "KILL"}, {"kill", kill}});
}

void Agent::shutdownExecutors(const std::string& frameworkId) {
  for (auto& [key, ex] : executors_) {
    if (ex.frameworkId != frameworkId) continue;
    sendToExecutor(ex, {{"type", "SHUTDOWN"}});
    launcher_->kill(ex.containerId, std::chrono::seconds(5));  // what it has not stopped by then
  }
}

// MESSAGE from the master: a framework message for one of our executors (at most once).
void Agent::deliverMessage(const Json& message) {
  std::string exKey = idValue(message, "framework_id") + "/" + idValue(message, "executor_id");
  auto it = executors_.find(exKey);
  if (it == executors_.end() || !it->second.stream) {
    logger().info("dropping a framework message for executor '{}', which is not subscribed here", exKey);
    return;
  }
  sendToExecutor(it->second, {{"type", "MESSAGE"}, {"message", {{"data", stringField(message, "data")}}}});
}

void Agent::executorCall(http::Request& request, http::Responder responder) {
  auto parsed = parseJson(request.body);
  if (!parsed || !parsed->is_object()) return responder.send(badCall("", "the body must be a JSON object"));
  const Json& call = *parsed;
  std::string frameworkId = idValue(call, "framework_id"), executorId = idValue(call, "executor_id");
  if (frameworkId.empty()) return responder.send(badCall("/framework_id", "framework_id is required"));
  if (executorId.empty()) return responder.send(badCall("/executor_id", "executor_id is required"));
  auto it = executors_.find(frameworkId + "/" + executorId);
  if (it == executors_.end()) {
    return responder.send(
        http::Response::error(404, "Executor '" + executorId + "' of framework '" + frameworkId + "' is not known here"));
  }
  CustomExecutor& ex = it->second;
  std::string type = stringField(call, "type");
  if (type == "SUBSCRIBE") {
    if (ex.stream) ex.stream->close();  // a resubscription replaces the old stream
    ex.stream = responder.stream(200, {{"Content-Type", "application/recordio"}, {"Record-IO-Content-Type", "application/json"}});
    std::string exKey = it->first;
    ex.stream->onClose([this, exKey, stream = std::weak_ptr<http::ResponseStream>(ex.stream)] {
      auto e = executors_.find(exKey);
      if (e != executors_.end() && e->second.stream == stream.lock()) e->second.stream.reset();
    });
    Json agentInfo = {{"id", idJson(agentId_)}, {"hostname", options_.hostname}, {"port", port_},
                      {"resources", options_.resources.toJson()}};
    sendToExecutor(ex, {{"type", "SUBSCRIBED"},
                        {"subscribed", {{"executor_info", ex.info}, {"framework_info", ex.frameworkInfo},
                                        {"agent_info", agentInfo}, {"container_id", idJson(ex.containerId)}}}});
    // Updates the executor repeats after a reconnection; malformed ones are ignored (the stream is
    // already open, and the executor will repeat what it still needs acknowledged).
    Json subscribe = call.contains("subscribe") && call["subscribe"].is_object() ? call["subscribe"] : Json::object();
    Json repeated = subscribe.value("unacknowledged_updates", Json::array());
    for (const auto& u : repeated.is_array() ? repeated : Json::array()) {
      if (u.is_object() && u.contains("status") && u["status"].is_object()) (void)executorUpdate(ex, u["status"]);
    }
    launchQueued(ex);
    return;
  }
  if (type == "UPDATE") {
    Json update = call.contains("update") ? call["update"] : Json();
    Json status = update.is_object() && update.contains("status") ? update["status"] : Json();
    if (!status.is_object()) return responder.send(badCall("/update/status", "update.status must be a TaskStatus object"));
    if (auto problem = executorUpdate(ex, status); !problem.empty()) return responder.send(badCall("/update/status", problem));
    return responder.send(http::Response{202, {}, ""});
  }
  if (type == "MESSAGE") {
    Json message = call.contains("message") ? call["message"] : Json();
    if (!message.is_object() || !message.contains("data") || !message["data"].is_string()) {
      return responder.send(badCall("/message/data", "message.data must be a base64 string"));
    }
    std::string data = message["data"].get<std::string>();
    link_->call({{"type", "MESSAGE"},
                 {"agent_id", idJson(agentId_)},
                 {"message", {{"framework_id", idJson(frameworkId)}, {"executor_id", idJson(executorId)}, {"data", data}}}});
    return responder.send(http::Response{202, {}, ""});
  }
  responder.send(badCall("/type", "unknown executor call type '" + type + "'"));
}

// A status from a custom executor: checkpointed and forwarded reliably like our own; the
// executor hears ACKNOWLEDGED once it is on disk. Returns what is wrong with it, or "".
std::string Agent::executorUpdate(CustomExecutor& ex, Json status) {
  std::string taskId = idValue(status, "task_id");
  std::string uuid = stringField(status, "uuid");
  std::string state = stringField(status, "state");
  if (taskId.empty() || state.empty() || uuid.empty()) return "a status needs task_id, state and uuid (strings)";
  auto it = tasks_.find(ex.frameworkId + "/" + taskId);
  if (it == tasks_.end() || it->second.executorKey != ex.frameworkId + "/" + ex.executorId) {
    return "task '" + taskId + "' is not a task of this executor";
  }
  Task& t = it->second;
  if (updates_.pending(t.frameworkId, t.taskId)) {
    for (const auto& u : updates_.updatesOf(t.frameworkId, t.taskId)) {
      if (u.uuid == uuid) return "";  // a repeat (after a resubscription)
    }
  }
  if (t.terminal) return "";
  status["source"] = "SOURCE_EXECUTOR";
  status["agent_id"] = idJson(agentId_);
  status["executor_id"] = idJson(ex.executorId);
  if (!status.contains("timestamp")) status["timestamp"] = toEpochSeconds(clock_.now());
  recordStatus(t, std::move(status));
  // After the commit that persistSoon() queued before it.
  std::string exKey = ex.frameworkId + "/" + ex.executorId;
  loop_.post([this, alive = std::weak_ptr<bool>(alive_), exKey, task = idJson(taskId), uuid] {
    if (alive.expired()) return;
    auto e = executors_.find(exKey);
    if (e != executors_.end()) sendToExecutor(e->second, {{"type", "ACKNOWLEDGED"}, {"acknowledged", {{"task_id", task}, {"uuid", uuid}}}});
  });
  return "";
}

}  // namespace dcos::kernel
