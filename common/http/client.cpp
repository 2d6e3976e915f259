#include "common/http/client.hpp"

#include "common/http/client_transport.hpp"
#include "common/version.hpp"

#include <algorithm>
#include <cctype>
#include <exception>
#include <string_view>
#include <vector>

namespace dcos::http {
namespace {

Error invalidUrl(const std::string& url, const std::string& why) {
  return Error(ErrorCode::kInvalidArgument, "invalid URL '" + url + "': " + why);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool isHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

bool isIpv6Char(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
}

// Removes "." and ".." segments from an absolute path (RFC 3986 section 5.2.4).
std::string removeDotSegments(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;  // the path starts with '/'
  while (true) {
    size_t slash = path.find('/', start);
    bool last = slash == std::string::npos;
    std::string segment = path.substr(start, last ? std::string::npos : slash - start);
    if (segment == "..") {
      if (!out.empty()) out.pop_back();
      if (last) out.emplace_back();  // "/a/b/.." means the directory "/a/"
    } else if (segment == ".") {
      if (last) out.emplace_back();
    } else {
      out.push_back(std::move(segment));
    }
    if (last) break;
    start = slash + 1;
  }
  std::string result;
  for (const auto& s : out) result += "/" + s;
  return result.empty() ? "/" : result;
}

// True when `ref` starts with a scheme ("https:"), i.e. is an absolute URL.
bool hasScheme(const std::string& ref) {
  if (ref.empty() || !std::isalpha(static_cast<unsigned char>(ref[0]))) return false;
  for (char c : ref) {
    if (c == ':') return true;
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

bool isRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool sameOrigin(const Url& a, const Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port;
}

// The next hop after a redirect, changing method and headers the way browsers and curl do.
detail::Hop nextHop(detail::Hop hop, int status, Url target) {
  bool toGet = (status == 303 && hop.method != "HEAD") ||
               ((status == 301 || status == 302) && hop.method == "POST");
  if (toGet) {
    hop.method = "GET";
    hop.body.clear();
    for (const char* h : {"Content-Type", "Content-Length", "Transfer-Encoding"}) hop.headers.erase(h);
  }
  // Credentials meant for one origin must not leak to another one a server points us at.
  if (!sameOrigin(hop.url, target)) {
    for (const char* h : {"Authorization", "Proxy-Authorization", "Cookie"}) hop.headers.erase(h);
  }
  hop.urlText = target.toString();
  hop.url = std::move(target);
  return hop;
}

bool isTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A method or header that would break the request line or smuggle in another header is refused
// before anything is sent.
Result<void> checkRequest(const ClientRequest& request) {
  const std::string& m = request.method;
  if (m.empty() || !std::all_of(m.begin(), m.end(), isTokenChar)) return Error(ErrorCode::kInvalidArgument, "invalid method");
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), isTokenChar)) {
      return Error(ErrorCode::kInvalidArgument, "invalid header name '" + name + "'");
    }
    for (char c : value) {
      if ((static_cast<unsigned char>(c) < ' ' && c != '\t') || c == 0x7f) {
        return Error(ErrorCode::kInvalidArgument, "header '" + name + "' contains a control character");
      }
    }
  }
  return success();
}

// The redirect loop shared by fetch() and fetchStream().
Result<ClientResponse> perform(const ClientRequest& request, const std::function<bool(std::string_view)>* onData,
                               Duration idleTimeout, const std::function<void(const ClientResponse&)>* onHead) {
  if (auto ok = checkRequest(request); !ok) {
    return Error(ErrorCode::kInvalidArgument, request.method + " " + request.url + ": " + ok.error().message);
  }
  auto url = parseUrl(request.url);
  if (!url) return Error(ErrorCode::kInvalidArgument, request.method + " " + request.url + ": " + url.error().message);
  detail::Hop hop{request.method, std::move(*url), request.url, request.headers, request.body};
  if (!hop.headers.count("User-Agent")) hop.headers["User-Agent"] = std::string("dcos/") + version::version();
  // Every exchange uses a fresh connection; saying so lets the server close at once.
  if (!hop.headers.count("Connection")) hop.headers["Connection"] = "close";

  auto follows = [&](const ClientResponse& head) {
    return request.followRedirects && isRedirect(head.status) && head.headers.count("Location") > 0;
  };
  auto wantBody = [&](const ClientResponse& head) {
    if (follows(head)) return false;
    if (onHead && *onHead) (*onHead)(head);
    return true;
  };
  std::string firstLabel = hop.label();
  for (int redirects = 0;; ++redirects) {
    auto response = detail::exchange(hop, request, wantBody, onData, idleTimeout);
    if (!response || !follows(*response)) return response;
    const std::string& location = response->headers.at("Location");
    if (redirects >= request.maxRedirects) {
      return Error(ErrorCode::kUnavailable, firstLabel + ": stopped after " + std::to_string(redirects) +
                                                " redirects (the last one from " + hop.urlText + " to '" +
                                                location + "')");
    }
    auto target = resolveReference(hop.url, location);
    if (!target) {
      return Error(ErrorCode::kInvalidArgument,
                   hop.label() + ": redirect to a bad Location: " + target.error().message);
    }
    hop = nextHop(std::move(hop), response->status, std::move(*target));
  }
}

// Nothing is expected to throw below (asio and OpenSSL errors are values there), but a failed
// allocation or a throwing onData callback must still not escape as an exception.
Result<ClientResponse> guarded(const ClientRequest& request, const std::function<bool(std::string_view)>* onData,
                               Duration idleTimeout, const std::function<void(const ClientResponse&)>* onHead = nullptr) {
  try {
    return perform(request, onData, idleTimeout, onHead);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, request.method + " " + request.url + ": " + e.what());
  } catch (...) {
    return Error(ErrorCode::kInternal, request.method + " " + request.url + ": unknown exception");
  }
}

}  // namespace

