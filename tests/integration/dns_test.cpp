// The master's DNS server on a real `dcos dev` cluster, asked with dig (real packets over UDP and
// TCP) and with hand-made hostile packets; and its HTTP view. Names are Mesos-DNS' (its
// docs/naming.md): app /dns/web of framework "marathon" is web-dns.marathon.mesos.
#include "tests/support/marathon.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

using namespace dcos::test;
using nlohmann::json;

namespace {

// One dig exchange, its header and sections as dig prints them.
struct Dig {
  std::string status;  // NOERROR, NXDOMAIN, REFUSED, ...
  std::string flags;   // "qr aa rd"
  std::vector<std::string> answer, authority, additional;
  std::string raw;
  bool hasFlag(const std::string& f) const { return (" " + flags + " ").find(" " + f + " ") != std::string::npos; }
};

Dig dig(int port, const std::string& name, const std::string& type, const std::string& extra = "") {
  Dig d;
  d.raw = commandOutput("dig @127.0.0.1 -p " + std::to_string(port) + " +time=3 +tries=1 +noall +comments +answer +authority "
                  "+additional " + extra + " '" + name + "' " + type + " 2>&1");
  std::istringstream in(d.raw);
  std::vector<std::string>* section = nullptr;
  for (std::string line; std::getline(in, line);) {
    if (auto s = line.find("status: "); s != std::string::npos) d.status = line.substr(s + 8, line.find(',', s) - s - 8);
    if (line.rfind(";; flags: ", 0) == 0) d.flags = line.substr(10, line.find(';', 10) - 10);
    if (line == ";; ANSWER SECTION:") section = &d.answer;
    else if (line == ";; AUTHORITY SECTION:") section = &d.authority;
    else if (line == ";; ADDITIONAL SECTION:") section = &d.additional;
    else if (line.empty() || line[0] == ';') {
      if (line.empty()) section = nullptr;
    } else if (section) {
      section->push_back(line);
    }
  }
  return d;
}

// The last field of each record line: the address of an A record, the target of an SRV.
std::vector<std::string> lastFields(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.substr(l.find_last_of(" \t") + 1));
  return out;
}

// The ports of SRV answers ("... IN SRV 0 0 31005 target.").
std::multiset<int> srvPorts(const Dig& d) {
  std::multiset<int> out;
  for (const auto& l : d.answer) {
    std::istringstream w(l);
    std::string name, ttl, cls, type;
    int prio, weight, port;
    if (w >> name >> ttl >> cls >> type >> prio >> weight >> port && type == "SRV") out.insert(port);
  }
  return out;
}

std::multiset<int> taskPorts(int port, const std::string& app) {
  std::multiset<int> out;
  for (const auto& t : appTasks(port, app)) {
    if (taskRunning(t) && t.contains("ports")) {
      for (const auto& p : t["ports"]) out.insert(p.get<int>());
    }
  }
  return out;
}

// The cases ask with dig; without it (Debian package bind9-dnsutils) they are skipped, saying so.
bool digMissing() {
  if (haveCommand("dig")) return false;
  MESSAGE("skipped: dig is not installed (Debian package bind9-dnsutils)");
  return true;
}

int dnsPortOf(int httpPort) {
  auto config = mGet(httpPort, "/v1/config");
  REQUIRE_MESSAGE(config.status == 200, config.text());
  return config.json.value("Port", 0);
}

std::unique_ptr<MasterProcess> startDev(const TempDir& dir) { return startDevCluster(dir, {"--dns_recurse=false"}); }

json webApp(const TempDir& dir, int instances, int ports = 1) {
  json app = appDef("/dns/web", "echo \"$MESOS_DNS_DOMAIN\" > " + dir.file("domain") + "; exec sleep 600", instances);
  app["cpus"] = 0.01;
  app["mem"] = 8;
  app["portDefinitions"] = json::array();
  for (int i = 0; i < ports; ++i) app["portDefinitions"].push_back({{"port", 0}, {"name", "p" + std::to_string(i)}});
  return app;
}

