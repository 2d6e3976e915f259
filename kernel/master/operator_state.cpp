// The state answers of the v1 operator API (Response.GetState and its parts) in the shapes of
// include/mesos/v1/master/master.proto. Which list an agent or task is in follows Mesos:
//  - GET_AGENTS.agents: agents registered with this master, connected (active) or not;
//    recovered_agents: agents loaded from the registry that have not reregistered yet.
//    UNREACHABLE and GONE agents are in neither (AGENT_REMOVED told subscribers so).
//  - GET_TASKS.tasks: tasks on their way or running, and terminal ones whose update is not yet
//    acknowledged; unreachable_tasks: tasks on UNREACHABLE agents; completed_tasks: the most
//    recent acknowledged terminal tasks.
//  - GET_FRAMEWORKS.frameworks: subscribed, disconnected and recovered frameworks;
//    completed_frameworks: the most recently removed ones.
#include "kernel/master/master.hpp"

#include "common/version.hpp"
#include "kernel/master/protocol.hpp"

namespace dcos::kernel {

Json Master::getState() const {
  return {{"get_tasks", getTasks()},
          {"get_executors", {{"executors", Json::array()}}},
          {"get_frameworks", getFrameworks()},
          {"get_agents", getAgents()}};
}

Resources Master::offeredOn(const std::string& agentId) const {
  Resources offered;
  for (const auto& [id, o] : offers_) {
    if (o.agentId == agentId) offered += o.resources;
  }
  return offered;
}

Json Master::v1Agent(const AgentRecord& a, const Resources& offered) const {
  Resources allocated;
  for (const auto& key : a.taskKeys) {
    if (auto t = tasks_.find(key); t != tasks_.end() && !isTerminalState(t->second.state)) allocated += t->second.resources;
  }
  // Agents run the same binary as the master; there is no libprocess, so the pid is the one a
  // Mesos agent at this address would report.
  Json j = {{"agent_info", a.info},
            {"active", a.state == AgentState::kActive},
            {"version", version::version()},
            {"pid", "slave(1)@" + a.hostname() + ":" + std::to_string(a.info.value("port", 5051))},
            {"registered_time", timeInfo(a.registeredAt)},
            {"total_resources", a.total.toJson()},
            {"allocated_resources", allocated.toJson()},
            {"offered_resources", offered.toJson()},
            {"capabilities", Json::array()}};
  if (a.reregisteredAt) j["reregistered_time"] = timeInfo(*a.reregisteredAt);
  return j;
}

Json Master::getAgents() const {
  std::map<std::string, Resources> offered;
  for (const auto& [id, o] : offers_) offered[o.agentId] += o.resources;
  Json agents = Json::array();
  Json recovered = Json::array();
  for (const auto& [id, a] : agents_) {
    if (a.state == AgentState::kUnreachable || a.state == AgentState::kGone) continue;
    if (a.recovered) {
      recovered.push_back(a.info);
    } else {
      agents.push_back(v1Agent(a, offered[id]));
    }
  }
  return {{"agents", agents}, {"recovered_agents", recovered}};
}

Json Master::v1Framework(const FrameworkRecord& fw) const {
  Resources allocated;
  for (const auto& key : fw.taskKeys) {
    if (auto t = tasks_.find(key); t != tasks_.end() && !isTerminalState(t->second.state)) allocated += t->second.resources;
  }
  Resources offered;
  Json offers = Json::array();
  for (const auto& oid : fw.offerIds) {
    auto o = offers_.find(oid);
    if (o == offers_.end()) continue;
    offered += o->second.resources;
    auto agent = agents_.find(o->second.agentId);
    if (agent != agents_.end()) offers.push_back(offerJson(o->second, agent->second));
  }
  Json j = {{"framework_info", fw.info},
            {"active", fw.active},
            {"connected", fw.active},
            {"recovered", fw.recovered},
            {"registered_time", timeInfo(fw.registeredAt)},
            {"offers", offers},
            {"inverse_offers", Json::array()},
            {"allocated_resources", allocated.toJson()},
            {"offered_resources", offered.toJson()}};
  if (fw.reregisteredAt) j["reregistered_time"] = timeInfo(*fw.reregisteredAt);
  if (!fw.active) j["unregistered_time"] = timeInfo(fw.disconnectedAt);
  return j;
}

Json Master::getFrameworks() const {
  Json frameworks = Json::array();
  for (const auto& [id, fw] : frameworks_) frameworks.push_back(v1Framework(fw));
  Json completed = Json::array();
  for (const auto& fw : completedFrameworks_) completed.push_back(v1Framework(fw));
  return {{"frameworks", frameworks}, {"completed_frameworks", completed}};
}

Json Master::getTasks() const {
  Json tasks = Json::array();
  Json unreachable = Json::array();
  for (const auto& [key, t] : tasks_) (t.state == "TASK_UNREACHABLE" ? unreachable : tasks).push_back(v1Task(t));
  Json completed = Json::array();
  for (const auto& t : completedTasks_) completed.push_back(v1Task(t));
  // Tasks are validated and sent to their agent in the same turn: none is ever pending.
  return {{"pending_tasks", Json::array()},
          {"tasks", tasks},
          {"unreachable_tasks", unreachable},
          {"completed_tasks", completed}};
}

// Roles that frameworks subscribed with or that hold resources (offered or in use), as Mesos
// lists them; `resources` is what is offered to or used in the role.
Json Master::getRoles() const {
  std::map<std::string, Json> frameworksByRole;
  for (const auto& [id, fw] : frameworks_) {
    for (const auto& role : fw.roles) {
      auto& list = frameworksByRole[role];
      if (list.is_null()) list = Json::array();
      list.push_back(idJson(id));
    }
  }
  // Roles with a configured weight are listed even before anyone uses them, as Mesos does.
  for (const auto& [role, weight] : options_.weights) {
    if (!frameworksByRole.count(role)) frameworksByRole[role] = Json::array();
  }
  auto allocated = allocator_.allocatedByRole();
  for (const auto& [role, r] : allocated) {
    if (!frameworksByRole.count(role)) frameworksByRole[role] = Json::array();
  }
  Json roles = Json::array();
  for (const auto& [role, frameworks] : frameworksByRole) {
    auto a = allocated.find(role);
    roles.push_back({{"name", role},
                     {"weight", allocator_.weight(role)},
                     {"frameworks", frameworks},
                     {"resources", a == allocated.end() ? Json::array() : a->second.toJson()}});
  }
  return {{"roles", roles}};
}

}  // namespace dcos::kernel
