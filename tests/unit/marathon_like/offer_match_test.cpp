#include "marathon_like/offer_match.hpp"

#include "kernel/agent/task_spec.hpp"
#include "kernel/executor/health_check.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

using namespace dcos;
using namespace dcos::marathon;
using kernel::Resources;

namespace {

AppDefinition app(const std::string& extra = "{}") {
  Json json = {{"id", "/prod/web"}, {"cmd", "./serve --port $PORT0"}, {"cpus", 0.5}, {"mem", 64}};
  json.merge_patch(Json::parse(extra));
  auto parsed = parseApp(json);
  REQUIRE(parsed.ok());
  return *parsed;
}

Resources res(const std::string& text, const std::string& allocatedTo = "*") {
  auto parsed = Resources::parse(text);
  REQUIRE(parsed.ok());
  return parsed->allocate(allocatedTo);
}

// An offer as the master's OFFERS event carries it, read back through parseOffer.
OfferView offer(const std::string& resources, Json attributes = Json::array(), const std::string& role = "*") {
  Json j = {{"id", {{"value", "o-1"}}},
            {"framework_id", {{"value", "fw"}}},
            {"agent_id", {{"value", "a-1"}}},
            {"hostname", "node1.example"},
            {"resources", res(resources, role).toJson()},
            {"allocation_info", {{"role", role}}},
            {"attributes", std::move(attributes)}};
  auto parsed = parseOffer(j);
  REQUIRE(parsed.ok());
  return *parsed;
}

std::variant<LaunchPlan, std::vector<Refusal>> match(const AppDefinition& a, const OfferView& o,
                                                     std::vector<PlacedInstance> placed = {},
                                                     const std::string& frameworkRole = "*") {
  LaunchRequest request{&a, "prod_web.1234", frameworkRole, {}};
  return matchOffer(request, o, o.resources, placed);
}

LaunchPlan planOf(const std::variant<LaunchPlan, std::vector<Refusal>>& result) {
  if (const auto* refusals = std::get_if<std::vector<Refusal>>(&result)) {
    for (const auto& r : *refusals) MESSAGE(r.reason << ": " << r.message);
    FAIL("expected a launch plan");
  }
  return std::get<LaunchPlan>(result);
}

std::vector<std::string> reasonsOf(const std::variant<LaunchPlan, std::vector<Refusal>>& result) {
  const auto* refusals = std::get_if<std::vector<Refusal>>(&result);
  if (!refusals) return {};
  std::vector<std::string> out;
  for (const auto& r : *refusals) out.push_back(r.reason);
  return out;
}

std::map<std::string, std::string> envOf(const Json& task) {
  std::map<std::string, std::string> env;
  for (const auto& v : task["command"]["environment"]["variables"]) {
    CHECK_MESSAGE(!env.count(v["name"]), "duplicate variable " << v["name"]);
    env[v["name"].get<std::string>()] = v["value"].get<std::string>();
  }
  return env;
}

}  // namespace

TEST_CASE("offer: a fitting offer becomes a TaskInfo with the app's resources, ports and command") {
  auto a = app(R"({"disk": 10, "portDefinitions": [{"port": 0, "name": "http"}, {"port": 10001, "protocol": "udp,tcp"}],
                  "fetch": [{"uri": "https://example.com/app.tgz"}], "user": "nobody",
                  "labels": {"team-name": "core"}})");
  auto o = offer("cpus:4;mem:1024;disk:100;ports:[31000-31005]");
  auto plan = planOf(match(a, o));

  CHECK(plan.hostPorts == std::vector<uint32_t>{31000, 31001});
  CHECK(plan.consumed == res("cpus:0.5;mem:64;disk:10;ports:[31000-31001]"));
  CHECK(o.resources.contains(plan.consumed));
  const Json& task = plan.taskInfo;
  auto taskResources = Resources::fromJson(task["resources"]);
  REQUIRE(taskResources.ok());
  CHECK(*taskResources == plan.consumed);
  CHECK(task["name"] == "web-prod");
  CHECK(task["task_id"]["value"] == "prod_web.1234");
  CHECK(task["agent_id"]["value"] == "a-1");
  CHECK(task["command"]["shell"] == true);
  CHECK(task["command"]["value"] == "./serve --port $PORT0");
  CHECK(task["command"]["user"] == "nobody");
  CHECK(task["command"]["uris"] == Json::parse(R"([{"value": "https://example.com/app.tgz", "executable": false,
                                                   "extract": true, "cache": false}])"));
  CHECK(task["labels"] == Json::parse(R"({"labels": [{"key": "team-name", "value": "core"}]})"));
  CHECK(task["discovery"] == Json::parse(R"({"visibility": "FRAMEWORK", "name": "web-prod", "ports": {"ports": [
      {"number": 31000, "name": "http", "protocol": "tcp"},
      {"number": 31001, "protocol": "udp"}, {"number": 31001, "protocol": "tcp"}]}})"));
  CHECK_FALSE(task.contains("health_check"));
}

