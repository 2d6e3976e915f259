// Task status updates: instance state and health, failures (backoff, lastTaskFailure), tasks on
// unreachable agents (inactive → replaced, expunged → forgotten and killed if they come back),
// and reconciliation with the master after every subscription.
#include "marathon_like/service_impl.hpp"

#include <algorithm>
#include <set>

namespace dcos::marathon {
namespace {

bool isReadyResult(const Json& r) { return r.is_object() && r.value("ready", false); }

bool terminal(const std::string& state) {
  static const std::set<std::string> kTerminal = {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED",
                                                  "TASK_ERROR",    "TASK_LOST",   "TASK_DROPPED",
                                                  "TASK_GONE",     "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN"};
  return kTerminal.count(state) > 0;
}

// Marathon's instance condition for a Mesos task state.
std::string condition(const std::string& state) {
  static const std::map<std::string, std::string> kNames = {
      {"TASK_STAGING", "Staging"},   {"TASK_STARTING", "Starting"}, {"TASK_RUNNING", "Running"},
      {"TASK_KILLING", "Killing"},   {"TASK_FINISHED", "Finished"}, {"TASK_FAILED", "Failed"},
      {"TASK_KILLED", "Killed"},     {"TASK_ERROR", "Error"},       {"TASK_LOST", "Unreachable"},
      {"TASK_DROPPED", "Dropped"},   {"TASK_GONE", "Gone"},         {"TASK_GONE_BY_OPERATOR", "Gone"},
      {"TASK_UNKNOWN", "Unknown"},   {"TASK_UNREACHABLE", "Unreachable"}};
  auto it = kNames.find(state);
  return it == kNames.end() ? state : it->second;
}

}  // namespace

bool Service::Impl::isActive(const Instance& instance) const {
  if (instance.rec.unreachableSinceMs == 0) return true;
  auto app = apps.find(instance.rec.appId);
  if (app == apps.end() || !app->second.def.unreachableStrategy.enabled) return true;
  return nowMs() - instance.rec.unreachableSinceMs < app->second.def.unreachableStrategy.inactiveAfterSeconds * 1000;
}

bool Service::Impl::isHealthy(const AppRuntime* app, const Instance& instance) const {
  if (instance.rec.state != "TASK_RUNNING" || instance.killing) return false;
  if (app && app->def.healthChecks.empty()) return true;
  return instance.rec.healthy.value_or(false);
}

bool Service::Impl::isHealthyAndReady(const AppRuntime& app, const Instance& instance) const {
  if (!isHealthy(&app, instance)) return false;
  if (app.def.readinessChecks.empty()) return true;
  if (instance.readiness.size() != app.def.readinessChecks.size()) return false;
  return std::all_of(instance.readiness.begin(), instance.readiness.end(), isReadyResult);
}

void Service::Impl::probeReadiness(AppRuntime& app) {
  if (app.def.readinessChecks.empty()) return;
  std::vector<ErrorDetail> ignored;
  auto checks = parseReadinessChecks(app.def.readinessChecks, app.def.portDefinitions, ignored);
  TimePoint t = clock.now();
  for (const auto& tid : instancesOf(app.def.id)) {
    Instance& inst = instances.at(tid);
    if (inst.killing || inst.probing || inst.rec.state != "TASK_RUNNING" || isOldConfig(app, inst)) continue;
    if (isHealthyAndReady(app, inst) || t < inst.nextProbe) continue;
    inst.readiness.resize(checks.size());
    // One check at a time per instance: the first that is not ready yet.
    size_t i = 0;
    while (i < checks.size() && isReadyResult(inst.readiness[i])) ++i;
    if (i == checks.size()) continue;
    const ReadinessCheck& check = checks[i];
    auto port = readinessPort(check, app.def.portDefinitions, inst.rec.ports);
    if (!port) continue;
    std::string scheme = check.protocol == "HTTPS" ? "https" : "http";
    std::string url = scheme + "://" + inst.rec.hostname + ":" + std::to_string(*port) + check.path;
    inst.probing = true;
    inst.nextProbe = t + std::chrono::seconds(check.intervalSeconds);
    std::weak_ptr<int> alive = lifetime;
    prober.probe(url, std::chrono::seconds(check.timeoutSeconds), check.httpStatusCodesForReady,
                 [this, alive, tid, i, check](ProbeResult r) {
                   if (alive.expired()) return;
                   auto it = instances.find(tid);
                   if (it == instances.end()) return;
                   it->second.probing = false;
                   Json result = {{"name", check.name}, {"taskId", tid}, {"ready", r.ready}};
                   if (check.preserveLastResponse || !r.error.empty()) {
                     result["lastResponse"] = {{"status", r.status}, {"contentType", r.contentType}, {"body", r.body}};
                     if (!r.error.empty()) result["lastResponse"]["error"] = r.error;
                   }
                   if (i < it->second.readiness.size()) it->second.readiness[i] = std::move(result);
                   if (r.ready) {
                     it->second.nextProbe = {};  // the next check (if any) at once
                     scheduleFlush();            // deployments may advance
                   }
                 });
  }
}

void Service::Impl::statusUpdate(const Json& status) {
  std::string taskId = status.value("task_id", Json::object()).value("value", "");
  std::string state = status.value("state", "");
  std::string agentId = status.value("agent_id", Json::object()).value("value", "");
  if (taskId.empty()) return;
  if (status.contains("uuid") && status["uuid"].is_string() && !agentId.empty()) {
    pendingAcks.push_back({{"agent_id", {{"value", agentId}}}, {"task_id", {{"value", taskId}}}, {"uuid", status["uuid"]}});
    scheduleFlush();
  }
  auto it = instances.find(taskId);
  if (it == instances.end()) {
    // Not ours (any more): an expunged instance that came back, or a task this scheduler never
    // recorded. Marathon kills such tasks.
    if (!terminal(state) && driver) {
      serviceLogger().info("killing unknown task {} ({})", taskId, state);
      Json kill = {{"task_id", {{"value", taskId}}}};
      if (!agentId.empty()) kill["agent_id"] = {{"value", agentId}};
      (void)driver->send({{"type", "KILL"}, {"kill", kill}});
    }
    return;
  }
  Instance& inst = it->second;
  ++stateVersion;
  AppRuntime* app = apps.count(inst.rec.appId) ? &apps.at(inst.rec.appId) : nullptr;
  std::string before = inst.rec.state;
  std::optional<bool> healthBefore = inst.rec.healthy;
  inst.rec.state = state;
  inst.lastStatusMessage = status.value("message", "");
  if (!agentId.empty()) inst.rec.agentId = agentId;
  if (status.contains("healthy") && status["healthy"].is_boolean()) {
    bool healthy = status["healthy"].get<bool>();
    inst.rec.healthy = healthy;
    TimePoint at = clock.now();
    if (healthy) {
      if (!inst.firstSuccess) inst.firstSuccess = at;
      inst.lastSuccess = at;
      inst.consecutiveFailures = 0;
    } else {
      inst.lastFailure = at;
      ++inst.consecutiveFailures;
    }
  }
  if (state == "TASK_RUNNING" && inst.rec.startedAtMs == 0) inst.rec.startedAtMs = nowMs();
  if (state == "TASK_UNREACHABLE") {
    if (inst.rec.unreachableSinceMs == 0) inst.rec.unreachableSinceMs = nowMs();
  } else if (!terminal(state)) {
    inst.rec.unreachableSinceMs = 0;
  }

  // Published also without subscribers: the bus keeps the latest for `replay`.
  events.publish("status_update_event", statusUpdateEvent(inst, status));
  if (before != state) {
    events.publish("instance_changed_event", {{"instanceId", taskId},
                                              {"condition", condition(state)},
                                              {"runSpecId", inst.rec.appId},
                                              {"agentId", inst.rec.agentId},
                                              {"host", inst.rec.hostname},
                                              {"runSpecVersion", inst.rec.appVersion},
                                              {"goal", inst.killing ? "Decommissioned" : "Running"}});
  }
  if (app && !app->def.healthChecks.empty() && inst.rec.healthy && inst.rec.healthy != healthBefore) {
    events.publish("health_status_changed_event", {{"appId", inst.rec.appId},
                                                   {"taskId", taskId},
                                                   {"instanceId", taskId},
                                                   {"version", inst.rec.appVersion},
                                                   {"alive", *inst.rec.healthy}});
  }
  bool failedCheck = status.contains("healthy") && status["healthy"].is_boolean() && !status["healthy"].get<bool>();
  if (app && !app->def.healthChecks.empty() && failedCheck && state == "TASK_RUNNING") {
    events.publish("failed_health_check_event", {{"appId", inst.rec.appId},
                                                 {"taskId", taskId},
                                                 {"instanceId", taskId},
                                                 {"healthCheck", app->def.healthChecks[0]}});
  }
  if (terminal(state) && status.value("reason", "") == "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED") {
    events.publish("unhealthy_instance_kill_event", {{"appId", inst.rec.appId},
                                                     {"taskId", taskId},
                                                     {"instanceId", taskId},
                                                     {"version", inst.rec.appVersion},
                                                     {"reason", status.value("message", "")},
                                                     {"host", inst.rec.hostname},
                                                     {"slaveId", inst.rec.agentId}});
  }

  if (terminal(state)) {
    if (!inst.killing && app) {
      app->backoff.failed(clock.now());
      app->lastTaskFailure = {{"appId", inst.rec.appId},
                              {"host", inst.rec.hostname},
                              {"message", status.value("message", "")},
                              {"state", state},
                              {"taskId", taskId},
                              {"timestamp", now()},
                              {"version", inst.rec.appVersion},
                              {"slaveId", inst.rec.agentId}};
      serviceLogger().info("task {} of {} ended: {} {}", taskId, inst.rec.appId, state, status.value("message", ""));
    }
    eraseInstance(taskId);
  } else {
    dirtyInstances.insert(taskId);
  }
  shapeDirty = true;
  scheduleFlush();
}

void Service::Impl::checkUnreachable() {
  std::vector<std::string> expunge;
  for (const auto& [id, inst] : instances) {
    if (inst.rec.unreachableSinceMs == 0) continue;
    auto app = apps.find(inst.rec.appId);
    if (app == apps.end() || !app->second.def.unreachableStrategy.enabled) continue;
    if (nowMs() - inst.rec.unreachableSinceMs >= app->second.def.unreachableStrategy.expungeAfterSeconds * 1000) {
      expunge.push_back(id);
    }
  }
  for (const auto& id : expunge) {
    serviceLogger().info("expunging unreachable task {}", id);
    expunged.insert(id);
    eraseInstance(id);
    shapeDirty = true;
  }
  if (!expunge.empty()) scheduleFlush();
}

void Service::Impl::reconcileTasks() {
  if (!driver || !subscribed) return;
  lastReconcile = clock.now();
  Json tasks = Json::array();
  for (const auto& [id, inst] : instances) {
    Json t = {{"task_id", {{"value", id}}}};
    if (!inst.rec.agentId.empty()) t["agent_id"] = {{"value", inst.rec.agentId}};
    tasks.push_back(std::move(t));
  }
  // Explicit for the tasks we know (unknown ones come back TASK_UNKNOWN and are replaced), then
  // implicit, so tasks the master knows and we do not are found and killed.
  if (!tasks.empty()) (void)driver->send({{"type", "RECONCILE"}, {"reconcile", {{"tasks", tasks}}}});
  (void)driver->send({{"type", "RECONCILE"}, {"reconcile", {{"tasks", Json::array()}}}});
}

}  // namespace dcos::marathon
