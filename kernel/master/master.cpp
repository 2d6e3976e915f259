#include "kernel/master/master.hpp"

#include "common/uuid.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "kernel/master/protocol.hpp"

#include <algorithm>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("master"); }

constexpr size_t kMaxCompletedTasks = 1000;

}  // namespace

const char* agentStateName(AgentState s) {
  switch (s) {
    case AgentState::kActive: return "ACTIVE";
    case AgentState::kDisconnected: return "DISCONNECTED";
    case AgentState::kUnreachable: return "UNREACHABLE";
    case AgentState::kGone: return "GONE";
  }
  return "UNKNOWN";
}

void TaskRecord::setStatus(Json s) {
  if (status.is_object()) {
    auto healthOf = [](const Json& st) -> std::optional<bool> {
      auto h = st.find("healthy");
      return h != st.end() && h->is_boolean() ? std::optional<bool>(h->get<bool>()) : std::nullopt;
    };
    std::string before = status.value("state", "");
    bool changed = before != s.value("state", "") || healthOf(status) != healthOf(s);
    if (changed) {
      history.push_back({before, status.value("reason", ""), status.value("message", ""), status.value("source", ""),
                         status.value("timestamp", 0.0), healthOf(status)});
      if (history.size() > kHistory) history.erase(history.begin());
    }
  }
  status = std::move(s);
}

Json TaskRecord::statusesJson() const {
  Json out = Json::array();
  for (const auto& p : history) {
    Json j = {{"state", p.state}, {"timestamp", p.timestamp}, {"task_id", {{"value", taskId}}}};
    if (p.healthy) j["healthy"] = *p.healthy;
    if (!p.reason.empty()) j["reason"] = p.reason;
    if (!p.message.empty()) j["message"] = p.message;
    if (!p.source.empty()) j["source"] = p.source;
    out.push_back(std::move(j));
  }
  if (status.is_object()) out.push_back(status);
  return out;
}

bool isTerminalState(const std::string& s) {
  return s == "TASK_FINISHED" || s == "TASK_FAILED" || s == "TASK_KILLED" || s == "TASK_ERROR" ||
         s == "TASK_LOST" || s == "TASK_DROPPED" || s == "TASK_GONE" || s == "TASK_GONE_BY_OPERATOR";
}

Duration FrameworkRecord::failoverTimeout() const {
  double secs = info.value("failover_timeout", 0.0);
  if (!(secs > 0)) return Duration::zero();
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(std::min(secs, 1e9)));
}

bool FrameworkRecord::partitionAware() const {
  for (const auto& c : info.value("capabilities", Json::array())) {
    if (c.is_object() && c.value("type", "") == "PARTITION_AWARE") return true;
  }
  return false;
}

Result<std::map<std::string, double>> parseWeights(const std::string& text) {
  std::map<std::string, double> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    std::string entry = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() : comma + 1;
    if (entry.empty()) continue;
    auto eq = entry.find('=');
    std::string role = entry.substr(0, eq);
    double weight = 0;
    char* end = nullptr;
    if (eq != std::string::npos) weight = std::strtod(entry.c_str() + eq + 1, &end);
    if (eq == std::string::npos || end == entry.c_str() + eq + 1 || *end != '\0' || !(weight > 0) || weight > 1e9) {
      return Error(ErrorCode::kInvalidArgument, "'" + entry + "' is not role=weight with a positive weight");
    }
    if (auto v = validateRole(role); !v || role == "*") {
      return Error(ErrorCode::kInvalidArgument, "'" + role + "' is not a role that can have a weight");
    }
    out[role] = weight;
  }
  return out;
}

Master::Master(EventLoop& loop, const Clock& clock, std::unique_ptr<Registry> registry, MasterOptions options)
    : loop_(loop), clock_(clock), registry_(std::move(registry)), options_(std::move(options)),
      masterId_(uuid::v4()), startedAt_(clock.now()), allocator_(clock) {}

Master::~Master() { flushTasks(); }

Result<std::unique_ptr<Master>> Master::open(EventLoop& loop, const Clock& clock, const std::string& workDir,
                                             MasterOptions options) {
  auto registry = Registry::open(workDir, clock);
  if (!registry) return registry.error();
  std::unique_ptr<Master> m(new Master(loop, clock, std::move(*registry), std::move(options)));
  for (const auto& [role, weight] : m->options_.weights) {
    if (auto r = m->allocator_.setWeight(role, weight); !r) return r.error();
  }
  if (auto r = m->recover(); !r) return r.error();
  logger().info("master '{}' of cluster '{}' started ({} agents, {} frameworks, {} tasks recovered)", m->masterId_,
                m->clusterId(), m->agents_.size(), m->frameworks_.size(), m->tasks_.size());
  return m;
}

