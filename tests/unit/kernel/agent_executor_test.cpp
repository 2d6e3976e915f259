// The agent with real `dcos executor` processes: health checks, kill policies, rlimits, and
// reattaching to running executors after the agent process is replaced.
#include "tests/support/local_server.hpp"
#include "tests/unit/kernel/agent_harness.hpp"

#include <signal.h>

#include <atomic>
#include <filesystem>

using namespace dcos;
using namespace dcos::test;

namespace {

Json withField(Json run, const std::string& key, const Json& value) {
  run["run_task"]["task"][key] = value;
  return run;
}

// Follows one task's updates in order, acknowledging each (the next one is only sent then).
class UpdateFollower {
 public:
  UpdateFollower(FakeMaster& master, std::string task) : master_(master), task_(std::move(task)) {}

  // Waits for the next update of the task and acknowledges it.
  Json next() {
    Json found;
    bool ok = waitFor(
        [&] {
          size_t seen = 0;
          for (const auto& c : master_.calls("UPDATE")) {
            const Json& st = c.body["update"]["status"];
            if (st["task_id"]["value"] != task_) continue;
            if (seen++ == taken_) {
              found = st;
              return true;
            }
          }
          return false;
        },
        15s);
    REQUIRE_MESSAGE(ok, "no update #" << taken_ + 1 << " for " << task_);
    ++taken_;
    master_.ack(found);
    return found;
  }

  // Acknowledges updates until one satisfies `pred`, which is returned.
  Json until(const std::function<bool(const Json&)>& pred) {
    for (int i = 0; i < 50; ++i) {
      Json st = next();
      if (pred(st)) return st;
    }
    FAIL("no matching update for " << task_);
    return Json();
  }

 private:
  FakeMaster& master_;
  std::string task_;
  size_t taken_ = 0;
};

bool isState(const Json& st, const std::string& state) { return st["state"] == state; }

}  // namespace

TEST_SUITE("agent executors") {

TEST_CASE("a COMMAND health check reports healthy, then unhealthy, then the task is killed") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  std::string flag = h.dir.file("healthy");
  writeFile(flag, "");
  Json check = {{"type", "COMMAND"},          {"command", {{"value", "test -e " + flag}}},
                {"delay_seconds", 0},          {"interval_seconds", 0.1},
                {"timeout_seconds", 2},        {"grace_period_seconds", 0},
                {"consecutive_failures", 3}};
  master.send(withField(runTask("web", {{"value", "exec sleep 30"}}), "health_check", check));
  UpdateFollower updates(master, "web");
  CHECK(isState(updates.next(), "TASK_STARTING"));
  Json running = updates.next();
  CHECK(isState(running, "TASK_RUNNING"));
  CHECK_FALSE(running.contains("healthy"));  // no result yet
  Json healthy = updates.next();
  CHECK(isState(healthy, "TASK_RUNNING"));
  CHECK(healthy["healthy"] == true);
  CHECK(healthy["reason"] == "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");

  std::filesystem::remove(flag);
  Json unhealthy = updates.next();
  CHECK(isState(unhealthy, "TASK_RUNNING"));
  CHECK(unhealthy["healthy"] == false);
  Json killed = updates.next();
  CHECK(isState(killed, "TASK_KILLED"));
  CHECK(killed["healthy"] == false);
  CHECK(killed["reason"] == "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
  CHECK(killed["message"].get<std::string>().find("health") != std::string::npos);
}

TEST_CASE("an HTTP health check against the task's port reports healthy") {
  LocalServer server;
  std::atomic<int> hits{0};
  server.router.route("GET", "/ready", [&](const http::Request&) {
    ++hits;
    return http::Response{200, {}, "ok"};
  });
  server.start();
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  Json check = {{"type", "HTTP"},
                {"http", {{"port", server.port}, {"path", "/ready"}}},
                {"delay_seconds", 0},
                {"interval_seconds", 0.2},
                {"grace_period_seconds", 0}};
  master.send(withField(runTask("api", {{"value", "exec sleep 30"}}), "health_check", check));
  UpdateFollower updates(master, "api");
  Json healthy = updates.until([](const Json& st) { return st.contains("healthy"); });
  CHECK(healthy["healthy"] == true);
  CHECK(hits.load() >= 1);
}

TEST_CASE("a task that ignores SIGTERM is killed with SIGKILL after its kill_policy grace period") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  master.send(runTask("stubborn", {{"value", "trap '' TERM; echo trapped; while true; do sleep 0.05; done"}}));
  UpdateFollower updates(master, "stubborn");
  updates.until([](const Json& st) { return isState(st, "TASK_RUNNING"); });
  std::string out = h.state()["frameworks"][0]["tasks"][0]["sandbox"].get<std::string>() + "/stdout";
  REQUIRE(waitFor([&] { return readFile(out).find("trapped") != std::string::npos; }, 10s));
  Json kill = killTask("stubborn");
  kill["kill_task"]["kill_policy"] = {{"grace_period", {{"nanoseconds", 600'000'000}}}};
  auto before = std::chrono::steady_clock::now();
  master.send(kill);
  Json killed = updates.until([](const Json& st) { return isState(st, "TASK_KILLED"); });
  auto took = std::chrono::steady_clock::now() - before;
  CHECK(killed["message"] == "Command terminated by signal SIGKILL");
  CHECK(took >= 600ms);
}

