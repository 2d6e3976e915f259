// The scheduler side of the master: SUBSCRIBE and every other Mesos v1 scheduler call.
#include "kernel/master/master.hpp"

#include "common/uuid.hpp"
#include "common/log.hpp"
#include "kernel/master/protocol.hpp"

#include <cmath>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("master"); }

constexpr size_t kMaxCompletedFrameworks = 50;  // Mesos' --max_completed_frameworks default

}  // namespace

Result<Master::Subscription> Master::subscribeFramework(const Json& call, std::shared_ptr<EventSink> sink) {
  if (!call.contains("subscribe") || !call["subscribe"].is_object()) return invalidCall("/subscribe", "missing subscribe");
  Json info = call["subscribe"].value("framework_info", Json());
  if (auto r = validateFrameworkInfo(info, "/subscribe/framework_info"); !r) return r.error();
  std::string callId = idValue(call, "framework_id");
  std::string infoId = idValue(info, "id");
  if (!callId.empty() && !infoId.empty() && callId != infoId) {
    return invalidCall("/framework_id", "framework_id differs from subscribe.framework_info.id");
  }
  std::string id = !infoId.empty() ? infoId : callId;
  auto it = id.empty() ? frameworks_.end() : frameworks_.find(id);
  if (!id.empty() && it == frameworks_.end()) {
    // A framework id we never issued (or one that was torn down) cannot come back.
    return Error(ErrorCode::kForbidden, "Framework '" + id + "' is unknown or has been removed; subscribe without an id");
  }
  if (it == frameworks_.end()) {
    id = clusterId() + "-" + std::to_string(frameworks_.size()) + "-" + uuid::v4().substr(0, 8);
    FrameworkRecord fw;
    fw.id = id;
    fw.registeredAt = clock_.now();
    it = frameworks_.emplace(id, std::move(fw)).first;
    logger().info("framework '{}' ({}) registered", id, info.value("name", ""));
  } else {
    logger().info("framework '{}' ({}) resubscribed", id, info.value("name", ""));
  }
  bool added = it->second.info.is_null();  // created just above, not yet described
  FrameworkRecord& fw = it->second;
  if (fw.sink) {
    // Failover: the previous scheduler instance is told and cut off.
    fw.sink->send({{"type", "ERROR"}, {"error", {{"message", "Framework failed over"}}}});
    fw.sink->close();
  }
  if (fw.failoverTimer) loop_.cancel(*fw.failoverTimer);
  fw.failoverTimer.reset();
  info["id"] = idJson(id);
  fw.info = info;
  fw.roles = frameworkRoles(info);
  fw.active = true;
  fw.recovered = false;
  if (!added) fw.reregisteredAt = clock_.now();
  fw.sink = std::move(sink);
  fw.streamId = uuid::v4();
  if (auto r = registry_->putFramework(fw); !r) return r.error().wrap("persisting framework");
  allocator_.addFramework(id, fw.roles, true);
  allocator_.activateFramework(id);
  publishFramework(fw, added);
  sendToFramework(fw, {{"type", "SUBSCRIBED"},
                       {"subscribed",
                        {{"framework_id", idJson(id)},
                         {"heartbeat_interval_seconds", std::chrono::duration<double>(options_.heartbeatInterval).count()},
                         {"master_info", masterInfo()}}}});
  requestAllocation();
  return Subscription{id, fw.streamId};
}

void Master::frameworkDisconnected(const std::string& frameworkId, const std::string& streamId) {
  auto it = frameworks_.find(frameworkId);
  if (it == frameworks_.end() || it->second.streamId != streamId || !it->second.active) return;
  FrameworkRecord& fw = it->second;
  logger().info("framework '{}' disconnected; failover timeout {}s", fw.id,
                std::chrono::duration<double>(fw.failoverTimeout()).count());
  fw.active = false;
  fw.sink.reset();
  fw.disconnectedAt = clock_.now();
  allocator_.deactivateFramework(fw.id);
  rescindFrameworkOffers(fw.id);
  publishFramework(fw, false);
  std::string fid = fw.id;
  fw.failoverTimer = loop_.schedule(fw.failoverTimeout(), [this, fid] {
    auto f = frameworks_.find(fid);
    if (f == frameworks_.end() || f->second.active) return;
    f->second.failoverTimer.reset();
    removeFramework(f->second, "did not resubscribe within its failover timeout");
  });
}

