#pragma once
// Marathon's deployment plan: which actions turn one set of apps into another, in which order,
// and the arithmetic of a rolling restart (upgradeStrategy). Pure functions: no I/O, no clock.
//
// Plan semantics (Marathon's docs/deployments.md):
//  * An app only in `to` is new: StartApplication (the app is created with no instances), then
//    ScaleApplication to its `instances` (omitted when that is 0).
//  * An app only in `from` is removed: StopApplication.
//  * An app in both whose definition differs in anything but `instances` (and `version`, which
//    changes with every change) is upgraded: RestartApplication, which also reaches the new
//    instance count. Only `instances` differs: ScaleApplication. Equal: no action.
//  * Steps run one after another; the actions of one step run in parallel. Order:
//      1. stops, in levels that reverse the dependency order of `from` (an app stops before
//         the apps it depends on);
//      2. one step starting every new app (they have no instances yet, so order is moot);
//      3. scales and restarts, in levels of the dependency order of `to` (an app is scaled or
//         restarted after the apps it depends on).
//    An app's level is the length of the longest dependency chain below it, computed over all
//    apps of the graph (unchanged ones included), so an unchanged app in the middle of a chain
//    still separates its neighbours. Empty steps are dropped. Within a step actions are sorted by
//    app id. Dependencies on ids absent from the graph are ignored.
//  * A dependency cycle in `to`, or in `from` when some app is removed, is kUnprocessable with a
//    message naming the cycle: "dependency cycle: /a -> /b -> /a" (also the error's detail).
//
// Rolling restart semantics: see nextRestartMove.

#include "common/json.hpp"
#include "common/result.hpp"
#include "marathon_like/app.hpp"

#include <map>
#include <string>
#include <vector>

namespace dcos::marathon {

enum class ActionType { kStart, kScale, kRestart, kStop };

// Marathon's action names: "StartApplication", "ScaleApplication", "RestartApplication",
// "StopApplication".
const char* actionName(ActionType type);

struct DeploymentAction {
  ActionType type;
  std::string appId;
  bool operator==(const DeploymentAction&) const = default;
};

// The actions of one step run in parallel.
struct DeploymentStep {
  std::vector<DeploymentAction> actions;
  bool operator==(const DeploymentStep&) const = default;
};

struct DeploymentPlan {
  std::string id;
  std::vector<DeploymentStep> steps;
  std::vector<std::string> originalAppIds;  // ids of `from`, sorted
  std::vector<std::string> targetAppIds;    // ids of `to`, sorted
  std::vector<std::string> affectedAppIds;  // ids with at least one action, sorted
};

// `from` and `to` map app id -> definition before and after the change. See the header comment.
Result<DeploymentPlan> planDeployment(const std::map<std::string, AppDefinition>& from,
                                      const std::map<std::string, AppDefinition>& to,
                                      std::string planId);

// The plan in the shape of Marathon's /v2/deployments entries, as far as a plan alone knows it:
// {"id", "affectedApps", "affectedPods": [], "steps": [{"actions": [{"action": ..., "app": ...}]}],
//  "totalSteps"}. currentStep/currentActions depend on execution and are not written.
Json planToJson(const DeploymentPlan& plan);

// ---- Rolling restart ----
//
// Target instance count n, minimumHealthCapacity m, maximumOverCapacity o:
//   minHealthy = ceil(n*m)      instances (old + healthy new) that must stay healthy;
//   maxTotal   = n + floor(n*o) instances (old + new, healthy or not) that may exist.
// Old instances count as healthy; new ones only once healthy.
struct RestartState {
  int oldRunning = 0;
  int newStarted = 0;  // new instances launched so far (healthy or not)
  int newHealthy = 0;  // of those, how many are healthy
};

struct RestartDecision {
  int killOld = 0;
  int startNew = 0;
  bool done = false;
  // No move keeps both bounds and nothing is pending (no new instance is waiting to become
  // healthy): the restart cannot progress. This is the case for m == 1 with floor(n*o) == 0
  // (e.g. the default m=1 with o=0): every kill breaks minHealthy and every start breaks
  // maxTotal. Marathon then deliberately kills one old instance anyway; this function never
  // breaks a bound and reports `blocked` instead, leaving that choice to the caller.
  bool blocked = false;
  bool operator==(const RestartDecision&) const = default;
};

int minimumHealthyInstances(int n, double minimumHealthCapacity);  // ceil(n*m)
int maximumTotalInstances(int n, double maximumOverCapacity);      // n + floor(n*o)

// The next move, applied as "kill first, then start": kill as many old instances as keep
// oldRunning - killOld + newHealthy >= minHealthy, then start as many new ones as keep
// oldRunning - killOld + newStarted + startNew <= maxTotal, never more than n new in all.
// done when newHealthy == n and oldRunning == 0 (then no move). Negative counts count as 0.
RestartDecision nextRestartMove(int n, double minimumHealthCapacity, double maximumOverCapacity,
                                const RestartState& s);

}  // namespace dcos::marathon