TEST_CASE("offer: the task environment has Marathon's variables") {
  auto a = app(R"({"env": {"FOO": "bar", "PORT_HTTP": "mine"}, "version": "2015-04-02T09:37:00.596Z",
                  "labels": {"team-name": "core", "tier": "1"},
                  "portDefinitions": [{"port": 0, "name": "http"}, {"port": 10001, "name": "admin.port"}]})");
  auto o = offer("cpus:4;mem:1024;ports:[31000-31005]");
  LaunchRequest request{&a, "prod_web.77", "*", {{"MESOS_DNS_DOMAIN", "mesos"}, {"FOO", "extra"}}};
  auto plan = planOf(matchOffer(request, o, o.resources, {}));
  auto env = envOf(plan.taskInfo);
  const std::map<std::string, std::string> expected = {
      {"FOO", "extra"},  // extraEnv comes last and replaces
      {"PORT_HTTP", "mine"},  // the app's env wins over Marathon's
      {"MESOS_DNS_DOMAIN", "mesos"},
      {"MARATHON_APP_ID", "/prod/web"},
      {"MARATHON_APP_VERSION", "2015-04-02T09:37:00.596Z"},
      {"MARATHON_APP_RESOURCE_CPUS", "0.5"},
      {"MARATHON_APP_RESOURCE_MEM", "64.0"},
      {"MARATHON_APP_RESOURCE_DISK", "0.0"},
      {"MARATHON_APP_RESOURCE_GPUS", "0"},
      {"MARATHON_APP_LABELS", "TEAM_NAME TIER"},
      {"MARATHON_APP_LABEL_TEAM_NAME", "core"},
      {"MARATHON_APP_LABEL_TIER", "1"},
      {"MESOS_TASK_ID", "prod_web.77"},
      {"HOST", "node1.example"},
      {"PORT0", "31000"},
      {"PORT1", "31001"},
      {"PORT", "31000"},
      {"PORTS", "31000,31001"},
      {"PORT_31000", "31000"},  // a dynamic port is named after itself
      {"PORT_10001", "31001"},  // a declared (service) port names its host port
      {"PORT_ADMIN_PORT", "31001"},
  };
  CHECK(env == expected);
  // The extra variables come last (the agent applies variables in order, the last one wins).
  const Json& vars = plan.taskInfo["command"]["environment"]["variables"];
  REQUIRE(vars.size() >= 2);
  CHECK(vars[vars.size() - 2]["name"] == "FOO");
  CHECK(vars.back()["name"] == "MESOS_DNS_DOMAIN");
}

TEST_CASE("offer: the agent accepts the TaskInfo and its process sees the host ports") {
  auto a = app(R"({"portDefinitions": [{"port": 9000}, {"port": 8000}], "requirePorts": true})");
  auto o = offer("cpus:1;mem:128;ports:[8000-8000,9000-9000]");
  auto plan = planOf(match(a, o));
  CHECK(plan.hostPorts == std::vector<uint32_t>{9000, 8000});
  auto spec = kernel::buildLaunchSpec(plan.taskInfo, {"fw", "a-1", "node1.example", "c-1", "/tmp/sandbox", "", ""});
  REQUIRE(spec.ok());
  auto has = [&](const std::string& var) {
    return std::find(spec->environment.begin(), spec->environment.end(), var) != spec->environment.end();
  };
  CHECK(has("PORT0=9000"));
  CHECK(has("PORT1=8000"));
  CHECK(has("PORTS=9000,8000"));
  CHECK(has("MARATHON_APP_ID=/prod/web"));
}

