#include "kernel/agent/detect.hpp"

#include "tests/support/support.hpp"

#include <doctest/doctest.h>

using namespace dcos;
using namespace dcos::kernel;

namespace {

constexpr uint64_t kMB = 1024 * 1024;
constexpr uint64_t kGB = 1024 * kMB;

Resources parse(const std::string& text) {
  auto r = Resources::parse(text);
  REQUIRE_MESSAGE(r.ok(), text);
  return *r;
}

}  // namespace

TEST_SUITE("agent detection") {

TEST_CASE("detected resources leave Mesos' reserve of memory and disk to the system") {
  auto big = defaultResources({.cpus = 8, .memTotalBytes = 16 * kGB, .diskTotalBytes = 100 * kGB});
  CHECK(big.cpus() == Scalar::fromDouble(8));
  CHECK(big.mem() == Scalar::fromDouble(15 * 1024));
  CHECK(big.disk() == Scalar::fromDouble(95 * 1024));
  CHECK(big.ranges("ports") == Ranges({{31000, 32000}}));
  CHECK(big.unreserved() == big);

  // Small machines keep half of each instead.
  auto small = defaultResources({.cpus = 1, .memTotalBytes = 1 * kGB, .diskTotalBytes = 4 * kGB});
  CHECK(small.mem() == Scalar::fromDouble(512));
  CHECK(small.disk() == Scalar::fromDouble(2048));
}

TEST_CASE("this machine's facts are plausible") {
  test::TempDir dir;
  auto facts = readMachineFacts(dir.path());
  REQUIRE(facts.ok());
  CHECK(facts->cpus >= 1);
  CHECK(facts->memTotalBytes > 64 * kMB);
  CHECK(facts->diskTotalBytes > 0);
  CHECK_FALSE(readMachineFacts(dir.file("missing/dir")).ok());
}

TEST_CASE("--resources replaces the detected value of every name it mentions, roles included") {
  auto detected = parse("cpus:8;mem:15360;disk:1000;ports:[31000-32000]");
  auto r = applyResourcesFlag(detected, "cpus:4;mem:2048;cpus(ads):2");
  REQUIRE(r.ok());
  CHECK(r->unreserved().cpus() == Scalar::fromDouble(4));
  CHECK(r->reservedFor("ads").cpus() == Scalar::fromDouble(2));
  CHECK(r->cpus() == Scalar::fromDouble(6));
  CHECK(r->mem() == Scalar::fromDouble(2048));
  CHECK(r->disk() == Scalar::fromDouble(1000));  // not mentioned: detected
  CHECK(r->ranges("ports") == Ranges({{31000, 32000}}));
}

TEST_CASE("--resources may reserve the whole of a resource and add new ones") {
  auto detected = parse("cpus:8;mem:1024;ports:[31000-32000]");
  auto r = applyResourcesFlag(detected, "ports(web):[8000-8100];gpus:1");
  REQUIRE(r.ok());
  CHECK(r->unreserved().ranges("ports").empty());
  CHECK(r->reservedFor("web").ranges("ports") == Ranges({{8000, 8100}}));
  CHECK(r->scalar("gpus") == Scalar::fromDouble(1));
  CHECK(r->cpus() == Scalar::fromDouble(8));
}

TEST_CASE("--resources also takes a JSON array of v1 resources") {
  auto detected = parse("cpus:8;mem:1024");
  auto r = applyResourcesFlag(detected, R"([{"name":"mem","type":"SCALAR","scalar":{"value":512}}])");
  REQUIRE(r.ok());
  CHECK(r->mem() == Scalar::fromDouble(512));
  CHECK(r->cpus() == Scalar::fromDouble(8));
}

TEST_CASE("an empty --resources keeps what was detected") {
  auto detected = parse("cpus:8;mem:1024");
  auto r = applyResourcesFlag(detected, "  ");
  REQUIRE(r.ok());
  CHECK(*r == detected);
}

TEST_CASE("a bad --resources is an error naming the flag and the problem") {
  auto detected = parse("cpus:8");
  for (const char* bad : {"cpus:lots", "cpus", "mem:-5", "ports:[5-1]", "cpus(/bad/):1", "[{]"}) {
    auto r = applyResourcesFlag(detected, bad);
    REQUIRE_MESSAGE(!r.ok(), bad);
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
    CHECK_MESSAGE(r.error().message.find("--resources") != std::string::npos, r.error().message);
  }
  auto r = applyResourcesFlag(detected, "cpus:lots");
  CHECK(r.error().message.find("'lots' for cpus is not a number") != std::string::npos);
}

TEST_CASE("attributes become TEXT, SCALAR and RANGES v1 attributes") {
  auto a = parseAttributes("rack:r1; zone:a;level:3;weight:0.5;slots:[1-4,8-9]");
  REQUIRE(a.ok());
  REQUIRE(a->size() == 5);
  CHECK((*a)[0] == Json::parse(R"({"name":"rack","type":"TEXT","text":{"value":"r1"}})"));
  CHECK((*a)[1]["text"]["value"] == "a");
  CHECK((*a)[2] == Json::parse(R"({"name":"level","type":"SCALAR","scalar":{"value":3.0}})"));
  CHECK((*a)[3]["scalar"]["value"] == 0.5);
  CHECK((*a)[4] == Json::parse(
                       R"({"name":"slots","type":"RANGES","ranges":{"range":[{"begin":1,"end":4},{"begin":8,"end":9}]}})"));
  // Text that merely starts with a digit stays text.
  CHECK((*parseAttributes("os:12.04lts"))[0]["type"] == "TEXT");
  CHECK((*parseAttributes("t:-2"))[0]["scalar"]["value"] == -2.0);
  for (const char* text : {"t:1.", "t:.5", "t:1.2.3", "t:-", "t:1e3"}) {
    CHECK_MESSAGE((*parseAttributes(text))[0]["type"] == "TEXT", text);
  }
  CHECK(parseAttributes("")->empty());
}

TEST_CASE("malformed attributes are errors naming the flag") {
  for (const char* bad : {"rack", "rack:", ":r1", "rack:a;rack:b", "set:{a,b}", "ports:[x-y]"}) {
    auto a = parseAttributes(bad);
    REQUIRE_MESSAGE(!a.ok(), bad);
    CHECK(a.error().code == ErrorCode::kInvalidArgument);
    CHECK(a.error().message.rfind("invalid --attributes: ", 0) == 0);
  }
}

TEST_CASE("the hostname flag wins over the machine's name") {
  CHECK(agentHostname("agent-7.example") == "agent-7.example");
  CHECK_FALSE(agentHostname("").empty());
}

}
