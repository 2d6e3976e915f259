#include "marathon_like/app_store.hpp"

#include "common/log.hpp"

#include <algorithm>
#include <cctype>

namespace dcos::marathon {
namespace {

const log::Logger& logger() { return log::get("marathon"); }

// Parses a stored definition; logs and answers nullopt when it no longer parses.
std::optional<AppDefinition> decode(const std::string& appId, const std::string& version,
                                    const std::string& text) {
  Json json = Json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    logger().error("skipping stored app {} version {}: not a JSON object", appId, version);
    return std::nullopt;
  }
  auto app = parseApp(json);
  if (!app) {
    std::string why = app.error().message;
    for (const auto& d : app.error().details) {
      why += "; " + d.path + ":";
      for (const auto& e : d.errors) why += " " + e;
    }
    logger().error("skipping stored app {} version {}: {}", appId, version, why);
    return std::nullopt;
  }
  if (app->id != appId) {
    logger().error("skipping stored app {} version {}: it holds app {}", appId, version, app->id);
    return std::nullopt;
  }
  app->version = version;  // the row's key is authoritative
  return std::move(*app);
}

}  // namespace

bool isVersionTimestamp(const std::string& v) {
  static constexpr char kPattern[] = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (v.size() != sizeof(kPattern) - 1) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (kPattern[i] == 'd') {
      if (!std::isdigit(static_cast<unsigned char>(v[i]))) return false;
    } else if (v[i] != kPattern[i]) {
      return false;
    }
  }
  return true;
}

// `apps` holds one row per app naming its current version; `app_versions` every stored version
// as Marathon JSON. The current version is always among the app's versions.
std::vector<store::Migration> AppStore::migrations() {
  return {
      {1,
       "CREATE TABLE app_versions (app_id TEXT NOT NULL, version TEXT NOT NULL,"
       "  definition TEXT NOT NULL, PRIMARY KEY (app_id, version));"
       "CREATE TABLE apps (id TEXT PRIMARY KEY, version TEXT NOT NULL);"},
  };
}

Result<std::unique_ptr<AppStore>> AppStore::open(const std::string& path) {
  auto db = store::Database::open(path, {.synchronousFull = true});
  if (!db) return db.error().wrap("opening app store");
  if (auto r = (*db)->migrate(migrations()); !r) return r.error().wrap("migrating app store '" + path + "'");
  return std::make_unique<AppStore>(std::shared_ptr<store::Database>(std::move(*db)));
}

void AppStore::setMaxVersions(size_t keep) { maxVersions_ = std::max<size_t>(keep, 1); }

Result<void> AppStore::put(const AppDefinition& app, const std::string& version) {
  if (app.id.empty()) return Error(ErrorCode::kInvalidArgument, "cannot store an app without an id");
  if (!isVersionTimestamp(version)) {
    return Error(ErrorCode::kInvalidArgument,
                 "app version '" + version + "' is not an ISO-8601 timestamp like 2026-11-25T17:03:04.123Z");
  }
  AppDefinition stored = app;
  stored.version = version;
  const std::string definition = appToJson(stored).dump();

  auto r = db_->transaction([&]() -> Result<void> {
    auto exists = db_->prepare("SELECT 1 FROM app_versions WHERE app_id = ? AND version = ?");
    if (!exists) return exists.error();
    exists->bind(1, app.id).bind(2, version);
    auto row = exists->step();
    if (!row) return row.error();
    if (*row) return Error(ErrorCode::kConflict, "app " + app.id + " already has version " + version);

    auto insert = db_->prepare("INSERT INTO app_versions (app_id, version, definition) VALUES (?, ?, ?)");
    if (!insert) return insert.error();
    insert->bind(1, app.id).bind(2, version).bind(3, definition);
    if (auto ran = insert->run(); !ran) return ran;

    auto current = db_->prepare(
        "INSERT INTO apps (id, version) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version");
    if (!current) return current.error();
    current->bind(1, app.id).bind(2, version);
    if (auto ran = current->run(); !ran) return ran;

    // Keep the newest maxVersions_ versions; the current one survives even if it is older.
    auto prune = db_->prepare(
        "DELETE FROM app_versions WHERE app_id = ?1 AND version <> ?2 AND version NOT IN"
        " (SELECT version FROM app_versions WHERE app_id = ?1 ORDER BY version DESC LIMIT ?3)");
    if (!prune) return prune.error();
    prune->bind(1, app.id).bind(2, version).bind(3, static_cast<int64_t>(maxVersions_));
    return prune->run();
  });
  if (!r && r.error().code != ErrorCode::kConflict) return r.error().wrap("storing app " + app.id);
  return r;
}