TEST_CASE("offer: args run without a shell") {
  Json json = {{"id", "/tools/echo"}, {"args", {"/bin/echo", "hello", "world"}}, {"cpus", 0.1}, {"mem", 16}};
  auto a = parseApp(json);
  REQUIRE(a.ok());
  auto plan = planOf(match(*a, offer("cpus:1;mem:128;ports:[31000-31000]")));
  CHECK(plan.taskInfo["command"]["shell"] == false);
  CHECK(plan.taskInfo["command"]["value"] == "/bin/echo");
  CHECK(plan.taskInfo["command"]["arguments"] == Json({"/bin/echo", "hello", "world"}));
}

TEST_CASE("offer: the first health check becomes the task's Mesos health check") {
  struct Case {
    const char* checks;
    const char* expected;  // null: no health check
  };
  const Case cases[] = {
      {R"([{"protocol": "MESOS_HTTP", "path": "/health", "portIndex": 1}, {"protocol": "TCP"}])",
       R"({"type": "HTTP", "http": {"port": 31001, "path": "/health"}, "delay_seconds": 15, "interval_seconds": 60,
           "timeout_seconds": 20, "grace_period_seconds": 300, "consecutive_failures": 3})"},
      {R"([{"protocol": "HTTP", "intervalSeconds": 5, "timeoutSeconds": 2, "maxConsecutiveFailures": 7,
            "gracePeriodSeconds": 10, "delaySeconds": 1}])",
       // Marathon-run protocols (HTTP, HTTPS, TCP) start at once: delaySeconds is for MESOS_* only.
       R"({"type": "HTTP", "http": {"port": 31000, "path": "/"}, "delay_seconds": 0, "interval_seconds": 5,
           "timeout_seconds": 2, "grace_period_seconds": 10, "consecutive_failures": 7})"},
      {R"([{"protocol": "MESOS_TCP", "port": 7070}])",
       R"({"type": "TCP", "tcp": {"port": 7070}, "delay_seconds": 15, "interval_seconds": 60,
           "timeout_seconds": 20, "grace_period_seconds": 300, "consecutive_failures": 3})"},
      {R"([{"protocol": "COMMAND", "command": {"value": "curl -f localhost:$PORT0"}}])",
       R"({"type": "COMMAND", "command": {"shell": true, "value": "curl -f localhost:$PORT0"}, "delay_seconds": 15,
           "interval_seconds": 60, "timeout_seconds": 20, "grace_period_seconds": 300, "consecutive_failures": 3})"},
      {R"([{"protocol": "MESOS_HTTPS", "portIndex": 0}])", nullptr},  // checked below: scheme https
      {R"([{"protocol": "TCP", "portIndex": 5}])", nullptr},
      {R"([])", nullptr},
  };
  for (const auto& c : cases) {
    CAPTURE(c.checks);
    auto a = app(std::string(R"({"portDefinitions": [{"port": 0}, {"port": 0}], "healthChecks": )") + c.checks + "}");
    auto plan = planOf(match(a, offer("cpus:1;mem:128;ports:[31000-31005]")));
    const Json& task = plan.taskInfo;
    if (!c.expected) {
      if (std::string(c.checks).find("HTTPS") != std::string::npos) {
        REQUIRE(task.contains("health_check"));
        CHECK(task["health_check"]["http"]["scheme"] == "https");
        CHECK(task["health_check"]["http"]["port"] == 31000);
      } else {
        CHECK_FALSE(task.contains("health_check"));
      }
      continue;
    }
    REQUIRE(task.contains("health_check"));
    CHECK(task["health_check"] == Json::parse(c.expected));
    // Our executor must accept what we send it.
    auto parsed = kernel::parseHealthCheck(task["health_check"]);
    CHECK_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error().message));
  }
}

