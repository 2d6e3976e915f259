// The Marathon-compatible /v2 API of a real master with real agents: apps with health checks that
// serve HTTP on their host ports, scaling with killSelection, replacement of killed instances,
// UNIQUE hostname placement and the launch queue, the event stream, validation of bad
// definitions, and /v2/info, /v2/leader, /ping, /metrics. Each expectation is Marathon's
// documented contract (docs/docs/rest-api/public/api/v2/*.raml, event-bus.md, health-checks.md).
#include "tests/support/marathon.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <set>

using namespace dcos::test;
using nlohmann::json;

namespace {

// The detail of a 422 answer for `pathPrefix` ("/cpus", "/constraints"...), null when absent.
json detailFor(const json& body, const std::string& pathPrefix) {
  if (!body.is_object() || !body["details"].is_array()) return nullptr;
  for (const auto& d : body["details"]) {
    if (jstr(d, "path").rfind(pathPrefix, 0) == 0) return d;
  }
  return nullptr;
}

// An app with one named port ("http") whose command writes "$PORT0 $PORTS $PORT_HTTP" into
// dir/env-<PORT0> and then serves HTTP on $PORT0.
json webApp(const TempDir& dir, const std::string& id, const std::string& healthProtocol, int instances) {
  std::string name = id.substr(1);
  std::string cmd = "echo \"$PORT0 $PORTS $PORT_HTTP\" > " + dir.file("env-") + "$PORT0; " + httpServerCmd(dir, name);
  json app = appDef(id, cmd, instances);
  app["portDefinitions"] = json::array({{{"port", 0}, {"name", "http"}, {"protocol", "tcp"}}});
  app["healthChecks"] = json::array({httpHealthCheck(healthProtocol)});
  return app;
}

// Checks one task of /v2/apps/{id}/tasks against Marathon's EnrichedTask and that it serves HTTP.
void checkServingTask(const TempDir& dir, const json& t, const std::string& appId, const std::string& appVersion) {
  CAPTURE(t.dump());
  CHECK(jstr(t, "appId") == appId);
  CHECK_FALSE(jstr(t, "id").empty());
  CHECK_FALSE(jstr(t, "host").empty());
  CHECK_FALSE(jstr(t, "slaveId").empty());
  CHECK(jstr(t, "state") == "TASK_RUNNING");
  CHECK(isoMillis(jstr(t, "stagedAt")) > 0);
  CHECK(isoMillis(jstr(t, "startedAt")) >= isoMillis(jstr(t, "stagedAt")));
  CHECK(jstr(t, "version") == appVersion);
  REQUIRE(t["ports"].is_array());
  REQUIRE(t["ports"].size() == 1);
  int hostPort = t["ports"][0].get<int>();
  CHECK(hostPort >= agentPortBase(0));
  CHECK(hostPort <= agentPortBase(0) + 99);
  REQUIRE(t["healthCheckResults"].is_array());
  REQUIRE(t["healthCheckResults"].size() == 1);
  const json& h = t["healthCheckResults"][0];
  CHECK(h.value("alive", false));
  CHECK(h.value("consecutiveFailures", -1) == 0);
  CHECK(isoMillis(jstr(h, "firstSuccess")) > 0);
  CHECK(isoMillis(jstr(h, "lastSuccess")) > 0);
  // Marathon names the instance (newer) or the task (older) the result belongs to.
  CHECK((h.contains("instanceId") || h.contains("taskId")));
  // The task itself answers on its host port...
  HttpReply served = httpRequest(hostPort, "GET", "/");
  CHECK(served.status == 200);
  // ...and saw its port in PORT0, PORTS and PORT_HTTP (the port's name, upper-cased).
  std::string p = std::to_string(hostPort);
  std::string env = readFile(dir.file("env-" + p));
  CHECK(env == p + " " + p + " " + p + "\n");
}

}  // namespace

