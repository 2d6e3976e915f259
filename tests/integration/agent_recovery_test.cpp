// Agent recovery end to end: a real master and agent (separate processes of the built binary),
// every task under its own `dcos executor`, and a framework speaking the v1 scheduler API over
// HTTP. The agent is killed (-9 or SIGTERM) and restarted on the same work dir; executors and
// tasks are killed behind its back.
#include "tests/support/cluster.hpp"
#include "tests/support/support.hpp"
#include "common/store/sqlite.hpp"
#include "tests/support/test_framework.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

using namespace dcos;
using namespace dcos::test;
using nlohmann::json;

namespace {

// The state of a task as the master sees it ("" if it does not list it).
std::string masterTaskState(int port, const std::string& taskId) {
  json state = masterState(port);
  for (const auto& fw : state["frameworks"]) {
    for (const auto& t : fw["tasks"]) {
      if (t.value("id", "") == taskId) return t.value("state", "");
    }
  }
  return "";
}

// The executor's pid of a task as the agent's GET /state tells it (0 if not listed).
int executorPid(int agentPort, const std::string& taskId) {
  json state = json::parse(httpRequest(agentPort, "GET", "/state").body);
  for (const auto& fw : state["frameworks"]) {
    for (const auto& t : fw["tasks"]) {
      if (t.value("id", "") == taskId) return t.value("pid", 0);
    }
  }
  return 0;
}

// The pid a task recorded on its (first) launch.
int launchedPid(const TempDir& dir, const std::string& id) {
  std::string text = readFile(dir.file("launches/" + id));
  return text.empty() ? 0 : std::stoi(text);
}

bool sawAnyOf(const TestFramework& fw, const std::string& taskId, const std::vector<std::string>& states) {
  auto h = fw.history(taskId);
  return std::any_of(h.begin(), h.end(), [&](const std::string& s) { return std::count(states.begin(), states.end(), s) > 0; });
}

std::string str(const json& j, const char* key) { return j.is_object() ? j.value(key, std::string()) : std::string(); }

// A master, one agent and a framework whose held tasks are all RUNNING; the driver stops first.
struct HeldTasks {
  TempDir dir;
  std::unique_ptr<MasterProcess> master;
  std::unique_ptr<MasterProcess> agent;
  TestFramework fw;
  std::unique_ptr<kernel::SchedulerDriver> driver;
  int port = 0;

  HeldTasks(const std::string& name, const std::vector<std::string>& ids) {
    std::filesystem::create_directories(dir.file("launches"));
    master = std::make_unique<MasterProcess>(dir.file("master"), std::vector<std::string>{"--allocation_interval=100ms"});
    port = master->port();
    agent = startAgent(dir, "a1", port);
    REQUIRE(waitFor([&] { return activeAgents(port) == 1; }, 10s));
    std::vector<TestFramework::TaskSpec> tasks;
    for (const auto& id : ids) tasks.push_back(heldTask(dir, id));
    fw.addTasks(tasks);
    driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(port), testFrameworkInfo(name), fw);
    fw.setDriver(driver.get());
    driver->start();
    REQUIRE(waitFor([&] { return fw.countInState("TASK_RUNNING") == static_cast<int>(ids.size()); }, 20s));
    for (const auto& id : ids) REQUIRE(waitFor([&] { return launchedPid(dir, id) > 0; }, 5s));
  }
  ~HeldTasks() { driver->stop(); }
};

}  // namespace

