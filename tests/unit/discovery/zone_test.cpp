#include "discovery/dns_answer.hpp"
#include "discovery/dns_server.hpp"
#include "discovery/zone.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

using namespace dcos::discovery;
namespace dns = dcos::discovery::dns;

namespace {

ClusterSnapshot::Task task(const std::string& id, const std::string& name, const std::string& agentId, Ipv4 ip,
                           std::vector<uint32_t> ports) {
  ClusterSnapshot::Task t;
  t.id = id;
  t.name = name;
  t.framework = "marathon";
  t.agentId = agentId;
  t.ip = ip;
  t.hostPorts = ports;
  t.hasDiscoveryInfo = true;
  for (auto p : ports) t.discoveryPorts.push_back({p, "tcp", p == ports.front() ? "http" : ""});
  return t;
}

ClusterSnapshot cluster() {
  ClusterSnapshot s;
  s.leaderIp = {10, 0, 0, 1};
  s.leaderPort = 5050;
  s.agents = {{"c-S0", "node-a.example.com", {10, 0, 0, 2}, 5051}, {"c-S1", "10.0.0.3", {10, 0, 0, 3}, 5051}};
  s.frameworks = {{"marathon", Ipv4{10, 0, 0, 1}}, {"spark.prod", std::nullopt}};
  s.tasks = {task("prod_web.1", "web-prod", "c-S0", {10, 0, 0, 2}, {31000}),
             task("prod_web.2", "web-prod", "c-S1", {10, 0, 0, 3}, {31001}),
             task("prod_web.3", "web-prod", "c-S1", {10, 0, 0, 3}, {31002})};
  return s;
}

dns::Message ask(const Zone& zone, const std::string& name, uint16_t type) {
  dns::Message m;
  zone.answer({name, type, dns::kClassIN}, m);
  return m;
}

std::set<uint16_t> ports(const dns::Message& m) {
  std::set<uint16_t> out;
  for (const auto& r : m.answers) out.insert(r.srv.port);
  return out;
}

std::vector<uint8_t> packet(const std::string& name, uint16_t type, uint16_t klass = dns::kClassIN, uint8_t opcode = 0,
                            std::optional<uint16_t> edns = std::nullopt) {
  dns::Message q;
  q.header.id = 77;
  q.header.rd = true;
  q.header.opcode = opcode;
  q.questions = {{name, type, klass}};
  q.ednsUdpSize = edns;
  return dns::encode(q).value();
}

dns::Message reply(const Zone& zone, const std::vector<uint8_t>& query, bool udp = true, bool recurse = true) {
  Reply r = answerQuery(query, zone, {.overUdp = udp, .recurse = recurse});
  REQUIRE(r.action == Reply::Action::kAnswer);
  auto m = dns::parse(r.bytes);
  REQUIRE(m);
  return *m;
}

}  // namespace

TEST_CASE("dnsLabel keeps Mesos-DNS' alphabet and trims") {
  CHECK(dnsLabel("Web.Prod") == "web-prod");
  CHECK(dnsLabel("my_app 1") == "my-app-1");
  CHECK(dnsLabel("-a$b-") == "ab");
  CHECK(dnsLabel("!!!") == "");
  CHECK(dnsLabel(std::string(100, 'x')).size() == 63);
}

TEST_CASE("parseIpv4 takes dotted quads only") {
  CHECK(parseIpv4("10.0.0.255") == Ipv4{10, 0, 0, 255});
  CHECK_FALSE(parseIpv4("10.0.0.256"));
  CHECK_FALSE(parseIpv4("10.0.0"));
  CHECK_FALSE(parseIpv4("10.0.0.1:80"));
  CHECK_FALSE(parseIpv4("host"));
  CHECK(formatIpv4({192, 168, 1, 2}) == "192.168.1.2");
}

TEST_CASE("task names: A per agent address, SRV per instance and port, targets with their A records") {
  auto zone = Zone::build(cluster(), {}, 1);
  auto a = ask(*zone, "web-prod.marathon.mesos", dns::type::kA);
  CHECK(a.header.rcode == dns::Rcode::kNoError);
  CHECK(a.answers.size() == 2);  // two agents; the two instances on 10.0.0.3 share one record
  auto srv = ask(*zone, "_web-prod._tcp.marathon.mesos", dns::type::kSRV);
  CHECK(ports(srv) == std::set<uint16_t>{31000, 31001, 31002});
  std::set<std::string> targets;
  for (const auto& r : srv.answers) targets.insert(r.srv.target);
  CHECK(targets.size() == 3);
  CHECK(srv.additional.size() == 3);
  for (const auto& add : srv.additional) CHECK(targets.count(add.name) == 1);
  // The named port, the slave variant (host ports, tcp and udp) and the per-instance names.
  CHECK(ask(*zone, "_http._web-prod._tcp.marathon.mesos", dns::type::kSRV).answers.size() == 3);
  CHECK(ports(ask(*zone, "_web-prod._udp.marathon.slave.mesos", dns::type::kSRV)) == std::set<uint16_t>{31000, 31001, 31002});
  CHECK(ask(*zone, "web-prod.marathon.slave.mesos", dns::type::kA).answers.size() == 2);
  for (const auto& t : targets) CHECK(ask(*zone, t, dns::type::kA).answers.size() == 1);
  CHECK(std::all_of(targets.begin(), targets.end(), [](const std::string& t) { return t.find("-s") != std::string::npos; }));
}

