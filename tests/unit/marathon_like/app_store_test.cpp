#include "marathon_like/app_store.hpp"

#include "common/store/sqlite.hpp"
#include "tests/support/support.hpp"

#include "tests/unit/marathon_like/store_test_support.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace dcos;
using namespace dcos::marathon;
using dcos::marathon::store_test::makeApp;
using dcos::marathon::store_test::ts;

namespace {

std::unique_ptr<AppStore> openStore(const std::string& path = ":memory:") {
  auto store = AppStore::open(path);
  REQUIRE(store.ok());
  return std::move(*store);
}

}  // namespace

TEST_CASE("app store: put, get and list round trip with Marathon's defaults") {
  auto store = openStore();
  auto web = makeApp("/prod/web");
  web.env["MODE"] = "prod";
  web.instances = 3;
  REQUIRE(store->put(web, ts(4, 123)).ok());
  REQUIRE(store->put(makeApp("/api"), ts(5)).ok());

  auto got = store->get("/prod/web");
  REQUIRE(got);
  CHECK(got->version == std::optional<std::string>("2026-11-25T17:03:04.123Z"));
  AppDefinition expected = web;
  expected.version = ts(4, 123);
  CHECK(*got == expected);
  CHECK(got->mem == 128);
  CHECK(got->backoffFactor == doctest::Approx(1.15));
  CHECK(got->portDefinitions.size() == 1);
  CHECK(got->killSelection == "YOUNGEST_FIRST");

  auto all = store->list();
  REQUIRE(all.size() == 2);
  CHECK(all[0].id == "/api");
  CHECK(all[1].id == "/prod/web");
  CHECK_FALSE(store->get("/missing"));
  CHECK(store->versions("/missing").empty());
}

TEST_CASE("app store: versions newest first, old versions readable, current is the last put") {
  auto store = openStore();
  REQUIRE(store->put(makeApp("/web", "v1"), ts(1)).ok());
  REQUIRE(store->put(makeApp("/web", "v2"), ts(2)).ok());
  REQUIRE(store->put(makeApp("/web", "v3"), ts(3)).ok());

  CHECK(store->versions("/web") == std::vector<std::string>{ts(3), ts(2), ts(1)});
  REQUIRE(store->get("/web"));
  CHECK(store->get("/web")->cmd == std::optional<std::string>("v3"));

  auto old = store->getVersion("/web", ts(1));
  REQUIRE(old);
  CHECK(old->cmd == std::optional<std::string>("v1"));
  CHECK(old->version == std::optional<std::string>(ts(1)));
  CHECK_FALSE(store->getVersion("/web", ts(9)));
  CHECK(store->list().size() == 1);
}

TEST_CASE("app store: a duplicate version is a conflict and changes nothing") {
  auto store = openStore();
  REQUIRE(store->put(makeApp("/web", "first"), ts(1)).ok());
  auto again = store->put(makeApp("/web", "second"), ts(1));
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kConflict);
  CHECK(store->get("/web")->cmd == std::optional<std::string>("first"));
  CHECK(store->versions("/web").size() == 1);
  // The same timestamp for another app is fine.
  CHECK(store->put(makeApp("/other"), ts(1)).ok());
}

TEST_CASE("app store: malformed versions and ids are refused") {
  auto store = openStore();
  for (const std::string bad : {"", "2026-11-25T17:03:04Z", "2026-11-25 17:03:04.123Z", "yesterday"}) {
    auto r = store->put(makeApp("/web"), bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
  }
  AppDefinition noId;
  CHECK(store->put(noId, ts(1)).error().code == ErrorCode::kInvalidArgument);
  CHECK(store->list().empty());
}

TEST_CASE("app store: remove drops the app and all its versions") {
  auto store = openStore();
  REQUIRE(store->put(makeApp("/web"), ts(1)).ok());
  REQUIRE(store->put(makeApp("/web", "x"), ts(2)).ok());
  REQUIRE(store->put(makeApp("/db"), ts(1)).ok());
  REQUIRE(store->remove("/web").ok());
  CHECK_FALSE(store->get("/web"));
  CHECK(store->versions("/web").empty());
  CHECK_FALSE(store->getVersion("/web", ts(1)));
  CHECK(store->list().size() == 1);

  auto again = store->remove("/web");
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kNotFound);
  // The id can be reused, versions start afresh.
  REQUIRE(store->put(makeApp("/web"), ts(1)).ok());
  CHECK(store->versions("/web") == std::vector<std::string>{ts(1)});
}

TEST_CASE("app store: old versions are pruned to maxVersions on put") {
  auto store = openStore();
  CHECK(store->maxVersions() == 50);
  store->setMaxVersions(3);
  for (int i = 1; i <= 5; ++i) REQUIRE(store->put(makeApp("/web", "v" + std::to_string(i)), ts(i)).ok());
  CHECK(store->versions("/web") == std::vector<std::string>{ts(5), ts(4), ts(3)});
  CHECK_FALSE(store->getVersion("/web", ts(1)));
  CHECK(store->get("/web")->cmd == std::optional<std::string>("v5"));

  // Pruning is per app.
  REQUIRE(store->put(makeApp("/db"), ts(1)).ok());
  CHECK(store->versions("/db").size() == 1);

  // Keeping one version still keeps the current one.
  store->setMaxVersions(0);
  REQUIRE(store->put(makeApp("/web", "v6"), ts(6)).ok());
  CHECK(store->versions("/web") == std::vector<std::string>{ts(6)});
}

