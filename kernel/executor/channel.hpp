#pragma once
// The agent ↔ executor channel: a unix stream socket at <run dir>/executor.sock carrying one JSON
// object per line. The executor listens (the agent creates the listening socket and hands it over
// at exec, so it can connect at once); after an agent restart the new agent connects again.
//
// executor → agent:
//   {"type":"HELLO","executor_pid":P}                      first line of every connection
//   {"type":"EVENT","seq":N,"event":{...}}                 one at a time: the next one follows
//                                                          the agent's ACK of this one
//     events: {"kind":"STARTED","pid":T,"start_time":ticks}
//             {"kind":"LAUNCH_FAILED","message":"exec failed: ..."}
//             {"kind":"HEALTH","healthy":B,"message":"..."}
//             {"kind":"TERMINATED","signaled":B,"code":C,"message":"...","killed":B,"unhealthy":B}
// agent → executor:
//   {"type":"ACK","seq":N}       the event is checkpointed by the agent; the executor drops it
//   {"type":"KILL","grace_ns":G} SIGTERM to the task's process group now, SIGKILL after G
//                                ("final":true: the agent is stopping and will not acknowledge
//                                the task's end; the executor exits as soon as the task has)
// The executor exits once its TERMINATED event is acknowledged.

#include "common/json.hpp"
#include "common/result.hpp"

#include <optional>
#include <string>
#include <vector>

namespace dcos::kernel {

// The socket of a run directory.
std::string executorSocketPath(const std::string& runDir);

// A listening unix socket at `path` (an old socket file there is replaced). Paths longer than
// sockaddr_un allows are reached through /proc/self/fd of their directory. CLOEXEC.
Result<int> listenUnix(const std::string& path);
// A connected, blocking, CLOEXEC unix stream socket. kUnavailable when nobody listens there.
Result<int> connectUnix(const std::string& path);

// Writes `message` and a newline in full (blocking; EINTR retried). False on any error.
bool writeLine(int fd, const Json& message);

// Splits a byte stream into JSON lines. A line longer than the limit or not JSON is an error:
// the peer is broken and the connection should be dropped.
class LineReader {
 public:
  explicit LineReader(size_t maxLine = 1 << 20) : maxLine_(maxLine) {}
  // Appends bytes; returns the complete messages now available.
  Result<std::vector<Json>> feed(const char* data, size_t n);

 private:
  size_t maxLine_;
  std::string buffer_;
};

}  // namespace dcos::kernel
