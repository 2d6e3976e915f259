#include "common/http/server.hpp"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include "common/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <deque>
#include <mutex>
#include <set>

namespace dcos::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

const log::Logger& logger() { return log::get("http"); }

template <typename D>
auto steady(D d) {
  return std::chrono::duration_cast<asio::steady_timer::duration>(d);
}

// A timer used as a condition variable: waiters wait on it, notify() cancels the wait.
struct Signal {
  explicit Signal(asio::io_context& io) : timer(io) { timer.expires_at(asio::steady_timer::time_point::max()); }
  asio::awaitable<void> wait() {
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    timer.expires_at(asio::steady_timer::time_point::max());
  }
  void notify() { timer.cancel(); }
  asio::steady_timer timer;
};

// A deadline for one read that, unlike tcp_stream's own timeouts, leaves the socket open so the
// server can still tell a slow client why it is being cut off (408). The read is cancelled when
// the deadline passes; expired() tells the two apart afterwards.
class ReadDeadline {
 public:
  ReadDeadline(asio::io_context& io, tcp::socket& socket, Duration timeout)
      : state_(std::make_shared<State>()), timer_(io, steady(timeout)) {
    timer_.async_wait([state = state_, &socket](const error_code& ec) {
      if (ec || !state->armed) return;
      state->expired = true;
      error_code ignored;
      socket.cancel(ignored);
    });
  }
  ~ReadDeadline() {
    state_->armed = false;
    timer_.cancel();
  }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    bool armed = true;
    bool expired = false;
  };
  std::shared_ptr<State> state_;
  asio::steady_timer timer_;
};

}  // namespace

class StreamImpl;

// One client connection. Lives as long as its session coroutine; everything here runs on the
// loop thread except the Sink and StreamImpl entry points, which post to it.
struct Connection : std::enable_shared_from_this<Connection> {
  enum class State { kReading, kHandling, kWriting, kStreaming };

  Connection(tcp::socket socket, asio::io_context& io)
      : stream(std::move(socket)), signal(io), io(io) {}

  beast::tcp_stream stream;
  Signal signal;
  asio::io_context& io;
  State state = State::kReading;
  uint64_t requestSeq = 0;
  std::optional<Response> response;        // set by the Sink for the current request
  std::shared_ptr<StreamImpl> streamBody;  // set when the handler chose to stream
  int streamStatus = 200;
  Headers streamHeaders;
  bool clientGone = false;
  bool closing = false;  // server shutdown asked this connection to end
};

class StreamImpl : public ResponseStream, public std::enable_shared_from_this<StreamImpl> {
 public:
  StreamImpl(std::weak_ptr<Connection> conn, asio::io_context& io) : conn_(std::move(conn)), io_(io) {}

  bool write(std::string data) override {
    {
      std::lock_guard lock(mu_);
      if (closed_ || closeRequested_) return false;
      queue_.push_back(std::move(data));
    }
    wake();
    return true;
  }

  void close() override {
    {
      std::lock_guard lock(mu_);
      if (closeRequested_) return;
      closeRequested_ = true;
    }
    wake();
  }

  bool closed() const override {
    std::lock_guard lock(mu_);
    return closed_;
  }

  void onClose(std::function<void()> fn) override {
    {
      std::lock_guard lock(mu_);
      if (!closed_) {
        callbacks_.push_back(std::move(fn));
        return;
      }
    }
    asio::post(io_, std::move(fn));
  }

  // Loop thread: the next piece to send; false when there is none right now.
  bool pop(std::string* out, bool* closeRequested) {
    std::lock_guard lock(mu_);
    *closeRequested = closeRequested_;
    if (queue_.empty()) return false;
    *out = std::move(queue_.front());
    queue_.pop_front();
    return true;
  }

  // Loop thread: the stream is over; tell whoever listens.
  void markClosed() {
    std::vector<std::function<void()>> cbs;
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      closed_ = true;
      queue_.clear();
      cbs.swap(callbacks_);
    }
    for (auto& cb : cbs) cb();
  }

 private:
  void wake() {
    asio::post(io_, [c = conn_] {
      if (auto conn = c.lock()) conn->signal.notify();
    });
  }

  std::weak_ptr<Connection> conn_;
  asio::io_context& io_;
  mutable std::mutex mu_;
  std::deque<std::string> queue_;
  bool closeRequested_ = false;
  bool closed_ = false;
  std::vector<std::function<void()>> callbacks_;
};

namespace {

class ConnectionSink : public Responder::Sink {
 public:
  ConnectionSink(std::weak_ptr<Connection> conn, asio::io_context& io, uint64_t seq)
      : conn_(std::move(conn)), io_(io), seq_(seq) {}

