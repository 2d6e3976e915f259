#include "discovery/discovery.hpp"

#include "common/log.hpp"
#include "kernel/master/master.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace dcos::discovery {
namespace {

const log::Logger& logger() { return log::get("dns"); }

// "10.0.0.5:41234" -> 10.0.0.5
std::optional<Ipv4> ipOfAddress(const std::string& address) {
  return parseIpv4(std::string_view(address).substr(0, address.rfind(':')));
}

std::optional<Ipv4> agentIp(const kernel::AgentRecord& agent) {
  if (auto ip = ipOfAddress(agent.address)) return ip;
  return parseIpv4(agent.hostname());
}

bool healthyEnough(const kernel::TaskRecord& t) {
  if (t.state != "TASK_RUNNING") return false;
  if (!t.task.contains("health_check")) return true;
  return t.status.is_object() && t.status.value("healthy", false);
}

ClusterSnapshot::Task taskEntry(const kernel::TaskRecord& t, const std::string& framework, const Ipv4& ip) {
  ClusterSnapshot::Task e;
  e.id = t.taskId;
  e.framework = framework;
  e.agentId = t.agentId;
  e.ip = ip;
  e.name = t.task.value("name", std::string());
  if (e.name.empty()) e.name = t.taskId;
  const kernel::Ranges portRanges = t.resources.ranges("ports");
  for (const auto& r : portRanges.ranges()) {
    for (uint64_t p = r.begin; p <= r.end && e.hostPorts.size() < 1024; ++p) e.hostPorts.push_back(static_cast<uint32_t>(p));
  }
  const Json* ports = nullptr;
  if (auto d = t.task.find("discovery"); d != t.task.end() && d->is_object()) {
    e.hasDiscoveryInfo = true;
    if (auto p = d->find("ports"); p != d->end() && p->is_object()) {
      if (auto list = p->find("ports"); list != p->end() && list->is_array()) ports = &*list;
    }
  }
  for (const auto& p : ports ? *ports : Json::array()) {
    if (!p.is_object() || !p.contains("number") || !p["number"].is_number_unsigned()) continue;
    e.discoveryPorts.push_back({p["number"].get<uint32_t>(), p.value("protocol", std::string("tcp")),
                                p.value("name", std::string())});
  }
  return e;
}

}  // namespace

Ipv4 advertisedIp(const std::string& listenAddress, const std::string& hostname) {
  if (auto ip = parseIpv4(listenAddress); ip && *ip != Ipv4{0, 0, 0, 0}) return *ip;
  if (auto ip = parseIpv4(hostname)) return *ip;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  std::optional<Ipv4> best;
  if (!hostname.empty() && getaddrinfo(hostname.c_str(), nullptr, &hints, &found) == 0) {
    for (addrinfo* a = found; a; a = a->ai_next) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      const auto* b = reinterpret_cast<const uint8_t*>(&in->sin_addr.s_addr);
      Ipv4 ip{b[0], b[1], b[2], b[3]};
      if (!best || (ip[0] != 127 && (*best)[0] == 127)) best = ip;
    }
    freeaddrinfo(found);
  }
  return best.value_or(Ipv4{127, 0, 0, 1});
}

ClusterSnapshot snapshotOf(const kernel::Master& master, const DiscoveryOptions& options, uint16_t httpPort) {
  ClusterSnapshot s;
  s.leaderIp = options.masterIp;
  s.leaderPort = httpPort;
  std::map<std::string, Ipv4> agentIps;
  for (const auto& [id, agent] : master.agents()) {
    if (agent.state != kernel::AgentState::kActive) continue;
    auto ip = agentIp(agent);
    if (!ip) continue;
    agentIps[id] = *ip;
    s.agents.push_back({id, agent.hostname(), *ip, static_cast<uint16_t>(agent.info.value("port", 5051))});
  }
  std::map<std::string, std::string> frameworkNames;
  for (const auto& [id, fw] : master.frameworks()) {
    if (fw.completed) continue;
    std::string name = fw.info.value("name", std::string());
    frameworkNames[id] = name;
    std::string host = fw.info.value("hostname", std::string());
    std::optional<Ipv4> ip = parseIpv4(host);
    if (!ip && host == options.masterHostname) ip = options.masterIp;
    s.frameworks.push_back({name, ip});
  }
  for (const auto& [key, t] : master.tasks()) {
    auto ip = agentIps.find(t.agentId);
    auto fw = frameworkNames.find(t.frameworkId);
    if (ip == agentIps.end() || fw == frameworkNames.end() || !healthyEnough(t)) continue;
    s.tasks.push_back(taskEntry(t, fw->second, ip->second));
  }
  return s;
}

