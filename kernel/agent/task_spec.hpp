#pragma once
// Turning a Mesos v1 TaskInfo (JSON, as the master forwarded it) into what a launcher runs: the
// argv, the environment, the sandbox and the kill grace period. Pure functions: no I/O.

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/result.hpp"
#include "kernel/executor/spawn.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dcos::kernel {

// Everything a TaskLauncher needs to start one task's process.
struct LaunchSpec {
  std::string containerId;  // the run id: unique per launch of a task
  std::string sandbox;      // directory to create; cwd of the process, holds stdout and stderr
  std::string program;                   // what is executed: a path, or a name looked up in PATH
  std::vector<std::string> argv;         // what the program sees, argv[0] included
  std::vector<std::string> environment;  // "NAME=value", the complete environment
  double cpus = 0;        // the task's `cpus` resources (0: none given)
  uint64_t memBytes = 0;  // the task's `mem` resources in bytes (0: none given)
  std::vector<SpawnLimit> limits;  // container.rlimit_info (Mesos' posix/rlimits isolator)
  Json healthCheck;                // the task's Mesos HealthCheck (checked by its executor), or null
};

// Where and as what the task runs, decided by the agent.
struct TaskPlacement {
  std::string frameworkId;
  std::string agentId;
  std::string hostname;
  std::string containerId;
  std::string sandbox;
  // Taken from the agent's own environment when set: PATH (a default otherwise) and LANG.
  std::string path;
  std::string lang;
};

// Builds the spec. `command.shell` true (the default) runs `/bin/sh -c <value>`; false runs
// `value` with `arguments` as argv (argv[0] included, as in Mesos; just `value` when empty).
// A shell command that is a plain command line (see plainCommandWords) skips the shell: its
// first word is the program (looked up in PATH) and its words are the argv, which is what
// `sh -c` would have run for it anyway, minus one process (bash execs such a command itself;
// dash forks it). The one visible difference: a program that is not found fails the launch
// (TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED, "exec failed: ...") instead of the shell's exit
// status 127.
// Errors:
//   kInvalidArgument  no `command`, or no `command.value` (the task cannot run: TASK_ERROR)
//   kInvalidArgument  also: a malformed container.rlimit_info or health_check
//   kUnprocessable    a container this agent cannot provide: any type but MESOS, or an image
//                     (the launch fails: TASK_FAILED)
// The environment: PATH, LANG, MESOS_SANDBOX, MESOS_TASK_ID, MESOS_AGENT_ID,
// MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID (= the task id), HOST, PORT0..PORTn and PORTS from the
// task's `ports` resources in the order given (and PORT = PORT0, as Marathon sets it),
// PORT_<NAME> for named `discovery.ports`, then `command.environment.variables`, which win
// over all of the above.
Result<LaunchSpec> buildLaunchSpec(const Json& task, const TaskPlacement& placement);

// The words of `line` if the shell would run it as one simple command with those words as argv
// and nothing else: the words consist only of letters, digits and `-_./:=,+%@` (no quoting,
// expansion, globbing, `~`, redirection, operator, comment or newline), are separated by spaces
// or tabs, and the first is no assignment (contains no '='), no job spec (starts with '%') and
// no shell keyword or builtin (cd, exit, export, exec, ulimit, trap, if, while, for, case, set,
// source, ., eval, read, wait, kill, echo, test, ...: those stay under the shell). nullopt
// otherwise, and for a blank line.
std::optional<std::vector<std::string>> plainCommandWords(const std::string& line);

// The task's ports in the order its `ports` resources list them.
std::vector<uint64_t> taskPorts(const Json& task);

// `kill_policy.grace_period.nanoseconds` (a number or a numeric string), else `fallback`.
Duration gracePeriod(const Json& killPolicy, Duration fallback);

// "PORT_" + the name upper-cased with every character outside [A-Z0-9_] as '_'.
std::string portVariableName(const std::string& name);

}  // namespace dcos::kernel
