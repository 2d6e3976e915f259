#pragma once
// The ordered list of package repositories the master searches, kept in <work_dir>/universe.db so
// the repositories an operator added survive restarts. The built-in catalog is an entry like the
// others (its URI "builtin:"), first when the database is created. Owned by the PackageService:
// one thread at a time.

#include "common/result.hpp"
#include "common/store/sqlite.hpp"

#include <memory>
#include <string>
#include <vector>

namespace dcos::universe {

struct RepositoryEntry {
  std::string name, uri;
};

class RepositoryStore {
 public:
  // Opens (creating) `path`; a new database holds the built-in catalog only.
  static Result<std::unique_ptr<RepositoryStore>> open(const std::string& path);

  std::vector<RepositoryEntry> list() const { return entries_; }
  // Replaces the whole list in one transaction; on failure nothing changed, on disk or here.
  Result<void> save(std::vector<RepositoryEntry> entries);

 private:
  RepositoryStore(std::unique_ptr<store::Database> db, std::vector<RepositoryEntry> entries)
      : db_(std::move(db)), entries_(std::move(entries)) {}
  std::unique_ptr<store::Database> db_;
  std::vector<RepositoryEntry> entries_;
};

}  // namespace dcos::universe
