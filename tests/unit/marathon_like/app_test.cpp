#include "marathon_like/app.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace dcos;
using namespace dcos::marathon;

namespace {

Json minimal(const std::string& extra = "{}") {
  Json app = {{"id", "/web"}, {"cmd", "sleep 1"}};
  app.merge_patch(Json::parse(extra));
  return app;
}

// The paths of the violations reported for `app` (empty when it is valid).
std::vector<std::string> violationPaths(const Json& app, const std::string& base = "/") {
  auto parsed = parseApp(app, base);
  std::vector<std::string> paths;
  if (parsed.ok()) return paths;
  CHECK(parsed.error().code == ErrorCode::kUnprocessable);
  CHECK(parsed.error().message == "Object is not valid");
  for (const auto& d : parsed.error().details) paths.push_back(d.path);
  return paths;
}

std::string firstMessage(const Json& app) {
  auto parsed = parseApp(app);
  REQUIRE_FALSE(parsed.ok());
  REQUIRE_FALSE(parsed.error().details.empty());
  REQUIRE_FALSE(parsed.error().details[0].errors.empty());
  return parsed.error().details[0].errors[0];
}

}  // namespace

TEST_CASE("a minimal app gets every Marathon default") {
  auto app = parseApp(minimal());
  REQUIRE(app.ok());
  CHECK(app->id == "/web");
  CHECK(app->instances == 1);
  CHECK(app->cpus == 1);
  CHECK(app->mem == 128);
  CHECK(app->disk == 0);
  CHECK(app->gpus == 0);
  CHECK(app->requirePorts == false);
  REQUIRE(app->portDefinitions.size() == 1);
  CHECK(app->portDefinitions[0].port == 0);
  CHECK(app->portDefinitions[0].protocol == "tcp");
  CHECK(app->backoffSeconds == 1);
  CHECK(app->backoffFactor == doctest::Approx(1.15));
  CHECK(app->maxLaunchDelaySeconds == 300);
  CHECK(app->killSelection == "YOUNGEST_FIRST");
  CHECK(app->upgradeStrategy.minimumHealthCapacity == 1.0);
  CHECK(app->upgradeStrategy.maximumOverCapacity == 1.0);
  CHECK(app->unreachableStrategy.enabled);
  CHECK(app->unreachableStrategy.inactiveAfterSeconds == 300);
  CHECK(app->unreachableStrategy.expungeAfterSeconds == 600);
  CHECK_FALSE(app->needsDocker());

  Json j = appToJson(*app);
  CHECK(j["cmd"] == "sleep 1");
  CHECK(j["portDefinitions"] == Json::parse(R"([{"port":0,"protocol":"tcp","labels":{}}])"));
  CHECK(j["upgradeStrategy"] == Json::parse(R"({"minimumHealthCapacity":1.0,"maximumOverCapacity":1.0})"));
  CHECK(j["unreachableStrategy"] == Json::parse(R"({"inactiveAfterSeconds":300,"expungeAfterSeconds":600})"));
  for (const char* key : {"env", "labels", "instances", "cpus", "mem", "disk", "gpus", "fetch", "requirePorts",
                          "constraints", "acceptedResourceRoles", "healthChecks", "readinessChecks",
                          "dependencies", "backoffSeconds", "backoffFactor", "maxLaunchDelaySeconds",
                          "killSelection"}) {
    CHECK_MESSAGE(j.contains(key), key);
  }
  CHECK_FALSE(j.contains("container"));
  CHECK_FALSE(j.contains("args"));
}

TEST_CASE("relative ids and dependencies are resolved against the base group") {
  struct Row { const char* id; const char* base; const char* expected; };
  for (const Row& row : std::vector<Row>{{"web", "/", "/web"},
                                         {"web", "/prod", "/prod/web"},
                                         {"./web", "/prod/", "/prod/web"},
                                         {"../web", "/prod/a", "/prod/web"},
                                         {"/abs/web", "/prod", "/abs/web"},
                                         {"/prod/web/", "/", "/prod/web"}}) {
    CAPTURE(std::string(row.id));
    auto app = parseApp(minimal(std::string(R"({"id":")") + row.id + "\"}"), row.base);
    REQUIRE(app.ok());
    CHECK(app->id == row.expected);
  }
  auto app = parseApp(minimal(R"({"id":"web","dependencies":["db","../shared/cache","/abs"]})"), "/prod");
  REQUIRE(app.ok());
  CHECK(app->dependencies == std::vector<std::string>{"/prod/db", "/shared/cache", "/abs"});
  CHECK(normalizeAppId("../../..", "/a") == "/");
}

