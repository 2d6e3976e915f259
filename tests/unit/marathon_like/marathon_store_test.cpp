#include "marathon_like/marathon_store.hpp"

#include "common/store/sqlite.hpp"
#include "tests/support/support.hpp"

#include "tests/unit/marathon_like/store_test_support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

using namespace dcos;
using namespace dcos::marathon;
using dcos::marathon::store_test::makeApp;
using dcos::marathon::store_test::ts;

namespace {

std::unique_ptr<MarathonStore> openStore(const std::string& path = ":memory:") {
  auto store = MarathonStore::open(path);
  REQUIRE(store.ok());
  return std::move(*store);
}

InstanceRecord makeInstance(const std::string& taskId, const std::string& appId, int64_t stagedAtMs) {
  InstanceRecord r;
  r.taskId = taskId;
  r.appId = appId;
  r.appVersion = ts(1);
  r.configVersion = ts(1);
  r.agentId = "agent-1";
  r.hostname = "10.0.0.1";
  r.stagedAtMs = stagedAtMs;
  return r;
}

// Every kind of record, distinct enough that a swapped column shows.
void fillStore(MarathonStore& store) {
  REQUIRE(store.apps().put(makeApp("/web", "v1"), ts(1)).ok());
  REQUIRE(store.apps().put(makeApp("/web", "v2"), ts(2)).ok());

  InstanceRecord a = makeInstance("web.1", "/web", 2000);
  a.appVersion = ts(2);
  a.configVersion = ts(1);
  a.agentId = "agent-7";
  a.hostname = "node-7.example";
  a.attributes = {{"rack", "r1"}, {"zone", "eu-1a"}};
  a.ports = {31000, 31001, 65535};
  a.state = "TASK_RUNNING";
  a.healthy = true;
  a.startedAtMs = 2500;
  a.unreachableSinceMs = 9000;
  InstanceRecord b = makeInstance("web.2", "/web", 1000);
  b.healthy = false;
  InstanceRecord c = makeInstance("api.1", "/api", 5000);  // healthy unknown, no ports or attributes
  REQUIRE(store.putInstance(a).ok());
  REQUIRE(store.putInstances({b, c}).ok());

  REQUIRE(store.putDeployment({"d-2", ts(9), Json{{"steps", Json::array({"scale"})}, {"current", 1}}}).ok());
  REQUIRE(store.putDeployment({"d-1", ts(3), Json{{"plan", "restart"}}}).ok());
  REQUIRE(store.putGroup("/prod", Json{{"id", "/prod"}, {"dependencies", Json::array({"/db"})}}).ok());
  REQUIRE(store.putGroup("/empty", Json{{"id", "/empty"}}).ok());
  REQUIRE(store.setMeta("framework_id", "fw-123").ok());
  REQUIRE(store.putVersionInfo("/web", ts(2), ts(1)).ok());
}

void checkFilled(const MarathonStore& store) {
  REQUIRE(store.apps().get("/web"));
  CHECK(store.apps().get("/web")->cmd == std::optional<std::string>("v2"));
  CHECK(store.apps().versions("/web") == std::vector<std::string>{ts(2), ts(1)});

  auto all = store.instances();
  REQUIRE(all.size() == 3);
  // appId first, then stagedAtMs: /api, then web.2 (staged 1000) before web.1 (2000).
  CHECK(all[0].taskId == "api.1");
  CHECK(all[1].taskId == "web.2");
  CHECK(all[2].taskId == "web.1");
  CHECK_FALSE(all[0].healthy.has_value());
  CHECK(all[0].ports.empty());
  CHECK(all[0].attributes.empty());
  CHECK(all[0].state == "TASK_STAGING");
  CHECK(all[1].healthy == std::optional<bool>(false));
  const InstanceRecord& a = all[2];
  CHECK(a.appVersion == ts(2));
  CHECK(a.configVersion == ts(1));
  CHECK(a.agentId == "agent-7");
  CHECK(a.hostname == "node-7.example");
  CHECK(a.attributes == std::map<std::string, std::string>{{"rack", "r1"}, {"zone", "eu-1a"}});
  CHECK(a.ports == std::vector<uint32_t>{31000, 31001, 65535});
  CHECK(a.state == "TASK_RUNNING");
  CHECK(a.healthy == std::optional<bool>(true));
  CHECK(a.stagedAtMs == 2000);
  CHECK(a.startedAtMs == 2500);
  CHECK(a.unreachableSinceMs == 9000);

  auto deployments = store.deployments();
  REQUIRE(deployments.size() == 2);
  CHECK(deployments[0] == DeploymentRecord{"d-1", ts(3), Json{{"plan", "restart"}}});
  CHECK(deployments[1] == DeploymentRecord{"d-2", ts(9), Json{{"steps", Json::array({"scale"})}, {"current", 1}}});

  auto groups = store.groups();
  REQUIRE(groups.size() == 2);
  CHECK(groups.at("/prod") == Json{{"id", "/prod"}, {"dependencies", Json::array({"/db"})}});
  CHECK(groups.at("/empty") == Json{{"id", "/empty"}});
  CHECK(store.meta("framework_id") == std::optional<std::string>("fw-123"));
  CHECK_FALSE(store.meta("missing"));
  CHECK(store.versionInfo("/web") == std::optional(std::pair<std::string, std::string>{ts(2), ts(1)}));
  CHECK_FALSE(store.versionInfo("/api"));
}

}  // namespace

