#include "kernel/executor/executor.hpp"

#include "common/clock.hpp"
#include "kernel/executor/channel.hpp"
#include "kernel/executor/health_check.hpp"
#include "kernel/executor/health_probe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>

namespace dcos::kernel {
namespace {

using Clock = std::chrono::steady_clock;

void note(const std::string& text) { std::fprintf(stderr, "dcos executor: %s\n", text.c_str()); }

std::string exitMessage(int status) {
  if (WIFSIGNALED(status)) return "Command terminated by signal " + signalName(WTERMSIG(status));
  return "Command exited with status " + std::to_string(WEXITSTATUS(status));
}

class Executor {
 public:
  Executor(std::string runDir, ExecutorLaunch launch, int listenFd)
      : runDir_(std::move(runDir)), launch_(std::move(launch)), listenFd_(listenFd) {}

  int run() {
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    signalFd_ = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signalFd_ < 0) {
      note(std::string("signalfd: ") + std::strerror(errno));
      return 1;
    }
    startTask();
    while (!done_) step();
    return 0;
  }

 private:
  void startTask() {
    SpawnSpec spec;
    spec.program = launch_.program;
    spec.argv = launch_.argv;
    spec.environment = launch_.environment;
    spec.workDir = launch_.sandbox;
    spec.newProcessGroup = true;
    spec.dieWithParent = true;
    spec.limits = launch_.limits;
    spec.newPidNamespace = launch_.pidNamespace;
    spec.cgroupProcs = launch_.cgroupProcs;
    auto pid = spawn(spec);
    if (!pid) {
      emit({{"kind", "LAUNCH_FAILED"}, {"message", pid.error().message}});
      finished_ = true;
      return;
    }
    task_ = std::move(*pid);
    taskPid_ = task_.pid;
    launchedAt_ = Clock::now();
    // For an agent that finds this executor dead: the task's process group to kill.
    std::ofstream(runDir_ + "/task.pid") << taskPid_ << " " << processStartTime(taskPid_) << "\n";
    emit({{"kind", "STARTED"}, {"pid", taskPid_}, {"start_time", processStartTime(taskPid_)}});
    if (!launch_.healthCheck.is_null()) {
      auto spec = parseHealthCheck(launch_.healthCheck);
      if (spec) {
        health_.emplace(*spec, toTimePoint(launchedAt_));
      } else {
        note("ignoring the health check: " + spec.error().message);
      }
    }
  }

  // The tracker works on the system clock type; the executor measures with the steady clock.
  static TimePoint toTimePoint(Clock::time_point t) { return TimePoint(std::chrono::duration_cast<Duration>(t.time_since_epoch())); }
  static Clock::time_point fromTimePoint(TimePoint t) {
    return Clock::time_point(std::chrono::duration_cast<Clock::duration>(t.time_since_epoch()));
  }