TEST_CASE("ids that Marathon rejects") {
  for (const char* id : {"", "/", "/Web", "/web_app", "/-web", "/web-", "/prod/../web", "/a/./b", "/a b"}) {
    CAPTURE(std::string(id));
    CHECK(violationPaths(minimal(std::string(R"({"id":")") + id + "\"}")) == std::vector<std::string>{"/id"});
  }
  for (const char* id : {"/web", "/prod/web-1", "/a.b.c/x1", "/0"}) {
    CAPTURE(std::string(id));
    CHECK(violationPaths(minimal(std::string(R"({"id":")") + id + "\"}")).empty());
  }
  Json noId = minimal();
  noId.erase("id");
  CHECK(violationPaths(noId) == std::vector<std::string>{"/id"});
}

TEST_CASE("portDefinitions: absent gives one any-port definition, [] gives none") {
  auto absent = parseApp(minimal());
  auto empty = parseApp(minimal(R"({"portDefinitions":[]})"));
  REQUIRE(absent.ok());
  REQUIRE(empty.ok());
  CHECK(absent->portDefinitions.size() == 1);
  CHECK(empty->portDefinitions.empty());
  CHECK(appToJson(*empty)["portDefinitions"] == Json::array());

  auto named = parseApp(minimal(
      R"({"portDefinitions":[{"port":8080,"protocol":"udp,tcp","name":"http","labels":{"VIP_0":"/web:80"}},{}]})"));
  REQUIRE(named.ok());
  REQUIRE(named->portDefinitions.size() == 2);
  CHECK(named->portDefinitions[0].port == 8080);
  CHECK(named->portDefinitions[0].protocol == "udp,tcp");
  CHECK(named->portDefinitions[0].name == "http");
  CHECK(named->portDefinitions[0].labels.at("VIP_0") == "/web:80");
  CHECK(named->portDefinitions[1].protocol == "tcp");
  CHECK(violationPaths(minimal(R"({"portDefinitions":[{"port":80},{"port":80}]})")) ==
        std::vector<std::string>{"/portDefinitions"});
}

