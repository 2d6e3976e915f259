// The agent side of the master: (re)registration, status updates, pings, and what happens to
// an agent that goes quiet (UNREACHABLE, then GONE).
#include "kernel/master/master.hpp"

#include "common/uuid.hpp"
#include "common/log.hpp"
#include "kernel/master/protocol.hpp"

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("master"); }

}  // namespace

Result<Master::AgentSubscription> Master::subscribeAgent(const Json& call, std::shared_ptr<EventSink> sink) {
  if (!call.contains("subscribe") || !call["subscribe"].is_object()) return invalidCall("/subscribe", "missing subscribe");
  const Json& sub = call["subscribe"];
  Json info = sub.value("agent_info", Json());
  if (!info.is_object()) return invalidCall("/subscribe/agent_info", "agent_info must be an object");
  if (!info.contains("hostname") || !info["hostname"].is_string() || info["hostname"].get<std::string>().empty()) {
    return invalidCall("/subscribe/agent_info/hostname", "hostname must be a non-empty string");
  }
  auto total = Resources::fromJson(info.value("resources", Json()), "/subscribe/agent_info/resources");
  if (!total) return total.error();
  const Json reported = sub.value("tasks", Json::array());
  if (!reported.is_array()) return invalidCall("/subscribe/tasks", "tasks must be an array");

  std::string id = idValue(info, "id");
  auto it = id.empty() ? agents_.end() : agents_.find(id);
  if (!id.empty() && it == agents_.end()) {
    // Known to the agent but not to us: we lost it (a fresh registry) or removed it as GONE.
    if (goneAgents_.count(id)) {
      return Error(ErrorCode::kForbidden, "Agent '" + id + "' was removed from the cluster (GONE); "
                                          "clear its work_dir and start it again to join as a new agent");
    }
  }
  if (id.empty()) {
    auto newId = registry_->newAgentId();
    if (!newId) return newId.error();
    id = *newId;
  }
  bool known = agents_.count(id) > 0;
  AgentRecord& agent = agents_[id];
  if (agent.sink) agent.sink->close();  // a newer connection replaces the old one
  agent.id = id;
  info["id"] = idJson(id);
  agent.info = info;
  agent.total = *total;
  agent.state = AgentState::kActive;
  if (!known) agent.registeredAt = clock_.now();
  if (known) agent.reregisteredAt = clock_.now();
  agent.recovered = false;
  agent.sink = std::move(sink);
  agent.streamId = uuid::v4();
  agent.missedPings = 0;
  agent.pongPending = false;
  if (auto r = registry_->putAgent(agent); !r) return r.error().wrap("persisting agent");
  logger().info("agent '{}' at {} {}", id, agent.hostname(), known ? "reregistered" : "registered");

  sendToAgent(agent, {{"type", "SUBSCRIBED"},
                      {"subscribed",
                       {{"agent_id", idJson(id)},
                        {"stream_id", agent.streamId},  // also in the Mesos-Stream-Id header
                        {"ping_interval_seconds", std::chrono::duration<double>(options_.agentPingTimeout).count()},
                        {"ping_timeout_seconds", std::chrono::duration<double>(options_.agentPingTimeout).count()},
                        {"master_info", masterInfo()}}}});
  // Sent on every (re)registration, as Mesos does after a failover or a partition: operator
  // clients treat it as "this agent is registered, with this info".
  publishAgentAdded(agent);
  reconcileAgentTasks(agent, reported);

  std::map<std::string, Resources> used;
  for (const auto& key : agent.taskKeys) used[tasks_.at(key).frameworkId] += tasks_.at(key).resources;
  allocator_.addAgent(id, agent.total, used);
  allocator_.activateAgent(id);
  requestAllocation();
  return AgentSubscription{id, agent.streamId};
}