// After a restart everything is known but nothing is connected: agents must reregister and
// frameworks resubscribe. Until then agents are disconnected (not offered) and frameworks
// inactive; each framework's failover timeout starts now.
Result<void> Master::recover() {
  auto snap = registry_->load();
  if (!snap) return snap.error();
  for (auto& a : snap->agents) {
    if (a.state == AgentState::kGone) {
      goneAgents_.insert(a.id);
      continue;
    }
    if (a.state != AgentState::kUnreachable) {
      a.state = AgentState::kDisconnected;
      a.unreachableAt = clock_.now();  // the clock for reregistration starts now
    }
    a.recovered = true;
    agents_.emplace(a.id, std::move(a));
  }
  for (auto& f : snap->frameworks) {
    if (f.completed) continue;
    for (const auto& r : frameworkRoles(f.info)) f.roles.insert(r);
    f.disconnectedAt = clock_.now();
    f.recovered = true;
    frameworks_.emplace(f.id, std::move(f));
  }
  for (auto& t : snap->tasks) {
    auto fw = frameworks_.find(t.frameworkId);
    auto agent = agents_.find(t.agentId);
    if (fw == frameworks_.end() || agent == agents_.end() || isTerminalState(t.state)) {
      (void)registry_->removeTask(t.frameworkId, t.taskId);
      continue;
    }
    t.resources = t.resources.allocate(t.role);
    fw->second.taskKeys.insert(t.key());
    agent->second.taskKeys.insert(t.key());
    tasks_.emplace(t.key(), std::move(t));
  }
  for (auto& [id, fw] : frameworks_) allocator_.addFramework(id, fw.roles, false);
  for (auto& [id, agent] : agents_) {
    std::map<std::string, Resources> used;
    for (const auto& key : agent.taskKeys) used[tasks_.at(key).frameworkId] += tasks_.at(key).resources;
    allocator_.addAgent(id, agent.total, used);
    allocator_.deactivateAgent(id);
  }
  return success();
}

void Master::start() {
  if (started_) return;
  started_ = true;
  // Frameworks recovered from the registry get their failover timeout from now on.
  for (auto& [id, fw] : frameworks_) {
    if (!fw.active) {
      std::string fid = id;
      fw.failoverTimer = loop_.schedule(fw.failoverTimeout(), [this, fid] {
        auto it = frameworks_.find(fid);
        if (it != frameworks_.end() && !it->second.active) {
          it->second.failoverTimer.reset();
          removeFramework(it->second, "did not resubscribe within its failover timeout");
        }
      });
    }
  }
  every(options_.allocationInterval, [this] { allocate(); });
  every(options_.heartbeatInterval, [this] {
    for (auto& [id, fw] : frameworks_) {
      if (fw.active) sendToFramework(fw, {{"type", "HEARTBEAT"}});
    }
    operatorEvents_.publish(heartbeatEvent());
  });
  every(options_.agentPingTimeout, [this] { pingAgents(); });
}

void Master::every(Duration period, std::function<void()> fn) {
  loop_.schedule(period, [this, period, fn] {
    fn();
    every(period, fn);
  });
}

Json Master::masterInfo() const {
  return {{"id", masterId_},
          {"hostname", options_.hostname},
          {"port", options_.port},
          {"version", version::version()},
          {"address", {{"hostname", options_.hostname}, {"port", options_.port}}}};
}

void Master::requestAllocation() {
  if (allocationPending_) return;
  allocationPending_ = true;
  // Batch: everything that happens in this turn of the loop is allocated together.
  loop_.post([this] { allocate(); });
}

void Master::allocate() {
  allocationPending_ = false;
  auto grants = allocator_.allocate();
  std::map<std::string, Json> byFramework;
  for (auto& g : grants) {
    auto fw = frameworks_.find(g.frameworkId);
    auto agent = agents_.find(g.agentId);
    if (fw == frameworks_.end() || agent == agents_.end() || !fw->second.active) {
      allocator_.recoverResources(g.frameworkId, g.agentId, g.resources);
      continue;
    }
    OfferRecord offer;
    offer.id = masterId_ + "-O" + std::to_string(nextOffer_++);
    offer.frameworkId = g.frameworkId;
    offer.agentId = g.agentId;
    offer.role = g.role;
    offer.resources = std::move(g.resources);
    offer.createdAt = clock_.now();
    if (options_.offerTimeout) {
      std::string oid = offer.id;
      offer.timeoutTimer = loop_.schedule(*options_.offerTimeout, [this, oid] {
        auto it = offers_.find(oid);
        if (it == offers_.end()) return;
        it->second.timeoutTimer.reset();
        logger().debug("offer '{}' timed out", oid);
        rescindOffer(oid, true);
      });
    }
    Json j = offerJson(offer, agent->second);
    byFramework[g.frameworkId].push_back(std::move(j));
    fw->second.offerIds.insert(offer.id);
    offers_.emplace(offer.id, std::move(offer));
  }
  for (auto& [fid, list] : byFramework) {
    sendToFramework(frameworks_.at(fid), {{"type", "OFFERS"}, {"offers", {{"offers", list}}}});
  }
}

