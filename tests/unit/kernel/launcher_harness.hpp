#pragma once
// A ProcessLauncher on an event loop running in its own thread, for launcher tests; the loop
// stops before the launcher shuts down, as in the agent.

#include "kernel/agent/cgroups.hpp"
#include "kernel/agent/launcher.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <future>
#include <mutex>
#include <optional>
#include <thread>

namespace dcos::test {

// One launched container's reports, filled in on the loop thread.
struct LaunchOutcome {
  std::mutex mu;
  std::optional<Result<int>> started;
  std::optional<kernel::TaskTermination> terminated;

  int pid() {
    std::lock_guard lock(mu);
    return started && started->ok() ? **started : -1;
  }
  bool hasStarted() {
    std::lock_guard lock(mu);
    return started.has_value();
  }
  bool hasTerminated() {
    std::lock_guard lock(mu);
    return terminated.has_value();
  }
};

class LauncherFixture {
 public:
  explicit LauncherFixture(std::shared_ptr<kernel::Cgroups> cgroups = nullptr)
      : launcher_(kernel::makeProcessLauncher(loop_, std::move(cgroups))) {
    thread_ = std::thread([this] { loop_.run(); });
  }
  ~LauncherFixture() {
    loop_.stop();
    thread_.join();
    launcher_->shutdown(std::chrono::seconds(0));
  }

  std::shared_ptr<LaunchOutcome> launch(const kernel::LaunchSpec& spec) {
    auto outcome = std::make_shared<LaunchOutcome>();
    onLoop([&] {
      launcher_->launch(spec, {[outcome](Result<int> pid) {
                                 std::lock_guard lock(outcome->mu);
                                 outcome->started = std::move(pid);
                               },
                               [outcome](const kernel::TaskTermination& t) {
                                 std::lock_guard lock(outcome->mu);
                                 outcome->terminated = t;
                               }});
    });
    return outcome;
  }

  void kill(const std::string& id, Duration grace) {
    onLoop([&] { launcher_->kill(id, grace); });
  }

  Json statistics(const std::string& id) {
    Json out;
    onLoop([&] { out = launcher_->statistics(id); });
    return out;
  }

  // Runs fn on the loop thread and waits for it.
  void onLoop(const std::function<void()>& fn) {
    std::promise<void> done;
    loop_.post([&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  int waitStarted(LaunchOutcome& o, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    REQUIRE(waitFor([&] { return o.hasStarted(); }, timeout));
    std::lock_guard lock(o.mu);
    REQUIRE(o.started->ok());
    return **o.started;
  }

  kernel::TaskTermination waitTerminated(LaunchOutcome& o, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    REQUIRE(waitFor([&] { return o.hasTerminated(); }, timeout));
    std::lock_guard lock(o.mu);
    return *o.terminated;
  }

  // Stops the loop, then shuts the launcher down with `grace` (what the agent does on exit).
  void shutdownNow(Duration grace) {
    loop_.stop();
    thread_.join();
    thread_ = std::thread([] {});
    launcher_->shutdown(grace);
  }

  TempDir dir;

 private:
  EventLoop loop_;
  std::unique_ptr<kernel::TaskLauncher> launcher_;
  std::thread thread_;
};

}  // namespace dcos::test
