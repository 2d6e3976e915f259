#pragma once
// Everything the Marathon-like scheduler persists, in ONE SQLite file (<master work_dir>/marathon.db,
// synchronous=FULL): app versions (AppStore, migration 1), the instances it launched, running
// deployments, explicit groups, per-app versionInfo and small key/value facts (migrations 2+).
// One file, so that an app change and the deployment it causes commit in one transaction().
//
// Reads never fail: a stored row that no longer parses is skipped with an error log, and a
// database failure is logged and answers what was read so far. Writes answer kIo (kConflict for
// constraint violations, kUnavailable when busy) naming the statement.
//
// Threading: like store::Database, a MarathonStore is used by one thread at a time (the
// scheduler's strand, or the pool thread it hands writes to).

#include "common/json.hpp"
#include "common/result.hpp"
#include "common/store/sqlite.hpp"
#include "marathon_like/app_store.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dcos::marathon {

// One task the scheduler launched (Marathon's "instance"), persisted before the launch is sent.
struct InstanceRecord {
  std::string taskId, appId;
  std::string appVersion;     // the app version it was launched with
  std::string configVersion;  // the app's versionInfo.lastConfigChangeAt at launch (scale changes keep it)
  std::string agentId, hostname;
  std::map<std::string, std::string> attributes;  // agent attributes as constraints see them
  std::vector<uint32_t> ports;                    // host ports
  std::string state = "TASK_STAGING";             // last Mesos TaskState
  std::optional<bool> healthy;                    // from Mesos TaskStatus.healthy
  int64_t stagedAtMs = 0, startedAtMs = 0;        // epoch millis; startedAt 0 = never RUNNING
  int64_t unreachableSinceMs = 0;                 // 0 = reachable
  bool operator==(const InstanceRecord&) const = default;
};

// A running deployment: the scheduler stores what it needs to resume it as JSON.
struct DeploymentRecord {
  std::string id;       // uuid
  std::string version;  // the target version timestamp
  Json state;           // opaque to the store (plan, original and target apps, current step, ...)
  bool operator==(const DeploymentRecord&) const = default;
};

class MarathonStore {
 public:
  // Opens (creating) `path` with synchronous=FULL (":memory:" for tests) and applies AppStore's
  // migration 1 and this store's migrations 2+. kIo when the file cannot be opened, kConflict
  // when it was written by a newer binary.
  static Result<std::unique_ptr<MarathonStore>> open(const std::string& path);

  // App versions, on the same database (its writes join transaction()).
  AppStore& apps() { return apps_; }
  const AppStore& apps() const { return apps_; }

  // Every write below is atomic on its own; transaction() groups several (nested calls join the
  // outer one): when fn fails, everything it wrote is rolled back and its error returned.
  Result<void> transaction(const std::function<Result<void>()>& fn);

  // Inserts or replaces by taskId. kInvalidArgument when taskId or appId is empty.
  Result<void> putInstance(const InstanceRecord& r);
  // All of them in one transaction with one prepared statement; none is stored when one fails.
  Result<void> putInstances(const std::vector<InstanceRecord>& rs);
  // No error when absent.
  Result<void> removeInstance(const std::string& taskId);
  // All, ordered by appId then stagedAtMs (then taskId).
  std::vector<InstanceRecord> instances() const;

  // Inserts or replaces by id. kInvalidArgument when id is empty.
  Result<void> putDeployment(const DeploymentRecord& d);
  // No error when absent.
  Result<void> removeDeployment(const std::string& id);
  // Ordered by version then id.
  std::vector<DeploymentRecord> deployments() const;

  // Explicit groups (Marathon keeps empty groups and group-level dependencies): id -> JSON blob.
  Result<void> putGroup(const std::string& id, const Json& group);
  Result<void> removeGroup(const std::string& id);  // no error when absent
  std::map<std::string, Json> groups() const;

  // Small key/value facts, e.g. "framework_id".
  Result<void> setMeta(const std::string& key, const std::string& value);
  std::optional<std::string> meta(const std::string& key) const;

  // Per-app bookkeeping the definition doesn't carry: versionInfo.lastScalingAt /
  // lastConfigChangeAt. AppStore::remove keeps it; the scheduler removes it with the app.
  Result<void> putVersionInfo(const std::string& appId, const std::string& lastScalingAt,
                              const std::string& lastConfigChangeAt);
  Result<void> removeVersionInfo(const std::string& appId);  // no error when absent
  // {lastScalingAt, lastConfigChangeAt}, or nullopt when none was stored.
  std::optional<std::pair<std::string, std::string>> versionInfo(const std::string& appId) const;

 private:
  explicit MarathonStore(std::shared_ptr<store::Database> db) : db_(db), apps_(db) {}

  // Runs one parameterised write in its own (or the enclosing) transaction.
  Result<void> write(const char* what, const char* sql, const std::function<void(store::Statement&)>& bind);

  std::shared_ptr<store::Database> db_;
  AppStore apps_;
};

}  // namespace dcos::marathon
