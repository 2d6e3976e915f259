// HTTP endpoints of the master: the Mesos v1 scheduler API (/api/v1/scheduler), the agents'
// channel (/api/v1/agents), and the classic state endpoints.
#include "kernel/master/master.hpp"

#include "common/http/http.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "kernel/master/protocol.hpp"

namespace dcos::kernel {
namespace {

// Events for one subscriber, framed as RecordIO on a chunked HTTP response. Events sent before
// the response exists (SUBSCRIBED is produced while the subscription is validated) are kept and
// written as soon as it does.
class StreamSink : public EventSink {
 public:
  bool send(const Json& event) override {
    std::string frame = http::recordIoFrame(event.dump(-1, ' ', false, Json::error_handler_t::replace));
    if (!stream_) {
      pending_.push_back(std::move(frame));
      return true;
    }
    return stream_->write(std::move(frame));
  }
  void close() override {
    closed_ = true;
    if (stream_) stream_->close();
  }
  void attach(std::shared_ptr<http::ResponseStream> stream) {
    stream_ = std::move(stream);
    for (auto& f : pending_) stream_->write(std::move(f));
    pending_.clear();
    if (closed_) stream_->close();
  }

 private:
  std::shared_ptr<http::ResponseStream> stream_;
  std::vector<std::string> pending_;
  bool closed_ = false;
};

// Mesos answers in JSON when asked for JSON; RecordIO framing either way.
http::Headers streamHeaders(const http::Request& req, const std::string& streamId) {
  http::Headers h;
  bool recordio = req.header("Accept").find("application/recordio") != std::string::npos;
  h["Content-Type"] = recordio ? "application/recordio" : "application/json";
  if (recordio) h["Message-Content-Type"] = "application/json";
  h["Mesos-Stream-Id"] = streamId;
  h["Cache-Control"] = "no-cache";
  return h;
}

// The body of a call, or the error response to send.
Result<Json> parseCall(const http::Request& req) {
  std::string ct = req.header("Content-Type");
  if (ct.find("application/x-protobuf") != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "Only 'application/json' calls are supported, not protobuf");
  }
  auto call = parseJson(req.body);
  if (!call) return call.error();
  if (!call->is_object()) return Error(ErrorCode::kInvalidArgument, "A call must be a JSON object", {{"/", {"expected an object"}}});
  if (!call->contains("type") || !(*call)["type"].is_string()) {
    return Error(ErrorCode::kInvalidArgument, "Expecting 'type' to be present", {{"/type", {"missing call type"}}});
  }
  return call;
}

http::Response accepted() {
  http::Response r;
  r.status = 202;
  return r;
}

}  // namespace

void Master::registerRoutes(http::Router& router) {
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

  router.routeAsync("POST", "/api/v1/agents", [this](http::Request& req, http::Responder responder) {
    auto call = parseCall(req);
    if (!call) return responder.send(http::Response::error(call.error()));
    if ((*call)["type"] == "SUBSCRIBE") {
      auto sink = std::make_shared<StreamSink>();
      auto sub = subscribeAgent(*call, sink);
      if (!sub) return responder.send(http::Response::error(sub.error()));
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