TEST_CASE(
    "POST /v2/apps with HTTP and MESOS_HTTP health checks: 201 naming the deployment, instances healthy, serving on "
    "their host ports with PORT0/PORTS/PORT_<NAME>") {
  MarathonCluster c(1);
  int port = c.port();

  // The scheduler's own HTTP check, and one the executor runs (MESOS_HTTP), side by side.
  JsonReply created = mPost(port, "/v2/apps", webApp(c.dir, "/web", "HTTP", 2));
  JsonReply createdMesos = mPost(port, "/v2/apps", webApp(c.dir, "/web-mesos", "MESOS_HTTP", 1));
  for (JsonReply* r : {&created, &createdMesos}) {
    INFO("POST /v2/apps answered ", r->text());
    REQUIRE(r->status == 201);
    // apps.raml: 201 with the app; Marathon adds Location and the Marathon-Deployment-Id header,
    // and the app's "deployments" name the running deployment.
    CHECK(r->headers.count("location"));
    CHECK(r->headers.count("marathon-deployment-id"));
    REQUIRE(r->json.is_object());
    REQUIRE(r->json["deployments"].is_array());
    REQUIRE(r->json["deployments"].size() == 1);
    CHECK(jstr(r->json["deployments"][0], "id") == r->headers["marathon-deployment-id"]);
    CHECK_FALSE(jstr(r->json, "version").empty());
  }
  CHECK(jstr(created.json, "id") == "/web");
  CHECK(created.headers["location"].find("web") != std::string::npos);
  CHECK(created.json["instances"] == 2);
  CHECK(created.json["healthChecks"][0]["protocol"] == "HTTP");

  // A second POST of the same id is a conflict, an unknown id a 404 (apps.raml).
  JsonReply again = mPost(port, "/v2/apps", webApp(c.dir, "/web", "HTTP", 2));
  CHECK_MESSAGE(again.status == 409, again.text());
  CHECK(jstr(again.json, "message").find("/web") != std::string::npos);
  JsonReply unknown = mGet(port, "/v2/apps/nope");
  CHECK_MESSAGE(unknown.status == 404, unknown.text());
  CHECK_FALSE(jstr(unknown.json, "message").empty());

  bool healthy = waitForHealthy(port, "/web", 2, 30s) && waitForHealthy(port, "/web-mesos", 1, 15s);
  CHECK_MESSAGE(healthy, "/web tasks: ", appTasks(port, "/web").dump(), "\n/web-mesos tasks: ", appTasks(port, "/web-mesos").dump());
  REQUIRE(healthy);
  CHECK(waitForNoDeployments(port, 10s));

  JsonReply app = mGet(port, "/v2/apps/web");
  std::string version;
  {
    INFO("GET /v2/apps/web: ", app.text());
    REQUIRE(app.status == 200);
    const json& a = app.json["app"];
    CHECK(a["id"] == "/web");
    CHECK(a["instances"] == 2);
    CHECK(a["tasksRunning"] == 2);
    CHECK(a["tasksHealthy"] == 2);
    CHECK(a["tasksStaged"] == 0);
    CHECK(a["tasksUnhealthy"] == 0);
    if (a.contains("deployments")) CHECK(a["deployments"] == json::array());
    version = jstr(a, "version");
  }

  json tasks = appTasks(port, "/web");
  REQUIRE(tasks.size() == 2);
  for (const auto& t : tasks) checkServingTask(c.dir, t, "/web", version);
  // Two instances on one agent got two different ports.
  CHECK(tasks[0]["ports"] != tasks[1]["ports"]);
  json mesosTasks = appTasks(port, "/web-mesos");
  REQUIRE(mesosTasks.size() == 1);
  checkServingTask(c.dir, mesosTasks[0], "/web-mesos", jstr(mGet(port, "/v2/apps/web-mesos").json["app"], "version"));

  // GET /v2/apps lists both; /v2/tasks has all three.
  JsonReply list = mGet(port, "/v2/apps");
  REQUIRE(list.status == 200);
  std::set<std::string> ids;
  for (const auto& x : list.json["apps"]) ids.insert(jstr(x, "id"));
  CHECK(ids == std::set<std::string>{"/web", "/web-mesos"});
  CHECK(allTasks(port).size() == 3);
}

