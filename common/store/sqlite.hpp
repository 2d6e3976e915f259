#pragma once
// A thin, safe wrapper over SQLite: WAL journal, a busy timeout, prepared statements with typed
// binds, transactions that roll back on any error, and schema migrations numbered by
// PRAGMA user_version. Every failure is an Error naming the statement; nothing throws.
//
// Threading: a Database is used by one thread at a time (the component that owns it).

#include "common/result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace dcos::store {

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  // Binds are 1-based, as in SQLite. Each returns *this so calls chain.
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bindBlob(int index, std::string_view bytes);
  Statement& bindNull(int index);

  // Advances: true with a row to read, false when done.
  Result<bool> step();
  // Runs to completion, for statements without results.
  Result<void> run();
  // Ready to bind and step again (the binds are cleared).
  void reset();

  int64_t columnInt(int index) const;
  double columnDouble(int index) const;
  std::string columnText(int index) const;
  bool columnIsNull(int index) const;

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, std::string sql, sqlite3* db);
  Error error(int rc, const char* what) const;

  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
  std::string sql_;
  std::string bindError_;  // first failed bind, reported by step()
};

struct Migration {
  int version;         // 1, 2, 3, ... applied in order, each once
  std::string sql;     // may hold several statements
};

struct DatabaseOptions {
  std::chrono::milliseconds busyTimeout{5000};
  bool synchronousFull = false;  // FULL for registries that must survive power loss
};

class Database {
 public:
  // Opens (creating if missing) the database file. ":memory:" works for tests.
  static Result<std::unique_ptr<Database>> open(const std::string& path, DatabaseOptions options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Result<void> exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);

  // Runs fn inside BEGIN IMMEDIATE ... COMMIT. When fn fails (or throws) everything it did is
  // rolled back and its error returned. Nested calls join the outer transaction.
  Result<void> transaction(const std::function<Result<void>()>& fn);

  // Applies the migrations above the current schema version, each in its own transaction
  // together with the version bump. A database newer than the binary is refused.
  Result<void> migrate(std::vector<Migration> migrations);
  Result<int> schemaVersion();

  int64_t lastInsertId() const;
  int changes() const;
  const std::string& path() const { return path_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Error error(int rc, std::string_view what) const;

  sqlite3* db_;
  std::string path_;
  int transactionDepth_ = 0;
};

}  // namespace dcos::store
