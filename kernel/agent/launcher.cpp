#include "kernel/agent/launcher.hpp"

#include "common/log.hpp"
#include "kernel/agent/cgroups.hpp"
#include "kernel/agent/paths.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("agent"); }

// Creates the sandbox and starts the process in its own session there, in the container's
// cgroups; returns its pid once exec succeeded.
Result<int> startProcess(const LaunchSpec& spec, Cgroups* cgroups) {
  std::error_code ec;
  std::filesystem::create_directories(spec.sandbox, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot create the sandbox '" + spec.sandbox + "': " + ec.message());
  SpawnSpec s;
  s.program = spec.program;
  s.argv = spec.argv;
  s.environment = spec.environment;
  s.workDir = spec.sandbox;
  s.newSession = true;
  s.limits = spec.limits;
  auto output = openSandboxOutput(spec.sandbox);
  if (!output) return output.error();
  s.stdoutFd = output->out;
  s.stderrFd = output->err;
  if (cgroups) {
    auto procs = cgroups->create(spec.containerId, {spec.cpus, spec.memBytes});
    if (!procs) return Error(ErrorCode::kIo, "cannot create the container's cgroups: " + procs.error().message);
    s.cgroupProcs = *procs;
  }
  return spawnProcess(s);
}

TaskTermination describe(int status, const std::optional<std::string>& limitation) {
  TaskTermination t;
  if (limitation) {
    t.signaled = WIFSIGNALED(status);
    t.code = t.signaled ? WTERMSIG(status) : WEXITSTATUS(status);
    t.message = *limitation;
    t.reason = "REASON_CONTAINER_LIMITATION_MEMORY";
    return t;
  }
  if (WIFSIGNALED(status)) {
    t.signaled = true;
    t.code = WTERMSIG(status);
    t.message = "Command terminated by signal " + signalName(t.code);
  } else {
    t.code = WEXITSTATUS(status);
    t.message = "Command exited with status " + std::to_string(t.code);
  }
  return t;
}

struct Container {
  std::string id;
  pid_t pid = -1;
  std::thread waiter;
  // Guarded by Shared::mu: set by the waiter before it reaps, so nobody signals a reused pid.
  bool exited = false;
  // Loop thread only.
  TaskLauncher::Callbacks callbacks;
  bool startReported = false;
  std::optional<std::pair<int, std::optional<std::string>>> pendingStatus;
  std::optional<EventLoop::TimerId> killTimer;
};

// State shared with the blocking pool and the waiter threads; outlives the launcher if needed.
struct Shared {
  Shared(EventLoop& l, std::shared_ptr<Cgroups> c) : loop(l), cgroups(std::move(c)) {}
  EventLoop& loop;
  const std::shared_ptr<Cgroups> cgroups;  // null: no cgroups
  std::mutex mu;
  bool closed = false;  // after shutdown(): nothing is posted to the loop any more
  std::map<std::string, std::shared_ptr<Container>> containers;
  // Kills asked for while the container was still being started (loop thread only).
  std::map<std::string, Duration> pendingKills;

  void wait(const std::shared_ptr<Container>& c, const std::shared_ptr<Shared>& self) {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(c->pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
    }
    {
      std::lock_guard lock(mu);
      c->exited = true;
      // Whatever the task left in its process group goes with it; the zombie still holds the
      // group id, so this cannot hit an unrelated group.
      ::kill(-c->pid, SIGKILL);
    }
    int status = 0;
    while (::waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::optional<std::string> limitation;
    if (cgroups) {
      limitation = cgroups->memoryLimitation(c->id);
      cgroups->destroy(c->id);  // also kills what left the process group but not the cgroup
    }
    std::lock_guard lock(mu);
    if (!closed) loop.post([self, id = c->id, status, limitation] { self->exited(id, status, limitation); });
  }

  // Loop thread.
  void exited(const std::string& id, int status, const std::optional<std::string>& limitation) {
    std::shared_ptr<Container> c;
    {
      std::lock_guard lock(mu);
      if (closed || !containers.count(id)) return;
      c = containers[id];
    }
    if (!c->startReported) {
      c->pendingStatus = {status, limitation};  // the start report is still queued; it finishes the job
      return;
    }
    finish(c, status, limitation);
  }

  void finish(const std::shared_ptr<Container>& c, int status, const std::optional<std::string>& limitation) {
    if (c->killTimer) loop.cancel(*c->killTimer);
    if (c->waiter.joinable()) c->waiter.join();
    {
      std::lock_guard lock(mu);
      containers.erase(c->id);
    }
    auto termination = describe(status, limitation);
    logger().debug("container '{}' (pid {}) ended: {}", c->id, c->pid, termination.message);
    if (c->callbacks.terminated) c->callbacks.terminated(termination);
  }
};

class ProcessLauncher final : public TaskLauncher {
 public:
  ProcessLauncher(EventLoop& loop, std::shared_ptr<Cgroups> cgroups, std::string whyNoCgroups)
      : shared_(std::make_shared<Shared>(loop, std::move(cgroups))), whyNoCgroups_(std::move(whyNoCgroups)) {}
  ~ProcessLauncher() override { shutdown(Duration::zero()); }

  void launch(const LaunchSpec& spec, Callbacks callbacks) override {
    auto result = std::make_shared<Result<int>>(Error(ErrorCode::kInternal, "not started"));
    auto shared = shared_;
    shared->loop.runBlocking(
        [shared, spec, result] {
          *result = startProcess(spec, shared->cgroups.get());
          if (!*result) {
            if (shared->cgroups) shared->cgroups->destroy(spec.containerId);
            return;
          }
          std::lock_guard lock(shared->mu);
          if (shared->closed) {
            ::kill(-**result, SIGKILL);
            ::waitpid(**result, nullptr, 0);
            if (shared->cgroups) shared->cgroups->destroy(spec.containerId);
            *result = Error(ErrorCode::kUnavailable, "exec failed: the agent is shutting down");
            return;
          }
          auto c = std::make_shared<Container>();
          c->id = spec.containerId;
          c->pid = **result;
          shared->containers[c->id] = c;
          c->waiter = std::thread([shared, c] { shared->wait(c, shared); });
        },
        [shared, id = spec.containerId, result, callbacks = std::move(callbacks)] {
          std::shared_ptr<Container> c;
          {
            std::lock_guard lock(shared->mu);
            if (shared->closed) return;
            if (*result) c = shared->containers.at(id);
          }
          if (!c) {
            callbacks.started(result->error());
            return;
          }
          c->callbacks = callbacks;
          c->startReported = true;
          callbacks.started(c->pid);
          if (auto k = shared->pendingKills.find(id); k != shared->pendingKills.end()) {
            Duration grace = k->second;
            shared->pendingKills.erase(k);
            killContainer(shared, c, grace);
          }
          if (c->pendingStatus) shared->finish(c, c->pendingStatus->first, c->pendingStatus->second);
        });
  }

  void kill(const std::string& containerId, Duration grace) override {
    std::shared_ptr<Container> c;
    {
      std::lock_guard lock(shared_->mu);
      auto it = shared_->containers.find(containerId);
      if (it == shared_->containers.end() || !it->second->startReported) {
        // Still starting: the kill is delivered as soon as the start is reported.
        shared_->pendingKills[containerId] = grace;
        return;
      }
      c = it->second;
    }
    killContainer(shared_, c, grace);
  }

  // Loop thread: SIGTERM (or SIGKILL without grace) to the group, SIGKILL after the grace period.
  static void killContainer(const std::shared_ptr<Shared>& shared, const std::shared_ptr<Container>& c, Duration grace) {
    {
      std::lock_guard lock(shared->mu);
      if (c->exited) return;
      ::kill(-c->pid, grace <= Duration::zero() ? SIGKILL : SIGTERM);
    }
    if (grace <= Duration::zero() || c->killTimer) return;
    std::weak_ptr<Shared> weak = shared;
    c->killTimer = shared->loop.schedule(grace, [weak, c] {
      auto shared = weak.lock();
      if (!shared) return;
      std::lock_guard lock(shared->mu);
      c->killTimer.reset();
      if (!c->exited) {
        logger().info("container '{}' outlived its kill grace period; sending SIGKILL", c->id);
        ::kill(-c->pid, SIGKILL);
      }
    });
  }

  void shutdown(Duration grace) override {
    std::vector<std::shared_ptr<Container>> all;
    {
      std::lock_guard lock(shared_->mu);
      shared_->closed = true;
      for (auto& [id, c] : shared_->containers) {
        all.push_back(c);
        if (!c->exited) ::kill(-c->pid, SIGTERM);
      }
      shared_->containers.clear();
    }
    if (all.empty()) return;
    logger().info("stopping {} task process(es)", all.size());
    auto deadline = std::chrono::steady_clock::now() + grace;
    auto allExited = [&] {
      std::lock_guard lock(shared_->mu);
      for (auto& c : all) {
        if (!c->exited) return false;
      }
      return true;
    };
    while (!allExited() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    {
      std::lock_guard lock(shared_->mu);
      for (auto& c : all) {
        if (!c->exited) ::kill(-c->pid, SIGKILL);
      }
    }
    for (auto& c : all) {
      if (c->waiter.joinable()) c->waiter.join();
    }
  }

  Json isolation() const override {
    if (!shared_->cgroups) {
      Json out = TaskLauncher::isolation();
      if (!whyNoCgroups_.empty()) out["reason"] = whyNoCgroups_;
      return out;
    }
    const auto& cg = *shared_->cgroups;
    return {{"isolators", cg.isolators()}, {"cgroups_version", cg.version()}, {"cgroups_enable_cfs", cg.cfs()}};
  }

  Json statistics(const std::string& containerId) const override {
    return shared_->cgroups ? shared_->cgroups->statistics(containerId) : Json();
  }

 private:
  std::shared_ptr<Shared> shared_;
  std::string whyNoCgroups_;
};

}  // namespace

std::unique_ptr<TaskLauncher> makeProcessLauncher(EventLoop& loop, std::shared_ptr<Cgroups> cgroups,
                                                  std::string whyNoCgroups) {
  return std::make_unique<ProcessLauncher>(loop, std::move(cgroups), std::move(whyNoCgroups));
}


}  // namespace dcos::kernel
