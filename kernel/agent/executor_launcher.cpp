// The launcher that runs each task under a `dcos executor` (kernel/executor/executor.hpp): starts
// executors on the loop's blocking pool, talks to them over their channels, and turns their
// events into the launcher callbacks. Loop thread, except where noted.
#include "common/log.hpp"
#include "kernel/agent/cgroups.hpp"
#include "kernel/agent/executor_support.hpp"
#include "kernel/agent/launcher.hpp"
#include "kernel/executor/channel.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("agent"); }

std::string selfBinary() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "/proc/self/exe" : p.string();
}

struct Container {
  std::string id, runDir;
  TaskLauncher::Callbacks callbacks;
  bool attached = false;
  int executorPid = 0;
  bool ours = false;  // a child of this agent process (only those can be reaped)
  bool startReported = false, ended = false;
  std::optional<Duration> pendingKill;
};

// Blocking: kills what is left of a container and removes its cgroups and run directory.
void removeRun(const std::string& runDir, const std::string& id, Cgroups* cgroups) {
  killGroupIfSame(readPidFile(runDir + "/task.pid"));
  killGroupIfSame(readPidFile(runDir + "/executor.pid"));
  if (cgroups) cgroups->destroy(id);
  std::error_code ec;
  std::filesystem::remove_all(runDir, ec);
}