TEST_CASE(
    "kill -9 of the agent while 10 tasks run: all still RUNNING after the restart, none launched twice, and an update "
    "from while it was down arrives") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("launches"));
  MasterProcess master(dir.file("master"), {"--allocation_interval=100ms"});
  int port = master.port();
  auto agent = startAgent(dir, "a1", port);
  REQUIRE(waitFor([&] { return activeAgents(port) == 1; }, 10s));

  TestFramework fw;
  std::vector<TestFramework::TaskSpec> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(heldTask(dir, "task-" + std::to_string(i)));
  std::string finishFile = dir.file("finish");
  TestFramework::TaskSpec finisher{"finisher", "echo $$ >> " + dir.file("launches/finisher") + "; while [ ! -e " +
                                                   finishFile + " ]; do sleep 0.05; done; exit 0"};
  auto all = tasks;
  all.push_back(finisher);
  fw.addTasks(all);
  auto driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(port), testFrameworkInfo("agent-recovery"), fw);
  fw.setDriver(driver.get());
  driver->start();
  REQUIRE(waitFor([&] { return fw.countInState("TASK_RUNNING") == 11; }, 30s));
  REQUIRE(waitFor([&] { return launchedPid(dir, "finisher") > 0; }, 5s));
  int finisherPid = launchedPid(dir, "finisher");

  agent->process().signal(SIGKILL);
  REQUIRE(agent->process().wait(5s) >= 0);
  writeFile(finishFile, "");
  REQUIRE(waitFor([&] { return !processAlive(finisherPid); }, 10s));
  // Nothing could have told the framework while the agent was down.
  CHECK(fw.state("finisher") == "TASK_RUNNING");

  agent = startAgent(dir, "a1", port);
  CHECK(waitFor([&] { return fw.state("finisher") == "TASK_FINISHED"; }, 20s));
  CHECK(waitFor([&] { return activeAgents(port) == 1; }, 10s));
  for (const auto& t : tasks) {
    CAPTURE(t.id);
    CHECK(waitFor([&] { return masterTaskState(port, t.id) == "TASK_RUNNING"; }, 10s));
    CHECK(lines(dir.file("launches/" + t.id)) == 1);
    CHECK(processAlive(launchedPid(dir, t.id)));
    CHECK(fw.state(t.id) == "TASK_RUNNING");
    CHECK_FALSE(sawAnyOf(fw, t.id, {"TASK_FAILED", "TASK_LOST", "TASK_KILLED", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE"}));
  }
  CHECK(lines(dir.file("launches/finisher")) == 1);
  CHECK(agent->process().stderrText().find("recovering") != std::string::npos);

  // The restarted agent runs them to the end.
  writeFile(dir.file("release"), "");
  CHECK(waitFor([&] { return fw.countInState("TASK_FINISHED") == 11; }, 30s));
  driver->stop();
}

TEST_CASE("an executor killed while the agent runs fails its task with a message") {
  HeldTasks c("executor-kill", {"t"});
  auto& dir = c.dir;
  auto& fw = c.fw;
  auto& driver = c.driver;
  auto& agent = c.agent;
  int port = c.port;
  int taskPid = launchedPid(dir, "t");
  int execPid = executorPid(agent->port(), "t");
  REQUIRE(execPid > 0);
  CHECK(execPid != taskPid);
  REQUIRE(processAlive(execPid));

  REQUIRE(::kill(execPid, SIGKILL) == 0);
  REQUIRE(waitFor([&] { return fw.state("t") == "TASK_FAILED"; }, 15s));
  json st = fw.lastStatus("t");
  CAPTURE(st.dump());
  CHECK(str(st, "reason") == "REASON_EXECUTOR_TERMINATED");
  CHECK(str(st, "message").find("Executor") != std::string::npos);
  CHECK(str(st, "message").find(std::to_string(execPid)) != std::string::npos);
  CHECK(waitFor([&] { return !processAlive(taskPid); }, 10s));
  CHECK(lines(dir.file("launches/t")) == 1);
  CHECK(waitFor([&] { return masterTaskState(port, "t") != "TASK_RUNNING"; }, 10s));
  driver->stop();
}

TEST_CASE("a task whose process is killed is reported by its executor") {
  HeldTasks c("task-kill", {"t"});
  auto& dir = c.dir;
  auto& fw = c.fw;
  auto& driver = c.driver;
  auto& agent = c.agent;
  int taskPid = launchedPid(dir, "t");
  int execPid = executorPid(agent->port(), "t");

  // The command runs under `sh -c`, so $$ is that shell: killing it ends the task.
  REQUIRE(::kill(taskPid, SIGKILL) == 0);
  REQUIRE(waitFor([&] { return fw.state("t") == "TASK_FAILED"; }, 15s));
  json st = fw.lastStatus("t");
  CAPTURE(st.dump());
  CHECK(str(st, "message") == "Command terminated by signal SIGKILL");
  CHECK(str(st, "reason") == "REASON_COMMAND_EXECUTOR_FAILED");
  // Its executor has nothing left to do.
  if (execPid > 0) CHECK(waitFor([&] { return !processAlive(execPid); }, 10s));
  CHECK(lines(dir.file("launches/t")) == 1);
  driver->stop();
}

TEST_CASE("an executor that died while the agent was down: TASK_FAILED after the restart") {
  HeldTasks c("executor-died-down", {"t"});
  auto& dir = c.dir;
  auto& fw = c.fw;
  auto& driver = c.driver;
  auto& agent = c.agent;
  int port = c.port;
  int taskPid = launchedPid(dir, "t");
  int execPid = executorPid(agent->port(), "t");
  REQUIRE(execPid > 0);

  agent->process().signal(SIGKILL);
  REQUIRE(agent->process().wait(5s) >= 0);
  REQUIRE(processAlive(execPid));  // executors outlive their agent
  REQUIRE(::kill(execPid, SIGKILL) == 0);
  REQUIRE(waitFor([&] { return !processAlive(execPid); }, 10s));

  agent = startAgent(dir, "a1", port);
  REQUIRE(waitFor([&] { return fw.state("t") == "TASK_FAILED"; }, 20s));
  json st = fw.lastStatus("t");
  CAPTURE(st.dump());
  CHECK(str(st, "reason") == "REASON_EXECUTOR_TERMINATED");
  CHECK(str(st, "message").find("while the agent was down") != std::string::npos);
  CHECK(str(st, "message").find(std::to_string(execPid)) != std::string::npos);
  // The orphaned task does not keep running.
  CHECK(waitFor([&] { return !processAlive(taskPid); }, 10s));
  CHECK(lines(dir.file("launches/t")) == 1);
  CHECK(waitFor([&] { return masterTaskState(port, "t") != "TASK_RUNNING"; }, 10s));
  driver->stop();
}

TEST_CASE("SIGTERM to the agent leaves its tasks running and a restart adopts them") {
  HeldTasks c("agent-sigterm", {"held", "killed"});
  auto& dir = c.dir;
  auto& fw = c.fw;
  auto& driver = c.driver;
  auto& agent = c.agent;
  int port = c.port;
  int heldPid = launchedPid(dir, "held");
  int killedPid = launchedPid(dir, "killed");
  int heldExec = executorPid(agent->port(), "held");
  REQUIRE(heldExec > 0);

  agent->process().signal(SIGTERM);
  CHECK(agent->process().wait(15s) == 0);
  CHECK(processAlive(heldPid));
  CHECK(processAlive(killedPid));
  CHECK(processAlive(heldExec));
  CHECK(masterTaskState(port, "held") == "TASK_RUNNING");

  agent = startAgent(dir, "a1", port);
  CHECK(waitFor([&] { return activeAgents(port) == 1; }, 10s));
  CHECK(waitFor([&] { return executorPid(agent->port(), "held") == heldExec; }, 10s));
  CHECK(masterTaskState(port, "held") == "TASK_RUNNING");
  CHECK(masterTaskState(port, "killed") == "TASK_RUNNING");
  CHECK(processAlive(heldPid));

  // The new agent can reach both executors: one task killed through the scheduler API...
  json killCall = {{"type", "KILL"},
                   {"kill", {{"task_id", {{"value", "killed"}}}, {"agent_id", {{"value", fw.agentOf("killed")}}}}}};
  REQUIRE(driver->send(killCall).ok());
  CHECK(waitFor([&] { return fw.state("killed") == "TASK_KILLED"; }, 15s));
  CHECK(waitFor([&] { return !processAlive(killedPid); }, 10s));
  // ...and one that ends by itself is reported.
  CHECK(fw.state("held") == "TASK_RUNNING");
  writeFile(dir.file("release"), "");
  CHECK(waitFor([&] { return fw.state("held") == "TASK_FINISHED"; }, 15s));
  CHECK(lines(dir.file("launches/held")) == 1);
  CHECK(lines(dir.file("launches/killed")) == 1);
  CHECK_FALSE(sawAnyOf(fw, "held", {"TASK_FAILED", "TASK_LOST", "TASK_KILLED"}));
  driver->stop();
}

TEST_CASE("a task the master no longer knows is killed when its agent reregisters") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("launches"));
  auto master = std::make_unique<MasterProcess>(dir.file("master"), std::vector<std::string>{"--allocation_interval=100ms"});
  int port = master->port();
  auto agent = startAgent(dir, "a1", port);
  REQUIRE(waitFor([&] { return activeAgents(port) == 1; }, 10s));
  TestFramework fw;
  fw.addTasks({heldTask(dir, "kept"), heldTask(dir, "forgotten")});
  auto driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(port), testFrameworkInfo("forget"), fw);
  fw.setDriver(driver.get());
  driver->start();
  REQUIRE(waitFor([&] { return fw.countInState("TASK_RUNNING") == 2; }, 30s));
  int forgottenPid = launchedPid(dir, "forgotten");
  int keptPid = launchedPid(dir, "kept");

  // The master goes down and comes back without one of the tasks in its registry.
  master->process().signal(SIGKILL);
  REQUIRE(master->process().wait(5s) >= 0);
  {
    auto db = store::Database::open(dir.file("master/master.db"));
    REQUIRE(db.ok());
    REQUIRE((*db)->exec("DELETE FROM tasks WHERE task_id = 'forgotten'").ok());
  }
  master = std::make_unique<MasterProcess>(
      dir.file("master"), std::vector<std::string>{"--allocation_interval=100ms", "--port=" + std::to_string(port)});
  CHECK(waitFor([&] { return !processAlive(forgottenPid); }, 15s));
  CHECK(processAlive(keptPid));
  CHECK(waitFor([&] { return masterTaskState(port, "kept") == "TASK_RUNNING"; }, 10s));
  CHECK(masterTaskState(port, "forgotten").empty());
  driver->stop();
}