TEST_CASE("scaling up and down with PUT {instances}: YOUNGEST_FIRST keeps the oldest, OLDEST_FIRST the youngest") {
  MarathonCluster c(1);
  int port = c.port();
  for (const auto& [id, selection] : std::vector<std::pair<std::string, std::string>>{{"/young", "YOUNGEST_FIRST"},
                                                                                       {"/old", "OLDEST_FIRST"}}) {
    json app = appDef(id, sleeperCmd(c.dir, id.substr(1)), 1);
    app["killSelection"] = selection;
    JsonReply r = mPost(port, "/v2/apps", app);
    REQUIRE_MESSAGE(r.status == 201, r.text());
  }
  // One instance at a time, so their start times differ.
  for (int n = 1; n <= 3; ++n) {
    for (const std::string id : {"/young", "/old"}) {
      if (n > 1) {
        JsonReply r = mPut(port, "/v2/apps" + id, {{"instances", n}});
        INFO("PUT /v2/apps", id, " {instances: ", n, "}: ", r.text());
        REQUIRE(r.status == 200);
        // deployable trait: the deployment's id and the new version.
        CHECK_FALSE(jstr(r.json, "deploymentId").empty());
        CHECK_FALSE(jstr(r.json, "version").empty());
      }
    }
    for (const std::string id : {"/young", "/old"}) {
      REQUIRE_MESSAGE(waitForRunning(port, id, n, 20s), id, " tasks: ", appTasks(port, id).dump());
    }
    // A change while the app's deployment runs would be a 409.
    REQUIRE_MESSAGE(waitForNoDeployments(port, 10s), deployments(port).dump());
  }
  CHECK(waitForNoDeployments(port, 10s));
  for (const std::string id : {"/young", "/old"}) CHECK(mGet(port, "/v2/apps" + id).json["app"]["tasksRunning"] == 3);

  // Start times of the three instances of each app, oldest first.
  auto byAge = [&](const std::string& id) {
    std::vector<std::pair<int64_t, std::string>> out;
    for (const auto& t : appTasks(port, id)) out.push_back({isoMillis(jstr(t, "startedAt")), jstr(t, "id")});
    std::sort(out.begin(), out.end());
    return out;
  };
  auto young = byAge("/young"), old = byAge("/old");
  REQUIRE(young.size() == 3);
  REQUIRE(old.size() == 3);
  CHECK(young[0].first < young[2].first);
  CHECK(old[0].first < old[2].first);

  for (const std::string id : {"/young", "/old"}) {
    JsonReply r = mPut(port, "/v2/apps" + id, {{"instances", 1}});
    REQUIRE_MESSAGE(r.status == 200, r.text());
  }
  for (const std::string id : {"/young", "/old"}) {
    CHECK_MESSAGE(waitForRunning(port, id, 1, 20s), id, " tasks: ", appTasks(port, id).dump());
  }
  json youngLeft = appTasks(port, "/young"), oldLeft = appTasks(port, "/old");
  REQUIRE(youngLeft.size() == 1);
  REQUIRE(oldLeft.size() == 1);
  CHECK_MESSAGE(jstr(youngLeft[0], "id") == young[0].second, "YOUNGEST_FIRST must keep the oldest instance");
  CHECK_MESSAGE(jstr(oldLeft[0], "id") == old[2].second, "OLDEST_FIRST must keep the youngest instance");
  // The killed instances' processes are gone too.
  CHECK(waitFor([&] { return alivePids(c.dir, "young") == 1 && alivePids(c.dir, "old") == 1; }, 10s));
  CHECK(waitForNoDeployments(port, 10s));
}

TEST_CASE("an instance whose process is killed from outside is replaced by a new task") {
  MarathonCluster c(1);
  int port = c.port();
  JsonReply r = mPost(port, "/v2/apps", appDef("/victim", sleeperCmd(c.dir, "victim"), 2));
  REQUIRE_MESSAGE(r.status == 201, r.text());
  REQUIRE_MESSAGE(waitForRunning(port, "/victim", 2, 20s), appTasks(port, "/victim").dump());
  REQUIRE(waitFor([&] { return launchedPids(c.dir, "victim").size() == 2; }, 5s));
  auto before = taskIds(appTasks(port, "/victim"));
  int pid = launchedPids(c.dir, "victim")[0];

  REQUIRE(::kill(pid, SIGKILL) == 0);
  bool replaced = waitFor([&] {
    json tasks = appTasks(port, "/victim");
    auto now = taskIds(tasks);
    int fresh = static_cast<int>(std::count_if(now.begin(), now.end(), [&](const std::string& id) { return !before.count(id); }));
    return countRunning(tasks) == 2 && tasks.size() == 2 && fresh == 1;
  }, 20s);
  CHECK_MESSAGE(replaced, "tasks after the kill: ", appTasks(port, "/victim").dump());
  CHECK(launchedPids(c.dir, "victim").size() == 3);
  CHECK(alivePids(c.dir, "victim") == 2);
  JsonReply app = mGet(port, "/v2/apps/victim");
  CHECK(app.json["app"]["tasksRunning"] == 2);
  CHECK(app.json["app"]["instances"] == 2);
}

