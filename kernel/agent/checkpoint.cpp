#include "kernel/agent/checkpoint.hpp"

#include "common/store/sqlite.hpp"

namespace dcos::kernel {
namespace {

const std::vector<store::Migration> kMigrations = {
    {1,
     "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
     "CREATE TABLE tasks (key TEXT PRIMARY KEY, data TEXT NOT NULL);"
     "CREATE TABLE updates (id INTEGER PRIMARY KEY AUTOINCREMENT, framework_id TEXT NOT NULL,"
     "  task_id TEXT NOT NULL, uuid TEXT NOT NULL, status TEXT NOT NULL);"
     "CREATE INDEX updates_by_task ON updates (framework_id, task_id);"}};

Result<void> run(store::Database& db, const std::string& sql, const std::vector<std::string>& args) {
  auto st = db.prepare(sql);
  if (!st) return st.error();
  for (size_t i = 0; i < args.size(); ++i) st->bind(static_cast<int>(i + 1), args[i]);
  return st->run();
}

}  // namespace

AgentCheckpoint::AgentCheckpoint(std::unique_ptr<store::Database> db) : db_(std::move(db)) {}
AgentCheckpoint::~AgentCheckpoint() = default;

Result<std::unique_ptr<AgentCheckpoint>> AgentCheckpoint::open(const std::string& workDir) {
  auto db = store::Database::open(workDir + "/agent.db", {.synchronousFull = true});
  if (!db) return db.error();
  if (auto r = (*db)->migrate(kMigrations); !r) return r.error();
  return std::unique_ptr<AgentCheckpoint>(new AgentCheckpoint(std::move(*db)));
}

Result<AgentCheckpoint::Loaded> AgentCheckpoint::load() {
  Loaded out;
  auto parse = [](const std::string& text) { return Json::parse(text, nullptr, false); };
  auto meta = db_->prepare("SELECT value FROM meta WHERE key = 'resources'");
  if (!meta) return meta.error();
  if (auto row = meta->step(); !row) {
    return row.error();
  } else if (*row) {
    out.resources = parse(meta->columnText(0));
  }
  auto tasks = db_->prepare("SELECT data FROM tasks ORDER BY key");
  if (!tasks) return tasks.error();
  for (;;) {
    auto row = tasks->step();
    if (!row) return row.error();
    if (!*row) break;
    Json t = parse(tasks->columnText(0));
    if (t.is_object()) out.tasks.push_back(std::move(t));
  }
  auto updates = db_->prepare("SELECT framework_id, task_id, uuid, status FROM updates ORDER BY id");
  if (!updates) return updates.error();
  for (;;) {
    auto row = updates->step();
    if (!row) return row.error();
    if (!*row) break;
    Json status = parse(updates->columnText(3));
    if (!status.is_object()) continue;
    out.updates.push_back({updates->columnText(0), updates->columnText(1), updates->columnText(2), std::move(status)});
  }
  return out;
}

void AgentCheckpoint::putResources(const Json& resources) {
  ops_.push_back([text = resources.dump()](store::Database& db) {
    return run(db, "INSERT OR REPLACE INTO meta (key, value) VALUES ('resources', ?)", {text});
  });
}

void AgentCheckpoint::putTask(const std::string& key, const Json& task) { tasks_[key] = task.dump(); }
void AgentCheckpoint::removeTask(const std::string& key) { tasks_[key] = std::nullopt; }

void AgentCheckpoint::addUpdate(const StatusUpdate& u) {
  ops_.push_back([u](store::Database& db) {
    return run(db, "INSERT INTO updates (framework_id, task_id, uuid, status) VALUES (?, ?, ?, ?)",
               {u.frameworkId, u.taskId, u.uuid, u.status.dump()});
  });
}

void AgentCheckpoint::acknowledge(const std::string& frameworkId, const std::string& taskId, const std::string& uuid) {
  ops_.push_back([=](store::Database& db) {
    return run(db, "DELETE FROM updates WHERE framework_id = ? AND task_id = ? AND uuid = ?", {frameworkId, taskId, uuid});
  });
}

void AgentCheckpoint::forgetUpdates(const std::string& frameworkId, const std::string& taskId) {
  ops_.push_back([=](store::Database& db) {
    return run(db, "DELETE FROM updates WHERE framework_id = ? AND task_id = ?", {frameworkId, taskId});
  });
}

void AgentCheckpoint::clear() {
  tasks_.clear();
  ops_.clear();
  ops_.push_back([](store::Database& db) { return db.exec("DELETE FROM meta; DELETE FROM tasks; DELETE FROM updates;"); });
}

Result<void> AgentCheckpoint::commit() {
  if (!dirty()) return success();
  auto ops = std::move(ops_);
  auto tasks = std::move(tasks_);
  ops_.clear();
  tasks_.clear();
  return db_->transaction([&]() -> Result<void> {
    for (auto& op : ops) {
      if (auto r = op(*db_); !r) return r;
    }
    for (auto& [key, data] : tasks) {
      auto r = data ? run(*db_, "INSERT OR REPLACE INTO tasks (key, data) VALUES (?, ?)", {key, *data})
                    : run(*db_, "DELETE FROM tasks WHERE key = ?", {key});
      if (!r) return r;
    }
    return success();
  });
}

}  // namespace dcos::kernel
