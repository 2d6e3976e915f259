#pragma once
// The agent's checkpoint (<work_dir>/agent.db, SQLite with synchronous=FULL): the resources it
// registered with, every task it has not retired (framework, TaskInfo, container, latest status)
// and every status update not yet acknowledged by its framework. Writes are staged and committed
// together in one transaction, so a burst of task changes costs one fsync; the agent sends an
// update to the master, and acknowledges an executor's event, only after the commit.

#include "common/json.hpp"
#include "common/result.hpp"
#include "kernel/agent/status_updates.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dcos::store {
class Database;
}

namespace dcos::kernel {

class AgentCheckpoint {
 public:
  struct Loaded {
    Json resources;            // as registered last time; null when never checkpointed
    std::vector<Json> tasks;   // as given to putTask
    std::vector<StatusUpdate> updates;  // oldest first
  };

  static Result<std::unique_ptr<AgentCheckpoint>> open(const std::string& workDir);
  ~AgentCheckpoint();

  Result<Loaded> load();

  // Staged until commit(). A task is keyed by "<framework>/<task>"; its latest put wins.
  void putResources(const Json& resources);
  void putTask(const std::string& key, const Json& task);
  void removeTask(const std::string& key);
  void addUpdate(const StatusUpdate& update);
  void acknowledge(const std::string& frameworkId, const std::string& taskId, const std::string& uuid);
  void forgetUpdates(const std::string& frameworkId, const std::string& taskId);
  void clear();  // everything, for --recover=cleanup

  bool dirty() const { return !ops_.empty() || !tasks_.empty(); }
  Result<void> commit();

 private:
  explicit AgentCheckpoint(std::unique_ptr<store::Database> db);
  std::unique_ptr<store::Database> db_;
  std::vector<std::function<Result<void>(store::Database&)>> ops_;  // in order
  std::map<std::string, std::optional<std::string>> tasks_;           // key → JSON, nullopt: removed
};

}  // namespace dcos::kernel