// How long DNS took to show what the master shows, after the master shows it: waits (deadline
// `limit`) until `dnsAgrees`, and returns the milliseconds, or -1.
long msUntil(const std::function<bool()>& dnsAgrees, std::chrono::milliseconds limit) {
  auto start = std::chrono::steady_clock::now();
  if (!waitFor(dnsAgrees, limit)) return -1;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("dig: A and SRV answers list exactly the running instances and follow scaling and kills") {
  if (digMissing()) return;
  TempDir dir;
  auto dev = startDev(dir);
  int http = dev->port();
  int dns = dnsPortOf(http);
  REQUIRE(dns > 0);
  CHECK(dev->process().stdoutText().find("127.0.0.1:" + std::to_string(dns) + " (UDP and TCP)") != std::string::npos);

  REQUIRE(mPost(http, "/v2/apps", webApp(dir, 3)).status == 201);
  REQUIRE(waitForRunning(http, "/dns/web", 3, 30s));
  auto ports = taskPorts(http, "/dns/web");
  REQUIRE(ports.size() == 3);
  CHECK_MESSAGE(msUntil([&] { return srvPorts(dig(dns, "_web-dns._tcp.marathon.mesos", "SRV")) == ports; }, 1s) >= 0,
                dig(dns, "_web-dns._tcp.marathon.mesos", "SRV").raw);

  Dig srv = dig(dns, "_web-dns._tcp.marathon.mesos", "SRV");
  CHECK(srv.status == "NOERROR");
  CHECK(srv.hasFlag("aa"));
  // Each instance has its own target, resolvable from the additional section of the same answer.
  std::set<std::string> targets;
  for (const auto& t : lastFields(srv.answer)) targets.insert(t);
  CHECK(targets.size() == 3);
  std::set<std::string> additionalNames;
  for (const auto& l : srv.additional) additionalNames.insert(l.substr(0, l.find_first_of(" \t")));
  CHECK_MESSAGE(additionalNames == targets, srv.raw);
  for (const auto& target : targets) CHECK(lastFields(dig(dns, target, "A").answer) == std::vector<std::string>{"127.0.0.1"});

  Dig a = dig(dns, "web-dns.marathon.mesos", "A");
  CHECK(a.status == "NOERROR");
  CHECK(lastFields(a.answer) == std::vector<std::string>{"127.0.0.1"});  // one agent, one address
  CHECK(lastFields(dig(dns, "WEB-DNS.Marathon.MESOS", "A").answer) == std::vector<std::string>{"127.0.0.1"});
  CHECK(lastFields(dig(dns, "web-dns.marathon.slave.mesos", "A").answer) == std::vector<std::string>{"127.0.0.1"});
  CHECK(srvPorts(dig(dns, "_web-dns._udp.marathon.slave.mesos", "SRV")) == ports);
  CHECK(readFile(dir.file("domain")) == "mesos\n");  // MESOS_DNS_DOMAIN in the task's environment

  SUBCASE("scaled to 5: five records within a second of the master's") {
    REQUIRE(mPut(http, "/v2/apps/dns/web", {{"instances", 5}}).status == 200);
    REQUIRE(waitForRunning(http, "/dns/web", 5, 30s));
    auto five = taskPorts(http, "/dns/web");
    long ms = msUntil([&] { return srvPorts(dig(dns, "_web-dns._tcp.marathon.mesos", "SRV")) == five; }, 1s);
    CHECK_MESSAGE(ms >= 0, dig(dns, "_web-dns._tcp.marathon.mesos", "SRV").raw);
    MESSAGE("5 SRV records ", ms, " ms after the master reported 5 running");

    // A killed instance leaves the answers within a second of the master knowing it ended.
    std::string victim = jstr(appTasks(http, "/dns/web")[0], "id");
    int victimPort = appTasks(http, "/dns/web")[0]["ports"][0].get<int>();
    REQUIRE(mDelete(http, "/v2/apps/dns/web/tasks/" + victim + "?scale=true").status == 200);
    REQUIRE(waitFor([&] { return !taskIds(appTasks(http, "/dns/web")).count(victim); }, 20s));
    ms = msUntil([&] { return !srvPorts(dig(dns, "_web-dns._tcp.marathon.mesos", "SRV")).count(victimPort); }, 1s);
    CHECK(ms >= 0);
    MESSAGE("killed instance gone from DNS ", ms, " ms after the master dropped it");
    CHECK(srvPorts(dig(dns, "_web-dns._tcp.marathon.mesos", "SRV")).size() == 4);
  }

  SUBCASE("special names, negative answers, refusals") {
    Dig leader = dig(dns, "leader.mesos", "A");
    CHECK(leader.status == "NOERROR");
    REQUIRE(leader.answer.size() == 1);
    CHECK(leader.answer[0].find("\t5\tIN\tA\t") != std::string::npos);  // --dns_ttl's default
    CHECK(srvPorts(dig(dns, "_leader._tcp.mesos", "SRV")) == std::multiset<int>{http});
    CHECK(dig(dns, "master.mesos", "A").answer.size() == 1);
    CHECK(lastFields(dig(dns, "slave.mesos", "A").answer) == std::vector<std::string>{"127.0.0.1"});
    CHECK(lastFields(dig(dns, "agent.mesos", "A").answer) == std::vector<std::string>{"127.0.0.1"});
    CHECK(dig(dns, "mesos", "SOA").answer.size() == 1);
    CHECK(dig(dns, "mesos", "NS").answer.size() == 1);

    Dig unknown = dig(dns, "nope.marathon.mesos", "A");
    CHECK(unknown.status == "NXDOMAIN");
    CHECK(unknown.answer.empty());
    REQUIRE(unknown.authority.size() == 1);
    CHECK(unknown.authority[0].find("SOA") != std::string::npos);
    // The name exists, without records of that type: NODATA (NOERROR, no answer, the SOA).
    Dig nodata = dig(dns, "web-dns.marathon.mesos", "AAAA");
    CHECK(nodata.status == "NOERROR");
    CHECK(nodata.answer.empty());
    CHECK(nodata.authority.size() == 1);
    CHECK(dig(dns, "_tcp.marathon.mesos", "A").status == "NOERROR");  // an empty non-terminal
    CHECK(dig(dns, "example.com", "A").status == "REFUSED");         // --dns_recurse=false
    CHECK(dig(dns, "mesos", "AXFR").raw.find("Transfer failed") != std::string::npos);
  }

  SUBCASE("an instance with a health check is listed once it is healthy") {
    json checked = appDef("/dns/checked", "exec sleep 600", 1);
    checked["cpus"] = 0.01;
    checked["mem"] = 8;
    checked["portDefinitions"] = json::array({{{"port", 0}}});
    checked["healthChecks"] = json::array({{{"protocol", "COMMAND"},
                                            {"command", {{"value", "test -f " + dir.file("healthy")}}},
                                            {"gracePeriodSeconds", 300},
                                            {"intervalSeconds", 1},
                                            {"timeoutSeconds", 1},
                                            {"maxConsecutiveFailures", 1000},
                                            {"delaySeconds", 0}}});
    REQUIRE(mPost(http, "/v2/apps", checked).status == 201);
    REQUIRE(waitForRunning(http, "/dns/checked", 1, 30s));
    CHECK(dig(dns, "checked-dns.marathon.mesos", "A").status == "NXDOMAIN");  // running, not healthy
    writeFile(dir.file("healthy"), "");
    REQUIRE(waitFor([&] { return countHealthy(appTasks(http, "/dns/checked")) == 1; }, 20s));
    long ms = msUntil([&] { return dig(dns, "checked-dns.marathon.mesos", "A").answer.size() == 1; }, 1s);
    CHECK(ms >= 0);
    MESSAGE("healthy instance in DNS ", ms, " ms after the service scheduler reported it healthy");
  }

  SUBCASE("the HTTP view answers in Mesos-DNS' shapes") {
    auto services = mGet(http, "/v1/services/_web-dns._tcp.marathon.mesos.");
    REQUIRE(services.status == 200);
    REQUIRE(services.json.size() == 3);
    std::multiset<int> viewPorts;
    for (const auto& s : services.json) {
      viewPorts.insert(std::stoi(s["port"].get<std::string>()));
      CHECK(s["ip"] == "127.0.0.1");
      CHECK(s["service"] == "_web-dns._tcp.marathon.mesos.");
    }
    CHECK(viewPorts == ports);
    auto hosts = mGet(http, "/v1/hosts/web-dns.marathon.mesos");
    CHECK(hosts.json == json::array({{{"host", "web-dns.marathon.mesos."}, {"ip", "127.0.0.1"}}}));
    auto enumerate = mGet(http, "/v1/enumerate");
    REQUIRE(enumerate.status == 200);
    bool found = false;
    for (const auto& fw : enumerate.json["frameworks"]) {
      if (fw["name"] == "marathon") found = fw["tasks"].size() == 3;
    }
    CHECK_MESSAGE(found, enumerate.body);
    CHECK(mGet(http, "/v1/version").json.contains("Version"));
    auto outside = mGet(http, "/v1/hosts/example.com");
    CHECK(outside.status == 404);
    CHECK(outside.json["details"][0]["path"] == "/host");
  }
}

TEST_CASE("a large SRV answer over UDP is truncated with TC; over TCP it is complete") {
  if (digMissing()) return;
  TempDir dir;
  auto dev = startDev(dir);
  int http = dev->port();
  int dns = dnsPortOf(http);
  REQUIRE(mPost(http, "/v2/apps", webApp(dir, 3, 10)).status == 201);
  REQUIRE(waitForRunning(http, "/dns/web", 3, 30s));
  REQUIRE(waitFor([&] { return srvPorts(dig(dns, "_web-dns._tcp.marathon.mesos", "SRV", "+tcp")).size() == 30; }, 2s));

  Dig udp = dig(dns, "_web-dns._tcp.marathon.mesos", "SRV", "+ignore +noedns");
  CHECK_MESSAGE(udp.hasFlag("tc"), udp.raw);
  CHECK(udp.answer.size() < 30);
  Dig tcp = dig(dns, "_web-dns._tcp.marathon.mesos", "SRV", "+tcp");
  CHECK(!tcp.hasFlag("tc"));
  CHECK(tcp.answer.size() == 30);
  CHECK(tcp.additional.size() == 3);
  CHECK(srvPorts(tcp) == taskPorts(http, "/dns/web"));
}

namespace {

// A hand-made query: header (id 0x1234, RD, one question), then `question` bytes as given.
std::string query(const std::string& question, uint16_t flags = 0x0100, uint16_t qdcount = 1) {
  std::string p{'\x12', '\x34', static_cast<char>(flags >> 8), static_cast<char>(flags & 0xff), 0,
                static_cast<char>(qdcount), 0, 0, 0, 0, 0, 0};
  return p + question;
}
std::string qname(std::initializer_list<std::string> labels) {
  std::string out;
  for (const auto& l : labels) out += static_cast<char>(l.size()) + l;
  return out + '\0';
}
std::string typeClass(uint16_t type, uint16_t klass) {
  return {static_cast<char>(type >> 8), static_cast<char>(type & 0xff), static_cast<char>(klass >> 8),
          static_cast<char>(klass & 0xff)};
}

struct UdpClient {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  explicit UdpClient(int port) {
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{0, 300 * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~UdpClient() { ::close(fd); }
  void send(const std::string& packet) {
    ::sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }
  // The reply, or "" when none arrives within 300 ms.
  std::string exchange(const std::string& packet) {
    char buf[4096];
    while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
    send(packet);
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
};

int rcode(const std::string& reply) { return reply.size() >= 4 ? reply[3] & 0x0f : -1; }

}  // namespace

TEST_CASE("hostile packets get FORMERR, NOTIMP or REFUSED, or are dropped; a flood does not stop the server") {
  TempDir dir;
  MasterProcess master(dir.file("master"), {"--dns_recurse=false"});
  int dns = dnsPortOf(master.port());
  UdpClient c(dns);
  const std::string leader = qname({"leader", "mesos"});
  REQUIRE(rcode(c.exchange(query(leader + typeClass(1, 1)))) == 0);

  CHECK(c.exchange("\x12\x34\x01").empty());                                     // shorter than a header: dropped
  CHECK(c.exchange(query(leader + typeClass(1, 1), 0x8100)).empty());            // a response: dropped
  CHECK(rcode(c.exchange(query(""))) == 1);                                      // question missing
  CHECK(rcode(c.exchange(query(std::string("\x06leader\xc0\x0c", 9) + typeClass(1, 1)))) == 1);  // pointer loop
  CHECK(rcode(c.exchange(query(std::string("\xc0\x20", 2) + typeClass(1, 1)))) == 1);  // pointer past the end
  CHECK(rcode(c.exchange(query(std::string(1, '\x40') + std::string(64, 'a') + '\0' + typeClass(1, 1)))) == 1);
  std::string longName;
  for (int i = 0; i < 5; ++i) longName += '\x3f' + std::string(63, 'a');
  CHECK(rcode(c.exchange(query(longName + '\0' + typeClass(1, 1)))) == 1);     // over 255 bytes
  CHECK(rcode(c.exchange(query(leader + typeClass(1, 1), 0x1100))) == 4);     // opcode STATUS: NOTIMP
  CHECK(rcode(c.exchange(query(leader + typeClass(1, 1) + leader + typeClass(1, 1), 0x0100, 2))) == 1);
  CHECK(rcode(c.exchange(query(leader + typeClass(1, 3)))) == 5);             // class CHAOS: REFUSED
  CHECK(rcode(c.exchange(query(leader + typeClass(65000, 1)))) == 0);         // unknown type: NODATA
  CHECK(rcode(c.exchange(query(leader + typeClass(1, 1) + "trailing"))) == 1);

  // 20,000 random packets as fast as they go, then a normal query is still answered.
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string junk(static_cast<size_t>(rng() % 64), '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    if (i % 2 == 0 && junk.size() > 12) junk = query(junk.substr(12));
    c.send(junk);
  }
  CHECK(waitFor([&] { return rcode(c.exchange(query(leader + typeClass(1, 1)))) == 0; }, 5s));

  // TCP: a length prefix promising more than is sent, idle connections beyond the limit, and
  // still a normal answer over TCP afterwards (dig).
  std::vector<int> sockets;
  for (int i = 0; i < 300; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to = c.to;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) ::send(fd, "\xff\xff\x12", 3, MSG_NOSIGNAL);
    sockets.push_back(fd);
  }
  CHECK(rcode(c.exchange(query(leader + typeClass(1, 1)))) == 0);
  for (int fd : sockets) ::close(fd);
  if (haveCommand("dig")) {
    CHECK(waitFor([&] { return dig(dns, "leader.mesos", "A", "+tcp").answer.size() == 1; }, 5s));
  }
  CHECK(master.process().running());
}

TEST_CASE("names outside the domain go to the upstream resolvers over UDP and TCP; a dead upstream is SERVFAIL") {
  if (digMissing()) return;
  TempDir dir;
  // The upstream: another master, answering for its own domain.
  MasterProcess upstream(dir.file("upstream"), {"--dns_domain=upstream.test", "--dns_recurse=false"});
  int upstreamDns = dnsPortOf(upstream.port());
  MasterProcess master(dir.file("master"), {"--dns_resolvers=127.0.0.1:" + std::to_string(upstreamDns)});
  int dns = dnsPortOf(master.port());
  CHECK(dig(dns, "leader.upstream.test", "A").answer.size() == 1);
  CHECK(dig(dns, "leader.upstream.test", "A", "+tcp").answer.size() == 1);
  CHECK(dig(dns, "nothing.upstream.test", "A").status == "NXDOMAIN");
  CHECK(dig(dns, "leader.mesos", "A").answer.size() == 1);  // its own names stay its own

  // Nobody listens on the dead upstream's port: SERVFAIL after the timeout, and the server goes on.
  int deadPort = 0;
  {
    UdpClient probe(0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(probe.fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(probe.fd, reinterpret_cast<sockaddr*>(&a), &len);
    deadPort = ntohs(a.sin_port);
  }
  MasterProcess lonely(dir.file("lonely"), {"--dns_resolvers=127.0.0.1:" + std::to_string(deadPort), "--dns_timeout=300ms"});
  int lonelyDns = dnsPortOf(lonely.port());
  CHECK(dig(lonelyDns, "example.com", "A").status == "SERVFAIL");
  CHECK(dig(lonelyDns, "example.com", "A", "+tcp").status == "SERVFAIL");
  CHECK(dig(lonelyDns, "leader.mesos", "A").answer.size() == 1);
}

TEST_CASE("dcos agent --dns_setup prints the resolv.conf line for the master's DNS server") {
  TempDir dir;
  MasterProcess master(dir.file("master"), {"--dns_domain=dc1.test"});
  auto r = runDcos({"agent", "--master=127.0.0.1:" + std::to_string(master.port()), "--dns_setup"});
  CHECK_MESSAGE(r.exitCode == 0, r.err);
  CHECK(r.out.find("\nnameserver 127.0.0.1\n") != std::string::npos);
  CHECK(r.out.find(".dc1.test names") != std::string::npos);
  // The test master's DNS port is not 53, which resolv.conf cannot name: the output says so.
  CHECK(r.out.find("--dns_port 53") != std::string::npos);

  MasterProcess quiet(dir.file("quiet"), {"--dns_port=off"});
  auto off = runDcos({"agent", "--master=127.0.0.1:" + std::to_string(quiet.port()), "--dns_setup"});
  CHECK(off.exitCode == 1);
  CHECK(off.err.find("does not serve DNS") != std::string::npos);
  auto none = runDcos({"agent", "--master=127.0.0.1:1", "--dns_setup"});
  CHECK(none.exitCode == 1);
  CHECK(none.err.find("cannot ask the master") != std::string::npos);
}
