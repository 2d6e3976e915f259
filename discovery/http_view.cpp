// The HTTP view of the DNS records, in Mesos-DNS' shapes (its docs/http.md): /v1/version,
// /v1/config, /v1/hosts/{host}, /v1/services/{service}, /v1/enumerate.
#include "discovery/discovery.hpp"

#include "common/http/router.hpp"
#include "common/version.hpp"

namespace dcos::discovery {
namespace {

// The name as the zone keys it: no final dot. A name outside the domain is a 404 naming it.
Result<std::string> nameInDomain(const Zone& zone, const std::string& raw, const char* field) {
  std::string name = dns::lowerName(raw);
  if (name.ends_with('.')) name.pop_back();
  if (name.size() > 253 || !zone.inDomain(name)) {
    return Error(ErrorCode::kNotFound, "'" + raw.substr(0, 300) + "' is not a name in the '" + zone.options().domain + "' domain",
                 {{field, {"only names under '" + zone.options().domain + "' are answered here"}}});
  }
  return name;
}

}  // namespace

void Discovery::registerRoutes(http::Router& router) {
  auto ready = [this](const http::Request&) -> std::optional<http::Response> {
    if (zone_) return std::nullopt;
    return http::Response::error(503, "the DNS records are not built yet");
  };
  router.route("GET", "/v1/version", [](const http::Request&) {
    return http::Response::json(200, {{"Service", "dcos DNS (Mesos-DNS names)"},
                                      {"URL", "/v1/enumerate"},
                                      {"Version", version::version()}});
  });
  router.route("GET", "/v1/config", [this](const http::Request&) {
    Json resolvers = Json::array();
    for (const auto& u : options_.server.upstreams) resolvers.push_back(u.ip + (u.port == 53 ? "" : ":" + std::to_string(u.port)));
    const std::string& d = options_.zone.domain;
    return http::Response::json(
        200, {{"Masters", Json::array({formatIpv4(options_.masterIp) + ":" + std::to_string(httpPort_)})},
              {"RefreshSeconds", 0},  // none: the records follow the master's state as it changes
              {"TTL", options_.zone.ttl},
              {"Port", server_->port()},
              {"Domain", d},
              {"Resolvers", resolvers},
              {"Timeout", std::chrono::duration_cast<std::chrono::seconds>(options_.server.forwardTimeout).count()},
              {"Email", "root.ns1." + d + "."},
              {"Mname", "ns1." + d + "."},
              {"Listener", options_.server.address},
              {"HttpPort", httpPort_},
              {"DnsOn", true},
              {"HttpOn", true},
              {"RecurseOn", options_.server.recurse}});
  });
  router.route("GET", "/v1/hosts/{host}", [this, ready](const http::Request& req) {
    if (auto r = ready(req)) return *r;
    auto name = nameInDomain(*zone_, req.params.at("host"), "/host");
    if (!name) return http::Response::error(name.error());
    Json out = Json::array();
    for (const auto& ip : zone_->hosts(*name)) out.push_back({{"host", *name + "."}, {"ip", formatIpv4(ip)}});
    return http::Response::json(200, out);
  });
  router.route("GET", "/v1/services/{service}", [this, ready](const http::Request& req) {
    if (auto r = ready(req)) return *r;
    auto name = nameInDomain(*zone_, req.params.at("service"), "/service");
    if (!name) return http::Response::error(name.error());
    Json out = Json::array();
    for (const auto& srv : zone_->services(*name)) {
      auto ips = zone_->hosts(srv.target);
      for (const auto& ip : ips) {
        // Mesos-DNS writes the port as a string.
        out.push_back({{"host", srv.target + "."}, {"ip", formatIpv4(ip)}, {"port", std::to_string(srv.port)},
                       {"service", *name + "."}});
      }
    }
    return http::Response::json(200, out);
  });
  router.route("GET", "/v1/enumerate", [this, ready](const http::Request& req) {
    if (auto r = ready(req)) return *r;
    Json frameworks = Json::array();
    for (const auto& fw : zone_->enumerate()) {
      Json tasks = Json::array();
      for (const auto& t : fw.tasks) {
        Json records = Json::array();
        for (const auto& r : t.records) records.push_back({{"name", r.name}, {"host", r.host}, {"rtype", r.rtype}});
        tasks.push_back({{"name", t.name}, {"id", t.id}, {"records", std::move(records)}});
      }
      frameworks.push_back({{"tasks", std::move(tasks)}, {"name", fw.name}});
    }
    return http::Response::json(200, {{"frameworks", std::move(frameworks)}});
  });
}

}  // namespace dcos::discovery