Discovery::Discovery(EventLoop& loop, kernel::Master& master, DiscoveryOptions options, std::unique_ptr<DnsServer> server)
    : loop_(loop), master_(master), options_(std::move(options)), server_(std::move(server)) {}

Discovery::~Discovery() { stop(); }

Result<std::unique_ptr<Discovery>> Discovery::open(EventLoop& loop, kernel::Master& master, DiscoveryOptions options) {
  auto server = DnsServer::open(options.server);
  if (!server) return server.error();
  return std::unique_ptr<Discovery>(new Discovery(loop, master, std::move(options), std::move(*server)));
}

void Discovery::start(uint16_t httpPort) {
  httpPort_ = httpPort;
  started_ = true;
  master_.onChange([this, alive = std::weak_ptr<int>(lifetime_)] {
    if (alive.lock()) changed();
  });
  rebuild();
  server_->start();
  logger().info("answering DNS for '{}' on {}:{} (UDP and TCP){}", options_.zone.domain, options_.server.address,
                server_->port(), options_.server.recurse ? "" : ", other names refused");
}

void Discovery::stop() {
  if (!started_) return;
  started_ = false;
  server_->stop();
}

void Discovery::changed() {
  if (!started_ || dirty_) return;
  dirty_ = true;
  if (building_ || scheduled_) return;  // the build in flight or the timer picks it up
  auto since = std::chrono::steady_clock::now() - lastBuild_;
  auto wait = std::chrono::duration_cast<Duration>(options_.rebuildInterval - since);
  if (wait <= Duration::zero()) {
    loop_.post([this, alive = std::weak_ptr<int>(lifetime_)] {
      if (alive.lock()) rebuild();
    });
  } else {
    scheduled_ = true;
    loop_.schedule(wait, [this, alive = std::weak_ptr<int>(lifetime_)] {
      if (!alive.lock()) return;
      scheduled_ = false;
      rebuild();
    });
  }
}

// Takes the snapshot here, on the loop (a copy of what the zone needs), and builds the zone on
// the blocking pool: the loop pays for the copy, not for the index.
void Discovery::rebuild() {
  if (!started_ || building_) return;
  dirty_ = false;
  building_ = true;
  lastBuild_ = std::chrono::steady_clock::now();
  auto snapshot = std::make_shared<ClusterSnapshot>(snapshotOf(master_, options_, httpPort_));
  auto took = std::chrono::steady_clock::now() - lastBuild_;
  stats_.snapshotSeconds += std::chrono::duration<double>(took).count();
  stats_.maxTasks = std::max(stats_.maxTasks, snapshot->tasks.size());
  ++stats_.rebuilds;
  struct Built {
    std::shared_ptr<const Zone> zone;
    double seconds = 0;
  };
  auto built = std::make_shared<Built>();
  uint32_t serial = ++serial_;
  loop_.runBlocking([snapshot, built, serial, options = options_.zone] {
                      auto start = std::chrono::steady_clock::now();
                      built->zone = Zone::build(*snapshot, options, serial);
                      built->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                    },
                    [this, built, alive = std::weak_ptr<int>(lifetime_)] {
                      if (!alive.lock()) return;
                      building_ = false;
                      zone_ = built->zone;
                      stats_.buildSeconds += built->seconds;
                      server_->setZone(zone_);
                      if (dirty_) {
                        dirty_ = false;
                        changed();
                      }
                    });
}

}  // namespace dcos::discovery
