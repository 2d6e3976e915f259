#include "common/http/server.hpp"

#include "tests/support/local_server.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

using namespace dcos;
using namespace std::chrono_literals;
using test::rawExchange;

namespace {

// A server on an ephemeral port with /hello and /echo; tests add routes before start().
struct TestServer : test::LocalServer {
  http::ServerOptions options;
  explicit TestServer(http::ServerOptions o = {}) : options(std::move(o)) {
    router.route("GET", "/hello", [](const http::Request&) { return http::Response::text(200, "hi"); });
    router.route("POST", "/echo", [](const http::Request& r) { return http::Response::text(200, r.body); });
  }
  void start() { LocalServer::start(options); }
};

int connectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

std::string readSome(int fd, std::chrono::milliseconds timeout, const std::string& until) {
  std::string out;
  test::waitFor(
      [&] {
        char buf[4096];
        timeval tv{0, 10000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) out.append(buf, static_cast<size_t>(n));
        return out.find(until) != std::string::npos || n == 0;
      },
      timeout);
  return out;
}

}  // namespace

TEST_CASE("keep-alive serves several requests on one connection") {
  TestServer s;
  s.start();
  std::string two = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::string out = rawExchange(s.port, two);
  size_t first = out.find("HTTP/1.1 200");
  REQUIRE(first != std::string::npos);
  CHECK(out.find("HTTP/1.1 200", first + 1) != std::string::npos);
}

TEST_CASE("a body over the limit gets a JSON 413") {
  http::ServerOptions o;
  o.bodyLimit = 1024;
  TestServer s(o);
  s.start();
  auto reply = test::httpRequest(s.port, "POST", "/echo", std::string(4096, 'x'));
  CHECK(reply.status == 413);
  CHECK(Json::parse(reply.body)["message"].get<std::string>().find("1024") != std::string::npos);
  CHECK(test::httpRequest(s.port, "POST", "/echo", "small").body == "small");
}

TEST_CASE("a malformed request line gets a JSON 400 and the connection closes") {
  TestServer s;
  s.start();
  auto reply = test::parseReply(rawExchange(s.port, "THIS IS NOT HTTP\r\n\r\n"));
  CHECK(reply.status == 400);
  CHECK(Json::parse(reply.body).contains("message"));
}

TEST_CASE("a client that never finishes its request head is cut off with 408") {
  http::ServerOptions o;
  o.headerTimeout = 300ms;
  TestServer s(o);
  s.start();
  int fd = connectTo(s.port);
  std::string partial = "GET /hello HTTP/1.1\r\nHost: x\r\n";
  send(fd, partial.data(), partial.size(), 0);
  std::string out = readSome(fd, 5s, "\r\n\r\n{");
  close(fd);
  CHECK(test::parseReply(out).status == 408);
}

TEST_CASE("an idle kept-alive connection is closed after the idle timeout") {
  http::ServerOptions o;
  o.idleTimeout = 200ms;
  TestServer s(o);
  s.start();
  int fd = connectTo(s.port);
  char c;
  auto start = std::chrono::steady_clock::now();
  bool closed = test::waitFor([&] { return recv(fd, &c, 1, MSG_DONTWAIT) == 0; }, 5s);
  close(fd);
  CHECK(closed);
  CHECK(std::chrono::steady_clock::now() - start >= 150ms);
}