void Master::removeFramework(FrameworkRecord& fw, const std::string& why) {
  logger().info("removing framework '{}': {}", fw.id, why);
  rescindFrameworkOffers(fw.id);
  std::vector<std::string> keys(fw.taskKeys.begin(), fw.taskKeys.end());
  for (const auto& key : keys) {
    auto t = tasks_.find(key);
    if (t == tasks_.end()) continue;
    auto agent = agents_.find(t->second.agentId);
    if (agent != agents_.end()) {
      sendToAgent(agent->second, {{"type", "SHUTDOWN_FRAMEWORK"},
                                  {"shutdown_framework", {{"framework_id", idJson(fw.id)}}}});
    }
    allocator_.recoverResources(fw.id, t->second.agentId, t->second.resources);
    t->second.status =
        masterStatus(t->second, "TASK_KILLED", "REASON_FRAMEWORK_REMOVED", "Framework " + fw.id + " was removed");
    t->second.state = "TASK_KILLED";
    publishTaskUpdated(t->second);
    finishTask(t->second);
  }
  if (fw.failoverTimer) loop_.cancel(*fw.failoverTimer);
  if (fw.sink) fw.sink->close();
  fw.completed = true;
  fw.active = false;
  if (auto r = registry_->putFramework(fw); !r) logger().error("persisting framework removal: {}", r.error().message);
  allocator_.removeFramework(fw.id);
  // Kept for GET_FRAMEWORKS.completed_frameworks, without its connection and bookkeeping.
  FrameworkRecord done = fw;
  done.sink.reset();
  done.failoverTimer.reset();
  done.taskKeys.clear();
  done.offerIds.clear();
  done.disconnectedAt = clock_.now();
  frameworks_.erase(done.id);
  publishFrameworkRemoved(done);
  completedFrameworks_.push_back(std::move(done));
  if (completedFrameworks_.size() > kMaxCompletedFrameworks) completedFrameworks_.pop_front();
  requestAllocation();
}

