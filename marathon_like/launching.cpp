// The shape of each app: how many instances it still wants, matching offers to that demand,
// launching (records written before the ACCEPT leaves), killing surplus instances, and
// REVIVE/SUPPRESS so the allocator offers us resources only while we want some.
#include "marathon_like/service_impl.hpp"

#include <algorithm>

namespace dcos::marathon {

bool Service::Impl::isOldConfig(const AppRuntime& app, const Instance& instance) const {
  return instance.rec.configVersion != app.configVersion;
}

int Service::Impl::activeCount(const std::string& appId) const {
  int n = 0;
  for (const auto& id : instancesOf(appId)) {
    const Instance& inst = instances.at(id);
    n += !inst.killing && isActive(inst);
  }
  return n;
}

int Service::Impl::demand(const AppRuntime& app) const {
  return app.backoff.mayLaunch(clock.now()) ? wanted(app) : 0;
}

int Service::Impl::wanted(const AppRuntime& app) const {
  int want = 0;
  if (app.restarting) {
    int fresh = 0;
    for (const auto& id : instancesOf(app.def.id)) {
      const Instance& inst = instances.at(id);
      fresh += !inst.killing && isActive(inst) && !isOldConfig(app, inst);
    }
    want = std::min<int>(app.newLimit, static_cast<int>(app.def.instances)) - fresh;
  } else {
    want = static_cast<int>(app.target()) - activeCount(app.def.id);
  }
  return std::max(want, 0);
}

void Service::Impl::killInstance(Instance& instance) {
  instance.killing = true;
  if (!driver) return;
  Json kill = {{"task_id", {{"value", instance.rec.taskId}}}};
  if (!instance.rec.agentId.empty()) kill["agent_id"] = {{"value", instance.rec.agentId}};
  if (auto r = driver->send({{"type", "KILL"}, {"kill", kill}}); !r) {
    serviceLogger().warn("killing {}: {}", instance.rec.taskId, r.error().message);
  }
}

void Service::Impl::killSurplus(AppRuntime& app) {
  if (app.restarting) return;
  std::vector<Instance*> active;
  for (const auto& id : instancesOf(app.def.id)) {
    Instance& inst = instances.at(id);
    if (!inst.killing && isActive(inst)) active.push_back(&inst);
  }
  int surplus = static_cast<int>(active.size()) - static_cast<int>(app.target());
  if (surplus <= 0) return;
  bool oldestFirst = app.def.killSelection == "OLDEST_FIRST";
  // Instances not yet running go first either way; then by launch time.
  std::sort(active.begin(), active.end(), [&](const Instance* a, const Instance* b) {
    bool ar = a->rec.startedAtMs > 0, br = b->rec.startedAtMs > 0;
    if (ar != br) return !ar;
    if (a->rec.stagedAtMs != b->rec.stagedAtMs) {
      return oldestFirst ? a->rec.stagedAtMs < b->rec.stagedAtMs : a->rec.stagedAtMs > b->rec.stagedAtMs;
    }
    return oldestFirst ? a->rec.taskId < b->rec.taskId : a->rec.taskId > b->rec.taskId;
  });
  int kills = std::min(surplus, killBudget);
  for (int i = 0; i < kills; ++i) killInstance(*active[i]);
  killBudget -= kills;
  if (kills < surplus) {  // the rest in the next turn of the loop
    shapeDirty = true;
    scheduleFlush();
  }
}

void Service::Impl::reconcileShape() {
  killBudget = static_cast<int>(kMaxKillsPerTurn);
  bool anyDemand = false, grew = false;
  std::map<std::string, int> demands;
  for (auto& [id, app] : apps) {
    killSurplus(app);
    int d = demand(app);
    if (d > 0) {
      anyDemand = true;
      demands[id] = d;
      if (!app.waitingSince) app.waitingSince = clock.now();
      auto last = lastDemand.find(id);
      if (last == lastDemand.end() || last->second < d) grew = true;
    } else if (app.target() <= activeCount(id)) {
      app.waitingSince.reset();
    }
  }
  lastDemand = std::move(demands);
  // Instances of apps that no longer exist (removed apps, stale records) go.
  for (auto& [appId, ids] : byApp) {
    if (apps.count(appId)) continue;
    for (const auto& id : ids) {
      if (!instances.at(id).killing) killInstance(instances.at(id));
    }
  }
  if (!driver || !subscribed) return;
  if (anyDemand && (suppressed || grew)) {
    serviceLogger().debug("reviving offers: {} app(s) want instances", lastDemand.size());
    suppressed = false;
    if (auto r = driver->send({{"type", "REVIVE"}}); !r) serviceLogger().warn("revive: {}", r.error().message);
  } else if (!anyDemand && !suppressed) {
    serviceLogger().debug("suppressing offers: nothing to launch");
    suppressed = true;
    if (auto r = driver->send({{"type", "SUPPRESS"}}); !r) serviceLogger().warn("suppress: {}", r.error().message);
  }
}

void Service::Impl::offersReceived(const Json& offers) {
  serviceLogger().debug("{} offer(s) received", offers.size());
  struct Want {
    AppRuntime* app;
    int count;
    std::vector<PlacedInstance> placed;
  };
  std::vector<Want> wants;
  for (auto& [id, app] : apps) {
    int d = demand(app);
    if (d <= 0) continue;
    Want w{&app, d, {}};
    for (const auto& tid : instancesOf(id)) {
      const Instance& inst = instances.at(tid);
      if (!inst.killing && isActive(inst)) w.placed.push_back({inst.rec.agentId, inst.rec.hostname, inst.rec.attributes});
    }
    wants.push_back(std::move(w));
  }

  struct Accept {
    std::string offerId;
    Json tasks = Json::array();
  };
  std::vector<Accept> accepts;
  std::vector<InstanceRecord> created;
  Json declines = Json::array();
  const std::map<std::string, std::string> extraEnv = {{"MESOS_DNS_DOMAIN", options.dnsDomain}};
  size_t next = 0;
  for (; next < offers.size() && created.size() < kMaxLaunchesPerTurn; ++next) {
    const Json& offer = offers[next];
    auto view = parseOffer(offer);
    if (!view) {
      serviceLogger().warn("ignoring a malformed offer: {}", view.error().message);
      if (offer.contains("id")) declines.push_back(offer["id"]);
      continue;
    }
    kernel::Resources remaining = view->resources;
    Accept accept{view->offerId};
    for (auto& w : wants) {
      if (w.count <= 0) continue;
      OfferStats& stats = w.app->offers;
      ++stats.processed;
      bool used = false;
      while (w.count > 0) {
        std::string taskId = newTaskId(w.app->def.id);
        auto match = matchOffer({&w.app->def, taskId, "*", extraEnv}, *view, remaining, w.placed);
        if (auto* refusals = std::get_if<std::vector<Refusal>>(&match)) {
          if (!used) {
            for (const auto& r : *refusals) {
              ++stats.declined[r.reason];
              stats.lastMessage[r.reason] = r.message;
            }
          }
          break;
        }
        auto& plan = std::get<LaunchPlan>(match);
        remaining -= plan.consumed;
        accept.tasks.push_back(std::move(plan.taskInfo));
        InstanceRecord rec;
        rec.taskId = taskId;
        rec.appId = w.app->def.id;
        rec.appVersion = w.app->def.version.value_or("");
        rec.configVersion = w.app->configVersion;
        rec.agentId = view->agentId;
        rec.hostname = view->hostname;
        rec.attributes = view->agent.attributes;
        rec.ports = plan.hostPorts;
        rec.stagedAtMs = nowMs();
        created.push_back(rec);
        w.placed.push_back({rec.agentId, rec.hostname, rec.attributes});
        --w.count;
        used = true;
      }
      if (used) {
        stats.lastUsedAt = clock.now();
      } else {
        ++stats.unused;
        stats.lastUnusedAt = clock.now();
      }
    }
    if (accept.tasks.empty()) {
      declines.push_back(offer["id"]);
    } else {
      accepts.push_back(std::move(accept));
    }
  }

  // The records go to disk before any launch leaves, so a crash cannot forget a task.
  if (!created.empty()) {
    if (auto r = store->putInstances(created); !r) {
      serviceLogger().error("storing new task records, declining the offers: {}", r.error().message);
      for (const auto& a : accepts) declines.push_back({{"value", a.offerId}});
      accepts.clear();
      created.clear();
    }
  }
  for (auto& rec : created) addInstance(std::move(rec));
  launchedTotal += static_cast<int64_t>(created.size());
  if (next < offers.size()) {
    // Enough launches for one turn of the loop: the rest of the offers wait for the next turn, so
    // API requests and status updates are served in between.
    Json rest(offers.begin() + static_cast<std::ptrdiff_t>(next), offers.end());
    loop.post([this, alive = std::weak_ptr<int>(lifetime), rest = std::move(rest)] {
      if (!alive.expired()) offersReceived(rest);
    });
  }
  bool stillWanting = std::any_of(wants.begin(), wants.end(), [](const Want& w) { return w.count > 0; });
  double refuse = std::chrono::duration<double>(options.declineOfferDuration).count();
  for (auto& a : accepts) {
    Json launch = {{"type", "LAUNCH"}, {"launch", Json::object()}};
    launch["launch"]["task_infos"] = std::move(a.tasks);
    Json call = {{"type", "ACCEPT"},
                 {"accept", {{"offer_ids", Json::array({{{"value", a.offerId}}})},
                             {"operations", Json::array({std::move(launch)})},
                             {"filters", {{"refuse_seconds", stillWanting ? 0.0 : refuse}}}}}};
    if (auto r = driver->send(std::move(call)); !r) serviceLogger().warn("accept: {}", r.error().message);
  }
  if (!declines.empty() && driver) {
    Json call = {{"type", "DECLINE"}, {"decline", {{"offer_ids", declines}, {"filters", {{"refuse_seconds", refuse}}}}}};
    if (auto r = driver->send(std::move(call)); !r) serviceLogger().warn("decline: {}", r.error().message);
  }
}

}  // namespace dcos::marathon
