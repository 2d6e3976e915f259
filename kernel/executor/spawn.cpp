#include "kernel/executor/spawn.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <sstream>
#include <utility>

namespace dcos::kernel {
namespace {

// The steps of the child, to name the one that failed.
enum Stage : int { kSession = 1, kDeathSignal, kLimits, kCgroups, kWorkDir, kStdio, kExec, kInit };

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
  std::vector<int> initFds;  // sorted: the descriptors a PID namespace's init keeps

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

// Default dispositions first, then an empty mask: a child sharing the parent's memory (see
// spawnShared) starts with every signal blocked and must never run one of the parent's handlers.
void resetSignals() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the parent's threads may run with signals blocked
}

void enterSession(const SpawnSpec& spec, int reportFd) {
  if (spec.newSession && ::setsid() < 0) childFailed(reportFd, kSession);
  if (spec.newProcessGroup && ::setpgid(0, 0) != 0) childFailed(reportFd, kSession);
}

// Limits, cgroups, cwd, descriptors, exec: the part of the child's setup the program itself does.
[[noreturn]] void runProgram(const SpawnSpec& spec, const Prepared& p, int reportFd, bool enterCgroups) {
  for (const auto& l : spec.limits) {
    rlimit r{static_cast<rlim_t>(l.soft), static_cast<rlim_t>(l.hard)};
    if (::setrlimit(l.resource, &r) != 0) childFailed(reportFd, kLimits);
  }
  for (int fd : p.cgroupFds) {
    if (enterCgroups && ::write(fd, "0", 1) != 1) childFailed(reportFd, kCgroups);
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

[[noreturn]] void runChild(const SpawnSpec& spec, const Prepared& p, int reportFd) {
  resetSignals();
  enterSession(spec, reportFd);
  if (spec.dieWithParent) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) childFailed(reportFd, kDeathSignal);
    if (::getppid() != p.parent) ::_exit(127);  // the parent is already gone
  }
  runProgram(spec, p, reportFd, /*enterCgroups=*/true);
}

// The child of spawnShared: runChild on its own stack, in the parent's memory.
struct SharedChild {
  const SpawnSpec* spec;
  const Prepared* prepared;
  int reportFd;
};

int sharedChildMain(void* arg) {
  auto* c = static_cast<SharedChild*>(arg);
  runChild(*c->spec, *c->prepared, c->reportFd);
}

// Starts runChild the way posix_spawn does: clone(CLONE_VM | CLONE_VFORK) on a stack of its own.
// The child shares the parent's memory until it execs (or exits), and the calling thread waits
// until then. Unlike fork() nothing is copied: no page tables, and no copy-on-write faults and
// TLB shootdowns afterwards in the parent's other threads, which made starting many processes
// from a busy multithreaded agent slow. The child only makes system calls and reads what the
// parent prepared. All signals stay blocked from before the clone until the child has reset
// every handler to the default, so no handler of the parent ever runs in the child.
pid_t spawnShared(const SpawnSpec& spec, const Prepared& p, int reportFd) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Sanitizer runtimes cannot follow a child running on a foreign stack in the parent's memory
  // (their interceptors may wait on locks the suspended parent holds): a plain fork there.
  pid_t forked = ::fork();
  if (forked == 0) runChild(spec, p, reportFd);
  return forked;
#endif
  constexpr size_t kStackSize = 128 * 1024;
  std::unique_ptr<char[]> stack(new (std::nothrow) char[kStackSize]);
  if (!stack) {
    errno = ENOMEM;
    return -1;
  }
  SharedChild child{&spec, &p, reportFd};
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  auto top = reinterpret_cast<uintptr_t>(stack.get() + kStackSize) & ~uintptr_t{15};
  pid_t pid = ::clone(sharedChildMain, reinterpret_cast<void*>(top), CLONE_VM | CLONE_VFORK | SIGCHLD, &child);
  int err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return pid;
}

// fork() without glibc's fork handlers and locks: the child only makes system calls, and the
// parent may be multithreaded. `flags` adds clone flags (CLONE_NEWPID).
pid_t rawFork(unsigned long flags) {
  return static_cast<pid_t>(::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

// Closes every descriptor from 3 up but the ones in `keep` (sorted).
void closeAllBut(const std::vector<int>& keep) {
  auto closeRange = [](unsigned from, unsigned to) {
    if (from > to) return;
    if (::close_range(from, to, 0) == 0) return;
    for (unsigned fd = from; fd <= std::min(to, 65535u); ++fd) ::close(static_cast<int>(fd));
  };
  unsigned next = 3;
  for (int fd : keep) {
    if (fd < static_cast<int>(next)) continue;
    closeRange(next, static_cast<unsigned>(fd) - 1);
    next = static_cast<unsigned>(fd) + 1;
  }
  closeRange(next, ~0U);
}

// PID 1 of the new namespace: sets up what the program's whole namespace shares, starts the
// program, reaps everything, and when the program ends, kills the rest and reports its status.
[[noreturn]] void runInit(const SpawnSpec& spec, const Prepared& p, int reportFd, int statusFd) {
  resetSignals();  // PID 1 with default dispositions: only SIGKILL/SIGSTOP from outside reach it
  ::prctl(PR_SET_NAME, "dcos-pid-init");
  closeAllBut(p.initFds);  // the caller's sockets and files would otherwise stay open here
  enterSession(spec, reportFd);
  if (spec.dieWithParent) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) childFailed(reportFd, kDeathSignal);
    // getppid() is 0 for a namespace's init; the parent holds the report pipe's read end until
    // it learns the outcome, so an error condition on our write end means it is gone.
    pollfd pfd{reportFd, 0, 0};
    if (::poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLERR)) ::_exit(127);
  }
  for (int fd : p.cgroupFds) {
    if (::write(fd, "0", 1) != 1) childFailed(reportFd, kCgroups);
  }
  pid_t task = rawFork(0);
  if (task < 0) childFailed(reportFd, kInit);
  if (task == 0) {
    ::close(statusFd);
    runProgram(spec, p, reportFd, /*enterCgroups=*/false);  // it is in init's cgroups already
  }
  ::close(reportFd);  // the program's copy alone now tells the parent about exec
  int taskStatus = 0;
  bool taskEnded = false;
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing is left
    }
    if (pid == task) {
      taskStatus = status;
      taskEnded = true;
    }
    if (taskEnded) ::kill(-1, SIGKILL);  // everything in the namespace but init
  }
  ssize_t ignored = ::write(statusFd, &taskStatus, sizeof taskStatus);
  (void)ignored;
  ::_exit(WIFSIGNALED(taskStatus) ? 128 + WTERMSIG(taskStatus) : WEXITSTATUS(taskStatus));
}