Result<void> Master::frameworkCall(const Json& call, const std::string& streamId) {
  auto fid = requireId(call, "framework_id", "");
  if (!fid) return fid.error();
  auto it = frameworks_.find(*fid);
  if (it == frameworks_.end() || !it->second.active) {
    return Error(ErrorCode::kForbidden, "Framework '" + *fid + "' is not subscribed");
  }
  FrameworkRecord& fw = it->second;
  if (streamId != fw.streamId) {
    return invalidCall("Mesos-Stream-Id", "The stream ID '" + streamId +
                                              "' does not match the one of framework '" + fw.id + "'");
  }
  std::string type = call.value("type", "");
  auto section = [&](const char* name) -> Result<Json> {
    if (!call.contains(name) || !call[name].is_object()) return invalidCall(std::string("/") + name, std::string("missing ") + name);
    return call[name];
  };
  if (type == "TEARDOWN") {
    removeFramework(fw, "TEARDOWN");
  } else if (type == "ACCEPT") {
    auto a = section("accept");
    if (!a) return a.error();
    accept(fw, *a);
  } else if (type == "DECLINE") {
    auto d = section("decline");
    if (!d) return d.error();
    decline(fw, *d);
  } else if (type == "REVIVE" || type == "SUPPRESS") {
    std::set<std::string> roles;
    const Json body = call.value(type == "REVIVE" ? "revive" : "suppress", Json::object());
    for (const auto& r : body.value("roles", Json::array())) {
      if (r.is_string()) roles.insert(r.get<std::string>());
    }
    if (type == "REVIVE") {
      allocator_.revive(fw.id, roles);
      requestAllocation();
    } else {
      allocator_.suppress(fw.id, roles);
    }
  } else if (type == "KILL") {
    auto k = section("kill");
    if (!k) return k.error();
    auto tid = requireId(*k, "task_id", "/kill");
    if (!tid) return tid.error();
    kill(fw, *k);
  } else if (type == "SHUTDOWN") {
    auto s = section("shutdown");
    if (!s) return s.error();
    auto eid = requireId(*s, "executor_id", "/shutdown");
    if (!eid) return eid.error();
    // Command tasks run under an executor named after the task.
    kill(fw, {{"task_id", idJson(*eid)}, {"agent_id", s->value("agent_id", Json())}});
  } else if (type == "ACKNOWLEDGE") {
    auto a = section("acknowledge");
    if (!a) return a.error();
    for (const char* f : {"agent_id", "task_id"}) {
      if (auto r = requireId(*a, f, "/acknowledge"); !r) return r.error();
    }
    if (!a->contains("uuid") || !(*a)["uuid"].is_string()) return invalidCall("/acknowledge/uuid", "uuid must be a string");
    acknowledge(fw, *a);
  } else if (type == "RECONCILE") {
    reconcile(fw, call.value("reconcile", Json::object()));
  } else if (type == "MESSAGE") {
    auto m = section("message");
    if (!m) return m.error();
    auto aid = requireId(*m, "agent_id", "/message");
    if (!aid) return aid.error();
    auto agent = agents_.find(*aid);
    if (agent == agents_.end()) return invalidCall("/message/agent_id", "unknown agent '" + *aid + "'");
    Json msg = *m;
    msg["framework_id"] = idJson(fw.id);
    sendToAgent(agent->second, {{"type", "MESSAGE"}, {"message", msg}});
  } else if (type == "REQUEST") {
    // The hierarchical allocator ignores resource requests, as Mesos' does.
  } else if (type == "SUBSCRIBE") {
    return invalidCall("/type", "SUBSCRIBE must open its own connection");
  } else {
    return invalidCall("/type", "Unknown or unsupported call type '" + type + "'");
  }
  return success();
}

void Master::decline(FrameworkRecord& fw, const Json& decline) {
  auto refuse = refuseFilter(decline);
  for (const auto& oid : decline.value("offer_ids", Json::array())) {
    std::string id = oid.is_object() ? oid.value("value", "") : "";
    auto it = offers_.find(id);
    if (it == offers_.end() || it->second.frameworkId != fw.id) continue;  // already gone: nothing to give back
    OfferRecord offer = it->second;
    removeOffer(id);
    allocator_.decline(fw.id, offer.agentId, offer.resources, refuse);
  }
  requestAllocation();
}

void Master::kill(FrameworkRecord& fw, const Json& k) {
  std::string taskId = idValue(k, "task_id");
  auto it = tasks_.find(fw.id + "/" + taskId);
  if (it == tasks_.end()) {
    // Mesos answers a kill of an unknown task with TASK_LOST (no ack needed).
    TaskRecord ghost;
    ghost.frameworkId = fw.id;
    ghost.taskId = taskId;
    ghost.agentId = idValue(k, "agent_id");
    sendUpdateToFramework(fw.id, masterStatus(ghost, "TASK_LOST", "REASON_RECONCILIATION", "Task is unknown to the master"));
    return;
  }
  killTask(it->second, k.value("kill_policy", Json()));
}

void Master::acknowledge(FrameworkRecord& fw, const Json& ack) {
  std::string taskId = idValue(ack, "task_id");
  std::string uuid = ack["uuid"].get<std::string>();
  auto it = tasks_.find(fw.id + "/" + taskId);
  std::string agentId = idValue(ack, "agent_id");
  auto agent = agents_.find(agentId);
  if (agent != agents_.end()) {
    flushTasks();  // the acknowledged status must be durable before the agent may forget it
    sendToAgent(agent->second, {{"type", "ACKNOWLEDGE"},
                                {"acknowledge", {{"framework_id", idJson(fw.id)}, {"task_id", idJson(taskId)}, {"uuid", uuid}}}});
  }
  if (it == tasks_.end()) return;
  TaskRecord& task = it->second;
  if (!task.status.is_null() && task.status.value("uuid", "") == uuid) {
    task.acknowledged = true;
    // Only a terminal task's ack must be durable (it ends the task). The stored flag of a task
    // still on its way or running is never read back: the next status update rewrites it, and
    // the agent resends what the master never acknowledged. So no synchronous commit per ack.
    if (isTerminalState(task.state)) finishTask(task);
  }
}