TEST_CASE(
    "UNIQUE hostname spreads 3 instances over 3 agents; a 4th waits in /v2/queue with UnfulfilledConstraint and "
    "the deployment stays") {
  MarathonCluster c(3, /*distinctHostnames=*/true);
  int port = c.port();
  json app = appDef("/unique", sleeperCmd(c.dir, "unique"), 3);
  app["constraints"] = json::array({json::array({"hostname", "UNIQUE"})});
  JsonReply r = mPost(port, "/v2/apps", app);
  REQUIRE_MESSAGE(r.status == 201, r.text());
  REQUIRE_MESSAGE(waitForRunning(port, "/unique", 3, 20s), appTasks(port, "/unique").dump());
  std::set<std::string> hosts;
  for (const auto& t : appTasks(port, "/unique")) hosts.insert(jstr(t, "host"));
  CHECK(hosts == std::set<std::string>{"agent-1", "agent-2", "agent-3"});
  CHECK(waitForNoDeployments(port, 10s));

  JsonReply scaled = mPut(port, "/v2/apps/unique", {{"instances", 4}});
  REQUIRE_MESSAGE(scaled.status == 200, scaled.text());
  std::string deploymentId = jstr(scaled.json, "deploymentId");

  // queue.raml: the app's entry counts the instance left to launch, and the summary of the last
  // offer of every agent names the constraint as the reason they were declined.
  json entry;
  bool queued = waitFor([&] {
    JsonReply q = mGet(port, "/v2/queue");
    if (q.status != 200 || !q.json["queue"].is_array()) return false;
    for (const auto& e : q.json["queue"]) {
      if (e.contains("app") && jstr(e["app"], "id") == "/unique") entry = e;
    }
    if (!entry.is_object() || !entry["processedOffersSummary"]["rejectSummaryLastOffers"].is_array()) return false;
    for (const auto& s : entry["processedOffersSummary"]["rejectSummaryLastOffers"]) {
      if (jstr(s, "reason") == "UnfulfilledConstraint" && s.value("declined", 0) >= 1 && s.value("processed", 0) >= 1) return true;
    }
    return false;
  }, 15s);
  CHECK_MESSAGE(queued, "GET /v2/queue: ", mGet(port, "/v2/queue").text());
  CHECK(entry["count"] == 1);
  CHECK(entry["processedOffersSummary"].value("processedOffersCount", 0) >= 1);
  CHECK(entry["processedOffersSummary"].value("unusedOffersCount", 0) >= 1);
  CHECK(isoMillis(jstr(entry, "since")) > 0);

  // Still three, one per host, and the deployment is still running.
  CHECK(appTasks(port, "/unique").size() == 3);
  CHECK(countRunning(appTasks(port, "/unique")) == 3);
  json ds = deployments(port);
  INFO("GET /v2/deployments: ", ds.dump());
  REQUIRE(ds.is_array());
  REQUIRE(ds.size() == 1);
  CHECK(jstr(ds[0], "id") == deploymentId);
  CHECK(ds[0]["affectedApps"] == json::array({"/unique"}));
  CHECK(mGet(port, "/v2/apps/unique").json["app"]["tasksRunning"] == 3);
}