// After a (re)registration: what the agent runs and what the master believes must agree.
void Master::reconcileAgentTasks(AgentRecord& agent, const Json& reported) {
  std::set<std::string> running;
  for (const auto& r : reported) {
    std::string fid = idValue(r, "framework_id");
    Json task = r.value("task", Json::object());
    std::string tid = idValue(task, "task_id");
    if (fid.empty() || tid.empty()) continue;
    std::string key = fid + "/" + tid;
    running.insert(key);
    auto t = tasks_.find(key);
    auto fw = frameworks_.find(fid);
    if (fw == frameworks_.end()) {
      // A task of a framework that is gone: it must not keep running.
      sendToAgent(agent, {{"type", "SHUTDOWN_FRAMEWORK"}, {"shutdown_framework", {{"framework_id", idJson(fid)}}}});
      continue;
    }
    if (t == tasks_.end()) {
      // Every launch is persisted before it is sent, so a task unknown here was removed on
      // purpose (or launched by a master whose registry is gone): it must not keep running.
      logger().warn("agent '{}' runs task '{}' of framework '{}', which the master does not know; killing it", agent.id,
                    tid, fid);
      sendToAgent(agent, {{"type", "KILL_TASK"}, {"kill_task", {{"framework_id", idJson(fid)}, {"task_id", idJson(tid)}}}});
      continue;
    }
    Json status = r.value("status", Json());
    if (status.is_object() && status.contains("state") && status["state"] != t->second.state) {
      // The agent's latest state (e.g. RUNNING again after UNREACHABLE), as a reconciliation
      // update: the agent's own reliable update follows if one is pending.
      Json st = status;
      st.erase("uuid");
      t->second.setStatus(st);
      t->second.state = st.value("state", t->second.state);
      persistTaskSoon(t->second);
      publishTaskUpdated(t->second);
      sendUpdateToFramework(fid, st);
    }
    if (t->second.killRequested) killTask(t->second, Json());
  }
  // Tasks the master placed on this agent that the agent does not run any more.
  std::vector<std::string> missing;
  for (const auto& key : agent.taskKeys) {
    if (!running.count(key)) missing.push_back(key);
  }
  for (const auto& key : missing) {
    auto t = tasks_.find(key);
    if (t == tasks_.end()) continue;
    if (t->second.state == "TASK_STAGING") {
      // Sent before the agent connected (or lost with a crash): send it again.
      auto fw = frameworks_.find(t->second.frameworkId);
      if (fw != frameworks_.end()) {
        sendToAgent(agent, {{"type", "RUN_TASK"},
                            {"run_task", {{"framework_id", idJson(fw->first)}, {"framework_info", fw->second.info},
                                          {"task", t->second.task}}}});
        continue;
      }
    }
    auto fw = frameworks_.find(t->second.frameworkId);
    bool aware = fw != frameworks_.end() && fw->second.partitionAware();
    applyStatus(t->second, masterStatus(t->second, aware ? "TASK_GONE" : "TASK_LOST", "REASON_AGENT_RESTARTED",
                                        "Task is not running on the agent after it reregistered"));
  }
}

