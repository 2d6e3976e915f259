#include "common/http/client_transport.hpp"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace dcos::http::detail {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using OnData = std::function<bool(std::string_view)>;
using WantBody = std::function<bool(const ClientResponse&)>;

namespace {

// Where distributions keep their CA bundle, probed in Go's order (crypto/x509/root_linux.go).
constexpr const char* kCaBundles[] = {
    "/etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu, Gentoo, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",                   // Fedora, RHEL 6
    "/etc/ssl/ca-bundle.pem",                             // openSUSE
    "/etc/pki/tls/cacert.pem",                            // OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // CentOS, RHEL 7
    "/etc/ssl/cert.pem",                                  // Alpine
};

struct CachedContext {
  timespec mtime{};
  off_t size = 0;
  std::shared_ptr<ssl::context> ctx;
};

// Parsing a system bundle takes tens of milliseconds and a configured context is safe to share
// between threads, so contexts are cached per CA file and rebuilt when the file changes.
Result<std::shared_ptr<ssl::context>> tlsContext(const ClientRequest& options) {
  std::string caFile = options.caFile;
  if (!options.insecureSkipVerify && caFile.empty()) {
    for (const char* path : kCaBundles) {
      if (::access(path, R_OK) == 0) {
        caFile = path;
        break;
      }
    }
    if (caFile.empty()) {
      return Error(ErrorCode::kUnavailable,
                   "no system CA bundle found (looked for /etc/ssl/certs/ca-certificates.crt and the other "
                   "usual places); give a CA file");
    }
  }
  std::string key = options.insecureSkipVerify ? "" : caFile;
  struct stat st {};
  if (!key.empty() && ::stat(key.c_str(), &st) != 0) {
    return Error(ErrorCode::kInvalidArgument, "cannot read CA file '" + key + "': " + std::strerror(errno));
  }
  static std::mutex mu;
  static std::map<std::string, CachedContext> cache;
  std::lock_guard lock(mu);
  auto& entry = cache[key];
  if (entry.ctx && entry.mtime.tv_sec == st.st_mtim.tv_sec && entry.mtime.tv_nsec == st.st_mtim.tv_nsec &&
      entry.size == st.st_size) {
    return entry.ctx;
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  error_code ec;
  if (options.insecureSkipVerify) {
    ctx->set_verify_mode(ssl::verify_none, ec);
  } else {
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (!ec) ctx->load_verify_file(key, ec);
  }
  if (ec) return Error(ErrorCode::kInvalidArgument, "cannot load CA file '" + key + "': " + ec.message());
  entry = CachedContext{st.st_mtim, st.st_size, ctx};
  return ctx;
}

bool isIpLiteral(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// One exchange on a private io_context. Each step starts one asynchronous operation and runs the
// io_context until it completes, which gives blocking code with Beast's per-operation timeouts.
class Exchange {
 public:
  Exchange(const Hop& hop, const ClientRequest& options, const WantBody& wantBody, const OnData* onData,
           Duration idleTimeout)
      : hop_(hop), options_(options), wantBody_(wantBody), onData_(onData), idleTimeout_(idleTimeout) {
    // A deadline beyond a year is as good as none, and stays clear of time_point overflow.
    if (options.timeout > Duration::zero() && options.timeout < std::chrono::hours(24 * 365)) {
      deadline_ = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(options.timeout);
    }
  }

  Result<ClientResponse> run() {
    const auto& token = options_.cancel;
    if (token) {
      // Runs on the cancelling thread: hand the close to this exchange's own io_context.
      token->setHook([this] {
        asio::post(io_, [this] {
          cancelled_ = true;
          error_code ignored;
          if (socket_) socket_->close(ignored);
        });
      });
    }
    struct Unhook {
      const std::shared_ptr<CancelToken>& t;
      ~Unhook() {
        if (t) t->setHook(nullptr);
      }
    } unhook{token};
    if (token && token->cancelled()) return fail(ErrorCode::kUnavailable, "cancelled");
    auto result = connectAndConverse();
    if (cancelled_ && !result) return fail(ErrorCode::kUnavailable, "cancelled");
    return result;
  }

 private:
  Result<ClientResponse> connectAndConverse() {
    auto endpoints = resolve();
    if (!endpoints) return endpoints.error();
    if (hop_.url.scheme == "https") {
      auto ctx = tlsContext(options_);
      if (!ctx) return fail(ctx.error().code, ctx.error().message);
      beast::ssl_stream<beast::tcp_stream> stream(io_, **ctx);
      socket_ = &beast::get_lowest_layer(stream).socket();
      if (auto r = connect(beast::get_lowest_layer(stream), *endpoints); !r) return r.error();
      if (auto r = handshake(stream); !r) return r.error();
      return converse(stream);
    }
    beast::tcp_stream stream(io_);
    socket_ = &stream.socket();
    if (auto r = connect(stream, *endpoints); !r) return r.error();
    return converse(stream);
  }

  template <typename Start>
  error_code await(Start&& start) {
    error_code result;
    start([&result](error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run();
    return result;
  }

  Error fail(ErrorCode code, const std::string& what) const { return Error(code, hop_.label() + ": " + what); }

  std::string hostPort() const {
    const std::string& h = hop_.url.host;
    return (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + std::to_string(hop_.url.port);
  }

  void arm(beast::tcp_stream& s) const {
    if (deadline_) {
      s.expires_at(*deadline_);
    } else {
      s.expires_never();
    }
  }

  Error timedOut(const std::string& during, Duration limit) const {
    return fail(ErrorCode::kTimeout, "timed out after " + formatDuration(limit) + " " + during);
  }

  // A read or write that failed once the connection was up.
  Error ioError(const error_code& ec, const std::string& during, Duration limit) const {
    if (ec == beast::error::timeout) return timedOut(during, limit);
    if (ec == bhttp::error::body_limit) {
      return fail(ErrorCode::kPayloadTooLarge,
                  "the response body exceeds the limit of " + std::to_string(options_.maxBodyBytes) + " bytes");
    }
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == asio::error::eof ||
        ec == ssl::error::stream_truncated) {
      return fail(ErrorCode::kIo, "the server closed the connection " + during);
    }
    return fail(ErrorCode::kIo, "failed " + during + ": " + ec.message());
  }

  Result<std::vector<tcp::endpoint>> resolve() {
    error_code ec;
    auto address = asio::ip::make_address(hop_.url.host, ec);
    if (!ec) return std::vector<tcp::endpoint>{tcp::endpoint(address, hop_.url.port)};
    // Cancelling stops waiting only between getaddrinfo calls: a resolver that hangs inside
    // one (a dead DNS server) holds this call until the C library gives up.
    tcp::resolver resolver(io_);
    asio::steady_timer timer(io_);
    bool expired = false;
    if (deadline_) {
      timer.expires_at(*deadline_);
      timer.async_wait([&](error_code e) {
        if (e) return;
        expired = true;
        resolver.cancel();
      });
    }
    std::vector<tcp::endpoint> endpoints;
    resolver.async_resolve(hop_.url.host, std::to_string(hop_.url.port),
                           [&](error_code e, const tcp::resolver::results_type& results) {
                             ec = e;
                             for (const auto& entry : results) endpoints.push_back(entry.endpoint());
                             timer.cancel();
                           });
    io_.restart();
    io_.run();
    if (ec && expired) return timedOut("resolving host '" + hop_.url.host + "'", options_.timeout);
    if (ec) return fail(ErrorCode::kUnavailable, "cannot resolve host '" + hop_.url.host + "': " + ec.message());
    return endpoints;
  }

  Result<void> connect(beast::tcp_stream& s, const std::vector<tcp::endpoint>& endpoints) {
    arm(s);
    error_code ec = await([&](auto handler) { s.async_connect(endpoints, std::move(handler)); });
    if (ec == beast::error::timeout) return timedOut("connecting to " + hostPort(), options_.timeout);
    if (ec) return fail(ErrorCode::kUnavailable, "cannot connect to " + hostPort() + ": " + ec.message());
    return success();
  }

  Result<void> handshake(beast::ssl_stream<beast::tcp_stream>& s) {
    SSL* ssl = s.native_handle();
    const std::string& host = hop_.url.host;
    bool ip = isIpLiteral(host);
    // SNI carries names only (RFC 6066); servers pick their certificate by it.
    if (!ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
      return fail(ErrorCode::kInvalidArgument, "cannot use '" + host + "' as the TLS server name");
    }
    if (!options_.insecureSkipVerify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                   : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
      if (set != 1) return fail(ErrorCode::kInvalidArgument, "cannot verify certificates for '" + host + "'");
    }
    arm(beast::get_lowest_layer(s));
    error_code ec = await([&](auto handler) { s.async_handshake(ssl::stream_base::client, std::move(handler)); });
    if (!ec) return success();
    if (ec == beast::error::timeout) return timedOut("in the TLS handshake with " + hostPort(), options_.timeout);
    long verify = SSL_get_verify_result(ssl);
    if (!options_.insecureSkipVerify && verify != X509_V_OK) {
      std::string why = X509_verify_cert_error_string(verify);
      if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        why += ": the certificate is not valid for '" + host + "'";
      }
      return fail(ErrorCode::kUnavailable, "certificate verify failed (" + why + ")");
    }
    return fail(ErrorCode::kUnavailable, "TLS handshake with " + hostPort() + " failed: " + ec.message());
  }

  template <typename Stream>
  Result<ClientResponse> converse(Stream& stream) {
    bhttp::request<bhttp::string_body> req;
    req.version(11);
    req.method_string(hop_.method);
    req.target(hop_.url.target);
    for (const auto& [name, value] : hop_.headers) {
      if (beast::iequals(name, "Host") || beast::iequals(name, "Content-Length") ||
          beast::iequals(name, "Transfer-Encoding")) {
        continue;
      }
      req.insert(name, value);
    }
    req.set(bhttp::field::host, hop_.url.authority());
    if (!hop_.body.empty() || hop_.method == "POST" || hop_.method == "PUT" || hop_.method == "PATCH") {
      req.content_length(hop_.body.size());
    }
    req.body() = hop_.body;
    arm(beast::get_lowest_layer(stream));
    error_code ec = await([&](auto handler) { bhttp::async_write(stream, req, std::move(handler)); });
    if (ec) return ioError(ec, "sending the request", options_.timeout);
    return onData_ ? streamBody(stream) : collectBody(stream);
  }

  template <typename Stream, typename Parser>
  Result<ClientResponse> readHead(Stream& stream, Parser& parser) {
    parser.header_limit(64 * 1024);
    // A response to HEAD announces a length but carries no body.
    if (hop_.method == "HEAD") parser.skip(true);
    arm(beast::get_lowest_layer(stream));
    error_code ec = await([&](auto handler) { bhttp::async_read_header(stream, buffer_, parser, std::move(handler)); });
    if (ec) return ioError(ec, "waiting for the response", options_.timeout);
    ClientResponse response;
    response.status = static_cast<int>(parser.get().result_int());
    response.finalUrl = hop_.urlText;
    for (const auto& field : parser.get()) {
      std::string name(field.name_string());
      auto it = response.headers.find(name);
      if (it == response.headers.end()) {
        response.headers.emplace(std::move(name), std::string(field.value()));
      } else {
        it->second += ", " + std::string(field.value());
      }
    }
    return response;
  }

  // TLS servers that end an until-close body without close_notify leave the stream "truncated";
  // the body is complete when the parser accepts an end of file there.
  template <typename Parser>
  static error_code acceptTruncation(Parser& parser, error_code ec) {
    if (ec != ssl::error::stream_truncated) return ec;
    error_code eof;
    parser.put_eof(eof);
    return eof ? ec : error_code();
  }

  template <typename Stream>
  Result<ClientResponse> collectBody(Stream& stream) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options_.maxBodyBytes);
    auto response = readHead(stream, parser);
    if (!response || parser.is_done() || !wantBody_(*response)) return response;
    arm(beast::get_lowest_layer(stream));
    error_code ec = await([&](auto handler) { bhttp::async_read(stream, buffer_, parser, std::move(handler)); });
    ec = acceptTruncation(parser, ec);
    if (ec) return ioError(ec, "reading the response body", options_.timeout);
    response->body = std::move(parser.get().body());
    return response;
  }

  template <typename Stream>
  Result<ClientResponse> streamBody(Stream& stream) {
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    auto response = readHead(stream, parser);
    if (!response || !wantBody_(*response)) return response;
    std::vector<char> piece(64 * 1024);
    auto& lowest = beast::get_lowest_layer(stream);
    while (!parser.is_done()) {
      parser.get().body().data = piece.data();
      parser.get().body().size = piece.size();
      if (idleTimeout_ > Duration::zero()) {
        lowest.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(idleTimeout_));
      } else {
        lowest.expires_never();
      }
      error_code ec = await([&](auto handler) { bhttp::async_read_some(stream, buffer_, parser, std::move(handler)); });
      // need_buffer only says the piece is full; it is handed over and the next read continues.
      if (ec == bhttp::error::need_buffer) ec = {};
      ec = acceptTruncation(parser, ec);
      size_t n = piece.size() - parser.get().body().size;
      if (n > 0 && !(*onData_)(std::string_view(piece.data(), n))) break;
      if (ec) return ioError(ec, "reading the response body", idleTimeout_);
    }
    return response;
  }

  const Hop& hop_;
  const ClientRequest& options_;
  const WantBody& wantBody_;
  const OnData* onData_;
  tcp::socket* socket_ = nullptr;  // the connection in flight, for cancellation
  bool cancelled_ = false;
  Duration idleTimeout_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  asio::io_context io_{1};
  beast::flat_buffer buffer_;
};

}  // namespace

Result<ClientResponse> exchange(const Hop& hop, const ClientRequest& options, const WantBody& wantBody,
                                const OnData* onData, Duration idleTimeout) {
  return Exchange(hop, options, wantBody, onData, idleTimeout).run();
}

std::string formatDuration(Duration d) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(d).count();
  if (ms < 1000 || ms % 1000 != 0) return std::to_string(ms) + "ms";
  auto s = ms / 1000;
  if (s < 120 || s % 60 != 0) return std::to_string(s) + "s";
  return std::to_string(s / 60) + "m";
}

}  // namespace dcos::http::detail
