// The Mesos v1 operator API of the master: POST /api/v1 with a JSON call {"type": ...}
// (include/mesos/v1/master/master.proto). Synchronous calls answer 200 with a JSON Response;
// SUBSCRIBE answers with a chunked RecordIO stream of Events that starts with SUBSCRIBED (the
// whole state) and goes on with TASK_ADDED, TASK_UPDATED, AGENT_ADDED, AGENT_REMOVED,
// FRAMEWORK_ADDED/UPDATED/REMOVED and HEARTBEAT, published by the master where its state changes.
// Only JSON is spoken: a protobuf body is 415, a client that accepts only protobuf gets 406.
#include "kernel/master/master.hpp"

#include "common/http/http.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "kernel/master/http_support.hpp"
#include "kernel/master/protocol.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <optional>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("master"); }

constexpr const char* kSupportedCalls =
    "GET_HEALTH, GET_FLAGS, GET_VERSION, GET_MASTER, GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_EXECUTORS, "
    "GET_TASKS, GET_ROLES, TEARDOWN and SUBSCRIBE";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The media type checks Mesos makes before looking at the body: a JSON body, and an answer the
// client accepts. nullopt when the request may go on.
std::optional<http::Response> mediaTypeProblem(const http::Request& req) {
  std::string contentType = lower(req.header("Content-Type"));
  if (contentType.empty()) {
    return http::Response::error(400, "Expecting 'Content-Type' to be present", {{"Content-Type", {"missing"}}});
  }
  if (contentType.rfind("application/json", 0) != 0) {
    return http::Response::error(415, "Expecting 'Content-Type' of application/json (this master speaks only JSON), not '" +
                                          req.header("Content-Type") + "'",
                                 {{"Content-Type", {"unsupported media type"}}});
  }
  std::string accept = lower(req.header("Accept"));
  if (!accept.empty()) {
    bool json = false;
    for (const char* ok : {"application/json", "application/recordio", "application/*", "*/*"}) {
      json = json || accept.find(ok) != std::string::npos;
    }
    if (!json) {
      return http::Response::error(406, "Only JSON responses are supported (application/json), not '" +
                                            req.header("Accept") + "'",
                                   {{"Accept", {"not acceptable"}}});
    }
  }
  return std::nullopt;
}

Json versionInfo() {
  Json info = {{"version", version::version()}, {"build_date", version::buildDate()}, {"git_sha", version::gitCommit()}};
  // The build day ("2026-11-25") as seconds since the epoch, as Mesos' build_time.
  int y = 0, m = 0, d = 0;
  if (std::sscanf(version::buildDate(), "%d-%d-%d", &y, &m, &d) == 3) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    info["build_time"] = static_cast<double>(timegm(&tm));
  }
  return info;
}

}  // namespace

void Master::registerOperatorRoutes(http::Router& router) {
  router.routeAsync("POST", "/api/v1", [this](http::Request& req, http::Responder responder) {
    if (auto problem = mediaTypeProblem(req)) {
      logger().debug("operator call from {} refused with {}: {}", req.remoteAddress, problem->status, problem->body);
      return responder.send(std::move(*problem));
    }
    auto call = parseCall(req);
    if (!call) {
      logger().debug("malformed operator call from {}: {}", req.remoteAddress, call.error().message);
      return responder.send(http::Response::error(call.error()));
    }
    if ((*call)["type"] == "SUBSCRIBE") return subscribeOperator(req, responder);
    auto answer = operatorCall(*call);
    if (!answer) {
      logger().debug("operator call {} from {} refused: {}", (*call)["type"].get<std::string>(), req.remoteAddress,
                     answer.error().message);
      return responder.send(http::Response::error(answer.error()));
    }
    if (answer->is_null()) return responder.send(http::Response{});
    responder.send(http::Response::json(200, *answer));
  });
}

