#pragma once
// An HTTP server for tests: our own http::Server on loopback with an ephemeral port, its event
// loop on a thread of its own. Register routes on `router`, then start(); the destructor shuts
// the server down gracefully and joins the thread.

#include "common/event_loop.hpp"
#include "common/http/server.hpp"

#include <doctest/doctest.h>

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
  ~LocalServer() {
    if (!thread.joinable()) return;
    loop.post([this] { server->shutdown([this] { loop.stop(); }); });
    thread.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
};

}  // namespace dcos::test
