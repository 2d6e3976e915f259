// Failover of the Marathon-compatible service scheduler: the master (which hosts it) is killed
// with -9 and started again on the same work dir and port. Apps, running tasks and unfinished
// deployments survive: the deployment resumes and completes with exactly the instances asked
// for, each a single real process, under the same framework id.
#include "tests/support/marathon.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <set>

using namespace dcos::test;
using nlohmann::json;

namespace {

std::string frameworkId(int port) { return jstr(mGet(port, "/v2/info").json, "frameworkId"); }

// The master again after a kill -9, with its agent registered.
void failover(MarathonCluster& c) {
  c.killMaster();
  c.restartMaster();
  REQUIRE_MESSAGE(waitFor([&] { return c.activeAgentsSafe() == 1; }, 20s), "the agent did not come back: ", c.masterLog());
}

}  // namespace

TEST_CASE(
    "kill -9 of the master in the middle of a deployment: after the restart it resumes and completes with exactly "
    "3 instances, no duplicates, nothing lost") {
  MarathonCluster c(1);
  int port = c.port();
  // Each instance takes 3 s to answer its health check, so the master dies with the deployment
  // under way: some instances running, none healthy.
  json app = appDef("/slow", httpServerCmd(c.dir, "slow", 3), 3);
  app["healthChecks"] = json::array({httpHealthCheck("HTTP", "/", 30)});
  JsonReply created = mPost(port, "/v2/apps", app);
  REQUIRE_MESSAGE(created.status == 201, created.text());
  std::string deploymentId = created.headers["marathon-deployment-id"];
  REQUIRE_MESSAGE(waitFor([&] { return countRunning(appTasks(port, "/slow")) >= 1; }, 20s), appTasks(port, "/slow").dump());
  std::string fid = frameworkId(port);
  CHECK_FALSE(fid.empty());
  REQUIRE(countHealthy(appTasks(port, "/slow")) == 0);
  REQUIRE(deploymentListed(port, deploymentId));

  failover(c);
  CHECK(c.port() == port);

  // The app and its deployment are back at once (from the master's store, not rebuilt later).
  JsonReply after = mGet(port, "/v2/apps/slow");
  INFO("GET /v2/apps/slow after the restart: ", after.text());
  CHECK(after.status == 200);
  CHECK(after.json["app"]["instances"] == 3);
  bool done = waitForHealthy(port, "/slow", 3, 40s) && waitForNoDeployments(port, 10s);
  CHECK_MESSAGE(done, "tasks: ", appTasks(port, "/slow").dump(), "\ndeployments: ", deployments(port).dump(),
                "\nmaster log:\n", c.masterLog());
  CHECK(frameworkId(port) == fid);

  // Exactly three instances, each one live process, and none launched twice.
  json tasks = appTasks(port, "/slow");
  CHECK(tasks.size() == 3);
  CHECK(taskIds(tasks).size() == 3);
  CHECK(alivePids(c.dir, "slow") == 3);
  CHECK_MESSAGE(launchedPids(c.dir, "slow").size() == 3, "launches: ", readFile(c.dir.file("launches/slow")));
  JsonReply listed = mGet(port, "/v2/apps");
  REQUIRE(listed.status == 200);
  CHECK(listed.json["apps"].size() == 1);
  CHECK(mGet(port, "/v2/apps/slow").json["app"]["tasksHealthy"] == 3);
}

