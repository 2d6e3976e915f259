#include "common/store/sqlite.hpp"

#include "tests/support/support.hpp"

#include <doctest/doctest.h>

using namespace dcos;
using store::Database;
using store::Migration;

namespace {

int64_t count(Database& db, const std::string& table) {
  auto st = db.prepare("SELECT COUNT(*) FROM " + table);
  REQUIRE(st.ok());
  REQUIRE(*st->step());
  return st->columnInt(0);
}

const std::vector<Migration> kSchema = {
    {1, "CREATE TABLE apps (id TEXT PRIMARY KEY, instances INTEGER NOT NULL);"},
    {2, "ALTER TABLE apps ADD COLUMN cmd TEXT; CREATE TABLE tasks (id TEXT PRIMARY KEY, app TEXT);"},
};

}  // namespace

TEST_CASE("migrations apply in order, once, and survive reopening") {
  test::TempDir dir;
  std::string path = dir.file("state.db");
  {
    auto db = Database::open(path);
    REQUIRE(db.ok());
    REQUIRE((*db)->migrate({kSchema[0]}).ok());
    CHECK(*(*db)->schemaVersion() == 1);
  }
  auto db = Database::open(path);
  REQUIRE(db.ok());
  // Given out of order: sorted before applying.
  REQUIRE((*db)->migrate({kSchema[1], kSchema[0]}).ok());
  CHECK(*(*db)->schemaVersion() == 2);
  REQUIRE((*db)->exec("INSERT INTO apps (id, instances, cmd) VALUES ('/web', 2, 'sleep 1')").ok());
  REQUIRE((*db)->migrate(kSchema).ok());  // nothing left to do
  CHECK(count(**db, "apps") == 1);
}

TEST_CASE("a database newer than the binary is refused") {
  test::TempDir dir;
  auto db = Database::open(dir.file("state.db"));
  REQUIRE((*db)->migrate(kSchema).ok());
  auto r = (*db)->migrate({kSchema[0]});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("newer") != std::string::npos);
}

TEST_CASE("a failing migration leaves the schema at the last good version") {
  test::TempDir dir;
  auto db = Database::open(dir.file("state.db"));
  auto r = (*db)->migrate({kSchema[0], {2, "CREATE TABLE ok (x INTEGER); THIS IS NOT SQL;"}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("migration 2") != std::string::npos);
  CHECK(*(*db)->schemaVersion() == 1);
  // The table created before the bad statement was rolled back with it.
  CHECK_FALSE((*db)->prepare("SELECT * FROM ok").ok());
}

TEST_CASE("a failed transaction leaves nothing behind") {
  auto db = Database::open(":memory:");
  REQUIRE((*db)->migrate(kSchema).ok());
  auto r = (*db)->transaction([&]() -> Result<void> {
    auto ins = (*db)->prepare("INSERT INTO apps (id, instances) VALUES (?, ?)");
    if (!ins) return ins.error();
    for (int i = 0; i < 3; ++i) {
      ins->bind(1, "/app" + std::to_string(i)).bind(2, int64_t{i});
      if (auto e = ins->run(); !e) return e;
      ins->reset();
    }
    return Error(ErrorCode::kConflict, "changed my mind");
  });
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "changed my mind");
  CHECK(count(**db, "apps") == 0);
}

TEST_CASE("an exception inside a transaction rolls back and becomes an error") {
  auto db = Database::open(":memory:");
  REQUIRE((*db)->migrate(kSchema).ok());
  auto r = (*db)->transaction([&]() -> Result<void> {
    REQUIRE((*db)->exec("INSERT INTO apps (id, instances) VALUES ('/a', 1)").ok());
    throw std::runtime_error("boom");
  });
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("boom") != std::string::npos);
  CHECK(count(**db, "apps") == 0);
}

TEST_CASE("nested transactions join the outer one") {
  auto db = Database::open(":memory:");
  REQUIRE((*db)->migrate(kSchema).ok());
  auto r = (*db)->transaction([&]() -> Result<void> {
    REQUIRE((*db)->exec("INSERT INTO apps (id, instances) VALUES ('/a', 1)").ok());
    auto inner = (*db)->transaction([&]() -> Result<void> {
      return (*db)->exec("INSERT INTO apps (id, instances) VALUES ('/b', 1)");
    });
    REQUIRE(inner.ok());
    return Error(ErrorCode::kInternal, "outer fails");
  });
  REQUIRE_FALSE(r.ok());
  CHECK(count(**db, "apps") == 0);
}

TEST_CASE("constraint violations are conflicts, and prepared statements bind every type") {
  auto db = Database::open(":memory:");
  REQUIRE((*db)->exec("CREATE TABLE t (k TEXT PRIMARY KEY, i INTEGER, d REAL, b BLOB, n TEXT)").ok());
  auto ins = (*db)->prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?)");
  REQUIRE(ins.ok());
  std::string blob("a\0b", 3);
  ins->bind(1, "k1").bind(2, int64_t{1} << 40).bind(3, 0.25).bindBlob(4, blob).bindNull(5);
  REQUIRE(ins->run().ok());
  ins->reset();
  ins->bind(1, "k1").bind(2, int64_t{0}).bind(3, 0.0).bindBlob(4, "").bindNull(5);
  auto dup = ins->run();
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == ErrorCode::kConflict);

  auto sel = (*db)->prepare("SELECT k, i, d, b, n FROM t");
  REQUIRE(*sel->step());
  CHECK(sel->columnText(0) == "k1");
  CHECK(sel->columnInt(1) == (int64_t{1} << 40));
  CHECK(sel->columnDouble(2) == 0.25);
  CHECK(sel->columnText(3) == blob);
  CHECK(sel->columnIsNull(4));
  CHECK_FALSE(*sel->step());
}

TEST_CASE("opening a database in a missing directory fails with the path in the message") {
  auto db = Database::open("/nonexistent-dir-for-test/x.db");
  REQUIRE_FALSE(db.ok());
  CHECK(db.error().message.find("/nonexistent-dir-for-test/x.db") != std::string::npos);
}

TEST_CASE("bad SQL is an error naming the statement") {
  auto db = Database::open(":memory:");
  auto st = (*db)->prepare("SELEKT 1");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("SELEKT 1") != std::string::npos);
}
