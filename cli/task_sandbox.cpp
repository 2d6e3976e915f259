// Finding tasks and their sandboxes for the `dcos task` commands (see tasks.hpp).
#include "cli/tasks.hpp"

#include "common/http/http.hpp"

#include <fnmatch.h>

#include <map>

namespace dcos::cli {
namespace {

std::string str(const Json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Where a task's sandbox is in an agent's /state: its executor's directory (Mesos tools' way),
// else the task's own `sandbox`.
std::string sandboxInAgentState(const Json& state, const std::string& taskId) {
  for (const char* list : {"frameworks", "completed_frameworks"}) {
    for (const auto& f : state.value(list, Json::array())) {
      for (const auto& e : f.value("executors", Json::array())) {
        if (str(e, "id") == taskId && !str(e, "directory").empty()) return str(e, "directory");
      }
      for (const auto& t : f.value("tasks", Json::array())) {
        if (str(t, "id") == taskId && !str(t, "sandbox").empty()) return str(t, "sandbox");
      }
    }
  }
  return "";
}

}  // namespace

std::string filesTarget(const std::string& agentId, const std::string& op, const std::string& path) {
  return "/agent/" + http::percentEncode(agentId) + "/files/" + op + "?path=" + http::percentEncode(path);
}

Result<std::vector<TaskRef>> clusterTasks(Context& ctx, bool all) {
  auto state = ctx.get("/master/state");
  if (!state) return state.error();
  std::map<std::string, std::string> agents;  // id -> hostname
  for (const auto& a : state->value("slaves", Json::array())) agents[str(a, "id")] = str(a, "hostname");
  std::map<std::string, std::string> users;  // framework id -> user
  for (const auto& f : state->value("frameworks", Json::array())) users[str(f, "id")] = str(f, "user");
  std::vector<TaskRef> out;
  auto add = [&](const Json& t, bool completed) {
    TaskRef ref{t, str(t, "agent_id"), "", str(t, "framework_id"), "", completed};
    if (ref.agentId.empty()) ref.agentId = str(t, "slave_id");
    if (auto a = agents.find(ref.agentId); a != agents.end()) ref.agentHostname = a->second;
    if (auto u = users.find(ref.frameworkId); u != users.end()) ref.frameworkUser = u->second;
    out.push_back(std::move(ref));
  };
  for (const auto& f : state->value("frameworks", Json::array())) {
    for (const auto& t : f.value("tasks", Json::array())) add(t, false);
  }
  if (all) {
    for (const auto& t : state->value("completed_tasks", Json::array())) add(t, true);
  }
  return out;
}

bool taskMatches(const Json& task, const std::string& filter) {
  if (filter.empty()) return true;
  bool glob = filter.find_first_of("*?[") != std::string::npos;
  for (const char* field : {"id", "name"}) {
    std::string value = str(task, field);
    if (glob ? ::fnmatch(filter.c_str(), value.c_str(), 0) == 0 : value.find(filter) != std::string::npos) return true;
  }
  return false;
}

Result<TaskRef> resolveTask(Context& ctx, const std::string& key) {
  auto tasks = clusterTasks(ctx, true);
  if (!tasks) return tasks.error();
  for (const auto& t : *tasks) {
    if (str(t.task, "id") == key) return t;
  }
  for (bool completed : {false, true}) {
    std::vector<const TaskRef*> matches;
    for (const auto& t : *tasks) {
      if (t.completed == completed && taskMatches(t.task, key)) matches.push_back(&t);
    }
    if (matches.size() == 1) return *matches[0];
    if (matches.size() > 1) {
      std::string ids;
      for (const auto* m : matches) ids += (ids.empty() ? "" : ", ") + str(m->task, "id");
      return Error(ErrorCode::kConflict, "'" + key + "' matches " + std::to_string(matches.size()) +
                                             " tasks; give one of their IDs: " + ids);
    }
  }
  return Error(ErrorCode::kNotFound, "no task matches '" + key + "' (see dcos task list --all)");
}

Result<std::string> taskSandbox(Context& ctx, const TaskRef& ref) {
  // The agent's state, through the master (which forwards it as it forwards the files API).
  std::string taskId = str(ref.task, "id");
  auto state = ctx.get("/agent/" + http::percentEncode(ref.agentId) + "/state");
  if (!state) return state.error();
  if (std::string dir = sandboxInAgentState(*state, taskId); !dir.empty()) return dir;
  return Error(ErrorCode::kNotFound,
               "agent '" + ref.agentId + "' has no sandbox for task '" + taskId + "' (it may have been removed)");
}

}  // namespace dcos::cli