TEST_CASE("marathon store: every kind of record round trips") {
  auto store = openStore();
  CHECK(store->instances().empty());
  CHECK(store->deployments().empty());
  CHECK(store->groups().empty());
  fillStore(*store);
  checkFilled(*store);
}

TEST_CASE("marathon store: puts replace by key and removes are idempotent") {
  auto store = openStore();
  fillStore(*store);

  InstanceRecord b = makeInstance("web.2", "/web", 1000);
  b.state = "TASK_RUNNING";
  b.healthy = true;
  b.ports = {80};
  REQUIRE(store->putInstance(b).ok());
  auto all = store->instances();
  REQUIRE(all.size() == 3);
  CHECK(all[1] == b);

  REQUIRE(store->removeInstance("web.2").ok());
  REQUIRE(store->removeInstance("web.2").ok());
  REQUIRE(store->removeInstance("never").ok());
  CHECK(store->instances().size() == 2);

  REQUIRE(store->putDeployment({"d-1", ts(4), Json{{"plan", "scale"}}}).ok());
  CHECK(store->deployments()[0] == DeploymentRecord{"d-1", ts(4), Json{{"plan", "scale"}}});
  REQUIRE(store->removeDeployment("d-1").ok());
  REQUIRE(store->removeDeployment("d-1").ok());
  REQUIRE(store->deployments().size() == 1);
  CHECK(store->deployments()[0].id == "d-2");

  REQUIRE(store->removeGroup("/prod").ok());
  REQUIRE(store->removeGroup("/prod").ok());
  CHECK(store->groups().size() == 1);

  REQUIRE(store->setMeta("framework_id", "fw-456").ok());
  CHECK(store->meta("framework_id") == std::optional<std::string>("fw-456"));

  REQUIRE(store->putVersionInfo("/web", ts(5), ts(1)).ok());
  CHECK(store->versionInfo("/web") == std::optional(std::pair<std::string, std::string>{ts(5), ts(1)}));
  REQUIRE(store->removeVersionInfo("/web").ok());
  CHECK_FALSE(store->versionInfo("/web"));
}

TEST_CASE("marathon store: removing an app keeps its instances") {
  auto store = openStore();
  fillStore(*store);
  REQUIRE(store->apps().remove("/web").ok());
  CHECK_FALSE(store->apps().get("/web"));
  CHECK(store->instances().size() == 3);
}

