#include "universe/repository_store.hpp"

#include "universe/repository.hpp"

namespace dcos::universe {

Result<std::unique_ptr<RepositoryStore>> RepositoryStore::open(const std::string& path) {
  auto db = store::Database::open(path);
  if (!db) return db.error().wrap("opening " + path);
  std::string seed = std::string("INSERT INTO repositories (position, name, uri) VALUES (0, '") +
                     kBuiltinRepositoryName + "', '" + kBuiltinRepositoryUri + "');";
  auto migrated = (*db)->migrate({{1, "CREATE TABLE repositories (position INTEGER PRIMARY KEY, name TEXT NOT NULL "
                                      "UNIQUE, uri TEXT NOT NULL UNIQUE);" + seed}});
  if (!migrated) return migrated.error().wrap("opening " + path);
  auto stmt = (*db)->prepare("SELECT name, uri FROM repositories ORDER BY position");
  if (!stmt) return stmt.error();
  std::vector<RepositoryEntry> entries;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) break;
    entries.push_back({stmt->columnText(0), stmt->columnText(1)});
  }
  return std::unique_ptr<RepositoryStore>(new RepositoryStore(std::move(*db), std::move(entries)));
}

Result<void> RepositoryStore::save(std::vector<RepositoryEntry> entries) {
  auto r = db_->transaction([&]() -> Result<void> {
    if (auto d = db_->exec("DELETE FROM repositories"); !d) return d;
    auto insert = db_->prepare("INSERT INTO repositories (position, name, uri) VALUES (?, ?, ?)");
    if (!insert) return insert.error();
    for (size_t i = 0; i < entries.size(); ++i) {
      insert->bind(1, static_cast<int64_t>(i)).bind(2, entries[i].name).bind(3, entries[i].uri);
      if (auto run = insert->run(); !run) return run;
      insert->reset();
    }
    return success();
  });
  if (!r) return r;
  entries_ = std::move(entries);
  return success();
}

}  // namespace dcos::universe
