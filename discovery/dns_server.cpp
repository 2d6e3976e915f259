#include "discovery/dns_server.hpp"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include "common/log.hpp"
#include "discovery/answer_cache.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <atomic>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

namespace dcos::discovery {
namespace asio = boost::asio;
using boost::system::error_code;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

const log::Logger& logger() { return log::get("dns"); }

template <typename D>
auto steady(D d) {
  return std::chrono::duration_cast<asio::steady_timer::duration>(d);
}

constexpr auto tok = asio::use_awaitable;

}  // namespace

std::vector<Upstream> parseResolvConf(const std::string& text) {
  std::vector<Upstream> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value) || key != "nameserver") continue;
    if (parseIpv4(value)) out.push_back({value, 53});
  }
  return out;
}

Result<std::vector<Upstream>> parseUpstreams(const std::string& list) {
  std::vector<Upstream> out;
  std::istringstream in(list);
  std::string entry;
  while (std::getline(in, entry, ',')) {
    if (entry.empty()) continue;
    Upstream u;
    auto colon = entry.find(':');
    u.ip = entry.substr(0, colon);
    if (colon != std::string::npos) {
      int port = 0;
      try {
        size_t used = 0;
        port = std::stoi(entry.substr(colon + 1), &used);
        if (used != entry.size() - colon - 1) port = 0;
      } catch (const std::exception&) {
        port = 0;
      }
      if (port < 1 || port > 65535) return Error(ErrorCode::kInvalidArgument, "bad port in resolver '" + entry + "'");
      u.port = static_cast<uint16_t>(port);
    }
    if (!parseIpv4(u.ip)) return Error(ErrorCode::kInvalidArgument, "resolver '" + entry + "' is not an IPv4 address[:port]");
    out.push_back(u);
  }
  return out;
}

struct DnsServer::Impl {
  DnsServerOptions o;
  asio::io_context io{1};
  udp::socket udpSocket{io};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::atomic<bool> running{false};
  uint16_t boundPort = 0;

  // The zone: written by setZone (any thread), read by the server thread through its own copy,
  // refreshed when the generation moves (no lock per query).
  std::mutex zoneMutex;
  std::shared_ptr<const Zone> latestZone;
  std::atomic<uint64_t> zoneGeneration{0};
  std::shared_ptr<const Zone> zone;
  uint64_t seenGeneration = 0;

  std::array<uint8_t, 65536> packet{};
  udp::endpoint sender;
  uint32_t rotation = 0;
  AnswerCache cache;  // this thread's
  size_t tcpConnections = 0;
  size_t forwards = 0;
  std::minstd_rand random{std::random_device{}()};

  const Zone* currentZone() {
    uint64_t g = zoneGeneration.load(std::memory_order_acquire);
    if (g != seenGeneration) {
      std::lock_guard lock(zoneMutex);
      zone = latestZone;
      seenGeneration = g;
    }
    return zone.get();
  }

  // ---- UDP ----
  void receive() {
    udpSocket.async_receive_from(asio::buffer(packet), sender, [this](error_code ec, size_t n) {
      if (ec == asio::error::operation_aborted || !udpSocket.is_open()) return;
      if (!ec) handleUdp(n);
      // Drain what is queued before waiting again: one wake-up serves a burst.
      for (int i = 0; i < 64; ++i) {
        size_t more = udpSocket.receive_from(asio::buffer(packet), sender, 0, ec);
        if (ec) break;
        handleUdp(more);
      }
      receive();
    });
  }

  void handleUdp(size_t n) {
    const Zone* z = currentZone();
    if (!z) return;
    std::span<const uint8_t> query(packet.data(), n);
    Reply reply = cache.answer(query, *z, {.overUdp = true, .recurse = o.recurse, .rotation = rotation++});
    if (reply.action == Reply::Action::kAnswer) {
      error_code ec;
      udpSocket.send_to(asio::buffer(reply.bytes), sender, 0, ec);
    } else if (reply.action == Reply::Action::kForward) {
      asio::co_spawn(io, forwardUdp(std::vector<uint8_t>(query.begin(), query.end()), sender), asio::detached);
    }
  }