TEST_CASE("app store: a put with an older timestamp becomes current and is never pruned") {
  auto store = openStore();
  store->setMaxVersions(2);
  REQUIRE(store->put(makeApp("/web", "a"), ts(5)).ok());
  REQUIRE(store->put(makeApp("/web", "b"), ts(6)).ok());
  REQUIRE(store->put(makeApp("/web", "c"), ts(1)).ok());
  CHECK(store->get("/web")->cmd == std::optional<std::string>("c"));
  CHECK(store->versions("/web") == std::vector<std::string>{ts(6), ts(5), ts(1)});
}

TEST_CASE("app store: a file database persists across reopen") {
  test::TempDir dir;
  const std::string path = dir.file("apps.db");
  {
    auto store = openStore(path);
    REQUIRE(store->put(makeApp("/web", "v1"), ts(1)).ok());
    REQUIRE(store->put(makeApp("/web", "v2"), ts(2)).ok());
    REQUIRE(store->put(makeApp("/db"), ts(3)).ok());
  }
  auto store = openStore(path);
  CHECK(store->versions("/web") == std::vector<std::string>{ts(2), ts(1)});
  CHECK(store->get("/web")->cmd == std::optional<std::string>("v2"));
  CHECK(store->getVersion("/web", ts(1))->cmd == std::optional<std::string>("v1"));
  CHECK(store->list().size() == 2);
}

TEST_CASE("app store: a stored row that no longer parses is skipped") {
  test::TempDir dir;
  const std::string path = dir.file("apps.db");
  auto store = openStore(path);
  REQUIRE(store->put(makeApp("/good"), ts(1)).ok());
  REQUIRE(store->put(makeApp("/web", "v1"), ts(1)).ok());
  {
    auto db = store::Database::open(path);
    REQUIRE(db.ok());
    // Not JSON at all, as the current version of /bad.
    REQUIRE((*db)->exec("INSERT INTO app_versions VALUES ('/bad', '2026-11-25T17:03:09.000Z', '{not json');"
                        "INSERT INTO apps VALUES ('/bad', '2026-11-25T17:03:09.000Z');").ok());
    // Valid JSON but an invalid app, as a newer current version of /web.
    REQUIRE((*db)->exec("INSERT INTO app_versions VALUES ('/web', '2026-11-25T17:03:02.000Z',"
                        " '{\"id\": \"/web\", \"cmd\": \"x\", \"cpus\": -1}');"
                        "UPDATE apps SET version = '2026-11-25T17:03:02.000Z' WHERE id = '/web';").ok());
  }
  CHECK_FALSE(store->get("/bad"));
  CHECK_FALSE(store->get("/web"));
  CHECK(store->getVersion("/web", ts(1))->cmd == std::optional<std::string>("v1"));
  CHECK(store->versions("/web") == std::vector<std::string>{ts(2), ts(1)});
  auto all = store->list();
  REQUIRE(all.size() == 1);
  CHECK(all[0].id == "/good");
  // Storing over it recovers the app.
  REQUIRE(store->put(makeApp("/web", "v3"), ts(3)).ok());
  CHECK(store->get("/web")->cmd == std::optional<std::string>("v3"));
}

TEST_CASE("app store: works on a shared database and joins its transactions") {
  std::shared_ptr<store::Database> db;
  {
    auto opened = store::Database::open(":memory:");
    REQUIRE(opened.ok());
    db = std::move(*opened);
  }
  auto migrations = AppStore::migrations();
  REQUIRE(migrations.size() == 1);
  CHECK(migrations[0].version == 1);
  migrations.push_back({2, "CREATE TABLE other (id TEXT PRIMARY KEY);"});
  REQUIRE(db->migrate(migrations).ok());
  AppStore store(db);

  auto failed = db->transaction([&]() -> Result<void> {
    if (auto r = store.put(makeApp("/web"), ts(1)); !r) return r;
    if (auto r = db->exec("INSERT INTO other VALUES ('x')"); !r) return r;
    return Error(ErrorCode::kConflict, "refused");
  });
  REQUIRE_FALSE(failed.ok());
  CHECK_FALSE(store.get("/web"));
  CHECK(store.list().empty());

  REQUIRE(db->transaction([&]() -> Result<void> { return store.put(makeApp("/web"), ts(1)); }).ok());
  CHECK(store.get("/web"));
}

TEST_CASE("app store: open refuses a database with later migrations than its own") {
  test::TempDir dir;
  const std::string path = dir.file("shared.db");
  {
    auto db = store::Database::open(path);
    REQUIRE(db.ok());
    auto migrations = AppStore::migrations();
    migrations.push_back({2, "CREATE TABLE other (id TEXT PRIMARY KEY);"});
    REQUIRE((*db)->migrate(migrations).ok());
  }
  auto store = AppStore::open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ErrorCode::kConflict);
}
