// ACCEPT: validating LAUNCH and LAUNCH_GROUP operations against the offers they use, and handing
// valid tasks to their agent. A bad task never crashes anything or leaks resources: it gets a
// TASK_ERROR (bad task) or TASK_DROPPED (bad offers) with a reason, and whatever the accept did
// not use goes back to the allocator.
#include "kernel/master/master.hpp"

#include "common/log.hpp"
#include "kernel/master/protocol.hpp"

#include <cmath>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("master"); }

constexpr size_t kMaxOperations = 10000;

// What makes a task invalid on its own, before looking at resources. "" when fine.
std::string taskProblem(const Json& task) {
  if (!task.is_object()) return "task must be an object";
  if (!task.contains("name") || !task["name"].is_string()) return "task name must be a string";
  bool hasCommand = task.contains("command") && task["command"].is_object();
  bool hasExecutor = task.contains("executor") && task["executor"].is_object();
  if (hasCommand == hasExecutor) return "a task needs exactly one of command or executor";
  if (hasCommand) {
    const Json& c = task["command"];
    bool shell = c.value("shell", true);
    if (c.contains("value") && !c["value"].is_string()) return "command.value must be a string";
    if (shell && (!c.contains("value") || c["value"].get<std::string>().empty())) {
      return "a shell command needs a value";
    }
    if (c.contains("arguments") && !c["arguments"].is_array()) return "command.arguments must be an array";
  }
  return "";
}

}  // namespace

void Master::accept(FrameworkRecord& fw, const Json& accept) {
  // Gather the offers; they must be this framework's and all on one agent.
  const Json offerIds = accept.value("offer_ids", Json::array());
  std::string invalidReason;
  std::string agentId;
  Resources offered;
  std::string role;
  std::vector<std::string> used;
  for (const auto& oid : offerIds) {
    std::string id = oid.is_object() ? oid.value("value", "") : "";
    auto it = offers_.find(id);
    if (it == offers_.end() || it->second.frameworkId != fw.id) {
      invalidReason = "Offer '" + id + "' is no longer valid (already used, declined, rescinded or unknown)";
      continue;
    }
    if (!agentId.empty() && it->second.agentId != agentId) invalidReason = "Offers span more than one agent";
    agentId = it->second.agentId;
    role = it->second.role;
    offered += it->second.resources;
    used.push_back(id);
  }
  if (offerIds.empty()) invalidReason = "ACCEPT names no offers";
  // The offers are consumed either way: an accept ends them.
  for (const auto& id : used) removeOffer(id);

  // Collect tasks from LAUNCH and LAUNCH_GROUP operations.
  struct Launch {
    Json task;
    Json group;  // non-null for LAUNCH_GROUP members: the operation's executor
  };
  std::vector<Launch> launches;
  const Json ops = accept.value("operations", Json::array());
  for (size_t i = 0; i < ops.size() && i < kMaxOperations; ++i) {
    const Json& op = ops[i];
    std::string type = op.is_object() ? op.value("type", "") : "";
    if (type == "LAUNCH" && op.contains("launch")) {
      for (const auto& t : op["launch"].value("task_infos", Json::array())) launches.push_back({t, Json()});
    } else if (type == "LAUNCH_GROUP" && op.contains("launch_group")) {
      const Json& lg = op["launch_group"];
      Json executor = lg.value("executor", Json::object());
      for (const auto& t : lg.value("task_group", Json::object()).value("tasks", Json::array())) {
        launches.push_back({t, executor});
      }
    } else {
      logger().warn("framework '{}' sent an unsupported {} operation; it is ignored", fw.id, type.empty() ? "untyped" : type);
    }
  }

  auto agentIt = agents_.find(agentId);
  if (invalidReason.empty() && (agentIt == agents_.end() || agentIt->second.state != AgentState::kActive)) {
    invalidReason = "Agent '" + agentId + "' is not active";
  }
  Resources remaining = offered;
  std::set<std::string> seen;
  for (auto& l : launches) {
    TaskRecord probe;
    probe.frameworkId = fw.id;
    probe.taskId = idValue(l.task, "task_id");
    probe.agentId = agentId;
    if (!invalidReason.empty()) {
      sendUpdateToFramework(fw.id, masterStatus(probe, fw.partitionAware() ? "TASK_DROPPED" : "TASK_LOST",
                                                "REASON_INVALID_OFFERS", invalidReason));
      continue;
    }
    std::string problem;
    if (auto v = validateClientId(probe.taskId, "/task_id"); !v) problem = "Invalid task id: " + v.error().message;
    if (problem.empty()) problem = taskProblem(l.task);
    if (problem.empty() && (tasks_.count(probe.key()) || seen.count(probe.taskId))) {
      problem = "Task id '" + probe.taskId + "' is already in use";
    }
    if (problem.empty() && !idValue(l.task, "agent_id").empty() && idValue(l.task, "agent_id") != agentId) {
      problem = "Task's agent_id does not match the offer's agent";
    }
    Resources taskResources;
    if (problem.empty()) {
      auto r = Resources::fromJson(l.task.value("resources", Json::array()), "/resources");
      if (!r) {
        problem = r.error().message;
      } else if (r->empty()) {
        problem = "Task uses no resources";
      } else {
        // Frameworks may echo resources with or without allocation_info; match them to the offer's role.
        taskResources = r->unallocated().allocate(role);
        if (!remaining.contains(taskResources)) {
          problem = "Task uses more resources (" + taskResources.toString() + ") than remain in the offer (" +
                    remaining.toString() + ")";
        }
      }
    }
    if (!problem.empty()) {
      sendUpdateToFramework(fw.id, masterStatus(probe, "TASK_ERROR", "REASON_TASK_INVALID", problem));
      continue;
    }
    remaining -= taskResources;
    seen.insert(probe.taskId);
    Json task = l.task;
    task["agent_id"] = idJson(agentId);
    task["resources"] = taskResources.toJson();
    if (!l.group.is_null()) task["executor"] = l.group;
    launchTask(fw, agentIt->second, role, std::move(task));
  }
  if (!agentId.empty() && !remaining.empty()) allocator_.recoverResources(fw.id, agentId, remaining, refuseFilter(accept));
  requestAllocation();
}