TEST_CASE(
    "/v2/events streams event_stream_attached, then for a new app api_post_event, deployment_info, "
    "status_update_event TASK_RUNNING, deployment_step_success, deployment_success; event_type filters") {
  MarathonCluster c(1);
  int port = c.port();
  EventStream all(port);
  EventStream onlySuccess(port, "/v2/events?event_type=deployment_success");
  REQUIRE(all.connected());
  REQUIRE_MESSAGE(waitFor([&] { return !all.events().empty(); }, 5s), "GET /v2/events gave: ", all.raw());
  CHECK(all.status() == 200);
  CHECK(all.header("content-type").find("text/event-stream") != std::string::npos);
  CHECK(all.events()[0].type() == "event_stream_attached");
  CHECK(all.events()[0].name == "event_stream_attached");

  JsonReply r = mPost(port, "/v2/apps", appDef("/evt", sleeperCmd(c.dir, "evt"), 1));
  REQUIRE_MESSAGE(r.status == 201, r.text());
  std::string deploymentId = r.headers["marathon-deployment-id"];
  bool done = waitFor([&] {
    for (const auto& e : all.events()) {
      if (e.type() == "deployment_success" && jstr(e.data, "id") == deploymentId) return true;
    }
    return false;
  }, 20s);
  INFO("events: ", all.raw());
  REQUIRE(done);

  auto events = all.events();
  auto indexOf = [&](const std::function<bool(const EventStream::Event&)>& match) {
    for (size_t i = 0; i < events.size(); ++i) {
      if (match(events[i])) return static_cast<int>(i);
    }
    return -1;
  };
  int post = indexOf([](const auto& e) {
    return e.type() == "api_post_event" && e.data.contains("appDefinition") && jstr(e.data["appDefinition"], "id") == "/evt";
  });
  int info = indexOf([&](const auto& e) { return e.type() == "deployment_info" && jstr(e.data["plan"], "id") == deploymentId; });
  int running = indexOf([](const auto& e) {
    return e.type() == "status_update_event" && jstr(e.data, "appId") == "/evt" && jstr(e.data, "taskStatus") == "TASK_RUNNING";
  });
  // One deployment_step_success per step; the last one comes after the instance runs.
  int step = -1;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].type() == "deployment_step_success" && jstr(events[i].data["plan"], "id") == deploymentId) step = static_cast<int>(i);
  }
  int success = indexOf([&](const auto& e) { return e.type() == "deployment_success" && jstr(e.data, "id") == deploymentId; });
  CHECK(post >= 0);
  CHECK(info > post);
  CHECK(running > info);
  CHECK(step > running);
  CHECK(success > step);
  if (running >= 0) {
    const json& st = events[running].data;
    CHECK_FALSE(jstr(st, "taskId").empty());
    CHECK_FALSE(jstr(st, "slaveId").empty());
    CHECK_FALSE(jstr(st, "host").empty());
    CHECK(st["ports"].is_array());
    CHECK_FALSE(jstr(st, "version").empty());
  }
  if (post >= 0) CHECK(jstr(events[post].data, "uri") == "/v2/apps");
  // Every event has its type in both the SSE `event:` field and eventType, and a timestamp.
  for (const auto& e : events) {
    CAPTURE(e.data.dump());
    CHECK(e.name == e.type());
    CHECK(isoMillis(jstr(e.data, "timestamp")) > 0);
  }

  // The filtered stream got the deployment_success and nothing of another type (Marathon
  // filters the attach notice too; it is tolerated here).
  REQUIRE(onlySuccess.waitForType("deployment_success", 5s));
  for (const auto& t : onlySuccess.types()) {
    CHECK_MESSAGE((t == "deployment_success" || t == "event_stream_attached"), "filtered stream got ", t);
  }
}