TEST_CASE("constraint operators") {
  struct Row { const char* constraint; bool valid; };
  const std::vector<Row> rows = {
      {R"(["hostname","UNIQUE"])", true},
      {R"(["hostname","UNIQUE","x"])", false},
      {R"(["rack","CLUSTER","rack-1"])", true},
      {R"(["rack","CLUSTER"])", true},
      {R"(["rack","GROUP_BY"])", true},
      {R"(["rack","GROUP_BY","3"])", true},
      {R"(["rack","GROUP_BY","three"])", false},
      {R"(["hostname","LIKE","host-[0-9]+"])", true},
      {R"(["hostname","LIKE"])", false},
      {R"(["hostname","LIKE","host-[0-9"])", false},
      {R"(["hostname","UNLIKE","a(b"])", false},
      {R"(["hostname","UNLIKE","db.*"])", true},
      {R"(["rack","MAX_PER","2"])", true},
      {R"(["rack","MAX_PER","0"])", false},
      {R"(["rack","MAX_PER","1.5"])", false},
      {R"(["rack","MAX_PER","two"])", false},
      {R"(["rack","MAX_PER"])", false},
      {R"(["os","IS","linux"])", true},
      {R"(["os","IS"])", false},
      {R"(["os","EQUALS","linux"])", false},
      {R"(["os"])", false},
      {R"(["os","IS",1])", false},
      {R"("os:IS:linux")", false},
      {R"({"fieldName":"hostname","operator":"MAX_PER","value":"1"})", true},
      {R"({"fieldName":"hostname","operator":"LIKE","value":"("})", false},
  };
  for (const Row& row : rows) {
    CAPTURE(std::string(row.constraint));
    Json app = minimal();
    app["constraints"] = Json::array({Json::parse(row.constraint)});
    auto paths = violationPaths(app);
    if (row.valid) {
      CHECK(paths.empty());
    } else {
      CHECK(paths == std::vector<std::string>{"/constraints/0"});
    }
  }
  auto parsed = parseApp(minimal(R"({"constraints":[{"fieldName":"rack","operator":"MAX_PER","value":"2"}]})"));
  REQUIRE(parsed.ok());
  CHECK(appToJson(*parsed)["constraints"] == Json::parse(R"([["rack","MAX_PER","2"]])"));
  CHECK(firstMessage(minimal(R"({"constraints":[["h","LIKE","(["]]})")) == "'([' is not a valid regular expression");
}

TEST_CASE("invalid apps report the exact path of each violation") {
  struct Row { const char* patch; const char* path; };
  const std::vector<Row> rows = {
      {R"({"cpus":-1})", "/cpus"},
      {R"({"mem":-0.5})", "/mem"},
      {R"({"disk":-1})", "/disk"},
      {R"({"instances":-1})", "/instances"},
      {R"({"instances":"three"})", "/instances"},
      {R"({"instances":1.5})", "/instances"},
      {R"({"instances":1e10})", "/instances"},
      {R"({"instances":1000001})", "/instances"},
      {R"({"gpus":-1})", "/gpus"},
      {R"({"id":"/Bad_Id"})", "/id"},
      {R"({"id":5})", "/id"},
      {R"({"cmd":5})", "/cmd"},
      {R"({"cmd":null,"args":"a b"})", "/args"},
      {R"({"cmd":null,"args":["a",1]})", "/args/1"},
      {R"({"portDefinitions":[{"port":70000}]})", "/portDefinitions/0/port"},
      {R"({"portDefinitions":[{"port":-1}]})", "/portDefinitions/0/port"},
      {R"({"portDefinitions":[{"port":80,"protocol":"sctp"}]})", "/portDefinitions/0/protocol"},
      {R"({"portDefinitions":{"port":80}})", "/portDefinitions"},
      {R"({"portDefinitions":[80]})", "/portDefinitions/0"},
      {R"({"requirePorts":"yes"})", "/requirePorts"},
      {R"({"backoffFactor":0.5})", "/backoffFactor"},
      {R"({"backoffSeconds":-1})", "/backoffSeconds"},
      {R"({"maxLaunchDelaySeconds":-1})", "/maxLaunchDelaySeconds"},
      {R"({"upgradeStrategy":{"minimumHealthCapacity":1.5}})", "/upgradeStrategy/minimumHealthCapacity"},
      {R"({"upgradeStrategy":{"maximumOverCapacity":-0.1}})", "/upgradeStrategy/maximumOverCapacity"},
      {R"({"upgradeStrategy":1})", "/upgradeStrategy"},
      {R"({"env":{"NAME":1}})", "/env/NAME"},
      {R"({"env":{"DB_PASSWORD":{"secret":"pw"}}})", "/env/DB_PASSWORD"},
      {R"({"env":["A=1"]})", "/env"},
      {R"({"labels":{"tier":true}})", "/labels/tier"},
      {R"({"fetch":[{"executable":true}]})", "/fetch/0/uri"},
      {R"({"fetch":[{"uri":"http://x/a.tgz","extract":"no"}]})", "/fetch/0/extract"},
      {R"({"acceptedResourceRoles":["*",2]})", "/acceptedResourceRoles/1"},
      {R"({"healthChecks":[{"protocol":"UDP"}]})", "/healthChecks/0/protocol"},
      {R"({"healthChecks":[{"protocol":"HTTP","intervalSeconds":-5}]})", "/healthChecks/0/intervalSeconds"},
      {R"({"healthChecks":[{"protocol":"COMMAND"}]})", "/healthChecks/0/command"},
      {R"({"readinessChecks":{}})", "/readinessChecks"},
      {R"({"dependencies":[1]})", "/dependencies/0"},
      {R"({"killSelection":"RANDOM"})", "/killSelection"},
      {R"({"unreachableStrategy":"enabled"})", "/unreachableStrategy"},
      {R"({"unreachableStrategy":{"inactiveAfterSeconds":-1}})", "/unreachableStrategy/inactiveAfterSeconds"},
      {R"({"unreachableStrategy":{"inactiveAfterSeconds":900,"expungeAfterSeconds":60}})", "/unreachableStrategy"},
      {R"({"container":{"type":"RKT","docker":{"image":"nginx"}}})", "/container/type"},
      {R"({"container":{"type":"DOCKER"}})", "/container/docker"},
      {R"({"container":{"type":"DOCKER","docker":{"image":""}}})", "/container/docker/image"},
      {R"({"version":20240101})", "/version"},
      {R"({"args":["sleep","1"]})", "/"},  // cmd and args both
  };
  for (const Row& row : rows) {
    CAPTURE(std::string(row.patch));
    CHECK(violationPaths(minimal(row.patch)) == std::vector<std::string>{row.path});
  }
  CHECK(firstMessage(minimal(R"({"cpus":-1})")) == "must be greater than or equal to 0");
  CHECK(firstMessage(minimal(R"({"instances":"three"})")) == "error.expected.jsnumber");
  CHECK(violationPaths(Json::array()) == std::vector<std::string>{"/"});
}

TEST_CASE("an app needs cmd, args or a container image") {
  CHECK(violationPaths(Json{{"id", "/web"}}) == std::vector<std::string>{"/"});
  CHECK(firstMessage(Json{{"id", "/web"}}) ==
        "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.");
  auto args = parseApp(Json::parse(R"({"id":"/web","args":["sleep","1"]})"));
  REQUIRE(args.ok());
  CHECK(args->args == std::vector<std::string>{"sleep", "1"});
  auto docker = parseApp(Json::parse(R"({"id":"/web","container":{"docker":{"image":"nginx:1"}}})"));
  REQUIRE(docker.ok());
  CHECK(docker->needsDocker());
  CHECK(docker->container["type"] == "DOCKER");
  CHECK(violationPaths(Json::parse(R"({"id":"/web","container":{"type":"MESOS"}})")) ==
        std::vector<std::string>{"/"});
}

TEST_CASE("every violation is reported together") {
  Json bad = Json::parse(R"({"id":"/Web","cpus":-1,"mem":"lots","instances":-2,
    "portDefinitions":[{"port":70000,"protocol":"icmp"}],"constraints":[["rack","MAX_PER","x"]]})");
  auto parsed = parseApp(bad);
  REQUIRE_FALSE(parsed.ok());
  std::vector<std::string> paths;
  for (const auto& d : parsed.error().details) paths.push_back(d.path);
  CHECK(paths == std::vector<std::string>{"/id", "/", "/instances", "/cpus", "/mem", "/portDefinitions/0/port",
                                          "/portDefinitions/0/protocol", "/constraints/0"});
  Json body = errorBody(parsed.error());
  CHECK(body["message"] == "Object is not valid");
}

TEST_CASE("health checks get Marathon's defaults") {
  auto app = parseApp(minimal(R"({"healthChecks":[{"protocol":"MESOS_HTTP"},{"protocol":"TCP","port":8080},
                                   {"protocol":"COMMAND","command":{"value":"true"}},{}]})"));
  REQUIRE(app.ok());
  const Json& hc = app->healthChecks;
  REQUIRE(hc.size() == 4);
  CHECK(hc[0]["gracePeriodSeconds"] == 300);
  CHECK(hc[0]["intervalSeconds"] == 60);
  CHECK(hc[0]["timeoutSeconds"] == 20);
  CHECK(hc[0]["maxConsecutiveFailures"] == 3);
  CHECK(hc[0]["path"] == "/");
  CHECK(hc[0]["portIndex"] == 0);
  CHECK(hc[1]["port"] == 8080);
  CHECK_FALSE(hc[1].contains("portIndex"));
  CHECK_FALSE(hc[1].contains("path"));
  CHECK_FALSE(hc[2].contains("portIndex"));
  CHECK(hc[3]["protocol"] == "HTTP");
}

TEST_CASE("parse(appToJson(parse(x))) == parse(x)") {
  const std::vector<std::string> apps = {
      R"({"id":"/web","cmd":"sleep 1"})",
      R"({"id":"web","cmd":"python3 -m http.server $PORT0","instances":3,"cpus":0.25,"mem":64,"disk":10,
          "env":{"A":"1"},"labels":{"tier":"front"},"user":"nobody","version":"2024-01-01T00:00:00.000Z",
          "fetch":[{"uri":"http://x/a.tgz","cache":true,"outputFile":"a.tgz"}],
          "portDefinitions":[{"port":0,"name":"http"},{"port":9000,"protocol":"udp"}],"requirePorts":true,
          "constraints":[["hostname","UNIQUE"],["rack","GROUP_BY","2"],{"fieldName":"os","operator":"IS","value":"linux"}],
          "acceptedResourceRoles":["*"],"healthChecks":[{"protocol":"HTTP","path":"/health"}],
          "readinessChecks":[{"name":"ready","portName":"http"}],"dependencies":["db"],
          "upgradeStrategy":{"minimumHealthCapacity":0.5,"maximumOverCapacity":0},
          "backoffSeconds":2,"backoffFactor":2,"maxLaunchDelaySeconds":60,"killSelection":"OLDEST_FIRST",
          "unreachableStrategy":"disabled"})",
      R"({"id":"/db","args":["postgres"],"portDefinitions":[],"container":{"type":"MESOS","docker":{"image":"pg"}},
          "unreachableStrategy":{"inactiveAfterSeconds":0,"expungeAfterSeconds":0}})",
  };
  for (const auto& text : apps) {
    CAPTURE(text);
    auto first = parseApp(Json::parse(text), "/prod");
    REQUIRE(first.ok());
    auto second = parseApp(appToJson(*first));
    REQUIRE(second.ok());
    CHECK(*second == *first);
    CHECK(appToJson(*second) == appToJson(*first));
  }
}

TEST_CASE("mesosDnsName reverses the segments") {
  CHECK(mesosDnsName("/prod/web") == "web-prod");
  CHECK(mesosDnsName("/web") == "web");
  CHECK(mesosDnsName("/a/b/c") == "c-b-a");
}
