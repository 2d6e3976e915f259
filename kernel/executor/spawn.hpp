#pragma once
// Starting a process the way the agent and the executor need it: a vfork-style clone (the child
// shares the parent's memory until it execs, as in posix_spawn; a PID namespace's init is forked)
// + exec, with everything the child does prepared before (after it only async-signal-safe system
// calls), and a CLOEXEC pipe that tells the parent whether exec happened or why not.

#include "common/result.hpp"

#include <string>
#include <utility>
#include <vector>

namespace dcos::kernel {

struct SpawnLimit {
  int resource;  // RLIMIT_*
  unsigned long long soft, hard;  // RLIM_INFINITY for unlimited
};

struct SpawnSpec {
  std::string program;                   // a path, or a name looked up in the PATH of `environment`
  std::vector<std::string> argv;         // argv[0] included
  std::vector<std::string> environment;  // "NAME=value", the complete environment
  std::string workDir;                   // the child's cwd ("" keeps the parent's)
  // The child's stdin, stdout, stderr (-1: /dev/null for stdin, inherited for the others). The
  // descriptors stay owned by the caller.
  int stdinFd = -1, stdoutFd = -1, stderrFd = -1;
  bool newSession = false;       // setsid(): its own session and process group
  bool newProcessGroup = false;  // setpgid(0, 0): its own process group in the parent's session
  bool dieWithParent = false;    // SIGKILL when the parent dies (PR_SET_PDEATHSIG)
  std::vector<std::string> cgroupProcs;  // cgroup.procs files the child enters before exec
  std::vector<std::pair<int, int>> passFds;  // (parent fd, child fd) kept open across exec
  std::vector<SpawnLimit> limits;            // setrlimit before exec
  // Runs the program in a new PID namespace when the kernel allows it (else as without it; see
  // SpawnedProcess::pidNamespace): the process started is the namespace's init (PID 1 inside),
  // the program its child (PID 2 inside). It then sees and signals nothing outside, and whatever
  // it leaves behind dies when it ends. Session, process group and parent-death signal apply to
  // init, which the program shares its process group with; init also enters `cgroupProcs`.
  bool newPidNamespace = false;
};

// A started process. With a PID namespace `pid` is its init: wait for it and signal its process
// group as for the program itself (SIGTERM reaches the program, init ignores it; SIGKILL ends
// init and with it the whole namespace). Init reaps everything in the namespace; when the program
// ends it kills the rest, hands the program's wait status to `taskWaitStatus` and exits with the
// program's exit code (128 + signal when it was killed).
struct SpawnedProcess {
  int pid = 0;
  bool pidNamespace = false;  // the program runs in its own PID namespace (init is `pid`)
  int statusFd = -1;          // owned: where init reports the program's wait status

  SpawnedProcess() = default;
  SpawnedProcess(SpawnedProcess&& other) noexcept;
  SpawnedProcess& operator=(SpawnedProcess&& other) noexcept;
  ~SpawnedProcess();
};

// Returns the child's pid once it has exec'd. Errors (kIo) read "exec failed: '<program>': <why>",
// or name the step that failed (cgroups, working directory, rlimits).
// Every signal disposition is reset to default and the signal mask cleared in the child; every
// descriptor but 0-2 and `passFds` is closed on exec.
Result<SpawnedProcess> spawn(const SpawnSpec& spec);
// spawn() for callers that need only the pid. With `newPidNamespace` the wait status of the pid
// is then init's (the program's exit code, 128 + signal when the program was killed).
Result<int> spawnProcess(const SpawnSpec& spec);

// The program's own wait status, given `waitStatus`, what waitpid() reported for `process.pid`:
// `waitStatus` itself without a PID namespace (or when init was killed before reporting, e.g.
// SIGKILLed from outside, which killed the program too). Reads and closes `statusFd`: call once,
// after waitpid.
int taskWaitStatus(SpawnedProcess& process, int waitStatus);

// The program as exec will find it: `program` itself when it has a '/', else the first
// executable match in the PATH given in `environment`.
std::string findProgram(const std::string& program, const std::vector<std::string>& environment);

// "SIGTERM", "SIGKILL", ... ("signal 42" when unnamed).
std::string signalName(int signal);

// The process's start time in clock ticks since boot (/proc/<pid>/stat field 22): with the pid
// it identifies a process even after the pid is reused. 0 when the process does not exist or is
// a zombie.
unsigned long long processStartTime(int pid);

}  // namespace dcos::kernel
