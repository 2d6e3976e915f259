#include "kernel/executor/spawn.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace dcos::kernel {
namespace {

// The steps of the child, to name the one that failed.
enum Stage : int { kSession = 1, kDeathSignal, kLimits, kCgroups, kWorkDir, kStdio, kExec };

struct ChildFailure {
  int stage;
  int error;
};

[[noreturn]] void childFailed(int reportFd, int stage) {
  ChildFailure f{stage, errno};
  ssize_t ignored = ::write(reportFd, &f, sizeof f);
  (void)ignored;
  ::_exit(127);
}

struct Prepared {
  std::string program;
  std::vector<char*> argv, envp;
  int devNull = -1;
  std::vector<int> cgroupFds;
  pid_t parent = 0;

  ~Prepared() {
    if (devNull >= 0) ::close(devNull);
    for (int fd : cgroupFds) ::close(fd);
  }
};

void moveFd(int from, int to, int reportFd) {
  if (from < 0) return;
  if (from == to) {
    if (::fcntl(to, F_SETFD, 0) != 0) childFailed(reportFd, kStdio);
  } else if (::dup2(from, to) < 0) {
    childFailed(reportFd, kStdio);
  }
}

[[noreturn]] void runChild(const SpawnSpec& spec, const Prepared& p, int reportFd) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the parent's threads may run with signals blocked
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  if (spec.newSession && ::setsid() < 0) childFailed(reportFd, kSession);
  if (spec.newProcessGroup && ::setpgid(0, 0) != 0) childFailed(reportFd, kSession);
  if (spec.dieWithParent) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) childFailed(reportFd, kDeathSignal);
    if (::getppid() != p.parent) ::_exit(127);  // the parent is already gone
  }
  for (const auto& l : spec.limits) {
    rlimit r{static_cast<rlim_t>(l.soft), static_cast<rlim_t>(l.hard)};
    if (::setrlimit(l.resource, &r) != 0) childFailed(reportFd, kLimits);
  }
  for (int fd : p.cgroupFds) {
    if (::write(fd, "0", 1) != 1) childFailed(reportFd, kCgroups);
  }
  if (!spec.workDir.empty() && ::chdir(spec.workDir.c_str()) != 0) childFailed(reportFd, kWorkDir);
  // Everything of the parent (listening sockets, connections, files) closes on exec...
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  // ... except what the child is given.
  moveFd(spec.stdinFd >= 0 ? spec.stdinFd : p.devNull, 0, reportFd);
  moveFd(spec.stdoutFd, 1, reportFd);
  moveFd(spec.stderrFd, 2, reportFd);
  for (const auto& [from, to] : spec.passFds) moveFd(from, to, reportFd);
  ::execve(p.program.c_str(), p.argv.data(), p.envp.data());
  childFailed(reportFd, kExec);
}

std::string stageMessage(int stage, const SpawnSpec& spec, const std::string& program, const std::string& why) {
  switch (stage) {
    case kSession: return "cannot start a new session or process group: " + why;
    case kDeathSignal: return "cannot set the parent-death signal: " + why;
    case kLimits: return "cannot apply the rlimits: " + why;
    case kCgroups: return "cannot enter the container's cgroups: " + why;
    case kWorkDir: return "cannot enter the sandbox '" + spec.workDir + "': " + why;
    case kStdio: return "cannot set up stdin/stdout/stderr: " + why;
    default: return "'" + program + "': " + why;
  }
}

}  // namespace

std::string findProgram(const std::string& program, const std::vector<std::string>& environment) {
  if (program.find('/') != std::string::npos) return program;
  std::string path;
  for (const auto& kv : environment) {
    if (kv.rfind("PATH=", 0) == 0) path = kv.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return program;  // exec then fails with ENOENT, which is the message the user needs
}

Result<int> spawnProcess(const SpawnSpec& spec) {
  Prepared p;
  p.program = findProgram(spec.program, spec.environment);
  p.parent = ::getpid();
  if (spec.stdinFd < 0) {
    p.devNull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (p.devNull < 0) return Error(ErrorCode::kIo, "exec failed: cannot open /dev/null: " + std::string(std::strerror(errno)));
  }
  for (const auto& path : spec.cgroupProcs) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Error(ErrorCode::kIo, "exec failed: cannot open " + path + ": " + std::strerror(errno));
    p.cgroupFds.push_back(fd);
  }
  for (const auto& a : spec.argv) p.argv.push_back(const_cast<char*>(a.c_str()));
  p.argv.push_back(nullptr);
  for (const auto& e : spec.environment) p.envp.push_back(const_cast<char*>(e.c_str()));
  p.envp.push_back(nullptr);

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return Error(ErrorCode::kIo, "exec failed: pipe: " + std::string(std::strerror(errno)));
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(report[0]);
    ::close(report[1]);
    return Error(ErrorCode::kIo, "exec failed: fork: " + std::string(std::strerror(err)));
  }
  if (pid == 0) runChild(spec, p, report[1]);
  ::close(report[1]);
  ChildFailure failure{};
  ssize_t n;
  do {
    n = ::read(report[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n != static_cast<ssize_t>(sizeof failure)) return static_cast<int>(pid);  // EOF: exec happened
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return Error(ErrorCode::kIo, "exec failed: " + stageMessage(failure.stage, spec, p.program, std::strerror(failure.error)));
}

std::string signalName(int signal) {
  const char* abbrev = ::sigabbrev_np(signal);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signal);
}

unsigned long long processStartTime(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses; the last ')' ends it.
  auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  unsigned long long start = 0;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 3 && field == "Z") return 0;
    if (i == 22) start = std::stoull(field);
  }
  return start;
}

}  // namespace dcos::kernel
