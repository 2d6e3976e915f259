#pragma once
// Internals of the executor launcher (kernel/agent/executor_launcher.cpp), split out to keep
// each piece small: starting an executor, the run directory's pid files, and the I/O thread that
// serves every executor's channel. Not part of the agent's public interface.

#include "common/event_loop.hpp"
#include "common/json.hpp"
#include "common/result.hpp"
#include "kernel/agent/task_spec.hpp"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace dcos::kernel {

class Cgroups;

struct StartedExecutor {
  int pid = 0;
  int fd = -1;  // the agent's end of the channel, connected
};

// Blocking: creates the sandbox and the run directory, writes launch.json, creates the
// container's cgroups, starts `binary executor` in a new session there and connects to it.
// Leaves nothing behind (cgroups, processes) on failure.
struct ExecutorLauncherOptions;
Result<StartedExecutor> startExecutor(const LaunchSpec& spec, const std::string& runDir,
                                      const ExecutorLauncherOptions& options, Cgroups* cgroups);

// "pid start_time" files of a run directory: executor.pid (written by the agent), task.pid
// (written by the executor). Not fsync'd: they only matter while the machine runs.
std::pair<int, unsigned long long> readPidFile(const std::string& path);
// SIGKILLs a process group if its leader is still the process that was recorded.
void killGroupIfSame(const std::pair<int, unsigned long long>& recorded);

// The agent's ends of the executors' channels: one I/O thread (epoll) reads them all and posts
// what arrives to the loop; send() writes from the calling thread.
class ExecutorChannels {
 public:
  struct Handlers {
    std::function<void(const std::string& id, std::vector<Json> messages)> onMessages;
    std::function<void(const std::string& id)> onClosed;  // EOF, an error, or a broken peer
  };
  ExecutorChannels(EventLoop& loop, Handlers handlers);  // handlers run on the loop thread
  ~ExecutorChannels();                                   // close()s
  ExecutorChannels(const ExecutorChannels&) = delete;
  ExecutorChannels& operator=(const ExecutorChannels&) = delete;

  void add(const std::string& id, int fd);  // takes the descriptor
  void send(const std::string& id, const Json& message);  // a broken channel shows as onClosed
  // Joins the I/O thread and closes every channel; no handler runs afterwards. Idempotent.
  void close();

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace dcos::kernel
