#pragma once
// One health check of the executor's task in flight, as a child process of its own: a COMMAND
// check is exec'd, an HTTP or TCP check runs runNetworkCheck() in a forked child that writes what
// it saw to a pipe. The executor polls outputFd(), enforces deadline() with onDeadline(), and
// calls finish() with the wait status once it has reaped pid().

#include "kernel/executor/health_check.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dcos::kernel {

class HealthProbe {
 public:
  using Clock = std::chrono::steady_clock;

  ~HealthProbe();

  // Starts a check; false (with `detail` saying why) when it could not even start. A COMMAND
  // check runs in the task's sandbox and cgroups (`cgroupProcs`), with its environment.
  bool start(const HealthCheckSpec& spec, const std::vector<std::string>& taskEnvironment, const std::string& sandbox,
             const std::vector<std::string>& cgroupProcs, std::string* detail);

  bool running() const { return pid_ > 0; }
  int pid() const { return pid_; }
  int outputFd() const { return outputFd_; }  // -1 when there is nothing to read
  std::optional<Clock::time_point> deadline() const { return deadline_; }

  void onOutput();    // reads what the check wrote so far
  void onDeadline();  // too slow: SIGKILL, and the check fails as timed out
  void abort();       // the task ended: SIGKILL whatever is running

  // The result of the check whose wait status `status` was just reaped: passed, and the detail
  // HealthTracker::record() expects ("exited with status 1", "returned 503", "timed out after 2s").
  std::pair<bool, std::string> finish(int status);

 private:
  void closeOutput();

  HealthCheckSpec spec_;
  int pid_ = 0, outputFd_ = -1;
  std::string output_;
  bool timedOut_ = false;
  std::optional<Clock::time_point> deadline_;
};

}  // namespace dcos::kernel
