// The offer kernel end to end: a real master and real agents (separate processes of the built
// binary) on loopback, and a framework speaking the Mesos v1 scheduler API over HTTP.
#include "tests/support/cluster.hpp"
#include "tests/support/support.hpp"
#include "tests/support/test_framework.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <filesystem>

using namespace dcos;
using namespace dcos::test;
using nlohmann::json;

namespace {

}  // namespace

TEST_CASE("twenty tasks on two agents survive a kill -9 of the master without a second launch") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("launches"));
  auto master = std::make_unique<MasterProcess>(dir.file("master"), std::vector<std::string>{"--allocation_interval=100ms"});
  int port = master->port();
  // One cpu each: twenty tasks of 0.1 cpus need both agents.
  auto a1 = startAgent(dir, "a1", port, "cpus:1;mem:1024;disk:1024");
  auto a2 = startAgent(dir, "a2", port, "cpus:1;mem:1024;disk:1024");
  REQUIRE(waitFor([&] { return activeAgents(port) == 2; }, 10s));

  TestFramework fw;
  std::vector<TestFramework::TaskSpec> tasks;
  for (int i = 0; i < 20; ++i) tasks.push_back(heldTask(dir, "task-" + std::to_string(i)));
  fw.addTasks(tasks);
  auto driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(port), testFrameworkInfo("kernel-test"), fw);
  fw.setDriver(driver.get());
  driver->start();
  REQUIRE(waitFor([&] { return fw.countInState("TASK_RUNNING") == 20; }, 30s));
  std::set<std::string> agentsUsed;
  for (const auto& t : tasks) agentsUsed.insert(fw.agentOf(t.id));
  CHECK(agentsUsed.size() == 2);

  master->process().signal(SIGKILL);
  REQUIRE(master->process().wait(5s) >= 0);
  master = std::make_unique<MasterProcess>(
      dir.file("master"), std::vector<std::string>{"--allocation_interval=100ms", "--port=" + std::to_string(port)});
  CHECK(waitFor([&] { return activeAgents(port) == 2; }, 15s));
  CHECK(waitFor([&] { return fw.subscriptions() >= 2; }, 15s));
  auto state = masterState(port);
  REQUIRE(ownFrameworks(state["frameworks"]).size() == 1);
  CHECK(ownFrameworks(state["frameworks"])[0]["tasks"].size() == 20);

  writeFile(dir.file("release"), "");
  CHECK(waitFor([&] { return fw.countInState("TASK_FINISHED") == 20; }, 30s));
  for (const auto& t : tasks) {
    CAPTURE(t.id);
    CHECK(lines(dir.file("launches/" + t.id)) == 1);
  }
  CHECK(waitFor([&] { return ownFrameworks(masterState(port)["frameworks"])[0]["tasks"].empty(); }, 10s));
  driver->stop();
}

TEST_CASE("an agent that stops answering pings makes its tasks unreachable, and they come back with it") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("launches"));
  MasterProcess master(dir.file("master"), {"--allocation_interval=100ms", "--agent_ping_timeout=200ms",
                                            "--max_agent_ping_timeouts=2"});
  auto agent = startAgent(dir, "a1", master.port());
  REQUIRE(waitFor([&] { return activeAgents(master.port()) == 1; }, 10s));
  TestFramework fw;
  fw.addTasks({heldTask(dir, "t1"), heldTask(dir, "t2")});
  auto driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(master.port()), testFrameworkInfo("partition"), fw);
  fw.setDriver(driver.get());
  driver->start();
  REQUIRE(waitFor([&] { return fw.countInState("TASK_RUNNING") == 2; }, 20s));

  agent->process().signal(SIGSTOP);
  CHECK(waitFor([&] { return fw.countInState("TASK_UNREACHABLE") == 2; }, 10s));
  CHECK(masterState(master.port())["slaves"][0]["state"] == "UNREACHABLE");
  agent->process().signal(SIGCONT);
  CHECK(waitFor([&] { return fw.countInState("TASK_RUNNING") == 2; }, 15s));
  CHECK(activeAgents(master.port()) == 1);
  CHECK(lines(dir.file("launches/t1")) == 1);
  writeFile(dir.file("release"), "");
  CHECK(waitFor([&] { return fw.countInState("TASK_FINISHED") == 2; }, 15s));
  driver->stop();
}

