// `dcos agent` against a real `dcos master`: registration, identity across restarts, removal.
#include "tests/support/support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

using namespace dcos::test;
using nlohmann::json;

namespace {

json getJson(int port, const std::string& path) {
  auto reply = httpRequest(port, "GET", path);
  REQUIRE_MESSAGE(reply.status == 200, path << ": " << reply.status << " " << reply.body);
  return json::parse(reply.body);
}

json slaves(int masterPort) { return getJson(masterPort, "/master/state")["slaves"]; }

bool oneActiveAgent(int masterPort) {
  auto s = slaves(masterPort);
  return s.size() == 1 && s[0]["active"] == true;
}

std::unique_ptr<MasterProcess> startAgent(const std::string& workDir, int masterPort,
                                          std::vector<std::string> extra = {}) {
  extra.push_back("--master=127.0.0.1:" + std::to_string(masterPort));
  return std::make_unique<MasterProcess>(workDir, extra, "agent");
}

}  // namespace

TEST_SUITE("agent and master") {

TEST_CASE("an agent keeps its id across a restart and refuses other resources unless --recover=cleanup") {
  TempDir dir;
  MasterProcess master(dir.file("master"));
  auto agent = startAgent(dir.file("agent"), master.port(),
                          {"--resources=cpus:3;mem:2048;disk:4096;cpus(ads):1", "--attributes=rack:r1;level:3",
                           "--hostname=agent-one.test"});
  REQUIRE(waitFor([&] { return oneActiveAgent(master.port()); }, 10s));
  json s = slaves(master.port())[0];
  std::string id = s["id"];
  CHECK(s["hostname"] == "agent-one.test");
  CHECK(s["port"] == agent->port());
  CHECK(s["resources"]["cpus"] == 4.0);
  CHECK(s["resources"]["mem"] == 2048.0);
  CHECK(s["resources"]["ports"] == "[31000-32000]");  // detected: not overridden
  CHECK(s["attributes"]["rack"] == "r1");
  CHECK(s["attributes"]["level"] == 3.0);

  REQUIRE(waitFor([&] { return getJson(agent->port(), "/health")["agent_id"] == id; }, 10s));
  json state = getJson(agent->port(), "/state");
  CHECK(state["id"] == id);
  CHECK(state["registered"] == true);
  CHECK(state["reserved_resources"]["ads"]["cpus"] == 1.0);
  CHECK(readFile(dir.file("agent/agent_id")) == id + "\n");

  const std::vector<std::string> same = {"--resources=cpus:3;mem:2048;disk:4096;cpus(ads):1"};
  agent->process().signal(SIGTERM);
  CHECK(agent->process().wait(10s) == 0);
  agent = startAgent(dir.file("agent"), master.port(), same);
  REQUIRE(waitFor([&] { return getJson(agent->port(), "/health")["registered"] == true; }, 10s));
  CHECK(getJson(agent->port(), "/health")["agent_id"] == id);
  CHECK(waitFor([&] { return oneActiveAgent(master.port()); }, 10s));
  CHECK(slaves(master.port())[0]["id"] == id);

  // Other resources than checkpointed: refused, saying why and what to do...
  agent->process().signal(SIGTERM);
  CHECK(agent->process().wait(10s) == 0);
  std::vector<std::string> other = {dcosBinary(), "agent", "--work_dir=" + dir.file("agent"), "--port=0",
                                    "--master=127.0.0.1:" + std::to_string(master.port()),
                                    "--resources=cpus:3;mem:2048;disk:4096"};
  Process refused(other, dir.path());
  CHECK(refused.wait(10s) != 0);
  CHECK(refused.stderrText().find("resources changed") != std::string::npos);
  CHECK(refused.stderrText().find("--recover=cleanup") != std::string::npos);
  CHECK(readFile(dir.file("agent/agent_id")) == id + "\n");
  // ... unless the operator asks for a clean start: a new agent.
  agent = startAgent(dir.file("agent"), master.port(), {"--resources=cpus:3;mem:2048;disk:4096", "--recover=cleanup"});
  REQUIRE(waitFor([&] { return getJson(agent->port(), "/health")["registered"] == true; }, 10s));
  CHECK(getJson(agent->port(), "/health")["agent_id"] != id);
}

TEST_CASE("an agent comes back after its master restarts") {
  TempDir dir;
  auto master = std::make_unique<MasterProcess>(dir.file("master"));
  int port = master->port();
  auto agent = startAgent(dir.file("agent"), port);
  REQUIRE(waitFor([&] { return oneActiveAgent(port); }, 10s));
  std::string id = slaves(port)[0]["id"];

  master->process().signal(SIGKILL);
  REQUIRE(master->process().wait(5s) >= 0);
  REQUIRE(waitFor([&] { return getJson(agent->port(), "/health")["registered"] == false; }, 10s));
  master = std::make_unique<MasterProcess>(dir.file("master"), std::vector<std::string>{"--port=" + std::to_string(port)});
  CHECK(waitFor([&] { return oneActiveAgent(port); }, 15s));
  CHECK(slaves(port)[0]["id"] == id);
}

TEST_CASE("an agent the master removed exits with code 1 and says to clear its work dir") {
  TempDir dir;
  MasterProcess master(dir.file("master"), {"--agent_ping_timeout=100ms", "--max_agent_ping_timeouts=2",
                                            "--agent_removal_timeout=1secs"});
  auto agent = startAgent(dir.file("agent"), master.port());
  REQUIRE(waitFor([&] { return oneActiveAgent(master.port()); }, 10s));
  agent->process().signal(SIGTERM);
  REQUIRE(agent->process().wait(10s) == 0);
  // Disconnected, then unreachable, then gone: the master forgets it.
  REQUIRE(waitFor([&] { return slaves(master.port()).empty(); }, 15s));

  Process again({dcosBinary(), "agent", "--work_dir=" + dir.file("agent"), "--port=0", "--address=127.0.0.1",
                 "--master=127.0.0.1:" + std::to_string(master.port())},
                dir.path());
  CHECK(again.wait(15s) == 1);
  std::string err = again.stderrText();
  CHECK_MESSAGE(err.find("removed this agent") != std::string::npos, err);
  CHECK_MESSAGE(err.find(dir.file("agent")) != std::string::npos, err);
}

TEST_CASE("bad --resources or --attributes stop the agent at start with a clear message") {
  TempDir dir;
  auto r = runDcos({"agent", "--master=127.0.0.1:1", "--work_dir=" + dir.file("a"), "--port=0", "--resources=cpus:lots"});
  CHECK(r.exitCode == 1);
  CHECK_MESSAGE(r.err.find("invalid --resources 'cpus:lots'") != std::string::npos, r.err);
  r = runDcos({"agent", "--master=127.0.0.1:1", "--work_dir=" + dir.file("b"), "--port=0", "--attributes=rack"});
  CHECK(r.exitCode == 1);
  CHECK_MESSAGE(r.err.find("invalid --attributes") != std::string::npos, r.err);
}

}
