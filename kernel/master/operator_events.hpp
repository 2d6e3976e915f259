#pragma once
// The event stream of the Mesos v1 operator API (POST /api/v1 {"type": "SUBSCRIBE"}): the set of
// subscribers, and the shapes of the events (mesos.v1.master.Event). The master builds an event
// where its state changes and calls publish(); this class fans it out and forgets subscribers
// that have gone away. Loop thread only, like the rest of the master.

#include "common/clock.hpp"
#include "common/json.hpp"
#include "kernel/master/records.hpp"

#include <memory>
#include <string>
#include <vector>

namespace dcos::kernel {

class OperatorEvents {
 public:
  // Adds a subscriber; it receives every event published from now on.
  void subscribe(std::shared_ptr<EventSink> sink);
  // Forgets a subscriber (its stream ended). Unknown sinks are ignored.
  void unsubscribe(const EventSink* sink);
  // Sends `event` to every subscriber, in subscription order. A subscriber whose send() returns
  // false (its client is gone) is dropped.
  void publish(const Json& event);

  bool empty() const { return sinks_.empty(); }
  size_t size() const { return sinks_.size(); }

 private:
  std::vector<std::shared_ptr<EventSink>> sinks_;
};

// mesos.v1.TimeInfo: {"nanoseconds": <since the epoch>}.
Json timeInfo(TimePoint t);
// mesos.v1.Task for a task the master knows (statuses holds the latest status only).
Json v1Task(const TaskRecord& task);

// The events. `agent` is a Response.GetAgents.Agent, `framework` a Response.GetFrameworks.Framework.
Json taskAddedEvent(const TaskRecord& task);
Json taskUpdatedEvent(const TaskRecord& task);  // {framework_id, status (latest), state}
Json agentAddedEvent(Json agent);
Json agentRemovedEvent(const std::string& agentId);
Json frameworkAddedEvent(Json framework);
Json frameworkUpdatedEvent(Json framework);
Json frameworkRemovedEvent(Json frameworkInfo);
Json heartbeatEvent();

}  // namespace dcos::kernel