TEST_CASE("a framework with TASK_KILLING_STATE hears TASK_KILLING before TASK_KILLED, others do not") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  Json aware = runTask("aware", {{"value", "exec sleep 30"}});
  aware["run_task"]["framework_info"]["capabilities"] = {{{"type", "TASK_KILLING_STATE"}}};
  master.send(aware);
  master.send(runTask("plain", {{"value", "exec sleep 30"}}));
  for (const char* id : {"aware", "plain"}) {
    UpdateFollower updates(master, id);
    updates.until([](const Json& st) { return isState(st, "TASK_RUNNING"); });
    master.send(killTask(id));
    Json next = updates.next();
    if (std::string(id) == "aware") {
      CHECK(isState(next, "TASK_KILLING"));
      next = updates.next();
    }
    CHECK(isState(next, "TASK_KILLED"));
  }
}

TEST_CASE("rlimits from container.rlimit_info apply to the task") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  master.send(withField(runTask("limited", {{"value", "ulimit -n"}}), "container",
                        {{"type", "MESOS"},
                         {"rlimit_info", {{"rlimits", {{{"type", "RLMT_NOFILE"}, {"soft", 77}, {"hard", 88}}}}}}}));
  UpdateFollower updates(master, "limited");
  updates.until([](const Json& st) { return isState(st, "TASK_FINISHED"); });
  REQUIRE(waitFor([&] { return h.state()["completed_tasks"].size() == 1; }, 10s));
  std::string sandbox = h.state()["completed_tasks"][0]["sandbox"];
  CHECK(readFile(sandbox + "/stdout") == "77\n");
}

TEST_CASE("with --pid_namespace a task is PID 2 of its own namespace, and a kill still ends it with SIGTERM") {
  FakeMaster master;
  AgentHarness h(master, [](AgentOptions& o) { o.pidNamespace = true; });
  h.start();
  master.waitCall("SUBSCRIBE");
  Json isolation = h.state()["isolation"];
  CHECK(isolation["pid_namespace"] == true);
  CHECK(std::find(isolation["isolators"].begin(), isolation["isolators"].end(), "namespaces/pid") != isolation["isolators"].end());
  master.send(runTask("ns", {{"value", "echo $$; sleep 30 & exec sleep 30"}}));
  UpdateFollower updates(master, "ns");
  updates.until([](const Json& st) { return isState(st, "TASK_RUNNING"); });
  std::string out = h.state()["frameworks"][0]["tasks"][0]["sandbox"].get<std::string>() + "/stdout";
  REQUIRE(waitFor([&] { return readFile(out) == "2\n"; }, 10s));
  master.send(killTask("ns"));
  Json killed = updates.until([](const Json& st) { return isState(st, "TASK_KILLED"); });
  CHECK(killed["message"] == "Command terminated by signal SIGTERM");
  // The background sleep went with the namespace.
  CHECK(waitFor([&] { return processesUsing(h.dir.path()).empty(); }, 10s));
}

TEST_CASE("a malformed rlimit or health check is TASK_ERROR naming the field") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  master.send(withField(runTask("bad-limit", {{"value", "true"}}), "container",
                        {{"type", "MESOS"}, {"rlimit_info", {{"rlimits", {{{"type", "RLMT_NOPE"}}}}}}}));
  Json error = master.updateOf("bad-limit", "TASK_ERROR");
  CHECK(error["message"].get<std::string>().find("container.rlimit_info.rlimits[0].type") != std::string::npos);
  master.send(withField(runTask("bad-check", {{"value", "true"}}), "health_check",
                        {{"type", "HTTP"}, {"http", {{"port", 70000}}}}));
  error = master.updateOf("bad-check", "TASK_ERROR");
  CHECK(error["message"].get<std::string>().find("health_check.http.port") != std::string::npos);
}

TEST_CASE("a new agent process reattaches to running executors, resends unacknowledged updates and kills through them") {
  FakeMaster master;
  AgentHarness first(master);
  first.start();
  master.waitCall("SUBSCRIBE");
  master.send(runTask("keep", {{"value", "exec sleep 30"}}));
  master.ack(master.updateOf("keep", "TASK_STARTING"));
  Json running = master.updateOf("keep", "TASK_RUNNING");  // not acknowledged
  int executorPid = first.state()["frameworks"][0]["tasks"][0]["pid"];
  first.stop(/*killTasks=*/false);
  REQUIRE(processAlive(executorPid));  // outlives its agent

  AgentHarness second(master, [&](AgentOptions& o) { o.workDir = first.dir.path(); });
  second.start();
  Call subscribe = master.waitCall("SUBSCRIBE", 2);
  Json reported = subscribe.body["subscribe"]["tasks"];
  REQUIRE(reported.size() == 1);
  CHECK(reported[0]["task"]["task_id"]["value"] == "keep");
  CHECK(reported[0]["status"]["state"] == "TASK_RUNNING");
  // The unacknowledged RUNNING comes again, with its uuid.
  REQUIRE(waitFor([&] {
    int n = 0;
    for (const auto& c : master.calls("UPDATE")) n += c.body["update"]["status"]["uuid"] == running["uuid"];
    return n >= 2;
  }, 10s));
  master.ack(running);
  master.send(killTask("keep"));
  Json killed = master.updateOf("keep", "TASK_KILLED");
  CHECK(killed["message"] == "Command terminated by signal SIGTERM");
  CHECK(waitFor([&] { return !processAlive(executorPid); }, 10s));
}

}  // TEST_SUITE