void Master::subscribeOperator(const http::Request& req, const http::Responder& responder) {
  auto sink = std::make_shared<StreamSink>();
  double heartbeat = std::chrono::duration<double>(options_.heartbeatInterval).count();
  sink->send({{"type", "SUBSCRIBED"},
              {"subscribed", {{"get_state", getState()}, {"heartbeat_interval_seconds", heartbeat}}}});
  auto stream = responder.stream(200, streamHeaders(req, ""));
  sink->attach(stream);
  operatorEvents_.subscribe(sink);
  logger().info("operator event subscriber from {} ({} subscribed)", req.remoteAddress, operatorEvents_.size());
  std::weak_ptr<StreamSink> weak = sink;
  stream->onClose([this, weak, from = req.remoteAddress] {
    if (auto s = weak.lock()) operatorEvents_.unsubscribe(s.get());
    logger().debug("operator event subscriber from {} is gone", from);
  });
}

Result<Json> Master::operatorCall(const Json& call) {
  std::string type = call["type"].get<std::string>();
  auto response = [&type](const char* field, Json body) { return Json{{"type", type}, {field, std::move(body)}}; };
  if (type == "GET_HEALTH") return response("get_health", {{"healthy", true}});
  if (type == "GET_VERSION") return response("get_version", {{"version_info", versionInfo()}});
  if (type == "GET_FLAGS") {
    Json flags = Json::array();
    for (const auto& [name, value] : options_.flags) flags.push_back({{"name", name}, {"value", value}});
    return response("get_flags", {{"flags", flags}});
  }
  if (type == "GET_MASTER") {
    double started = toEpochSeconds(startedAt_);
    // There is one master, elected when it starts.
    return response("get_master", {{"master_info", masterInfo()}, {"start_time", started}, {"elected_time", started}});
  }
  if (type == "GET_STATE") return response("get_state", getState());
  if (type == "GET_AGENTS") return response("get_agents", getAgents());
  if (type == "GET_FRAMEWORKS") return response("get_frameworks", getFrameworks());
  // Command tasks run without an executor the master tracks, so there are none to list.
  if (type == "GET_EXECUTORS") return response("get_executors", {{"executors", Json::array()}});
  if (type == "GET_TASKS") return response("get_tasks", getTasks());
  if (type == "GET_ROLES") return response("get_roles", getRoles());
  if (type == "TEARDOWN") {
    auto fid = requireId(call.value("teardown", Json::object()), "framework_id", "/teardown");
    if (!fid) return fid.error();
    auto it = frameworks_.find(*fid);
    if (it == frameworks_.end()) return invalidCall("/teardown/framework_id", "No framework found with ID '" + *fid + "'");
    removeFramework(it->second, "TEARDOWN by the operator");
    return Json();
  }
  return invalidCall("/type", "Unknown or unsupported call type '" + type + "'; this master answers " + kSupportedCalls);
}

// ---- Events ----
// Each is built only when someone listens: the master calls these on every state change.

void Master::notifyChange() {
  for (auto& fn : changeListeners_) fn();
}

void Master::publishTaskAdded(const TaskRecord& task) {
  notifyChange();
  if (!operatorEvents_.empty()) operatorEvents_.publish(taskAddedEvent(task));
}

void Master::publishTaskUpdated(const TaskRecord& task) {
  notifyChange();
  if (!operatorEvents_.empty()) operatorEvents_.publish(taskUpdatedEvent(task));
}

void Master::publishAgentAdded(const AgentRecord& agent) {
  notifyChange();
  if (!operatorEvents_.empty()) operatorEvents_.publish(agentAddedEvent(v1Agent(agent, offeredOn(agent.id))));
}

void Master::publishAgentRemoved(const std::string& agentId) {
  notifyChange();
  if (!operatorEvents_.empty()) operatorEvents_.publish(agentRemovedEvent(agentId));
}

void Master::publishFramework(const FrameworkRecord& fw, bool added) {
  notifyChange();
  if (operatorEvents_.empty()) return;
  operatorEvents_.publish(added ? frameworkAddedEvent(v1Framework(fw)) : frameworkUpdatedEvent(v1Framework(fw)));
}

void Master::publishFrameworkRemoved(const FrameworkRecord& fw) {
  notifyChange();
  if (!operatorEvents_.empty()) operatorEvents_.publish(frameworkRemovedEvent(fw.info));
}

}  // namespace dcos::kernel