std::string describeExit(int status) {
  if (status < 0) return "terminated";
  if (WIFSIGNALED(status)) return "terminated by signal " + signalName(WTERMSIG(status));
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

class Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(EventLoop& loop, ExecutorLauncherOptions options, std::shared_ptr<Cgroups> cgroups)
      : loop_(loop), options_(std::move(options)), cgroups_(std::move(cgroups)) {
    if (options_.executorBinary.empty()) options_.executorBinary = selfBinary();
  }

  // After construction (the handlers need a weak pointer to this).
  void open() {
    std::weak_ptr<Impl> weak = weak_from_this();
    channels_ = std::make_unique<ExecutorChannels>(
        loop_, ExecutorChannels::Handlers{[weak](const std::string& id, std::vector<Json> messages) {
                                            if (auto self = weak.lock()) self->received(id, messages);
                                          },
                                          [weak](const std::string& id) {
                                            if (auto self = weak.lock()) self->disconnected(id);
                                          }});
  }

  void launch(const LaunchSpec& spec, TaskLauncher::Callbacks callbacks) {
    Container& c = add(spec.containerId, std::move(callbacks));
    auto started = std::make_shared<Result<StartedExecutor>>(Error(ErrorCode::kInternal, "not started"));
    loop_.runBlocking(
        [spec, runDir = c.runDir, options = options_, cgroups = cgroups_, started] {
          *started = startExecutor(spec, runDir, options, cgroups.get());
        },
        [weak = weak_from_this(), id = spec.containerId, started] {
          auto self = weak.lock();
          if (!self || self->closed_) {
            if (*started) ::close((*started)->fd);
            return;
          }
          self->spawned(id, *started);
        });
  }

  void recover(const std::string& id, TaskLauncher::Callbacks callbacks) {
    Container& c = add(id, std::move(callbacks));
    c.startReported = true;
    c.executorPid = readPidFile(c.runDir + "/executor.pid").first;
    auto fd = connectUnix(executorSocketPath(c.runDir));
    if (!fd) {
      logger().warn("the executor of container '{}' is gone: {}", id, fd.error().message);
      std::string who = c.executorPid > 0 ? "Executor (pid " + std::to_string(c.executorPid) + ")" : "The executor";
      executorGone(id, who + " terminated while the agent was down");
      return;
    }
    attach(c, *fd);
  }

  void kill(const std::string& id, Duration grace) {
    auto it = containers_.find(id);
    if (it == containers_.end() || it->second.ended) return;
    Container& c = it->second;
    if (!c.attached) {
      c.pendingKill = std::min(c.pendingKill.value_or(grace), grace);
      return;
    }
    channels_->send(id, {{"type", "KILL"}, {"grace_ns", std::max<long long>(0, std::chrono::nanoseconds(grace).count())}});
  }

  // Off the loop (it has stopped): with `killTasks`, kills every task and waits for its executor
  // to end (it cannot report to a stopped agent); without, lets go of them.
  void close(bool killTasks, Duration grace) {
    if (closed_) return;
    closed_ = true;
    std::vector<Container> all;
    for (auto& [id, c] : containers_) all.push_back(c);
    containers_.clear();
    if (killTasks) {
      if (!all.empty()) logger().info("stopping {} task(s)", all.size());
      for (auto& c : all) {
        if (c.attached && !c.ended) {
          channels_->send(c.id, {{"type", "KILL"}, {"grace_ns", std::chrono::nanoseconds(grace).count()}, {"final", true}});
        }
      }
      auto deadline = std::chrono::steady_clock::now() + grace + std::chrono::seconds(2);
      for (auto& c : all) {
        while (c.executorPid > 0 && processStartTime(c.executorPid) != 0 && std::chrono::steady_clock::now() < deadline) {
          if (c.ours && ::waitpid(c.executorPid, nullptr, WNOHANG) == c.executorPid) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (c.executorPid > 0) ::kill(-c.executorPid, SIGKILL);
        if (c.ours) ::waitpid(c.executorPid, nullptr, 0);
        removeRun(c.runDir, c.id, cgroups_.get());
      }
    }
    if (channels_) channels_->close();
  }

  // Run directories of containers nobody tracks any more: their processes (if still the ones
  // recorded) are killed, their cgroups and the directory removed.
  void removeOrphans(std::set<std::string> known) {
    for (const auto& [id, c] : containers_) known.insert(id);
    // Listed now, before any new launch can add a directory; removed on the pool.
    std::vector<std::string> orphans;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(options_.runsDir, ec)) {
      if (!known.count(entry.path().filename())) orphans.push_back(entry.path().filename());
    }
    if (orphans.empty()) return;
    loop_.runBlocking([cg = cgroups_, runsDir = options_.runsDir, orphans] {
      for (const auto& id : orphans) {
        logger().info("removing container '{}', which no task of this agent uses", id);
        removeRun(runsDir + "/" + id, id, cg.get());
      }
    });
  }

  Json statistics(const std::string& id) const { return cgroups_ ? cgroups_->statistics(id) : Json(); }
  const std::shared_ptr<Cgroups>& cgroups() const { return cgroups_; }
  const ExecutorLauncherOptions& options() const { return options_; }

 private:
  Container& add(const std::string& id, TaskLauncher::Callbacks callbacks) {
    Container& c = containers_[id];
    c.id = id;
    c.runDir = options_.runsDir + "/" + id;
    c.callbacks = std::move(callbacks);
    return c;
  }

  void spawned(const std::string& id, const Result<StartedExecutor>& started) {
    auto it = containers_.find(id);
    if (it == containers_.end()) {
      if (started) ::close(started->fd);
      return;
    }
    Container& c = it->second;
    if (!started) {
      auto report = c.callbacks.started;
      containers_.erase(it);
      report(started.error());
      return;
    }
    c.executorPid = started->pid;
    c.ours = true;
    attach(c, started->fd);
    if (c.pendingKill) kill(id, *c.pendingKill);
  }

  void attach(Container& c, int fd) {
    c.attached = true;
    channels_->add(c.id, fd);
  }

  void received(const std::string& id, const std::vector<Json>& messages) {
    for (const auto& m : messages) {
      auto it = containers_.find(id);
      if (it == containers_.end()) return;
      if (m.value("type", "") == "EVENT") event(it->second, m.value("event", Json::object()), m.value("seq", 0LL));
    }
  }

  // An executor's event. The acknowledgement is posted after the callbacks ran: the agent's
  // checkpoint commit, posted by them, runs first (Agent::persistSoon).
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
      addLimitation(id, t);
      cb.terminated(t);
    }
    loop_.post([weak = weak_from_this(), id, seq] {
      if (auto self = weak.lock(); self && !self->closed_) self->channels_->send(id, {{"type", "ACK"}, {"seq", seq}});
    });
  }

  // When the memory limit ended the container, that is the reason, whatever the exit looked like.
  void addLimitation(const std::string& id, TaskTermination& t) {
    if (!cgroups_) return;
    if (auto limit = cgroups_->memoryLimitation(id)) {
      t.message = *limit;
      t.reason = "REASON_CONTAINER_LIMITATION_MEMORY";
    }
  }

  // The channel closed: the executor exited (after its last acknowledged event) or died.
  void disconnected(const std::string& id) {
    auto it = containers_.find(id);
    if (it == containers_.end()) return;
    Container& c = it->second;
    int reapPid = c.ours ? c.executorPid : 0;
    auto status = std::make_shared<int>(-1);
    bool ended = c.ended;
    loop_.runBlocking(
        [reapPid, status] {
          if (reapPid <= 0) return;
          while (::waitpid(reapPid, status.get(), 0) < 0 && errno == EINTR) {
          }
        },
        [weak = weak_from_this(), id, status, ended, pid = c.executorPid] {
          auto self = weak.lock();
          if (!self || self->closed_) return;
          if (ended) {
            self->containers_.erase(id);
            self->loop_.runBlocking([cg = self->cgroups_, id, runDir = self->options_.runsDir + "/" + id] {
              removeRun(runDir, id, cg.get());
            });
            return;
          }
          self->executorGone(id, "Executor (pid " + std::to_string(pid) + ") " + describeExit(*status) + " before its task ended");
        });
  }

  // The executor is gone without reporting its task's end: what it left is killed, and the task
  // failed (or never started).
  void executorGone(const std::string& id, const std::string& message) {
    auto it = containers_.find(id);
    if (it == containers_.end()) return;
    auto cb = it->second.callbacks;
    bool started = it->second.startReported;
    containers_.erase(it);
    TaskTermination t;
    t.signaled = true;
    t.code = SIGKILL;
    t.message = message;
    t.reason = "REASON_EXECUTOR_TERMINATED";
    addLimitation(id, t);
    loop_.runBlocking([cg = cgroups_, id, runDir = options_.runsDir + "/" + id] { removeRun(runDir, id, cg.get()); });
    if (!started) {
      cb.started(Error(ErrorCode::kIo, message));
      return;
    }
    cb.terminated(t);
  }

  EventLoop& loop_;
  ExecutorLauncherOptions options_;
  std::shared_ptr<Cgroups> cgroups_;
  std::unique_ptr<ExecutorChannels> channels_;
  std::map<std::string, Container> containers_;
  bool closed_ = false;
};

class ExecutorLauncher final : public TaskLauncher {
 public:
  ExecutorLauncher(EventLoop& loop, ExecutorLauncherOptions options, std::shared_ptr<Cgroups> cgroups, std::string why)
      : impl_(std::make_shared<Impl>(loop, std::move(options), std::move(cgroups))), whyNoCgroups_(std::move(why)) {
    impl_->open();
  }
  ~ExecutorLauncher() override { impl_->close(false, Duration::zero()); }

  void launch(const LaunchSpec& spec, Callbacks callbacks) override { impl_->launch(spec, std::move(callbacks)); }
  void recover(const std::string& id, Callbacks callbacks) override { impl_->recover(id, std::move(callbacks)); }
  void kill(const std::string& id, Duration grace) override { impl_->kill(id, grace); }
  void removeOrphans(const std::set<std::string>& known) override { impl_->removeOrphans(known); }
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
    if (impl_->options().pidNamespace) out["isolators"].push_back("namespaces/pid");
    out["pid_namespace"] = impl_->options().pidNamespace;
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
