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

// What makes a LAUNCH_GROUP's executor unusable. "" when fine.
std::string executorProblem(const Json& executor) {
  if (!executor.is_object()) return "the group's executor must be an object";
  if (idValue(executor, "executor_id").empty()) return "the group's executor needs an executor_id";
  std::string type = executor.value("type", "DEFAULT");
  if (type != "DEFAULT") return "a task group needs an executor of type DEFAULT, not " + type;
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

  // Collect the launches: each task of a LAUNCH alone, each LAUNCH_GROUP as one unit that is
  // launched whole or not at all.
  struct Launch {
    std::vector<Json> tasks;
    Json executor;  // LAUNCH_GROUP: the group's executor; null for a LAUNCH task
  };
  std::vector<Launch> launches;
  static const Json kNone = Json::array();
  const Json& ops = accept.contains("operations") ? accept["operations"] : kNone;
  for (size_t i = 0; i < ops.size() && i < kMaxOperations; ++i) {
    const Json& op = ops[i];
    std::string type = op.is_object() ? op.value("type", "") : "";
    if (type == "LAUNCH" && op.contains("launch")) {
      const Json& infos = op["launch"].contains("task_infos") ? op["launch"]["task_infos"] : kNone;
      for (const auto& t : infos) launches.push_back({{t}, Json()});
    } else if (type == "LAUNCH_GROUP" && op.contains("launch_group")) {
      const Json& lg = op["launch_group"];
      Launch group{{}, lg.value("executor", Json::object())};
      for (const auto& t : lg.value("task_group", Json::object()).value("tasks", Json::array())) group.tasks.push_back(t);
      if (!group.tasks.empty()) launches.push_back(std::move(group));
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
  std::vector<PendingLaunch> pending;
  std::vector<Json> groupEvents;
  for (auto& l : launches) {
    bool isGroup = !l.executor.is_null();
    std::vector<TaskRecord> probes(l.tasks.size());
    for (size_t i = 0; i < l.tasks.size(); ++i) {
      probes[i].frameworkId = fw.id;
      probes[i].taskId = idValue(l.tasks[i], "task_id");
      probes[i].agentId = agentId;
    }
    if (!invalidReason.empty()) {
      for (const auto& probe : probes) {
        sendUpdateToFramework(fw.id, masterStatus(probe, fw.partitionAware() ? "TASK_DROPPED" : "TASK_LOST",
                                                  "REASON_INVALID_OFFERS", invalidReason));
      }
      continue;
    }
    std::string groupProblem = isGroup ? executorProblem(l.executor) : "";
    std::vector<std::string> problems(l.tasks.size());
    std::vector<Resources> taskResources(l.tasks.size());
    Resources left = remaining;
    std::set<std::string> ids;
    for (size_t i = 0; i < l.tasks.size(); ++i) {
      const Json& task = l.tasks[i];
      const std::string& id = probes[i].taskId;
      std::string& problem = problems[i];
      if (auto v = validateClientId(id, "/task_id"); !v) problem = "Invalid task id: " + v.error().message;
      if (problem.empty()) problem = taskProblem(task);
      if (problem.empty() && isGroup && task.contains("executor")) problem = "a task of a group must not name an executor";
      if (problem.empty() && (tasks_.count(probes[i].key()) || seen.count(id) || ids.count(id))) {
        problem = "Task id '" + id + "' is already in use";
      }
      if (problem.empty() && !idValue(task, "agent_id").empty() && idValue(task, "agent_id") != agentId) {
        problem = "Task's agent_id does not match the offer's agent";
      }
      if (problem.empty()) {
        auto r = Resources::fromJson(task.value("resources", Json::array()), "/resources");
        if (!r) {
          problem = r.error().message;
        } else if (r->empty()) {
          problem = "Task uses no resources";
        } else {
          // Frameworks may echo resources with or without allocation_info; match them to the offer's role.
          taskResources[i] = r->unallocated().allocate(role);
          if (!left.contains(taskResources[i])) {
            problem = "Task uses more resources (" + taskResources[i].toString() + ") than remain in the offer (" +
                      left.toString() + ")";
          } else {
            left -= taskResources[i];
          }
        }
      }
      ids.insert(id);
      if (!problem.empty() && groupProblem.empty() && isGroup) groupProblem = "task '" + id + "': " + problem;
    }
    if (!groupProblem.empty() || (!isGroup && !problems[0].empty())) {
      for (size_t i = 0; i < l.tasks.size(); ++i) {
        std::string message = !problems[i].empty() ? problems[i] : "The task group is invalid: " + groupProblem;
        sendUpdateToFramework(fw.id, masterStatus(probes[i], "TASK_ERROR", "REASON_TASK_INVALID", message));
      }
      continue;
    }
    remaining = left;
    Json group = Json::array();
    for (size_t i = 0; i < l.tasks.size(); ++i) {
      seen.insert(probes[i].taskId);
      PendingLaunch p;
      p.inGroup = isGroup;
      TaskRecord& t = p.record;
      t.frameworkId = fw.id;
      t.taskId = probes[i].taskId;
      t.agentId = agentId;
      t.role = role;
      t.resources = taskResources[i];
      t.task = std::move(l.tasks[i]);
      t.task["agent_id"] = idJson(agentId);
      t.task["resources"] = taskResources[i].toJson();
      if (isGroup) {
        t.task["executor"] = l.executor;
        group.push_back(t.task);
      }
      t.state = "TASK_STAGING";
      pending.push_back(std::move(p));
    }
    if (isGroup) {
      groupEvents.push_back({{"type", "RUN_TASK_GROUP"},
                             {"run_task_group", {{"framework_id", idJson(fw.id)},
                                                 {"framework_info", fw.info},
                                                 {"executor", l.executor},
                                                 {"task_group", {{"tasks", std::move(group)}}}}}});
    }
  }
  if (!pending.empty()) commitLaunches(fw, agentIt->second, std::move(pending), std::move(groupEvents));
  if (!agentId.empty() && !remaining.empty()) allocator_.recoverResources(fw.id, agentId, remaining, refuseFilter(accept));
  requestAllocation();
}

void Master::commitLaunches(FrameworkRecord& fw, AgentRecord& agent, std::vector<PendingLaunch> launches,
                            std::vector<Json> groupEvents) {
  // Persisted before the agent hears of them: after a crash the master knows every task an agent
  // may be running, so a reregistration never leads to a second launch.
  std::vector<const TaskRecord*> records;
  for (const auto& l : launches) records.push_back(&l.record);
  if (auto r = registry_->putTasks(records); !r) {
    logger().error("cannot persist {} task(s) of framework '{}': {}", launches.size(), fw.id, r.error().message);
    for (const auto& l : launches) {
      allocator_.recoverResources(fw.id, agent.id, l.record.resources);
      sendUpdateToFramework(fw.id, masterStatus(l.record, "TASK_ERROR", "REASON_TASK_INVALID",
                                                "Master could not persist the task: " + r.error().message));
    }
    return;
  }
  for (auto& l : launches) {
    TaskRecord& t = l.record;
    std::string key = t.key();
    removedTasks_.erase({t.frameworkId, t.taskId});  // an id used again after its task ended
    fw.taskKeys.insert(key);
    agent.taskKeys.insert(key);
    if (!l.inGroup) {
      logger().info("launching task '{}' of framework '{}' on agent '{}'", t.taskId, fw.id, agent.id);
      sendToAgent(agent, {{"type", "RUN_TASK"},
                          {"run_task", {{"framework_id", idJson(fw.id)}, {"framework_info", fw.info}, {"task", t.task}}}});
    }
    publishTaskAdded(tasks_.insert_or_assign(key, std::move(t)).first->second);
  }
  for (auto& event : groupEvents) {
    logger().info("launching a group of {} task(s) of framework '{}' on agent '{}'",
                  event["run_task_group"]["task_group"]["tasks"].size(), fw.id, agent.id);
    sendToAgent(agent, event);
  }
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