  void send(Response response) override {
    if (answered_.exchange(true)) {
      logger().error("a handler answered one request twice; the second answer is dropped");
      return;
    }
    asio::post(io_, [c = conn_, seq = seq_, r = std::move(response)]() mutable {
      auto conn = c.lock();
      if (!conn || conn->requestSeq != seq) return;
      conn->response = std::move(r);
      conn->signal.notify();
    });
  }

  std::shared_ptr<ResponseStream> stream(int status, Headers headers) override {
    auto s = std::make_shared<StreamImpl>(conn_, io_);
    if (answered_.exchange(true)) {
      logger().error("a handler answered one request twice; the stream is dropped");
      s->markClosed();
      return s;
    }
    asio::post(io_, [c = conn_, seq = seq_, s, status, h = std::move(headers)]() mutable {
      auto conn = c.lock();
      if (!conn || conn->requestSeq != seq) {
        s->markClosed();
        return;
      }
      conn->streamBody = s;
      conn->streamStatus = status;
      conn->streamHeaders = std::move(h);
      conn->signal.notify();
    });
    return s;
  }

 private:
  std::weak_ptr<Connection> conn_;
  asio::io_context& io_;
  uint64_t seq_;
  std::atomic<bool> answered_{false};
};

std::string beastErrorText(const error_code& ec) {
  if (ec == bhttp::error::body_limit) return "request body too large";
  if (ec == bhttp::error::header_limit) return "request head too large";
  return ec.message();
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(EventLoop& l, const Router& r, ServerOptions o)
      : loop(l), io(*static_cast<asio::io_context*>(l.nativeHandle())), router(r),
        options(std::move(o)), acceptor(io) {}

  EventLoop& loop;
  asio::io_context& io;
  const Router& router;
  ServerOptions options;
  tcp::acceptor acceptor;
  uint16_t boundPort = 0;
  std::set<std::shared_ptr<Connection>> connections;
  bool shuttingDown = false;
  std::function<void()> shutdownDone;
  std::optional<EventLoop::TimerId> graceTimer;

  asio::awaitable<void> acceptLoop();
  asio::awaitable<void> session(std::shared_ptr<Connection> conn);
  struct RequestMeta {
    bool keepAlive = false;
    unsigned version = 11;
  };
  asio::awaitable<bool> readRequest(Connection& conn, beast::flat_buffer& buffer, Request* out,
                                    RequestMeta* meta);
  asio::awaitable<void> writeResponse(Connection& conn, Response response, bool keepAlive,
                                      bool headOnly, unsigned version);
  asio::awaitable<void> writeStream(Connection& conn, unsigned version);
  asio::awaitable<void> watchClient(std::shared_ptr<Connection> conn);
  void finished(const std::shared_ptr<Connection>& conn);
  void maybeShutdownDone();
};

Server::Server(EventLoop& loop, const Router& router, ServerOptions options)
    : impl_(std::make_shared<Impl>(loop, router, std::move(options))) {}

Server::~Server() {
  error_code ec;
  impl_->acceptor.close(ec);
  for (const auto& c : impl_->connections) c->stream.socket().close(ec);
}

Result<uint16_t> Server::listen() {
  auto& o = impl_->options;
  error_code ec;
  auto address = asio::ip::make_address(o.address, ec);
  if (ec) return Error(ErrorCode::kInvalidArgument, "invalid listen address '" + o.address + "'");
  tcp::endpoint endpoint(address, o.port);
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acc.close();
    std::string what = ec == asio::error::address_in_use ? "is already in use" : ec.message();
    return Error(ErrorCode::kUnavailable,
                 "cannot listen on " + o.address + ":" + std::to_string(o.port) + ": " + what);
  }
  impl_->boundPort = acc.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->acceptLoop(), asio::detached);
  return impl_->boundPort;
}

uint16_t Server::port() const { return impl_->boundPort; }

size_t Server::openConnections() const { return impl_->connections.size(); }

void Server::shutdown(std::function<void()> done) {
  auto& impl = *impl_;
  impl.shuttingDown = true;
  impl.shutdownDone = std::move(done);
  error_code ec;
  impl.acceptor.close(ec);
  for (const auto& c : impl.connections) {
    c->closing = true;
    if (c->state == Connection::State::kReading) c->stream.socket().close(ec);
    if (c->streamBody) c->streamBody->close();
    c->signal.notify();
  }
  // Requests still being handled get a grace period, then their sockets are closed too.
  std::weak_ptr<Impl> weak = impl_;
  impl.graceTimer = impl.loop.schedule(impl.options.shutdownGrace, [weak] {
    auto self = weak.lock();
    if (!self) return;
    self->graceTimer.reset();
    error_code ec2;
    for (const auto& c : self->connections) {
      c->stream.socket().close(ec2);
      c->signal.notify();  // a session still waiting for its handler's answer ends now
    }
  });
  impl.maybeShutdownDone();
}

