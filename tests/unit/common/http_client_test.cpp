#include "common/http/client.hpp"

#include "common/http/server.hpp"
#include "common/json.hpp"
#include "common/version.hpp"
#include "tests/support/local_server.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <mutex>
#include <thread>

using namespace dcos;
using namespace std::chrono_literals;
using test::Listener;
using test::unusedPort;

namespace {

// Answers one connection with canned bytes and closes it, like an HTTP/1.0 server whose body
// ends with the connection.
struct CannedServer {
  Listener listener;
  std::thread thread;
  explicit CannedServer(std::string reply) {
    thread = std::thread([fd = listener.fd, reply] {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 10000) != 1) return;
      int conn = accept(fd, nullptr, nullptr);
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = recv(conn, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      send(conn, reply.data(), reply.size(), MSG_NOSIGNAL);
      close(conn);
    });
  }
  ~CannedServer() { thread.join(); }
};

http::Handler redirectTo(int status, std::string location) {
  return [status, location](const http::Request&) {
    http::Response r = http::Response::text(status, "see " + location);
    r.headers["Location"] = location;
    return r;
  };
}

Json describe(const http::Request& r) {
  return Json{{"method", r.method}, {"target", r.target}, {"body", r.body},
              {"userAgent", r.header("User-Agent")}, {"host", r.header("Host")},
              {"contentLength", r.header("Content-Length")}, {"authorization", r.header("Authorization")}};
}

// Our own server on an ephemeral port with the routes the client is tested against.
struct TestServer : test::LocalServer {
  std::mutex mu;
  std::shared_ptr<http::ResponseStream> live;  // the open /stream/live response, for the test to feed
  std::vector<http::Responder> parked;         // /never requests, answered only at teardown

  explicit TestServer(const std::string& address = "127.0.0.1") {
    auto echo = [](const http::Request& r) { return http::Response::json(200, describe(r)); };
    for (const char* m : {"GET", "POST", "PUT"}) router.route(m, "/echo", echo);
    router.route("GET", "/json", [](const http::Request&) { return http::Response::json(200, {{"hello", "world"}}); });
    router.route("GET", "/r/relative", redirectTo(302, "target?x=1"));
    router.route("GET", "/r/target", echo);
    router.route("GET", "/r/a/dots", redirectTo(301, "../../json#fragment"));
    router.route("GET", "/r/absolute", [this](const http::Request& r) {
      return redirectTo(302, "http://127.0.0.1:" + std::to_string(port) + "/r/relative")(r);
    });
    router.route("GET", "/r/other-origin", [this](const http::Request& r) {
      return redirectTo(307, "http://localhost:" + std::to_string(port) + "/echo")(r);
    });
    router.route("POST", "/r/307", redirectTo(307, "/echo"));
    router.route("POST", "/r/308", redirectTo(308, "/echo"));
    router.route("POST", "/r/303", redirectTo(303, "/echo"));
    router.route("POST", "/r/302", redirectTo(302, "/echo"));
    router.route("GET", "/r/loop", redirectTo(302, "/r/loop"));
    router.routeAsync("GET", "/never", [this](http::Request&, http::Responder responder) {
      std::lock_guard lock(mu);
      parked.push_back(std::move(responder));
    });
    router.route("GET", "/large", [](const http::Request&) { return http::Response::text(200, std::string(2 << 20, 'x')); });
    router.routeAsync("GET", "/large/chunked", [](http::Request&, http::Responder responder) {
      auto s = responder.stream(200, {});
      for (int i = 0; i < 4; ++i) s->write(std::string(512 << 10, 'y'));
      s->close();
    });
    router.routeAsync("GET", "/stream/three", [](http::Request&, http::Responder responder) {
      auto s = responder.stream(200, {{"Content-Type", "text/plain"}});
      for (const char* piece : {"one", "two", "three"}) s->write(piece);
      s->close();
    });
    router.routeAsync("GET", "/stream/live", [this](http::Request&, http::Responder responder) {
      std::lock_guard lock(mu);
      live = responder.stream(200, {{"Content-Type", "application/recordio"}});
    });
    http::ServerOptions options;
    options.address = address;
    start(options);
  }
  ~TestServer() {
    // The server's shutdown (in ~LocalServer) waits for requests being handled, so the
    // unanswered ones get an answer now that their clients have given up.
    std::lock_guard lock(mu);
    for (const auto& responder : parked) responder.send(http::Response::text(503, "shutting down"));
  }
  std::shared_ptr<http::ResponseStream> liveStream() {
    std::lock_guard lock(mu);
    return live;
  }
};