std::string stageMessage(int stage, const SpawnSpec& spec, const std::string& program, const std::string& why) {
  switch (stage) {
    case kSession: return "cannot start a new session or process group: " + why;
    case kDeathSignal: return "cannot set the parent-death signal: " + why;
    case kLimits: return "cannot apply the rlimits: " + why;
    case kCgroups: return "cannot enter the container's cgroups: " + why;
    case kWorkDir: return "cannot enter the sandbox '" + spec.workDir + "': " + why;
    case kStdio: return "cannot set up stdin/stdout/stderr: " + why;
    case kInit: return "cannot start the program in its PID namespace: " + why;
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

SpawnedProcess::SpawnedProcess(SpawnedProcess&& other) noexcept
    : pid(other.pid), pidNamespace(other.pidNamespace), statusFd(std::exchange(other.statusFd, -1)) {}

SpawnedProcess& SpawnedProcess::operator=(SpawnedProcess&& other) noexcept {
  if (this != &other) {
    if (statusFd >= 0) ::close(statusFd);
    pid = other.pid;
    pidNamespace = other.pidNamespace;
    statusFd = std::exchange(other.statusFd, -1);
  }
  return *this;
}

SpawnedProcess::~SpawnedProcess() {
  if (statusFd >= 0) ::close(statusFd);
}

Result<SpawnedProcess> spawn(const SpawnSpec& spec) {
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
  SpawnedProcess process;
  pid_t pid = -1;
  if (spec.newPidNamespace) {
    int status[2];
    if (::pipe2(status, O_CLOEXEC | O_NONBLOCK) != 0) {
      int err = errno;
      ::close(report[0]);
      ::close(report[1]);
      return Error(ErrorCode::kIo, "exec failed: pipe: " + std::string(std::strerror(err)));
    }
    p.initFds = {report[1], status[1], p.devNull, spec.stdinFd, spec.stdoutFd, spec.stderrFd};
    p.initFds.insert(p.initFds.end(), p.cgroupFds.begin(), p.cgroupFds.end());
    for (const auto& fds : spec.passFds) p.initFds.push_back(fds.first);
    std::sort(p.initFds.begin(), p.initFds.end());
    pid = rawFork(CLONE_NEWPID);
    if (pid == 0) runInit(spec, p, report[1], status[1]);
    int err = errno;
    ::close(status[1]);
    if (pid > 0) {
      process.pidNamespace = true;
      process.statusFd = status[0];
    } else {
      ::close(status[0]);
      errno = err;
    }
    // Not allowed (no CAP_SYS_ADMIN, too deeply nested, ...): as without the option.
    if (pid < 0 && (err == EPERM || err == EINVAL || err == ENOSPC || err == EUSERS)) pid = spawnShared(spec, p, report[1]);
  } else {
    pid = spawnShared(spec, p, report[1]);
  }
  if (pid < 0) {
    int err = errno;
    ::close(report[0]);
    ::close(report[1]);
    return Error(ErrorCode::kIo, "exec failed: fork: " + std::string(std::strerror(err)));
  }
  process.pid = pid;
  ::close(report[1]);
  ChildFailure failure{};
  ssize_t n;
  do {
    n = ::read(report[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n != static_cast<ssize_t>(sizeof failure)) return process;  // EOF: exec happened
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return Error(ErrorCode::kIo, "exec failed: " + stageMessage(failure.stage, spec, p.program, std::strerror(failure.error)));
}

Result<int> spawnProcess(const SpawnSpec& spec) {
  auto process = spawn(spec);
  if (!process) return process.error();
  return process->pid;
}

int taskWaitStatus(SpawnedProcess& process, int waitStatus) {
  if (!process.pidNamespace || process.statusFd < 0) return waitStatus;
  int status = 0;
  ssize_t n;
  do {
    n = ::read(process.statusFd, &status, sizeof status);
  } while (n < 0 && errno == EINTR);
  ::close(process.statusFd);
  process.statusFd = -1;
  return n == static_cast<ssize_t>(sizeof status) ? status : waitStatus;
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
