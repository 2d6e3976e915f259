// How the service scheduler handles failing instances and apps it cannot place: launch backoff
// (and resetting it), instances killed for failing health checks and replaced, an app that needs
// Docker waiting in the queue with its reason, PATCH, and killing tasks through /v2/tasks/delete.
#include "kernel/driver/scheduler_driver.hpp"
#include "tests/support/marathon.hpp"
#include "tests/support/test_framework.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace dcos::test;
using nlohmann::json;

namespace {

json queueItem(int port, const std::string& appId) {
  JsonReply q = mGet(port, "/v2/queue");
  if (q.status != 200 || !q.json.contains("queue")) return nullptr;
  for (const auto& item : q.json["queue"]) {
    if (item["app"].value("id", "") == appId) return item;
  }
  return nullptr;
}

int64_t declined(const json& item, const std::string& reason) {
  if (item.is_null()) return 0;
  for (const auto& r : item["processedOffersSummary"]["rejectSummaryLastOffers"]) {
    if (r.value("reason", "") == reason) return r.value("declined", int64_t{0});
  }
  return 0;
}

}  // namespace

TEST_CASE("a failing app is relaunched with a growing backoff shown in /v2/queue; DELETE .../delay relaunches at once") {
  MarathonCluster c(1);
  int port = c.port();
  json app = appDef("/crash", "echo \"$$ $MESOS_TASK_ID\" >> " + c.dir.file("launches/crash") + "; exit 3", 1);
  app["backoffSeconds"] = 1;
  app["backoffFactor"] = 30;
  JsonReply created = mPost(port, "/v2/apps", app);
  REQUIRE_MESSAGE(created.status == 201, created.text());
  auto launches = [&] { return launchedPids(c.dir, "crash").size(); };

  // The first failure costs 1 s, the second 30 s: visible in the queue, and nothing launches.
  REQUIRE_MESSAGE(waitFor([&] { return launches() == 2; }, 20s), c.masterLog());
  json item;
  REQUIRE_MESSAGE(waitFor([&] {
    item = queueItem(port, "/crash");
    return !item.is_null() && item["delay"].value("timeLeftSeconds", 0) > 20;
  }, 20s), mGet(port, "/v2/queue").text());
  CHECK(item["count"] == 1);
  CHECK(item["delay"]["overdue"] == false);
  json shown = mGet(port, "/v2/apps/crash?embed=apps.lastTaskFailure").json["app"];
  INFO("app: ", shown.dump());
  CHECK(shown["lastTaskFailure"]["state"] == "TASK_FAILED");
  CHECK(jstr(shown["lastTaskFailure"], "message").find("status 3") != std::string::npos);
  CHECK(launches() == 2);

  // Resetting the delay launches again at once, and the backoff starts over from 1 s.
  JsonReply reset = mDelete(port, "/v2/queue/crash/delay");
  CHECK(reset.status == 204);
  CHECK_MESSAGE(waitFor([&] { return launches() == 3; }, 10s), mGet(port, "/v2/queue").text());
  CHECK_MESSAGE(waitFor([&] { return launches() == 4; }, 10s), mGet(port, "/v2/queue").text());
  CHECK(mDelete(port, "/v2/queue/nope/delay").status == 404);
}

TEST_CASE("an instance failing its health check is killed after maxConsecutiveFailures and replaced") {
  MarathonCluster c(1);
  int port = c.port();
  EventStream events(port, "/v2/events?event_type=unhealthy_instance_kill_event&event_type=failed_health_check_event");
  REQUIRE(events.connected());
  json app = appDef("/sick", httpServerCmd(c.dir, "sick"), 1);
  app["healthChecks"] = json::array({{{"protocol", "MESOS_HTTP"}, {"path", "/missing"}, {"portIndex", 0},
                                      {"gracePeriodSeconds", 1}, {"intervalSeconds", 1}, {"timeoutSeconds", 1},
                                      {"delaySeconds", 0}, {"maxConsecutiveFailures", 2}}});
  REQUIRE(mPost(port, "/v2/apps", app).status == 201);
  REQUIRE(waitFor([&] { return launchedPids(c.dir, "sick").size() >= 1; }, 20s));
  std::string first;
  REQUIRE(waitFor([&] {
    auto tasks = appTasks(port, "/sick");
    if (tasks.empty()) return false;
    first = jstr(tasks[0], "id");
    return true;
  }, 10s));
  // Killed by its executor for failing, then launched again (a new task id).
  CHECK_MESSAGE(waitFor([&] { return launchedPids(c.dir, "sick").size() >= 2; }, 30s), appTasks(port, "/sick").dump());
  CHECK(waitFor([&] {
    auto ids = taskIds(appTasks(port, "/sick"));
    return !ids.empty() && !ids.count(first);
  }, 20s));
  CHECK_MESSAGE(events.waitForType("failed_health_check_event", 10s), events.raw());
  CHECK_MESSAGE(events.waitForType("unhealthy_instance_kill_event", 10s), events.raw());
  for (const auto& e : events.events()) {
    if (e.type() == "unhealthy_instance_kill_event") CHECK(e.data["appId"] == "/sick");
  }
  json failure = mGet(port, "/v2/apps/sick").json["app"]["lastTaskFailure"];
  CHECK(failure["state"] == "TASK_KILLED");
  CHECK(jstr(failure, "message").find("health") != std::string::npos);
}

