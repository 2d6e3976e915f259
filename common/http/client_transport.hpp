#pragma once
// Internal to the HTTP client: one request/response exchange on one fresh connection, with no
// redirect handling. Kept apart from client.cpp so that only client_transport.cpp compiles Beast,
// Asio and OpenSSL.

#include "common/http/client.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace dcos::http::detail {

// One hop of a request: what goes on the wire, to where.
struct Hop {
  std::string method;
  Url url;
  std::string urlText;  // the URL as the caller or the Location header spelled it, for messages
  Headers headers;      // the caller's headers plus User-Agent and Connection
  std::string body;

  // "GET https://host/x": the start of every error message about this hop.
  std::string label() const { return method + " " + urlText; }
};

// Performs `hop` under `options` (deadline, body limit, TLS settings; options.url, method,
// headers and body are not looked at). Once the response head is in, `wantBody` decides whether
// the body is read at all (a redirect about to be followed is not). With `onData` the body is
// handed over piece by piece under `idleTimeout` instead of being collected; onData returning
// false ends the exchange early with success. Errors are those listed in client.hpp.
Result<ClientResponse> exchange(const Hop& hop, const ClientRequest& options,
                                const std::function<bool(const ClientResponse& head)>& wantBody,
                                const std::function<bool(std::string_view)>* onData,
                                Duration idleTimeout);

// "500ms", "30s", "2m": durations in error messages.
std::string formatDuration(Duration d);

}  // namespace dcos::http::detail