void Master::reconcile(FrameworkRecord& fw, const Json& body) {
  const Json list = body.value("tasks", Json::array());
  if (list.empty()) {
    // Implicit: the latest known state of every task of the framework.
    for (const auto& key : fw.taskKeys) {
      const TaskRecord& t = tasks_.at(key);
      Json st = t.status.is_null() ? masterStatus(t, t.state, "REASON_RECONCILIATION", "") : t.status;
      st.erase("uuid");
      st["reason"] = "REASON_RECONCILIATION";
      sendUpdateToFramework(fw.id, st);
    }
    return;
  }
  for (const auto& item : list) {
    std::string taskId = idValue(item, "task_id");
    auto it = tasks_.find(fw.id + "/" + taskId);
    if (it != tasks_.end()) {
      const TaskRecord& t = it->second;
      Json st = t.status.is_null() ? masterStatus(t, t.state, "REASON_RECONCILIATION", "") : t.status;
      st.erase("uuid");
      st["reason"] = "REASON_RECONCILIATION";
      sendUpdateToFramework(fw.id, st);
      continue;
    }
    TaskRecord ghost;
    ghost.frameworkId = fw.id;
    ghost.taskId = taskId;
    ghost.agentId = idValue(item, "agent_id");
    std::string state = fw.partitionAware() ? "TASK_UNKNOWN" : "TASK_LOST";
    sendUpdateToFramework(fw.id, masterStatus(ghost, state, "REASON_RECONCILIATION", "Task is unknown to the master"));
  }
}

Json Master::masterStatus(const TaskRecord& task, const std::string& state, const std::string& reason,
                          const std::string& message) const {
  Json st = {{"task_id", idJson(task.taskId)},
             {"state", state},
             {"source", "SOURCE_MASTER"},
             {"timestamp", toEpochSeconds(clock_.now())}};
  if (!task.agentId.empty()) st["agent_id"] = idJson(task.agentId);
  if (!reason.empty()) st["reason"] = reason;
  if (!message.empty()) st["message"] = message;
  return st;
}

void Master::sendUpdateToFramework(const std::string& frameworkId, const Json& status) {
  auto fw = frameworks_.find(frameworkId);
  if (fw == frameworks_.end()) return;
  sendToFramework(fw->second, {{"type", "UPDATE"}, {"update", {{"status", status}}}});
}

void Master::applyStatus(TaskRecord& task, const Json& status) {
  std::string state = status.value("state", "");
  bool wasTerminal = isTerminalState(task.state);
  // Agents resend an update until it is acknowledged: subscribers hear of state changes only.
  bool changed = state != task.state;
  auto health = [](const Json& st) { return st.is_object() ? st.value("healthy", Json()) : Json(); };
  bool healthChanged = health(task.status) != health(status);
  task.setStatus(status);
  task.state = state;
  task.acknowledged = !status.contains("uuid");
  if (isTerminalState(state) && !wasTerminal) {
    // Resources come back when the terminal update arrives, not when it is acknowledged.
    allocator_.recoverResources(task.frameworkId, task.agentId, task.resources);
    requestAllocation();
  }
  if (changed) {
    publishTaskUpdated(task);
  } else if (healthChanged) {
    notifyChange();  // same state, so no TASK_UPDATED event; discovery follows health
  }
  sendUpdateToFramework(task.frameworkId, status);
  if (isTerminalState(state) && task.acknowledged) {
    finishTask(task);
    return;
  }
  persistTaskSoon(task);
}

}  // namespace dcos::kernel