std::optional<AppDefinition> AppStore::get(const std::string& id) const {
  auto st = db_->prepare(
      "SELECT v.version, v.definition FROM apps a JOIN app_versions v ON v.app_id = a.id AND v.version = a.version"
      " WHERE a.id = ?");
  if (!st) {
    logger().error("reading app {}: {}", id, st.error().message);
    return std::nullopt;
  }
  st->bind(1, id);
  auto row = st->step();
  if (!row) {
    logger().error("reading app {}: {}", id, row.error().message);
    return std::nullopt;
  }
  if (!*row) return std::nullopt;
  return decode(id, st->columnText(0), st->columnText(1));
}

std::optional<AppDefinition> AppStore::getVersion(const std::string& id, const std::string& version) const {
  auto st = db_->prepare("SELECT definition FROM app_versions WHERE app_id = ? AND version = ?");
  if (!st) {
    logger().error("reading app {} version {}: {}", id, version, st.error().message);
    return std::nullopt;
  }
  st->bind(1, id).bind(2, version);
  auto row = st->step();
  if (!row) {
    logger().error("reading app {} version {}: {}", id, version, row.error().message);
    return std::nullopt;
  }
  if (!*row) return std::nullopt;
  return decode(id, version, st->columnText(0));
}

std::vector<std::string> AppStore::versions(const std::string& id) const {
  std::vector<std::string> out;
  auto st = db_->prepare("SELECT version FROM app_versions WHERE app_id = ? ORDER BY version DESC");
  if (!st) {
    logger().error("listing versions of app {}: {}", id, st.error().message);
    return out;
  }
  st->bind(1, id);
  for (;;) {
    auto row = st->step();
    if (!row) {
      logger().error("listing versions of app {}: {}", id, row.error().message);
      return out;
    }
    if (!*row) break;
    out.push_back(st->columnText(0));
  }
  return out;
}

std::vector<AppDefinition> AppStore::list() const {
  std::vector<AppDefinition> out;
  auto st = db_->prepare(
      "SELECT a.id, v.version, v.definition FROM apps a"
      " JOIN app_versions v ON v.app_id = a.id AND v.version = a.version ORDER BY a.id");
  if (!st) {
    logger().error("listing apps: {}", st.error().message);
    return out;
  }
  for (;;) {
    auto row = st->step();
    if (!row) {
      logger().error("listing apps: {}", row.error().message);
      return out;
    }
    if (!*row) break;
    if (auto app = decode(st->columnText(0), st->columnText(1), st->columnText(2))) out.push_back(std::move(*app));
  }
  return out;
}

Result<void> AppStore::remove(const std::string& id) {
  bool found = false;
  auto r = db_->transaction([&]() -> Result<void> {
    auto app = db_->prepare("DELETE FROM apps WHERE id = ?");
    if (!app) return app.error();
    app->bind(1, id);
    if (auto ran = app->run(); !ran) return ran;
    found = db_->changes() > 0;
    auto versions = db_->prepare("DELETE FROM app_versions WHERE app_id = ?");
    if (!versions) return versions.error();
    versions->bind(1, id);
    return versions->run();
  });
  if (!r) return r.error().wrap("removing app " + id);
  if (!found) return Error(ErrorCode::kNotFound, "App '" + id + "' does not exist");
  return success();
}

}  // namespace dcos::marathon
