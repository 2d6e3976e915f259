#include "kernel/executor/health_probe.hpp"

#include "kernel/executor/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dcos::kernel {

HealthProbe::~HealthProbe() {
  abort();
  closeOutput();
}

bool HealthProbe::start(const HealthCheckSpec& spec, const std::vector<std::string>& taskEnvironment,
                        const std::string& sandbox, const std::vector<std::string>& cgroupProcs, std::string* detail) {
  spec_ = spec;
  output_.clear();
  timedOut_ = false;
  if (spec.type == HealthCheckSpec::Type::kCommand) {
    SpawnSpec s;
    s.program = spec.program;
    s.argv = spec.argv;
    s.environment = taskEnvironment;
    s.environment.insert(s.environment.end(), spec.environment.begin(), spec.environment.end());
    s.workDir = sandbox;
    s.cgroupProcs = cgroupProcs;
    s.newProcessGroup = true;
    s.dieWithParent = true;
    int devNull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    s.stdoutFd = s.stderrFd = devNull;
    auto pid = spawnProcess(s);
    ::close(devNull);
    if (!pid) {
      *detail = pid.error().message;
      return false;
    }
    pid_ = *pid;
  } else {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
      *detail = std::string("pipe: ") + std::strerror(errno);
      return false;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);
      std::string seen;
      bool ok = runNetworkCheck(spec, &seen);
      ssize_t ignored = ::write(out[1], seen.data(), seen.size());
      (void)ignored;
      ::_exit(ok ? 0 : 1);
    }
    ::close(out[1]);
    if (pid < 0) {
      ::close(out[0]);
      *detail = std::string("fork: ") + std::strerror(errno);
      return false;
    }
    pid_ = pid;
    outputFd_ = out[0];
  }
  deadline_ = Clock::now() + spec.timeout;
  return true;
}

void HealthProbe::onOutput() {
  char buf[512];
  ssize_t n = ::read(outputFd_, buf, sizeof buf);
  if (n > 0 && output_.size() < 4096) output_.append(buf, static_cast<size_t>(n));
  if (n <= 0) closeOutput();
}

void HealthProbe::onDeadline() {
  if (pid_ > 0) ::kill(-pid_, SIGKILL);
  timedOut_ = true;
  deadline_.reset();
}

void HealthProbe::abort() {
  if (pid_ > 0) ::kill(-pid_, SIGKILL);
}

void HealthProbe::closeOutput() {
  if (outputFd_ >= 0) ::close(outputFd_);
  outputFd_ = -1;
}

std::pair<bool, std::string> HealthProbe::finish(int status) {
  pid_ = 0;
  deadline_.reset();
  if (outputFd_ >= 0) onOutput();  // the rest of what the child wrote before it exited
  closeOutput();
  std::string detail = output_;
  if (timedOut_) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(spec_.timeout).count();
    detail = "timed out after " + (ms % 1000 ? std::to_string(ms) + "ms" : std::to_string(ms / 1000) + "s");
  } else if (spec_.type == HealthCheckSpec::Type::kCommand) {
    detail = WIFSIGNALED(status) ? "terminated by signal " + signalName(WTERMSIG(status))
                                 : "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  return {!timedOut_ && WIFEXITED(status) && WEXITSTATUS(status) == 0, detail};
}

}  // namespace dcos::kernel
