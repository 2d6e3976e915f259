#include "kernel/executor/health_check.hpp"

#include "tests/support/local_server.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

using namespace dcos;
using namespace dcos::kernel;
using namespace std::chrono_literals;
using test::Listener;
using test::unusedPort;

namespace {

HealthCheckSpec parsed(const std::string& text) {
  auto spec = parseHealthCheck(Json::parse(text));
  REQUIRE_MESSAGE(spec.ok(), spec.error().message);
  return *spec;
}

// The error message of a health check that must not parse.
std::string parseError(const std::string& text) {
  auto spec = parseHealthCheck(Json::parse(text));
  REQUIRE_FALSE(spec.ok());
  CHECK(spec.error().code == ErrorCode::kInvalidArgument);
  return spec.error().message;
}

HealthCheckSpec httpCheck(uint16_t port, const std::string& path = "/") {
  HealthCheckSpec spec;
  spec.type = HealthCheckSpec::Type::kHttp;
  spec.port = port;
  spec.path = path;
  spec.timeout = 5s;
  return spec;
}

const TimePoint kLaunched = TimePoint(std::chrono::seconds(1'700'000'000));

}  // namespace

TEST_SUITE("executor health checks") {

TEST_CASE("an HTTP health check takes Mesos' defaults for everything not given") {
  auto spec = parsed(R"({"type":"HTTP","http":{"port":8080}})");
  CHECK(spec.type == HealthCheckSpec::Type::kHttp);
  CHECK(spec.port == 8080);
  CHECK(spec.path == "/");
  CHECK(spec.scheme == "http");
  CHECK(spec.statuses.empty());
  CHECK(spec.delay == 15s);
  CHECK(spec.interval == 10s);
  CHECK(spec.timeout == 20s);
  CHECK(spec.gracePeriod == 10s);
  CHECK(spec.consecutiveFailures == 3);
  CHECK(spec.describe() == "HTTP GET http://127.0.0.1:8080/");
}

TEST_CASE("an HTTP health check reads its path, statuses and timings") {
  auto spec = parsed(R"({"type":"HTTP","http":{"scheme":"http","port":31000,"path":"/health","statuses":[200,204]},
    "delay_seconds":0,"interval_seconds":2.5,"timeout_seconds":1,"grace_period_seconds":30,"consecutive_failures":5})");
  CHECK(spec.path == "/health");
  CHECK(spec.statuses == std::vector<int>{200, 204});
  CHECK(spec.delay == 0s);
  CHECK(spec.interval == 2500ms);
  CHECK(spec.timeout == 1s);
  CHECK(spec.gracePeriod == 30s);
  CHECK(spec.consecutiveFailures == 5);
  CHECK(spec.describe() == "HTTP GET http://127.0.0.1:31000/health");
}

TEST_CASE("a TCP health check names its port") {
  auto spec = parsed(R"({"type":"TCP","tcp":{"port":9000}})");
  CHECK(spec.type == HealthCheckSpec::Type::kTcp);
  CHECK(spec.port == 9000);
  CHECK(spec.describe() == "TCP 127.0.0.1:9000");
}

TEST_CASE("a shell COMMAND health check runs under /bin/sh -c with its environment variables") {
  auto spec = parsed(R"({"type":"COMMAND","command":{"value":"curl -f localhost",
    "environment":{"variables":[{"name":"A","value":"1"},{"name":"B","value":"x=y"}]}}})");
  CHECK(spec.type == HealthCheckSpec::Type::kCommand);
  CHECK(spec.program == "/bin/sh");
  CHECK(spec.argv == std::vector<std::string>{"sh", "-c", "curl -f localhost"});
  CHECK(spec.environment == std::vector<std::string>{"A=1", "B=x=y"});
  CHECK(spec.describe() == "COMMAND 'curl -f localhost'");
}