void Master::removeOffer(const std::string& offerId) {
  auto it = offers_.find(offerId);
  if (it == offers_.end()) return;
  if (it->second.timeoutTimer) loop_.cancel(*it->second.timeoutTimer);
  auto fw = frameworks_.find(it->second.frameworkId);
  if (fw != frameworks_.end()) fw->second.offerIds.erase(offerId);
  offers_.erase(it);
}

void Master::rescindOffer(const std::string& offerId, bool recover) {
  auto it = offers_.find(offerId);
  if (it == offers_.end()) return;
  OfferRecord offer = it->second;
  removeOffer(offerId);
  if (recover) allocator_.recoverResources(offer.frameworkId, offer.agentId, offer.resources);
  auto fw = frameworks_.find(offer.frameworkId);
  if (fw != frameworks_.end()) {
    sendToFramework(fw->second, {{"type", "RESCIND"}, {"rescind", {{"offer_id", idJson(offerId)}}}});
  }
  requestAllocation();
}

void Master::rescindAgentOffers(const std::string& agentId) {
  std::vector<std::string> ids;
  for (const auto& [id, o] : offers_) {
    if (o.agentId == agentId) ids.push_back(id);
  }
  for (const auto& id : ids) rescindOffer(id, true);
}

void Master::rescindFrameworkOffers(const std::string& frameworkId) {
  auto fw = frameworks_.find(frameworkId);
  if (fw == frameworks_.end()) return;
  std::vector<std::string> ids(fw->second.offerIds.begin(), fw->second.offerIds.end());
  for (const auto& id : ids) rescindOffer(id, true);
}

void Master::sendToFramework(FrameworkRecord& fw, const Json& event) {
  if (!fw.sink) return;
  if (!fw.sink->send(event)) {
    logger().debug("framework '{}' stream is gone", fw.id);
  }
}

void Master::sendToAgent(AgentRecord& agent, const Json& event) {
  if (!agent.sink) return;
  if (!agent.sink->send(event)) logger().debug("agent '{}' stream is gone", agent.id);
}

void Master::finishTask(TaskRecord& task) {
  std::string key = task.key();
  if (auto fw = frameworks_.find(task.frameworkId); fw != frameworks_.end()) fw->second.taskKeys.erase(key);
  if (auto agent = agents_.find(task.agentId); agent != agents_.end()) agent->second.taskKeys.erase(key);
  dirtyTasks_.erase(key);
  removedTasks_.emplace(task.frameworkId, task.taskId);
  postTaskFlush();
  completedTasks_.push_back(std::move(task));
  if (completedTasks_.size() > kMaxCompletedTasks) completedTasks_.pop_front();
  tasks_.erase(key);
}

void Master::persistTaskSoon(const TaskRecord& task) {
  dirtyTasks_.insert(task.key());
  postTaskFlush();
}

void Master::postTaskFlush() {
  if (taskFlushPosted_) return;
  taskFlushPosted_ = true;
  loop_.post([this, alive = std::weak_ptr<int>(lifetime_)] {
    if (!alive.expired()) flushTasks();
  });
}

void Master::flushTasks() {
  taskFlushPosted_ = false;
  if (dirtyTasks_.empty() && removedTasks_.empty()) return;
  std::vector<const TaskRecord*> statuses;
  for (const auto& key : dirtyTasks_) {
    if (auto it = tasks_.find(key); it != tasks_.end()) statuses.push_back(&it->second);
  }
  std::vector<std::pair<std::string, std::string>> removals(removedTasks_.begin(), removedTasks_.end());
  if (auto r = registry_->writeTaskChanges(statuses, removals); !r) {
    // Kept for the next attempt; what the agents report on reregistration corrects the rest.
    logger().error("writing {} task change(s) to the registry: {}", statuses.size() + removedTasks_.size(), r.error().message);
    return;
  }
  dirtyTasks_.clear();
  removedTasks_.clear();
}

}  // namespace dcos::kernel