  // ---- Forwarding ----
  // Asks the upstreams in turn over UDP, each with a fresh socket (a random source port) and a
  // fresh id, and takes only an answer from that upstream with that id. SERVFAIL when none answers.
  asio::awaitable<std::vector<uint8_t>> askUpstreams(std::vector<uint8_t> query) {
    uint16_t clientId = static_cast<uint16_t>(query[0] << 8 | query[1]);
    for (const auto& up : o.upstreams) {
      uint16_t id = static_cast<uint16_t>(random());
      query[0] = static_cast<uint8_t>(id >> 8);
      query[1] = static_cast<uint8_t>(id);
      udp::endpoint server(asio::ip::make_address_v4(up.ip), up.port);
      udp::socket sock(io, udp::v4());
      asio::steady_timer timer(io, steady(o.forwardTimeout));
      timer.async_wait([&sock](error_code ec) {
        if (!ec) sock.close();
      });
      error_code ec;
      co_await sock.async_send_to(asio::buffer(query), server, asio::redirect_error(tok, ec));
      std::vector<uint8_t> answer(4096);
      while (!ec) {
        udp::endpoint from;
        size_t n = co_await sock.async_receive_from(asio::buffer(answer), from, asio::redirect_error(tok, ec));
        if (ec || from != server || n < dns::kHeaderSize || (answer[0] << 8 | answer[1]) != id) continue;
        timer.cancel();
        answer.resize(n);
        answer[0] = static_cast<uint8_t>(clientId >> 8);
        answer[1] = static_cast<uint8_t>(clientId);
        co_return answer;
      }
      logger().debug("upstream {}:{} did not answer: {}", up.ip, up.port, ec.message());
    }
    query[0] = static_cast<uint8_t>(clientId >> 8);
    query[1] = static_cast<uint8_t>(clientId);
    co_return serverFailure(query);
  }

  asio::awaitable<void> forwardUdp(std::vector<uint8_t> query, udp::endpoint client) {
    std::vector<uint8_t> answer;
    if (forwards >= o.maxForwards) {
      answer = serverFailure(query);
    } else {
      ++forwards;
      answer = co_await askUpstreams(std::move(query));
      --forwards;
    }
    error_code ec;
    if (!answer.empty() && udpSocket.is_open()) udpSocket.send_to(asio::buffer(answer), client, 0, ec);
  }

