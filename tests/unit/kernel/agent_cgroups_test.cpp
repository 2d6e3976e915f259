// Per-task cgroups in the ProcessLauncher (kernel/agent/cgroups.hpp). Skipped, with a message,
// where cgroups are not usable (not root, no cpu/memory controllers).
#include "kernel/agent/cgroups.hpp"
#include "kernel/agent/launcher.hpp"

#include "tests/support/support.hpp"
#include "tests/unit/kernel/agent_harness.hpp"
#include "tests/unit/kernel/launcher_harness.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

using namespace dcos;
using namespace dcos::kernel;
using namespace std::chrono_literals;

namespace {

using Outcome = test::LaunchOutcome;

// The launcher fixture with cgroups and a shell task builder that sets the limits.
class Fixture : public test::LauncherFixture {
 public:
  explicit Fixture(std::shared_ptr<Cgroups> cgroups) : test::LauncherFixture(cgroups), cgroups_(std::move(cgroups)) {}

  LaunchSpec shell(const std::string& script, double cpus, uint64_t memMb) {
    static int counter = 0;
    LaunchSpec spec;
    spec.containerId = "cgtest-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    spec.sandbox = dir.path() + "/" + spec.containerId;
    spec.program = "/bin/sh";
    spec.argv = {"sh", "-c", script};
    spec.environment = {"PATH=/usr/bin:/bin"};
    spec.cpus = cpus;
    spec.memBytes = memMb << 20;
    return spec;
  }

  void kill(const std::string& id) { test::LauncherFixture::kill(id, 0s); }
  TaskTermination waitTerminated(Outcome& o) { return test::LauncherFixture::waitTerminated(o, 20s); }

  std::shared_ptr<Cgroups> cgroups_;
};

std::shared_ptr<Cgroups> usableCgroups(bool cfs) {
  std::string why;
  auto c = Cgroups::detect(cfs, &why);
  if (!c) MESSAGE("skipped: cgroups are not usable here: " << why);
  return c;
}

}  // namespace

