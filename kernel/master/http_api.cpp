// HTTP endpoints of the master: the Mesos v1 scheduler API (/api/v1/scheduler), the agents'
// channel (/api/v1/agents), and the classic state endpoints. The operator API (/api/v1) is in
// operator_api.cpp.
#include "kernel/master/master.hpp"

#include "common/http/http.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "kernel/master/http_support.hpp"
#include "kernel/master/join_token.hpp"
#include "kernel/master/protocol.hpp"

namespace dcos::kernel {

void Master::registerRoutes(http::Router& router) {
  registerOperatorRoutes(router);
  registerAgentFilesRoutes(router);
  router.routeAsync("POST", "/api/v1/scheduler", [this](http::Request& req, http::Responder responder) {
    auto call = parseCall(req);
    if (!call) return responder.send(http::Response::error(call.error()));
    if ((*call)["type"] == "SUBSCRIBE") {
      auto sink = std::make_shared<StreamSink>();
      auto sub = subscribeFramework(*call, sink);
      if (!sub) return responder.send(http::Response::error(sub.error()));
      auto stream = responder.stream(200, streamHeaders(req, sub->streamId));
      sink->attach(stream);
      stream->onClose([this, s = *sub] { frameworkDisconnected(s.frameworkId, s.streamId); });
      return;
    }
    std::string streamId = req.header("Mesos-Stream-Id");
    if (streamId.empty()) {
      return responder.send(http::Response::error(400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
                                                  {{"Mesos-Stream-Id", {"missing"}}}));
    }
    auto r = frameworkCall(*call, streamId);
    responder.send(r ? accepted() : http::Response::error(r.error()));
  });

  // Only agents need the join token: every agent call carries it, checked before the call is parsed.
  auto tokenCheck = std::make_shared<JoinTokenCheck>(options_.joinToken, clock_);
  router.routeAsync("POST", "/api/v1/agents", [this, tokenCheck](http::Request& req, http::Responder responder) {
    if (auto refused = tokenCheck->refusal(req)) return responder.send(std::move(*refused));
    auto call = parseCall(req);
    if (!call) return responder.send(http::Response::error(call.error()));
    if ((*call)["type"] == "SUBSCRIBE") {
      auto sink = std::make_shared<StreamSink>();
      auto sub = subscribeAgent(*call, sink);
      if (!sub) return responder.send(http::Response::error(sub.error()));
      if (auto it = agents_.find(sub->agentId); it != agents_.end()) it->second.address = req.remoteAddress;
      auto stream = responder.stream(200, streamHeaders(req, sub->streamId));
      sink->attach(stream);
      stream->onClose([this, s = *sub] { agentDisconnected(s.agentId, s.streamId); });
      return;
    }
    std::string streamId = req.header("Mesos-Stream-Id");
    if (streamId.empty()) {
      return responder.send(http::Response::error(400, "Agent calls need the 'Mesos-Stream-Id' header",
                                                  {{"Mesos-Stream-Id", {"missing"}}}));
    }
    auto r = agentCall(*call, streamId);
    responder.send(r ? accepted() : http::Response::error(r.error()));
  });

  router.route("GET", "/master/state", [this](const http::Request&) { return http::Response::json(200, stateJson()); });
  router.route("GET", "/master/state-summary",
               [this](const http::Request&) { return http::Response::json(200, stateSummaryJson()); });
  router.route("GET", "/health", [this](const http::Request&) {
    double uptime = std::chrono::duration<double>(clock_.now() - startedAt_).count();
    return http::Response::json(200, {{"healthy", true},
                                      {"role", "master"},
                                      {"master_id", masterId_},
                                      {"cluster_id", clusterId()},
                                      {"uptime_seconds", uptime}});
  });
  router.route("GET", "/version", [](const http::Request&) {
    Json libs = Json::object();
    for (const auto& [name, v] : version::libraries()) libs[name] = v;
    // Mesos' /version fields, plus the libraries linked in.
    return http::Response::json(200, {{"version", version::version()},
                                      {"git_sha", version::gitCommit()},
                                      {"build_date", version::buildDate()},
                                      {"libraries", libs}});
  });
}

Json Master::stateJson() const {
  std::map<std::string, Resources> usedByAgent;
  std::map<std::string, std::vector<Json>> tasksByFramework;
  for (const auto& [key, t] : tasks_) {
    usedByAgent[t.agentId] += t.resources;
    tasksByFramework[t.frameworkId].push_back(taskStateJson(t));
  }
  Json slaves = Json::array();
  for (const auto& [id, a] : agents_) slaves.push_back(agentStateJson(a, usedByAgent[id]));
  Json frameworks = Json::array();
  for (const auto& [id, f] : frameworks_) frameworks.push_back(frameworkStateJson(f, tasksByFramework[id]));
  Json completed = Json::array();
  for (const auto& t : completedTasks_) completed.push_back(taskStateJson(t));
  return {{"version", version::version()},
          {"git_sha", version::gitCommit()},
          {"id", masterId_},
          {"cluster", clusterId()},
          {"hostname", options_.hostname},
          {"start_time", toEpochSeconds(startedAt_)},
          {"activated_slaves", std::count_if(agents_.begin(), agents_.end(),
                                             [](const auto& a) { return a.second.state == AgentState::kActive; })},
          {"slaves", slaves},
          {"frameworks", frameworks},
          {"completed_tasks", completed},
          {"leader_info", masterInfo()}};
}

Json Master::stateSummaryJson() const {
  Json s = stateJson();
  for (auto& f : s["frameworks"]) {
    f["task_count"] = f["tasks"].size();
    f.erase("tasks");
  }
  s.erase("completed_tasks");
  return s;
}

}  // namespace dcos::kernel
