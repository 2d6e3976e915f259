#pragma once
// Service discovery inside the master: a DNS server for the cluster's domain with Mesos-DNS'
// names, and its HTTP view (/v1/hosts, /v1/services, /v1/enumerate, /v1/version, /v1/config).
// The records follow the master's state as it changes: every task, agent or framework change
// marks the zone stale, and a new zone is built at most every `rebuildInterval` off the loop and
// handed to the DNS thread (docs/ARCHITECTURE.md, "Discovery").

#include "common/clock.hpp"
#include "common/event_loop.hpp"
#include "common/result.hpp"
#include "discovery/dns_server.hpp"

#include <memory>
#include <string>

namespace dcos::http {
class Router;
}
namespace dcos::kernel {
class Master;
}

namespace dcos::discovery {

struct DiscoveryOptions {
  ZoneOptions zone;
  DnsServerOptions server;
  Ipv4 masterIp{127, 0, 0, 1};  // leader.<domain>, master.<domain>, ns1.<domain>
  std::string masterHostname;   // frameworks registered from this host get masterIp
  Duration rebuildInterval = std::chrono::milliseconds(100);
};

// The address other machines reach the master at: --address when it names one, else the
// hostname when it is an address or resolves to one (a non-loopback one preferred), else
// 127.0.0.1. Blocking (the hostname's resolution): call at start-up.
Ipv4 advertisedIp(const std::string& listenAddress, const std::string& hostname);

class Discovery {
 public:
  // Binds the DNS sockets (kIo naming the port when it cannot).
  static Result<std::unique_ptr<Discovery>> open(EventLoop& loop, kernel::Master& master, DiscoveryOptions options);
  ~Discovery();

  void registerRoutes(http::Router& router);
  // Builds the first zone and starts answering. `httpPort`: the master's, for the SRV records.
  void start(uint16_t httpPort);
  void stop();
  uint16_t dnsPort() const { return server_->port(); }

  // What the rebuilds cost so far (loop thread), for benchmarks and logs.
  struct Stats {
    uint64_t rebuilds = 0;
    double snapshotSeconds = 0;  // on the loop
    double buildSeconds = 0;     // on the blocking pool
    size_t maxTasks = 0;         // the most tasks one zone held
  };
  const Stats& stats() const { return stats_; }

 private:
  Discovery(EventLoop& loop, kernel::Master& master, DiscoveryOptions options, std::unique_ptr<DnsServer> server);
  void changed();
  void rebuild();

  EventLoop& loop_;
  kernel::Master& master_;
  DiscoveryOptions options_;
  std::unique_ptr<DnsServer> server_;
  std::shared_ptr<const Zone> zone_;  // the latest built, for the HTTP view (loop thread)
  uint16_t httpPort_ = 0;
  uint32_t serial_ = 0;
  bool started_ = false, dirty_ = false, building_ = false, scheduled_ = false;
  std::chrono::steady_clock::time_point lastBuild_{};
  Stats stats_;
  std::shared_ptr<int> lifetime_ = std::make_shared<int>(0);
};

// The snapshot the zone is built from (discovery.cpp; public for tests).
ClusterSnapshot snapshotOf(const kernel::Master& master, const DiscoveryOptions& options, uint16_t httpPort);

}  // namespace dcos::discovery
