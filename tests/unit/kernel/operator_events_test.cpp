// The operator API's event publisher and the v1 shapes it sends.
#include "kernel/master/operator_events.hpp"

#include <doctest/doctest.h>

#include <functional>

using namespace dcos;
using namespace dcos::kernel;

namespace {

class RecordingSink : public EventSink {
 public:
  bool send(const Json& event) override {
    if (onSend) onSend();
    if (gone) return false;
    events.push_back(event);
    return true;
  }
  void close() override { gone = true; }

  std::vector<Json> events;
  bool gone = false;
  std::function<void()> onSend;
};

TaskRecord runningTask() {
  TaskRecord t;
  t.frameworkId = "fw-1";
  t.taskId = "web.1";
  t.agentId = "S0";
  t.task = {{"name", "web"}, {"labels", {{"labels", Json::array({{{"key", "tier"}, {"value", "front"}}})}}}};
  t.resources = Resources::parse("cpus:0.5;mem:64").value().allocate("*");
  t.state = "TASK_RUNNING";
  t.status = {{"task_id", {{"value", "web.1"}}}, {"state", "TASK_RUNNING"}, {"uuid", "AAEC"}};
  return t;
}

}  // namespace

TEST_CASE("published events reach every subscriber in order, and a gone subscriber is dropped") {
  OperatorEvents events;
  auto a = std::make_shared<RecordingSink>();
  auto b = std::make_shared<RecordingSink>();
  events.subscribe(a);
  events.subscribe(b);
  events.publish(heartbeatEvent());
  b->gone = true;
  events.publish(agentRemovedEvent("S1"));
  CHECK(events.size() == 1);
  events.publish(heartbeatEvent());
  REQUIRE(a->events.size() == 3);
  CHECK(a->events[1] == Json{{"type", "AGENT_REMOVED"}, {"agent_removed", {{"agent_id", {{"value", "S1"}}}}}});
  CHECK(b->events.size() == 1);

  events.unsubscribe(a.get());
  CHECK(events.empty());
  events.publish(heartbeatEvent());
  CHECK(a->events.size() == 3);
}

TEST_CASE("a subscriber that unsubscribes while an event is delivered does not disturb the others") {
  OperatorEvents events;
  auto a = std::make_shared<RecordingSink>();
  auto b = std::make_shared<RecordingSink>();
  a->onSend = [&] { events.unsubscribe(a.get()); };
  events.subscribe(a);
  events.subscribe(b);
  events.publish(heartbeatEvent());
  CHECK(a->events.size() == 1);
  CHECK(b->events.size() == 1);
  CHECK(events.size() == 1);
}

TEST_CASE("a task is rendered as a mesos.v1.Task and its events carry Mesos' field names") {
  TaskRecord t = runningTask();
  Json task = v1Task(t);
  CHECK(task["name"] == "web");
  CHECK(task["task_id"] == Json{{"value", "web.1"}});
  CHECK(task["framework_id"] == Json{{"value", "fw-1"}});
  CHECK(task["agent_id"] == Json{{"value", "S0"}});
  CHECK(task["state"] == "TASK_RUNNING");
  CHECK(task["status_update_state"] == "TASK_RUNNING");
  CHECK(task["status_update_uuid"] == "AAEC");
  CHECK(task["statuses"].size() == 1);
  CHECK(task["labels"]["labels"][0]["key"] == "tier");
  REQUIRE(task["resources"].is_array());
  CHECK(task["resources"].size() == 2);
  CHECK(!task.contains("executor_id"));

  Json added = taskAddedEvent(t);
  CHECK(added["type"] == "TASK_ADDED");
  CHECK(added["task_added"]["task"] == task);
  Json updated = taskUpdatedEvent(t);
  CHECK(updated["type"] == "TASK_UPDATED");
  CHECK(updated["task_updated"]["framework_id"] == Json{{"value", "fw-1"}});
  CHECK(updated["task_updated"]["state"] == "TASK_RUNNING");
  CHECK(updated["task_updated"]["status"] == t.status);

  CHECK(frameworkRemovedEvent({{"id", {{"value", "fw-1"}}}})["framework_removed"]["framework_info"]["id"]["value"] ==
        "fw-1");
  CHECK(frameworkAddedEvent({{"active", true}})["framework_added"]["framework"]["active"] == true);
  CHECK(frameworkUpdatedEvent({{"active", false}})["type"] == "FRAMEWORK_UPDATED");
  CHECK(agentAddedEvent({{"active", true}})["agent_added"]["agent"]["active"] == true);
  CHECK(timeInfo(TimePoint(std::chrono::seconds(2))) == Json{{"nanoseconds", 2'000'000'000}});
}
