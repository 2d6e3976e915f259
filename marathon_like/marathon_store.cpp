#include "marathon_like/marathon_store.hpp"

#include "common/log.hpp"

#include <limits>

namespace dcos::marathon {
namespace {

const log::Logger& logger() { return log::get("marathon"); }

// Numbered after AppStore's migration 1, which shares the file. Attributes and ports are JSON
// text; `healthy` is NULL when Mesos never said.
std::vector<store::Migration> ownMigrations() {
  return {
      {2,
       "CREATE TABLE instances (task_id TEXT PRIMARY KEY, app_id TEXT NOT NULL,"
       "  app_version TEXT NOT NULL, config_version TEXT NOT NULL, agent_id TEXT NOT NULL,"
       "  hostname TEXT NOT NULL, attributes TEXT NOT NULL, ports TEXT NOT NULL, state TEXT NOT NULL,"
       "  healthy INTEGER, staged_at INTEGER NOT NULL, started_at INTEGER NOT NULL,"
       "  unreachable_since INTEGER NOT NULL);"
       "CREATE INDEX instances_by_app ON instances (app_id, staged_at);"
       "CREATE TABLE deployments (id TEXT PRIMARY KEY, version TEXT NOT NULL, state TEXT NOT NULL);"
       "CREATE TABLE app_groups (id TEXT PRIMARY KEY, definition TEXT NOT NULL);"
       "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
       "CREATE TABLE app_version_info (app_id TEXT PRIMARY KEY, last_scaling_at TEXT NOT NULL,"
       "  last_config_change_at TEXT NOT NULL);"},
  };
}

// Never throws: strings that are not UTF-8 (agent attributes, opaque state) are stored with
// U+FFFD in place of the bad bytes rather than aborting the write.
std::string dumpJson(const Json& json) { return json.dump(-1, ' ', false, Json::error_handler_t::replace); }

constexpr const char* kPutInstance =
    "INSERT OR REPLACE INTO instances (task_id, app_id, app_version, config_version, agent_id, hostname,"
    " attributes, ports, state, healthy, staged_at, started_at, unreachable_since)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

void bindInstance(store::Statement& st, const InstanceRecord& r) {
  st.bind(1, r.taskId).bind(2, r.appId).bind(3, r.appVersion).bind(4, r.configVersion);
  st.bind(5, r.agentId).bind(6, r.hostname);
  st.bind(7, dumpJson(Json(r.attributes))).bind(8, dumpJson(Json(r.ports))).bind(9, r.state);
  if (r.healthy) {
    st.bind(10, int64_t{*r.healthy ? 1 : 0});
  } else {
    st.bindNull(10);
  }
  st.bind(11, r.stagedAtMs).bind(12, r.startedAtMs).bind(13, r.unreachableSinceMs);
}

Result<void> checkInstance(const InstanceRecord& r) {
  if (r.taskId.empty() || r.appId.empty()) {
    return Error(ErrorCode::kInvalidArgument, "cannot store instance '" + r.taskId + "' of app '" + r.appId +
                                                  "': task id and app id are required");
  }
  return success();
}

// Reads the row `SELECT task_id, app_id, ..., unreachable_since`; nullopt (logged) when its
// attributes or ports no longer parse.
std::optional<InstanceRecord> decodeInstance(const store::Statement& st) {
  InstanceRecord r;
  r.taskId = st.columnText(0);
  r.appId = st.columnText(1);
  r.appVersion = st.columnText(2);
  r.configVersion = st.columnText(3);
  r.agentId = st.columnText(4);
  r.hostname = st.columnText(5);
  Json attributes = Json::parse(st.columnText(6), nullptr, false);
  Json ports = Json::parse(st.columnText(7), nullptr, false);
  if (!attributes.is_object()) {
    logger().error("skipping stored instance '{}' of app '{}': attributes are not a JSON object", r.taskId, r.appId);
    return std::nullopt;
  }
  for (const auto& [k, v] : attributes.items()) {
    if (!v.is_string()) {
      logger().error("skipping stored instance '{}' of app '{}': attribute '{}' is not a string", r.taskId, r.appId, k);
      return std::nullopt;
    }
    r.attributes[k] = v.get<std::string>();
  }
  if (!ports.is_array()) {
    logger().error("skipping stored instance '{}' of app '{}': ports are not a JSON array", r.taskId, r.appId);
    return std::nullopt;
  }
  for (const auto& p : ports) {
    if (!p.is_number_unsigned() || p.get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
      logger().error("skipping stored instance '{}' of app '{}': port {} is not a port", r.taskId, r.appId, p.dump());
      return std::nullopt;
    }
    r.ports.push_back(p.get<uint32_t>());
  }
  r.state = st.columnText(8);
  if (!st.columnIsNull(9)) r.healthy = st.columnInt(9) != 0;
  r.stagedAtMs = st.columnInt(10);
  r.startedAtMs = st.columnInt(11);
  r.unreachableSinceMs = st.columnInt(12);
  return r;
}

// Steps a prepared query, calling onRow for each row; logs (and stops) on failure.
void forEachRow(store::Database& db, const char* what, const char* sql,
                const std::function<void(store::Statement&)>& bind,
                const std::function<void(const store::Statement&)>& onRow) {
  auto st = db.prepare(sql);
  if (!st) {
    logger().error("{}: {}", what, st.error().message);
    return;
  }
  if (bind) bind(*st);
  for (;;) {
    auto row = st->step();
    if (!row) {
      logger().error("{}: {}", what, row.error().message);
      return;
    }
    if (!*row) return;
    onRow(*st);
  }
}

}  // namespace

Result<std::unique_ptr<MarathonStore>> MarathonStore::open(const std::string& path) {
  auto db = store::Database::open(path, {.synchronousFull = true});
  if (!db) return db.error().wrap("opening marathon store");
  std::vector<store::Migration> all = AppStore::migrations();
  for (auto& m : ownMigrations()) all.push_back(std::move(m));
  if (auto r = (*db)->migrate(std::move(all)); !r) return r.error().wrap("migrating marathon store '" + path + "'");
  return std::unique_ptr<MarathonStore>(new MarathonStore(std::shared_ptr<store::Database>(std::move(*db))));
}

Result<void> MarathonStore::transaction(const std::function<Result<void>()>& fn) { return db_->transaction(fn); }

Result<void> MarathonStore::write(const char* what, const char* sql,
                                  const std::function<void(store::Statement&)>& bind) {
  auto st = db_->prepare(sql);
  if (!st) return st.error().wrap(what);
  bind(*st);
  if (auto r = st->run(); !r) return r.error().wrap(what);
  return success();
}

Result<void> MarathonStore::putInstance(const InstanceRecord& r) {
  if (auto ok = checkInstance(r); !ok) return ok;
  return write(("storing instance '" + r.taskId + "'").c_str(), kPutInstance,
               [&](store::Statement& st) { bindInstance(st, r); });
}

Result<void> MarathonStore::putInstances(const std::vector<InstanceRecord>& rs) {
  for (const auto& r : rs) {
    if (auto ok = checkInstance(r); !ok) return ok;
  }
  if (rs.empty()) return success();
  return db_->transaction([&]() -> Result<void> {
    auto st = db_->prepare(kPutInstance);
    if (!st) return st.error().wrap("storing instances");
    for (const auto& r : rs) {
      bindInstance(*st, r);
      if (auto ran = st->run(); !ran) return ran.error().wrap("storing instance '" + r.taskId + "'");
    }
    return success();
  });
}

Result<void> MarathonStore::removeInstance(const std::string& taskId) {
  return write(("removing instance '" + taskId + "'").c_str(), "DELETE FROM instances WHERE task_id = ?",
               [&](store::Statement& st) { st.bind(1, taskId); });
}

std::vector<InstanceRecord> MarathonStore::instances() const {
  std::vector<InstanceRecord> out;
  forEachRow(*db_, "listing instances",
             "SELECT task_id, app_id, app_version, config_version, agent_id, hostname, attributes, ports,"
             " state, healthy, staged_at, started_at, unreachable_since FROM instances"
             " ORDER BY app_id, staged_at, task_id",
             nullptr, [&](const store::Statement& st) {
               if (auto r = decodeInstance(st)) out.push_back(std::move(*r));
             });
  return out;
}

Result<void> MarathonStore::putDeployment(const DeploymentRecord& d) {
  if (d.id.empty()) return Error(ErrorCode::kInvalidArgument, "cannot store a deployment without an id");
  return write(("storing deployment '" + d.id + "'").c_str(),
               "INSERT OR REPLACE INTO deployments (id, version, state) VALUES (?, ?, ?)",
               [&](store::Statement& st) { st.bind(1, d.id).bind(2, d.version).bind(3, dumpJson(d.state)); });
}

Result<void> MarathonStore::removeDeployment(const std::string& id) {
  return write(("removing deployment '" + id + "'").c_str(), "DELETE FROM deployments WHERE id = ?",
               [&](store::Statement& st) { st.bind(1, id); });
}

std::vector<DeploymentRecord> MarathonStore::deployments() const {
  std::vector<DeploymentRecord> out;
  forEachRow(*db_, "listing deployments", "SELECT id, version, state FROM deployments ORDER BY version, id", nullptr,
             [&](const store::Statement& st) {
               DeploymentRecord d{st.columnText(0), st.columnText(1), Json::parse(st.columnText(2), nullptr, false)};
               if (d.state.is_discarded()) {
                 logger().error("skipping stored deployment '{}': its state is not JSON", d.id);
                 return;
               }
               out.push_back(std::move(d));
             });
  return out;
}

Result<void> MarathonStore::putGroup(const std::string& id, const Json& group) {
  if (id.empty()) return Error(ErrorCode::kInvalidArgument, "cannot store a group without an id");
  return write(("storing group '" + id + "'").c_str(),
               "INSERT OR REPLACE INTO app_groups (id, definition) VALUES (?, ?)",
               [&](store::Statement& st) { st.bind(1, id).bind(2, dumpJson(group)); });
}

Result<void> MarathonStore::removeGroup(const std::string& id) {
  return write(("removing group '" + id + "'").c_str(), "DELETE FROM app_groups WHERE id = ?",
               [&](store::Statement& st) { st.bind(1, id); });
}

std::map<std::string, Json> MarathonStore::groups() const {
  std::map<std::string, Json> out;
  forEachRow(*db_, "listing groups", "SELECT id, definition FROM app_groups", nullptr,
             [&](const store::Statement& st) {
               std::string id = st.columnText(0);
               Json group = Json::parse(st.columnText(1), nullptr, false);
               if (group.is_discarded()) {
                 logger().error("skipping stored group '{}': not JSON", id);
                 return;
               }
               out.emplace(std::move(id), std::move(group));
             });
  return out;
}

Result<void> MarathonStore::setMeta(const std::string& key, const std::string& value) {
  return write(("storing '" + key + "'").c_str(), "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
               [&](store::Statement& st) { st.bind(1, key).bind(2, value); });
}

std::optional<std::string> MarathonStore::meta(const std::string& key) const {
  std::optional<std::string> out;
  forEachRow(
      *db_, "reading meta", "SELECT value FROM meta WHERE key = ?", [&](store::Statement& st) { st.bind(1, key); },
      [&](const store::Statement& st) { out = st.columnText(0); });
  return out;
}

Result<void> MarathonStore::putVersionInfo(const std::string& appId, const std::string& lastScalingAt,
                                           const std::string& lastConfigChangeAt) {
  if (appId.empty()) return Error(ErrorCode::kInvalidArgument, "cannot store versionInfo without an app id");
  return write(("storing versionInfo of app '" + appId + "'").c_str(),
               "INSERT OR REPLACE INTO app_version_info (app_id, last_scaling_at, last_config_change_at)"
               " VALUES (?, ?, ?)",
               [&](store::Statement& st) { st.bind(1, appId).bind(2, lastScalingAt).bind(3, lastConfigChangeAt); });
}

Result<void> MarathonStore::removeVersionInfo(const std::string& appId) {
  return write(("removing versionInfo of app '" + appId + "'").c_str(),
               "DELETE FROM app_version_info WHERE app_id = ?", [&](store::Statement& st) { st.bind(1, appId); });
}

std::optional<std::pair<std::string, std::string>> MarathonStore::versionInfo(const std::string& appId) const {
  std::optional<std::pair<std::string, std::string>> out;
  forEachRow(
      *db_, "reading versionInfo",
      "SELECT last_scaling_at, last_config_change_at FROM app_version_info WHERE app_id = ?",
      [&](store::Statement& st) { st.bind(1, appId); },
      [&](const store::Statement& st) { out.emplace(st.columnText(0), st.columnText(1)); });
  return out;
}

}  // namespace dcos::marathon
