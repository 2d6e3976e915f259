#pragma once
// An HTTP server for tests: our own http::Server on loopback with an ephemeral port, its event
// loop on a thread of its own. Register routes on `router`, then start(); the destructor shuts
// the server down gracefully and joins the thread.

#include "common/event_loop.hpp"
#include "common/http/server.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

namespace dcos::test {

struct LocalServer {
  EventLoop loop;
  http::Router router;
  std::unique_ptr<http::Server> server;
  std::thread thread;
  uint16_t port = 0;

  // Listens on an ephemeral port of `options.address` (loopback unless another is given).
  void start(http::ServerOptions options = {}) {
    if (options.address == "0.0.0.0") options.address = "127.0.0.1";
    options.port = 0;
    server = std::make_unique<http::Server>(loop, router, options);
    auto p = server->listen();
    REQUIRE(p.ok());
    port = *p;
    thread = std::thread([this] { loop.run(); });
  }
  ~LocalServer() { stop(); }
  // Shuts the server down gracefully and joins the loop thread. Idempotent.
  void stop() {
    if (!thread.joinable()) return;
    loop.post([this] { server->shutdown([this] { loop.stop(); }); });
    thread.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
};

// A listening socket on 127.0.0.1 and an ephemeral port that never accepts: the kernel completes
// TCP handshakes, nothing more happens (a server that hangs).
struct Listener {
  int fd = -1;
  uint16_t port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(fd); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
};

// A port nothing listens on (bound once, then released): connecting is refused.
inline uint16_t unusedPort() {
  Listener l;
  return l.port;
}

}  // namespace dcos::test
