#include "marathon_like/deployment_plan.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

namespace dcos::marathon {
namespace {

using Apps = std::map<std::string, AppDefinition>;

// The definition with the fields that do not make an upgrade blanked out.
AppDefinition withoutScale(AppDefinition app) {
  app.instances = 0;
  app.version.reset();
  return app;
}

// Level of every app of `apps`: 0 without (known) dependencies, else 1 + the highest level of
// its dependencies. A cycle is an error naming it.
Result<std::map<std::string, int>> dependencyLevels(const Apps& apps) {
  enum class Mark { kNone, kActive, kDone };
  std::map<std::string, Mark> mark;
  std::map<std::string, int> level;
  std::vector<std::string> stack;
  std::optional<std::string> cycle;

  std::function<void(const std::string&)> visit = [&](const std::string& id) {
    mark[id] = Mark::kActive;
    stack.push_back(id);
    int lv = 0;
    for (const auto& dep : apps.at(id).dependencies) {
      if (cycle) return;
      if (!apps.count(dep)) continue;
      Mark m = mark[dep];
      if (m == Mark::kActive) {
        auto from = std::find(stack.begin(), stack.end(), dep);
        std::string text;
        for (auto it = from; it != stack.end(); ++it) text += *it + " -> ";
        cycle = text + dep;
        return;
      }
      if (m == Mark::kNone) visit(dep);
      if (cycle) return;
      lv = std::max(lv, level[dep] + 1);
    }
    level[id] = lv;
    mark[id] = Mark::kDone;
    stack.pop_back();
  };

  for (const auto& [id, app] : apps) {
    if (mark[id] == Mark::kNone) visit(id);
    if (cycle) {
      return Error(ErrorCode::kUnprocessable, "dependency cycle: " + *cycle,
                   {{"/dependencies", {"dependency cycle: " + *cycle}}});
    }
  }
  return level;
}

// Groups actions into steps by level, in ascending level order unless `descending`.
void appendByLevel(std::vector<DeploymentStep>& steps,
                   const std::vector<DeploymentAction>& actions,
                   const std::map<std::string, int>& level, bool descending) {
  std::map<int, std::vector<DeploymentAction>> byLevel;
  for (const auto& a : actions) byLevel[level.at(a.appId)].push_back(a);
  auto emit = [&](std::vector<DeploymentAction> acts) {
    std::stable_sort(acts.begin(), acts.end(),
                     [](const auto& x, const auto& y) { return x.appId < y.appId; });
    steps.push_back(DeploymentStep{std::move(acts)});
  };
  if (descending) {
    for (auto it = byLevel.rbegin(); it != byLevel.rend(); ++it) emit(it->second);
  } else {
    for (auto& [lv, acts] : byLevel) emit(acts);
  }
}

std::vector<std::string> keysOf(const Apps& apps) {
  std::vector<std::string> ids;
  for (const auto& [id, app] : apps) ids.push_back(id);
  return ids;
}

}  // namespace

const char* actionName(ActionType type) {
  switch (type) {
    case ActionType::kStart: return "StartApplication";
    case ActionType::kScale: return "ScaleApplication";
    case ActionType::kRestart: return "RestartApplication";
    case ActionType::kStop: return "StopApplication";
  }
  return "UnknownAction";
}

Result<DeploymentPlan> planDeployment(const Apps& from, const Apps& to, std::string planId) {
  DeploymentPlan plan;
  plan.id = std::move(planId);
  plan.originalAppIds = keysOf(from);
  plan.targetAppIds = keysOf(to);

  std::vector<DeploymentAction> stops, starts, updates;
  for (const auto& [id, app] : from) {
    if (!to.count(id)) stops.push_back({ActionType::kStop, id});
  }
  for (const auto& [id, app] : to) {
    auto old = from.find(id);
    if (old == from.end()) {
      starts.push_back({ActionType::kStart, id});
      if (app.instances > 0) updates.push_back({ActionType::kScale, id});
    } else if (withoutScale(old->second) != withoutScale(app)) {
      updates.push_back({ActionType::kRestart, id});
    } else if (old->second.instances != app.instances) {
      updates.push_back({ActionType::kScale, id});
    }
  }

  auto toLevels = dependencyLevels(to);
  if (!toLevels) return toLevels.error();
  if (!stops.empty()) {
    auto fromLevels = dependencyLevels(from);
    if (!fromLevels) return fromLevels.error();
    appendByLevel(plan.steps, stops, *fromLevels, /*descending=*/true);
  }
  if (!starts.empty()) plan.steps.push_back(DeploymentStep{starts});
  appendByLevel(plan.steps, updates, *toLevels, /*descending=*/false);

  for (const auto& step : plan.steps) {
    for (const auto& a : step.actions) plan.affectedAppIds.push_back(a.appId);
  }
  std::sort(plan.affectedAppIds.begin(), plan.affectedAppIds.end());
  plan.affectedAppIds.erase(std::unique(plan.affectedAppIds.begin(), plan.affectedAppIds.end()),
                            plan.affectedAppIds.end());
  return plan;
}

Json planToJson(const DeploymentPlan& plan) {
  Json steps = Json::array();
  for (const auto& step : plan.steps) {
    Json actions = Json::array();
    for (const auto& a : step.actions) {
      actions.push_back({{"action", actionName(a.type)}, {"app", a.appId}});
    }
    steps.push_back({{"actions", actions}});
  }
  return Json{{"id", plan.id},
              {"affectedApps", plan.affectedAppIds},
              {"affectedPods", Json::array()},
              {"steps", steps},
              {"totalSteps", plan.steps.size()}};
}

// ---- Rolling restart ----

int minimumHealthyInstances(int n, double m) {
  if (n <= 0) return 0;
  return static_cast<int>(std::ceil(n * m - 1e-9));
}

int maximumTotalInstances(int n, double o) {
  if (n <= 0) return 0;
  return n + static_cast<int>(std::floor(n * o + 1e-9));
}

RestartDecision nextRestartMove(int n, double m, double o, const RestartState& s) {
  n = std::max(n, 0);
  const int oldRunning = std::max(s.oldRunning, 0);
  const int newStarted = std::max(s.newStarted, 0);
  const int newHealthy = std::clamp(s.newHealthy, 0, newStarted);

  RestartDecision d;
  if (oldRunning == 0 && newHealthy == n) {
    d.done = true;
    return d;
  }
  const int minHealthy = minimumHealthyInstances(n, m);
  const int maxTotal = maximumTotalInstances(n, o);

  d.killOld = std::clamp(oldRunning + newHealthy - minHealthy, 0, oldRunning);
  const int remaining = oldRunning - d.killOld + newStarted;
  d.startNew = std::max(0, std::min(n - newStarted, maxTotal - remaining));
  d.blocked = d.killOld == 0 && d.startNew == 0 && newStarted == newHealthy;
  return d;
}

}  // namespace dcos::marathon