TEST_CASE("a COMMAND health check without shell runs value with arguments as argv") {
  auto spec = parsed(R"({"type":"COMMAND","command":{"shell":false,"value":"/bin/test","arguments":["test","-e","/tmp"]}})");
  CHECK(spec.program == "/bin/test");
  CHECK(spec.argv == std::vector<std::string>{"test", "-e", "/tmp"});
  CHECK(spec.describe() == "COMMAND 'test -e /tmp'");

  auto bare = parsed(R"({"type":"COMMAND","command":{"shell":false,"value":"/bin/true"}})");
  CHECK(bare.argv == std::vector<std::string>{"/bin/true"});
}

TEST_CASE("the legacy form without type takes the type of its only section") {
  CHECK(parsed(R"({"command":{"value":"true"}})").type == HealthCheckSpec::Type::kCommand);
  CHECK(parsed(R"({"http":{"port":80}})").type == HealthCheckSpec::Type::kHttp);
  CHECK(parsed(R"({"tcp":{"port":80}})").type == HealthCheckSpec::Type::kTcp);
  CHECK(parseError(R"({"http":{"port":80},"tcp":{"port":81}})").rfind("health_check.type: ", 0) == 0);
  CHECK(parseError(R"({"delay_seconds":1})").rfind("health_check.type: ", 0) == 0);
}

TEST_CASE("invalid health checks are rejected naming the field") {
  CHECK(parseError(R"([1])") == "health_check: must be an object");
  CHECK(parseError(R"({"type":"UNKNOWN","http":{"port":80}})").rfind("health_check.type: unknown type UNKNOWN", 0) == 0);
  CHECK(parseError(R"({"type":"HTTP","tcp":{"port":80}})") == "health_check.http: required for an HTTP health check");
  CHECK(parseError(R"({"type":"TCP"})") == "health_check.tcp: required for a TCP health check");
  CHECK(parseError(R"({"type":"COMMAND"})") == "health_check.command: required for a COMMAND health check");
  CHECK(parseError(R"({"type":"COMMAND","command":{"shell":true}})") == "health_check.command.value: is required");
  CHECK(parseError(R"({"type":"HTTP","http":{}})") == "health_check.http.port: is required");
  CHECK(parseError(R"({"type":"HTTP","http":{"port":0}})") == "health_check.http.port: must be 1..65535");
  CHECK(parseError(R"({"type":"HTTP","http":{"port":65536}})") == "health_check.http.port: must be 1..65535");
  CHECK(parseError(R"({"type":"TCP","tcp":{"port":-1}})") == "health_check.tcp.port: must be 1..65535");
  CHECK(parseError(R"({"type":"HTTP","http":{"port":80,"path":"health"}})") == "health_check.http.path: must start with '/'");
  CHECK(parseError(R"({"type":"HTTP","http":{"port":80,"path":"/a b"}})").rfind("health_check.http.path: ", 0) == 0);
  CHECK(parseError(R"({"type":"HTTP","http":{"port":80,"scheme":"https"}})") ==
        "health_check.http.scheme: https is not supported (only http)");
  CHECK(parseError(R"({"type":"HTTP","http":{"port":80,"statuses":[200,42]}})") ==
        "health_check.http.statuses[1]: must be an HTTP status 100..599");
  CHECK(parseError(R"({"tcp":{"port":80},"delay_seconds":-1})") == "health_check.delay_seconds: must be >= 0");
  CHECK(parseError(R"({"tcp":{"port":80},"grace_period_seconds":-0.5})") == "health_check.grace_period_seconds: must be >= 0");
  CHECK(parseError(R"({"tcp":{"port":80},"interval_seconds":0})") == "health_check.interval_seconds: must be > 0");
  CHECK(parseError(R"({"tcp":{"port":80},"timeout_seconds":0})") == "health_check.timeout_seconds: must be > 0");
  CHECK(parseError(R"({"tcp":{"port":80},"timeout_seconds":"5"})") == "health_check.timeout_seconds: must be a number of seconds");
  CHECK(parseError(R"({"tcp":{"port":80},"consecutive_failures":0})") == "health_check.consecutive_failures: must be an integer >= 1");
  CHECK(parseError(R"({"command":{"value":"x","environment":{"variables":[{"name":""}]}}})") ==
        "health_check.command.environment.variables[0].name: must be a non-empty name without '='");
}

