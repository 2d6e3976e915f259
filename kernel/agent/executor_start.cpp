#include "kernel/agent/cgroups.hpp"
#include "kernel/agent/executor_support.hpp"
#include "kernel/agent/launcher.hpp"
#include "kernel/agent/paths.hpp"
#include "kernel/executor/channel.hpp"
#include "kernel/executor/executor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace dcos::kernel {

std::pair<int, unsigned long long> readPidFile(const std::string& path) {
  std::ifstream in(path);
  int pid = 0;
  unsigned long long start = 0;
  in >> pid >> start;
  return {pid, start};
}

void killGroupIfSame(const std::pair<int, unsigned long long>& recorded) {
  if (recorded.first > 0 && recorded.second != 0 && processStartTime(recorded.first) == recorded.second) {
    ::kill(-recorded.first, SIGKILL);
  }
}

Result<StartedExecutor> startExecutor(const LaunchSpec& spec, const std::string& runDir,
                                      const ExecutorLauncherOptions& options, Cgroups* cgroups) {
  std::error_code ec;
  std::filesystem::create_directories(spec.sandbox, ec);
  if (!ec) std::filesystem::create_directories(runDir, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot create the sandbox '" + spec.sandbox + "': " + ec.message());
  ExecutorLaunch launch;
  launch.containerId = spec.containerId;
  launch.sandbox = spec.sandbox;
  launch.program = spec.program;
  launch.argv = spec.argv;
  launch.environment = spec.environment;
  launch.limits = spec.limits;
  launch.healthCheck = spec.healthCheck;
  launch.recoveryTimeoutNs = std::chrono::nanoseconds(options.recoveryTimeout).count();
  launch.pidNamespace = options.pidNamespace;
  // The task (and its command health checks) enter the container's cgroups, not the executor:
  // the task's limits are its own, whatever the executor costs.
  if (cgroups) {
    auto procs = cgroups->create(spec.containerId, {spec.cpus, spec.memBytes});
    if (!procs) return Error(ErrorCode::kIo, "cannot create the container's cgroups: " + procs.error().message);
    launch.cgroupProcs = *procs;
  }
  {
    std::ofstream f(launchFilePath(runDir));
    f << launch.toJson().dump();
    if (!f.flush()) {
      if (cgroups) cgroups->destroy(spec.containerId);
      return Error(ErrorCode::kIo, "cannot write " + launchFilePath(runDir));
    }
  }
  auto listenFd = listenUnix(executorSocketPath(runDir));
  if (!listenFd) {
    if (cgroups) cgroups->destroy(spec.containerId);
    return listenFd.error();
  }
  SpawnSpec s;
  s.program = options.executorBinary;
  s.argv = {options.executorBinary, "executor", "--run_dir=" + runDir, "--listen_fd=3"};
  s.environment = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  s.workDir = spec.sandbox;
  s.newSession = true;
  s.passFds = {{*listenFd, 3}};
  Result<int> pid = Error(ErrorCode::kInternal, "not started");
  if (auto output = openSandboxOutput(spec.sandbox); !output) {
    pid = output.error();
  } else {
    s.stdoutFd = output->out;
    s.stderrFd = output->err;
    pid = spawnProcess(s);
  }
  int fd = -1;
  if (pid) {
    std::ofstream(runDir + "/executor.pid") << *pid << " " << processStartTime(*pid) << "\n";
    auto conn = connectUnix(executorSocketPath(runDir));  // the executor's backlog takes it at once
    if (conn) {
      fd = *conn;
    } else {
      ::kill(-*pid, SIGKILL);
      ::waitpid(*pid, nullptr, 0);
      pid = Error(ErrorCode::kIo, "cannot reach the executor: " + conn.error().message);
    }
  }
  ::close(*listenFd);
  if (!pid) {
    if (cgroups) cgroups->destroy(spec.containerId);
    return pid.error();
  }
  return StartedExecutor{*pid, fd};
}

}  // namespace dcos::kernel