TEST_CASE("invalid app definitions get 422 with the violated paths (400 for malformed JSON) and create nothing") {
  MarathonCluster c(1);
  int port = c.port();
  auto base = [] { return appDef("/valid", "sleep 600", 1); };
  struct Case {
    std::string what;
    json body;
    std::string path;  // prefix of a details[].path
    bool checkPut = true;  // PUT /v2/apps/valid answers the same (not for a bad id: the path names the app)
  };
  std::vector<Case> cases;
  {
    json a = base();
    a["cpus"] = -1;
    cases.push_back({"negative cpus", a, "/cpus"});
  }
  {
    json a = base();
    a["id"] = "/Bad_Id!";
    cases.push_back({"an id that is not a path of lower-case names", a, "/id", false});
  }
  {
    json a = base();
    a["constraints"] = json::array({json::array({"hostname", "NEAR"})});
    cases.push_back({"an unknown constraint operator", a, "/constraints"});
  }
  {
    json a = base();
    a["constraints"] = json::array({json::array({"hostname", "LIKE", "agent-[0-9"})});
    cases.push_back({"a LIKE constraint whose regex does not compile", a, "/constraints"});
  }
  {
    json a = base();
    a["portDefinitions"] = json::array({{{"port", 70000}}});
    cases.push_back({"a port above 65535", a, "/portDefinitions"});
  }
  {
    json a = base();
    a["instances"] = -1;
    cases.push_back({"negative instances", a, "/instances"});
  }
  {
    json a = base();
    a["upgradeStrategy"] = {{"minimumHealthCapacity", 1.5}, {"maximumOverCapacity", 0.5}};
    cases.push_back({"minimumHealthCapacity above 1 (apps.raml's example)", a, "/upgradeStrategy/minimumHealthCapacity"});
  }
  for (const auto& k : cases) {
    CAPTURE(k.what);
    JsonReply r = mPost(port, "/v2/apps", k.body);
    INFO("POST /v2/apps ", k.body.dump(), " answered ", r.text());
    CHECK(r.status == 422);
    CHECK(jstr(r.json, "message") == "Object is not valid");
    json d = detailFor(r.json, k.path);
    CHECK_MESSAGE(d.is_object(), "no detail for ", k.path);
    if (d.is_object()) {
      CHECK(d["errors"].is_array());
      CHECK_FALSE(d["errors"].empty());
    }
    // PUT validates the same way.
    if (k.checkPut) {
      JsonReply put = mPut(port, "/v2/apps/valid", k.body);
      CHECK_MESSAGE(put.status == 422, "PUT answered ", put.text());
    }
  }
  JsonReply malformed = mRequest(port, "POST", "/v2/apps", "{\"id\": \"/x\", \"cmd\": ");
  CHECK_MESSAGE(malformed.status == 400, malformed.text());
  CHECK_FALSE(jstr(malformed.json, "message").empty());
  JsonReply wrongType = mPost(port, "/v2/apps", {{"id", 5}, {"cmd", "sleep 1"}});
  CHECK_MESSAGE((wrongType.status == 400 || wrongType.status == 422), wrongType.text());
  CHECK(detailFor(wrongType.json, "/id").is_object());

  // Nothing was created or deployed.
  JsonReply apps = mGet(port, "/v2/apps");
  REQUIRE(apps.status == 200);
  CHECK(apps.json["apps"] == json::array());
  CHECK(deployments(port) == json::array());
  CHECK(mGet(port, "/v2/apps/valid").status == 404);
}

