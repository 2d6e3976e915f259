#pragma once
// The service scheduler's state and the members its .cpp files share (private to marathon_like/):
//   service.cpp      open/recover, subscription, event dispatch, the 1 s housekeeping tick
//   launching.cpp    demand, offer matching, launches, kills (the "shape" of each app)
//   status.cpp       task status updates, health, unreachable instances, reconciliation
//   deployments.cpp  changes → deployments (plan, persistence, execution, rollback)
//   views.cpp        Marathon JSON for apps, tasks, queue, deployments, groups
//   api_apps.cpp, api_misc.cpp   the HTTP routes

#include "common/log.hpp"
#include "kernel/driver/scheduler_driver.hpp"
#include "marathon_like/app.hpp"
#include "marathon_like/backoff.hpp"
#include "marathon_like/deployment_plan.hpp"
#include "marathon_like/events.hpp"
#include "marathon_like/group.hpp"
#include "marathon_like/marathon_store.hpp"
#include "marathon_like/offer_match.hpp"
#include "marathon_like/readiness.hpp"
#include "marathon_like/service.hpp"

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dcos::marathon {

const log::Logger& serviceLogger();

// Offers seen for one app since its definition last changed (GET /v2/queue).
struct OfferStats {
  int64_t processed = 0, unused = 0;
  std::optional<TimePoint> lastUnusedAt, lastUsedAt;
  std::map<std::string, int64_t> declined;  // reason -> offers refused for it
  std::map<std::string, std::string> lastMessage;  // reason -> the latest refusal's explanation
};

struct AppRuntime {
  AppDefinition def;  // the current definition; def.version set
  std::string configVersion, lastScalingAt;
  LaunchBackoff backoff{1, 1.15, 300};
  OfferStats offers;
  Json lastTaskFailure;   // null when none
  bool restarting = false;  // a running RestartApplication owns the old-config instances
  int newLimit = 0;         // while restarting: how many new-config instances may exist
  std::optional<TimePoint> waitingSince;  // since when it has had unmet demand
  // While a deployment's action on this app waits in a later step (dependency order), the app
  // keeps the instance count it had before the deployment.
  std::optional<int64_t> hold;
  int64_t target() const { return hold.value_or(def.instances); }
};

struct Instance {
  InstanceRecord rec;
  bool killing = false;  // we asked for the kill (no backoff, no failure record)
  // Readiness (not persisted: probed again after a restart). One result per readiness check of
  // the app, {"name", "taskId", "ready", "lastResponse"}; ready when all are.
  std::vector<Json> readiness;
  bool probing = false;
  TimePoint nextProbe{};
  // Health check history for /v2 (not persisted): Marathon's Health fields.
  std::optional<TimePoint> firstSuccess, lastSuccess, lastFailure;
  int consecutiveFailures = 0;
  std::string lastStatusMessage;
};

struct Deployment {
  std::string id, version;
  DeploymentPlan plan;
  std::map<std::string, AppDefinition> original, target;  // the apps the change touches
  size_t currentStep = 0;
  bool rollback = false;
};

struct Service::Impl : kernel::Scheduler {
  Impl(EventLoop& loop, const Clock& clock, kernel::Master& master, ServiceOptions options,
       std::unique_ptr<MarathonStore> store);

  EventLoop& loop;
  const Clock& clock;
  kernel::Master& master;
  ServiceOptions options;
  std::unique_ptr<MarathonStore> store;
  EventBus events;
  ReadinessProber prober;
  std::shared_ptr<int> lifetime = std::make_shared<int>(0);  // callbacks from other threads check it
  std::unique_ptr<kernel::SchedulerDriver> driver;
  http::Router ownRoutes;  // the /v2 routes again, for Service::request

  std::map<std::string, AppRuntime> apps;        // by app id
  std::map<std::string, Instance> instances;     // by task id
  std::map<std::string, std::set<std::string>> byApp;  // app id -> its instances' task ids
  std::map<std::string, Deployment> deployments;  // by deployment id
  std::map<std::string, Json> groups;            // explicit groups: id -> {"dependencies": [...]}
  std::set<std::string> expunged;                // task ids given up on (killed if seen again)
  std::string frameworkId;
  bool subscribed = false;
  bool suppressed = false;
  std::optional<EventLoop::TimerId> tickTimer;
  TimePoint lastReconcile{};
  // Writes and acknowledgements batched per loop turn (flush()).
  std::set<std::string> dirtyInstances, removedInstances;
  std::vector<Json> pendingAcks;   // to send once the records they acknowledge are written
  std::deque<Json> durableAcks;    // written, to send (at most kMaxAcksPerTurn per turn)
  // Work per loop turn is bounded so that API requests are answered during big changes.
  static constexpr size_t kMaxLaunchesPerTurn = 1000, kMaxAcksPerTurn = 2000, kMaxKillsPerTurn = 1000;
  int killBudget = 0;
  bool flushPosted = false;
  bool shapeDirty = false;        // reconcileShape() at the end of this turn
  std::map<std::string, int> lastDemand;  // per app, to REVIVE when demand grows
  int64_t launchedTotal = 0;
  int64_t lastVersionMs = 0;      // versions are unique and increasing
  // Grows with every change that GET /v2/apps can show (apps, instances, their statuses, health,
  // failures, deployments): rendered lists are reused while it stays the same.
  uint64_t stateVersion = 0;
  uint64_t appsCacheVersion = 0;
  std::map<std::string, std::string> appsCache;  // request target -> rendered body

  // ---- service.cpp ----
  Result<void> recover();
  void received(const Json& event) override;
  void dispatch(const Json& event);
  void disconnected(const std::string& why) override;
  void onSubscribed(const std::string& id);
  void tick();
  // Ends the current loop turn's work once: writes dirty records, sends acknowledgements, then
  // reconciles the apps' shape and advances deployments.
  void scheduleFlush();
  void flush();
  std::string now() const;  // a version timestamp for the clock's present
  std::string newVersion();  // now(), but later than every version handed out before
  void addInstance(InstanceRecord rec);
  void eraseInstance(const std::string& taskId);
  // The app's instances (task ids) — empty when none.
  const std::set<std::string>& instancesOf(const std::string& appId) const;
  int64_t nowMs() const;

  // ---- launching.cpp ----
  int activeCount(const std::string& appId) const;  // non-terminal, not inactive-unreachable
  // How many more instances the app wants launched now (0 while backed off).
  int demand(const AppRuntime& app) const;
  // The same, ignoring the backoff: what /v2/queue shows.
  int wanted(const AppRuntime& app) const;
  void reconcileShape();  // launch demand → REVIVE/SUPPRESS, kill surplus, for every app
  void killSurplus(AppRuntime& app);
  void offersReceived(const Json& offers);
  void killInstance(Instance& instance);
  bool isOldConfig(const AppRuntime& app, const Instance& instance) const;

  // ---- status.cpp ----
  void statusUpdate(const Json& status);
  void checkUnreachable();
  void reconcileTasks();
  bool isHealthy(const AppRuntime* app, const Instance& instance) const;
  // Healthy and, when the app has readiness checks, ready: what deployments wait for.
  bool isHealthyAndReady(const AppRuntime& app, const Instance& instance) const;
  // Probes the running new instances of apps in a deployment's current step that are not ready.
  void probeReadiness(AppRuntime& app);
  bool isActive(const Instance& instance) const;

  // ---- deployments.cpp ----
  // Turns the apps in `changed` (definitions to put) and `removed` (ids to delete) into stored
  // versions and a deployment. kConflict listing blocking deployments unless `force`.
  Result<Json> deploy(std::vector<AppDefinition> changed, std::vector<std::string> removed, bool force,
                      bool restart = false);
  Result<Json> cancelDeployment(const std::string& id, bool force);
  void startStep(Deployment& d);
  void applyHolds();  // AppRuntime::hold from every deployment's pending steps
  void checkDeployments();
  bool actionDone(const Deployment& d, const DeploymentAction& action) const;
  void advanceRestart(AppRuntime& app);
  void finishDeployment(const std::string& id, bool success);
  Json deploymentState(const Deployment& d) const;
  std::optional<Deployment> deploymentFromState(const DeploymentRecord& record) const;
  std::vector<std::string> deploymentsOf(const std::string& appId) const;
  void applyDefinition(const AppDefinition& def, bool newConfig);
  static constexpr uint32_t kServicePortMin = 10000, kServicePortMax = 20000;
  void assignServicePorts(std::vector<AppDefinition>& changed) const;

  // ---- views.cpp ----
  Json appJson(const AppRuntime& app, const std::set<std::string>& embed) const;
  Json taskJson(const Instance& instance) const;
  Json queueJson() const;
  Json deploymentJson(const Deployment& d) const;
  Json groupJson(const std::string& id, const std::set<std::string>& embed) const;
  Json statusUpdateEvent(const Instance& instance, const Json& status) const;

  // ---- api_apps.cpp, api_misc.cpp ----
  void registerAppRoutes(http::Router& router, const std::string& prefix);
  void registerMiscRoutes(http::Router& router, const std::string& prefix);
  // Kills tasks; with `scale` the apps' instances go down by as many (a deployment).
  http::Response killTasks(const std::vector<std::string>& taskIds, bool scale, bool force);
  Result<Json> putGroup(const Group& group, bool replace, bool force);
};

// App ids under `groupId` ("/" = all), sorted.
std::vector<std::string> appsUnder(const std::map<std::string, AppRuntime>& apps, const std::string& groupId);

}  // namespace dcos::marathon
