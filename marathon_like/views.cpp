// Marathon's JSON views of the scheduler's state: apps (with embeds), tasks, the launch queue
// with its offer statistics, deployments with what each current action waits for, groups.
#include "marathon_like/service_impl.hpp"

#include <algorithm>

namespace dcos::marathon {
namespace {

Json timeOrNull(int64_t ms) {
  if (ms <= 0) return nullptr;
  return isoTimestamp(TimePoint(std::chrono::milliseconds(ms)));
}

Json timeOrNull(const std::optional<TimePoint>& t) { return t ? Json(isoTimestamp(*t)) : Json(nullptr); }

// Marathon's NoOfferMatchReason values, in its order, plus ours for Docker.
const char* const kReasons[] = {"UnfulfilledRole",   "UnfulfilledConstraint", "NoCorrespondingReservationFound",
                                "AgentMaintenance",  "InsufficientCpus",      "InsufficientMemory",
                                "InsufficientDisk",  "InsufficientGpus",      "InsufficientPorts",
                                "DeclinedScarceResources", "NoDockerContainerizer"};

}  // namespace

Json Service::Impl::taskJson(const Instance& inst) const {
  const auto app = apps.find(inst.rec.appId);
  Json servicePorts = Json::array();
  if (app != apps.end()) {
    for (const auto& p : app->second.def.portDefinitions) servicePorts.push_back(p.port);
  }
  Json j = {{"id", inst.rec.taskId},
            {"appId", inst.rec.appId},
            {"host", inst.rec.hostname},
            {"ports", inst.rec.ports},
            {"servicePorts", servicePorts},
            {"slaveId", inst.rec.agentId},
            {"agentId", inst.rec.agentId},
            {"state", inst.rec.state},
            {"stagedAt", timeOrNull(inst.rec.stagedAtMs)},
            {"startedAt", timeOrNull(inst.rec.startedAtMs)},
            {"version", inst.rec.appVersion},
            {"ipAddresses", Json::array()},
            {"localVolumes", Json::array()}};
  if (inst.rec.unreachableSinceMs > 0) j["unreachableSince"] = timeOrNull(inst.rec.unreachableSinceMs);
  Json results = Json::array();
  if (app != apps.end() && !app->second.def.healthChecks.empty() && inst.rec.healthy) {
    results.push_back({{"alive", *inst.rec.healthy},
                       {"consecutiveFailures", inst.consecutiveFailures},
                       {"firstSuccess", timeOrNull(inst.firstSuccess)},
                       {"lastSuccess", timeOrNull(inst.lastSuccess)},
                       {"lastFailure", timeOrNull(inst.lastFailure)},
                       {"lastFailureCause", inst.rec.healthy == false ? Json(inst.lastStatusMessage) : Json(nullptr)},
                       {"instanceId", inst.rec.taskId},
                       {"taskId", inst.rec.taskId}});
  }
  j["healthCheckResults"] = std::move(results);
  return j;
}

Json Service::Impl::appJson(const AppRuntime& app, const std::set<std::string>& embed) const {
  Json j = appToJson(app.def);
  j["versionInfo"] = {{"lastScalingAt", app.lastScalingAt}, {"lastConfigChangeAt", app.configVersion}};
  int staged = 0, running = 0, healthy = 0, unhealthy = 0;
  Json tasks = Json::array();
  for (const auto& tid : instancesOf(app.def.id)) {
    const Instance& inst = instances.at(tid);
    if (inst.rec.state == "TASK_RUNNING") {
      ++running;
      if (!app.def.healthChecks.empty() && inst.rec.healthy) (*inst.rec.healthy ? healthy : unhealthy)++;
    } else if (inst.rec.state == "TASK_STAGING" || inst.rec.state == "TASK_STARTING") {
      ++staged;
    }
    if (embed.count("tasks")) tasks.push_back(taskJson(inst));
  }
  if (embed.count("counts")) {
    j["tasksStaged"] = staged;
    j["tasksRunning"] = running;
    j["tasksHealthy"] = healthy;
    j["tasksUnhealthy"] = unhealthy;
  }
  if (embed.count("deployments")) {
    Json ds = Json::array();
    for (const auto& id : deploymentsOf(app.def.id)) ds.push_back({{"id", id}});
    j["deployments"] = std::move(ds);
  }
  if (embed.count("tasks")) j["tasks"] = std::move(tasks);
  if (embed.count("lastTaskFailure") && !app.lastTaskFailure.is_null()) j["lastTaskFailure"] = app.lastTaskFailure;
  return j;
}

Json Service::Impl::queueJson() const {
  Json queue = Json::array();
  for (const auto& [id, app] : apps) {
    int want = wanted(app);
    if (want <= 0) continue;
    const OfferStats& s = app.offers;
    Json reasons = Json::array();
    for (const char* r : kReasons) {
      auto it = s.declined.find(r);
      reasons.push_back({{"reason", r}, {"declined", it == s.declined.end() ? 0 : it->second}, {"processed", s.processed}});
    }
    // Our addition: what the latest refusal of each reason said, e.g. which constraint.
    Json messages = Json::object();
    for (const auto& [reason, message] : s.lastMessage) messages[reason] = message;
    double left = app.backoff.remainingSeconds(clock.now());
    queue.push_back({{"count", want},
                     {"delay", {{"timeLeftSeconds", static_cast<int64_t>(left + 0.999)}, {"overdue", left <= 0}}},
                     {"since", timeOrNull(app.waitingSince)},
                     {"app", appJson(app, {"counts", "deployments"})},
                     {"processedOffersSummary",
                      {{"processedOffersCount", s.processed},
                       {"unusedOffersCount", s.unused},
                       {"lastUnusedOfferAt", timeOrNull(s.lastUnusedAt)},
                       {"lastUsedOfferAt", timeOrNull(s.lastUsedAt)},
                       {"rejectSummaryLastOffers", reasons},
                       {"rejectSummaryLaunchAttempt", reasons}}},
                     {"lastUnusedOffers", Json::array()},
                     {"refusalMessages", messages}});
  }
  return {{"queue", queue}};
}

Json Service::Impl::deploymentJson(const Deployment& d) const {
  Json j = planToJson(d.plan);
  j["version"] = d.version;
  j["currentStep"] = std::min(d.currentStep + 1, d.plan.steps.size());
  Json current = Json::array();
  if (d.currentStep < d.plan.steps.size()) {
    for (const auto& action : d.plan.steps[d.currentStep].actions) {
      Json a = {{"action", actionName(action.type)}, {"app", action.appId}};
      // What the action waits for (our addition to Marathon's shape).
      auto app = apps.find(action.appId);
      int healthy = 0, total = 0;
      Json readiness = Json::array();
      for (const auto& tid : instancesOf(action.appId)) {
        ++total;
        const Instance& inst = instances.at(tid);
        healthy += app != apps.end() && isHealthy(&app->second, inst);
        for (const auto& r : inst.readiness) {
          if (!r.is_null()) readiness.push_back(r);
        }
      }
      a["readinessCheckResults"] = std::move(readiness);
      a["instances"] = {{"target", app == apps.end() ? 0 : app->second.def.instances},
                        {"healthy", healthy},
                        {"total", total}};
      if (app != apps.end() && wanted(app->second) > 0) {
        Json refusals = Json::object();
        for (const auto& [reason, n] : app->second.offers.declined) {
          auto message = app->second.offers.lastMessage.find(reason);
          refusals[reason] = {{"count", n},
                              {"message", message == app->second.offers.lastMessage.end() ? "" : message->second}};
        }
        a["waitingForOffers"] = {{"count", wanted(app->second)},
                                 {"delaySeconds", app->second.backoff.remainingSeconds(clock.now())},
                                 {"offerRefusals", refusals}};
      }
      current.push_back(std::move(a));
    }
  }
  j["currentActions"] = std::move(current);
  if (d.rollback) j["rollback"] = true;
  return j;
}

Json Service::Impl::groupJson(const std::string& id, const std::set<std::string>& embed) const {
  // Direct children: apps whose parent is `id`, and groups (explicit or implied by app ids).
  std::string prefix = id == "/" ? "/" : id + "/";
  std::set<std::string> childGroups;
  Json appList = Json::array();
  auto consider = [&](const std::string& path, bool isApp) {
    if (path.rfind(prefix, 0) != 0 || path == id) return;
    std::string rest = path.substr(prefix.size());
    auto slash = rest.find('/');
    if (slash == std::string::npos) {
      if (isApp) {
        appList.push_back(appJson(apps.at(path), embed));
      } else {
        childGroups.insert(path);
      }
    } else {
      childGroups.insert(prefix + rest.substr(0, slash));
    }
  };
  for (const auto& [appId, app] : apps) consider(appId, true);
  for (const auto& [groupId, g] : groups) consider(groupId, false);
  Json groupList = Json::array();
  for (const auto& g : childGroups) groupList.push_back(groupJson(g, embed));
  Json j = {{"id", id}, {"apps", appList}, {"groups", groupList}, {"pods", Json::array()}};
  auto explicitGroup = groups.find(id);
  j["dependencies"] = explicitGroup == groups.end() ? Json::array() : explicitGroup->second.value("dependencies", Json::array());
  std::string version;
  for (const auto& [appId, app] : apps) {
    if (appId.rfind(prefix, 0) == 0) version = std::max(version, app.def.version.value_or(""));
  }
  if (explicitGroup != groups.end()) version = std::max(version, explicitGroup->second.value("version", ""));
  if (!version.empty()) j["version"] = version;
  return j;
}

Json Service::Impl::statusUpdateEvent(const Instance& inst, const Json& status) const {
  return {{"slaveId", inst.rec.agentId},
          {"taskId", inst.rec.taskId},
          {"taskStatus", inst.rec.state},
          {"message", status.value("message", "")},
          {"appId", inst.rec.appId},
          {"host", inst.rec.hostname},
          {"ipAddresses", Json::array()},
          {"ports", inst.rec.ports},
          {"version", inst.rec.appVersion}};
}

}  // namespace dcos::marathon
