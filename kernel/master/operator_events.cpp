#include "kernel/master/operator_events.hpp"

#include "kernel/master/protocol.hpp"

#include <algorithm>

namespace dcos::kernel {

void OperatorEvents::subscribe(std::shared_ptr<EventSink> sink) {
  if (sink) sinks_.push_back(std::move(sink));
}

void OperatorEvents::unsubscribe(const EventSink* sink) {
  std::erase_if(sinks_, [sink](const auto& s) { return s.get() == sink; });
}

void OperatorEvents::publish(const Json& event) {
  // A send may end a stream, whose close handler unsubscribes: iterate over a copy.
  auto sinks = sinks_;
  for (const auto& s : sinks) {
    if (!s->send(event)) unsubscribe(s.get());
  }
}

Json timeInfo(TimePoint t) {
  return {{"nanoseconds", std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count()}};
}

Json v1Task(const TaskRecord& t) {
  Json j = {{"name", t.task.value("name", t.taskId)},
            {"task_id", idJson(t.taskId)},
            {"framework_id", idJson(t.frameworkId)},
            {"agent_id", idJson(t.agentId)},
            {"state", t.state},
            {"resources", t.resources.toJson()},
            {"statuses", t.statusesJson()}};
  if (t.task.contains("executor") && t.task["executor"].is_object() && t.task["executor"].contains("executor_id")) {
    j["executor_id"] = t.task["executor"]["executor_id"];
  }
  // The latest update forwarded to the framework; both fields or neither, as Mesos requires.
  if (t.status.is_object() && t.status.contains("uuid") && t.status.contains("state")) {
    j["status_update_state"] = t.status["state"];
    j["status_update_uuid"] = t.status["uuid"];
  }
  for (const char* f : {"labels", "discovery", "container", "health_check", "kill_policy", "limits"}) {
    if (t.task.contains(f)) j[f] = t.task[f];
  }
  if (t.task.contains("command") && t.task["command"].is_object() && t.task["command"].contains("user")) {
    j["user"] = t.task["command"]["user"];
  }
  return j;
}

Json taskAddedEvent(const TaskRecord& task) {
  return {{"type", "TASK_ADDED"}, {"task_added", {{"task", v1Task(task)}}}};
}

Json taskUpdatedEvent(const TaskRecord& task) {
  Json status = task.status.is_null() ? Json{{"task_id", idJson(task.taskId)}, {"state", task.state}} : task.status;
  return {{"type", "TASK_UPDATED"},
          {"task_updated", {{"framework_id", idJson(task.frameworkId)}, {"status", status}, {"state", task.state}}}};
}

Json agentAddedEvent(Json agent) {
  return {{"type", "AGENT_ADDED"}, {"agent_added", {{"agent", std::move(agent)}}}};
}

Json agentRemovedEvent(const std::string& agentId) {
  return {{"type", "AGENT_REMOVED"}, {"agent_removed", {{"agent_id", idJson(agentId)}}}};
}

Json frameworkAddedEvent(Json framework) {
  return {{"type", "FRAMEWORK_ADDED"}, {"framework_added", {{"framework", std::move(framework)}}}};
}

Json frameworkUpdatedEvent(Json framework) {
  return {{"type", "FRAMEWORK_UPDATED"}, {"framework_updated", {{"framework", std::move(framework)}}}};
}

Json frameworkRemovedEvent(Json frameworkInfo) {
  return {{"type", "FRAMEWORK_REMOVED"}, {"framework_removed", {{"framework_info", std::move(frameworkInfo)}}}};
}

Json heartbeatEvent() { return {{"type", "HEARTBEAT"}}; }

}  // namespace dcos::kernel