TEST_CASE("/v2/info, /v2/leader, /ping, /metrics, and the same API under /marathon") {
  MarathonCluster c(1);
  int port = c.port();
  JsonReply hello = mPost(port, "/v2/apps", appDef("/hello", sleeperCmd(c.dir, "hello"), 1));
  REQUIRE_MESSAGE(hello.status == 201, "POST /v2/apps: ", hello.text());

  // info.raml: name, version, elected, leader (host:port) and the framework id once registered.
  JsonReply info;
  bool registered = waitFor([&] {
    info = mGet(port, "/v2/info");
    return info.status == 200 && !jstr(info.json, "frameworkId").empty();
  }, 10s);
  INFO("GET /v2/info: ", info.text());
  CHECK(registered);
  CHECK(jstr(info.json, "name") == "marathon");
  CHECK_FALSE(jstr(info.json, "version").empty());
  CHECK(info.json.value("elected", false));
  std::string leader = jstr(info.json, "leader");
  CHECK(leader.size() > std::to_string(port).size());
  CHECK(leader.substr(leader.rfind(':') + 1) == std::to_string(port));
  // The framework id is the one the master knows.
  json state = masterState(port);
  std::set<std::string> frameworkIds;
  for (const auto& f : state["frameworks"]) frameworkIds.insert(jstr(f, "id"));
  CHECK(frameworkIds.count(jstr(info.json, "frameworkId")));

  JsonReply leaderReply = mGet(port, "/v2/leader");
  CHECK_MESSAGE(leaderReply.status == 200, leaderReply.text());
  CHECK(jstr(leaderReply.json, "leader") == leader);

  HttpReply ping = httpRequest(port, "GET", "/ping");
  CHECK(ping.status == 200);
  std::string pong = ping.body;
  while (!pong.empty() && std::isspace(static_cast<unsigned char>(pong.back()))) pong.pop_back();
  CHECK(pong == "pong");

  JsonReply metrics = mGet(port, "/metrics");
  CHECK_MESSAGE(metrics.status == 200, metrics.text());
  CHECK(metrics.json.is_object());

  // The same resources under /marathon (as behind DC/OS' admin router).
  JsonReply plain = mGet(port, "/v2/apps"), prefixed = mGet(port, "/marathon/v2/apps");
  CHECK_MESSAGE(prefixed.status == 200, prefixed.text());
  CHECK(prefixed.json["apps"].size() == 1);
  CHECK(jstr(prefixed.json["apps"][0], "id") == "/hello");
  CHECK(jstr(mGet(port, "/marathon/v2/apps/hello").json["app"], "id") == "/hello");
  CHECK(jstr(mGet(port, "/marathon/v2/info").json, "frameworkId") == jstr(info.json, "frameworkId"));
  CHECK(mGet(port, "/marathon/v2/leader").status == 200);
  JsonReply createdPrefixed = mPost(port, "/marathon/v2/apps", appDef("/hello2", sleeperCmd(c.dir, "hello2"), 1));
  CHECK_MESSAGE(createdPrefixed.status == 201, createdPrefixed.text());
  CHECK(waitForRunning(port, "/hello2", 1, 20s));
}

TEST_CASE("DELETE of one task with ?scale=true scales the app down; DELETE /v2/apps/{id} stops every instance and forgets the app") {
  MarathonCluster c(1);
  int port = c.port();
  JsonReply r = mPost(port, "/v2/apps", appDef("/gone", sleeperCmd(c.dir, "gone"), 3));
  REQUIRE_MESSAGE(r.status == 201, r.text());
  REQUIRE_MESSAGE(waitForRunning(port, "/gone", 3, 20s), appTasks(port, "/gone").dump());
  REQUIRE(waitForNoDeployments(port, 10s));

  // apps.raml: with scale=true the app is scaled down by the killed task and a deployment is
  // returned; the task is not replaced.
  std::string victim = jstr(appTasks(port, "/gone")[0], "id");
  JsonReply killed = mDelete(port, "/v2/apps/gone/tasks/" + victim + "?scale=true");
  INFO("DELETE /v2/apps/gone/tasks/", victim, "?scale=true: ", killed.text());
  CHECK(killed.status == 200);
  CHECK_FALSE(jstr(killed.json, "deploymentId").empty());
  CHECK(waitFor([&] {
    auto ids = taskIds(appTasks(port, "/gone"));
    return ids.size() == 2 && !ids.count(victim);
  }, 15s));
  CHECK(mGet(port, "/v2/apps/gone").json["app"]["instances"] == 2);
  CHECK(waitForNoDeployments(port, 10s));
  CHECK(waitFor([&] { return alivePids(c.dir, "gone") == 2; }, 10s));
  JsonReply unknownTask = mDelete(port, "/v2/apps/gone/tasks/gone.no-such-task");
  CHECK_MESSAGE(unknownTask.status == 404, unknownTask.text());

  JsonReply deleted = mDelete(port, "/v2/apps/gone");
  INFO("DELETE /v2/apps/gone: ", deleted.text());
  CHECK(deleted.status == 200);
  CHECK_FALSE(jstr(deleted.json, "deploymentId").empty());
  CHECK(waitFor([&] { return mGet(port, "/v2/apps/gone").status == 404; }, 15s));
  CHECK(waitFor([&] { return alivePids(c.dir, "gone") == 0; }, 15s));
  CHECK(waitForNoDeployments(port, 10s));
  CHECK(allTasks(port).empty());
  CHECK(mGet(port, "/v2/apps").json["apps"] == json::array());
  CHECK(mDelete(port, "/v2/apps/gone").status == 404);
}
