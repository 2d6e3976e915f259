// Garbage collection of sandboxes: the pure decision with a fake clock, the scan of a real
// directory, and an agent removing a finished task's sandbox while a running one's stays.
#include "kernel/agent/gc.hpp"

#include "tests/support/support.hpp"
#include "tests/unit/kernel/agent_harness.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/time.h>

#include <algorithm>
#include <filesystem>

using namespace dcos;
using namespace dcos::kernel;
using namespace std::chrono_literals;

namespace {

constexpr Duration kDay = 24h;

GcOptions tenDays(double headroom = 0.1) { return GcOptions{10 * kDay, headroom}; }

// Sets a directory's mtime to `ago` before now.
void age(const std::string& path, std::chrono::seconds ago) {
  struct timeval now {};
  gettimeofday(&now, nullptr);
  struct timeval times[2] = {now, now};
  times[0].tv_sec -= ago.count();
  times[1].tv_sec -= ago.count();
  REQUIRE(utimes(path.c_str(), times) == 0);
}

bool exists(const std::string& path) { return std::filesystem::exists(path); }

}  // namespace

TEST_SUITE("agent gc") {

TEST_CASE("a finished sandbox goes once it is older than the allowed age") {
  FakeClock clock;
  std::vector<SandboxEntry> sandboxes = {{"/s/fw/a/1", clock.now() - 8 * kDay, false},
                                         {"/s/fw/b/1", clock.now() - 9 * kDay, false},
                                         {"/s/fw/c/1", clock.now() - 12 * kDay, false}};
  // With an empty disk the allowed age is gc_delay * (1 - headroom): 9 days.
  CHECK(gcMaxAge(tenDays(), 0.0) == 9 * kDay);
  CHECK(sandboxesToRemove(sandboxes, 0.0, tenDays(), clock.now()) == std::vector<std::string>{"/s/fw/b/1", "/s/fw/c/1"});
  CHECK(sandboxesToRemove(sandboxes, 0.0, tenDays(0.0), clock.now()) == std::vector<std::string>{"/s/fw/c/1"});

  clock.advance(kDay);
  CHECK(sandboxesToRemove(sandboxes, 0.0, tenDays(), clock.now()).size() == 3);
}

TEST_CASE("the allowed age shrinks as the disk fills and is zero past the headroom") {
  CHECK(gcMaxAge(tenDays(), 0.4) == 5 * kDay);
  CHECK(gcMaxAge(tenDays(), 0.8) == kDay);
  CHECK(gcMaxAge(tenDays(), 0.9) == Duration::zero());
  CHECK(gcMaxAge(tenDays(), 0.97) == Duration::zero());
  CHECK(gcMaxAge(tenDays(), -1.0) == 9 * kDay);  // nonsense usage is clamped

  FakeClock clock;
  std::vector<SandboxEntry> sandboxes = {{"/s/fw/a/1", clock.now() - 2 * kDay, false},
                                         {"/s/fw/b/1", clock.now(), false}};
  CHECK(sandboxesToRemove(sandboxes, 0.5, tenDays(), clock.now()).empty());
  CHECK(sandboxesToRemove(sandboxes, 0.8, tenDays(), clock.now()) == std::vector<std::string>{"/s/fw/a/1"});
  CHECK(sandboxesToRemove(sandboxes, 0.95, tenDays(), clock.now()).size() == 2);
}

TEST_CASE("a live sandbox is never removed, however old and however full the disk") {
  FakeClock clock;
  std::vector<SandboxEntry> sandboxes = {{"/s/fw/running/1", TimePoint(), true},
                                         {"/s/fw/done/1", clock.now() - 100 * kDay, false}};
  CHECK(sandboxesToRemove(sandboxes, 1.0, tenDays(), clock.now()) == std::vector<std::string>{"/s/fw/done/1"});
  CHECK(sandboxesToRemove(sandboxes, 0.0, GcOptions{Duration::zero(), 0.0}, clock.now()) ==
        std::vector<std::string>{"/s/fw/done/1"});
}

TEST_CASE("the scan finds run directories with their mtimes and empty parents") {
  test::TempDir dir;
  std::string root = dir.file("sandboxes");
  std::filesystem::create_directories(root + "/fw-1/task-a/run-1");
  std::filesystem::create_directories(root + "/fw-1/task-a/run-2");
  std::filesystem::create_directories(root + "/fw-1/task-empty");
  std::filesystem::create_directories(root + "/fw-empty");
  test::writeFile(root + "/fw-1/task-a/run-1/stdout", "hello");
  test::writeFile(root + "/fw-1/stray-file", "not a task");
  age(root + "/fw-1/task-a/run-1", std::chrono::hours(48));

  auto scan = scanSandboxes(root);
  std::sort(scan.sandboxes.begin(), scan.sandboxes.end(),
            [](const SandboxEntry& a, const SandboxEntry& b) { return a.path < b.path; });
  REQUIRE(scan.sandboxes.size() == 2);
  CHECK(scan.sandboxes[0].path == root + "/fw-1/task-a/run-1");
  CHECK_FALSE(scan.sandboxes[0].live);
  Duration ageOfFirst = SystemClock::instance().now() - scan.sandboxes[0].finishedAt;
  CHECK(ageOfFirst > 47h);
  CHECK(ageOfFirst < 49h);
  CHECK(SystemClock::instance().now() - scan.sandboxes[1].finishedAt < 1h);
  CHECK(scan.emptyDirs == std::vector<std::string>{root + "/fw-1/task-empty", root + "/fw-empty"});

  CHECK(scanSandboxes(dir.file("missing")).sandboxes.empty());
  CHECK(removeSandbox(root + "/fw-1/task-a/run-1").ok());
  CHECK_FALSE(exists(root + "/fw-1/task-a/run-1"));
  CHECK_FALSE(removeIfEmpty(root + "/fw-1/task-a"));
  CHECK(removeIfEmpty(root + "/fw-empty"));

  auto usage = diskUsage(dir.path());
  REQUIRE(usage.ok());
  CHECK(*usage >= 0.0);
  CHECK(*usage <= 1.0);
}

TEST_CASE("the agent removes a finished task's sandbox after gc_delay and keeps a running one's") {
  test::FakeMaster master;
  test::AgentHarness h(master, [](AgentOptions& o) {
    o.gcDelay = 200ms;
    o.gcDiskHeadroom = 0.0;
    o.diskWatchInterval = 50ms;
  });
  // A sandbox left by a task that ended before this agent started: its mtime tells its age.
  std::string old = h.dir.file("sandboxes/fw-old/task-old/run-old");
  std::filesystem::create_directories(old);
  test::writeFile(old + "/stdout", "from a previous life\n");
  age(old, std::chrono::hours(1));
  h.start();
  master.waitCall("SUBSCRIBE");
  REQUIRE(test::waitFor([&] { return !exists(h.dir.file("sandboxes/fw-old")); }, 10s));

  master.send(test::runTask("sleeper", {{"value", "exec sleep 30"}}));
  master.ack(master.updateOf("sleeper", "TASK_STARTING"));
  master.ack(master.updateOf("sleeper", "TASK_RUNNING"));
  master.send(test::runTask("done", {{"value", "echo bye"}}));
  master.ack(master.updateOf("done", "TASK_STARTING"));
  master.ack(master.updateOf("done", "TASK_RUNNING"));
  Json finished = master.updateOf("done", "TASK_FINISHED");

  std::string doneSandbox, sleeperSandbox;
  Json state = h.state();
  for (const auto& task : state["frameworks"][0]["tasks"]) {
    (task["id"] == "done" ? doneSandbox : sleeperSandbox) = task["sandbox"].get<std::string>();
  }
  REQUIRE_FALSE(doneSandbox.empty());
  REQUIRE_FALSE(sleeperSandbox.empty());
  CHECK(test::waitFor([&] { return !exists(doneSandbox); }, 10s));

  // Once the task is forgotten (acknowledged), its empty task directory goes too.
  master.ack(finished);
  CHECK(test::waitFor([&] { return !exists(h.dir.file("sandboxes/fw-1/done")); }, 10s));
  // A fresh sandbox left on disk goes once it is older than the allowed age; by then the running
  // task's sandbox, made earlier, is older still, and it stays.
  std::string probe = h.dir.file("sandboxes/fw-probe/task/run");
  std::filesystem::create_directories(probe);
  REQUIRE(test::waitFor([&] { return !exists(h.dir.file("sandboxes/fw-probe")); }, 10s));
  CHECK(exists(sleeperSandbox));
  CHECK(exists(sleeperSandbox + "/stdout"));
  CHECK(h.state()["frameworks"][0]["tasks"][0]["state"] == "TASK_RUNNING");
}

}
