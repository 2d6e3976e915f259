#include "discovery/zone.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace dcos::discovery {
namespace {

constexpr uint32_t kFnvOffset = 2166136261u, kFnvPrime = 16777619u;

// Five characters of [a-z0-9] from the task id, so each instance has its own name (Mesos-DNS
// puts a short hash of the task id into its per-task names as well).
std::string shortHash(std::string_view id) {
  uint32_t h = kFnvOffset;
  for (char c : id) h = (h ^ static_cast<uint8_t>(c)) * kFnvPrime;
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (int i = 0; i < 5; ++i) {
    out += kAlphabet[h % 36];
    h /= 36;
  }
  return out;
}

// "<cluster>-S3" -> "s3"; other ids -> a hash, so the name stays short.
std::string agentTail(std::string_view agentId) {
  auto pos = agentId.rfind("-S");
  if (pos != std::string_view::npos && pos + 2 < agentId.size() &&
      std::all_of(agentId.begin() + static_cast<long>(pos) + 2, agentId.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return "s" + std::string(agentId.substr(pos + 2));
  }
  return "s" + shortHash(agentId);
}

// A framework name keeps its dots (Mesos-DNS allows "marathon.prod"); each part is a label.
std::string frameworkLabels(std::string_view name) {
  std::string out;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    std::string label = dnsLabel(name.substr(start, dot - start));
    if (!label.empty()) out += (out.empty() ? "" : ".") + label;
    start = dot + 1;
  }
  return out;
}

// The agent's own name under slave./agent.: its hostname's first label, unless that is an
// address, then the tail of its id.
std::string agentLabel(const ClusterSnapshot::Agent& agent) {
  std::string first = agent.hostname.substr(0, agent.hostname.find('.'));
  if (!parseIpv4(agent.hostname) && !dnsLabel(first).empty()) return dnsLabel(first);
  return agentTail(agent.id);
}

std::string srvHost(const dns::Srv& srv) { return srv.target + ".:" + std::to_string(srv.port); }

template <typename T>
void rotate(std::vector<T>& v, uint32_t by) {
  if (v.size() > 1) std::rotate(v.begin(), v.begin() + static_cast<long>(by % v.size()), v.end());
}

}  // namespace

std::string dnsLabel(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
      out += c;
    } else if (c == '.' || c == '_' || c == ' ') {
      out += '-';
    }
  }
  if (out.size() > dns::kMaxLabel) out.resize(dns::kMaxLabel);
  auto first = out.find_first_not_of('-');
  if (first == std::string::npos) return "";
  return out.substr(first, out.find_last_not_of('-') - first + 1);
}

std::string formatIpv4(const Ipv4& ip) {
  return std::to_string(ip[0]) + "." + std::to_string(ip[1]) + "." + std::to_string(ip[2]) + "." +
         std::to_string(ip[3]);
}

std::optional<Ipv4> parseIpv4(std::string_view text) {
  Ipv4 ip{};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
    unsigned v = 256;
    auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || v > 255 || next - p > 3) return std::nullopt;
    ip[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
    p = next;
  }
  if (p != end) return std::nullopt;
  return ip;
}

void Zone::addParents(const std::string& name) {
  // Every name between a record's owner and the domain exists (an empty non-terminal), so a
  // query for it is NODATA, not NXDOMAIN.
  for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
    std::string parent = name.substr(dot + 1);
    if (parent.size() < options_.domain.size()) break;
    if (!nodes_.try_emplace(parent).second) break;  // its parents exist already
  }
}

void Zone::addA(const std::string& name, const Ipv4& ip) {
  auto [it, added] = nodes_.try_emplace(name);
  if (added) addParents(name);
  auto& a = it->second.a;
  // One record per address: an RRset holds no duplicates (RFC 2181 section 5).
  if (std::find(a.begin(), a.end(), ip) == a.end()) a.push_back(ip);
}

void Zone::addSrv(const std::string& name, const dns::Srv& srv) {
  auto [it, added] = nodes_.try_emplace(name);
  if (added) addParents(name);
  it->second.srv.push_back(srv);
}