TEST_CASE("checks start after the delay, then one interval after the previous start") {
  HealthCheckSpec spec;
  spec.delay = 15s;
  spec.interval = 10s;
  HealthTracker tracker(spec, kLaunched);
  CHECK(tracker.nextCheckAt() == kLaunched + 15s);
  tracker.checkStarted(kLaunched + 16s);
  CHECK(tracker.nextCheckAt() == kLaunched + 26s);
  tracker.checkStarted(kLaunched + 26s);
  CHECK(tracker.nextCheckAt() == kLaunched + 36s);
}

TEST_CASE("failures within the grace period before any success are ignored") {
  HealthCheckSpec spec = httpCheck(8080, "/health");
  spec.gracePeriod = 30s;
  spec.consecutiveFailures = 1;
  HealthTracker tracker(spec, kLaunched);
  for (auto at : {1s, 10s, 29s}) {
    auto out = tracker.record(false, "connection refused", kLaunched + at);
    CHECK_FALSE(out.healthChanged.has_value());
    CHECK_FALSE(out.kill);
    CHECK(out.message.empty());
  }
  CHECK(tracker.consecutiveFailures() == 0);
  CHECK_FALSE(tracker.healthy());

  // Once the grace period is over failures count, and the first one reports the task unhealthy.
  auto out = tracker.record(false, "connection refused", kLaunched + 30s);
  REQUIRE(out.healthChanged.has_value());
  CHECK(*out.healthChanged == false);
  CHECK(out.kill);
  CHECK(out.message == "Health check failed 1 time in a row: HTTP GET http://127.0.0.1:8080/health: connection refused");
}

TEST_CASE("the first success reports healthy and ends the grace period") {
  HealthCheckSpec spec = httpCheck(8080);
  spec.gracePeriod = 60s;
  HealthTracker tracker(spec, kLaunched);
  CHECK_FALSE(tracker.healthy());
  auto first = tracker.record(true, "returned 200", kLaunched + 5s);
  REQUIRE(first.healthChanged.has_value());
  CHECK(*first.healthChanged);
  CHECK(first.message == "Health check passed: HTTP GET http://127.0.0.1:8080/ returned 200");
  CHECK(tracker.healthy());
  CHECK_FALSE(tracker.record(true, "returned 200", kLaunched + 15s).healthChanged.has_value());

  // Within the grace period still, but after a success: the failure counts and flips the status.
  auto failed = tracker.record(false, "returned 503", kLaunched + 25s);
  REQUIRE(failed.healthChanged.has_value());
  CHECK(*failed.healthChanged == false);
  CHECK_FALSE(failed.kill);
  CHECK(tracker.consecutiveFailures() == 1);
  CHECK_FALSE(tracker.healthy());

  auto again = tracker.record(true, "returned 200", kLaunched + 35s);
  REQUIRE(again.healthChanged.has_value());
  CHECK(*again.healthChanged);
  CHECK(tracker.consecutiveFailures() == 0);
}

TEST_CASE("the task is killed once when consecutive failures reach the limit") {
  HealthCheckSpec spec = httpCheck(8080, "/health");
  spec.gracePeriod = 0s;
  spec.consecutiveFailures = 3;
  HealthTracker tracker(spec, kLaunched);
  auto first = tracker.record(false, "returned 503", kLaunched + 1s);
  REQUIRE(first.healthChanged.has_value());
  CHECK(*first.healthChanged == false);  // never healthy: the first counted failure reports unhealthy
  CHECK_FALSE(first.kill);
  auto second = tracker.record(false, "returned 503", kLaunched + 2s);
  CHECK_FALSE(second.healthChanged.has_value());
  CHECK_FALSE(second.kill);
  auto third = tracker.record(false, "returned 503", kLaunched + 3s);
  CHECK_FALSE(third.healthChanged.has_value());
  CHECK(third.kill);
  CHECK(third.message == "Health check failed 3 times in a row: HTTP GET http://127.0.0.1:8080/health returned 503");
  CHECK(tracker.consecutiveFailures() == 3);
  CHECK_FALSE(tracker.record(false, "returned 503", kLaunched + 4s).kill);
  CHECK(tracker.consecutiveFailures() == 4);
}

