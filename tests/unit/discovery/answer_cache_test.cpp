#include "discovery/answer_cache.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace dcos::discovery;
namespace dns = dcos::discovery::dns;

namespace {

std::shared_ptr<const Zone> zoneWith(int instances, uint32_t serial) {
  ClusterSnapshot s;
  s.leaderIp = {10, 0, 0, 1};
  for (int i = 0; i < instances; ++i) {
    ClusterSnapshot::Task t;
    t.id = "web." + std::to_string(i);
    t.name = "web";
    t.framework = "marathon";
    t.agentId = "c-S" + std::to_string(i);
    t.ip = {10, 0, 1, static_cast<uint8_t>(i)};
    t.hostPorts = {static_cast<uint32_t>(31000 + i)};
    s.tasks.push_back(t);
  }
  return Zone::build(s, {}, serial);
}

std::vector<uint8_t> query(const std::string& name, uint16_t type, uint16_t id, std::optional<uint16_t> edns = std::nullopt) {
  dns::Message q;
  q.header.id = id;
  q.header.rd = id % 2 == 0;
  q.questions = {{name, type, dns::kClassIN}};
  q.ednsUdpSize = edns;
  return dns::encode(q).value();
}

}  // namespace

TEST_CASE("a cached answer equals answerQuery's, with the client's id, RD bit and spelling of the name") {
  auto zone = zoneWith(3, 1);
  AnswerCache cache;
  QueryContext udp{.overUdp = true, .recurse = true, .rotation = 0};
  auto first = cache.answer(query("web.marathon.mesos", dns::type::kA, 10), *zone, udp);
  REQUIRE(first.action == Reply::Action::kAnswer);
  CHECK(cache.hits() == 0);
  auto second = cache.answer(query("WEB.Marathon.mesos", dns::type::kA, 11), *zone, udp);
  CHECK(cache.hits() == 1);
  auto direct = answerQuery(query("WEB.Marathon.mesos", dns::type::kA, 11), *zone, udp);
  CHECK(second.bytes == direct.bytes);
  auto parsed = dns::parse(second.bytes);
  REQUIRE(parsed);
  CHECK(parsed->header.id == 11);
  CHECK_FALSE(parsed->header.rd);
  CHECK(parsed->questions.at(0).name == "WEB.Marathon.mesos");
  CHECK(parsed->answers.size() == 3);
}

TEST_CASE("the cache keys on type, EDNS size and transport, and rotates multi-record answers") {
  auto zone = zoneWith(20, 1);
  AnswerCache cache;
  auto srv = [&](bool overUdp, std::optional<uint16_t> edns, uint32_t rotation) {
    auto r = cache.answer(query("_web._tcp.marathon.mesos", dns::type::kSRV, 7, edns), *zone,
                          {.overUdp = overUdp, .recurse = true, .rotation = rotation});
    return dns::parse(r.bytes).value();
  };
  CHECK(srv(true, std::nullopt, 0).header.tc);
  CHECK(srv(false, std::nullopt, 0).answers.size() == 20);  // TCP: not the truncated UDP answer
  CHECK(srv(true, 4096, 0).answers.size() == 20);
  CHECK(srv(true, std::nullopt, 0).header.tc);  // a hit, still truncated
  std::set<uint16_t> firstPorts;
  for (uint32_t r = 0; r < 40; ++r) firstPorts.insert(srv(false, std::nullopt, r).answers.at(0).srv.port);
  CHECK(firstPorts.size() == AnswerCache::kRotations);
  CHECK(cache.hits() > 20);
}

TEST_CASE("forwards are not cached and a new zone empties the cache") {
  auto zone = zoneWith(1, 1);
  AnswerCache cache;
  QueryContext ctx{};
  CHECK(cache.answer(query("example.com", dns::type::kA, 1), *zone, ctx).action == Reply::Action::kForward);
  CHECK(cache.size() == 0);
  cache.answer(query("web.marathon.mesos", dns::type::kA, 1), *zone, ctx);
  CHECK(cache.size() == 1);
  auto next = zoneWith(2, 2);
  auto r = cache.answer(query("web.marathon.mesos", dns::type::kA, 1), *next, ctx);
  CHECK(dns::parse(r.bytes).value().answers.size() == 2);  // not the old zone's single record
  // Queries off the fast path (two questions) still get answerQuery's answer.
  auto odd = query("web.marathon.mesos", dns::type::kA, 1);
  odd[5] = 2;
  CHECK(dns::parse(cache.answer(odd, *next, ctx).bytes).value().header.rcode == dns::Rcode::kFormErr);
}