void Master::launchTask(FrameworkRecord& fw, AgentRecord& agent, const std::string& role, Json task) {
  TaskRecord t;
  t.frameworkId = fw.id;
  t.taskId = idValue(task, "task_id");
  t.agentId = agent.id;
  t.role = role;
  t.resources = Resources::fromJson(task["resources"]).value();
  t.task = std::move(task);
  t.state = "TASK_STAGING";
  // Persist before the agent hears of it: after a crash the master knows every task an agent
  // may be running, so a reregistration never leads to a second launch.
  if (auto r = registry_->putTask(t); !r) {
    logger().error("cannot persist task '{}': {}", t.key(), r.error().message);
    allocator_.recoverResources(fw.id, agent.id, t.resources);
    sendUpdateToFramework(fw.id, masterStatus(t, "TASK_ERROR", "REASON_TASK_INVALID",
                                              "Master could not persist the task: " + r.error().message));
    return;
  }
  fw.taskKeys.insert(t.key());
  agent.taskKeys.insert(t.key());
  logger().info("launching task '{}' of framework '{}' on agent '{}'", t.taskId, fw.id, agent.id);
  sendToAgent(agent, {{"type", "RUN_TASK"},
                      {"run_task", {{"framework_id", idJson(fw.id)}, {"framework_info", fw.info}, {"task", t.task}}}});
  publishTaskAdded(tasks_.emplace(t.key(), std::move(t)).first->second);
}

void Master::killTask(TaskRecord& task, const Json& killPolicy) {
  auto agent = agents_.find(task.agentId);
  if (agent == agents_.end() || agent->second.state == AgentState::kGone) {
    Json st = masterStatus(task, "TASK_KILLED", "", "Killed while its agent was gone");
    applyStatus(task, st);
    return;
  }
  task.killRequested = true;
  Json k = {{"framework_id", idJson(task.frameworkId)}, {"task_id", idJson(task.taskId)}};
  if (!killPolicy.is_null()) k["kill_policy"] = killPolicy;
  // An unreachable agent gets the kill when it comes back (see reconcileAgentTasks).
  sendToAgent(agent->second, {{"type", "KILL_TASK"}, {"kill_task", k}});
}

}  // namespace dcos::kernel