TEST_CASE("tasks without discovery info get SRV records from their port resources, tcp and udp") {
  auto s = cluster();
  s.tasks = {task("a.1", "a", "c-S0", {10, 0, 0, 2}, {31000, 31001})};
  s.tasks[0].hasDiscoveryInfo = false;
  auto zone = Zone::build(s, {}, 1);
  CHECK(ports(ask(*zone, "_a._tcp.marathon.mesos", dns::type::kSRV)) == std::set<uint16_t>{31000, 31001});
  CHECK(ports(ask(*zone, "_a._udp.marathon.mesos", dns::type::kSRV)) == std::set<uint16_t>{31000, 31001});
}

TEST_CASE("leader, master, agents and frameworks") {
  auto zone = Zone::build(cluster(), {"mesos", 7}, 3);
  auto leader = ask(*zone, "leader.mesos", dns::type::kA);
  REQUIRE(leader.answers.size() == 1);
  CHECK(leader.answers[0].a == Ipv4{10, 0, 0, 1});
  CHECK(leader.answers[0].ttl == 7);
  CHECK(ask(*zone, "_leader._tcp.mesos", dns::type::kSRV).answers.at(0).srv.port == 5050);
  CHECK(ask(*zone, "master.mesos", dns::type::kA).answers.size() == 1);
  CHECK(ask(*zone, "slave.mesos", dns::type::kA).answers.size() == 2);
  CHECK(ask(*zone, "agent.mesos", dns::type::kA).answers.size() == 2);
  CHECK(ask(*zone, "node-a.agent.mesos", dns::type::kA).answers.at(0).a == Ipv4{10, 0, 0, 2});
  CHECK(ask(*zone, "s1.slave.mesos", dns::type::kA).answers.at(0).a == Ipv4{10, 0, 0, 3});  // hostname is an address
  CHECK(ask(*zone, "marathon.mesos", dns::type::kA).answers.size() == 1);
  // A framework with dots keeps them; without a known address its name exists without records.
  CHECK(ask(*zone, "spark.prod.mesos", dns::type::kA).header.rcode == dns::Rcode::kNxDomain);
  auto soa = ask(*zone, "mesos", dns::type::kSOA);
  REQUIRE(soa.answers.size() == 1);
  CHECK(soa.answers[0].soa.serial == 3);
  CHECK(soa.answers[0].soa.mname == "ns1.mesos");
  CHECK(ask(*zone, "mesos", dns::type::kNS).answers.at(0).target == "ns1.mesos");
  CHECK(ask(*zone, "ns1.mesos", dns::type::kA).answers.size() == 1);
}

TEST_CASE("negative answers: NXDOMAIN for missing names, NODATA for other types, both with the SOA") {
  auto zone = Zone::build(cluster(), {}, 1);
  auto missing = ask(*zone, "nope.marathon.mesos", dns::type::kA);
  CHECK(missing.header.rcode == dns::Rcode::kNxDomain);
  REQUIRE(missing.authority.size() == 1);
  CHECK(missing.authority[0].type == dns::type::kSOA);
  for (const char* name : {"web-prod.marathon.mesos", "_tcp.marathon.mesos", "marathon.slave.mesos"}) {
    auto nodata = ask(*zone, name, dns::type::kAAAA);
    CHECK(nodata.header.rcode == dns::Rcode::kNoError);
    CHECK(nodata.answers.empty());
    CHECK(nodata.authority.size() == 1);
  }
  CHECK(ask(*zone, "WEB-PROD.Marathon.Mesos", dns::type::kA).answers.size() == 2);
}

