// The agent against a fake master speaking the agent protocol over real HTTP on loopback.
#include "kernel/agent/agent.hpp"

#include "tests/support/support.hpp"
#include "tests/unit/kernel/agent_harness.hpp"

#include <doctest/doctest.h>

using namespace dcos;
using namespace dcos::kernel;
using namespace std::chrono_literals;

using test::AgentHarness;
using test::FakeMaster;
using test::killTask;
using test::runTask;

TEST_SUITE("agent") {

TEST_CASE("a new agent subscribes without an id, keeps the id it is given, and answers pings") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  auto sub = master.waitCall("SUBSCRIBE");
  Json info = sub.body["subscribe"]["agent_info"];
  CHECK_FALSE(info.contains("id"));
  CHECK(info["hostname"] == "agent-host");
  CHECK(info["port"] == 5051);
  CHECK(info["attributes"][0]["name"] == "rack");
  CHECK(*Resources::fromJson(info["resources"]) == *Resources::parse("cpus:2;mem:1024;ports:[31000-31010]"));
  CHECK(sub.body["subscribe"]["tasks"] == Json::array());

  REQUIRE(test::waitFor([&] { return test::readFile(h.dir.file("agent_id")) == "agent-1\n"; }, 10s));
  master.send({{"type", "PING"}});
  auto pong = master.waitCall("PONG");
  CHECK(pong.streamId == "stream-1");
  CHECK(pong.body["agent_id"]["value"] == "agent-1");
  CHECK(h.state()["id"] == "agent-1");
  CHECK(h.state()["registered"] == true);
}

TEST_CASE("an agent with a stored id subscribes with it") {
  FakeMaster master;
  AgentHarness h(master);
  test::writeFile(h.dir.file("agent_id"), "agent-9\n");
  h.start();
  CHECK(master.waitCall("SUBSCRIBE").body["subscribe"]["agent_info"]["id"]["value"] == "agent-9");
}

TEST_CASE("a task's updates go one at a time, each after the previous one's acknowledgement") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  master.send(runTask("hello.1", {{"value", "echo \"hello $PORT0 $PORTS $MESOS_TASK_ID\"; echo \"$MESOS_SANDBOX\""}}));
  Json starting = master.update(1);
  CHECK(starting["state"] == "TASK_STARTING");
  CHECK(starting["task_id"]["value"] == "hello.1");
  CHECK(starting["source"] == "SOURCE_EXECUTOR");
  CHECK(starting["agent_id"]["value"] == "agent-1");
  CHECK(starting["executor_id"]["value"] == "hello.1");
  CHECK(starting["uuid"].get<std::string>().size() == 24);
  CHECK(starting["timestamp"].get<double>() > 1.6e9);
  CHECK(master.waitCall("UPDATE").streamId == "stream-1");
  CHECK(master.waitCall("UPDATE").body["update"]["framework_id"]["value"] == "fw-1");

  master.ack(starting);
  Json running = master.update(2);
  CHECK(running["state"] == "TASK_RUNNING");
  CHECK(running["container_status"]["executor_pid"].get<int>() > 0);
  master.ack(running);
  Json finished = master.update(3);
  CHECK(finished["state"] == "TASK_FINISHED");
  CHECK(finished["message"] == "Command exited with status 0");
  CHECK(master.calls("UPDATE").size() == 3);

  std::string sandbox = h.state()["frameworks"][0]["tasks"][0]["sandbox"];
  CHECK(sandbox.rfind(h.dir.path() + "/sandboxes/fw-1/hello.1/", 0) == 0);
  CHECK(test::readFile(sandbox + "/stdout") == "hello 31002 31002 hello.1\n" + sandbox + "\n");
  master.ack(finished);
  REQUIRE(test::waitFor([&] { return h.state()["completed_tasks"].size() == 1; }, 10s));
  CHECK(h.state()["frameworks"].empty());
  CHECK(h.state()["completed_tasks"][0]["state"] == "TASK_FINISHED");
}

TEST_CASE("an unacknowledged update is resent with the same uuid") {
  FakeMaster master;
  AgentHarness h(master, [](AgentOptions& o) { o.initialUpdateBackoff = 20ms; });
  h.start();
  master.waitCall("SUBSCRIBE");
  master.send(runTask("t", {{"value", "exec sleep 30"}}));
  Json first = master.update(1);
  Json third = master.update(3);
  CHECK(third["uuid"] == first["uuid"]);
  CHECK(third["state"] == "TASK_STARTING");
}

TEST_CASE("a killed task ends TASK_KILLED and a kill for an unknown task answers TASK_LOST") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  master.send(runTask("sleeper", {{"value", "exec sleep 30"}}));
  master.ack(master.update(1));
  Json running = master.update(2);
  REQUIRE(running["state"] == "TASK_RUNNING");
  master.ack(running);
  master.send(killTask("sleeper"));
  Json killed = master.update(3);
  CHECK(killed["state"] == "TASK_KILLED");
  CHECK(killed["message"] == "Command terminated by signal SIGTERM");

  master.send(killTask("ghost"));
  Json lost = master.update(4);
  CHECK(lost["state"] == "TASK_LOST");
  CHECK(lost["task_id"]["value"] == "ghost");
  CHECK(lost["message"] == "task unknown to the agent");
}

