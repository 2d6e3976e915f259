// Readiness checks: parsing with Marathon's defaults and violations, and the prober against a
// real HTTP server.
#include "marathon_like/readiness.hpp"

#include "tests/support/local_server.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <future>

using namespace dcos;
using namespace dcos::marathon;

namespace {

std::vector<PortDefinition> namedPort(const std::string& name) {
  PortDefinition p;
  p.name = name;
  return {p};
}

std::string pathsOf(const std::vector<ErrorDetail>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.path + ";";
  return out;
}

}  // namespace

TEST_CASE("readiness checks get Marathon's defaults") {
  std::vector<ErrorDetail> errors;
  auto checks = parseReadinessChecks(Json::parse(R"([{"portName": "http"}])"), namedPort("http"), errors);
  CHECK(errors.empty());
  REQUIRE(checks.size() == 1);
  ReadinessCheck expected;
  expected.portName = "http";
  CHECK(checks[0] == expected);
  CHECK(checks[0].intervalSeconds == 30);
  CHECK(checks[0].timeoutSeconds == 10);
  CHECK(checks[0].httpStatusCodesForReady == std::vector<int>{200});
  Json back = readinessCheckToJson(checks[0]);
  CHECK(back["path"] == "/");
  CHECK(back["protocol"] == "HTTP");
}

TEST_CASE("invalid readiness checks name the field") {
  struct Case {
    const char* json;
    const char* path;
  } cases[] = {
      {R"([{"portName": "nope"}])", "/readinessChecks/0/portName;"},
      {R"([{"portName": "http", "protocol": "TCP"}])", "/readinessChecks/0/protocol;"},
      {R"([{"portName": "http", "path": "ready"}])", "/readinessChecks/0/path;"},
      {R"([{"portName": "http", "intervalSeconds": 5, "timeoutSeconds": 5}])", "/readinessChecks/0/timeoutSeconds;"},
      {R"([{"portName": "http", "httpStatusCodesForReady": []}])", "/readinessChecks/0/httpStatusCodesForReady;"},
      {R"([{"portName": "http", "httpStatusCodesForReady": [200, 700]}])", "/readinessChecks/0/httpStatusCodesForReady;"},
      {R"([{"portName": "http", "preserveLastResponse": "yes"}])", "/readinessChecks/0/preserveLastResponse;"},
      {R"([{"portName": "http"}, 3])", "/readinessChecks/1;"},
  };
  for (const auto& c : cases) {
    INFO(c.json);
    std::vector<ErrorDetail> errors;
    parseReadinessChecks(Json::parse(c.json), namedPort("http"), errors);
    CHECK(pathsOf(errors) == c.path);
  }
}

TEST_CASE("a readiness check probes the host port of its named port definition") {
  std::vector<PortDefinition> ports(2);
  ports[0].name = "admin";
  ports[1].name = "http";
  ReadinessCheck check;
  check.portName = "http";
  CHECK(readinessPort(check, ports, {31000, 31005}) == 31005u);
  CHECK_FALSE(readinessPort(check, ports, {31000}).has_value());
}

TEST_CASE("the prober reports ready only for the ready statuses, and why there was no answer") {
  test::LocalServer server;
  std::atomic<bool> loaded{false};
  server.router.route("GET", "/ready", [&](const http::Request&) {
    return loaded ? http::Response::text(200, "ok") : http::Response::text(503, "loading");
  });
  server.start();
  EventLoop loop;
  std::thread thread([&] { loop.run(); });
  ReadinessProber prober(loop);
  auto probe = [&](const std::string& url, std::vector<int> statuses) {
    std::promise<ProbeResult> result;
    prober.probe(url, std::chrono::seconds(5), std::move(statuses), [&](ProbeResult r) { result.set_value(r); });
    return result.get_future().get();
  };
  ProbeResult r = probe(server.url("/ready"), {200});
  CHECK_FALSE(r.ready);
  CHECK(r.status == 503);
  CHECK(r.body == "loading");
  loaded = true;
  r = probe(server.url("/ready"), {200});
  CHECK(r.ready);
  CHECK(r.status == 200);
  CHECK(r.contentType.find("text/plain") == 0);
  r = probe(server.url("/ready"), {204});
  CHECK_FALSE(r.ready);
  server.stop();
  r = probe(server.url("/ready"), {200});
  CHECK_FALSE(r.ready);
  CHECK(r.status == 0);
  CHECK(r.error.find("Connection refused") != std::string::npos);
  loop.stop();
  thread.join();
}
