#include "kernel/executor/health_check.hpp"

#include "common/http/client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <utility>

namespace dcos::kernel {
namespace {

const std::string kField = "health_check";

Error invalid(const std::string& field, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, field + ": " + what);
}

bool present(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && !it->is_null();
}

// A number of seconds (Mesos' *_seconds fields are doubles). Absent: `fallback`.
Result<Duration> seconds(const Json& hc, const char* key, Duration fallback, bool positive) {
  if (!present(hc, key)) return fallback;
  const Json& v = hc[key];
  std::string field = kField + "." + key;
  if (!v.is_number()) return invalid(field, "must be a number of seconds");
  double s = v.get<double>();
  if (!std::isfinite(s) || s < 0 || (positive && s == 0)) return invalid(field, positive ? "must be > 0" : "must be >= 0");
  // Bounded so that the conversion to nanoseconds cannot overflow.
  if (s > 1e9) return invalid(field, "must be at most 1000000000");
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

Result<uint16_t> port(const Json& section, const std::string& field) {
  if (!present(section, "port")) return invalid(field + ".port", "is required");
  const Json& v = section["port"];
  if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 65535) {
    return invalid(field + ".port", "must be 1..65535");
  }
  return static_cast<uint16_t>(v.get<int64_t>());
}

Result<std::vector<std::string>> variables(const Json& command, const std::string& field) {
  std::vector<std::string> out;
  auto vars = command.value("/environment/variables"_json_pointer, Json::array());
  std::string base = field + ".environment.variables";
  if (!vars.is_array()) return invalid(base, "must be an array");
  for (size_t i = 0; i < vars.size(); ++i) {
    const Json& v = vars[i];
    std::string at = base + "[" + std::to_string(i) + "]";
    if (!v.is_object()) return invalid(at, "must be an object");
    if (v.value("type", "VALUE") != "VALUE") return invalid(at + ".type", "only VALUE variables are supported");
    auto name = v.value("name", Json());
    if (!name.is_string() || name.get<std::string>().empty() || name.get<std::string>().find('=') != std::string::npos) {
      return invalid(at + ".name", "must be a non-empty name without '='");
    }
    auto value = v.value("value", Json(""));
    if (!value.is_string()) return invalid(at + ".value", "must be a string");
    out.push_back(name.get<std::string>() + "=" + value.get<std::string>());
  }
  return out;
}

Result<void> parseCommand(const Json& hc, HealthCheckSpec& spec) {
  std::string field = kField + ".command";
  if (!present(hc, "command") || !hc["command"].is_object()) return invalid(field, "required for a COMMAND health check");
  const Json& command = hc["command"];
  auto value = command.value("value", Json());
  if (!value.is_string() || value.get<std::string>().empty()) return invalid(field + ".value", "is required");
  auto shell = command.value("shell", Json(true));
  if (!shell.is_boolean()) return invalid(field + ".shell", "must be a boolean");
  std::string v = value.get<std::string>();
  if (shell.get<bool>()) {
    spec.program = "/bin/sh";
    spec.argv = {"sh", "-c", v};
  } else {
    spec.program = v;
    auto args = command.value("arguments", Json::array());
    if (!args.is_array()) return invalid(field + ".arguments", "must be an array of strings");
    for (const auto& a : args) {
      if (!a.is_string()) return invalid(field + ".arguments", "must be an array of strings");
      spec.argv.push_back(a.get<std::string>());
    }
    if (spec.argv.empty()) spec.argv.push_back(v);
  }
  auto env = variables(command, field);
  if (!env) return env.error();
  spec.environment = std::move(*env);
  return success();
}

Result<void> parseHttp(const Json& hc, HealthCheckSpec& spec) {
  std::string field = kField + ".http";
  if (!present(hc, "http") || !hc["http"].is_object()) return invalid(field, "required for an HTTP health check");
  const Json& http = hc["http"];
  auto p = port(http, field);
  if (!p) return p.error();
  spec.port = *p;
  auto scheme = http.value("scheme", Json("http"));
  if (!scheme.is_string()) return invalid(field + ".scheme", "must be a string");
  spec.scheme = scheme.get<std::string>();
  if (spec.scheme != "http" && spec.scheme != "https") return invalid(field + ".scheme", "must be http or https");
  auto path = http.value("path", Json("/"));
  if (!path.is_string() || path.get<std::string>().empty() || path.get<std::string>()[0] != '/') {
    return invalid(field + ".path", "must start with '/'");
  }
  spec.path = path.get<std::string>();
  // The path goes into the request line as it is.
  for (unsigned char c : spec.path) {
    if (c <= ' ' || c == 0x7f) return invalid(field + ".path", "must not contain spaces or control characters");
  }
  auto statuses = http.value("statuses", Json::array());
  if (!statuses.is_array()) return invalid(field + ".statuses", "must be an array of HTTP statuses");
  for (size_t i = 0; i < statuses.size(); ++i) {
    const Json& s = statuses[i];
    if (!s.is_number_integer() || s.get<int64_t>() < 100 || s.get<int64_t>() > 599) {
      return invalid(field + ".statuses[" + std::to_string(i) + "]", "must be an HTTP status 100..599");
    }
    spec.statuses.push_back(static_cast<int>(s.get<int64_t>()));
  }
  return success();
}

Result<HealthCheckSpec::Type> checkType(const Json& hc) {
  using Type = HealthCheckSpec::Type;
  if (present(hc, "type")) {
    const Json& t = hc["type"];
    std::string name = t.is_string() ? t.get<std::string>() : t.dump();
    if (name == "COMMAND") return Type::kCommand;
    if (name == "HTTP") return Type::kHttp;
    if (name == "TCP") return Type::kTcp;
    return invalid(kField + ".type", "unknown type " + name + " (expected COMMAND, HTTP or TCP)");
  }
  int sections = present(hc, "command") + present(hc, "http") + present(hc, "tcp");
  if (sections != 1) return invalid(kField + ".type", "required unless exactly one of command, http and tcp is given");
  if (present(hc, "http")) return Type::kHttp;
  if (present(hc, "tcp")) return Type::kTcp;
  return Type::kCommand;
}

Result<HealthCheckSpec> parseUnchecked(const Json& hc) {
  if (!hc.is_object()) return invalid(kField, "must be an object");
  HealthCheckSpec spec;
  auto type = checkType(hc);
  if (!type) return type.error();
  spec.type = *type;
  Result<void> section = success();
  switch (spec.type) {
    case HealthCheckSpec::Type::kCommand: section = parseCommand(hc, spec); break;
    case HealthCheckSpec::Type::kHttp: section = parseHttp(hc, spec); break;
    case HealthCheckSpec::Type::kTcp: {
      if (!present(hc, "tcp") || !hc["tcp"].is_object()) return invalid(kField + ".tcp", "required for a TCP health check");
      auto p = port(hc["tcp"], kField + ".tcp");
      if (!p) return p.error();
      spec.port = *p;
      break;
    }
  }
  if (!section) return section.error();

  struct Timing {
    const char* key;
    Duration* target;
    bool positive;
  };
  for (const auto& t : {Timing{"delay_seconds", &spec.delay, false}, Timing{"interval_seconds", &spec.interval, true},
                        Timing{"timeout_seconds", &spec.timeout, true},
                        Timing{"grace_period_seconds", &spec.gracePeriod, false}}) {
    auto d = seconds(hc, t.key, *t.target, t.positive);
    if (!d) return d.error();
    *t.target = *d;
  }
  if (present(hc, "consecutive_failures")) {
    const Json& n = hc["consecutive_failures"];
    if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() > UINT32_MAX) {
      return invalid(kField + ".consecutive_failures", "must be an integer >= 1");
    }
    spec.consecutiveFailures = static_cast<uint32_t>(n.get<int64_t>());
  }
  return spec;
}

}  // namespace