std::string Url::authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool defaultPort = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  if (!defaultPort) out += ":" + std::to_string(port);
  return out;
}

std::string Url::toString() const { return scheme + "://" + authority() + target; }

Result<Url> parseUrl(const std::string& text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return invalidUrl(text, "contains a space or control character");
  }
  auto sep = text.find("://");
  if (sep == std::string::npos) return invalidUrl(text, "expected http:// or https://");
  Url url;
  url.scheme = lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") {
    return invalidUrl(text, "unsupported scheme '" + url.scheme + "' (expected http or https)");
  }
  std::string rest = text.substr(sep + 3);
  rest = rest.substr(0, rest.find('#'));
  size_t authEnd = rest.find_first_of("/?");
  std::string authority = rest.substr(0, authEnd);
  url.target = authEnd == std::string::npos ? "/" : rest.substr(authEnd);
  if (url.target[0] == '?') url.target = "/" + url.target;
  if (authority.find('@') != std::string::npos) return invalidUrl(text, "credentials in URLs are not supported");

  std::string portText;
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return invalidUrl(text, "unclosed '[' in the host");
    url.host = lower(authority.substr(1, close - 1));
    if (url.host.find(':') == std::string::npos || !std::all_of(url.host.begin(), url.host.end(), isIpv6Char)) {
      return invalidUrl(text, "'" + url.host + "' is not an IPv6 address");
    }
    std::string after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return invalidUrl(text, "unexpected text after ']'");
    if (!after.empty()) portText = after.substr(1);
    if (!after.empty() && portText.empty()) return invalidUrl(text, "empty port");
  } else {
    auto colon = authority.find(':');
    url.host = lower(authority.substr(0, colon));
    if (colon != std::string::npos) {
      portText = authority.substr(colon + 1);
      if (portText.empty()) return invalidUrl(text, "empty port");
    }
    if (!std::all_of(url.host.begin(), url.host.end(), isHostChar)) {
      return invalidUrl(text, "'" + url.host + "' is not a valid host name");
    }
  }
  if (url.host.empty()) return invalidUrl(text, "no host");

  url.port = url.scheme == "https" ? 443 : 80;
  if (!portText.empty()) {
    if (portText.size() > 5 || !std::all_of(portText.begin(), portText.end(), ::isdigit)) {
      return invalidUrl(text, "port '" + portText + "' is not a number from 1 to 65535");
    }
    int port = std::stoi(portText);
    if (port < 1 || port > 65535) return invalidUrl(text, "port '" + portText + "' is not a number from 1 to 65535");
    url.port = static_cast<uint16_t>(port);
  }
  return url;
}

Result<Url> resolveReference(const Url& base, const std::string& reference) {
  std::string ref = reference.substr(0, reference.find('#'));
  if (hasScheme(ref)) return parseUrl(ref);
  if (ref.rfind("//", 0) == 0) return parseUrl(base.scheme + ":" + ref);
  std::string basePath = base.target.substr(0, base.target.find('?'));
  std::string target;
  if (ref.empty()) {
    target = base.target;
  } else if (ref[0] == '?') {
    target = basePath + ref;
  } else {
    auto query = ref.find('?');
    std::string path = ref.substr(0, query);
    std::string tail = query == std::string::npos ? "" : ref.substr(query);
    // A relative path replaces the last segment of the base path.
    if (path.empty() || path[0] != '/') path = basePath.substr(0, basePath.rfind('/') + 1) + path;
    target = removeDotSegments(path) + tail;
  }
  Url url = base;
  url.target = target;
  // Parsing the joined text checks the reference for spaces and control characters too.
  return parseUrl(url.toString());
}

Result<ClientResponse> fetch(const ClientRequest& request) {
  return guarded(request, nullptr, Duration::zero());
}

void CancelToken::cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  if (hook_) hook_();
}

bool CancelToken::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

void CancelToken::setHook(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  hook_ = std::move(hook);
}

Result<ClientResponse> fetchStream(const ClientRequest& request, const std::function<bool(std::string_view)>& onData,
                                   Duration idleTimeout, const std::function<void(const ClientResponse& head)>& onHead) {
  return guarded(request, &onData, idleTimeout, &onHead);
}

}  // namespace dcos::http