  // ---- TCP ----
  asio::awaitable<void> acceptLoop() {
    while (acceptor.is_open()) {
      error_code ec;
      tcp::socket sock = co_await acceptor.async_accept(asio::redirect_error(tok, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        continue;
      }
      if (tcpConnections >= o.maxTcpConnections) continue;  // closed as `sock` goes
      asio::co_spawn(io, serveTcp(std::move(sock)), asio::detached);
    }
  }

  // Length-prefixed messages (RFC 1035 4.2.2), several per connection, until the client closes
  // it or is idle past the timeout.
  asio::awaitable<void> serveTcp(tcp::socket sock) {
    ++tcpConnections;
    asio::steady_timer idle(io);
    auto arm = [&] {
      idle.expires_after(steady(o.tcpIdleTimeout));
      idle.async_wait([&sock](error_code ec) {
        if (!ec) sock.close();
      });
    };
    std::vector<uint8_t> query;
    while (running && sock.is_open()) {
      arm();
      error_code ec;
      std::array<uint8_t, 2> len{};
      co_await asio::async_read(sock, asio::buffer(len), asio::redirect_error(tok, ec));
      size_t size = static_cast<size_t>(len[0] << 8 | len[1]);
      if (ec || size == 0) break;
      query.resize(size);
      co_await asio::async_read(sock, asio::buffer(query), asio::redirect_error(tok, ec));
      if (ec) break;
      std::vector<uint8_t> answer;
      const Zone* z = currentZone();
      if (!z) break;
      Reply reply = cache.answer(query, *z, {.overUdp = false, .recurse = o.recurse, .rotation = rotation++});
      if (reply.action == Reply::Action::kDrop) break;
      if (reply.action == Reply::Action::kAnswer) answer = std::move(reply.bytes);
      if (reply.action == Reply::Action::kForward) answer = co_await forwardTcp(query);
      if (answer.empty() || answer.size() > 65535) break;
      std::array<uint8_t, 2> outLen{static_cast<uint8_t>(answer.size() >> 8), static_cast<uint8_t>(answer.size())};
      std::array<asio::const_buffer, 2> out{asio::buffer(outLen), asio::buffer(answer)};
      co_await asio::async_write(sock, out, asio::redirect_error(tok, ec));
      if (ec) break;
    }
    idle.cancel();
    error_code ignored;
    sock.close(ignored);
    --tcpConnections;
  }

  // A TCP client's query goes upstream over TCP (its answer may be larger than UDP allows).
  asio::awaitable<std::vector<uint8_t>> forwardTcp(std::vector<uint8_t> query) {
    if (forwards >= o.maxForwards) co_return serverFailure(query);
    ++forwards;
    std::vector<uint8_t> answer;
    for (const auto& up : o.upstreams) {
      tcp::socket sock(io);
      asio::steady_timer timer(io, steady(o.forwardTimeout));
      timer.async_wait([&sock](error_code ec) {
        if (!ec) sock.close();
      });
      error_code ec;
      co_await sock.async_connect(tcp::endpoint(asio::ip::make_address_v4(up.ip), up.port), asio::redirect_error(tok, ec));
      std::array<uint8_t, 2> len{static_cast<uint8_t>(query.size() >> 8), static_cast<uint8_t>(query.size())};
      std::array<asio::const_buffer, 2> out{asio::buffer(len), asio::buffer(query)};
      if (!ec) co_await asio::async_write(sock, out, asio::redirect_error(tok, ec));
      if (!ec) co_await asio::async_read(sock, asio::buffer(len), asio::redirect_error(tok, ec));
      if (!ec) {
        answer.resize(static_cast<size_t>(len[0] << 8 | len[1]));
        co_await asio::async_read(sock, asio::buffer(answer), asio::redirect_error(tok, ec));
      }
      timer.cancel();
      if (!ec && answer.size() >= dns::kHeaderSize && answer[0] == query[0] && answer[1] == query[1]) break;
      answer.clear();
      logger().debug("upstream {}:{} did not answer over TCP: {}", up.ip, up.port, ec.message());
    }
    --forwards;
    co_return answer.empty() ? serverFailure(query) : answer;
  }
};

DnsServer::DnsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DnsServer::~DnsServer() { stop(); }

Result<std::unique_ptr<DnsServer>> DnsServer::open(DnsServerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->o = std::move(options);
  error_code ec;
  auto address = asio::ip::make_address(impl->o.address, ec);
  if (ec) return Error(ErrorCode::kInvalidArgument, "DNS address '" + impl->o.address + "' is not an IP address");
  // With port 0 the kernel picks the UDP port; TCP takes the same number (retried if taken).
  for (int attempt = 0; attempt < 20; ++attempt) {
    udp::socket u(impl->io);
    tcp::acceptor t(impl->io);
    u.open(address.is_v4() ? udp::v4() : udp::v6(), ec);
    if (!ec) u.bind(udp::endpoint(address, impl->o.port), ec);
    if (ec) {
      return Error(ErrorCode::kIo, "cannot listen for DNS on UDP " + impl->o.address + ":" + std::to_string(impl->o.port) +
                                       ": " + ec.message());
    }
    uint16_t port = u.local_endpoint().port();
    t.open(address.is_v4() ? tcp::v4() : tcp::v6(), ec);
    if (!ec) t.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) t.bind(tcp::endpoint(address, port), ec);
    if (!ec) t.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) {
      u.non_blocking(true, ec);
      impl->boundPort = port;
      impl->udpSocket = std::move(u);
      impl->acceptor = std::move(t);
      return std::unique_ptr<DnsServer>(new DnsServer(std::move(impl)));
    }
    if (impl->o.port != 0) break;
  }
  return Error(ErrorCode::kIo, "cannot listen for DNS on TCP " + impl->o.address + ":" + std::to_string(impl->o.port) +
                                   ": " + ec.message());
}

void DnsServer::setZone(std::shared_ptr<const Zone> zone) {
  std::lock_guard lock(impl_->zoneMutex);
  impl_->latestZone = std::move(zone);
  impl_->zoneGeneration.fetch_add(1, std::memory_order_release);
}

void DnsServer::start() {
  if (impl_->running.exchange(true)) return;
  impl_->receive();
  asio::co_spawn(impl_->io, impl_->acceptLoop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

void DnsServer::stop() {
  if (!impl_->running.exchange(false)) return;
  // Connections and forwards in flight end with the context; their sockets close with it.
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  error_code ignored;
  impl_->udpSocket.close(ignored);
  impl_->acceptor.close(ignored);
}

uint16_t DnsServer::port() const { return impl_->boundPort; }

}  // namespace dcos::discovery
