#pragma once
// The HTTP/1.1 client the fetcher, the CLI and the HTTP scheduler driver talk through: plain HTTP
// and HTTPS (certificate and host name verification on by default), redirects, a deadline per
// exchange, a response body limit, and streamed bodies for long-lived event streams.
//
// Every call blocks the calling thread and runs its own private io_context, so it is safe from
// any thread and never touches the caller's event loop. Each exchange uses a fresh connection.
// No exception escapes: failures come back as Errors whose message starts with the method and
// the URL that failed ("GET https://127.0.0.1:4443/x: certificate verify failed (...)"):
//   kInvalidArgument  the URL (or a redirect's Location) is malformed or not http(s), the method
//                     or a header would corrupt the request, the CA file cannot be loaded
//   kUnavailable      DNS failure, connection refused, TLS handshake or certificate verification
//                     failure, no CA bundle found, too many redirects
//   kTimeout          a deadline passed (the message says during which step)
//   kPayloadTooLarge  the response body exceeds maxBodyBytes
//   kIo               the connection broke mid-exchange or the response is not valid HTTP
//   kInternal         onData threw (the exception is caught, not passed on)
// (Beast and OpenSSL stay in the .cpp files: this header is cheap to include.)

#include "common/clock.hpp"
#include "common/http/http.hpp"
#include "common/result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace dcos::http {

// Stops a blocking exchange from another thread: cancel() closes the connection of the exchange
// in flight (which then fails with kUnavailable "cancelled") and makes every later exchange
// using this token fail at once. Thread-safe.
class CancelToken {
 public:
  void cancel();
  bool cancelled() const;
  // For the transport: the action that interrupts the exchange in flight (empty when none).
  void setHook(std::function<void()> hook);

 private:
  mutable std::mutex mu_;
  bool cancelled_ = false;
  std::function<void()> hook_;
};

struct ClientRequest {
  std::string method = "GET";
  // http:// or https://; the host may be a name, an IPv4 literal or a bracketed IPv6 literal
  // ("https://[::1]:8443/x"); optional port; path and query. A fragment is dropped.
  std::string url;
  // Sent as given, except that the client sets Host, Content-Length and (unless given here)
  // User-Agent "dcos/<version>" and Connection: close.
  Headers headers;
  std::string body;
  // The deadline for one whole exchange (connect, TLS handshake, write, read), restarted for
  // each redirect hop; zero means no deadline. fetchStream() applies it to connecting and the
  // response head only.
  Duration timeout = std::chrono::seconds(30);
  // Follows 301/302/303/307/308 with a Location, up to maxRedirects hops. 303, and 301/302 after
  // a POST, continue as GET without a body (as browsers and curl do); 307/308 keep method and
  // body. Authorization and Cookie headers are dropped when a redirect leaves the origin.
  bool followRedirects = true;
  int maxRedirects = 5;
  size_t maxBodyBytes = 64 * 1024 * 1024;  // fetch() only
  // A PEM bundle of trusted CAs. Empty: the first of the usual system bundles that exists
  // (/etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt, ...), because the
  // static binary must not depend on the build machine's OpenSSL directory.
  std::string caFile;
  // Skips certificate and host name verification. For tests and explicit operator opt-in only.
  bool insecureSkipVerify = false;
  // Optional: lets another thread stop this request (and the redirects it follows).
  std::shared_ptr<CancelToken> cancel;
};

struct ClientResponse {
  int status = 0;
  Headers headers;       // repeated fields are joined with ", "
  std::string body;      // empty for fetchStream()
  std::string finalUrl;  // the URL that answered, after redirects
};

// One request, redirects followed as asked; the whole body is read into the response. Any status
// the server answers with (404, 500, ...) is a successful Result; only failing to get an answer
// is an Error.
Result<ClientResponse> fetch(const ClientRequest& request);

// Like fetch(), but the body is handed to `onData` piece by piece as it arrives (chunked,
// Content-Length and read-until-close bodies alike), on the calling thread, and is not kept.
// `onData` returning false stops the exchange early, which is not an error. `request.timeout`
// bounds connecting and receiving the response head; `idleTimeout` bounds the gap between two
// pieces of the body (zero = no limit), so long-lived streams (Mesos RecordIO event streams,
// Server-Sent Events) work. The returned response has status and headers and an empty body.
// Redirect responses are not passed to `onData`. `onHead`, when given, sees the final response's
// status and headers (e.g. Mesos-Stream-Id) before the first piece of its body.
Result<ClientResponse> fetchStream(const ClientRequest& request,
                                   const std::function<bool(std::string_view)>& onData,
                                   Duration idleTimeout = Duration::zero(),
                                   const std::function<void(const ClientResponse& head)>& onHead = {});

// A parsed http(s) URL. `host` has no brackets for IPv6 literals; `port` is explicit or the
// scheme's default (80, 443); `target` is path and query, "/" when the URL has no path.
struct Url {
  std::string scheme, host;
  uint16_t port = 0;
  std::string target;

  // "host:port" as for the Host header: brackets around IPv6, the port left out when default.
  std::string authority() const;
  std::string toString() const;  // scheme://authority + target
};

// Fails with kInvalidArgument naming what is wrong (scheme, host, port, credentials in the URL,
// spaces or control characters).
Result<Url> parseUrl(const std::string& url);

// Resolves a redirect's Location (absolute, scheme-relative, absolute-path or relative, RFC 3986
// section 5) against the URL that answered it.
Result<Url> resolveReference(const Url& base, const std::string& reference);

}  // namespace dcos::http
