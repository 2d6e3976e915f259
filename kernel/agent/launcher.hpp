#pragma once
// The seam between the agent and the way tasks are run (Mesos calls it the containerizer).
// Each task runs as a plain child process in its own session (ProcessLauncher), in per-task
// cgroups when the agent found them usable (kernel/agent/cgroups.hpp); executors (issue 4)
// implement the same interface, so the agent's task bookkeeping and status updates do not change.

#include "common/clock.hpp"
#include "common/event_loop.hpp"
#include "common/result.hpp"
#include "common/json.hpp"
#include "kernel/agent/task_spec.hpp"
#include "kernel/executor/spawn.hpp"  // signalName

#include <functional>
#include <memory>
#include <set>
#include <string>

namespace dcos::kernel {

// How a started task's process ended.
struct TaskTermination {
  bool signaled = false;
  int code = 0;         // the exit status, or the signal number when signaled
  std::string message;  // "Command exited with status 3", "Command terminated by signal SIGKILL"
  // Set when the task did not end by itself: an isolator's limit ended it
  // ("REASON_CONTAINER_LIMITATION_MEMORY", the message then says why: "Memory limit exceeded:
  // ..."), or its executor died ("REASON_EXECUTOR_TERMINATED").
  std::string reason;
  bool killed = false;     // the executor killed it (a kill request or failing health checks)
  bool unhealthy = false;  // killed because its health check failed too often

  bool succeeded() const { return !signaled && code == 0; }
};

// Contract: every method is called on the event loop thread given to the implementation, and
// every callback runs there too. A launcher owns the processes it started and never waits for
// (reaps) any other child of the agent process.
class TaskLauncher {
 public:
  struct Callbacks {
    // Exactly once: the pid once the command has been exec'd, or why it could not be (the
    // sandbox could not be made, fork or exec failed: "exec failed: ...").
    std::function<void(Result<int> pid)> started;
    // Exactly once after a successful start, when the process has exited. Processes the task
    // left behind in its process group are killed at that point.
    std::function<void(const TaskTermination&)> terminated;
    // After the start, each time the task's health check result changes (executors only).
    std::function<void(bool healthy, const std::string& message)> health;
  };

  virtual ~TaskLauncher() = default;

  // Creates spec.sandbox (with its parents) and starts the process there, stdin from
  // /dev/null, stdout and stderr to files `stdout` and `stderr` in the sandbox.
  virtual void launch(const LaunchSpec& spec, Callbacks callbacks) = 0;

  // Stops a running container: SIGTERM to its process group now, SIGKILL after `grace`.
  // Unknown or already ended containers are ignored. A second kill does not restart the grace
  // period but may shorten it.
  virtual void kill(const std::string& containerId, Duration grace) = 0;

  // For agent shutdown, from the thread that ran the loop once it has stopped: SIGTERM to every
  // container, SIGKILL to those still alive after `grace`, and waits until all are gone. No
  // callbacks run afterwards. Idempotent; the destructor calls it with a zero grace period.
  virtual void shutdown(Duration grace) = 0;

  // After an agent restart: reattaches to a container started by an earlier agent process, with
  // the same callbacks as launch() (`started` is not called again). When the container is gone,
  // `terminated` says so with REASON_EXECUTOR_TERMINATED. Launchers whose containers die with
  // the agent report every recovered container as gone.
  virtual void recover(const std::string& containerId, Callbacks callbacks) {
    TaskTermination gone;
    gone.signaled = true;
    gone.code = 9;
    gone.reason = "REASON_EXECUTOR_TERMINATED";
    gone.message = "The task's process ended with the agent that ran it";
    (void)containerId;
    callbacks.terminated(gone);
  }

  // After recovery: removes what containers the agent no longer knows left behind (cgroups of
  // tasks of an agent that was SIGKILLed and then cleaned up, for instance). `known` are the
  // containers of the tasks the agent still tracks.
  virtual void removeOrphans(const std::set<std::string>& known) { (void)known; }

  // For an agent that exits but leaves its tasks running (they are recovered by the next agent
  // process): lets go of every container without stopping it. No callbacks run afterwards.
  // Launchers whose containers cannot outlive the agent stop them as shutdown() does.
  virtual void detach(Duration grace) { shutdown(grace); }

  // What isolates the tasks, for the agent's /state: {"isolators": [...], ...}.
  virtual Json isolation() const { return {{"isolators", Json::array({"posix/none"})}}; }
  // Mesos ResourceStatistics of a running container; null when not available.
  virtual Json statistics(const std::string& /*containerId*/) const { return Json(); }
};

class Cgroups;

// Runs each task as `fork` + `exec` in a new session (so its process group is the task), with
// the environment of the spec only. Blocking steps (mkdir, fork/exec) run on the loop's
// blocking pool; one waiter thread per running task waits for that task's pid only.
// With `cgroups`, each task also runs in its own cgroups (kernel/agent/cgroups.hpp), entered
// before exec, limited by the spec's cpus and mem, and removed when the task ends.
// `whyNoCgroups` explains a missing `cgroups` in isolation().
std::unique_ptr<TaskLauncher> makeProcessLauncher(EventLoop& loop, std::shared_ptr<Cgroups> cgroups = nullptr,
                                                  std::string whyNoCgroups = "");

// Runs each task under its own `dcos executor` process (kernel/executor/executor.hpp), started
// in a new session so that it outlives the agent, in the container's cgroups when `cgroups` is
// given. Run directories live in `runsDir`/<container id>; `executorBinary` is the dcos binary.
struct ExecutorLauncherOptions {
  std::string executorBinary;  // "" = this process's own binary (/proc/self/exe)
  std::string runsDir;
  Duration recoveryTimeout = std::chrono::minutes(15);  // how long an executor waits for an agent
  bool pidNamespace = false;  // each task in its own PID namespace (when the kernel allows)
};
std::unique_ptr<TaskLauncher> makeExecutorLauncher(EventLoop& loop, ExecutorLauncherOptions options,
                                                   std::shared_ptr<Cgroups> cgroups = nullptr,
                                                   std::string whyNoCgroups = "");

}  // namespace dcos::kernel