TEST_CASE("an app that needs a Docker image is accepted and waits in the queue with the reason") {
  MarathonCluster c(1);
  int port = c.port();
  json app = appDef("/docker", "nginx -g 'daemon off;'", 1);
  app["container"] = {{"type", "DOCKER"}, {"docker", {{"image", "nginx:1.25"}}}};
  JsonReply created = mPost(port, "/v2/apps", app);
  REQUIRE_MESSAGE(created.status == 201, created.text());
  json item;
  CHECK_MESSAGE(waitFor([&] {
    item = queueItem(port, "/docker");
    return declined(item, "NoDockerContainerizer") > 0;
  }, 10s), mGet(port, "/v2/queue").text());
  CHECK(jstr(item["refusalMessages"], "NoDockerContainerizer") == "no agent offers a Docker containerizer");
  // The deployment waits and says why.
  json ds = deployments(port);
  REQUIRE(ds.size() == 1);
  json waiting = ds[0]["currentActions"][0]["waitingForOffers"];
  INFO(ds.dump());
  CHECK(waiting["offerRefusals"]["NoDockerContainerizer"]["count"].get<int>() > 0);
  CHECK(appTasks(port, "/docker").empty());
}

TEST_CASE("PATCH changes only the given fields; /v2/tasks/delete kills, with scale=true for good") {
  MarathonCluster c(1);
  int port = c.port();
  json app = appDef("/p", sleeperCmd(c.dir, "p"), 2);
  app["labels"] = {{"team", "a"}};
  REQUIRE(mPost(port, "/v2/apps", app).status == 201);
  REQUIRE(waitForRunning(port, "/p", 2, 20s));
  REQUIRE(waitForNoDeployments(port, 10s));

  JsonReply patched = mRequest(port, "PATCH", "/v2/apps/p", json({{"labels", {{"team", "b"}}}}).dump());
  REQUIRE_MESSAGE(patched.status == 200, patched.text());
  CHECK_FALSE(patched.headers["marathon-deployment-id"].empty());
  json shown = mGet(port, "/v2/apps/p").json["app"];
  CHECK(shown["labels"]["team"] == "b");
  CHECK(shown["instances"] == 2);
  CHECK(jstr(shown, "cmd") == sleeperCmd(c.dir, "p"));
  REQUIRE(waitForRunning(port, "/p", 2, 30s));
  REQUIRE(waitForNoDeployments(port, 30s));
  CHECK(mGet(port, "/v2/apps?label=team==b").json["apps"].size() == 1);
  CHECK(mGet(port, "/v2/apps?label=team==a").json["apps"].empty());

  // The list is rendered once per state change: the same query must see later changes.
  auto listedTasks = [&] { return mGet(port, "/v2/apps?embed=apps.tasks").json["apps"][0]["tasks"].size(); };
  CHECK(listedTasks() == 2);

  // Without scale the killed task is replaced; with scale=true the app shrinks.
  auto ids = taskIds(appTasks(port, "/p"));
  std::string victim = *ids.begin();
  JsonReply killed = mPost(port, "/v2/tasks/delete", {{"ids", {victim}}});
  REQUIRE_MESSAGE(killed.status == 200, killed.text());
  CHECK(waitFor([&] {
    auto now = taskIds(appTasks(port, "/p"));
    return now.size() == 2 && !now.count(victim) && countRunning(appTasks(port, "/p")) == 2;
  }, 20s));
  std::string second = *taskIds(appTasks(port, "/p")).begin();
  JsonReply scaled = mPost(port, "/v2/tasks/delete?scale=true", {{"ids", {second}}});
  REQUIRE_MESSAGE(scaled.status == 200, scaled.text());
  CHECK(waitFor([&] {
    auto tasks = appTasks(port, "/p");
    return tasks.size() == 1 && !taskIds(tasks).count(second);
  }, 20s));
  CHECK(mGet(port, "/v2/apps/p").json["app"]["instances"] == 1);
  CHECK(listedTasks() == 1);
  CHECK(mPost(port, "/v2/tasks/delete", {{"ids", "x"}}).status == 422);
}

TEST_CASE("an app waiting for offers it cannot use does not starve another framework") {
  // The default decline filter (120 s) as a user would run it: declined offers go elsewhere.
  MarathonCluster c(1, false, {"--decline_offer_duration=120secs"});
  int port = c.port();
  json app = appDef("/nowhere", "sleep 600", 1);
  app["constraints"] = json::array({json::array({"hostname", "LIKE", "no-such-host"})});
  REQUIRE(mPost(port, "/v2/apps", app).status == 201);
  REQUIRE(waitFor([&] { return declined(queueItem(port, "/nowhere"), "UnfulfilledConstraint") > 0; }, 10s));

  TestFramework other;
  other.addTasks({{"other-task", "sleep 600"}});
  auto driver = dcos::kernel::makeHttpDriver("127.0.0.1:" + std::to_string(port), testFrameworkInfo("other"), other);
  other.setDriver(driver.get());
  driver->start();
  CHECK_MESSAGE(waitFor([&] { return other.state("other-task") == "TASK_RUNNING"; }, 20s), c.masterLog());
  driver->stop();
}
