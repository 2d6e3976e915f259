#pragma once
// The records of the cluster's DNS domain, Mesos-DNS' naming (docs/ARCHITECTURE.md, "Discovery"),
// built from a plain snapshot of the master's state and answered from memory. Pure code: the
// snapshot is taken on the master's loop (discovery.cpp), the zone is built off it and then only
// read, by the DNS thread and the HTTP view at once.

#include "discovery/dns_message.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dcos::discovery {

using Ipv4 = std::array<uint8_t, 4>;

// What the zone is built from.
struct ClusterSnapshot {
  struct Port {
    uint32_t number = 0;
    std::string protocol;  // "tcp" or "udp"
    std::string name;      // a DiscoveryInfo port's name, may be empty
  };
  struct Task {
    std::string id, name;  // TaskInfo task_id and name (or DiscoveryInfo name)
    std::string framework;  // the framework's name
    std::string agentId;
    Ipv4 ip{};  // the agent's
    bool hasDiscoveryInfo = false;
    std::vector<Port> discoveryPorts;  // DiscoveryInfo ports (the task's ports for host networking)
    std::vector<uint32_t> hostPorts;   // the "ports" resources
  };
  struct Agent {
    std::string id, hostname;
    Ipv4 ip{};
    uint16_t port = 5051;
  };
  struct Framework {
    std::string name;
    std::optional<Ipv4> ip;  // the scheduler's, when known
  };
  Ipv4 leaderIp{};
  uint16_t leaderPort = 5050;
  std::vector<Agent> agents;          // active ones only
  std::vector<Framework> frameworks;  // active ones only
  std::vector<Task> tasks;            // RUNNING and (where they have health checks) healthy
};

struct ZoneOptions {
  std::string domain = "mesos";  // lowercase, no final dot
  uint32_t ttl = 5;
};

// One name of the enumeration (GET /v1/enumerate): {name, host, rtype}.
struct EnumeratedRecord {
  std::string name, host, rtype;
};

class Zone {
 public:
  static std::shared_ptr<const Zone> build(const ClusterSnapshot& snapshot, const ZoneOptions& options,
                                           uint32_t serial);

  const ZoneOptions& options() const { return options_; }
  uint32_t serial() const { return serial_; }

  // True when `lowerName` is the domain or a name under it (the zone answers for it).
  bool inDomain(std::string_view lowerName) const;

  // The answer to a query for a name in the domain: answers (A, SRV, SOA, NS), the A records of
  // SRV targets in `additional`, NXDOMAIN for names that do not exist, NODATA (NOERROR, no
  // answers) for names that exist without records of that type, and the SOA in `authority` for
  // both negative answers. `rotation` turns the order of multi-record answers (load spreading).
  // Sets rcode, aa and the records; the caller copies id, question and the other flags.
  void answer(const dns::Question& q, dns::Message& out, uint32_t rotation = 0) const;

  // For the HTTP view (Mesos-DNS' /v1 shapes; names given without the final dot, any case).
  std::vector<Ipv4> hosts(std::string_view name) const;
  std::vector<dns::Srv> services(std::string_view name) const;
  struct EnumeratedTask {
    std::string name, id;
    std::vector<EnumeratedRecord> records;
  };
  struct EnumeratedFramework {
    std::string name;
    std::vector<EnumeratedTask> tasks;
  };
  const std::vector<EnumeratedFramework>& enumerate() const { return frameworks_; }

 private:
  struct Node {
    std::vector<Ipv4> a;
    std::vector<dns::Srv> srv;
  };
  const Node* find(std::string_view lowerName) const;
  dns::Record soaRecord() const;
  void addA(const std::string& name, const Ipv4& ip);
  void addSrv(const std::string& name, const dns::Srv& srv);
  void addParents(const std::string& name);

  ZoneOptions options_;
  uint32_t serial_ = 0;
  std::unordered_map<std::string, Node> nodes_;  // lowercase names; empty nodes exist (NODATA)
  std::vector<EnumeratedFramework> frameworks_;
};

// Mesos-DNS' label for a task or framework name part: lowercase, [a-z0-9-] only (other
// characters dropped, '.' and '_' and ' ' turned into '-'), no '-' at either end, at most 63 bytes.
// Empty when nothing is left.
std::string dnsLabel(std::string_view name);

std::string formatIpv4(const Ipv4& ip);
std::optional<Ipv4> parseIpv4(std::string_view text);

}  // namespace dcos::discovery
