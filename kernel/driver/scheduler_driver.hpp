#pragma once
// How a framework talks to the master: the Mesos v1 scheduler protocol behind one interface,
// with two implementations that pass the same contract tests —
//  - HTTP (makeHttpDriver): for frameworks in another process; SUBSCRIBE over
//    POST /api/v1/scheduler with a RecordIO event stream, calls as further POSTs;
//  - in-process (makeInProcessDriver): for frameworks the master hosts itself (the service
//    scheduler), calling the Master directly on its event loop.
// Both resubscribe with the framework id after losing the connection (a master restart), with
// backoff, until stop().

#include "common/event_loop.hpp"
#include "common/json.hpp"
#include "common/result.hpp"

#include <memory>
#include <string>

namespace dcos::kernel {

class Master;

// Receives the framework's events. Threading: the HTTP driver calls it on its own stream
// thread; the in-process driver on the master's event loop. Never concurrently.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Every event as the master sent it (SUBSCRIBED, OFFERS, UPDATE, RESCIND, HEARTBEAT, ...).
  virtual void received(const Json& event) = 0;
  // The subscription ended; the driver resubscribes unless stopped.
  virtual void disconnected(const std::string& why) { (void)why; }
};

class SchedulerDriver {
 public:
  virtual ~SchedulerDriver() = default;
  // Subscribes (and keeps resubscribing after disconnections) until stop().
  virtual void start() = 0;
  // Ends the subscription; the framework stays registered until its failover_timeout.
  virtual void stop() = 0;
  // Sends a non-SUBSCRIBE call; framework_id is filled in. Fails when not subscribed or when the
  // master refuses the call (its message and details are kept).
  virtual Result<void> send(Json call) = 0;
  // Empty until the first SUBSCRIBED.
  virtual std::string frameworkId() const = 0;
};

// `master` is "host:port" or an http(s) URL. frameworkInfo is Mesos' FrameworkInfo; its "id",
// when set, resubscribes an existing framework.
std::unique_ptr<SchedulerDriver> makeHttpDriver(const std::string& master, Json frameworkInfo, Scheduler& scheduler);
// All calls, including send(), on `loop`'s thread.
std::unique_ptr<SchedulerDriver> makeInProcessDriver(EventLoop& loop, Master& master, Json frameworkInfo,
                                                     Scheduler& scheduler);

}  // namespace dcos::kernel
