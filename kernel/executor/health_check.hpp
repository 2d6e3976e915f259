#pragma once
// Mesos-style task health checks for the executor: the parsed HealthCheck of a TaskInfo, the
// decision logic over check results (pure, times passed in), and the HTTP/TCP probe itself. The
// executor runs each check in a forked child: COMMAND checks it execs from program/argv/
// environment, HTTP and TCP checks call runNetworkCheck there.

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dcos::kernel {

struct HealthCheckSpec {
  enum class Type { kCommand, kHttp, kTcp };
  Type type = Type::kCommand;
  // COMMAND: what to run. A shell command (`command.shell`, true by default) is program
  // "/bin/sh", argv {"sh", "-c", value}; otherwise `value` with `arguments` as argv (argv[0]
  // included, just {value} when there are none), as in Mesos' CommandInfo.
  std::string program;
  std::vector<std::string> argv;
  // "NAME=value" from `command.environment.variables`; the caller adds them over the task's env.
  std::vector<std::string> environment;
  // HTTP and TCP: checked on 127.0.0.1.
  uint16_t port = 0;
  std::string path = "/";       // HTTP only, starts with '/'
  std::string scheme = "http";  // "http" or "https" (certificates not verified, as in Mesos)
  std::vector<int> statuses;    // the healthy HTTP statuses; empty: 200..399, as in Mesos
  // Mesos' defaults for delay_seconds, interval_seconds, timeout_seconds, grace_period_seconds.
  Duration delay = std::chrono::seconds(15);
  Duration interval = std::chrono::seconds(10);
  Duration timeout = std::chrono::seconds(20);
  Duration gracePeriod = std::chrono::seconds(10);
  uint32_t consecutiveFailures = 3;  // consecutive_failures

  // What is checked: "HTTP GET http://127.0.0.1:8080/health", "TCP 127.0.0.1:9000",
  // "COMMAND 'curl -f localhost'".
  std::string describe() const;
};

// Parses a Mesos v1 HealthCheck JSON object ({"type": "HTTP", "http": {"port": 8080, "path":
// "/x"}, "delay_seconds": ..., ...}). The legacy form without "type" is accepted when exactly one
// of "command", "http" and "tcp" is present.
// Errors: kInvalidArgument, the message naming the field path, e.g.
// "health_check.http.port: must be 1..65535": an unknown type, the section of the type missing,
// a port out of range, a path not starting with '/', a scheme other than "http" and "https", a
// negative number (zero interval or timeout), consecutive_failures below 1, a command without
// value.
Result<HealthCheckSpec> parseHealthCheck(const Json& healthCheck);

// Mesos' health bookkeeping for one task, over check results the caller reports. Not
// thread-safe: the executor calls it from its event loop only.
class HealthTracker {
 public:
  HealthTracker(HealthCheckSpec spec, TimePoint taskLaunched);

  // When the next check should start: launched + delay for the first one, then the previous
  // check's start + interval.
  TimePoint nextCheckAt() const;
  // Records that a check starts now, which schedules the next one.
  void checkStarted(TimePoint now);

  struct Outcome {
    std::optional<bool> healthChanged;  // set when the task's health changes (the first result too): healthy?
    bool kill = false;                  // consecutive failures reached the limit: kill the task
    std::string message;                // for logs and status updates; empty when the result was ignored
  };
  // Records a check result; `detail` says what happened ("returned 503", "connection refused").
  // Failures within the grace period since launch, before any success, are ignored (an empty
  // Outcome). Afterwards failures count and a success resets the count. healthChanged reports
  // the first success, the first counted failure, and every flip between healthy and unhealthy.
  // kill is set once, when the count reaches spec.consecutiveFailures.
  Outcome record(bool passed, const std::string& detail, TimePoint now);

  bool healthy() const { return healthy_; }  // false until the first success
  uint32_t consecutiveFailures() const { return failures_; }
  const HealthCheckSpec& spec() const { return spec_; }

 private:
  std::string summary(const std::string& detail) const;

  HealthCheckSpec spec_;
  TimePoint launched_;
  std::optional<TimePoint> lastStart_;
  std::optional<bool> reported_;  // the health last reported through healthChanged
  bool healthy_ = false;
  bool everPassed_ = false;
  bool killed_ = false;
  uint32_t failures_ = 0;
};

// Performs one HTTP(S) or TCP check on 127.0.0.1:spec.port, blocking for at most spec.timeout (the
// executor calls it in a forked child). TCP: healthy when a connection is established. HTTP: a
// plain HTTP/1.1 GET of spec.path with Host and "Connection: close"; only the status line is
// read, healthy when the status is in spec.statuses (200..399 when empty). HTTPS: the same
// status rule, over a GET of https://127.0.0.1:port/path by http::fetch() without certificate
// verification (as Mesos' `curl -k`), redirects not followed, a response body over 64 KiB a
// failure. `detail` (optional) says what happened: "connected", "returned 503", "connection
// refused", "timed out after 2s", for HTTPS the client's reason ("TLS handshake with
// 127.0.0.1:8443 failed: ..."). A COMMAND spec returns false ("not a network check").
bool runNetworkCheck(const HealthCheckSpec& spec, std::string* detail);

}  // namespace dcos::kernel
