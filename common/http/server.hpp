#pragma once
// The HTTP/1.1 server every mode serves its API with (Boost.Beast underneath, hidden here).
// Keep-alive, a request body limit (413 beyond it), timeouts for the request head, the body and
// idle keep-alive connections, streamed (chunked) responses that notice a client going away, and
// a graceful shutdown that lets in-flight requests finish. Runs on the EventLoop's thread.

#include "common/clock.hpp"
#include "common/event_loop.hpp"
#include "common/http/router.hpp"
#include "common/result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace dcos::http {

struct ServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 0;                      // 0 = an ephemeral port, see Server::port()
  size_t bodyLimit = 8 * 1024 * 1024;     // larger bodies get 413
  size_t headerLimit = 32 * 1024;         // larger heads get 431
  Duration headerTimeout = std::chrono::seconds(10);  // first byte to complete head
  Duration bodyTimeout = std::chrono::seconds(60);
  Duration idleTimeout = std::chrono::seconds(75);    // kept-alive connection with no request
  Duration writeTimeout = std::chrono::seconds(60);   // a client that stops reading is cut off
  Duration shutdownGrace = std::chrono::seconds(5);   // in-flight requests may finish this long
  std::string serverName = "dcos";
};

class Server {
 public:
  // `router` must outlive the server.
  Server(EventLoop& loop, const Router& router, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Fails with kUnavailable when the address is taken or not ours.
  Result<uint16_t> listen();
  uint16_t port() const;

  // Stops accepting, closes idle connections and streams, lets requests being handled finish
  // (up to shutdownGrace), then calls `done` on the loop. Loop thread only.
  void shutdown(std::function<void()> done);

  size_t openConnections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace dcos::http
