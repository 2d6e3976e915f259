#include "kernel/master/registry.hpp"

#include "common/uuid.hpp"

#include <fmt/format.h>

#include <random>

namespace dcos::kernel {
namespace {

std::vector<store::Migration> migrations() {
  return {
      {1, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"},
      {2,
       "CREATE TABLE agents (id TEXT PRIMARY KEY, info TEXT NOT NULL, state TEXT NOT NULL,"
       "  registered_at INTEGER NOT NULL, unreachable_at INTEGER NOT NULL);"
       "CREATE TABLE frameworks (id TEXT PRIMARY KEY, info TEXT NOT NULL, completed INTEGER NOT NULL,"
       "  registered_at INTEGER NOT NULL);"
       "CREATE TABLE tasks (framework_id TEXT NOT NULL, task_id TEXT NOT NULL, agent_id TEXT NOT NULL,"
       "  task TEXT NOT NULL, status TEXT NOT NULL, state TEXT NOT NULL, role TEXT NOT NULL,"
       "  acknowledged INTEGER NOT NULL, PRIMARY KEY (framework_id, task_id));"
       "CREATE INDEX tasks_by_agent ON tasks (agent_id);"},
  };
}

int64_t nanos(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint fromNanos(int64_t n) { return TimePoint(Duration(n)); }

AgentState parseAgentState(const std::string& s) {
  if (s == "UNREACHABLE") return AgentState::kUnreachable;
  if (s == "GONE") return AgentState::kGone;
  return AgentState::kDisconnected;  // a recovered agent is disconnected until it reregisters
}

}  // namespace

Result<std::unique_ptr<Registry>> Registry::open(const std::string& workDir, const Clock& clock) {
  auto db = store::Database::open(workDir + "/master.db", {.synchronousFull = true});
  if (!db) return db.error();
  if (auto r = (*db)->migrate(migrations()); !r) return r.error();
  std::unique_ptr<Registry> reg(new Registry(std::move(*db)));
  if (auto r = reg->loadIdentity(clock); !r) return r.error();
  return reg;
}

Result<std::string> Registry::meta(const std::string& key) {
  auto st = db_->prepare("SELECT value FROM meta WHERE key = ?");
  if (!st) return st.error();
  st->bind(1, key);
  auto row = st->step();
  if (!row) return row.error();
  return *row ? st->columnText(0) : std::string();
}

Result<void> Registry::setMeta(const std::string& key, const std::string& value) {
  auto st = db_->prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!st) return st.error();
  st->bind(1, key).bind(2, value);
  return st->run();
}

Result<void> Registry::loadIdentity(const Clock& clock) {
  return db_->transaction([&]() -> Result<void> {
    auto id = meta("cluster_id");
    if (!id) return id.error();
    if (!id->empty()) {
      clusterId_ = *id;
      return success();
    }
    clusterId_ = uuid::v4();
    if (auto r = setMeta("cluster_id", clusterId_); !r) return r;
    return setMeta("created_at", toIso8601(clock.now()));
  });
}

Result<std::string> Registry::newAgentId() {
  std::string id;
  auto r = db_->transaction([&]() -> Result<void> {
    auto seq = meta("next_agent_seq");
    if (!seq) return seq.error();
    int64_t n = seq->empty() ? 0 : std::stoll(*seq);
    id = clusterId_ + "-S" + std::to_string(n);
    return setMeta("next_agent_seq", std::to_string(n + 1));
  });
  if (!r) return r.error();
  return id;
}

Result<void> Registry::putAgent(const AgentRecord& a) {
  auto st = db_->prepare(
      "INSERT INTO agents (id, info, state, registered_at, unreachable_at) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT(id) DO UPDATE SET info = excluded.info, state = excluded.state, "
      "registered_at = excluded.registered_at, unreachable_at = excluded.unreachable_at");
  if (!st) return st.error();
  st->bind(1, a.id).bind(2, a.info.dump()).bind(3, agentStateName(a.state));
  st->bind(4, nanos(a.registeredAt)).bind(5, nanos(a.unreachableAt));
  return st->run();
}

Result<void> Registry::putFramework(const FrameworkRecord& f) {
  auto st = db_->prepare(
      "INSERT INTO frameworks (id, info, completed, registered_at) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(id) DO UPDATE SET info = excluded.info, completed = excluded.completed");
  if (!st) return st.error();
  st->bind(1, f.id).bind(2, f.info.dump()).bind(3, int64_t{f.completed}).bind(4, nanos(f.registeredAt));
  return st->run();
}

Result<void> Registry::putTask(const TaskRecord& t) {
  auto st = db_->prepare(
      "INSERT INTO tasks (framework_id, task_id, agent_id, task, status, state, role, acknowledged) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(framework_id, task_id) DO UPDATE SET "
      "agent_id = excluded.agent_id, task = excluded.task, status = excluded.status, "
      "state = excluded.state, role = excluded.role, acknowledged = excluded.acknowledged");
  if (!st) return st.error();
  st->bind(1, t.frameworkId).bind(2, t.taskId).bind(3, t.agentId).bind(4, t.task.dump());
  st->bind(5, t.status.is_null() ? std::string("{}") : t.status.dump()).bind(6, t.state).bind(7, t.role);
  st->bind(8, int64_t{t.acknowledged});
  return st->run();
}

Result<void> Registry::putTasks(const std::vector<const TaskRecord*>& tasks) {
  return db_->transaction([&]() -> Result<void> {
    for (const TaskRecord* t : tasks) {
      if (auto r = putTask(*t); !r) return r;
    }
    return success();
  });
}

Result<void> Registry::writeTaskChanges(const std::vector<const TaskRecord*>& statuses,
                                        const std::vector<std::pair<std::string, std::string>>& removals) {
  return db_->transaction([&]() -> Result<void> {
    auto update = db_->prepare(
        "UPDATE tasks SET agent_id = ?, status = ?, state = ?, acknowledged = ? WHERE framework_id = ? AND task_id = ?");
    if (!update) return update.error();
    for (const TaskRecord* t : statuses) {
      update->bind(1, t->agentId).bind(2, t->status.is_null() ? std::string("{}") : t->status.dump());
      update->bind(3, t->state).bind(4, int64_t{t->acknowledged}).bind(5, t->frameworkId).bind(6, t->taskId);
      if (auto r = update->run(); !r) return r;
      update->reset();
    }
    for (const auto& [frameworkId, taskId] : removals) {
      if (auto r = removeTask(frameworkId, taskId); !r) return r;
    }
    return success();
  });
}

Result<void> Registry::removeTask(const std::string& frameworkId, const std::string& taskId) {
  auto st = db_->prepare("DELETE FROM tasks WHERE framework_id = ? AND task_id = ?");
  if (!st) return st.error();
  st->bind(1, frameworkId).bind(2, taskId);
  return st->run();
}

Result<Registry::Snapshot> Registry::load() {
  Snapshot snap;
  auto agents = db_->prepare("SELECT id, info, state, registered_at, unreachable_at FROM agents");
  if (!agents) return agents.error();
  while (true) {
    auto row = agents->step();
    if (!row) return row.error();
    if (!*row) break;
    AgentRecord a;
    a.id = agents->columnText(0);
    a.info = Json::parse(agents->columnText(1), nullptr, false);
    a.state = parseAgentState(agents->columnText(2));
    a.registeredAt = fromNanos(agents->columnInt(3));
    a.unreachableAt = fromNanos(agents->columnInt(4));
    if (auto res = Resources::fromJson(a.info.value("resources", Json::array())); res) a.total = *res;
    snap.agents.push_back(std::move(a));
  }
  auto fws = db_->prepare("SELECT id, info, completed, registered_at FROM frameworks");
  if (!fws) return fws.error();
  while (true) {
    auto row = fws->step();
    if (!row) return row.error();
    if (!*row) break;
    FrameworkRecord f;
    f.id = fws->columnText(0);
    f.info = Json::parse(fws->columnText(1), nullptr, false);
    f.completed = fws->columnInt(2) != 0;
    f.registeredAt = fromNanos(fws->columnInt(3));
    snap.frameworks.push_back(std::move(f));
  }
  auto tasks = db_->prepare("SELECT framework_id, task_id, agent_id, task, status, state, role, acknowledged FROM tasks");
  if (!tasks) return tasks.error();
  while (true) {
    auto row = tasks->step();
    if (!row) return row.error();
    if (!*row) break;
    TaskRecord t;
    t.frameworkId = tasks->columnText(0);
    t.taskId = tasks->columnText(1);
    t.agentId = tasks->columnText(2);
    t.task = Json::parse(tasks->columnText(3), nullptr, false);
    t.status = Json::parse(tasks->columnText(4), nullptr, false);
    if (t.status.is_object() && t.status.empty()) t.status = Json();
    t.state = tasks->columnText(5);
    t.role = tasks->columnText(6);
    t.acknowledged = tasks->columnInt(7) != 0;
    if (auto res = Resources::fromJson(t.task.value("resources", Json::array())); res) t.resources = *res;
    snap.tasks.push_back(std::move(t));
  }
  return snap;
}

}  // namespace dcos::kernel
