#pragma once
// The master's durable state in SQLite (<work_dir>/master.db): the cluster's identity, agents,
// frameworks and tasks. Written through on every change that must survive a restart (kill -9
// included); read once at start-up. Loop thread only.

#include "common/result.hpp"
#include "common/store/sqlite.hpp"
#include "kernel/master/records.hpp"

#include <memory>
#include <string>
#include <vector>

namespace dcos::kernel {

class Registry {
 public:
  static Result<std::unique_ptr<Registry>> open(const std::string& workDir, const Clock& clock);

  const std::string& clusterId() const { return clusterId_; }
  // A new agent id, "<cluster id>-S<n>", never handed out twice.
  Result<std::string> newAgentId();

  Result<void> putAgent(const AgentRecord& agent);
  Result<void> putFramework(const FrameworkRecord& framework);
  Result<void> putTask(const TaskRecord& task);
  Result<void> removeTask(const std::string& frameworkId, const std::string& taskId);
  // New tasks, in one transaction (all or none).
  Result<void> putTasks(const std::vector<const TaskRecord*>& tasks);
  // In one transaction: the status (state, status, acknowledged, agent) of known tasks, then
  // the removal of ended ones ((framework id, task id) pairs).
  Result<void> writeTaskChanges(const std::vector<const TaskRecord*>& statuses,
                                const std::vector<std::pair<std::string, std::string>>& removals);

  struct Snapshot {
    std::vector<AgentRecord> agents;
    std::vector<FrameworkRecord> frameworks;
    std::vector<TaskRecord> tasks;
  };
  Result<Snapshot> load();

  store::Database& db() { return *db_; }

 private:
  explicit Registry(std::unique_ptr<store::Database> db) : db_(std::move(db)) {}
  Result<void> loadIdentity(const Clock& clock);
  Result<std::string> meta(const std::string& key);
  Result<void> setMeta(const std::string& key, const std::string& value);

  std::unique_ptr<store::Database> db_;
  std::string clusterId_;
};


}  // namespace dcos::kernel