TEST_CASE("a custom domain, and rotation turns the order of answers") {
  auto zone = Zone::build(cluster(), {"dc1.corp", 5}, 1);
  CHECK(zone->inDomain("leader.dc1.corp"));
  CHECK(zone->inDomain("dc1.corp"));
  CHECK_FALSE(zone->inDomain("xdc1.corp"));
  CHECK_FALSE(zone->inDomain("leader.mesos"));
  dns::Message first, second;
  zone->answer({"_web-prod._tcp.marathon.dc1.corp", dns::type::kSRV, dns::kClassIN}, first, 0);
  zone->answer({"_web-prod._tcp.marathon.dc1.corp", dns::type::kSRV, dns::kClassIN}, second, 1);
  CHECK(first.answers.at(0).srv.port != second.answers.at(0).srv.port);
}

TEST_CASE("answerQuery: flags, refusals, forwarding and truncation") {
  auto zone = Zone::build(cluster(), {}, 1);
  auto ok = reply(*zone, packet("leader.mesos", dns::type::kA));
  CHECK(ok.header.id == 77);
  CHECK(ok.header.qr);
  CHECK(ok.header.aa);
  CHECK(ok.header.rd);
  CHECK(ok.header.ra);
  CHECK(ok.questions.at(0).name == "leader.mesos");
  CHECK(reply(*zone, packet("leader.mesos", dns::type::kA), true, false).header.ra == false);

  CHECK(reply(*zone, packet("leader.mesos", dns::type::kA, 3)).header.rcode == dns::Rcode::kRefused);  // CHAOS
  CHECK(reply(*zone, packet("mesos", dns::type::kAXFR)).header.rcode == dns::Rcode::kRefused);
  CHECK(reply(*zone, packet("leader.mesos", dns::type::kA, dns::kClassIN, 2)).header.rcode == dns::Rcode::kNotImp);
  CHECK(reply(*zone, packet("example.com", dns::type::kA), true, false).header.rcode == dns::Rcode::kRefused);
  CHECK(answerQuery(packet("example.com", dns::type::kA), *zone, {}).action == Reply::Action::kForward);
  std::vector<uint8_t> shortPacket{1, 2, 3};
  CHECK(answerQuery(shortPacket, *zone, {}).action == Reply::Action::kDrop);
  auto response = packet("leader.mesos", dns::type::kA);
  response[2] |= 0x80;  // QR: a response is never answered
  CHECK(answerQuery(response, *zone, {}).action == Reply::Action::kDrop);
  auto garbage = packet("leader.mesos", dns::type::kA);
  garbage.push_back(0);
  CHECK(reply(*zone, garbage).header.rcode == dns::Rcode::kFormErr);

  // 40 instances: too many for 512 bytes over UDP, all of them over TCP or with a big EDNS0 size.
  auto s = cluster();
  s.tasks.clear();
  for (uint32_t i = 0; i < 40; ++i) s.tasks.push_back(task("big." + std::to_string(i), "big", "c-S0", {10, 0, 0, 2}, {31000 + i}));
  auto big = Zone::build(s, {}, 1);
  auto udp = reply(*big, packet("_big._tcp.marathon.mesos", dns::type::kSRV));
  CHECK(udp.header.tc);
  CHECK(udp.answers.size() < 40);
  auto tcp = reply(*big, packet("_big._tcp.marathon.mesos", dns::type::kSRV), false);
  CHECK_FALSE(tcp.header.tc);
  CHECK(tcp.answers.size() == 40);
  CHECK(tcp.additional.size() == 40);
  auto edns = reply(*big, packet("_big._tcp.marathon.mesos", dns::type::kSRV, dns::kClassIN, 0, 4096));
  CHECK_FALSE(edns.header.tc);
  CHECK(edns.answers.size() == 40);
  CHECK(edns.ednsUdpSize.has_value());
}

TEST_CASE("serverFailure answers the query's id and question with SERVFAIL") {
  auto failed = dns::parse(serverFailure(packet("example.com", dns::type::kA)));
  REQUIRE(failed);
  CHECK(failed->header.id == 77);
  CHECK(failed->header.rcode == dns::Rcode::kServFail);
  CHECK(failed->questions.at(0).name == "example.com");
}

TEST_CASE("parseUpstreams and parseResolvConf") {
  auto u = parseUpstreams("10.0.0.2,10.0.0.3:5353");
  REQUIRE(u);
  REQUIRE(u->size() == 2);
  CHECK(u->at(1).port == 5353);
  CHECK_FALSE(parseUpstreams("10.0.0.2:0"));
  CHECK_FALSE(parseUpstreams("resolver.example"));
  CHECK(parseUpstreams("bad:x").error().message.find("bad:x") != std::string::npos);
  auto r = parseResolvConf("# comment\nnameserver 10.1.1.1\nsearch x\nnameserver ::1\nnameserver 10.1.1.2\n");
  REQUIRE(r.size() == 2);
  CHECK(r[0].ip == "10.1.1.1");
}
