#include "kernel/executor/health_check.hpp"

#include "tests/support/local_server.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <thread>

using namespace dcos;
using namespace dcos::kernel;
using namespace std::chrono_literals;
using test::Listener;
using test::unusedPort;

namespace {

HealthCheckSpec parsed(const std::string& text) {
  auto spec = parseHealthCheck(Json::parse(text));
  // The message is built even when the check passes (doctest -s), so only then ask for the error.
  REQUIRE_MESSAGE(spec.ok(), (spec.ok() ? std::string() : spec.error().message));
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

HealthCheckSpec httpsCheck(uint16_t port, const std::string& path = "/") {
  HealthCheckSpec spec = httpCheck(port, path);
  spec.scheme = "https";
  return spec;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// An HTTPS server on a thread of its own: OpenSSL over a loopback socket on an ephemeral port,
// one request per connection, with a self-signed certificate for 127.0.0.1 made by the openssl
// command line (no CA: HTTPS health checks do not verify certificates). GET /health answers 200,
// /moved 302 to /health, /big 200 with 100 KiB, anything else 404. (`openssl s_server -WWW`
// would not do: it answers 200 for missing files too.)
struct TlsServer {
  test::TempDir dir;
  SSL_CTX* ctx = nullptr;
  test::Listener listener;  // loopback, ephemeral port
  uint16_t port = 0;
  std::thread thread;

  TlsServer() {
    REQUIRE(test::runShell(dir.path(), "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                           " -keyout server.key -out server.pem -days 2 -subj /CN=127.0.0.1"
                           " -addext subjectAltName=IP:127.0.0.1"));
    ctx = SSL_CTX_new(TLS_server_method());
    REQUIRE(ctx != nullptr);
    REQUIRE(SSL_CTX_use_certificate_file(ctx, dir.file("server.pem").c_str(), SSL_FILETYPE_PEM) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey_file(ctx, dir.file("server.key").c_str(), SSL_FILETYPE_PEM) == 1);
    port = listener.port;
    thread = std::thread([this] { serve(); });
  }
  ~TlsServer() {
    ::shutdown(listener.fd, SHUT_RDWR);  // wakes the accept() in serve()
    thread.join();
    SSL_CTX_free(ctx);
  }
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  void serve() {
    // A client that hangs up early must not kill the test process with SIGPIPE; the signal goes
    // to the writing thread, which keeps it blocked.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    for (;;) {
      int c = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0 && errno == EINTR) continue;
      if (c < 0) return;
      timeval limit{5, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
      ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
      SSL* ssl = SSL_new(ctx);
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) == 1) {
        std::string request;
        char buf[1024];
        while (request.find("\r\n\r\n") == std::string::npos && request.size() < 16384) {
          int n = SSL_read(ssl, buf, sizeof buf);
          if (n <= 0) break;
          request.append(buf, static_cast<size_t>(n));
        }
        std::string response = respond(request);
        SSL_write(ssl, response.data(), static_cast<int>(response.size()));
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      ::close(c);
    }
  }

  static std::string respond(const std::string& request) {
    auto from = request.find(' ');
    auto to = from == std::string::npos ? from : request.find(' ', from + 1);
    std::string path = to == std::string::npos ? "" : request.substr(from + 1, to - from - 1);
    auto reply = [](const std::string& status, const std::string& headers, const std::string& body) {
      return "HTTP/1.1 " + status + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + headers +
             "Connection: close\r\n\r\n" + body;
    };
    if (path == "/health") return reply("200 OK", "", "ok\n");
    if (path == "/moved") return reply("302 Found", "Location: /health\r\n", "");
    if (path == "/big") return reply("200 OK", "", std::string(100 * 1024, 'x'));
    return reply("404 Not Found", "", "no\n");
  }
};

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

TEST_CASE("an HTTP health check with scheme https is accepted (Marathon's HTTPS and MESOS_HTTPS)") {
  auto spec = parsed(R"({"type":"HTTP","http":{"scheme":"https","port":8443,"path":"/health","statuses":[200]}})");
  CHECK(spec.type == HealthCheckSpec::Type::kHttp);
  CHECK(spec.scheme == "https");
  CHECK(spec.port == 8443);
  CHECK(spec.path == "/health");
  CHECK(spec.statuses == std::vector<int>{200});
  CHECK(spec.describe() == "HTTP GET https://127.0.0.1:8443/health");
  CHECK(parsed(R"({"http":{"scheme":"https","port":443}})").scheme == "https");
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
  CHECK(parseError(R"({"type":"HTTP","http":{"port":80,"scheme":"ftp"}})") == "health_check.http.scheme: must be http or https");
  CHECK(parseError(R"({"type":"HTTP","http":{"port":80,"scheme":"HTTPS"}})") == "health_check.http.scheme: must be http or https");
  CHECK(parseError(R"({"type":"HTTP","http":{"port":80,"scheme":1}})") == "health_check.http.scheme: must be a string");
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

TEST_CASE("an HTTPS check against a TLS server reports the status of the path") {
  if (!test::haveCommand("openssl")) {
    MESSAGE("skipped: no openssl command line");
    return;
  }
  TlsServer tls;
  std::string detail;
  // The certificate is self-signed: only a check that skips verification gets an answer.
  CHECK_MESSAGE(runNetworkCheck(httpsCheck(tls.port, "/health"), &detail), detail);
  CHECK(detail == "returned 200");
  CHECK_FALSE(runNetworkCheck(httpsCheck(tls.port, "/missing"), &detail));
  CHECK(detail == "returned 404");

  // Explicit statuses replace the 200..399 default, as for plain HTTP.
  HealthCheckSpec accept404 = httpsCheck(tls.port, "/missing");
  accept404.statuses = {404};
  CHECK_MESSAGE(runNetworkCheck(accept404, &detail), detail);
  HealthCheckSpec only204 = httpsCheck(tls.port, "/health");
  only204.statuses = {204};
  CHECK_FALSE(runNetworkCheck(only204, &detail));
  CHECK(detail == "returned 200");
}

TEST_CASE("an HTTPS check does not follow redirects and refuses a large body") {
  if (!test::haveCommand("openssl")) {
    MESSAGE("skipped: no openssl command line");
    return;
  }
  TlsServer tls;
  std::string detail;
  // The redirect is the answer: healthy by the 200..399 rule, not when only 200 is healthy.
  CHECK_MESSAGE(runNetworkCheck(httpsCheck(tls.port, "/moved"), &detail), detail);
  CHECK(detail == "returned 302");
  HealthCheckSpec only200 = httpsCheck(tls.port, "/moved");
  only200.statuses = {200};
  CHECK_FALSE(runNetworkCheck(only200, &detail));
  CHECK(detail == "returned 302");

  // A large body is not read: only the status counts.
  CHECK_MESSAGE(runNetworkCheck(httpsCheck(tls.port, "/big"), &detail), detail);
  CHECK(detail == "returned 200");
}

TEST_CASE("an HTTPS check against a plain-HTTP server fails in the TLS handshake") {
  test::LocalServer server;
  server.router.route("GET", "/health", [](const http::Request&) { return http::Response::text(200, "ok"); });
  server.start();
  std::string detail;
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(runNetworkCheck(httpsCheck(server.port, "/health"), &detail));
  CHECK(std::chrono::steady_clock::now() - start < 4s);  // a clear failure, not the timeout
  CHECK_MESSAGE(contains(detail, "TLS handshake with 127.0.0.1:" + std::to_string(server.port) + " failed"), detail);
  CHECK_FALSE(contains(detail, "GET https://"));  // the description names the URL already

  // The same server is healthy over plain HTTP.
  CHECK(runNetworkCheck(httpCheck(server.port, "/health"), &detail));
  CHECK(detail == "returned 200");
}

TEST_CASE("HTTPS checks on a closed port or a silent server fail with the reason") {
  std::string detail;
  uint16_t port = unusedPort();
  CHECK_FALSE(runNetworkCheck(httpsCheck(port), &detail));
  CHECK_MESSAGE(contains(detail, "onnection refused"), detail);

  Listener listener;
  HealthCheckSpec spec = httpsCheck(listener.port);
  spec.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(runNetworkCheck(spec, &detail));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK_MESSAGE(detail.rfind("timed out after 300ms", 0) == 0, detail);
  CHECK(took >= 250ms);
  CHECK(took < 2s);
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