http::ClientRequest get(const std::string& url) {
  http::ClientRequest r;
  r.url = url;
  r.timeout = 10s;
  return r;
}

http::ClientRequest post(const std::string& url, std::string body) {
  auto r = get(url);
  r.method = "POST";
  r.body = std::move(body);
  r.headers["Content-Type"] = "text/plain";
  return r;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The failure text for a REQUIRE_MESSAGE; doctest builds the message even when the check passes.
std::string why(const Result<http::ClientResponse>& r) { return r.ok() ? "" : r.error().message; }

}  // namespace

TEST_SUITE("http client") {

TEST_CASE("client fetches JSON and sends Host and User-Agent and Content-Length") {
  TestServer s;
  auto r = http::fetch(get(s.url("/json")));
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->status == 200);
  CHECK(r->headers["content-type"] == "application/json");
  CHECK(Json::parse(r->body)["hello"] == "world");
  CHECK(r->finalUrl == s.url("/json"));

  auto echo = http::fetch(post(s.url("/echo"), "ping"));
  REQUIRE(echo.ok());
  auto j = Json::parse(echo->body);
  CHECK(j["method"] == "POST");
  CHECK(j["body"] == "ping");
  CHECK(j["contentLength"] == "4");
  CHECK(j["host"] == "127.0.0.1:" + std::to_string(s.port));
  CHECK(j["userAgent"] == std::string("dcos/") + version::version());

  auto missing = http::fetch(get(s.url("/nope")));
  REQUIRE(missing.ok());  // an answer is a success, whatever its status
  CHECK(missing->status == 404);
}

TEST_CASE("client follows relative and dotted and absolute redirects") {
  TestServer s;
  auto r = http::fetch(get(s.url("/r/absolute")));
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->status == 200);
  CHECK(Json::parse(r->body)["target"] == "/r/target?x=1");
  CHECK(r->finalUrl == s.url("/r/target?x=1"));

  auto dots = http::fetch(get(s.url("/r/a/dots")));
  REQUIRE(dots.ok());
  CHECK(dots->finalUrl == s.url("/json"));

  auto req = get(s.url("/r/relative"));
  req.followRedirects = false;
  auto raw = http::fetch(req);
  REQUIRE(raw.ok());
  CHECK(raw->status == 302);
  CHECK(raw->headers["Location"] == "target?x=1");
}

TEST_CASE("client keeps POST over 307/308 and switches to GET on 302/303") {
  TestServer s;
  for (const char* path : {"/r/307", "/r/308"}) {
    auto r = http::fetch(post(s.url(path), "payload"));
    REQUIRE(r.ok());
    auto j = Json::parse(r->body);
    CHECK(j["method"] == "POST");
    CHECK(j["body"] == "payload");
  }
  for (const char* path : {"/r/302", "/r/303"}) {
    auto r = http::fetch(post(s.url(path), "payload"));
    REQUIRE(r.ok());
    auto j = Json::parse(r->body);
    CHECK(j["method"] == "GET");
    CHECK(j["body"] == "");
    CHECK(j["contentLength"] == "");
  }
}

TEST_CASE("client drops credentials when a redirect leaves the origin") {
  TestServer s;
  auto req = get(s.url("/r/other-origin"));
  req.headers["Authorization"] = "Bearer secret";
  auto r = http::fetch(req);
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->finalUrl == "http://localhost:" + std::to_string(s.port) + "/echo");
  CHECK(Json::parse(r->body)["authorization"] == "");
}