std::string HealthCheckSpec::describe() const {
  switch (type) {
    case Type::kHttp: return "HTTP GET " + scheme + "://127.0.0.1:" + std::to_string(port) + path;
    case Type::kTcp: return "TCP 127.0.0.1:" + std::to_string(port);
    case Type::kCommand: break;
  }
  if (program == "/bin/sh" && argv.size() == 3 && argv[1] == "-c") return "COMMAND '" + argv[2] + "'";
  std::string line;
  for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
  return "COMMAND '" + (line.empty() ? program : line) + "'";
}

Result<HealthCheckSpec> parseHealthCheck(const Json& healthCheck) {
  // Fields of unexpected JSON types must become errors, never escape as exceptions.
  try {
    return parseUnchecked(healthCheck);
  } catch (const Json::exception& e) {
    return invalid(kField, std::string("malformed: ") + e.what());
  }
}

HealthTracker::HealthTracker(HealthCheckSpec spec, TimePoint taskLaunched)
    : spec_(std::move(spec)), launched_(taskLaunched) {}

TimePoint HealthTracker::nextCheckAt() const {
  return lastStart_ ? *lastStart_ + spec_.interval : launched_ + spec_.delay;
}

void HealthTracker::checkStarted(TimePoint now) { lastStart_ = now; }

