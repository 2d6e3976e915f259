#pragma once
// The DNS server: UDP and TCP on one port, answering from the latest Zone on its own thread (so
// a query flood never slows the master's loop, and the master's work never delays an answer),
// and forwarding names outside the domain to upstream resolvers. Asio stays in the .cpp.

#include "common/clock.hpp"
#include "common/result.hpp"
#include "discovery/zone.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dcos::discovery {

struct Upstream {
  std::string ip;
  uint16_t port = 53;
};

// Upstreams from resolv.conf text ("nameserver" lines; IPv4 only, as the forwarder speaks IPv4).
std::vector<Upstream> parseResolvConf(const std::string& text);
// "10.0.0.2,10.0.0.3:5353" -> upstreams; an error names the bad entry.
Result<std::vector<Upstream>> parseUpstreams(const std::string& list);

struct DnsServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 8053;  // 0: an ephemeral port, the same number for UDP and TCP
  bool recurse = true;
  std::vector<Upstream> upstreams;  // tried in order; none: names outside the domain get SERVFAIL
  Duration forwardTimeout = std::chrono::seconds(2);  // per upstream
  size_t maxTcpConnections = 256;  // more are closed at once
  size_t maxForwards = 1024;       // queries waiting upstream; more get SERVFAIL
  Duration tcpIdleTimeout = std::chrono::seconds(10);
};

class DnsServer {
 public:
  // Binds both sockets; fails (kIo, naming address and port) when either cannot be bound.
  static Result<std::unique_ptr<DnsServer>> open(DnsServerOptions options);
  ~DnsServer();  // stops the thread

  // Replaces the records answered from (any thread). Queries before the first zone are dropped.
  void setZone(std::shared_ptr<const Zone> zone);
  void start();
  void stop();
  uint16_t port() const;

 private:
  struct Impl;
  explicit DnsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dcos::discovery
