#include "tests/support/test_framework.hpp"

#include "kernel/resources/resources.hpp"

namespace dcos::test {

Json testFrameworkInfo(const std::string& name, double failoverTimeoutSeconds, bool partitionAware) {
  Json info = {{"user", "root"}, {"name", name}, {"failover_timeout", failoverTimeoutSeconds}};
  if (partitionAware) info["capabilities"] = Json::array({{{"type", "PARTITION_AWARE"}}});
  return info;
}

void TestFramework::addTasks(const std::vector<TaskSpec>& tasks) {
  std::lock_guard lock(mu_);
  pending_.insert(pending_.end(), tasks.begin(), tasks.end());
}

void TestFramework::setDriver(kernel::SchedulerDriver* driver) {
  std::lock_guard lock(mu_);
  driver_ = driver;
}

void TestFramework::received(const Json& event) {
  std::string type = event.value("type", "");
  kernel::SchedulerDriver* driver;
  {
    std::lock_guard lock(mu_);
    eventTypes_.insert(type);
    driver = driver_;
    if (type == "SUBSCRIBED") {
      frameworkId_ = event["subscribed"]["framework_id"].value("value", "");
      ++subscriptions_;
    } else if (type == "ERROR") {
      errors_.push_back(event);
    }
  }
  if (type == "OFFERS") {
    onOffers(event["offers"].value("offers", Json::array()));
  } else if (type == "UPDATE") {
    const Json& st = event["update"]["status"];
    std::string taskId = st["task_id"].value("value", "");
    std::string state = st.value("state", "");
    {
      std::lock_guard lock(mu_);
      history_[taskId].push_back(state);
      lastStatus_[taskId] = st;
      if (st.contains("agent_id")) agents_[taskId] = st["agent_id"].value("value", "");
      if (state == "TASK_ERROR" || state == "TASK_DROPPED") errors_.push_back(st);
    }
    if (st.contains("uuid") && driver) {
      (void)driver->send({{"type", "ACKNOWLEDGE"},
                          {"acknowledge", {{"agent_id", st["agent_id"]}, {"task_id", st["task_id"]}, {"uuid", st["uuid"]}}}});
    }
  }
}

void TestFramework::onOffers(const Json& offers) {
  kernel::SchedulerDriver* driver;
  {
    std::lock_guard lock(mu_);
    driver = driver_;
  }
  if (!driver) return;
  for (const auto& offer : offers) {
    auto available = kernel::Resources::fromJson(offer["resources"]);
    if (!available) continue;
    kernel::Resources left = available->unallocated();
    Json launches = Json::array();
    {
      std::lock_guard lock(mu_);
      for (auto it = pending_.begin(); it != pending_.end();) {
        auto need = kernel::Resources::parse(it->resources);
        if (!need || !left.contains(*need)) {
          ++it;
          continue;
        }
        left -= *need;
        Json task = {{"name", it->id}, {"task_id", {{"value", it->id}}}, {"agent_id", offer["agent_id"]},
                     {"resources", need->toJson()}};
        if (it->executor.is_null()) {
          Json command = {{"value", it->command}, {"shell", true}};
          if (!it->uris.is_null()) command["uris"] = it->uris;
          task["command"] = command;
        } else {
          task["executor"] = it->executor;
          task["executor"]["framework_id"] = {{"value", frameworkId_}};
        }
        launches.push_back(std::move(task));
        launched_.insert(it->id);
        it = pending_.erase(it);
      }
    }
    Json call;
    if (launches.empty()) {
      call = {{"type", "DECLINE"}, {"decline", {{"offer_ids", {offer["id"]}}, {"filters", {{"refuse_seconds", 1}}}}}};
    } else {
      call = {{"type", "ACCEPT"},
              {"accept",
               {{"offer_ids", {offer["id"]}},
                {"operations", {{{"type", "LAUNCH"}, {"launch", {{"task_infos", launches}}}}}},
                {"filters", {{"refuse_seconds", 1}}}}}};
    }
    (void)driver->send(call);
  }
}

void TestFramework::disconnected(const std::string&) {
  std::lock_guard lock(mu_);
  ++disconnections_;
}

std::string TestFramework::frameworkId() const {
  std::lock_guard lock(mu_);
  return frameworkId_;
}

std::string TestFramework::state(const std::string& taskId) const {
  std::lock_guard lock(mu_);
  auto it = history_.find(taskId);
  return it == history_.end() || it->second.empty() ? "" : it->second.back();
}

Json TestFramework::lastStatus(const std::string& taskId) const {
  std::lock_guard lock(mu_);
  auto it = lastStatus_.find(taskId);
  return it == lastStatus_.end() ? Json() : it->second;
}

std::vector<std::string> TestFramework::history(const std::string& taskId) const {
  std::lock_guard lock(mu_);
  auto it = history_.find(taskId);
  return it == history_.end() ? std::vector<std::string>{} : it->second;
}

int TestFramework::countInState(const std::string& state) const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& [id, h] : history_) n += !h.empty() && h.back() == state;
  return n;
}

int TestFramework::subscriptions() const {
  std::lock_guard lock(mu_);
  return subscriptions_;
}

int TestFramework::disconnections() const {
  std::lock_guard lock(mu_);
  return disconnections_;
}

std::vector<Json> TestFramework::errors() const {
  std::lock_guard lock(mu_);
  return errors_;
}

bool TestFramework::sawEvent(const std::string& type) const {
  std::lock_guard lock(mu_);
  return eventTypes_.count(type) > 0;
}

std::string TestFramework::agentOf(const std::string& taskId) const {
  std::lock_guard lock(mu_);
  auto it = agents_.find(taskId);
  return it == agents_.end() ? "" : it->second;
}

}  // namespace dcos::test