std::string HealthTracker::summary(const std::string& detail) const {
  if (detail.empty()) return spec_.describe();
  bool phrase = detail.rfind("returned ", 0) == 0 || detail.rfind("timed out", 0) == 0;
  return spec_.describe() + (phrase ? " " : ": ") + detail;
}

HealthTracker::Outcome HealthTracker::record(bool passed, const std::string& detail, TimePoint now) {
  Outcome out;
  if (passed) {
    failures_ = 0;
    everPassed_ = true;
    healthy_ = true;
    out.message = "Health check passed: " + summary(detail);
    if (reported_ != true) out.healthChanged = true;
    reported_ = true;
    return out;
  }
  // Mesos' grace period: a task still starting up is not judged until it first passes.
  if (!everPassed_ && now < launched_ + spec_.gracePeriod) return out;
  ++failures_;
  healthy_ = false;
  out.message = "Health check failed " + std::to_string(failures_) + (failures_ == 1 ? " time" : " times") +
                " in a row: " + summary(detail);
  if (reported_ != false) out.healthChanged = false;
  reported_ = false;
  if (!killed_ && failures_ >= spec_.consecutiveFailures) {
    out.kill = true;
    killed_ = true;
  }
  return out;
}

// The network check.

namespace {

using Steady = std::chrono::steady_clock;

struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) close(fd);
  }
};

std::string errnoText(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string formatDuration(Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 failed (errno set).
int waitFor(int fd, short events, Steady::time_point deadline) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Steady::now()).count();
    if (left <= 0) return 0;
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 60'000)));
    if (rc > 0) return 1;
    if (rc < 0 && errno != EINTR) return -1;
  }
}

// Connects to 127.0.0.1:port; "" on success, else why not ("timeout" for the deadline).
std::string connectLoopback(Socket& s, uint16_t port, Steady::time_point deadline) {
  s.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return errnoText(errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return "";
  if (errno != EINPROGRESS) return errnoText(errno);
  int ready = waitFor(s.fd, POLLOUT, deadline);
  if (ready == 0) return "timeout";
  if (ready < 0) return errnoText(errno);
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errnoText(errno);
  return err == 0 ? "" : errnoText(err);
}

int fail(std::string& why, std::string text) {
  why = std::move(text);
  return -1;
}

// Sends the request and reads the status line; the status, or -1 with `why` set.
int httpStatus(const Socket& s, const HealthCheckSpec& spec, Steady::time_point deadline, std::string& why) {
  std::string request = "GET " + spec.path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(spec.port) +
                        "\r\nUser-Agent: dcos-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(s.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return fail(why, "sending the request: " + errnoText(errno));
    int ready = waitFor(s.fd, POLLOUT, deadline);
    if (ready <= 0) return fail(why, ready == 0 ? "timeout" : errnoText(errno));
  }
  std::string response;
  char buf[1024];
  while (response.find('\n') == std::string::npos && response.size() < 8192) {
    ssize_t n = recv(s.fd, buf, sizeof buf, 0);
    if (n > 0) {
      response.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) break;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return fail(why, "reading the response: " + errnoText(errno));
    int ready = waitFor(s.fd, POLLIN, deadline);
    if (ready <= 0) return fail(why, ready == 0 ? "timeout" : errnoText(errno));
  }
  if (response.empty()) return fail(why, "closed the connection without a response");
  // "HTTP/1.1 200 OK": the version, a space, three digits.
  if (response.size() < 12 || response.rfind("HTTP/1.", 0) != 0 || response[8] != ' ' ||
      !std::isdigit(static_cast<unsigned char>(response[9])) || !std::isdigit(static_cast<unsigned char>(response[10])) ||
      !std::isdigit(static_cast<unsigned char>(response[11]))) {
    return fail(why, "answered with an invalid HTTP status line");
  }
  return std::stoi(response.substr(9, 3));
}