TEST_CASE("client gives up on a redirect loop after maxRedirects") {
  TestServer s;
  auto req = get(s.url("/r/loop"));
  req.maxRedirects = 3;
  auto r = http::fetch(req);
  REQUIRE(!r.ok());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(contains(r.error().message, "GET " + s.url("/r/loop")));
  CHECK(contains(r.error().message, "stopped after 3 redirects"));
}

TEST_CASE("client times out on a server that never answers") {
  TestServer s;
  auto req = get(s.url("/never"));
  req.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto r = http::fetch(req);
  REQUIRE(!r.ok());
  CHECK(r.error().code == ErrorCode::kTimeout);
  CHECK(contains(r.error().message, "GET " + s.url("/never") + ": timed out after 300ms"));
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}

TEST_CASE("client refuses bodies over maxBodyBytes with and without Content-Length") {
  TestServer s;
  auto whole = http::fetch(get(s.url("/large")));
  REQUIRE(whole.ok());
  CHECK(whole->body.size() == (2u << 20));
  for (const char* path : {"/large", "/large/chunked"}) {
    auto req = get(s.url(path));
    req.maxBodyBytes = 1 << 20;
    auto r = http::fetch(req);
    REQUIRE(!r.ok());
    CHECK(r.error().code == ErrorCode::kPayloadTooLarge);
    CHECK(contains(r.error().message, s.url(path)));
  }
}

TEST_CASE("client reports refused connections and unknown hosts as unavailable and bad URLs as invalid") {
  auto refused = http::fetch(get("http://127.0.0.1:" + std::to_string(unusedPort()) + "/x"));
  REQUIRE(!refused.ok());
  CHECK(refused.error().code == ErrorCode::kUnavailable);
  CHECK(contains(refused.error().message, "cannot connect to 127.0.0.1:"));

  auto unknown = http::fetch(get("http://no-such-host.invalid/x"));
  REQUIRE(!unknown.ok());
  CHECK(unknown.error().code == ErrorCode::kUnavailable);
  CHECK(contains(unknown.error().message, "GET http://no-such-host.invalid/x: cannot resolve host"));

  auto bad = http::fetch(get("gopher://host/x"));
  REQUIRE(!bad.ok());
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
  CHECK(contains(bad.error().message, "gopher://host/x"));
}

TEST_CASE("client HEAD reads no body even when Content-Length is over the limit") {
  TestServer s;
  auto req = get(s.url("/large"));
  req.method = "HEAD";
  req.maxBodyBytes = 1024;
  auto r = http::fetch(req);
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->status == 200);
  CHECK(r->headers["Content-Length"] == std::to_string(2 << 20));
  CHECK(r->body.empty());
}

TEST_CASE("client talks to IPv6 literals") {
  int probe = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  bool ipv6 = probe >= 0 && bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (probe >= 0) close(probe);
  if (!ipv6) {
    MESSAGE("skipped: no IPv6 loopback");
    return;
  }
  TestServer s("::1");
  auto r = http::fetch(get("http://[::1]:" + std::to_string(s.port) + "/echo"));
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(Json::parse(r->body)["host"] == "[::1]:" + std::to_string(s.port));
}

