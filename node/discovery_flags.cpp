// The master's discovery flags and `dcos agent --dns_setup`.
#include "node/discovery_flags.hpp"

#include "common/http/client.hpp"
#include "common/json.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace dcos::node {

void addDiscoveryFlags(flags::FlagSet& f) {
  using flags::Type;
  f.add({.name = "dns_port", .defaultValue = "auto",
         .help = "UDP and TCP port of the DNS server: a number (0 = any free one), 'off', or 'auto': 53 as root, "
                 "else 8053, and any free one when --port is 0",
         .validate = [](const std::string& v) {
           if (v == "auto" || v == "off") return std::string();
           char* end = nullptr;
           long n = std::strtol(v.c_str(), &end, 10);
           return !v.empty() && *end == '\0' && n >= 0 && n <= 65535 ? std::string() : "must be 0-65535, 'auto' or 'off'";
         }});
  f.add({.name = "dns_domain", .defaultValue = "mesos", .help = "The DNS domain of tasks, agents and masters",
         .validate = [](const std::string& v) {
           bool ok = !v.empty() && v.size() <= 200 && v.front() != '.' && v.back() != '.' && v.find("..") == std::string::npos &&
                     v.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-.") == std::string::npos;
           return ok ? std::string() : "must be lowercase labels of a-z, 0-9 and '-' joined by '.', e.g. 'mesos'";
         }});
  f.add({.name = "dns_ttl", .type = Type::kInt, .defaultValue = "5", .help = "TTL in seconds of the DNS records",
         .min = 0, .max = 86400});
  f.add({.name = "dns_recurse", .type = Type::kBool, .defaultValue = "true",
         .help = "Forward names outside the domain to --dns_resolvers (false: refuse them)"});
  f.add({.name = "dns_resolvers", .defaultValue = "",
         .help = "Upstream resolvers as 'IP[:PORT],...' (default: the nameservers of /etc/resolv.conf)",
         .validate = [](const std::string& v) {
           auto u = discovery::parseUpstreams(v);
           return u ? std::string() : u.error().message;
         }});
  f.add({.name = "dns_timeout", .type = Type::kDuration, .defaultValue = "2secs",
         .help = "How long each upstream resolver has to answer a forwarded query"});
}

std::optional<discovery::DiscoveryOptions> discoveryOptions(const flags::FlagSet& f, const std::string& hostname,
                                                            bool& automatic) {
  std::string port = f.getString("dns_port");
  if (port == "off") return std::nullopt;
  discovery::DiscoveryOptions o;
  automatic = port == "auto";
  if (automatic) {
    o.server.port = f.getInt("port") == 0 ? 0 : (geteuid() == 0 ? 53 : 8053);
  } else {
    o.server.port = static_cast<uint16_t>(std::stoi(port));
  }
  o.zone.domain = f.getString("dns_domain");
  o.zone.ttl = static_cast<uint32_t>(f.getInt("dns_ttl"));
  o.server.address = f.getString("address");
  o.server.recurse = f.getBool("dns_recurse");
  o.server.forwardTimeout = std::max<Duration>(f.getDuration("dns_timeout"), std::chrono::milliseconds(10));
  o.server.upstreams = discovery::parseUpstreams(f.getString("dns_resolvers")).value();
  if (o.server.upstreams.empty()) {
    std::ifstream in("/etc/resolv.conf");
    std::stringstream text;
    text << in.rdbuf();
    o.server.upstreams = discovery::parseResolvConf(text.str());
  }
  o.masterIp = discovery::advertisedIp(o.server.address, hostname);
  o.masterHostname = hostname;
  return o;
}

int printDnsSetup(const std::string& master) {
  auto colon = master.rfind(':');
  std::string host = master.substr(0, colon);
  http::ClientRequest req;
  req.url = "http://" + master + "/v1/config";
  req.timeout = std::chrono::seconds(10);
  auto resp = http::fetch(req);
  bool noDns = resp && resp->status == 404;  // discovery is not there: --dns_port=off
  if (!noDns && (!resp || resp->status != 200)) {
    std::cerr << "dcos agent --dns_setup: cannot ask the master where its DNS server listens: "
              << (resp ? "GET " + req.url + " answered " + std::to_string(resp->status) : resp.error().message) << "\n";
    return 1;
  }
  Json config = noDns ? Json() : Json::parse(resp->body, nullptr, false);
  if (!config.is_object() || !config.value("DnsOn", false)) {
    std::cerr << "dcos agent --dns_setup: the master at " << master << " does not serve DNS (--dns_port=off?)\n";
    return 1;
  }
  int port = config.value("Port", 0);
  std::string domain = config.value("Domain", std::string("mesos"));
  discovery::Ipv4 ip = discovery::advertisedIp("", host);
  std::cout << "# /etc/resolv.conf: put this line before the other nameservers, so that ." << domain
            << " names resolve through the master (other names are " << (config.value("RecurseOn", true) ? "forwarded" : "refused")
            << " by it)\n";
  if (port != 53) {
    std::cout << "# note: the master answers DNS on port " << port
              << ", but resolv.conf can only name port 53: start the master with --dns_port 53\n";
  }
  std::cout << "nameserver " << discovery::formatIpv4(ip) << "\n";
  return 0;
}

}  // namespace dcos::node