TEST_CASE("a success resets the count of consecutive failures") {
  HealthCheckSpec spec = httpCheck(8080);
  spec.gracePeriod = 0s;
  spec.consecutiveFailures = 2;
  HealthTracker tracker(spec, kLaunched);
  CHECK_FALSE(tracker.record(false, "returned 500", kLaunched + 1s).kill);
  CHECK(tracker.record(true, "returned 200", kLaunched + 2s).healthChanged == std::optional<bool>(true));
  CHECK(tracker.consecutiveFailures() == 0);
  CHECK_FALSE(tracker.record(false, "returned 500", kLaunched + 3s).kill);
  CHECK(tracker.record(false, "returned 500", kLaunched + 4s).kill);
}

TEST_CASE("an HTTP check against a real server reports the status of the path") {
  test::LocalServer server;
  server.router.route("GET", "/health", [](const http::Request&) { return http::Response::text(200, "ok"); });
  server.router.route("GET", "/sick", [](const http::Request&) { return http::Response::text(503, "no"); });
  server.start();

  std::string detail;
  CHECK(runNetworkCheck(httpCheck(server.port, "/health"), &detail));
  CHECK(detail == "returned 200");
  CHECK_FALSE(runNetworkCheck(httpCheck(server.port, "/sick"), &detail));
  CHECK(detail == "returned 503");
  CHECK_FALSE(runNetworkCheck(httpCheck(server.port, "/missing"), &detail));
  CHECK(detail == "returned 404");

  // Explicit statuses replace the 200..399 default.
  HealthCheckSpec accept503 = httpCheck(server.port, "/sick");
  accept503.statuses = {503};
  CHECK(runNetworkCheck(accept503, &detail));
  HealthCheckSpec only204 = httpCheck(server.port, "/health");
  only204.statuses = {204};
  CHECK_FALSE(runNetworkCheck(only204, &detail));
}

TEST_CASE("HTTP and TCP checks on a closed port fail with connection refused") {
  uint16_t port = unusedPort();
  std::string detail;
  CHECK_FALSE(runNetworkCheck(httpCheck(port), &detail));
  CHECK(detail == "connection refused");
  HealthCheckSpec tcp;
  tcp.type = HealthCheckSpec::Type::kTcp;
  tcp.port = port;
  CHECK_FALSE(runNetworkCheck(tcp, &detail));
  CHECK(detail == "connection refused");
}

TEST_CASE("a TCP check passes once a connection is established") {
  Listener listener;
  HealthCheckSpec tcp;
  tcp.type = HealthCheckSpec::Type::kTcp;
  tcp.port = listener.port;
  std::string detail;
  CHECK(runNetworkCheck(tcp, &detail));
  CHECK(detail == "connected");
}

TEST_CASE("an HTTP check against a server that never answers times out") {
  Listener listener;
  HealthCheckSpec spec = httpCheck(listener.port);
  spec.timeout = 300ms;
  std::string detail;
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(runNetworkCheck(spec, &detail));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(detail == "timed out after 300ms");
  CHECK(took >= 250ms);
  CHECK(took < 2s);
}

TEST_CASE("a COMMAND spec is not a network check") {
  std::string detail;
  CHECK_FALSE(runNetworkCheck(HealthCheckSpec{}, &detail));
  CHECK(detail == "not a network check");
}

}  // TEST_SUITE