  // One round of the loop: wait for a descriptor or the next deadline, then handle it.
  void step() {
    std::vector<pollfd> fds = {{signalFd_, POLLIN, 0}, {listenFd_, POLLIN, 0}};
    if (clientFd_ >= 0) fds.push_back({clientFd_, POLLIN, 0});
    if (probe_.outputFd() >= 0) fds.push_back({probe_.outputFd(), POLLIN, 0});
    int timeout = -1;
    if (auto next = nextDeadline()) {
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(*next - Clock::now()).count();
      timeout = static_cast<int>(std::clamp<long long>(ms, 0, 60'000));
    }
    int n = ::poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) {
      note(std::string("poll: ") + std::strerror(errno));
      done_ = true;
      return;
    }
    for (const auto& p : fds) {
      if (!p.revents) continue;
      if (p.fd == signalFd_) onSignals();
      else if (p.fd == listenFd_) onConnection();
      else if (p.fd == clientFd_) onClientData();
      else if (p.fd == probe_.outputFd()) probe_.onOutput();
    }
    onTimers();
  }

  std::optional<Clock::time_point> nextDeadline() const {
    std::optional<Clock::time_point> next;
    auto consider = [&](std::optional<Clock::time_point> t) {
      if (t && (!next || *t < *next)) next = t;
    };
    consider(killAt_);
    consider(probe_.deadline());
    if (health_ && taskPid_ > 0 && !probe_.running() && !killing_) consider(fromTimePoint(health_->nextCheckAt()));
    if (finished_) consider(giveUpAt_);
    return next;
  }

  void onTimers() {
    auto now = Clock::now();
    if (killAt_ && now >= *killAt_) {
      killAt_.reset();
      if (taskPid_ > 0) ::kill(-taskPid_, SIGKILL);
    }
    if (auto d = probe_.deadline(); d && now >= *d) probe_.onDeadline();
    if (health_ && taskPid_ > 0 && !probe_.running() && !killing_ && now >= fromTimePoint(health_->nextCheckAt())) {
      startCheck();
    }
    if (finished_ && giveUpAt_ && now >= *giveUpAt_) {
      note("no agent acknowledged the task's end in time; exiting");
      done_ = true;
    }
  }

  // --- the task ---

  void kill(Clock::duration grace) {
    if (taskPid_ <= 0) return;
    bool first = !killing_;
    killing_ = true;
    ::kill(-taskPid_, grace <= Clock::duration::zero() ? SIGKILL : SIGTERM);
    auto deadline = Clock::now() + grace;
    if (first || !killAt_ || deadline < *killAt_) killAt_ = deadline;  // a second kill may shorten it
  }

  void onSignals() {
    signalfd_siginfo info;
    bool child = false;
    while (::read(signalFd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      if (info.ssi_signo == SIGCHLD) {
        child = true;
      } else {
        kill(std::chrono::nanoseconds(launch_.graceNs));  // SIGTERM/SIGINT/SIGHUP: stop the task
      }
    }
    if (child) reap();
  }

  void reap() {
    if (taskPid_ > 0) {
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(taskPid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == taskPid_) {
        // What the task left in its process group goes with it; the zombie still holds the id.
        ::kill(-taskPid_, SIGKILL);
        int status = 0;
        ::waitpid(taskPid_, &status, 0);
        taskEnded(taskWaitStatus(task_, status));
      }
    }
    if (probe_.running()) {
      int status = 0;
      if (::waitpid(probe_.pid(), &status, WNOHANG) == probe_.pid()) checkEnded(status);
    }
  }

  void taskEnded(int status) {
    taskPid_ = 0;
    killAt_.reset();
    probe_.abort();
    std::string message = exitMessage(status);
    if (unhealthyKill_) message += " (killed after failing health checks: " + unhealthyDetail_ + ")";
    emit({{"kind", "TERMINATED"},
          {"signaled", WIFSIGNALED(status)},
          {"code", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status)},
          {"message", message},
          {"killed", killing_},
          {"unhealthy", unhealthyKill_}});
    finished_ = true;
    if (noAck_) done_ = true;  // the agent said it will not acknowledge (it is stopping)
    if (clientFd_ < 0) giveUpAt_ = Clock::now() + std::chrono::nanoseconds(launch_.recoveryTimeoutNs);
  }

  // --- health checks: each runs in a child of its own (kernel/executor/health_probe.hpp) ---

  void startCheck() {
    health_->checkStarted(toTimePoint(Clock::now()));
    std::string detail;
    if (!probe_.start(health_->spec(), launch_.environment, launch_.sandbox, launch_.cgroupProcs, &detail)) {
      recordCheck(false, detail);
    }
  }

  void checkEnded(int status) {
    auto [passed, detail] = probe_.finish(status);
    if (taskPid_ > 0 && !killing_) recordCheck(passed, detail);
  }

  void recordCheck(bool passed, const std::string& detail) {
    auto outcome = health_->record(passed, detail, toTimePoint(Clock::now()));
    if (outcome.healthChanged) emit({{"kind", "HEALTH"}, {"healthy", *outcome.healthChanged}, {"message", outcome.message}});
    if (outcome.kill) {
      unhealthyKill_ = true;
      unhealthyDetail_ = outcome.message;
      kill(std::chrono::nanoseconds(launch_.graceNs));
    }
  }

  // --- the agent ---

  void emit(Json event) {
    pending_.push_back({{"type", "EVENT"}, {"seq", ++seq_}, {"event", std::move(event)}});
    if (pending_.size() == 1) sendHead();
  }

  void sendHead() {
    if (clientFd_ < 0 || pending_.empty()) return;
    if (!writeLine(clientFd_, pending_.front())) dropClient();
  }

  void onConnection() {
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    if (clientFd_ >= 0) ::close(clientFd_);  // a newer agent replaces an older connection
    clientFd_ = fd;
    reader_ = LineReader();
    giveUpAt_.reset();
    if (!writeLine(clientFd_, {{"type", "HELLO"}, {"executor_pid", ::getpid()}})) return dropClient();
    sendHead();
  }

  void dropClient() {
    if (clientFd_ >= 0) ::close(clientFd_);
    clientFd_ = -1;
    if (finished_) giveUpAt_ = Clock::now() + std::chrono::nanoseconds(launch_.recoveryTimeoutNs);
  }

  void onClientData() {
    char buf[4096];
    ssize_t n = ::recv(clientFd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) return;
    if (n <= 0) return dropClient();
    auto messages = reader_.feed(buf, static_cast<size_t>(n));
    if (!messages) {
      note(messages.error().message);
      return dropClient();
    }
    for (const auto& m : *messages) {
      std::string type = m.value("type", "");
      if (type == "ACK") {
        if (!pending_.empty() && m.value("seq", 0LL) == pending_.front().value("seq", 0LL)) {
          pending_.pop_front();
          if (pending_.empty() && finished_) {
            done_ = true;
            return;
          }
          sendHead();
        }
      } else if (type == "KILL") {
        if (m.value("final", false)) {
          noAck_ = true;
          if (finished_) done_ = true;
        }
        kill(std::chrono::nanoseconds(std::max(0LL, m.value("grace_ns", launch_.graceNs))));
      }
    }
  }

  std::string runDir_;
  ExecutorLaunch launch_;
  int listenFd_, signalFd_ = -1, clientFd_ = -1;
  LineReader reader_;
  std::deque<Json> pending_;
  long long seq_ = 0;
  SpawnedProcess task_;  // with a PID namespace, taskPid_ is the namespace's init
  pid_t taskPid_ = 0;
  Clock::time_point launchedAt_;
  std::optional<HealthTracker> health_;
  HealthProbe probe_;
  std::string unhealthyDetail_;
  bool killing_ = false, unhealthyKill_ = false, finished_ = false, done_ = false;
  bool noAck_ = false;  // a final KILL: exit once the task has ended
  std::optional<Clock::time_point> killAt_, giveUpAt_;
};

}  // namespace

std::string launchFilePath(const std::string& runDir) { return runDir + "/launch.json"; }

Json ExecutorLaunch::toJson() const {
  Json limitsJson = Json::array();
  for (const auto& l : limits) limitsJson.push_back({{"resource", l.resource}, {"soft", l.soft}, {"hard", l.hard}});
  return {{"container_id", containerId}, {"task_id", taskId},   {"sandbox", sandbox},
          {"program", program},          {"argv", argv},        {"environment", environment},
          {"limits", limitsJson},        {"grace_ns", graceNs}, {"recovery_timeout_ns", recoveryTimeoutNs},
          {"health_check", healthCheck}, {"pid_namespace", pidNamespace}, {"cgroup_procs", cgroupProcs}};
}

Result<ExecutorLaunch> ExecutorLaunch::fromJson(const Json& j) {
  try {
    ExecutorLaunch l;
    l.containerId = j.at("container_id").get<std::string>();
    l.taskId = j.value("task_id", "");
    l.sandbox = j.at("sandbox").get<std::string>();
    l.program = j.at("program").get<std::string>();
    l.argv = j.at("argv").get<std::vector<std::string>>();
    l.environment = j.at("environment").get<std::vector<std::string>>();
    for (const auto& lim : j.value("limits", Json::array())) {
      l.limits.push_back({lim.at("resource").get<int>(), lim.at("soft").get<unsigned long long>(),
                          lim.at("hard").get<unsigned long long>()});
    }
    l.graceNs = j.value("grace_ns", l.graceNs);
    l.recoveryTimeoutNs = j.value("recovery_timeout_ns", l.recoveryTimeoutNs);
    l.healthCheck = j.value("health_check", Json());
    l.pidNamespace = j.value("pid_namespace", false);
    l.cgroupProcs = j.value("cgroup_procs", std::vector<std::string>{});
    return l;
  } catch (const Json::exception& e) {
    return Error(ErrorCode::kInvalidArgument, std::string("launch.json: ") + e.what());
  }
}

int runExecutor(const std::string& runDir, int listenFd) {
  std::ifstream in(launchFilePath(runDir));
  Json json = Json::parse(in, nullptr, false);
  auto launch = in && !json.is_discarded() ? ExecutorLaunch::fromJson(json)
                                           : Error(ErrorCode::kIo, "cannot read " + launchFilePath(runDir));
  if (!launch) {
    note(launch.error().message);
    return 1;
  }
  if (listenFd < 0) {
    auto fd = listenUnix(executorSocketPath(runDir));
    if (!fd) {
      note(fd.error().message);
      return 1;
    }
    listenFd = *fd;
  }
  return Executor(runDir, std::move(*launch), listenFd).run();
}

}  // namespace dcos::kernel
