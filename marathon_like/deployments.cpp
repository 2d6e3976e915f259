// Changes become deployments: new app versions and the deployment that carries them out are
// stored in one transaction; a deployment runs its plan step by step, a step being complete when
// every action's app has exactly its target instances, all healthy (rolling restarts move within
// upgradeStrategy's bounds); DELETE rolls back (or, forced, just stops). Deployments survive
// restarts: their record holds the steps, the current step and the original and target apps.
#include "marathon_like/service_impl.hpp"

#include "common/uuid.hpp"

#include <algorithm>

namespace dcos::marathon {
namespace {

std::optional<ActionType> actionType(const std::string& name) {
  for (ActionType t : {ActionType::kStart, ActionType::kScale, ActionType::kRestart, ActionType::kStop}) {
    if (name == actionName(t)) return t;
  }
  return std::nullopt;
}

// Everything but `instances` and `version` equal: only a scale.
bool sameConfig(AppDefinition a, const AppDefinition& b) {
  a.instances = b.instances;
  a.version = b.version;
  return a == b;
}

Json appsJson(const std::map<std::string, AppDefinition>& apps) {
  Json out = Json::array();
  for (const auto& [id, app] : apps) out.push_back(appToJson(app));
  return out;
}

}  // namespace

std::vector<std::string> Service::Impl::deploymentsOf(const std::string& appId) const {
  std::vector<std::string> out;
  for (const auto& [id, d] : deployments) {
    const auto& ids = d.plan.affectedAppIds;
    if (std::find(ids.begin(), ids.end(), appId) != ids.end()) out.push_back(id);
  }
  return out;
}

void Service::Impl::assignServicePorts(std::vector<AppDefinition>& changed) const {
  // Marathon gives every port definition declared as 0 a service port of its own (for load
  // balancers and discovery), unique across apps, from 10000-20000. With requirePorts the
  // declared port is the host port, so 0 stays "any".
  std::set<uint32_t> used;
  std::set<std::string> changing;
  for (const auto& def : changed) changing.insert(def.id);
  auto collect = [&used](const AppDefinition& def) {
    for (const auto& p : def.portDefinitions) used.insert(p.port);
  };
  for (const auto& [id, app] : apps) {
    if (!changing.count(id)) collect(app.def);
  }
  for (const auto& def : changed) collect(def);
  uint32_t next = kServicePortMin;
  for (auto& def : changed) {
    if (def.requirePorts) continue;
    for (auto& p : def.portDefinitions) {
      if (p.port != 0) continue;
      while (next <= kServicePortMax && used.count(next)) ++next;
      if (next > kServicePortMax) return;  // all taken: the ports stay 0 (no service port)
      p.port = next;
      used.insert(next);
    }
  }
}

void Service::Impl::applyDefinition(const AppDefinition& def, bool newConfig) {
  ++stateVersion;
  auto [it, added] = apps.try_emplace(def.id);
  AppRuntime& app = it->second;
  app.def = def;
  app.lastScalingAt = *def.version;
  if (added || newConfig) app.configVersion = *def.version;
  app.backoff = LaunchBackoff(def.backoffSeconds, def.backoffFactor, static_cast<double>(def.maxLaunchDelaySeconds));
  app.offers = OfferStats{};
  app.waitingSince.reset();
}

Result<Json> Service::Impl::deploy(std::vector<AppDefinition> changed, std::vector<std::string> removed, bool force,
                                   bool restart) {
  std::map<std::string, AppDefinition> from, to;
  for (const auto& def : changed) {
    if (auto it = apps.find(def.id); it != apps.end()) from[def.id] = it->second.def;
    to[def.id] = def;
  }
  for (const auto& id : removed) {
    if (auto it = apps.find(id); it != apps.end()) from[id] = it->second.def;
  }
  Deployment d;
  d.id = uuid::v4();
  if (restart) {
    DeploymentPlan plan;
    plan.id = d.id;
    DeploymentStep step;
    for (const auto& [id, def] : to) {
      step.actions.push_back({ActionType::kRestart, id});
      plan.affectedAppIds.push_back(id);
      plan.originalAppIds.push_back(id);
      plan.targetAppIds.push_back(id);
    }
    plan.steps.push_back(std::move(step));
    d.plan = std::move(plan);
  } else {
    auto plan = planDeployment(from, to, d.id);
    if (!plan) return plan.error();
    d.plan = std::move(*plan);
  }

  std::set<std::string> blocking;
  for (const auto& id : d.plan.affectedAppIds) {
    for (const auto& b : deploymentsOf(id)) blocking.insert(b);
  }
  if (!blocking.empty() && !force) {
    std::vector<std::string> ids(blocking.begin(), blocking.end());
    return Error(ErrorCode::kConflict,
                 "App is locked by one or more deployments. Override with the option '?force=true'. "
                 "View details at '/v2/deployments/<DEPLOYMENT_ID>'.",
                 {{"/deployments", ids}});
  }
  for (const auto& b : blocking) finishDeployment(b, false);

  assignServicePorts(changed);
  std::string version = newVersion();
  d.version = version;
  std::map<std::string, bool> newConfig;
  for (auto& def : changed) {
    def.version = version;
    auto old = from.find(def.id);
    newConfig[def.id] = restart || old == from.end() || !sameConfig(old->second, def);
  }
  for (auto& [id, def] : to) def.version = version;
  d.original = from;
  d.target = to;
  auto written = store->transaction([&]() -> Result<void> {
    for (const auto& def : changed) {
      if (auto r = store->apps().put(def, version); !r) return r;
      std::string config = newConfig[def.id] ? version : apps.at(def.id).configVersion;
      if (auto r = store->putVersionInfo(def.id, version, config); !r) return r;
    }
    for (const auto& id : removed) {
      if (auto r = store->apps().remove(id); !r && r.error().code != ErrorCode::kNotFound) return r;
      if (auto r = store->removeVersionInfo(id); !r) return r;
    }
    if (d.plan.steps.empty()) return success();
    return store->putDeployment({d.id, version, deploymentState(d)});
  });
  if (!written) return written.error().wrap("storing the change");

  for (const auto& def : changed) applyDefinition(def, newConfig[def.id]);
  for (const auto& id : removed) apps.erase(id);
  ++stateVersion;
  Json result = {{"deploymentId", d.id}, {"version", version}};
  if (!d.plan.steps.empty()) {
    Json plan = deploymentJson(d);
    auto [it, inserted] = deployments.emplace(d.id, std::move(d));
    events.publish("deployment_info", {{"plan", plan}, {"currentStep", plan["steps"][0]}});
    startStep(it->second);
  }
  shapeDirty = true;
  scheduleFlush();
  return result;
}

Result<Json> Service::Impl::cancelDeployment(const std::string& id, bool force) {
  auto it = deployments.find(id);
  if (it == deployments.end()) return Error(ErrorCode::kNotFound, "DeploymentPlan " + id + " does not exist");
  if (force) {
    finishDeployment(id, false);
    return Json(nullptr);
  }
  // Roll back: the original definitions come back (as new versions), apps the deployment
  // created go away.
  Deployment d = it->second;
  finishDeployment(id, false);
  std::vector<AppDefinition> revert;
  std::vector<std::string> remove;
  for (const auto& [appId, def] : d.original) revert.push_back(def);
  for (const auto& [appId, def] : d.target) {
    if (!d.original.count(appId)) remove.push_back(appId);
  }
  auto result = deploy(std::move(revert), std::move(remove), true);
  if (result && deployments.count((*result)["deploymentId"].get<std::string>())) {
    deployments.at((*result)["deploymentId"].get<std::string>()).rollback = true;
  }
  return result;
}

void Service::Impl::applyHolds() {
  for (auto& [id, app] : apps) app.hold.reset();
  for (const auto& [did, d] : deployments) {
    for (size_t i = d.currentStep + 1; i < d.plan.steps.size(); ++i) {
      for (const auto& action : d.plan.steps[i].actions) {
        auto app = apps.find(action.appId);
        if (app == apps.end()) continue;
        auto before = d.original.find(action.appId);
        int64_t held = before == d.original.end() ? 0 : before->second.instances;
        app->second.hold = std::min(held, app->second.hold.value_or(held));
      }
    }
  }
  shapeDirty = true;
  scheduleFlush();  // the next step's apps may launch at once, not at the next tick
}

void Service::Impl::startStep(Deployment& d) {
  applyHolds();
  if (d.currentStep >= d.plan.steps.size()) return;
  for (const auto& action : d.plan.steps[d.currentStep].actions) {
    if (action.type != ActionType::kRestart) continue;
    auto app = apps.find(action.appId);
    if (app == apps.end()) continue;
    app->second.restarting = true;
    int fresh = 0;
    for (const auto& tid : instancesOf(action.appId)) {
      const Instance& inst = instances.at(tid);
      fresh += !inst.killing && !isOldConfig(app->second, inst);
    }
    app->second.newLimit = fresh;
  }
}

void Service::Impl::advanceRestart(AppRuntime& app) {
  const AppDefinition& def = app.def;
  std::vector<Instance*> old;
  RestartState s;
  int dying = 0;  // old instances asked to die that still hold their resources
  for (const auto& tid : instancesOf(def.id)) {
    Instance& inst = instances.at(tid);
    if (inst.killing && isOldConfig(app, inst)) ++dying;
    if (inst.killing || !isActive(inst)) continue;
    if (isOldConfig(app, inst)) {
      old.push_back(&inst);
    } else {
      ++s.newStarted;
      s.newHealthy += isHealthyAndReady(app, inst);
    }
  }
  s.oldRunning = static_cast<int>(old.size());
  int n = static_cast<int>(def.instances);
  RestartDecision move = nextRestartMove(n, def.upgradeStrategy.minimumHealthCapacity,
                                         def.upgradeStrategy.maximumOverCapacity, s);
  int kill = move.killOld, start = move.startNew;
  if (move.blocked) {
    // No move keeps both bounds (e.g. minimumHealthCapacity 1 with no over-capacity): like
    // Marathon, replace one old instance at a time.
    kill = std::min(1, s.oldRunning);
    start = s.newStarted < n ? 1 : 0;
  }
  // Old instances that are not (yet) healthy go first.
  std::stable_sort(old.begin(), old.end(), [&](const Instance* a, const Instance* b) {
    return isHealthy(&app, *a) < isHealthy(&app, *b);
  });
  for (int i = 0; i < kill && i < static_cast<int>(old.size()); ++i) killInstance(*old[i]);
  // An old instance counts against maximumOverCapacity until it has ended, not from the kill.
  int room = maximumTotalInstances(n, def.upgradeStrategy.maximumOverCapacity) - (s.oldRunning + dying + s.newStarted);
  start = std::clamp(start, 0, std::max(room, 0));
  int limit = s.newStarted + start;
  if (limit != app.newLimit) {
    app.newLimit = limit;
    shapeDirty = true;
  }
  if (kill > 0) shapeDirty = true;
}

bool Service::Impl::actionDone(const Deployment& d, const DeploymentAction& action) const {
  (void)d;
  const auto& ids = instancesOf(action.appId);
  auto it = apps.find(action.appId);
  if (action.type == ActionType::kStop) return it == apps.end() && ids.empty();
  if (it == apps.end()) return true;  // removed meanwhile (a forced change): nothing left to do
  if (action.type == ActionType::kStart) return true;  // the app exists; its ScaleApplication follows
  const AppRuntime& app = it->second;
  int healthy = 0;
  for (const auto& tid : ids) {
    const Instance& inst = instances.at(tid);
    if (isOldConfig(app, inst) && action.type == ActionType::kRestart) return false;
    healthy += isOldConfig(app, inst) ? isHealthy(&app, inst) : isHealthyAndReady(app, inst);
  }
  return healthy == app.def.instances && static_cast<int64_t>(ids.size()) == app.def.instances;
}

void Service::Impl::checkDeployments() {
  std::vector<std::string> order;
  for (const auto& [id, d] : deployments) order.push_back(id);
  for (const auto& id : order) {
    auto it = deployments.find(id);
    if (it == deployments.end()) continue;
    Deployment& d = it->second;
    while (d.currentStep < d.plan.steps.size()) {
      const auto& step = d.plan.steps[d.currentStep];
      for (const auto& action : step.actions) {
        auto app = apps.find(action.appId);
        if (app == apps.end()) continue;
        probeReadiness(app->second);
        if (action.type == ActionType::kRestart) advanceRestart(app->second);
      }
      bool done = std::all_of(step.actions.begin(), step.actions.end(),
                              [&](const DeploymentAction& a) { return actionDone(d, a); });
      if (!done) break;
      for (const auto& action : step.actions) {
        if (action.type == ActionType::kRestart && apps.count(action.appId)) apps.at(action.appId).restarting = false;
        if (action.type == ActionType::kStop) events.publish("app_terminated_event", {{"appId", action.appId}});
      }
      Json plan = deploymentJson(d);
      events.publish("deployment_step_success", {{"plan", plan}, {"currentStep", plan["steps"][d.currentStep]}});
      ++d.currentStep;
      if (d.currentStep < d.plan.steps.size()) {
        if (auto r = store->putDeployment({d.id, d.version, deploymentState(d)}); !r) {
          serviceLogger().error("storing deployment {}: {}", d.id, r.error().message);
        }
        startStep(d);
      }
    }
    if (d.currentStep >= d.plan.steps.size()) finishDeployment(id, true);
  }
}

void Service::Impl::finishDeployment(const std::string& id, bool succeeded) {
  auto it = deployments.find(id);
  if (it == deployments.end()) return;
  Json plan = deploymentJson(it->second);
  for (const auto& step : it->second.plan.steps) {
    for (const auto& action : step.actions) {
      if (action.type == ActionType::kRestart && apps.count(action.appId)) apps.at(action.appId).restarting = false;
    }
  }
  deployments.erase(it);
  ++stateVersion;
  applyHolds();
  if (auto r = store->removeDeployment(id); !r) serviceLogger().error("removing deployment {}: {}", id, r.error().message);
  if (succeeded) {
    events.publish("deployment_success", {{"id", id}, {"plan", plan}});
  } else {
    events.publish("deployment_failed", {{"id", id}, {"plan", plan}, {"reason", "canceled"}});
  }
  shapeDirty = true;
  scheduleFlush();
}

Json Service::Impl::deploymentState(const Deployment& d) const {
  return {{"steps", planToJson(d.plan)["steps"]},
          {"affectedApps", d.plan.affectedAppIds},
          {"original", appsJson(d.original)},
          {"target", appsJson(d.target)},
          {"currentStep", d.currentStep},
          {"rollback", d.rollback}};
}

std::optional<Deployment> Service::Impl::deploymentFromState(const DeploymentRecord& record) const {
  const Json& s = record.state;
  Deployment d;
  d.id = record.id;
  d.version = record.version;
  d.plan.id = record.id;
  try {
    for (const auto& step : s.at("steps")) {
      DeploymentStep st;
      for (const auto& a : step.at("actions")) {
        auto type = actionType(a.at("action").get<std::string>());
        if (!type) throw std::runtime_error("unknown action " + a.at("action").dump());
        st.actions.push_back({*type, a.at("app").get<std::string>()});
      }
      d.plan.steps.push_back(std::move(st));
    }
    d.plan.affectedAppIds = s.at("affectedApps").get<std::vector<std::string>>();
    for (const char* key : {"original", "target"}) {
      for (const auto& j : s.at(key)) {
        auto app = parseApp(j);
        if (!app) throw std::runtime_error("stored app does not parse: " + app.error().message);
        (std::string(key) == "original" ? d.original : d.target)[app->id] = *app;
      }
    }
    d.currentStep = s.at("currentStep").get<size_t>();
    d.rollback = s.value("rollback", false);
  } catch (const std::exception& e) {
    serviceLogger().error("skipping stored deployment {}: {}", record.id, e.what());
    return std::nullopt;
  }
  for (const auto& [id, app] : d.original) d.plan.originalAppIds.push_back(id);
  for (const auto& [id, app] : d.target) d.plan.targetAppIds.push_back(id);
  return d;
}

}  // namespace dcos::marathon
