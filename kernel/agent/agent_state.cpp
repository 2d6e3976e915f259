// What the agent tells about itself over HTTP: GET /health, a Mesos-like GET /state,
// GET /monitor/statistics and the v1 operator calls on POST /api/v1.
#include "kernel/agent/agent.hpp"

#include "common/version.hpp"
#include "kernel/agent/sandbox_files.hpp"
#include "kernel/master/http_support.hpp"  // parseCall: the v1 API's call checks
#include "kernel/master/protocol.hpp"  // resourcesObject, attributesObject: the classic state shapes

#include <set>

namespace dcos::kernel {
namespace {

Json taskJson(const Json& task, const std::string& frameworkId, const std::string& state, const std::string& sandbox,
              int pid, const Json& status) {
  Json out = {{"id", task.value("/task_id/value"_json_pointer, std::string())},
              {"name", task.value("name", "")},
              {"framework_id", frameworkId},
              {"executor_id", task.value("/task_id/value"_json_pointer, std::string())},
              {"state", state},
              {"sandbox", sandbox}};
  auto resources = Resources::fromJson(task.value("resources", Json::array()));
  out["resources"] = resourcesObject(resources ? *resources : Resources());
  if (pid > 0) out["pid"] = pid;
  if (!status.is_null()) out["statuses"] = Json::array({status});
  return out;
}

}  // namespace

Json Agent::healthJson() const {
  return {{"healthy", true},
          {"role", "agent"},
          {"agent_id", agentId_.empty() ? Json() : Json(agentId_)},
          {"registered", registered_}};
}

Json Agent::stateJson() const {
  std::map<std::string, Json> frameworks;
  for (const auto& [key, t] : tasks_) {
    Json& fw = frameworks[t.frameworkId];
    if (fw.is_null()) {
      fw = {{"id", t.frameworkId},
            {"name", t.frameworkInfo.is_object() ? t.frameworkInfo.value("name", "") : ""},
            {"tasks", Json::array()},
            {"executors", Json::array()}};
    }
    fw["tasks"].push_back(taskJson(t.task, t.frameworkId, t.state, t.sandbox, t.pid, t.status));
    // Mesos tools find a task's sandbox as its executor's directory; a command task is its own executor.
    fw["executors"].push_back({{"id", t.taskId}, {"framework_id", t.frameworkId}, {"container", t.containerId},
                               {"directory", t.sandbox}});
  }
  Json frameworkList = Json::array();
  for (auto& [id, fw] : frameworks) frameworkList.push_back(std::move(fw));

  Json reserved = Json::object();
  std::set<std::string> roles;
  for (const auto& r : options_.resources.items()) {
    if (r.reserved()) roles.insert(r.role);
  }
  for (const auto& role : roles) reserved[role] = resourcesObject(options_.resources.reservedFor(role));

  // What a task gets: its own process group, cgroups when the launcher found them usable.
  Json isolation = launcher_->isolation();
  isolation["process_group"] = true;
  if (!isolation.contains("pid_namespace")) isolation["pid_namespace"] = false;
  isolation["cgroups"] = isolation.contains("cgroups_version");
  return {{"id", agentId_},
          {"hostname", options_.hostname},
          {"port", port_},
          {"version", version::version()},
          {"start_time", toEpochSeconds(startedAt_)},
          {"master", options_.master},
          {"registered", registered_},
          {"resources", resourcesObject(options_.resources)},
          {"unreserved_resources", resourcesObject(options_.resources.unreserved())},
          {"reserved_resources", reserved},
          {"resources_full", options_.resources.toJson()},
          {"attributes", attributesObject(options_.attributes)},
          {"isolation", isolation},
          {"frameworks", frameworkList},
          {"completed_tasks", Json(completedTasks_)},
          {"pending_status_updates", updates_.size()}};
}

// Mesos' GET /monitor/statistics: the resource usage of every running task's container.
Json Agent::monitorStatistics() const {
  Json out = Json::array();
  for (const auto& [key, t] : tasks_) {
    if (!t.launched || t.terminal) continue;
    Json stats = launcher_->statistics(t.containerId);
    if (stats.is_null()) continue;
    out.push_back({{"executor_id", t.taskId},
                   {"executor_name", "Command Executor (Task: " + t.taskId + ")"},
                   {"framework_id", t.frameworkId},
                   {"source", t.taskId},
                   {"container_id", t.containerId},
                   {"statistics", stats}});
  }
  return out;
}

// The agent's part of the Mesos v1 operator API: GET_HEALTH, GET_STATE and GET_CONTAINERS.
http::Response Agent::operatorCall(const http::Request& req) const {
  auto call = parseCall(req);
  if (!call) return http::Response::error(call.error());
  std::string type = (*call)["type"];
  if (type == "GET_HEALTH") return http::Response::json(200, {{"type", type}, {"get_health", {{"healthy", true}}}});
  if (type == "GET_STATE") return http::Response::json(200, {{"type", type}, {"get_state", stateJson()}});
  if (type == "GET_CONTAINERS") {
    Json containers = Json::array();
    for (const auto& c : monitorStatistics()) {
      containers.push_back({{"framework_id", idJson(c["framework_id"].get<std::string>())},
                            {"executor_id", idJson(c["executor_id"].get<std::string>())},
                            {"executor_name", c["executor_name"]},
                            {"container_id", idJson(c["container_id"].get<std::string>())},
                            {"resource_statistics", c["statistics"]}});
    }
    return http::Response::json(200, {{"type", type}, {"get_containers", {{"containers", containers}}}});
  }
  return http::Response::error(400, "Unsupported agent call type '" + type + "' (GET_HEALTH, GET_STATE, GET_CONTAINERS)",
                               {{"/type", {"unsupported"}}});
}

void Agent::registerRoutes(http::Router& router) {
  router.route("POST", "/api/v1", [this](const http::Request& req) { return operatorCall(req); });
  router.route("GET", "/health", [this](const http::Request&) { return http::Response::json(200, healthJson()); });
  registerStateRoutes(router);
  registerFileRoutes(router);
  registerExecutorRoutes(router);
}

void Agent::registerStateRoutes(http::Router& router) {
  router.route("GET", "/state", [this](const http::Request&) { return http::Response::json(200, stateJson()); });
  router.route("GET", "/monitor/statistics",
               [this](const http::Request&) { return http::Response::json(200, monitorStatistics()); });
}

void Agent::registerExecutorRoutes(http::Router& router) {
  router.routeAsync("POST", "/api/v1/executor",
                    [this](http::Request& req, http::Responder responder) { executorCall(req, std::move(responder)); });
}

void Agent::registerFileRoutes(http::Router& router) {
  registerSandboxFileRoutes(router, loop_, options_.workDir + "/sandboxes");
}

}  // namespace dcos::kernel