TEST_SUITE("agent cgroups") {

TEST_CASE("a task over its memory limit is killed and reported as a memory limitation") {
  auto cgroups = usableCgroups(false);
  if (!cgroups) return;
  Fixture f(cgroups);
  auto o = f.launch(f.shell("head -c 300m /dev/zero | tail > /dev/null", 0.1, 32));
  f.waitStarted(*o);
  auto t = f.waitTerminated(*o);
  CHECK(t.reason == "REASON_CONTAINER_LIMITATION_MEMORY");
  CHECK(t.message.rfind("Memory limit exceeded: Requested: 32MB", 0) == 0);
  CHECK_FALSE(t.succeeded());
}

TEST_CASE("a task runs in its own cgroup, which is gone once it ended") {
  auto cgroups = usableCgroups(false);
  if (!cgroups) return;
  Fixture f(cgroups);
  auto spec = f.shell("exec sleep 30", 0.25, 64);
  std::string dir = cgroups->memoryDir(spec.containerId);
  auto o = f.launch(spec);
  int pid = f.waitStarted(*o);
  CHECK(std::filesystem::exists(dir));
  CHECK(test::readFile(dir + "/" + (cgroups->version() == 2 ? "cgroup.procs" : "tasks")).find(std::to_string(pid)) !=
        std::string::npos);
  if (cgroups->version() == 1) {
    CHECK(test::readFile(dir + "/memory.limit_in_bytes") == std::to_string(64 << 20) + "\n");
    CHECK(test::readFile("/sys/fs/cgroup/cpu/dcos/" + spec.containerId + "/cpu.shares") == "256\n");
  }
  f.kill(spec.containerId);
  auto t = f.waitTerminated(*o);
  CHECK(t.reason.empty());
  CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("statistics report a running task's usage and limits") {
  auto cgroups = usableCgroups(false);
  if (!cgroups) return;
  Fixture f(cgroups);
  // The shell holds ~5 MB of anonymous memory while it sleeps.
  auto spec = f.shell("x=$(head -c 5000000 /dev/zero | tr '\\0' a); echo ready; sleep 30", 0.5, 128);
  auto o = f.launch(spec);
  f.waitStarted(*o);
  REQUIRE(test::waitFor([&] { return test::readFile(spec.sandbox + "/stdout") == "ready\n"; }, 10s));
  Json s = f.statistics(spec.containerId);
  INFO(s.dump());
  REQUIRE(s.is_object());
  CHECK(s.value("mem_rss_bytes", uint64_t{0}) > 4000000);
  CHECK(s.value("mem_limit_bytes", uint64_t{0}) == 128ull << 20);
  CHECK(s.value("cpus_limit", 0.0) == doctest::Approx(0.5));
  CHECK(s.contains("cpus_user_time_secs"));
  CHECK(s.contains("cpus_system_time_secs"));
  CHECK(s.value("timestamp", 0.0) > 0);
  f.kill(spec.containerId);
  f.waitTerminated(*o);
  CHECK(f.statistics(spec.containerId).is_null());
}

TEST_CASE("with CFS a busy loop gets about its cpus") {
  auto cgroups = usableCgroups(true);
  if (!cgroups) return;
  Fixture f(cgroups);
  auto spec = f.shell("while :; do :; done", 0.5, 64);
  auto o = f.launch(spec);
  f.waitStarted(*o);
  auto cpuSecs = [&] {
    Json s = f.statistics(spec.containerId);
    return s.value("cpus_user_time_secs", 0.0) + s.value("cpus_system_time_secs", 0.0);
  };
  double before = cpuSecs();
  auto start = std::chrono::steady_clock::now();
  REQUIRE(test::waitFor([&] { return cpuSecs() - before >= 0.5; }, 20s));
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double rate = (cpuSecs() - before) / wall;
  INFO("cpu-seconds per second: " << rate);
  CHECK(rate > 0.1);  // loose: a loaded machine may give less; the quota bounds it above
  CHECK(rate < 0.75);
  f.kill(spec.containerId);
  f.waitTerminated(*o);
}

TEST_CASE("the agent reports its isolators, a task's usage and a memory limitation") {
  auto cgroups = usableCgroups(false);
  if (!cgroups) return;
  test::FakeMaster master;
  test::AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  auto withMem = [](Json call, double mb) {
    call["run_task"]["task"]["resources"].push_back({{"name", "mem"}, {"type", "SCALAR"}, {"scalar", {{"value", mb}}}});
    return call;
  };
  Json isolation = h.state()["isolation"];
  CHECK(isolation["cgroups"] == true);
  CHECK(isolation["isolators"] == Json::array({"cgroups/cpu", "cgroups/mem", "posix/rlimits"}));

  master.send(withMem(test::runTask("hog", {{"value", "head -c 300m /dev/zero | tail > /dev/null"}}), 32));
  master.send(withMem(test::runTask("idle", {{"value", "exec sleep 30"}}), 64));
  // Acknowledges every update seen (the agent sends a task's next one only then) until `task`
  // reaches `state`.
  std::set<std::string> acked;
  auto awaitState = [&](const std::string& task, const std::string& state) {
    Json found;
    bool ok = test::waitFor(
        [&] {
          for (const auto& c : master.calls("UPDATE")) {
            const Json& st = c.body["update"]["status"];
            if (acked.insert(st.value("uuid", "")).second) master.ack(st);
            if (st["task_id"]["value"] == task && st["state"] == state) found = st;
          }
          return !found.is_null();
        },
        20s);
    REQUIRE_MESSAGE(ok, "no " << state << " update for " << task);
    return found;
  };
  Json failed = awaitState("hog", "TASK_FAILED");
  CHECK(failed["reason"] == "REASON_CONTAINER_LIMITATION_MEMORY");
  CHECK(failed["message"].get<std::string>().rfind("Memory limit exceeded", 0) == 0);
  awaitState("idle", "TASK_RUNNING");
  Json stats = h.monitor();
  INFO(stats.dump());
  REQUIRE(stats.size() == 1);
  CHECK(stats[0]["executor_id"] == "idle");
  CHECK(stats[0]["framework_id"] == "fw-1");
  CHECK(stats[0]["statistics"]["mem_limit_bytes"] == 64ull << 20);
  CHECK(stats[0]["statistics"]["cpus_limit"].get<double>() == doctest::Approx(0.1));
  CHECK(stats[0]["statistics"]["mem_rss_bytes"].get<uint64_t>() > 0);
}

}  // TEST_SUITE