void Server::Impl::maybeShutdownDone() {
  if (!shuttingDown || !connections.empty() || !shutdownDone) return;
  if (graceTimer) loop.cancel(*graceTimer);
  graceTimer.reset();
  auto done = std::move(shutdownDone);
  shutdownDone = nullptr;
  asio::post(io, std::move(done));
}

void Server::Impl::finished(const std::shared_ptr<Connection>& conn) {
  if (conn->streamBody) conn->streamBody->markClosed();
  error_code ec;
  conn->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  conn->stream.socket().close(ec);
  connections.erase(conn);
  maybeShutdownDone();
}

asio::awaitable<void> Server::Impl::acceptLoop() {
  auto self = shared_from_this();
  while (acceptor.is_open()) {
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!acceptor.is_open() || ec == asio::error::operation_aborted) break;
      // Out of file descriptors and the like: log, breathe, try again.
      logger().warn("accept failed: {}", ec.message());
      asio::steady_timer pause(io, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto conn = std::make_shared<Connection>(std::move(socket), io);
    connections.insert(conn);
    asio::co_spawn(io, session(conn), asio::detached);
  }
}

// Reads one request. Returns false when the connection should end; an error answer, if the
// client deserves one, has been written already.
asio::awaitable<bool> Server::Impl::readRequest(Connection& conn, beast::flat_buffer& buffer,
                                                Request* out, RequestMeta* meta) {
  error_code ec;
  if (buffer.size() == 0) {
    // Wait for the first byte of the next request under the idle timeout.
    conn.stream.expires_after(steady(options.idleTimeout));
    size_t n = co_await conn.stream.async_read_some(buffer.prepare(4096),
                                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec || conn.closing) co_return false;
    buffer.commit(n);
  }
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options.headerLimit));
  parser.body_limit(options.bodyLimit);
  bool headTimedOut = false;
  {
    conn.stream.expires_never();
    ReadDeadline deadline(io, conn.stream.socket(), options.headerTimeout);
    co_await bhttp::async_read_header(conn.stream, buffer, parser,
                                      asio::redirect_error(asio::use_awaitable, ec));
    headTimedOut = deadline.expired();
  }
  auto fail = [&](int status, std::string message) -> asio::awaitable<bool> {
    logger().debug("rejecting request from {}: {}", out->remoteAddress, message);
    co_await writeResponse(conn, Response::error(status, std::move(message)), false, false, 11);
    co_return false;
  };
  if (headTimedOut) co_return co_await fail(408, "Request head not received in time");
  if (ec == bhttp::error::header_limit) co_return co_await fail(431, "Request head too large");
  if (ec == bhttp::error::body_limit) {
    co_return co_await fail(413, "Request body larger than the limit of " +
                                     std::to_string(options.bodyLimit) + " bytes");
  }
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || conn.closing) co_return false;
  if (ec) co_return co_await fail(400, "Malformed HTTP request: " + beastErrorText(ec));

  auto& head = parser.get();
  if (head[bhttp::field::expect] == "100-continue") {
    bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, head.version()};
    co_await bhttp::async_write(conn.stream, cont, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
  }
  if (!parser.is_done()) {
    bool bodyTimedOut = false;
    {
      ReadDeadline deadline(io, conn.stream.socket(), options.bodyTimeout);
      co_await bhttp::async_read(conn.stream, buffer, parser,
                                 asio::redirect_error(asio::use_awaitable, ec));
      bodyTimedOut = deadline.expired();
    }
    if (ec == bhttp::error::body_limit) {
      co_return co_await fail(413, "Request body larger than the limit of " +
                                       std::to_string(options.bodyLimit) + " bytes");
    }
    if (bodyTimedOut) co_return co_await fail(408, "Request body not received in time");
    if (ec) co_return false;
  }

  auto msg = parser.release();
  out->method = std::string(msg.method_string());
  out->target = std::string(msg.target());
  std::string_view target = out->target;
  auto q = target.find('?');
  out->path = percentDecode(target.substr(0, q), false);
  if (q != std::string_view::npos) {
    std::string_view qs = target.substr(q + 1);
    size_t i = 0;
    while (i <= qs.size()) {
      size_t amp = qs.find('&', i);
      if (amp == std::string_view::npos) amp = qs.size();
      std::string_view kv = qs.substr(i, amp - i);
      if (!kv.empty()) {
        auto eq = kv.find('=');
        out->query.emplace_back(percentDecode(kv.substr(0, eq), true),
                                eq == std::string_view::npos ? "" : percentDecode(kv.substr(eq + 1), true));
      }
      i = amp + 1;
    }
  }
  for (const auto& f : msg) out->headers[std::string(f.name_string())] = std::string(f.value());
  out->body = std::move(msg.body());
  meta->keepAlive = msg.keep_alive();
  meta->version = msg.version();
  co_return true;
}

