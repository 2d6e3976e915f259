#pragma once
// `dcos executor`: runs one task for the agent and outlives it. The agent writes the task's
// launch description to <run dir>/launch.json, creates the listening socket of the channel
// (kernel/executor/channel.hpp) and execs `dcos executor --run_dir=<run dir> --listen_fd=3` in a
// new session, inside the container's cgroups, with the sandbox's stdout and stderr files as its
// own. The executor starts the task in its own process group, waits for it, runs its health
// check, kills it when asked (SIGTERM, SIGKILL after the grace period) and reports each step as
// an event that it repeats on every new agent connection until the agent acknowledges it.

#include "common/json.hpp"
#include "common/result.hpp"
#include "kernel/executor/spawn.hpp"

#include <string>
#include <vector>

namespace dcos::kernel {

// The contents of launch.json.
struct ExecutorLaunch {
  std::string containerId, taskId, sandbox;
  std::string program;
  std::vector<std::string> argv, environment;
  std::vector<SpawnLimit> limits;
  long long graceNs = 3'000'000'000;            // SIGTERM → SIGKILL when killed without one
  long long recoveryTimeoutNs = 900'000'000'000;  // how long a finished executor waits for an agent
  Json healthCheck;                             // a Mesos v1 HealthCheck, or null
  bool pidNamespace = false;                    // the task gets its own PID namespace when allowed
  std::vector<std::string> cgroupProcs;         // the container's cgroups, entered by the task

  Json toJson() const;
  static Result<ExecutorLaunch> fromJson(const Json& json);
};

std::string launchFilePath(const std::string& runDir);

// The executor's main loop; returns the process's exit code.
int runExecutor(const std::string& runDir, int listenFd);

}  // namespace dcos::kernel