TEST_CASE("kill -9 of the master with a finished deployment: the same tasks run on, nothing is relaunched, scaling works after") {
  MarathonCluster c(1);
  int port = c.port();
  JsonReply created = mPost(port, "/v2/apps", appDef("/steady", sleeperCmd(c.dir, "steady"), 2));
  REQUIRE_MESSAGE(created.status == 201, created.text());
  REQUIRE_MESSAGE(waitForRunning(port, "/steady", 2, 20s), appTasks(port, "/steady").dump());
  REQUIRE(waitForNoDeployments(port, 10s));
  auto ids = taskIds(appTasks(port, "/steady"));
  std::string version = jstr(mGet(port, "/v2/apps/steady").json["app"], "version");
  std::string fid = frameworkId(port);

  failover(c);

  CHECK_MESSAGE(waitForRunning(port, "/steady", 2, 20s), appTasks(port, "/steady").dump(), "\nmaster log:\n", c.masterLog());
  CHECK(taskIds(appTasks(port, "/steady")) == ids);
  CHECK(jstr(mGet(port, "/v2/apps/steady").json["app"], "version") == version);
  CHECK(frameworkId(port) == fid);
  CHECK(deployments(port) == json::array());
  CHECK(launchedPids(c.dir, "steady").size() == 2);
  CHECK(alivePids(c.dir, "steady") == 2);

  JsonReply scaled = mPut(port, "/v2/apps/steady", {{"instances", 3}});
  REQUIRE_MESSAGE(scaled.status == 200, scaled.text());
  CHECK(waitForRunning(port, "/steady", 3, 20s));
  CHECK(waitForNoDeployments(port, 10s));
  CHECK(alivePids(c.dir, "steady") == 3);
}

TEST_CASE("an instance on an unreachable agent is replaced after inactiveAfterSeconds, expunged after "
          "expungeAfterSeconds, and killed when its agent comes back") {
  MarathonCluster c(2, /*distinctHostnames=*/true, {"--agent_ping_timeout=100ms", "--max_agent_ping_timeouts=3"});
  int port = c.port();
  json app = appDef("/u", sleeperCmd(c.dir, "u"), 1);
  app["unreachableStrategy"] = {{"inactiveAfterSeconds", 1}, {"expungeAfterSeconds", 3}};
  JsonReply created = mPost(port, "/v2/apps", app);
  REQUIRE_MESSAGE(created.status == 201, created.text());
  REQUIRE(waitForRunning(port, "/u", 1, 20s));
  json first = appTasks(port, "/u")[0];
  std::string firstId = jstr(first, "id");
  std::string firstHost = jstr(first, "host");
  int frozen = firstHost == "agent-1" ? 0 : 1;
  REQUIRE(launchedPids(c.dir, "u").size() == 1);
  int firstPid = launchedPids(c.dir, "u")[0];

  // The agent stops answering (its executor and task keep running).
  c.agents[frozen]->process().signal(SIGSTOP);
  auto stateOf = [&](const std::string& id) {
    for (const auto& t : appTasks(port, "/u")) {
      if (jstr(t, "id") == id) return jstr(t, "state");
    }
    return std::string("gone");
  };
  CHECK_MESSAGE(waitFor([&] { return stateOf(firstId) == "TASK_UNREACHABLE"; }, 10s), appTasks(port, "/u").dump());
  // Replaced on the other agent once inactive...
  auto replacementRunning = [&] {
    for (const auto& t : appTasks(port, "/u")) {
      if (jstr(t, "id") != firstId && taskRunning(t) && jstr(t, "host") != firstHost) return true;
    }
    return false;
  };
  CHECK_MESSAGE(waitFor(replacementRunning, 15s), appTasks(port, "/u").dump());
  // ...and forgotten once expunged.
  CHECK_MESSAGE(waitFor([&] { return stateOf(firstId) == "gone"; }, 15s), appTasks(port, "/u").dump());
  CHECK(processAlive(firstPid));

  // The agent comes back with the expunged task still running: it is killed; one instance stays.
  c.agents[frozen]->process().signal(SIGCONT);
  CHECK_MESSAGE(waitFor([&] { return !processAlive(firstPid); }, 20s), "master log:\n", c.masterLog());
  CHECK(waitFor([&] { return c.activeAgentsSafe() == 2; }, 20s));
  json tasks = appTasks(port, "/u");
  CHECK(tasks.size() == 1);
  CHECK(countRunning(tasks) == 1);
  CHECK(alivePids(c.dir, "u") == 1);
}
