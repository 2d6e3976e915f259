#include "kernel/resources/resources.hpp"

#include <doctest/doctest.h>

using namespace dcos;
using namespace dcos::kernel;

namespace {
Resources parse(const std::string& text) {
  auto r = Resources::parse(text);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return *r;
}
}  // namespace

TEST_CASE("the Mesos text syntax parses scalars, ranges, sets and roles") {
  auto r = parse("cpus:4;mem:2048;ports:[31000-32000, 8080-8080];cpus(ads):2;zones:{a,b}");
  CHECK(r.cpus() == Scalar::fromDouble(6));
  CHECK(r.unreserved().cpus() == Scalar::fromDouble(4));
  CHECK(r.reservedFor("ads").cpus() == Scalar::fromDouble(2));
  CHECK(r.mem() == Scalar::fromDouble(2048));
  CHECK(r.ranges("ports").count() == 1002);
  CHECK(r.ranges("ports").contains(8080));
  CHECK_FALSE(r.ranges("ports").contains(8081));
  CHECK(r.toString().find("zones(*):{a,b}") != std::string::npos);
}

TEST_CASE("bad resource text is refused with a reason") {
  for (const char* bad : {"cpus:-1", "cpus:abc", "cpus:nan", "cpus", "ports:[32000-31000]", "ports:[1-2",
                          "cpus( ads):1", "cpus(-x):1", ":4", "mem:1e300"}) {
    CAPTURE(bad);
    CHECK_FALSE(Resources::parse(bad).ok());
  }
}

TEST_CASE("scalars are fixed-point: adding 0.1 ten times is exactly 1") {
  Resources r;
  auto tenth = parse("cpus:0.1");
  for (int i = 0; i < 10; ++i) r += tenth;
  CHECK(r.cpus() == Scalar::fromDouble(1.0));
  CHECK(r.cpus().millis() == 1000);
  for (int i = 0; i < 10; ++i) r -= tenth;
  CHECK(r.empty());
  CHECK(Scalar::fromDouble(0.0004).millis() == 0);
  CHECK(Scalar::fromDouble(0.0005).millis() == 1);
}

TEST_CASE("ranges add, subtract and stay normalized") {
  Ranges a({{1, 5}, {10, 20}});
  Ranges b({{6, 9}});
  CHECK((a + b).ranges().size() == 1);
  CHECK((a + b).count() == 20);
  auto c = Ranges({{1, 20}}) - Ranges({{3, 4}, {10, 10}, {20, 25}});
  CHECK(c.toString() == "[1-2, 5-9, 11-19]");
  CHECK(Ranges({{1, 20}}).contains(Ranges({{3, 4}, {19, 20}})));
  CHECK_FALSE(Ranges({{1, 20}}).contains(Ranges({{19, 21}})));
}

TEST_CASE("contains and subtraction respect reservations") {
  auto total = parse("cpus:4;mem:1024;cpus(ads):2;ports:[31000-31010]");
  CHECK(total.contains(parse("cpus:3;ports:[31000-31005]")));
  CHECK_FALSE(total.contains(parse("cpus:5")));  // only 4 unreserved
  CHECK(total.contains(parse("cpus(ads):2")));
  CHECK_FALSE(total.contains(parse("cpus(web):1")));
  auto left = total - parse("cpus:1;ports:[31003-31004]");
  CHECK(left.unreserved().cpus() == Scalar::fromDouble(3));
  CHECK(left.ranges("ports").toString() == "[31000-31002, 31005-31010]");
  CHECK(total.availableTo("ads").cpus() == Scalar::fromDouble(6));
  CHECK(total.availableTo("web").cpus() == Scalar::fromDouble(4));
}

TEST_CASE("Mesos v1 JSON round-trips, including reservations and allocation") {
  auto r = parse("cpus:1.5;cpus(ads):0.5;ports:[31000-31002];disks:{ssd}").allocate("ads");
  auto back = Resources::fromJson(r.toJson());
  REQUIRE(back.ok());
  CHECK(*back == r);
  auto j = r.toJson();
  bool sawReserved = false;
  for (const auto& x : j) {
    CHECK(x["allocation_info"]["role"] == "ads");
    if (x["role"] == "ads") {
      sawReserved = true;
      CHECK(x["reservations"][0]["type"] == "STATIC");
    }
  }
  CHECK(sawReserved);
}

TEST_CASE("hostile JSON resources are refused with the field path") {
  struct Case {
    const char* json;
    const char* path;
  };
  for (const auto& c : std::vector<Case>{
           {R"([{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}])", "/resources/0/scalar/value"},
           {R"([{"name":"cpus","type":"SCALAR","scalar":{"value":"1"}}])", "/resources/0/scalar/value"},
           {R"([{"name":"cpus","type":"SCALAR"}])", "/resources/0/scalar/value"},
           {R"([{"type":"SCALAR","scalar":{"value":1}}])", "/resources/0/name"},
           {R"([{"name":"x","type":"TEXT"}])", "/resources/0/type"},
           {R"([{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":5,"end":1}]}}])", "/resources/0/ranges/range/0"},
           {R"([{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":""}])", "/resources/0/role"},
           {R"({"name":"cpus"})", "/resources"},
       }) {
    CAPTURE(c.json);
    auto r = Resources::fromJson(Json::parse(c.json));
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.error().details.size() == 1);
    CHECK(r.error().details[0].path == c.path);
  }
}
