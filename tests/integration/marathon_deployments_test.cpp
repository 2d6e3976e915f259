// Deployments of the Marathon-compatible /v2 API on a real master and agent: a rolling restart
// that keeps upgradeStrategy's healthy capacity, the 409 of a change to an app whose deployment
// runs and ?force=true, rollback and cancellation with DELETE /v2/deployments/{id}, and a group
// whose app starts only once the app it depends on is healthy. Expectations are Marathon's
// documented contract (deployments.md, traits.raml `deployable`, deployments.raml, groups.raml).
#include "tests/support/marathon.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <set>
#include <thread>

using namespace dcos::test;
using nlohmann::json;

namespace {

// The index of the last step of a deployment (as /v2/deployments lists it) with an action on
// `appId`; -1 if none.
int lastStepOf(const json& deployment, const std::string& appId) {
  int last = -1;
  if (!deployment["steps"].is_array()) return last;
  for (size_t i = 0; i < deployment["steps"].size(); ++i) {
    for (const auto& a : deployment["steps"][i]["actions"]) {
      if (jstr(a, "app") == appId) last = static_cast<int>(i);
    }
  }
  return last;
}

json findDeployment(int port, const std::string& id) {
  json ds = deployments(port);
  if (ds.is_array()) {
    for (const auto& d : ds) {
      if (jstr(d, "id") == id) return d;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE(
    "a rolling restart of 4 instances with minimumHealthCapacity 0.5 and maximumOverCapacity 0.25 never has fewer "
    "than 2 healthy or more than 5 instances, and ends with 4 healthy of the new version") {
  MarathonCluster c(1);
  int port = c.port();
  // New instances take a moment to answer, so the restart goes through several rounds.
  json app = appDef("/roll", httpServerCmd(c.dir, "roll", 0.5), 4);
  app["healthChecks"] = json::array({httpHealthCheck("HTTP")});
  app["upgradeStrategy"] = {{"minimumHealthCapacity", 0.5}, {"maximumOverCapacity", 0.25}};
  JsonReply created = mPost(port, "/v2/apps", app);
  REQUIRE_MESSAGE(created.status == 201, created.text());
  REQUIRE_MESSAGE(waitForHealthy(port, "/roll", 4, 30s), appTasks(port, "/roll").dump());
  REQUIRE(waitForNoDeployments(port, 10s));
  std::string oldVersion = jstr(mGet(port, "/v2/apps/roll").json["app"], "version");
  auto oldIds = taskIds(appTasks(port, "/roll"));

  TaskWatcher watcher(port, "/roll");
  REQUIRE(waitFor([&] { return watcher.samples() > 0; }, 5s));
  JsonReply restart = mPost(port, "/v2/apps/roll/restart", json::object());
  INFO("POST /v2/apps/roll/restart: ", restart.text());
  REQUIRE(restart.status == 200);
  std::string deploymentId = jstr(restart.json, "deploymentId");
  CHECK_FALSE(deploymentId.empty());
  CHECK(restart.headers["marathon-deployment-id"] == deploymentId);
  CHECK_FALSE(jstr(restart.json, "version").empty());

  bool finished = waitFor([&] {
    json tasks = appTasks(port, "/roll");
    auto ids = taskIds(tasks);
    bool allNew = std::none_of(ids.begin(), ids.end(), [&](const std::string& id) { return oldIds.count(id) > 0; });
    return allNew && countHealthy(tasks) == 4 && tasks.size() == 4 && !deploymentListed(port, deploymentId);
  }, 45s);
  watcher.stop();
  CHECK_MESSAGE(finished, "tasks: ", appTasks(port, "/roll").dump(), "\ndeployments: ", deployments(port).dump());
  CHECK(waitForNoDeployments(port, 5s));
  CHECK(watcher.samples() > 10);
  // ceil(0.5 * 4) healthy at every moment; at most floor(4 * 1.25) instances at once, counting
  // every instance not yet terminal (a TASK_KILLING one still holds its resources; Marathon frees
  // its capacity only once the task is gone).
  CHECK_MESSAGE(watcher.minHealthy() >= 2, "fewest healthy in: ", watcher.minHealthySnapshot());
  CHECK_MESSAGE(watcher.maxTasks() <= 5, "most instances in: ", watcher.maxTasksSnapshot());

  // All four run the app's new version and nothing of the old one is left.
  std::string newVersion = jstr(mGet(port, "/v2/apps/roll").json["app"], "version");
  CHECK(newVersion != oldVersion);
  for (const auto& t : appTasks(port, "/roll")) CHECK(jstr(t, "version") == newVersion);
  CHECK(waitFor([&] { return alivePids(c.dir, "roll") == 4; }, 10s));
  CHECK(launchedPids(c.dir, "roll").size() == 8);
}

TEST_CASE(
    "a change to an app under deployment is a 409 naming the deployment; ?force=true replaces it; DELETE "
    "/v2/deployments/{id} rolls back, with ?force=true it only stops") {
  MarathonCluster c(1);
  int port = c.port();
  JsonReply created = mPost(port, "/v2/apps", appDef("/app", sleeperCmd(c.dir, "app"), 1));
  REQUIRE_MESSAGE(created.status == 201, created.text());
  REQUIRE_MESSAGE(waitForRunning(port, "/app", 1, 20s), appTasks(port, "/app").dump());
  REQUIRE(waitForNoDeployments(port, 10s));

  // 50 cpus fit on no agent: the restart's new instance never launches, the deployment stays.
  JsonReply stuck = mPut(port, "/v2/apps/app", {{"cpus", 50}});
  INFO("PUT {cpus: 50}: ", stuck.text());
  REQUIRE(stuck.status == 200);
  std::string d1 = jstr(stuck.json, "deploymentId");
  CHECK(stuck.headers["marathon-deployment-id"] == d1);
  REQUIRE(waitFor([&] { return deploymentListed(port, d1); }, 5s));
  json listed = findDeployment(port, d1);
  CHECK(listed["affectedApps"] == json::array({"/app"}));
  CHECK_FALSE(jstr(listed, "version").empty());
  CHECK(listed["steps"].is_array());
  CHECK(listed.value("totalSteps", 0) >= 1);
  CHECK(listed.value("currentStep", 0) >= 1);
  CHECK(listed["currentActions"].is_array());
  // With the default upgradeStrategy (minimumHealthCapacity 1) the old instance keeps running.
  CHECK(countRunning(appTasks(port, "/app")) == 1);

  // traits.raml: 409 with the blocking deployments.
  JsonReply blocked = mPut(port, "/v2/apps/app", {{"cpus", 0.2}});
  INFO("PUT {cpus: 0.2} during the deployment: ", blocked.text());
  CHECK(blocked.status == 409);
  CHECK_FALSE(jstr(blocked.json, "message").empty());
  REQUIRE(blocked.json["deployments"].is_array());
  REQUIRE(blocked.json["deployments"].size() == 1);
  CHECK(jstr(blocked.json["deployments"][0], "id") == d1);
  CHECK(mGet(port, "/v2/apps/app").json["app"]["cpus"] == 50);

  // deployments.raml: DELETE without force cancels it and starts a rollback deployment, which
  // here completes (back to 0.1 cpus).
  JsonReply rollback = mDelete(port, "/v2/deployments/" + d1);
  INFO("DELETE /v2/deployments/", d1, ": ", rollback.text());
  REQUIRE(rollback.status == 200);
  std::string d2 = jstr(rollback.json, "deploymentId");
  CHECK_FALSE(d2.empty());
  CHECK(d2 != d1);
  CHECK_FALSE(jstr(rollback.json, "version").empty());
  CHECK_FALSE(deploymentListed(port, d1));
  CHECK_MESSAGE(waitForNoDeployments(port, 20s), deployments(port).dump());
  CHECK(mGet(port, "/v2/apps/app").json["app"]["cpus"] == 0.1);
  CHECK(waitForRunning(port, "/app", 1, 10s));

  // ?force=true replaces a running deployment by a new one.
  JsonReply stuckAgain = mPut(port, "/v2/apps/app", {{"cpus", 50}});
  REQUIRE_MESSAGE(stuckAgain.status == 200, stuckAgain.text());
  std::string d3 = jstr(stuckAgain.json, "deploymentId");
  REQUIRE(waitFor([&] { return deploymentListed(port, d3); }, 5s));
  JsonReply forced = mPut(port, "/v2/apps/app?force=true", {{"cpus", 40}});
  INFO("PUT ?force=true: ", forced.text());
  REQUIRE(forced.status == 200);
  std::string d4 = jstr(forced.json, "deploymentId");
  CHECK_FALSE(d4.empty());
  CHECK(d4 != d3);
  CHECK(waitFor([&] { return deploymentListed(port, d4) && !deploymentListed(port, d3); }, 5s));
  CHECK(deployments(port).size() == 1);
  CHECK(mGet(port, "/v2/apps/app").json["app"]["cpus"] == 40);

  // DELETE ?force=true: 202, stopped, no rollback; the app keeps the definition it was given.
  JsonReply stopped = mDelete(port, "/v2/deployments/" + d4 + "?force=true");
  CHECK_MESSAGE(stopped.status == 202, stopped.text());
  CHECK_MESSAGE(waitForNoDeployments(port, 5s), deployments(port).dump());
  CHECK(deployments(port) == json::array());
  CHECK(mGet(port, "/v2/apps/app").json["app"]["cpus"] == 40);

  JsonReply unknown = mDelete(port, "/v2/deployments/no-such-deployment");
  CHECK_MESSAGE(unknown.status == 404, unknown.text());
  CHECK_FALSE(jstr(unknown.json, "message").empty());
}

TEST_CASE("a group /prod whose web depends on db: web is launched only once db is healthy") {
  MarathonCluster c(1);
  int port = c.port();
  json db = appDef("db", httpServerCmd(c.dir, "db", 1.5), 1);
  db["healthChecks"] = json::array({httpHealthCheck("HTTP")});
  json web = appDef("web", httpServerCmd(c.dir, "web"), 1);
  web["healthChecks"] = json::array({httpHealthCheck("HTTP")});
  web["dependencies"] = json::array({"/prod/db"});
  json group = {{"id", "/prod"}, {"apps", json::array({db, web})}};

  // Watches from before the POST: web's tasks first, then db's, so a web task seen with no
  // healthy db is a real violation (db does not become unhealthy again).
  std::atomic<bool> stop{false}, dbHealthySeen{false}, violation{false};
  std::string violationSnapshot;
  std::thread watcher([&] {
    while (!stop) {
      json webTasks = appTasks(port, "/prod/web");
      json dbTasks = appTasks(port, "/prod/db");
      if (!webTasks.empty() && !dbHealthySeen && countHealthy(dbTasks) == 0 && !violation) {
        violation = true;
        violationSnapshot = "web: " + webTasks.dump() + "\ndb: " + dbTasks.dump();
      }
      if (countHealthy(dbTasks) > 0) dbHealthySeen = true;
      std::this_thread::sleep_for(20ms);
    }
  });

  JsonReply created = mPost(port, "/v2/groups", group);
  INFO("POST /v2/groups: ", created.text());
  CHECK((created.status == 201 || created.status == 200));
  std::string deploymentId = jstr(created.json, "deploymentId");
  CHECK_FALSE(deploymentId.empty());
  CHECK_FALSE(jstr(created.json, "version").empty());
  // The plan orders db's steps before web's.
  json plan = findDeployment(port, deploymentId);
  INFO("the deployment: ", plan.dump());
  if (plan.is_object()) {
    std::set<std::string> affected(plan["affectedApps"].begin(), plan["affectedApps"].end());
    CHECK(affected == std::set<std::string>{"/prod/db", "/prod/web"});
    CHECK(lastStepOf(plan, "/prod/db") >= 0);
    CHECK(lastStepOf(plan, "/prod/web") > lastStepOf(plan, "/prod/db"));
  } else {
    FAIL_CHECK("the group's deployment is not in /v2/deployments right after the POST");
  }

  bool done = waitForHealthy(port, "/prod/db", 1, 30s) && waitForHealthy(port, "/prod/web", 1, 30s) && waitForNoDeployments(port, 10s);
  stop = true;
  watcher.join();
  CHECK_MESSAGE(done, "db: ", appTasks(port, "/prod/db").dump(), "\nweb: ", appTasks(port, "/prod/web").dump());
  CHECK_MESSAGE(!violation, "web had a task before db was healthy:\n", violationSnapshot);
  // The timestamps tell the same: web staged no earlier than db's first successful check.
  json dbTask = appTasks(port, "/prod/db")[0], webTask = appTasks(port, "/prod/web")[0];
  int64_t dbHealthyAt = isoMillis(jstr(dbTask["healthCheckResults"][0], "firstSuccess"));
  CHECK(dbHealthyAt > 0);
  CHECK(isoMillis(jstr(webTask, "stagedAt")) >= dbHealthyAt);

  // groups.raml: the group and its apps, and the root group containing it.
  JsonReply prod = mGet(port, "/v2/groups/prod");
  INFO("GET /v2/groups/prod: ", prod.text());
  REQUIRE(prod.status == 200);
  CHECK(jstr(prod.json, "id") == "/prod");
  std::set<std::string> appIds;
  for (const auto& a : prod.json["apps"]) appIds.insert(jstr(a, "id"));
  CHECK(appIds == std::set<std::string>{"/prod/db", "/prod/web"});
  JsonReply root = mGet(port, "/v2/groups");
  REQUIRE(root.status == 200);
  CHECK(jstr(root.json, "id") == "/");
  bool hasProd = false;
  for (const auto& g : root.json["groups"]) hasProd |= jstr(g, "id") == "/prod";
  CHECK(hasProd);
  JsonReply webApp = mGet(port, "/v2/apps/prod/web");
  CHECK(webApp.json["app"]["dependencies"] == json::array({"/prod/db"}));

  // A second POST of the same group is a conflict.
  JsonReply again = mPost(port, "/v2/groups", group);
  CHECK_MESSAGE(again.status == 409, again.text());
}
