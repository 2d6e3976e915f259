#pragma once
// Marathon's readiness checks: during a deployment, a new instance counts only once an HTTP(S)
// GET on one of its ports answers with one of `httpStatusCodesForReady` (e.g. a service that is
// up but still loading data is healthy yet not ready). Unlike health checks, which the executor
// runs next to the task, the scheduler probes readiness itself, as Marathon does, from a thread of
// its own so the master's loop never waits on a socket.

#include "common/clock.hpp"
#include "common/event_loop.hpp"
#include "common/json.hpp"
#include "common/result.hpp"
#include "marathon_like/app.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dcos::marathon {

struct ReadinessCheck {
  std::string name = "readinessCheck";
  std::string protocol = "HTTP";  // or "HTTPS" (certificates are not verified, as for health checks)
  std::string path = "/";
  std::string portName = "http-api";  // must name one of the app's port definitions
  int64_t intervalSeconds = 30;
  int64_t timeoutSeconds = 10;
  std::vector<int> httpStatusCodesForReady = {200};
  bool preserveLastResponse = false;
  bool operator==(const ReadinessCheck&) const = default;
};

// Validates an app's `readinessChecks` array against its port definitions with Marathon's
// defaults; violations are appended with their paths ("/readinessChecks/0/portName").
std::vector<ReadinessCheck> parseReadinessChecks(const Json& checks, const std::vector<PortDefinition>& ports,
                                                 std::vector<ErrorDetail>& violations);
Json readinessCheckToJson(const ReadinessCheck& check);

// The host port a check probes: the port definition named portName, by index into `hostPorts`.
std::optional<uint32_t> readinessPort(const ReadinessCheck& check, const std::vector<PortDefinition>& ports,
                                      const std::vector<uint32_t>& hostPorts);

struct ProbeResult {
  bool ready = false;
  int status = 0;  // 0 when no answer
  std::string contentType, body;  // the answer (body cut at 4 KiB)
  std::string error;              // why there was no answer
};

// Runs probes one after another on its own thread; each result is posted to `loop`.
class ReadinessProber {
 public:
  explicit ReadinessProber(EventLoop& loop);
  ~ReadinessProber();  // abandons queued probes, waits for the one in flight (bounded by its timeout)
  void probe(std::string url, Duration timeout, std::vector<int> readyStatuses, std::function<void(ProbeResult)> done);

 private:
  struct Job {
    std::string url;
    Duration timeout;
    std::vector<int> statuses;
    std::function<void(ProbeResult)> done;
  };
  void run();

  EventLoop& loop_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dcos::marathon
