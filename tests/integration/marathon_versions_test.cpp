// The service scheduler's read side and bulk operations: app versions, list filters, groups
// (show, scaleBy, delete) and killing all tasks of an app.
#include "tests/support/marathon.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace dcos::test;
using nlohmann::json;

namespace {

std::vector<std::string> listedIds(const JsonReply& r) {
  std::vector<std::string> out;
  for (const auto& a : r.json["apps"]) out.push_back(a["id"]);
  return out;
}

}  // namespace

TEST_CASE("every change of an app is a version; old versions can be read back; lists filter by id, cmd and label") {
  MarathonCluster c(1);
  int port = c.port();
  json a = appDef("/shop/web", "sleep 600", 0);
  a["labels"] = {{"tier", "front"}};
  REQUIRE(mPost(port, "/v2/apps", a).status == 201);
  REQUIRE(mPost(port, "/v2/apps", appDef("/shop/db", "sleep 700", 0)).status == 201);
  std::string first = jstr(mGet(port, "/v2/apps/shop/web").json["app"], "version");
  JsonReply changed = mPut(port, "/v2/apps/shop/web", {{"cmd", "sleep 601"}});
  REQUIRE_MESSAGE(changed.status == 200, changed.text());
  std::string second = jstr(changed.json, "version");
  CHECK(second > first);

  JsonReply versions = mGet(port, "/v2/apps/shop/web/versions");
  REQUIRE(versions.status == 200);
  CHECK(versions.json["versions"] == json::array({second, first}));  // newest first
  JsonReply old = mGet(port, "/v2/apps/shop/web/versions/" + first);
  REQUIRE(old.status == 200);
  CHECK(old.json["cmd"] == "sleep 600");
  CHECK(mGet(port, "/v2/apps/shop/web/versions/" + second).json["cmd"] == "sleep 601");
  CHECK(mGet(port, "/v2/apps/shop/web/versions/2001-01-01T00:00:00.000Z").status == 404);
  CHECK(mGet(port, "/v2/apps/nope/versions").status == 404);

  CHECK(listedIds(mGet(port, "/v2/apps?id=web")) == std::vector<std::string>{"/shop/web"});
  CHECK(listedIds(mGet(port, "/v2/apps?cmd=sleep%20700")) == std::vector<std::string>{"/shop/db"});
  CHECK(listedIds(mGet(port, "/v2/apps?label=tier")) == std::vector<std::string>{"/shop/web"});
  CHECK(listedIds(mGet(port, "/v2/apps?label=tier!=front")) == std::vector<std::string>{"/shop/db"});
  CHECK(listedIds(mGet(port, "/v2/apps")).size() == 2);
  // Marathon's paths work under /marathon too.
  CHECK(listedIds(mGet(port, "/marathon/v2/apps?id=db")) == std::vector<std::string>{"/shop/db"});
}

TEST_CASE("groups: the tree, scaleBy, and deleting a group removes its apps and their tasks") {
  MarathonCluster c(1);
  int port = c.port();
  json group = {{"id", "/team"},
                {"apps", json::array({appDef("a", sleeperCmd(c.dir, "a"), 1), appDef("b", sleeperCmd(c.dir, "b"), 1)})},
                {"groups", json::array({{{"id", "inner"}, {"apps", json::array({appDef("c", sleeperCmd(c.dir, "c"), 1)})}}})}};
  JsonReply created = mPost(port, "/v2/groups", group);
  REQUIRE_MESSAGE(created.status == 201, created.text());
  CHECK(mPost(port, "/v2/groups", group).status == 409);
  REQUIRE(waitFor([&] { return allTasks(port).size() == 3 && countRunning(allTasks(port)) == 3; }, 20s));
  REQUIRE(waitForNoDeployments(port, 10s));

  JsonReply tree = mGet(port, "/v2/groups/team");
  REQUIRE(tree.status == 200);
  CHECK(tree.json["id"] == "/team");
  CHECK(tree.json["apps"].size() == 2);
  REQUIRE(tree.json["groups"].size() == 1);
  CHECK(tree.json["groups"][0]["id"] == "/team/inner");
  CHECK(tree.json["groups"][0]["apps"][0]["id"] == "/team/inner/c");
  CHECK(mGet(port, "/v2/groups").json["groups"][0]["id"] == "/team");

  CHECK(mPut(port, "/v2/groups/team", {{"scaleBy", "twice"}}).status == 422);
  CHECK(mGet(port, "/v2/apps").json["apps"].size() == 3);  // nothing replaced
  JsonReply scaled = mPut(port, "/v2/groups/team", {{"scaleBy", 2}});
  REQUIRE_MESSAGE(scaled.status == 200, scaled.text());
  CHECK(waitFor([&] { return countRunning(allTasks(port)) == 6; }, 20s));
  CHECK(mGet(port, "/v2/apps/team/inner/c").json["app"]["instances"] == 2);

  // Killing all tasks of one app with scale=true leaves it at 0 instances.
  JsonReply killAll = mDelete(port, "/v2/apps/team/a/tasks?scale=true");
  REQUIRE_MESSAGE(killAll.status == 200, killAll.text());
  CHECK(waitFor([&] { return appTasks(port, "/team/a").empty(); }, 20s));
  CHECK(mGet(port, "/v2/apps/team/a").json["app"]["instances"] == 0);

  JsonReply removed = mDelete(port, "/v2/groups/team");
  REQUIRE_MESSAGE(removed.status == 200, removed.text());
  CHECK(waitFor([&] { return allTasks(port).empty(); }, 20s));
  CHECK(waitForNoDeployments(port, 10s));
  CHECK(mGet(port, "/v2/groups/team").status == 404);
  CHECK(mGet(port, "/v2/apps").json["apps"].empty());
  CHECK(waitFor([&] { return alivePids(c.dir, "a") + alivePids(c.dir, "b") + alivePids(c.dir, "c") == 0; }, 10s));
}