TEST_CASE("client refuses methods and headers that would corrupt the request") {
  auto badHeader = get("http://127.0.0.1:1/");
  badHeader.headers["X-Evil"] = "a\r\nInjected: yes";
  auto r = http::fetch(badHeader);
  REQUIRE(!r.ok());
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(contains(r.error().message, "X-Evil"));
  auto badMethod = get("http://127.0.0.1:1/");
  badMethod.method = "GET /x";
  auto m = http::fetch(badMethod);
  REQUIRE(!m.ok());
  CHECK(m.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("client reads a body that ends when the connection closes") {
  CannedServer canned("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
  auto r = http::fetch(get("http://127.0.0.1:" + std::to_string(canned.listener.port) + "/"));
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->body == "until the end");
}

TEST_CASE("client streams chunked bodies piece by piece and may stop early") {
  TestServer s;
  std::string all;
  auto three = http::fetchStream(get(s.url("/stream/three")), [&](std::string_view p) {
    all += p;
    return true;
  });
  REQUIRE_MESSAGE(three.ok(), why(three));
  CHECK(three->body.empty());
  CHECK(all == "onetwothree");

  std::mutex mu;
  std::vector<std::string> pieces;
  auto got = [&](size_t n) {
    std::lock_guard lock(mu);
    return pieces.size() >= n;
  };
  auto stream = std::async(std::launch::async, [&] {
    return http::fetchStream(get(s.url("/stream/live")), [&](std::string_view p) {
      std::lock_guard lock(mu);
      pieces.emplace_back(p);
      return pieces.size() < 2;  // stop after the second piece although the stream goes on
    });
  });
  REQUIRE(test::waitFor([&] { return s.liveStream() != nullptr; }, 5000ms));
  auto live = s.liveStream();
  live->write(http::recordIoFrame("first"));
  REQUIRE(test::waitFor([&] { return got(1); }, 5000ms));
  live->write(http::recordIoFrame("second"));
  REQUIRE(stream.wait_for(5s) == std::future_status::ready);
  auto r = stream.get();
  REQUIRE_MESSAGE(r.ok(), why(r));
  CHECK(r->status == 200);
  CHECK(r->headers["Content-Type"] == "application/recordio");
  CHECK(pieces == std::vector<std::string>{"5\nfirst", "6\nsecond"});
}

TEST_CASE("client stream stops at once when cancelled from another thread, and sees the head first") {
  TestServer s;
  auto token = std::make_shared<http::CancelToken>();
  auto req = get(s.url("/stream/live"));
  req.cancel = token;
  std::atomic<int> headStatus{0};
  auto stream = std::async(std::launch::async, [&] {
    return http::fetchStream(req, [](std::string_view) { return true; }, Duration::zero(),
                             [&](const http::ClientResponse& head) { headStatus = head.status; });
  });
  REQUIRE(test::waitFor([&] { return headStatus.load() == 200; }, 5000ms));
  token->cancel();
  REQUIRE(stream.wait_for(5s) == std::future_status::ready);
  auto r = stream.get();
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "cancelled"));
  // A cancelled token fails later requests at once.
  auto again = http::fetch(req);
  REQUIRE_FALSE(again.ok());
  CHECK(contains(again.error().message, "cancelled"));
}

TEST_CASE("client stream fails when the gap between pieces exceeds idleTimeout") {
  TestServer s;
  auto r = http::fetchStream(get(s.url("/stream/live")), [](std::string_view) { return true; }, 200ms);
  REQUIRE(!r.ok());
  CHECK(r.error().code == ErrorCode::kTimeout);
  CHECK(contains(r.error().message, "timed out after 200ms reading the response body"));
}

TEST_CASE("client fails the TLS handshake with a plain HTTP server and times out on a silent one") {
  TestServer s;
  auto req = get("https://127.0.0.1:" + std::to_string(s.port) + "/json");
  req.insecureSkipVerify = true;
  auto plain = http::fetch(req);
  REQUIRE(!plain.ok());
  CHECK(plain.error().code == ErrorCode::kUnavailable);
  CHECK(contains(plain.error().message, "TLS handshake with 127.0.0.1:"));

  Listener silent;
  auto quiet = get("https://127.0.0.1:" + std::to_string(silent.port) + "/");
  quiet.timeout = 300ms;
  auto r = http::fetch(quiet);
  REQUIRE(!r.ok());
  CHECK(r.error().code == ErrorCode::kTimeout);
  CHECK(contains(r.error().message, "in the TLS handshake"));
}

}  // TEST_SUITE