Result<void> Master::agentCall(const Json& call, const std::string& streamId) {
  auto aid = requireId(call, "agent_id", "");
  if (!aid) return aid.error();
  auto it = agents_.find(*aid);
  if (it == agents_.end() || !it->second.sink) return Error(ErrorCode::kForbidden, "Agent '" + *aid + "' is not subscribed");
  AgentRecord& agent = it->second;
  if (streamId != agent.streamId) {
    return invalidCall("Mesos-Stream-Id", "The stream ID does not match agent '" + agent.id + "''s current stream");
  }
  std::string type = call.value("type", "");
  if (type == "PONG") {
    agent.pongPending = false;
    agent.missedPings = 0;
    return success();
  }
  if (type == "MESSAGE") {
    // An executor's message for its framework: forwarded as it is, at most once (as in Mesos).
    Json m = call.value("message", Json());
    auto fid = requireId(m, "framework_id", "/message");
    if (!fid) return fid.error();
    auto eid = requireId(m, "executor_id", "/message");
    if (!eid) return eid.error();
    if (!m.contains("data") || !m["data"].is_string()) return invalidCall("/message/data", "data must be a base64 string");
    auto fw = frameworks_.find(*fid);
    if (fw == frameworks_.end()) return success();  // nobody to tell
    sendToFramework(fw->second, {{"type", "MESSAGE"},
                                 {"message", {{"agent_id", idJson(agent.id)}, {"executor_id", idJson(*eid)}, {"data", m["data"]}}}});
    return success();
  }
  if (type == "EXECUTOR_EXITED") {
    Json e = call.value("executor_exited", Json());
    auto fid = requireId(e, "framework_id", "/executor_exited");
    if (!fid) return fid.error();
    auto eid = requireId(e, "executor_id", "/executor_exited");
    if (!eid) return eid.error();
    if (e.contains("status") && !e["status"].is_number_integer()) {
      return invalidCall("/executor_exited/status", "status must be an integer wait status");
    }
    auto fw = frameworks_.find(*fid);
    if (fw == frameworks_.end()) return success();
    sendToFramework(fw->second, {{"type", "FAILURE"},
                                 {"failure", {{"agent_id", idJson(agent.id)}, {"executor_id", idJson(*eid)},
                                              {"status", e.value("status", 0)}}}});
    return success();
  }
  if (type != "UPDATE") return invalidCall("/type", "Unknown agent call type '" + type + "'");
  // One update in "update", or a batch in "updates" (the agent sends whatever is due at once);
  // a batch is checked whole before any of it is applied.
  std::vector<std::pair<std::string, Json>> checked;
  auto check = [&](const Json& update, const std::string& path) -> Result<void> {
    if (!update.is_object()) return invalidCall(path, "missing update");
    auto fid = requireId(update, "framework_id", path);
    if (!fid) return fid.error();
    Json status = update.value("status", Json());
    auto tid = requireId(status, "task_id", path + "/status");
    if (!tid) return tid.error();
    if (!status.contains("state") || !status["state"].is_string()) {
      return invalidCall(path + "/status/state", "state must be a string");
    }
    checked.emplace_back(*fid, std::move(status));
    return success();
  };
  if (call.contains("updates")) {
    const Json& updates = call["updates"];
    if (!updates.is_array() || updates.empty()) return invalidCall("/updates", "must be a non-empty array");
    for (size_t i = 0; i < updates.size(); ++i) {
      if (auto r = check(updates[i], "/updates/" + std::to_string(i)); !r) return r;
    }
  } else if (auto r = check(call.value("update", Json()), "/update"); !r) {
    return r;
  }
  for (auto& [fid, status] : checked) {
    std::string tid = idValue(status, "task_id");
    auto t = tasks_.find(fid + "/" + tid);
    if (t == tasks_.end()) {
      // Not ours (any more): forward it so the framework can acknowledge, and it stops being resent.
      logger().debug("update {} for unknown task '{}/{}' from agent '{}'", status["state"].get<std::string>(), fid, tid, agent.id);
      sendUpdateToFramework(fid, status);
      continue;
    }
    status["agent_id"] = idJson(agent.id);
    applyStatus(t->second, status);
  }
  return success();
}

void Master::agentDisconnected(const std::string& agentId, const std::string& streamId) {
  auto it = agents_.find(agentId);
  if (it == agents_.end() || it->second.streamId != streamId || it->second.state != AgentState::kActive) return;
  AgentRecord& agent = it->second;
  logger().info("agent '{}' disconnected", agent.id);
  agent.sink.reset();
  agent.state = AgentState::kDisconnected;
  agent.unreachableAt = clock_.now();
  allocator_.deactivateAgent(agent.id);
  rescindAgentOffers(agent.id);
}