TEST_CASE("a framework that fails over within its timeout keeps its tasks; one that does not loses them") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("launches"));
  MasterProcess master(dir.file("master"), {"--allocation_interval=100ms"});
  auto agent = startAgent(dir, "a1", master.port());
  REQUIRE(waitFor([&] { return activeAgents(master.port()) == 1; }, 10s));
  std::string url = "127.0.0.1:" + std::to_string(master.port());

  TestFramework first;
  first.addTasks({heldTask(dir, "keep")});
  auto d1 = kernel::makeHttpDriver(url, testFrameworkInfo("failover", 30), first);
  first.setDriver(d1.get());
  d1->start();
  REQUIRE(waitFor([&] { return first.countInState("TASK_RUNNING") == 1; }, 20s));
  d1->stop();

  json info = testFrameworkInfo("failover", 30);
  info["id"] = {{"value", first.frameworkId()}};
  TestFramework second;
  auto d2 = kernel::makeHttpDriver(url, info, second);
  second.setDriver(d2.get());
  d2->start();
  REQUIRE(waitFor([&] { return second.subscriptions() == 1; }, 10s));
  CHECK(second.frameworkId() == first.frameworkId());
  REQUIRE(d2->send({{"type", "RECONCILE"}, {"reconcile", {{"tasks", json::array()}}}}).ok());
  CHECK(waitFor([&] { return second.state("keep") == "TASK_RUNNING"; }, 10s));

  // Now a framework with a short failover timeout goes away for good: its task is killed.
  TestFramework brief;
  brief.addTasks({heldTask(dir, "doomed")});
  auto d3 = kernel::makeHttpDriver(url, testFrameworkInfo("brief", 0.3), brief);
  brief.setDriver(d3.get());
  d3->start();
  REQUIRE(waitFor([&] { return brief.countInState("TASK_RUNNING") == 1; }, 20s));
  std::string pid = readFile(dir.file("launches/doomed"));
  d3->stop();
  CHECK(waitFor([&] { return ownFrameworks(masterState(master.port())["frameworks"]).size() == 1; }, 10s));
  CHECK(waitFor([&] { return kill(std::stoi(pid), 0) != 0; }, 10s));
  d2->stop();
}

TEST_CASE("a dev cluster runs tasks on its built-in agent and stops them on SIGTERM") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("launches"));
  MasterProcess dev(dir.file("dev"), {"--allocation_interval=100ms", "--resources=cpus:1;mem:256;disk:64"}, "dev");
  REQUIRE(waitFor([&] { return activeAgents(dev.port()) == 1; }, 10s));
  TestFramework fw;
  fw.addTasks({heldTask(dir, "in-dev")});
  auto driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(dev.port()), testFrameworkInfo("dev"), fw);
  fw.setDriver(driver.get());
  driver->start();
  REQUIRE(waitFor([&] { return fw.state("in-dev") == "TASK_RUNNING"; }, 20s));
  std::string pid = readFile(dir.file("launches/in-dev"));
  driver->stop();
  dev.process().signal(SIGTERM);
  CHECK(dev.process().wait(15s) == 0);
  CHECK(kill(std::stoi(pid), 0) != 0);
}

TEST_CASE("an agent unreachable past the removal timeout is GONE and refused when it comes back") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("launches"));
  auto master = std::make_unique<MasterProcess>(
      dir.file("master"), std::vector<std::string>{"--allocation_interval=100ms", "--agent_ping_timeout=200ms",
                                                   "--max_agent_ping_timeouts=2", "--agent_removal_timeout=1secs"});
  auto agent = startAgent(dir, "a1", master->port());
  REQUIRE(waitFor([&] { return activeAgents(master->port()) == 1; }, 10s));
  TestFramework fw;
  fw.addTasks({heldTask(dir, "t")});
  auto driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(master->port()), testFrameworkInfo("gone"), fw);
  fw.setDriver(driver.get());
  driver->start();
  REQUIRE(waitFor([&] { return fw.state("t") == "TASK_RUNNING"; }, 20s));
  agent->process().signal(SIGSTOP);
  CHECK(waitFor([&] { return fw.state("t") == "TASK_GONE"; }, 15s));
  CHECK(masterState(master->port())["slaves"].empty());
  agent->process().signal(SIGCONT);
  // The master refuses the removed agent; it exits with 1 and says why.
  CHECK(agent->process().wait(15s) == 1);
  CHECK(agent->process().stderrText().find("removed") != std::string::npos);
  driver->stop();

  // A restarted master still remembers it: the same agent is refused again.
  int port = master->port();
  master.reset();
  master = std::make_unique<MasterProcess>(dir.file("master"), std::vector<std::string>{"--port=" + std::to_string(port)});
  auto again = startAgent(dir, "a1", port);
  CHECK(again->process().wait(15s) == 1);
}
