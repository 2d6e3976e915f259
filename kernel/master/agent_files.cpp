// GET /agent/{agent_id}/files/{browse,read,download}?path=... and /agent/{agent_id}/state: the
// master forwards an agent's sandbox files API (kernel/agent/sandbox_files.hpp) and its state, so
// the dashboard and the CLI need only the master's address. The agent is reached at the IP its subscription came from and the port in
// its agent_info; the exchange is a blocking http::fetch on the loop's blocking pool.
#include "kernel/master/master.hpp"

#include "common/http/client.hpp"
#include "common/log.hpp"

#include <memory>
#include <string>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("master"); }

constexpr auto kAgentTimeout = std::chrono::seconds(10);

// "10.0.0.5:41234" -> "10.0.0.5"; "::1:41234" -> "[::1]"; IPv4-mapped IPv6 -> the IPv4 address.
std::string urlHost(const std::string& remoteAddress) {
  size_t colon = remoteAddress.rfind(':');
  std::string ip = colon == std::string::npos ? remoteAddress : remoteAddress.substr(0, colon);
  if (ip.rfind("::ffff:", 0) == 0 && ip.find('.') != std::string::npos) ip = ip.substr(7);
  if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
  return ip;
}

http::Response unreachable(const std::string& agentId, const std::string& why) {
  logger().debug("cannot reach agent '{}' for its files: {}", agentId, why);
  return http::Response::error(503, "Agent '" + agentId + "' cannot be reached: " + why);
}

// The agent's answer to browse or read, passed on as it came.
void forward(const http::ClientRequest& request, const std::string& agentId, const http::Responder& responder) {
  auto reply = http::fetch(request);
  if (!reply) return responder.send(unreachable(agentId, reply.error().message));
  http::Response out{reply->status, {}, std::move(reply->body)};
  if (auto it = reply->headers.find("Content-Type"); it != reply->headers.end()) out.headers[it->first] = it->second;
  responder.send(std::move(out));
}

// A download, streamed on as it arrives.
void forwardStream(const http::ClientRequest& request, const std::string& agentId, const http::Responder& responder) {
  std::shared_ptr<http::ResponseStream> stream;
  auto onHead = [&](const http::ClientResponse& head) {
    http::Headers headers;
    for (const char* name : {"Content-Type", "Content-Disposition"}) {
      if (auto it = head.headers.find(name); it != head.headers.end()) headers[name] = it->second;
    }
    stream = responder.stream(head.status, std::move(headers));
  };
  auto onData = [&](std::string_view piece) { return stream && stream->write(std::string(piece)); };
  auto reply = http::fetchStream(request, onData, kAgentTimeout, onHead);
  if (stream) {
    if (!reply) logger().warn("download from agent '{}' cut short: {}", agentId, reply.error().message);
    stream->close();
  } else {
    responder.send(unreachable(agentId, reply ? "no answer" : reply.error().message));
  }
}

}  // namespace

void Master::registerAgentFilesRoutes(http::Router& router) {
  router.routeAsync("GET", "/agent/{agent_id}/files/{op}", [this](http::Request& req, http::Responder responder) {
    const std::string& op = req.params["op"];
    if (op != "browse" && op != "read" && op != "download") {
      return responder.send(http::Response::error(404, "No files endpoint '" + op + "'; use browse, read or download"));
    }
    forwardToAgent(req, "/files/" + op, op == "download", std::move(responder));
  });
  // The agent's own state (its executors and their sandbox directories), for `dcos task log`.
  router.routeAsync("GET", "/agent/{agent_id}/state", [this](http::Request& req, http::Responder responder) {
    forwardToAgent(req, "/state", false, std::move(responder));
  });
}

void Master::forwardToAgent(http::Request& req, const std::string& agentPath, bool streamed, http::Responder responder) {
  const std::string& agentId = req.params["agent_id"];
  auto it = agents_.find(agentId);
  if (it == agents_.end()) {
    logger().debug("request {} from {} names no known agent", req.target, req.remoteAddress);
    return responder.send(http::Response::error(404, "Unknown agent '" + agentId + "'"));
  }
  const AgentRecord& agent = it->second;
  int port = agent.info.value("port", 0);
  if (agent.address.empty() || port <= 0 || port > 65535) {
    return responder.send(unreachable(agentId, "it has not subscribed to this master with an HTTP port"));
  }
  // The query goes on untouched: the agent parses path, offset and length itself.
  size_t q = req.target.find('?');
  http::ClientRequest request;
  request.url = "http://" + urlHost(agent.address) + ":" + std::to_string(port) + agentPath +
                (q == std::string::npos ? "" : req.target.substr(q));
  request.timeout = kAgentTimeout;
  request.followRedirects = false;
  loop_.runBlocking([request = std::move(request), agentId, responder, streamed] {
    streamed ? forwardStream(request, agentId, responder) : forward(request, agentId, responder);
  });
}

}  // namespace dcos::kernel