void Master::pingAgents() {
  auto limit = options_.agentPingTimeout * options_.maxAgentPingTimeouts;
  std::vector<std::string> unreachable, gone;
  for (auto& [id, agent] : agents_) {
    switch (agent.state) {
      case AgentState::kActive:
        if (agent.pongPending && ++agent.missedPings >= options_.maxAgentPingTimeouts) {
          unreachable.push_back(id);
          break;
        }
        agent.pongPending = true;
        sendToAgent(agent, {{"type", "PING"}});
        break;
      case AgentState::kDisconnected:
        if (clock_.now() - agent.unreachableAt >= limit) unreachable.push_back(id);
        break;
      case AgentState::kUnreachable:
        if (clock_.now() - agent.unreachableAt >= options_.agentRemovalTimeout) gone.push_back(id);
        break;
      case AgentState::kGone: break;
    }
  }
  for (const auto& id : unreachable) markUnreachable(agents_.at(id), "missed pings");
  for (const auto& id : gone) markGone(agents_.at(id));
}

void Master::markUnreachable(AgentRecord& agent, const std::string& why) {
  logger().warn("agent '{}' is UNREACHABLE: {}", agent.id, why);
  if (agent.sink) agent.sink->close();
  agent.sink.reset();
  agent.streamId.clear();
  agent.state = AgentState::kUnreachable;
  agent.unreachableAt = clock_.now();
  if (auto r = registry_->putAgent(agent); !r) logger().error("persisting agent: {}", r.error().message);
  allocator_.deactivateAgent(agent.id);
  rescindAgentOffers(agent.id);
  for (const auto& key : agent.taskKeys) {
    TaskRecord& t = tasks_.at(key);
    auto fw = frameworks_.find(t.frameworkId);
    std::string state = fw != frameworks_.end() && fw->second.partitionAware() ? "TASK_UNREACHABLE" : "TASK_LOST";
    Json st = masterStatus(t, state, "REASON_AGENT_UNREACHABLE", "Agent " + agent.id + " is unreachable");
    // Not terminal for the task record: it comes back to RUNNING if the agent does.
    bool changed = t.state != "TASK_UNREACHABLE";
    t.setStatus(st);
    t.state = "TASK_UNREACHABLE";
    persistTaskSoon(t);
    if (changed) publishTaskUpdated(t);
    sendUpdateToFramework(t.frameworkId, st);
  }
  for (auto& [fid, fw] : frameworks_) {
    sendToFramework(fw, {{"type", "FAILURE"}, {"failure", {{"agent_id", idJson(agent.id)}}}});
  }
  // Mesos removes an unreachable agent from its registered agents and says so with
  // AGENT_REMOVED; if it comes back, AGENT_ADDED follows its reregistration.
  publishAgentRemoved(agent.id);
}

void Master::markGone(AgentRecord& agent) {
  logger().warn("agent '{}' is GONE after {}s unreachable", agent.id,
                std::chrono::duration<double>(options_.agentRemovalTimeout).count());
  std::vector<std::string> keys(agent.taskKeys.begin(), agent.taskKeys.end());
  for (const auto& key : keys) {
    TaskRecord& t = tasks_.at(key);
    applyStatus(t, masterStatus(t, "TASK_GONE", "REASON_AGENT_REMOVED", "Agent " + agent.id + " was removed"));
    if (tasks_.count(key)) finishTask(tasks_.at(key));
  }
  // An unreachable agent was already reported removed (see markUnreachable).
  bool listed = agent.state != AgentState::kUnreachable;
  agent.state = AgentState::kGone;
  if (auto r = registry_->putAgent(agent); !r) logger().error("persisting agent: {}", r.error().message);
  allocator_.removeAgent(agent.id);
  std::string id = agent.id;
  goneAgents_.insert(id);
  agents_.erase(id);
  if (listed) publishAgentRemoved(id);
}

}  // namespace dcos::kernel
