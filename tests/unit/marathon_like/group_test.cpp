#include "marathon_like/group.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace dcos;
using namespace dcos::marathon;

namespace {

Group parsed(const std::string& text, const std::string& parent = "/") {
  auto g = parseGroup(Json::parse(text), parent);
  if (!g.ok()) FAIL_CHECK(errorBody(g.error()).dump());
  REQUIRE(g.ok());
  return *g;
}

std::vector<std::string> errorPaths(const std::string& text, const std::string& parent = "/") {
  auto g = parseGroup(Json::parse(text), parent);
  REQUIRE_FALSE(g.ok());
  CHECK(g.error().code == ErrorCode::kUnprocessable);
  CHECK(g.error().message == "Object is not valid");
  std::vector<std::string> paths;
  for (const auto& d : g.error().details) paths.push_back(d.path);
  return paths;
}

using Paths = std::vector<std::string>;

}  // namespace

TEST_CASE("groups: nested relative ids resolve against the parent group") {
  auto g = parsed(R"({"id": "/prod", "apps": [{"id": "web", "cmd": "x"}, {"id": "/prod/api", "cmd": "x"}],
    "groups": [{"id": "db", "apps": [{"id": "pg", "cmd": "x", "dependencies": ["../web"]}],
                "groups": [{"id": "/prod/db/cache", "apps": [{"id": "redis", "cmd": "x"}]}]}],
    "dependencies": ["/infra"]})");
  CHECK(g.id == "/prod");
  REQUIRE(g.apps.size() == 2);
  CHECK(g.apps[0].id == "/prod/web");
  CHECK(g.apps[1].id == "/prod/api");
  REQUIRE(g.groups.size() == 1);
  CHECK(g.groups[0].id == "/prod/db");
  CHECK(g.groups[0].apps[0].id == "/prod/db/pg");
  CHECK(g.groups[0].apps[0].dependencies == std::vector<std::string>{"/prod/web"});
  CHECK(g.groups[0].groups[0].id == "/prod/db/cache");
  CHECK(g.groups[0].groups[0].apps[0].id == "/prod/db/cache/redis");
  CHECK(g.dependencies == std::vector<std::string>{"/infra"});
  CHECK_FALSE(g.version);

  // Relative to a parent given by the caller (PUT /v2/groups/prod).
  auto sub = parsed(R"({"id": "web", "apps": [{"id": "a", "cmd": "x"}]})", "/prod");
  CHECK(sub.id == "/prod/web");
  CHECK(sub.apps[0].id == "/prod/web/a");
  // A top-level group without an id is the parent itself.
  CHECK(parsed(R"({"apps": []})", "/prod").id == "/prod");
  CHECK(parsed(R"({})").id == "/");
}

TEST_CASE("groups: absolute ids outside the parent are refused") {
  CHECK(errorPaths(R"({"id": "/prod", "apps": [{"id": "/other/web", "cmd": "x"}]})") == Paths{"/apps/0/id"});
  CHECK(errorPaths(R"({"id": "/prod", "groups": [{"id": "/staging"}]})") == Paths{"/groups/0/id"});
  CHECK(errorPaths(R"({"id": "/prod", "groups": [{"id": "../staging"}]})") == Paths{"/groups/0/id"});
  CHECK(errorPaths(R"({"id": "/prod", "groups": [{"id": "/prod"}]})") == Paths{"/groups/0/id"});
  CHECK(errorPaths(R"({"id": "/prod", "apps": [{"id": "/prod", "cmd": "x"}]})") == Paths{"/apps/0/id"});
  CHECK(errorPaths(R"({"id": "/other"})", "/prod") == Paths{"/id"});
  CHECK(errorPaths(R"({"id": "/prod", "groups": [{"apps": []}]})") == Paths{"/groups/0/id"});
  CHECK(errorPaths(R"({"id": "/prod", "groups": [{"id": "Bad_Name"}]})") == Paths{"/groups/0/id"});
}

TEST_CASE("groups: every violation is reported with its full path") {
  auto paths = errorPaths(R"({"id": "/prod",
    "apps": [{"id": "web", "cmd": "x", "cpus": -1}, {"id": "ok", "cmd": "x"}],
    "groups": [{"id": "a"}, {"id": "b", "apps": [{"id": "Bad!", "cmd": "x"}, {"id": "m", "cmd": "x", "mem": "lots"}]}],
    "dependencies": [3]})");
  CHECK(paths == Paths{"/dependencies/0", "/apps/0/cpus", "/groups/1/apps/0/id", "/groups/1/apps/1/mem"});
  CHECK(errorPaths(R"({"id": "/p", "apps": {}, "groups": 1})") == Paths{"/apps", "/groups"});
  CHECK(errorPaths(R"({"id": "/p", "groups": [[]]})") == Paths{"/groups/0"});
  CHECK(errorPaths(R"({"id": "/p", "apps": [7]})") == Paths{"/apps/0"});
  CHECK(errorPaths(R"([])") == Paths{"/"});

  auto g = parseGroup(Json::parse(R"({"id": "/p", "apps": [{"id": "w", "cmd": "x", "cpus": -1}]})"));
  REQUIRE_FALSE(g.ok());
  REQUIRE(g.error().details.size() == 1);
  CHECK(g.error().details[0].errors == std::vector<std::string>{"must be greater than or equal to 0"});
}