TEST_CASE("offer: each refusal reason") {
  struct Case {
    const char* name;
    const char* app;
    const char* resources;
    std::vector<std::string> reasons;
  };
  const std::vector<Case> cases = {
      {"docker", R"({"container": {"type": "DOCKER", "docker": {"image": "nginx"}}})", "cpus:4;mem:1024;ports:[1-10]",
       {"NoDockerContainerizer"}},
      {"reserved only", "{}", "cpus(ads):4;mem(ads):1024;ports(ads):[1-10]", {"UnfulfilledRole", "InsufficientCpus",
                                                                          "InsufficientMemory", "InsufficientPorts"}},
      {"constraint", R"({"constraints": [["hostname", "LIKE", "other.*"]]})", "cpus:4;mem:1024;ports:[1-10]",
       {"UnfulfilledConstraint"}},
      {"cpus", R"({"cpus": 4.001})", "cpus:4;mem:1024;ports:[1-10]", {"InsufficientCpus"}},
      {"mem", R"({"mem": 2048})", "cpus:4;mem:1024;ports:[1-10]", {"InsufficientMemory"}},
      {"disk", R"({"disk": 1})", "cpus:4;mem:1024;ports:[1-10]", {"InsufficientDisk"}},
      {"gpus", R"({"gpus": 1})", "cpus:4;mem:1024;ports:[1-10]", {"InsufficientGpus"}},
      {"no ports", "{}", "cpus:4;mem:1024", {"InsufficientPorts"}},
      {"too few ports", R"({"portDefinitions": [{"port": 0}, {"port": 0}]})", "cpus:4;mem:1024;ports:[5-5]",
       {"InsufficientPorts"}},
      {"several", R"({"cpus": 8, "mem": 4096, "disk": 5, "constraints": [["rack", "IS", "r2"]]})",
       "cpus:4;mem:1024;disk:1;ports:[1-10]",
       {"UnfulfilledConstraint", "InsufficientCpus", "InsufficientMemory", "InsufficientDisk"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto a = app(c.app);
    auto result = match(a, offer(c.resources, Json::parse(R"([{"name": "rack", "type": "TEXT", "text": {"value": "r1"}}])")));
    CHECK(reasonsOf(result) == c.reasons);
    if (auto* refusals = std::get_if<std::vector<Refusal>>(&result)) {
      for (const auto& r : *refusals) CHECK_FALSE(r.message.empty());
    }
  }
}

TEST_CASE("offer: requirePorts needs the declared port itself") {
  auto a = app(R"({"portDefinitions": [{"port": 8080}, {"port": 0}], "requirePorts": true})");
  auto present = planOf(match(a, offer("cpus:1;mem:128;ports:[8079-8081]")));
  CHECK(present.hostPorts == std::vector<uint32_t>{8080, 8079});  // the dynamic port never takes 8080
  CHECK(present.consumed == res("cpus:0.5;mem:64;ports:[8079-8080]"));
  CHECK(reasonsOf(match(a, offer("cpus:1;mem:128;ports:[31000-32000]"))) == std::vector<std::string>{"InsufficientPorts"});
  // Without requirePorts the declared port is a service port: any host port will do.
  auto loose = app(R"({"portDefinitions": [{"port": 8080}], "requirePorts": false})");
  CHECK(planOf(match(loose, offer("cpus:1;mem:128;ports:[31000-32000]"))).hostPorts == std::vector<uint32_t>{31000});
}

TEST_CASE("offer: accepted roles choose which resources are used, reserved ones first") {
  // Unreserved resources come first in the offer, so that taking reserved ones first is a choice.
  const std::string mixed = "cpus:4;cpus(prod):0.25;mem:1024;mem(prod):1024;ports:[31000-31010];ports(prod):[5000-5000]";
  SUBCASE("the default takes only unreserved resources") {
    auto plan = planOf(match(app(), offer(mixed, Json::array(), "prod"), {}, "prod"));
    CHECK(plan.consumed == res("cpus:0.5;mem:64;ports:[31000-31000]", "prod"));
  }
  SUBCASE("a reserved role alone") {
    auto a = app(R"({"acceptedResourceRoles": ["prod"], "cpus": 0.25})");
    auto plan = planOf(match(a, offer(mixed, Json::array(), "prod"), {}, "prod"));
    CHECK(plan.consumed == res("cpus(prod):0.25;mem(prod):64;ports(prod):[5000-5000]", "prod"));
    CHECK(plan.hostPorts == std::vector<uint32_t>{5000});
    // Not enough cpus reserved, and unreserved ones are not accepted.
    CHECK(reasonsOf(match(app(R"({"acceptedResourceRoles": ["prod"]})"), offer(mixed, Json::array(), "prod"), {}, "prod")) ==
          std::vector<std::string>{"InsufficientCpus"});
  }
  SUBCASE("both roles: reserved first, the rest unreserved") {
    auto a = app(R"({"acceptedResourceRoles": ["prod", "*"], "portDefinitions": [{"port": 0}, {"port": 0}]})");
    auto o = offer(mixed, Json::array(), "prod");
    auto plan = planOf(match(a, o, {}, "prod"));
    CHECK(plan.consumed == res("cpus(prod):0.25;cpus:0.25;mem(prod):64;ports(prod):[5000-5000];ports:[31000-31000]", "prod"));
    CHECK(plan.hostPorts == std::vector<uint32_t>{5000, 31000});
    CHECK(o.resources.contains(plan.consumed));
  }
  SUBCASE("an accepted role the offer lacks") {
    auto a = app(R"({"acceptedResourceRoles": ["other"]})");
    CHECK(reasonsOf(match(a, offer("cpus:4;mem:1024;ports:[1-5]"))).front() == "UnfulfilledRole");
  }
}

TEST_CASE("offer: only what remains of the offer is used") {
  auto a = app();
  auto o = offer("cpus:1.2;mem:128;ports:[31000-31001]");
  LaunchRequest request{&a, "t1", "*", {}};
  auto first = planOf(matchOffer(request, o, o.resources, {}));
  Resources remaining = o.resources - first.consumed;
  auto second = planOf(matchOffer(request, o, remaining, {}));
  CHECK(second.hostPorts == std::vector<uint32_t>{31001});
  CHECK(remaining.contains(second.consumed));
  remaining -= second.consumed;
  CHECK(reasonsOf(matchOffer(request, o, remaining, {})) ==
        std::vector<std::string>{"InsufficientCpus", "InsufficientMemory", "InsufficientPorts"});
}

TEST_CASE("offer: constraints see the offer's attributes and the placed instances") {
  auto a = app(R"({"constraints": [["hostname", "UNIQUE"], ["cores", "IS", "3"]]})");
  Json attrs = Json::parse(R"([{"name": "cores", "type": "SCALAR", "scalar": {"value": 3.0}},
                               {"name": "slots", "type": "RANGES", "ranges": {"range": [{"begin": 1, "end": 2}]}},
                               {"name": "zones", "type": "SET", "set": {"item": ["a", "b"]}}])");
  auto o = offer("cpus:4;mem:1024;ports:[1-10]", attrs);
  CHECK(o.agent.attributes == std::map<std::string, std::string>{{"cores", "3"}, {"slots", "[1-2]"}, {"zones", "{a,b}"}});
  CHECK(o.agent.hostname == "node1.example");
  CHECK(std::holds_alternative<LaunchPlan>(match(a, o)));
  PlacedInstance here{"a-1", "node1.example", o.agent.attributes};
  CHECK(reasonsOf(match(a, o, {here})) == std::vector<std::string>{"UnfulfilledConstraint"});
}

TEST_CASE("offer: malformed offers name the field") {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"agent_id": {"value": "a"}, "hostname": "h", "resources": []})", "/id/value"},
      {R"({"id": {"value": "o"}, "hostname": "h", "resources": []})", "/agent_id/value"},
      {R"({"id": {"value": "o"}, "agent_id": {"value": "a"}, "hostname": 5, "resources": []})", "/hostname"},
      {R"({"id": {"value": "o"}, "agent_id": {"value": "a"}, "hostname": "h", "resources": [{"name": "cpus"}]})",
       "/resources/0/scalar/value"},
      {R"({"id": {"value": "o"}, "agent_id": {"value": "a"}, "hostname": "h", "resources": [],
           "attributes": [{"name": "x", "type": "SCALAR", "scalar": {"value": "3"}}]})", "/attributes/0/scalar/value"},
  };
  for (const auto& [json, field] : cases) {
    CAPTURE(field);
    auto parsed = parseOffer(Json::parse(json));
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    CHECK_MESSAGE(parsed.error().message.find(field) != std::string::npos, parsed.error().message);
  }
}

TEST_CASE("offer: task ids are Marathon's and lead back to their app") {
  std::string id = newTaskId("/prod/my.web");
  CHECK(std::regex_match(id, std::regex(R"(prod_my\.web\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})")));
  CHECK(appIdFromTaskId(id) == "/prod/my.web");
  CHECK(appIdFromTaskId(newTaskId("/web")) == "/web");
  CHECK(newTaskId("/web") != newTaskId("/web"));
  CHECK(appIdFromTaskId("prod_web.x") == "/prod/web");
  CHECK(appIdFromTaskId("no-dot") == "");
}
