#include "common/store/sqlite.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <exception>

namespace dcos::store {

Statement::Statement(sqlite3_stmt* stmt, std::string sql, sqlite3* db)
    : stmt_(stmt), db_(db), sql_(std::move(sql)) {}

Statement::Statement(Statement&& other) noexcept
    : stmt_(other.stmt_), db_(other.db_), sql_(std::move(other.sql_)),
      bindError_(std::move(other.bindError_)) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    db_ = other.db_;
    sql_ = std::move(other.sql_);
    bindError_ = std::move(other.bindError_);
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Error Statement::error(int rc, const char* what) const {
  std::string msg = std::string(what) + " '" + sql_ + "': " + sqlite3_errstr(rc);
  if (db_ && sqlite3_errcode(db_) == rc) msg = std::string(what) + " '" + sql_ + "': " + sqlite3_errmsg(db_);
  ErrorCode code = (rc == SQLITE_CONSTRAINT) ? ErrorCode::kConflict
                   : (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? ErrorCode::kUnavailable
                                                                : ErrorCode::kIo;
  return Error(code, msg);
}

#define DCOS_BIND(call)                                                             \
  do {                                                                              \
    int rc_ = (call);                                                               \
    if (rc_ != SQLITE_OK && bindError_.empty()) {                                   \
      bindError_ = "bind " + std::to_string(index) + ": " + sqlite3_errstr(rc_);    \
    }                                                                               \
  } while (0)

Statement& Statement::bind(int index, int64_t value) {
  DCOS_BIND(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, double value) {
  DCOS_BIND(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  DCOS_BIND(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Statement& Statement::bindBlob(int index, std::string_view bytes) {
  DCOS_BIND(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
  return *this;
}

Statement& Statement::bindNull(int index) {
  DCOS_BIND(sqlite3_bind_null(stmt_, index));
  return *this;
}

#undef DCOS_BIND

Result<bool> Statement::step() {
  if (!bindError_.empty()) return Error(ErrorCode::kInternal, "'" + sql_ + "': " + bindError_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = error(rc, "executing");
  sqlite3_reset(stmt_);
  return e;
}

Result<void> Statement::run() {
  while (true) {
    auto r = step();
    if (!r) return r.error();
    if (!*r) break;
  }
  sqlite3_reset(stmt_);
  return success();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bindError_.clear();
}

int64_t Statement::columnInt(int index) const { return sqlite3_column_int64(stmt_, index); }
double Statement::columnDouble(int index) const { return sqlite3_column_double(stmt_, index); }
bool Statement::columnIsNull(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

std::string Statement::columnText(int index) const {
  const void* p = sqlite3_column_blob(stmt_, index);
  int n = sqlite3_column_bytes(stmt_, index);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path, DatabaseOptions options) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Error(ErrorCode::kIo, "cannot open database '" + path + "': " + msg);
  }
  std::unique_ptr<Database> d(new Database(db, path));
  sqlite3_busy_timeout(db, static_cast<int>(options.busyTimeout.count()));
  sqlite3_extended_result_codes(db, 0);
  std::string pragmas = "PRAGMA foreign_keys=ON;";
  if (path != ":memory:") pragmas += "PRAGMA journal_mode=WAL;";
  pragmas += options.synchronousFull ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
  // The first statement to touch the file is where an unwritable directory or a file that is not
  // a database shows up.
  if (auto r = d->exec(pragmas); !r) return r.error().wrap("opening database '" + path + "'");
  if (auto v = d->schemaVersion(); !v) return v.error().wrap("opening database '" + path + "'");
  return d;
}

Database::~Database() { sqlite3_close_v2(db_); }

Error Database::error(int rc, std::string_view what) const {
  ErrorCode code = (rc == SQLITE_CONSTRAINT) ? ErrorCode::kConflict
                   : (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? ErrorCode::kUnavailable
                                                                : ErrorCode::kIo;
  return Error(code, std::string(what) + ": " + sqlite3_errmsg(db_));
}

Result<void> Database::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    ErrorCode code = (rc == SQLITE_CONSTRAINT) ? ErrorCode::kConflict
                     : (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? ErrorCode::kUnavailable
                                                                  : ErrorCode::kIo;
    return Error(code, msg);
  }
  return success();
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return error(rc, "preparing '" + std::string(sql) + "'");
  return Statement(stmt, std::string(sql), db_);
}

Result<void> Database::transaction(const std::function<Result<void>()>& fn) {
  if (transactionDepth_ > 0) {
    // Joined: the outermost transaction commits or rolls back the whole.
    return fn();
  }
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r.error().wrap("beginning transaction");
  ++transactionDepth_;
  Result<void> result;
  try {
    result = fn();
  } catch (const std::exception& e) {
    result = Error(ErrorCode::kInternal, std::string("transaction aborted by exception: ") + e.what());
  }
  --transactionDepth_;
  if (!result) {
    (void)exec("ROLLBACK");
    return result;
  }
  if (auto r = exec("COMMIT"); !r) {
    (void)exec("ROLLBACK");
    return r.error().wrap("committing transaction");
  }
  return success();
}

Result<int> Database::schemaVersion() {
  auto st = prepare("PRAGMA user_version");
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  return static_cast<int>(st->columnInt(0));
}

Result<void> Database::migrate(std::vector<Migration> migrations) {
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version == migrations[i - 1].version) {
      return Error(ErrorCode::kInternal, "two migrations share version " + std::to_string(migrations[i].version));
    }
  }
  auto current = schemaVersion();
  if (!current) return current.error();
  int latest = 0;
  for (const auto& m : migrations) latest = std::max(latest, m.version);
  if (*current > latest) {
    return Error(ErrorCode::kConflict, "database '" + path_ + "' has schema version " +
                                           std::to_string(*current) + ", newer than this binary knows (" +
                                           std::to_string(latest) + "); use a newer dcos");
  }
  for (const auto& m : migrations) {
    if (m.version <= *current) continue;
    auto r = transaction([&]() -> Result<void> {
      if (auto e = exec(m.sql); !e) return e.error().wrap("migration " + std::to_string(m.version));
      return exec("PRAGMA user_version = " + std::to_string(m.version));
    });
    if (!r) return r;
    *current = m.version;
  }
  return success();
}

int64_t Database::lastInsertId() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

}  // namespace dcos::store