TEST_CASE("a streamed response is chunked and notices the client going away") {
  TestServer s;
  std::shared_ptr<http::ResponseStream> stream;
  std::mutex mu;
  std::atomic<bool> closedSeen{false};
  s.router.routeAsync("GET", "/stream", [&](http::Request&, http::Responder responder) {
    auto st = responder.stream(200, {{"Content-Type", "text/event-stream"}});
    st->write(http::sseEvent("hello", "{}"));
    st->onClose([&] { closedSeen = true; });
    std::lock_guard lock(mu);
    stream = st;
  });
  s.start();
  int fd = connectTo(s.port);
  std::string req = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
  send(fd, req.data(), req.size(), 0);
  std::string out = readSome(fd, 5s, "data: {}");
  CHECK(out.find("Transfer-Encoding: chunked") != std::string::npos);
  CHECK(out.find("event: hello") != std::string::npos);
  {
    std::lock_guard lock(mu);
    REQUIRE(stream);
    CHECK(stream->write(http::sseEvent("second", "2")));
  }
  CHECK(readSome(fd, 5s, "data: 2").find("event: second") != std::string::npos);
  close(fd);
  CHECK(test::waitFor([&] { return closedSeen.load(); }, 5s));
  std::lock_guard lock(mu);
  CHECK(test::waitFor([&] { return !stream->write("more"); }, 5s));
}

TEST_CASE("closing a stream ends the chunked body") {
  TestServer s;
  s.router.routeAsync("GET", "/records", [](http::Request&, http::Responder responder) {
    auto st = responder.stream(200, {{"Content-Type", "application/recordio"}});
    st->write(http::recordIoFrame("{\"type\":\"SUBSCRIBED\"}"));
    st->close();
  });
  s.start();
  std::string out = rawExchange(s.port, "GET /records HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(out.find("21\n{\"type\":\"SUBSCRIBED\"}") != std::string::npos);
  CHECK(out.size() >= 5);
  CHECK(out.substr(out.size() - 5) == "0\r\n\r\n");
}

TEST_CASE("a handler may answer later from another thread") {
  TestServer s;
  s.router.routeAsync("GET", "/later", [](http::Request&, http::Responder responder) {
    std::thread([responder] {
      std::this_thread::sleep_for(20ms);
      responder.send(http::Response::text(202, "done"));
    }).detach();
  });
  s.start();
  auto reply = test::httpRequest(s.port, "GET", "/later");
  CHECK(reply.status == 202);
  CHECK(reply.body == "done");
}

TEST_CASE("graceful shutdown lets an in-flight request finish and refuses new connections") {
  auto s = std::make_unique<TestServer>();
  std::promise<http::Responder> held;
  s->router.routeAsync("GET", "/slow", [&](http::Request&, http::Responder responder) { held.set_value(responder); });
  s->start();
  int port = s->port;
  auto reply = std::async(std::launch::async, [port] { return test::httpRequest(port, "GET", "/slow"); });
  auto responder = held.get_future().get();
  std::promise<void> shutDown;
  s->loop.post([&] { s->server->shutdown([&] { shutDown.set_value(); }); });
  // The listener closes at once; the held request is still answered.
  CHECK(test::waitFor([&] {
    try {
      test::rawExchange(port, "GET /hello HTTP/1.1\r\n\r\n", 100ms);
      return false;
    } catch (const std::exception&) {
      return true;
    }
  }, 5s));
  responder.send(http::Response::text(200, "finished"));
  CHECK(reply.get().body == "finished");
  CHECK(shutDown.get_future().wait_for(5s) == std::future_status::ready);
}

TEST_CASE("shutdown finishes after the grace period even when a handler never answers") {
  http::ServerOptions o;
  o.shutdownGrace = 200ms;
  auto s = std::make_unique<TestServer>(o);
  std::promise<void> parked;
  std::optional<http::Responder> never;
  s->router.routeAsync("GET", "/never", [&](http::Request&, http::Responder responder) {
    never = responder;
    parked.set_value();
  });
  s->start();
  int port = s->port;
  auto reply = std::async(std::launch::async, [port] { return test::rawExchange(port, "GET /never HTTP/1.1\r\nHost: x\r\n\r\n", 10s); });
  parked.get_future().wait();
  std::promise<void> shutDown;
  s->loop.post([&] { s->server->shutdown([&] { shutDown.set_value(); }); });
  CHECK(shutDown.get_future().wait_for(5s) == std::future_status::ready);
  CHECK(reply.get().empty());  // cut off without an answer
}
