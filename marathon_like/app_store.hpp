#pragma once
// Persistence of Marathon apps and every version of them (GET /v2/apps/{id}/versions and
// /versions/{v}). Each version is stored as its Marathon JSON (appToJson, "version" set) and
// re-parsed with parseApp on load; a stored row that no longer parses is skipped with an error
// log rather than failing the whole read.
//
// Versions are ISO-8601 UTC timestamps with milliseconds ("2026-11-25T17:03:04.123Z"); that fixed
// format sorts lexicographically in time order, which is how "newest first" and pruning work.
//
// The database may be shared: the Marathon-like scheduler keeps its apps in marathon.db next to
// its instances and deployments (MarathonStore), so that an app change and the deployment it
// causes commit in one transaction. AppStore's writes use Database::transaction, which joins an
// outer transaction when there is one.
//
// Threading: like store::Database, an AppStore is used by one thread at a time.

#include "common/result.hpp"
#include "common/store/sqlite.hpp"
#include "marathon_like/app.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dcos::marathon {

class AppStore {
 public:
  static constexpr size_t kDefaultMaxVersions = 50;  // Marathon's --max_versions default

  // Opens (creating) `path` (synchronous=FULL, as the master's registry; ":memory:" for tests)
  // and applies migrations(). A database with later migrations (marathon.db) is refused as newer.
  static Result<std::unique_ptr<AppStore>> open(const std::string& path);

  // The schema AppStore needs, numbered from 1 by PRAGMA user_version. A database shared with
  // other tables applies these first and numbers its own migrations after them.
  static std::vector<store::Migration> migrations();

  // Works on a database someone else opened; migrations() must have been applied to it.
  explicit AppStore(std::shared_ptr<store::Database> db) : db_(std::move(db)) {}

  // Stores a new version of the app (with "version" set to `version`) and makes it the app's
  // current definition, atomically with pruning to maxVersions. kInvalidArgument when the id is
  // empty or `version` is not "YYYY-MM-DDTHH:MM:SS.mmmZ"; kConflict when the app already has
  // `version`; kIo naming the statement on database failures.
  Result<void> put(const AppDefinition& app, const std::string& version);

  // The current definition (its `version` filled in), or nullopt when unknown or unreadable.
  std::optional<AppDefinition> get(const std::string& id) const;
  std::optional<AppDefinition> getVersion(const std::string& id, const std::string& version) const;
  // The app's stored versions, newest first (as Marathon lists them); empty when unknown.
  std::vector<std::string> versions(const std::string& id) const;
  // Every app's current definition, ordered by id; unreadable rows are skipped.
  std::vector<AppDefinition> list() const;

  // Deletes the app and all its versions; kNotFound when unknown.
  Result<void> remove(const std::string& id);

  // Keeps at most `keep` versions per app (at least 1: the current one is never dropped). Applied
  // on the next put() of each app.
  void setMaxVersions(size_t keep);
  size_t maxVersions() const { return maxVersions_; }

 private:
  std::shared_ptr<store::Database> db_;
  size_t maxVersions_ = kDefaultMaxVersions;
};

// True for Marathon's version format "YYYY-MM-DDTHH:MM:SS.mmmZ".
bool isVersionTimestamp(const std::string& version);

}  // namespace dcos::marathon