// GETs https://127.0.0.1:port/path through the project's HTTP client; the status, or -1 with
// `why` set. Certificates are not verified, as in Mesos: its checker runs `curl -k` ("Ignores
// SSL validation when scheme is https", src/checks/checker_process.cpp, behind the HTTP(S)
// checks of docs/health-checks.md), and the target is always 127.0.0.1, which a task's
// certificate rarely names. The check is about the task answering, not about who it is.
// The client runs its own io_context, so calling it in the executor's forked child is safe.
int httpsStatus(const HealthCheckSpec& spec, std::string& why) {
  http::ClientRequest request;
  request.url = "https://127.0.0.1:" + std::to_string(spec.port) + spec.path;
  request.headers = {{"User-Agent", "dcos-health-check"}, {"Accept", "*/*"}};
  request.timeout = spec.timeout;
  // As on the plain-http path, a redirect is itself the answer (3xx counts as healthy).
  request.followRedirects = false;
  request.insecureSkipVerify = true;
  // Only the status matters: the body is not read (as the plain-http path reads only the
  // status line), however large it is.
  auto response = http::fetchStream(request, [](std::string_view) { return false; });
  if (response) return response->status;
  // The client's messages start with "GET <url>: "; the URL has no spaces, and the check's
  // description already names it.
  std::string message = response.error().message;
  if (auto colon = message.find(": "); message.rfind("GET ", 0) == 0 && colon != std::string::npos) {
    message.erase(0, colon + 2);
  }
  return fail(why, message);
}

bool healthyStatus(const HealthCheckSpec& spec, int status) {
  if (spec.statuses.empty()) return status >= 200 && status < 400;
  return std::find(spec.statuses.begin(), spec.statuses.end(), status) != spec.statuses.end();
}

}  // namespace

bool runNetworkCheck(const HealthCheckSpec& spec, std::string* detail) {
  std::string ignored;
  std::string& out = detail ? *detail : ignored;
  if (spec.type == HealthCheckSpec::Type::kCommand) {
    out = "not a network check";
    return false;
  }
  auto deadline = Steady::now() + spec.timeout;
  auto failed = [&](const std::string& why) {
    out = why == "timeout" ? "timed out after " + formatDuration(spec.timeout) : why;
    return false;
  };
  if (spec.type == HealthCheckSpec::Type::kHttp && spec.scheme == "https") {
    std::string why;
    int status = httpsStatus(spec, why);
    if (status < 0) return failed(why);
    out = "returned " + std::to_string(status);
    return healthyStatus(spec, status);
  }
  Socket s;
  if (std::string why = connectLoopback(s, spec.port, deadline); !why.empty()) return failed(why);
  if (spec.type == HealthCheckSpec::Type::kTcp) {
    out = "connected";
    return true;
  }
  std::string why;
  int status = httpStatus(s, spec, deadline, why);
  if (status < 0) return failed(why);
  out = "returned " + std::to_string(status);
  return healthyStatus(spec, status);
}

}  // namespace dcos::kernel
