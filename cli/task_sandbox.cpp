// Finding tasks and their sandboxes for the `dcos task` commands (see tasks.hpp).
#include "cli/tasks.hpp"

#include "common/http/client.hpp"
#include "common/http/http.hpp"

#include <fnmatch.h>

#include <cctype>
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

// The agent's /state straight from the agent (hostname:port as the master knows it).
Result<Json> agentStateDirect(Context& ctx, const TaskRef& ref) {
  auto cluster = ctx.cluster();
  if (!cluster) return cluster.error();
  http::ClientRequest request;
  request.url = "http://" + ref.agentHostname + ":" + std::to_string(ref.agentPort) + "/state";
  request.timeout = std::chrono::seconds(3);
  if (!cluster->token.empty()) request.headers["Authorization"] = "token=" + cluster->token;
  auto reply = http::fetch(request);
  if (!reply) return reply.error();
  if (reply->status != 200) return serverError(reply->status, reply->body);
  return parseJson(reply->body);
}

// Agent ids and task ids become path components as the agent escapes them (kernel/agent/paths).
std::string pathComponent(const std::string& id) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : id) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (out.empty()) out = "%";
  if (out == ".") out = "%2E";
  if (out == "..") out = "%2E%2E";
  if (out.size() > 200) out.resize(200);
  return out;
}

// `dcos dev` keeps its agent under <master work_dir>/agent and serves no agent /state; the run
// directory is the task's container id.
Result<std::string> devSandbox(Context& ctx, const TaskRef& ref) {
  std::string containerId;
  for (const auto& s : ref.task.value("statuses", Json::array())) {
    auto id = s.value("/container_status/container_id/value"_json_pointer, std::string());
    if (!id.empty()) containerId = id;
  }
  if (containerId.empty()) return Error(ErrorCode::kNotFound, "the task has no container yet");
  auto flags = ctx.send("POST", "/api/v1", Json{{"type", "GET_FLAGS"}});
  if (!flags) return flags.error();
  std::string workDir;
  for (const auto& f : flags->value("/get_flags/flags"_json_pointer, Json::array())) {
    if (str(f, "name") == "work_dir") workDir = str(f, "value");
  }
  if (workDir.empty()) return Error(ErrorCode::kNotFound, "the master does not tell its work_dir");
  std::string path = workDir + "/agent/sandboxes/" + pathComponent(ref.frameworkId) + "/" +
                     pathComponent(str(ref.task, "id")) + "/" + pathComponent(containerId);
  auto browsed = ctx.get(filesTarget(ref.agentId, "browse", path));
  if (!browsed) return browsed.error();
  return path;
}

}  // namespace

std::string filesTarget(const std::string& agentId, const std::string& op, const std::string& path) {
  return "/agent/" + http::percentEncode(agentId) + "/files/" + op + "?path=" + http::percentEncode(path);
}

Result<std::vector<TaskRef>> clusterTasks(Context& ctx, bool all) {
  auto state = ctx.get("/master/state");
  if (!state) return state.error();
  std::map<std::string, std::pair<std::string, int>> agents;  // id -> hostname, port
  for (const auto& a : state->value("slaves", Json::array())) {
    agents[str(a, "id")] = {str(a, "hostname"), a.value("port", 0)};
  }
  std::map<std::string, std::string> users;  // framework id -> user
  for (const auto& f : state->value("frameworks", Json::array())) users[str(f, "id")] = str(f, "user");
  std::vector<TaskRef> out;
  auto add = [&](const Json& t, bool completed) {
    TaskRef ref{t, str(t, "agent_id"), "", str(t, "framework_id"), "", 0, completed};
    if (ref.agentId.empty()) ref.agentId = str(t, "slave_id");
    if (auto a = agents.find(ref.agentId); a != agents.end()) std::tie(ref.agentHostname, ref.agentPort) = a->second;
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
  std::string taskId = str(ref.task, "id");
  // Through the master, when it forwards the agent's /state as it forwards its files.
  if (auto state = ctx.get("/agent/" + http::percentEncode(ref.agentId) + "/state"); state) {
    if (std::string dir = sandboxInAgentState(*state, taskId); !dir.empty()) return dir;
  } else if (exitCodeFor(state.error()) == kExitUnreachable) {
    return state.error();
  }
  auto cluster = ctx.cluster();
  if (!cluster) return cluster.error();
  bool sharesMasterPort = cluster->url.size() > std::to_string(ref.agentPort).size() &&
                          cluster->url.substr(cluster->url.rfind(':') + 1) == std::to_string(ref.agentPort);
  if (!ref.agentHostname.empty() && ref.agentPort > 0 && !sharesMasterPort) {
    if (auto state = agentStateDirect(ctx, ref); state) {
      if (std::string dir = sandboxInAgentState(*state, taskId); !dir.empty()) return dir;
    }
  }
  auto dev = devSandbox(ctx, ref);
  if (dev) return dev;
  return Error(ErrorCode::kNotFound, "cannot find the sandbox of task '" + taskId + "' on agent '" + ref.agentId +
                                         "' (" + dev.error().message + ")");
}

}  // namespace dcos::cli