TEST_CASE("shutting down a framework kills its tasks and then drops its pending updates") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  for (const char* id : {"a", "b"}) {
    master.send(runTask(id, {{"value", "exec sleep 30"}}));
    master.ack(master.updateOf(id, "TASK_STARTING"));
    master.ack(master.updateOf(id, "TASK_RUNNING"));
  }
  master.send({{"type", "SHUTDOWN_FRAMEWORK"}, {"shutdown_framework", {{"framework_id", {{"value", "fw-1"}}}}}});
  CHECK(master.updateOf("a", "TASK_KILLED")["message"] == "Command terminated by signal SIGTERM");
  CHECK(master.updateOf("b", "TASK_KILLED")["message"] == "Command terminated by signal SIGTERM");
  REQUIRE(test::waitFor([&] { return h.state()["frameworks"].empty(); }, 10s));
  CHECK(h.state()["pending_status_updates"] == 0);
  CHECK(h.state()["completed_tasks"].size() == 2);
}

TEST_CASE("a task without a command is TASK_ERROR and a missing binary is TASK_FAILED") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  Json noCommand = runTask("bad", Json());
  noCommand["run_task"]["task"].erase("command");
  master.send(noCommand);
  Json error = master.update(1);
  CHECK(error["state"] == "TASK_ERROR");
  CHECK(error["reason"] == "REASON_TASK_INVALID");

  master.send(runTask("missing", {{"shell", false}, {"value", "/nonexistent/binary"}}));
  Json starting = master.update(2);
  CHECK(starting["state"] == "TASK_STARTING");
  master.ack(starting);
  Json failed = master.update(3);
  CHECK(failed["state"] == "TASK_FAILED");
  CHECK(failed["message"] == "exec failed: '/nonexistent/binary': No such file or directory");
}

TEST_CASE("after the stream ends the agent resubscribes with its id, its tasks and its pending updates") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  master.send(runTask("web", {{"value", "exec sleep 30"}}));
  master.ack(master.update(1));
  Json running = master.update(2);  // left unacknowledged
  master.closeStream();

  auto again = master.waitCall("SUBSCRIBE", 2);
  CHECK(again.body["subscribe"]["agent_info"]["id"]["value"] == "agent-1");
  Json tasks = again.body["subscribe"]["tasks"];
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0]["framework_id"]["value"] == "fw-1");
  CHECK(tasks[0]["framework_info"]["name"] == "test-fw");
  CHECK(tasks[0]["task"]["task_id"]["value"] == "web");
  CHECK(tasks[0]["status"]["state"] == "TASK_RUNNING");
  // The pending update goes again at once on the new stream, despite its long backoff.
  Json resent = master.update(3);
  CHECK(resent["uuid"] == running["uuid"]);
  CHECK(master.waitCall("UPDATE", 3).streamId == "stream-2");
}

TEST_CASE("a silent master is noticed through the idle timeout") {
  FakeMaster master;
  master.silent = true;
  AgentHarness h(master, [](AgentOptions& o) { o.defaultPingInterval = 100ms; });
  h.start();
  master.waitCall("SUBSCRIBE", 2);
}

TEST_CASE("a master that refuses the agent with 403 stops it and says to clear the work dir") {
  FakeMaster master;
  master.refuse = true;
  AgentHarness h(master);
  test::writeFile(h.dir.file("agent_id"), "agent-1\n");
  h.start();
  REQUIRE(test::waitFor([&] { return !h.removedMessage().empty(); }, 10s));
  std::string message = h.removedMessage();
  CHECK(message.find("removed") != std::string::npos);
  CHECK(message.find("GONE") != std::string::npos);
  CHECK(message.find(h.dir.path()) != std::string::npos);
  CHECK(master.calls("SUBSCRIBE").size() == 1);
}

TEST_CASE("the agent's state shows its resources, attributes and tasks") {
  FakeMaster master;
  AgentHarness h(master, [](AgentOptions& o) { o.resources = *Resources::parse("cpus:2;cpus(ads):1;mem:512"); });
  h.start();
  master.waitCall("SUBSCRIBE");
  master.send(runTask("web", {{"value", "exec sleep 30"}}));
  master.update(1);
  Json s = h.state();
  CHECK(s["hostname"] == "agent-host");
  CHECK(s["master"] == master.address());
  CHECK(s["resources"]["cpus"] == 3.0);
  CHECK(s["unreserved_resources"]["cpus"] == 2.0);
  CHECK(s["reserved_resources"]["ads"]["cpus"] == 1.0);
  CHECK(s["attributes"]["rack"] == "r1");
  REQUIRE(s["frameworks"].size() == 1);
  CHECK(s["frameworks"][0]["name"] == "test-fw");
  CHECK(s["frameworks"][0]["tasks"][0]["id"] == "web");
  CHECK(s["pending_status_updates"].get<int>() >= 1);
}

TEST_CASE("reconnect delays are jittered between half and all of the delay") {
  CHECK(withJitter(1000ms, 0.0) == 500ms);
  CHECK(withJitter(1000ms, 1.0) == 1000ms);
  CHECK(withJitter(1000ms, 0.5) == 750ms);
  CHECK(withJitter(1000ms, 7.0) == 1000ms);
}

}