TEST_CASE("a custom executor outlives a kill -9 of its agent and resubscribes to the next one") {
  TempDir dir;
  MasterProcess master(dir.file("master"), {"--allocation_interval=100ms"});
  int port = master.port();
  auto agent = std::make_unique<MasterProcess>(
      dir.file("a1"), std::vector<std::string>{"--master=127.0.0.1:" + std::to_string(port), "--resources=cpus:2;mem:1024;disk:1024",
                                               "--port=0"},
      "agent");
  int agentPort = agent->port();
  REQUIRE(waitFor([&] { return activeAgents(port) == 1; }, 10s));
  const char* tests = std::getenv("DCOS_TESTS_DIR");
  REQUIRE(tests);
  TestFramework fw;
  TestFramework::TaskSpec spec{"custom", ""};
  spec.executor = {{"executor_id", {{"value", "echoer"}}},
                   {"command", {{"value", std::string("exec python3 ") + tests + "/support/test_executor.py"}}}};
  fw.addTasks({spec});
  auto driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(port), testFrameworkInfo("custom-recovery"), fw);
  fw.setDriver(driver.get());
  driver->start();
  REQUIRE(waitFor([&] { return fw.state("custom") == "TASK_RUNNING"; }, 20s));
  // The `dcos executor` that supervises the custom executor's process (the only run on this agent).
  int pid = 0;
  for (const auto& run : std::filesystem::directory_iterator(dir.file("a1/runs"))) {
    pid = std::stoi(readFile(run.path().string() + "/executor.pid"));
  }
  REQUIRE(pid > 0);

  agent->process().signal(SIGKILL);
  REQUIRE(agent->process().wait(5s) >= 0);
  REQUIRE(processAlive(pid));
  // The same port, so the executor finds its agent where MESOS_AGENT_ENDPOINT says.
  agent = std::make_unique<MasterProcess>(
      dir.file("a1"),
      std::vector<std::string>{"--master=127.0.0.1:" + std::to_string(port), "--resources=cpus:2;mem:1024;disk:1024",
                               "--port=" + std::to_string(agentPort)},
      "agent");
  REQUIRE(waitFor([&] { return activeAgents(port) == 1; }, 10s));
  // A message reaches the executor only once it has subscribed to the new agent; retry until then.
  std::string agentId = fw.agentOf("custom");
  REQUIRE(waitFor([&] {
    if (fw.sawEvent("MESSAGE")) return true;
    (void)driver->send({{"type", "MESSAGE"},
                        {"message", {{"agent_id", {{"value", agentId}}}, {"executor_id", {{"value", "echoer"}}}, {"data", "aGk="}}}});
    return false;
  }, 20s));
  CHECK(fw.state("custom") == "TASK_RUNNING");
  REQUIRE(driver->send({{"type", "KILL"}, {"kill", {{"task_id", {{"value", "custom"}}}}}}).ok());
  CHECK(waitFor([&] { return fw.state("custom") == "TASK_KILLED"; }, 10s));
  CHECK(waitFor([&] { return !processAlive(pid); }, 10s));
  driver->stop();
}
