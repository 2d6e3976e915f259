// The launcher that runs each task under a `dcos executor` (kernel/executor/executor.hpp). The
// executors' channels are served by one I/O thread (epoll) that posts their messages to the
// loop; everything else happens on the loop thread, blocking steps on the loop's pool.
#include "common/log.hpp"
#include "kernel/agent/cgroups.hpp"
#include "kernel/agent/launcher.hpp"
#include "kernel/executor/channel.hpp"
#include "kernel/executor/executor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("agent"); }

std::string selfBinary() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "/proc/self/exe" : p.string();
}

// "pid start_time" files of a run directory (not fsync'd: they only matter while the machine
// runs, and nothing of a run survives a reboot).
std::pair<int, unsigned long long> readPidFile(const std::string& path) {
  std::ifstream in(path);
  int pid = 0;
  unsigned long long start = 0;
  in >> pid >> start;
  return {pid, start};
}

// Kills a process group if its leader is still the process that was recorded.
void killGroupIfSame(const std::pair<int, unsigned long long>& recorded) {
  if (recorded.first > 0 && recorded.second != 0 && processStartTime(recorded.first) == recorded.second) {
    ::kill(-recorded.first, SIGKILL);
  }
}

// One executor's channel; its descriptor is closed by the I/O thread only.
struct Channel {
  std::string id;
  int fd = -1;
  LineReader reader;
};

struct Container {
  std::string id, runDir;
  TaskLauncher::Callbacks callbacks;
  std::shared_ptr<Channel> channel;
  int executorPid = 0;
  bool ours = false;  // a child of this agent process (only those can be reaped)
  bool startReported = false, ended = false, recovered = false;
  std::optional<Duration> pendingKill;
};

class Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(EventLoop& loop, ExecutorLauncherOptions options, std::shared_ptr<Cgroups> cgroups)
      : loop_(loop), options_(std::move(options)), cgroups_(std::move(cgroups)) {
    if (options_.executorBinary.empty()) options_.executorBinary = selfBinary();
    epollFd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wakeFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wakeFd_;
    ::epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &ev);
  }
  ~Impl() {
    ::close(epollFd_);
    ::close(wakeFd_);
  }

  void startIo() {
    io_ = std::thread([self = shared_from_this()] { self->ioLoop(); });
  }

  // --- loop thread ---

  void launch(const LaunchSpec& spec, TaskLauncher::Callbacks callbacks) {
    Container& c = containers_[spec.containerId];
    c.id = spec.containerId;
    c.runDir = options_.runsDir + "/" + spec.containerId;
    c.callbacks = std::move(callbacks);
    struct Spawned {
      Result<int> pid = Error(ErrorCode::kInternal, "not started");
      int fd = -1;
    };
    auto out = std::make_shared<Spawned>();
    std::weak_ptr<Impl> weak = weak_from_this();
    loop_.runBlocking([self = shared_from_this(), spec, runDir = c.runDir, out] { out->pid = self->spawn(spec, runDir, out->fd); },
                      [weak, id = spec.containerId, out] {
                        auto self = weak.lock();
                        if (!self || self->closed()) {
                          if (out->fd >= 0) ::close(out->fd);
                          return;
                        }
                        self->spawned(id, out->pid, out->fd);
                      });
  }

  void recover(const std::string& id, TaskLauncher::Callbacks callbacks) {
    Container& c = containers_[id];
    c.id = id;
    c.runDir = options_.runsDir + "/" + id;
    c.callbacks = std::move(callbacks);
    c.startReported = c.recovered = true;
    c.executorPid = readPidFile(c.runDir + "/executor.pid").first;
    auto fd = connectUnix(executorSocketPath(c.runDir));
    if (!fd) {
      logger().warn("the executor of container '{}' is gone: {}", id, fd.error().message);
      executorGone(id, "Executor (pid " + std::to_string(c.executorPid) + ") terminated while the agent was down");
      return;
    }
    attach(c, *fd);
  }

  void kill(const std::string& id, Duration grace) {
    auto it = containers_.find(id);
    if (it == containers_.end() || it->second.ended) return;
    Container& c = it->second;
    if (!c.channel) {
      c.pendingKill = std::min(c.pendingKill.value_or(grace), grace);
      return;
    }
    send(c, {{"type", "KILL"}, {"grace_ns", std::max<long long>(0, std::chrono::nanoseconds(grace).count())}});
  }

  // Off the loop (it has stopped): kills every executor's task, waits for them to end, or lets
  // go of them when `killTasks` is false.
  void close(bool killTasks, Duration grace) {
    std::vector<Container> all;
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      closed_ = true;
    }
    for (auto& [id, c] : containers_) all.push_back(c);
    containers_.clear();
    if (killTasks) {
      for (auto& c : all) {
        if (c.channel && !c.ended) send(c, {{"type", "KILL"}, {"grace_ns", std::chrono::nanoseconds(grace).count()}});
      }
      if (!all.empty()) logger().info("stopping {} task(s)", all.size());
      // Each executor exits once its task has (it cannot report to a stopped agent).
      auto deadline = std::chrono::steady_clock::now() + grace + std::chrono::seconds(2);
      for (auto& c : all) {
        while (c.executorPid > 0 && processStartTime(c.executorPid) != 0 && std::chrono::steady_clock::now() < deadline) {
          if (c.ours && ::waitpid(c.executorPid, nullptr, WNOHANG) == c.executorPid) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        killGroupIfSame(readPidFile(c.runDir + "/task.pid"));
        if (c.executorPid > 0) ::kill(-c.executorPid, SIGKILL);
        if (c.ours) ::waitpid(c.executorPid, nullptr, 0);
        if (cgroups_) cgroups_->destroy(c.id);
      }
    }
    ::eventfd_write(wakeFd_, 1);
    if (io_.joinable()) io_.join();
  }

  Json statistics(const std::string& id) const { return cgroups_ ? cgroups_->statistics(id) : Json(); }
  const std::shared_ptr<Cgroups>& cgroups() const { return cgroups_; }

 private:
  bool closed() {
    std::lock_guard lock(mu_);
    return closed_;
  }

  // Blocking pool: sandbox, run directory, cgroups, then the executor itself; returns its pid and
  // the agent's end of the channel in `fd`.
  Result<int> spawn(const LaunchSpec& spec, const std::string& runDir, int& fd) {
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
    launch.recoveryTimeoutNs = std::chrono::nanoseconds(options_.recoveryTimeout).count();
    {
      std::ofstream f(launchFilePath(runDir));
      f << launch.toJson().dump();
      if (!f.flush()) return Error(ErrorCode::kIo, "cannot write " + launchFilePath(runDir));
    }
    auto listenFd = listenUnix(executorSocketPath(runDir));
    if (!listenFd) return listenFd.error();
    SpawnSpec s;
    s.program = options_.executorBinary;
    s.argv = {options_.executorBinary, "executor", "--run_dir=" + runDir, "--listen_fd=3"};
    s.environment = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    s.workDir = spec.sandbox;
    s.newSession = true;
    s.passFds = {{*listenFd, 3}};
    int out = ::open((spec.sandbox + "/stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = ::open((spec.sandbox + "/stderr").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    s.stdoutFd = out;
    s.stderrFd = err;
    Result<int> pid = Error(ErrorCode::kIo, "cannot open the sandbox's stdout/stderr files: " + std::string(std::strerror(errno)));
    if (out >= 0 && err >= 0) {
      if (cgroups_) {
        auto procs = cgroups_->create(spec.containerId, {spec.cpus, spec.memBytes});
        if (procs) {
          s.cgroupProcs = *procs;
        } else {
          pid = Error(ErrorCode::kIo, "cannot create the container's cgroups: " + procs.error().message);
        }
      }
      if (!cgroups_ || !s.cgroupProcs.empty()) pid = spawnProcess(s);
    }
    for (int f : {out, err}) {
      if (f >= 0) ::close(f);
    }
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
    if (!pid && cgroups_) cgroups_->destroy(spec.containerId);
    return pid;
  }

  void spawned(const std::string& id, const Result<int>& pid, int fd) {
    auto it = containers_.find(id);
    if (it == containers_.end()) {
      if (fd >= 0) ::close(fd);
      return;
    }
    Container& c = it->second;
    if (!pid) {
      auto started = c.callbacks.started;
      containers_.erase(it);
      started(pid.error());
      return;
    }
    c.executorPid = *pid;
    c.ours = true;
    attach(c, fd);
    if (c.pendingKill) kill(id, *c.pendingKill);
  }

  void attach(Container& c, int fd) {
    c.channel = std::make_shared<Channel>();
    c.channel->id = c.id;
    c.channel->fd = fd;
    std::lock_guard lock(mu_);
    channels_[fd] = c.channel;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    ::epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev);
  }

  void send(Container& c, const Json& message) {
    std::lock_guard lock(mu_);
    if (c.channel && c.channel->fd >= 0) writeLine(c.channel->fd, message);  // a broken channel shows as EOF
  }

  void received(const std::string& id, const std::vector<Json>& messages) {
    for (const auto& m : messages) {
      auto it = containers_.find(id);
      if (it == containers_.end()) return;
      if (m.value("type", "") == "EVENT") event(it->second, m.value("event", Json::object()), m.value("seq", 0LL));
    }
  }

  // An executor's event; acknowledged after the callbacks ran (the agent checkpoints what they
  // tell it on the loop before the acknowledgement leaves, see Agent::persist).
  void event(Container& c, const Json& e, long long seq) {
    std::string kind = e.value("kind", "");
    std::string id = c.id;
    auto cb = c.callbacks;
    if (kind == "STARTED" && !c.startReported) {
      c.startReported = true;
      cb.started(c.executorPid);
    } else if (kind == "LAUNCH_FAILED" && !c.startReported) {
      c.startReported = c.ended = true;
      cb.started(Error(ErrorCode::kIo, e.value("message", "exec failed")));
    } else if (kind == "HEALTH" && cb.health) {
      cb.health(e.value("healthy", false), e.value("message", ""));
    } else if (kind == "TERMINATED" && !c.ended) {
      c.ended = true;
      TaskTermination t;
      t.signaled = e.value("signaled", false);
      t.code = e.value("code", 0);
      t.message = e.value("message", "");
      t.killed = e.value("killed", false);
      t.unhealthy = e.value("unhealthy", false);
      if (cgroups_) {
        if (auto limit = cgroups_->memoryLimitation(id)) {
          t.message = *limit;
          t.reason = "REASON_CONTAINER_LIMITATION_MEMORY";
        }
      }
      cb.terminated(t);
    }
    loop_.post([weak = weak_from_this(), id, seq] {
      auto self = weak.lock();
      if (!self) return;
      auto it = self->containers_.find(id);
      if (it != self->containers_.end()) self->send(it->second, {{"type", "ACK"}, {"seq", seq}});
    });
  }

  // The channel closed: the executor exited (after its last acknowledged event) or died.
  void disconnected(const std::string& id) {
    auto it = containers_.find(id);
    if (it == containers_.end()) return;
    Container& c = it->second;
    int pid = c.ours ? c.executorPid : 0;
    if (c.ended) {
      containers_.erase(it);
      loop_.runBlocking([self = shared_from_this(), id, pid] { self->reapAndClean(id, pid, nullptr); });
      return;
    }
    auto status = std::make_shared<int>(-1);
    std::weak_ptr<Impl> weak = weak_from_this();
    loop_.runBlocking([self = shared_from_this(), id, pid, status] { self->reapAndClean(id, pid, status.get()); },
                      [weak, id, status, pid = c.executorPid] {
                        auto self = weak.lock();
                        if (!self || self->closed()) return;
                        std::string how = *status < 0 ? "terminated"
                                          : WIFSIGNALED(*status)
                                              ? "terminated by signal " + signalName(WTERMSIG(*status))
                                              : "exited with status " + std::to_string(WEXITSTATUS(*status));
                        self->executorGone(id, "Executor (pid " + std::to_string(pid) + ") " + how + " before its task ended");
                      });
  }

  // Blocking: reaps the executor if it is ours and removes what is left of the container.
  void reapAndClean(const std::string& id, int pid, int* status) {
    int st = 0;
    if (pid > 0) {
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      if (status) *status = st;
    }
    if (status) killGroupIfSame(readPidFile(options_.runsDir + "/" + id + "/task.pid"));
    if (cgroups_ && !status) cgroups_->destroy(id);
  }

  void executorGone(const std::string& id, const std::string& message) {
    auto it = containers_.find(id);
    if (it == containers_.end()) return;
    auto cb = it->second.callbacks;
    bool started = it->second.startReported;
    containers_.erase(it);
    killGroupIfSame(readPidFile(options_.runsDir + "/" + id + "/task.pid"));
    TaskTermination t;
    t.signaled = true;
    t.code = SIGKILL;
    t.message = message;
    t.reason = "REASON_EXECUTOR_TERMINATED";
    if (cgroups_) {
      if (auto limit = cgroups_->memoryLimitation(id)) {
        t.message = *limit;
        t.reason = "REASON_CONTAINER_LIMITATION_MEMORY";
      }
      loop_.runBlocking([cg = cgroups_, id] { cg->destroy(id); });
    }
    if (!started) {
      cb.started(Error(ErrorCode::kIo, message));
      return;
    }
    cb.terminated(t);
  }

  // --- the I/O thread ---

  void ioLoop() {
    epoll_event events[64];
    for (;;) {
      int n = ::epoll_wait(epollFd_, events, 64, -1);
      if (n < 0 && errno != EINTR) return;
      for (int i = 0; i < n; ++i) {
        if (events[i].data.fd == wakeFd_) {
          closeAll();
          return;
        }
        readable(events[i].data.fd);
      }
    }
  }

  void readable(int fd) {
    std::shared_ptr<Channel> ch;
    {
      std::lock_guard lock(mu_);
      auto it = channels_.find(fd);
      if (it == channels_.end()) return;
      ch = it->second;
    }
    char buf[8192];
    ssize_t n;
    do {
      n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    Result<std::vector<Json>> messages = std::vector<Json>{};
    if (n > 0) messages = ch->reader.feed(buf, static_cast<size_t>(n));
    bool eof = n <= 0 || !messages;
    if (!messages) logger().warn("closing the channel of container '{}': {}", ch->id, messages.error().message);
    std::lock_guard lock(mu_);
    if (eof) {
      ::epoll_ctl(epollFd_, EPOLL_CTL_DEL, fd, nullptr);
      ::close(fd);
      ch->fd = -1;
      channels_.erase(fd);
    }
    if (closed_) return;  // nothing reaches the loop after close()
    std::weak_ptr<Impl> weak = weak_from_this();
    if (messages && !messages->empty()) {
      loop_.post([weak, id = ch->id, m = std::move(*messages)] {
        if (auto self = weak.lock()) self->received(id, m);
      });
    }
    if (eof) {
      loop_.post([weak, id = ch->id] {
        if (auto self = weak.lock()) self->disconnected(id);
      });
    }
  }

  void closeAll() {
    std::lock_guard lock(mu_);
    for (auto& [fd, ch] : channels_) {
      ::close(fd);
      ch->fd = -1;
    }
    channels_.clear();
  }

  EventLoop& loop_;
  ExecutorLauncherOptions options_;
  std::shared_ptr<Cgroups> cgroups_;
  std::map<std::string, Container> containers_;  // loop thread
  std::thread io_;
  int epollFd_ = -1, wakeFd_ = -1;
  std::mutex mu_;  // guards channels_, closed_ and every channel's fd
  std::map<int, std::shared_ptr<Channel>> channels_;
  bool closed_ = false;
};

class ExecutorLauncher final : public TaskLauncher {
 public:
  ExecutorLauncher(EventLoop& loop, ExecutorLauncherOptions options, std::shared_ptr<Cgroups> cgroups, std::string why)
      : impl_(std::make_shared<Impl>(loop, std::move(options), std::move(cgroups))), whyNoCgroups_(std::move(why)) {
    impl_->startIo();
  }
  ~ExecutorLauncher() override { impl_->close(false, Duration::zero()); }

  void launch(const LaunchSpec& spec, Callbacks callbacks) override { impl_->launch(spec, std::move(callbacks)); }
  void recover(const std::string& id, Callbacks callbacks) override { impl_->recover(id, std::move(callbacks)); }
  void kill(const std::string& id, Duration grace) override { impl_->kill(id, grace); }
  void shutdown(Duration grace) override { impl_->close(true, grace); }
  void detach(Duration) override { impl_->close(false, Duration::zero()); }

  Json isolation() const override {
    const auto& cg = impl_->cgroups();
    Json out;
    if (!cg) {
      out = TaskLauncher::isolation();
      if (!whyNoCgroups_.empty()) out["reason"] = whyNoCgroups_;
    } else {
      out = {{"isolators", cg->isolators()}, {"cgroups_version", cg->version()}, {"cgroups_enable_cfs", cg->cfs()}};
    }
    out["isolators"].push_back("posix/rlimits");
    out["executor"] = "dcos executor";
    return out;
  }
  Json statistics(const std::string& id) const override { return impl_->statistics(id); }

 private:
  std::shared_ptr<Impl> impl_;
  std::string whyNoCgroups_;
};

}  // namespace

std::unique_ptr<TaskLauncher> makeExecutorLauncher(EventLoop& loop, ExecutorLauncherOptions options,
                                                   std::shared_ptr<Cgroups> cgroups, std::string whyNoCgroups) {
  return std::make_unique<ExecutorLauncher>(loop, std::move(options), std::move(cgroups), std::move(whyNoCgroups));
}

}  // namespace dcos::kernel