TEST_CASE("groups: duplicate ids are violations") {
  CHECK(errorPaths(R"({"id": "/p", "apps": [{"id": "a", "cmd": "x"}, {"id": "/p/a", "cmd": "y"}]})") ==
        Paths{"/apps/1/id"});
  CHECK(errorPaths(R"({"id": "/p", "apps": [{"id": "a", "cmd": "x"}], "groups": [{"id": "a"}]})") ==
        Paths{"/groups/0/id"});
  CHECK(errorPaths(R"({"id": "/p", "groups": [{"id": "a"}, {"id": "/p/a"}]})") == Paths{"/groups/1/id"});
  CHECK(errorPaths(R"({"id": "/p", "groups": [{"id": "a", "apps": [{"id": "b", "cmd": "x"}]},
                                              {"id": "a/b"}]})") == Paths{"/groups/1/id"});
}

TEST_CASE("groups: flattenApps expands group dependencies to app ids") {
  auto g = parsed(R"({"id": "/", "groups": [
      {"id": "db", "apps": [{"id": "pg", "cmd": "x"}, {"id": "redis", "cmd": "x"}],
       "groups": [{"id": "extra", "apps": [{"id": "mongo", "cmd": "x"}]}]},
      {"id": "prod", "dependencies": ["/db", "/external"],
       "apps": [{"id": "web", "cmd": "x", "dependencies": ["api"]}, {"id": "api", "cmd": "x"}],
       "groups": [{"id": "jobs", "dependencies": ["/prod/api"], "apps": [{"id": "cron", "cmd": "x"}]}]}]})");
  auto apps = flattenApps(g);
  REQUIRE(apps.size() == 6);
  CHECK(apps.count("/db/pg") == 1);
  CHECK(apps.at("/db/pg").dependencies.empty());
  CHECK(apps.at("/db/extra/mongo").dependencies.empty());
  CHECK(apps.at("/prod/web").dependencies ==
        std::vector<std::string>{"/prod/api", "/db/pg", "/db/redis", "/db/extra/mongo", "/external"});
  CHECK(apps.at("/prod/api").dependencies ==
        std::vector<std::string>{"/db/pg", "/db/redis", "/db/extra/mongo", "/external"});
  // Inherited from /prod, plus its own group's.
  CHECK(apps.at("/prod/jobs/cron").dependencies ==
        std::vector<std::string>{"/db/pg", "/db/redis", "/db/extra/mongo", "/external", "/prod/api"});

  // A group depending on itself does not make an app depend on itself.
  auto self = parsed(R"({"id": "/s", "groups": [{"id": "g", "dependencies": ["/s/g"],
                         "apps": [{"id": "a", "cmd": "x"}, {"id": "b", "cmd": "x"}]}]})");
  auto flat = flattenApps(self);
  CHECK(flat.at("/s/g/a").dependencies == std::vector<std::string>{"/s/g/b"});
  CHECK(flat.at("/s/g/b").dependencies == std::vector<std::string>{"/s/g/a"});
}

TEST_CASE("groups: JSON round trip") {
  auto g = parsed(R"({"id": "/prod", "version": "2026-11-25T17:03:04.123Z", "dependencies": ["/db"],
    "apps": [{"id": "web", "cmd": "x", "instances": 3, "env": {"A": "b"}}],
    "groups": [{"id": "jobs", "apps": [{"id": "cron", "cmd": "y"}], "dependencies": ["web", "../db"]}]})");
  CHECK(g.version == std::optional<std::string>("2026-11-25T17:03:04.123Z"));
  // A group's dependencies resolve against its parent, as an app's do.
  CHECK(g.groups[0].dependencies == std::vector<std::string>{"/prod/web", "/db"});
  Json j = groupToJson(g);
  CHECK(j["id"] == "/prod");
  CHECK(j["apps"][0] == appToJson(g.apps[0]));
  CHECK(j["groups"][0]["id"] == "/prod/jobs");
  CHECK(j["groups"][0]["dependencies"] == Json::array({"/prod/web", "/db"}));
  CHECK(j["groups"][0].contains("version") == false);
  CHECK(j["dependencies"] == Json::array({"/db"}));
  auto again = parseGroup(j);
  REQUIRE(again.ok());
  CHECK(*again == g);
  CHECK(groupToJson(*again) == j);

  Json empty = groupToJson(parsed(R"({"id": "/e"})"));
  CHECK(empty == Json{{"id", "/e"}, {"apps", Json::array()}, {"groups", Json::array()}, {"dependencies", Json::array()}});
}