// The names Mesos-DNS gives a cluster (its docs/naming.md).
std::shared_ptr<const Zone> Zone::build(const ClusterSnapshot& s, const ZoneOptions& options, uint32_t serial) {
  auto zone = std::shared_ptr<Zone>(new Zone());
  Zone& z = *zone;
  z.options_ = options;
  z.serial_ = serial;
  const std::string d = "." + options.domain;
  z.nodes_.try_emplace(options.domain);

  // The master: this server's own name (the SOA's MNAME), leader and master with their SRVs.
  z.addA("ns1" + d, s.leaderIp);
  for (const char* who : {"leader", "master"}) {
    std::string host = who + d;
    z.addA(host, s.leaderIp);
    for (const char* proto : {"_tcp", "_udp"}) z.addSrv("_" + std::string(who) + "." + proto + d, {0, 0, s.leaderPort, host});
  }

  for (const auto& agent : s.agents) {
    std::string label = agentLabel(agent);
    for (const char* kind : {"slave", "agent"}) {
      std::string own = label + "." + kind + d;
      z.addA(kind + d, agent.ip);
      z.addA(own, agent.ip);
      z.addSrv("_" + std::string(kind) + "._tcp" + d, {0, 0, agent.port, own});
    }
  }

  std::map<std::string, size_t> byFramework;  // framework labels -> index in frameworks_
  auto frameworkEntry = [&](const std::string& fw) -> EnumeratedFramework& {
    auto [it, added] = byFramework.try_emplace(fw, z.frameworks_.size());
    if (added) z.frameworks_.push_back({fw, {}});
    return z.frameworks_[it->second];
  };
  for (const auto& fw : s.frameworks) {
    std::string labels = frameworkLabels(fw.name);
    if (labels.empty()) continue;
    frameworkEntry(labels);
    if (fw.ip) z.addA(labels + d, *fw.ip);
  }

  for (const auto& t : s.tasks) {
    std::string fw = frameworkLabels(t.framework), task = dnsLabel(t.name);
    if (fw.empty() || task.empty()) continue;
    std::string suffix = "-" + shortHash(t.id) + "-" + agentTail(t.agentId);
    std::string canonical = task.substr(0, dns::kMaxLabel - suffix.size());
    while (!canonical.empty() && canonical.back() == '-') canonical.pop_back();
    canonical += suffix;
    const std::string inFw = "." + fw + d, onSlave = "." + fw + ".slave" + d;
    EnumeratedTask entry{t.name, t.id, {}};
    auto a = [&](const std::string& name) {
      z.addA(name, t.ip);
      entry.records.push_back({name + ".", formatIpv4(t.ip), "A"});
    };
    auto srv = [&](const std::string& name, const std::string& target, uint32_t port) {
      dns::Srv record{0, 0, static_cast<uint16_t>(port), target};
      z.addSrv(name, record);
      entry.records.push_back({name + ".", srvHost(record), "SRV"});
    };
    a(task + inFw);
    a(canonical + inFw);
    a(task + onSlave);
    a(canonical + onSlave);
    for (uint32_t port : t.hostPorts) {
      if (port == 0 || port > 65535) continue;
      for (const char* proto : {"._tcp", "._udp"}) srv("_" + task + proto + onSlave, canonical + onSlave, port);
    }
    if (t.hasDiscoveryInfo) {
      for (const auto& p : t.discoveryPorts) {
        if (p.number == 0 || p.number > 65535 || (p.protocol != "tcp" && p.protocol != "udp")) continue;
        std::string service = "_" + task + "._" + p.protocol + inFw;
        srv(service, canonical + inFw, p.number);
        if (std::string name = dnsLabel(p.name); !name.empty()) srv("_" + name + "." + service, canonical + inFw, p.number);
      }
    } else {
      for (uint32_t port : t.hostPorts) {
        if (port == 0 || port > 65535) continue;
        for (const char* proto : {"._tcp", "._udp"}) srv("_" + task + proto + inFw, canonical + onSlave, port);
      }
    }
    frameworkEntry(fw).tasks.push_back(std::move(entry));
  }
  return zone;
}


bool Zone::inDomain(std::string_view name) const {
  const std::string& d = options_.domain;
  if (name.size() == d.size()) return name == d;
  return name.size() > d.size() && name[name.size() - d.size() - 1] == '.' && name.ends_with(d);
}

const Zone::Node* Zone::find(std::string_view lowerName) const {
  auto it = nodes_.find(std::string(lowerName));
  return it == nodes_.end() ? nullptr : &it->second;
}

dns::Record Zone::soaRecord() const {
  dns::Record r;
  r.name = options_.domain;
  r.type = dns::type::kSOA;
  r.ttl = options_.ttl;
  r.soa = {"ns1." + options_.domain, "root.ns1." + options_.domain, serial_, 60, 600, 86400, options_.ttl};
  return r;
}

void Zone::answer(const dns::Question& q, dns::Message& out, uint32_t rotation) const {
  using namespace dns::type;
  out.header.aa = true;
  out.header.rcode = dns::Rcode::kNoError;
  std::string name = dns::lowerName(q.name);
  const Node* node = find(name);
  if (!node) {
    out.header.rcode = dns::Rcode::kNxDomain;
    out.authority.push_back(soaRecord());
    return;
  }
  auto record = [&](uint16_t type) {
    dns::Record r;
    r.name = q.name;
    r.type = type;
    r.ttl = options_.ttl;
    return r;
  };
  bool any = q.type == kANY;
  if (q.type == kA || any) {
    auto a = node->a;
    rotate(a, rotation);
    for (const auto& ip : a) {
      out.answers.push_back(record(kA));
      out.answers.back().a = ip;
    }
  }
  if (q.type == kSRV || any) {
    auto srv = node->srv;
    rotate(srv, rotation);
    std::vector<std::string> targets;
    for (auto& s : srv) {
      out.answers.push_back(record(kSRV));
      if (std::find(targets.begin(), targets.end(), s.target) == targets.end()) targets.push_back(s.target);
      out.answers.back().srv = std::move(s);
    }
    // The targets' addresses ride along, so a client needs no second query.
    for (const auto& target : targets) {
      const Node* t = find(target);
      if (!t) continue;
      for (const auto& ip : t->a) {
        dns::Record r;
        r.name = target;
        r.ttl = options_.ttl;
        r.a = ip;
        out.additional.push_back(std::move(r));
      }
    }
  }
  if (name == options_.domain && (q.type == kSOA || any)) {
    out.answers.push_back(soaRecord());
    out.answers.back().name = q.name;
  }
  if (name == options_.domain && (q.type == kNS || any)) {
    out.answers.push_back(record(kNS));
    out.answers.back().target = "ns1." + options_.domain;
  }
  if (out.answers.empty()) out.authority.push_back(soaRecord());  // NODATA
}

std::vector<Ipv4> Zone::hosts(std::string_view name) const {
  if (name.ends_with('.')) name.remove_suffix(1);
  const Node* n = find(dns::lowerName(name));
  return n ? n->a : std::vector<Ipv4>{};
}

std::vector<dns::Srv> Zone::services(std::string_view name) const {
  if (name.ends_with('.')) name.remove_suffix(1);
  const Node* n = find(dns::lowerName(name));
  return n ? n->srv : std::vector<dns::Srv>{};
}

}  // namespace dcos::discovery