TEST_CASE("marathon store: records without their key are refused") {
  auto store = openStore();
  CHECK(store->putInstance(makeInstance("", "/web", 1)).error().code == ErrorCode::kInvalidArgument);
  CHECK(store->putInstance(makeInstance("t", "", 1)).error().code == ErrorCode::kInvalidArgument);
  // One bad record refuses the whole batch.
  auto batch = store->putInstances({makeInstance("ok", "/web", 1), makeInstance("", "/web", 2)});
  CHECK(batch.error().code == ErrorCode::kInvalidArgument);
  CHECK(store->instances().empty());
  CHECK(store->putDeployment({"", ts(1), Json::object()}).error().code == ErrorCode::kInvalidArgument);
  CHECK(store->putGroup("", Json::object()).error().code == ErrorCode::kInvalidArgument);
  CHECK(store->putVersionInfo("", ts(1), ts(1)).error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("marathon store: a file database gives everything back after reopen") {
  test::TempDir dir;
  const std::string path = dir.file("marathon.db");
  {
    auto store = openStore(path);
    fillStore(*store);
  }
  auto store = openStore(path);
  checkFilled(*store);
  // Migrations ran once: the schema is AppStore's 1 plus the store's own.
  auto db = store::Database::open(path);
  REQUIRE(db.ok());
  auto version = (*db)->schemaVersion();
  REQUIRE(version.ok());
  CHECK(*version == 2);
}

TEST_CASE("marathon store: a failing transaction rolls back the app and the deployment") {
  auto store = openStore();
  REQUIRE(store->apps().put(makeApp("/web", "v1"), ts(1)).ok());

  auto r = store->transaction([&]() -> Result<void> {
    if (auto p = store->apps().put(makeApp("/web", "v2"), ts(2)); !p) return p;
    if (auto p = store->apps().put(makeApp("/api"), ts(2)); !p) return p;
    if (auto p = store->putDeployment({"d-1", ts(2), Json{{"plan", "restart"}}}); !p) return p;
    if (auto p = store->putInstances({makeInstance("web.1", "/web", 1)}); !p) return p;
    // Inside, the writes are visible.
    REQUIRE(store->deployments().size() == 1);
    return Error(ErrorCode::kConflict, "deployment refused");
  });
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "deployment refused");
  CHECK(store->apps().get("/web")->cmd == std::optional<std::string>("v1"));
  CHECK(store->apps().versions("/web") == std::vector<std::string>{ts(1)});
  CHECK_FALSE(store->apps().get("/api"));
  CHECK(store->deployments().empty());
  CHECK(store->instances().empty());

  // The same writes commit together when fn succeeds.
  REQUIRE(store->transaction([&]() -> Result<void> {
    if (auto p = store->apps().put(makeApp("/web", "v2"), ts(2)); !p) return p;
    return store->putDeployment({"d-1", ts(2), Json{{"plan", "restart"}}});
  }).ok());
  CHECK(store->apps().get("/web")->cmd == std::optional<std::string>("v2"));
  CHECK(store->deployments().size() == 1);
}

TEST_CASE("marathon store: rows that no longer parse are skipped") {
  test::TempDir dir;
  const std::string path = dir.file("marathon.db");
  auto store = openStore(path);
  fillStore(*store);
  {
    auto db = store::Database::open(path);
    REQUIRE(db.ok());
    REQUIRE((*db)->exec("UPDATE instances SET attributes = '{not json' WHERE task_id = 'web.1';"
                        "UPDATE instances SET ports = '[80, -1]' WHERE task_id = 'web.2';"
                        "UPDATE deployments SET state = 'garbage' WHERE id = 'd-1';"
                        "UPDATE app_groups SET definition = '{\"id\":' WHERE id = '/prod';").ok());
  }
  auto all = store->instances();
  REQUIRE(all.size() == 1);
  CHECK(all[0].taskId == "api.1");
  auto deployments = store->deployments();
  REQUIRE(deployments.size() == 1);
  CHECK(deployments[0].id == "d-2");
  auto groups = store->groups();
  REQUIRE(groups.size() == 1);
  CHECK(groups.count("/empty") == 1);

  // Writing over a broken row recovers it.
  REQUIRE(store->putInstance(makeInstance("web.1", "/web", 3)).ok());
  CHECK(store->instances().size() == 2);
}

TEST_CASE("marathon store: strings that are not UTF-8 are stored, not thrown") {
  auto store = openStore();
  InstanceRecord r = makeInstance("t.1", "/web", 1);
  r.attributes["rack"] = "r\xff";
  REQUIRE(store->putInstance(r).ok());
  REQUIRE(store->putDeployment({"d", ts(1), Json{{"note", "bad \xc3"}}}).ok());
  REQUIRE(store->instances().size() == 1);
  CHECK(store->instances()[0].attributes.at("rack") != "r\xff");  // replaced by U+FFFD
  CHECK(store->deployments().size() == 1);
}

TEST_CASE("marathon store: putInstances stores 10,000 records in one transaction") {
  test::TempDir dir;
  auto store = openStore(dir.file("marathon.db"));
  std::vector<InstanceRecord> rs;
  rs.reserve(10000);
  for (int i = 0; i < 10000; ++i) {
    InstanceRecord r = makeInstance("task-" + std::to_string(i), "/app-" + std::to_string(i % 100), i);
    r.ports = {static_cast<uint32_t>(31000 + i % 1000)};
    r.attributes = {{"rack", "r" + std::to_string(i % 10)}};
    rs.push_back(std::move(r));
  }
  auto start = std::chrono::steady_clock::now();
  REQUIRE(store->putInstances(rs).ok());
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  MESSAGE("putInstances(10000) on a file took " << elapsed.count() << " ms");
  auto all = store->instances();
  REQUIRE(all.size() == 10000);
  CHECK(all.front().appId == "/app-0");
  CHECK(all.front().stagedAtMs == 0);
  CHECK(all.back().appId == "/app-99");
}
