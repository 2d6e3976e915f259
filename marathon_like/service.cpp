// The service scheduler's life cycle: opening and recovering marathon.db, the subscription, the
// dispatch of scheduler events, the housekeeping tick and the batched writes + acknowledgements.
#include "marathon_like/service_impl.hpp"

#include "kernel/master/master.hpp"

#include <pwd.h>
#include <unistd.h>

namespace dcos::marathon {

const log::Logger& serviceLogger() { return log::get("marathon"); }

namespace {

constexpr auto kTick = std::chrono::seconds(1);

std::string currentUser() {
  if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_name) return pw->pw_name;
  return "root";
}

}  // namespace

Service::Impl::Impl(EventLoop& l, const Clock& c, kernel::Master& m, ServiceOptions o,
                    std::unique_ptr<MarathonStore> s)
    : loop(l), clock(c), master(m), options(std::move(o)), store(std::move(s)),
      events(l, c, options.eventHeartbeat), prober(l) {}

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Service::~Service() {
  if (impl_) stop();
}

Result<std::unique_ptr<Service>> Service::open(EventLoop& loop, const Clock& clock, kernel::Master& master,
                                               ServiceOptions options) {
  auto store = MarathonStore::open(options.workDir + "/marathon.db");
  if (!store) return store.error().wrap("opening marathon.db");
  auto impl = std::make_unique<Impl>(loop, clock, master, std::move(options), std::move(*store));
  if (auto r = impl->recover(); !r) return r.error();
  impl->registerAppRoutes(impl->ownRoutes, "");
  impl->registerMiscRoutes(impl->ownRoutes, "");
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

namespace {

// Keeps the response of a route that answers synchronously (every /v2 route but the events).
struct CaptureSink : http::Responder::Sink {
  http::Response response{500, {}, ""};
  void send(http::Response r) override { response = std::move(r); }
  std::shared_ptr<http::ResponseStream> stream(int, http::Headers) override { return nullptr; }
};

}  // namespace

http::Response Service::request(const std::string& method, const std::string& target, const std::string& body) {
  http::Request req;
  req.method = method;
  req.target = target;
  auto q = target.find('?');
  req.path = http::percentDecode(target.substr(0, q), false);
  if (q != std::string::npos) {
    std::string query = target.substr(q + 1);
    for (size_t start = 0; start <= query.size();) {
      size_t end = query.find('&', start);
      if (end == std::string::npos) end = query.size();
      std::string pair = query.substr(start, end - start);
      if (!pair.empty()) {
        auto eq = pair.find('=');
        req.query.emplace_back(http::percentDecode(pair.substr(0, eq), true),
                               eq == std::string::npos ? "" : http::percentDecode(pair.substr(eq + 1), true));
      }
      start = end + 1;
    }
  }
  req.headers["Content-Type"] = "application/json";
  req.body = body;
  req.remoteAddress = "in-process";
  auto sink = std::make_shared<CaptureSink>();
  impl_->ownRoutes.dispatch(req, http::Responder(sink));
  return std::move(sink->response);
}

void Service::registerRoutes(http::Router& router) {
  impl_->events.registerRoutes(router, {"", "/marathon"});
  for (const char* prefix : {"", "/marathon"}) {
    impl_->registerAppRoutes(router, prefix);
    impl_->registerMiscRoutes(router, prefix);
  }
}

void Service::start(uint16_t port) {
  Impl& s = *impl_;
  s.options.port = port;
  Json info = {{"user", currentUser()},
               {"name", s.options.frameworkName},
               {"roles", Json::array({"*"})},
               {"failover_timeout", 7 * 24 * 3600.0},
               {"hostname", s.options.hostname},
               {"webui_url", "http://" + s.options.hostname + ":" + std::to_string(s.options.port)},
               {"capabilities", Json::array({{{"type", "MULTI_ROLE"}},
                                             {{"type", "PARTITION_AWARE"}},
                                             {{"type", "TASK_KILLING_STATE"}}})}};
  if (!s.frameworkId.empty()) info["id"] = {{"value", s.frameworkId}};
  s.driver = kernel::makeInProcessDriver(s.loop, s.master, info, s);
  s.driver->start();
  s.tickTimer = s.loop.schedule(kTick, [&s] { s.tick(); });
}

void Service::stop() {
  Impl& s = *impl_;
  if (s.tickTimer) s.loop.cancel(*s.tickTimer);
  s.tickTimer.reset();
  if (s.flushPosted) s.flush();
  if (s.driver) s.driver->stop();
  s.driver.reset();
  s.subscribed = false;
}

Result<void> Service::Impl::recover() {
  for (auto& def : store->apps().list()) {
    AppRuntime app;
    app.backoff = LaunchBackoff(def.backoffSeconds, def.backoffFactor, static_cast<double>(def.maxLaunchDelaySeconds));
    std::string version = def.version.value_or(now());
    if (auto info = store->versionInfo(def.id)) {
      app.lastScalingAt = info->first;
      app.configVersion = info->second;
    } else {
      app.lastScalingAt = app.configVersion = version;
    }
    std::string id = def.id;
    app.def = std::move(def);
    apps.emplace(id, std::move(app));
  }
  for (auto& rec : store->instances()) addInstance(std::move(rec));
  groups = store->groups();
  frameworkId = store->meta("framework_id").value_or("");
  for (const auto& record : store->deployments()) {
    auto d = deploymentFromState(record);
    if (!d) continue;
    std::string id = d->id;
    deployments.emplace(id, std::move(*d));
  }
  for (auto& [id, d] : deployments) startStep(d);
  serviceLogger().info("recovered {} apps, {} instances, {} deployments{}", apps.size(), instances.size(),
                       deployments.size(), frameworkId.empty() ? "" : ", framework " + frameworkId);
  return success();
}

void Service::Impl::received(const Json& event) {
  // The master validated what it forwards; a field of an unexpected type is still only logged.
  try {
    dispatch(event);
  } catch (const Json::exception& e) {
    serviceLogger().error("ignoring a malformed {} event: {}", event.value("type", "?"), e.what());
  }
}

void Service::Impl::dispatch(const Json& event) {
  std::string type = event.value("type", "");
  if (type == "SUBSCRIBED") {
    onSubscribed(event["subscribed"]["framework_id"].value("value", ""));
  } else if (type == "OFFERS") {
    offersReceived(event["offers"].value("offers", Json::array()));
  } else if (type == "UPDATE") {
    statusUpdate(event["update"]["status"]);
  } else if (type == "ERROR") {
    serviceLogger().error("the master reports an error: {}", event.value("error", Json::object()).value("message", ""));
  } else if (type == "FAILURE") {
    serviceLogger().warn("failure reported: {}", event.dump());
  }
}

void Service::Impl::disconnected(const std::string& why) {
  subscribed = false;
  serviceLogger().warn("lost the subscription to the master: {}", why);
}

void Service::Impl::onSubscribed(const std::string& id) {
  if (id != frameworkId) {
    frameworkId = id;
    if (auto r = store->setMeta("framework_id", id); !r) serviceLogger().error("storing the framework id: {}", r.error().message);
  }
  serviceLogger().info("subscribed as framework {}", id);
  subscribed = true;
  suppressed = false;
  reconcileTasks();
  reconcileShape();
  checkDeployments();
}

void Service::Impl::tick() {
  tickTimer = loop.schedule(kTick, [this] { tick(); });
  if (!subscribed) return;
  checkUnreachable();
  if (clock.now() - lastReconcile >= options.reconciliationInterval) reconcileTasks();
  reconcileShape();
  checkDeployments();
}

void Service::Impl::scheduleFlush() {
  if (flushPosted) return;
  flushPosted = true;
  loop.post([this] { flush(); });
}

void Service::Impl::flush() {
  flushPosted = false;
  std::vector<InstanceRecord> puts;
  for (const auto& id : dirtyInstances) {
    if (auto it = instances.find(id); it != instances.end()) puts.push_back(it->second.rec);
  }
  auto written = store->transaction([&]() -> Result<void> {
    if (auto r = store->putInstances(puts); !r) return r;
    for (const auto& id : removedInstances) {
      if (auto r = store->removeInstance(id); !r) return r;
    }
    return success();
  });
  dirtyInstances.clear();
  removedInstances.clear();
  std::vector<Json> acks;
  acks.swap(pendingAcks);
  if (!written) {
    // Unacknowledged updates come again; the records are rewritten then.
    serviceLogger().error("storing task records: {}", written.error().message);
    return;
  }
  for (auto& ack : acks) durableAcks.push_back(std::move(ack));
  for (size_t n = 0; n < kMaxAcksPerTurn && !durableAcks.empty(); ++n) {
    Json ack = std::move(durableAcks.front());
    durableAcks.pop_front();
    if (!driver) continue;
    if (auto r = driver->send({{"type", "ACKNOWLEDGE"}, {"acknowledge", std::move(ack)}}); !r) {
      serviceLogger().debug("acknowledging: {}", r.error().message);
    }
  }
  if (!durableAcks.empty()) scheduleFlush();
  if (shapeDirty) {
    shapeDirty = false;
    reconcileShape();
  }
  checkDeployments();
}

std::string Service::Impl::newVersion() {
  // Two changes within one millisecond get consecutive milliseconds.
  lastVersionMs = std::max(nowMs(), lastVersionMs + 1);
  return isoTimestamp(TimePoint(std::chrono::milliseconds(lastVersionMs)));
}

void Service::Impl::addInstance(InstanceRecord rec) {
  ++stateVersion;
  std::string id = rec.taskId;
  byApp[rec.appId].insert(id);
  instances.insert_or_assign(id, Instance{std::move(rec)});
}

void Service::Impl::eraseInstance(const std::string& taskId) {
  auto it = instances.find(taskId);
  if (it == instances.end()) return;
  ++stateVersion;
  if (auto a = byApp.find(it->second.rec.appId); a != byApp.end()) {
    a->second.erase(taskId);
    if (a->second.empty()) byApp.erase(a);
  }
  instances.erase(it);
  dirtyInstances.erase(taskId);
  removedInstances.insert(taskId);
}

const std::set<std::string>& Service::Impl::instancesOf(const std::string& appId) const {
  static const std::set<std::string> kNone;
  auto it = byApp.find(appId);
  return it == byApp.end() ? kNone : it->second;
}

std::string Service::Impl::now() const { return isoTimestamp(clock.now()); }
int64_t Service::Impl::nowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
}

std::vector<std::string> appsUnder(const std::map<std::string, AppRuntime>& apps, const std::string& groupId) {
  std::vector<std::string> out;
  std::string prefix = groupId == "/" ? "/" : groupId + "/";
  for (const auto& [id, app] : apps) {
    if (id.rfind(prefix, 0) == 0) out.push_back(id);
  }
  return out;
}

}  // namespace dcos::marathon