asio::awaitable<void> Server::Impl::writeResponse(Connection& conn, Response response,
                                                  bool keepAlive, bool headOnly, unsigned version) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(response.status), version};
  res.set(bhttp::field::server, options.serverName);
  for (const auto& [k, v] : response.headers) res.set(k, v);
  size_t length = response.body.size();
  if (!headOnly) res.body() = std::move(response.body);
  res.content_length(length);
  res.keep_alive(keepAlive);
  conn.state = Connection::State::kWriting;
  conn.stream.expires_after(steady(options.writeTimeout));
  error_code ec;
  co_await bhttp::async_write(conn.stream, res, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) conn.clientGone = true;
}

// While a stream is open the client should send nothing; a read that ends means it went away.
asio::awaitable<void> Server::Impl::watchClient(std::shared_ptr<Connection> conn) {
  char scratch[512];
  error_code ec;
  while (!ec) {
    co_await conn->stream.socket().async_read_some(asio::buffer(scratch),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  }
  conn->clientGone = true;
  conn->signal.notify();
}

asio::awaitable<void> Server::Impl::writeStream(Connection& conn, unsigned version) {
  conn.state = Connection::State::kStreaming;
  bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(conn.streamStatus), version};
  res.set(bhttp::field::server, options.serverName);
  for (const auto& [k, v] : conn.streamHeaders) res.set(k, v);
  res.chunked(true);
  res.keep_alive(false);
  bhttp::response_serializer<bhttp::empty_body> sr{res};
  error_code ec;
  conn.stream.expires_after(steady(options.writeTimeout));
  co_await bhttp::async_write_header(conn.stream, sr, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  asio::co_spawn(io, watchClient(conn.shared_from_this()), asio::detached);
  auto& body = *conn.streamBody;
  while (!conn.clientGone) {
    std::string piece;
    bool closeRequested = false;
    if (body.pop(&piece, &closeRequested)) {
      if (piece.empty()) continue;  // an empty chunk would end the response
      conn.stream.expires_after(steady(options.writeTimeout));
      co_await asio::async_write(conn.stream, bhttp::make_chunk(asio::buffer(piece)),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      continue;
    }
    if (closeRequested || conn.closing) {
      conn.stream.expires_after(steady(options.writeTimeout));
      co_await asio::async_write(conn.stream, bhttp::make_chunk_last(),
                                 asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    conn.stream.expires_never();
    co_await conn.signal.wait();
  }
}

asio::awaitable<void> Server::Impl::session(std::shared_ptr<Connection> conn) {
  auto self = shared_from_this();
  beast::flat_buffer buffer;
  error_code ec;
  auto remote = conn->stream.socket().remote_endpoint(ec);
  std::string remoteAddress = ec ? "" : remote.address().to_string() + ":" + std::to_string(remote.port());
  while (!conn->closing && !conn->clientGone) {
    Request request;
    request.remoteAddress = remoteAddress;
    conn->state = Connection::State::kReading;
    RequestMeta meta;
    if (!co_await readRequest(*conn, buffer, &request, &meta)) break;
    bool head = request.method == "HEAD";

    conn->state = Connection::State::kHandling;
    conn->response.reset();
    uint64_t seq = ++conn->requestSeq;
    logger().trace("{} {} from {}", request.method, request.target, remoteAddress);
    router.dispatch(request, Responder(std::make_shared<ConnectionSink>(conn, io, seq)));
    while (!conn->response && !conn->streamBody && !conn->clientGone) {
      co_await conn->signal.wait();
      // During shutdown a handler still has the grace period; the socket closes after it.
      if (!conn->stream.socket().is_open()) conn->clientGone = true;
    }
    if (conn->clientGone) break;
    if (conn->streamBody) {
      co_await writeStream(*conn, meta.version);
      break;
    }
    co_await writeResponse(*conn, std::move(*conn->response), meta.keepAlive && !shuttingDown, head,
                           meta.version);
    if (!meta.keepAlive || shuttingDown || conn->clientGone) break;
  }
  finished(conn);
}

}  // namespace dcos::http
