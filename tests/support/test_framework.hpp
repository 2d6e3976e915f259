#pragma once
// A small Mesos framework for tests: launches a set of command tasks on the offers it gets,
// acknowledges every update, and records what happened to each task. Works with either
// scheduler driver. Thread-safe accessors.

#include "common/json.hpp"
#include "kernel/driver/scheduler_driver.hpp"

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace dcos::test {

class TestFramework : public kernel::Scheduler {
 public:
  struct TaskSpec {
    std::string id;
    std::string command;
    std::string resources = "cpus:0.1;mem:16";
    Json uris = nullptr;      // command.uris when set
    Json executor = nullptr;  // an ExecutorInfo: the task runs on it instead of `command`
  };

  // Tasks to launch as offers allow; launched ones are not launched again by this framework.
  void addTasks(const std::vector<TaskSpec>& tasks);
  void setDriver(kernel::SchedulerDriver* driver);

  void received(const Json& event) override;
  void disconnected(const std::string& why) override;

  std::string frameworkId() const;
  std::string state(const std::string& taskId) const;               // "" if no update yet
  std::vector<std::string> history(const std::string& taskId) const;
  Json lastStatus(const std::string& taskId) const;                 // null if no update yet
  int countInState(const std::string& state) const;
  int subscriptions() const;
  int disconnections() const;
  std::vector<Json> errors() const;  // TASK_ERROR/DROPPED messages and ERROR events
  bool sawEvent(const std::string& type) const;
  std::string agentOf(const std::string& taskId) const;

 private:
  void onOffers(const Json& offers);
  mutable std::mutex mu_;
  kernel::SchedulerDriver* driver_ = nullptr;
  std::vector<TaskSpec> pending_;
  std::set<std::string> launched_;
  std::map<std::string, std::vector<std::string>> history_;
  std::map<std::string, std::string> agents_;
  std::map<std::string, Json> lastStatus_;
  std::vector<Json> errors_;
  std::set<std::string> eventTypes_;
  std::string frameworkId_;
  int subscriptions_ = 0;
  int disconnections_ = 0;
};

// A FrameworkInfo for tests.
Json testFrameworkInfo(const std::string& name, double failoverTimeoutSeconds = 60, bool partitionAware = true);

}  // namespace dcos::test
