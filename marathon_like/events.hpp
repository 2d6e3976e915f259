#pragma once
// Marathon's event bus: `GET /v2/events` as Server-Sent Events, and in-process listeners.
//
// Every Marathon event is one JSON object with "eventType" and "timestamp" (ISO 8601 UTC with
// milliseconds) next to its payload fields, sent as one SSE event named after its type:
//   event: status_update_event
//   data: {"appId":"/web","taskStatus":"TASK_RUNNING",...,"eventType":"status_update_event","timestamp":"..."}
//
// The HTTP side, as Marathon answers it:
// - Query `event_type` (repeatable): only those types reach the subscriber; a name no event has
//   simply matches nothing. Without it, every event is sent.
// - Query `plan-format=light`: Marathon's lightweight events. Events that carry a deployment
//   "plan" (deployment_info, deployment_step_success, deployment_step_failure) lose the plan's
//   "original" and "target" groups, which make the heavy format huge in big clusters. Any other
//   value (or none) sends the full events.
// - A new subscriber causes `event_stream_attached` {"remoteAddress": "<ip>"}, published to every
//   subscriber (the new one included, filters permitting), as Marathon does; its disconnecting
//   causes `event_stream_detached` with the same payload, published to those that remain.
// - Query `replay=N` (our addition; Marathon has no history): the stream starts with the last N
//   (at most kReplay) events published before the subscription, filters applied, in the light
//   plan format, so a dashboard opened now shows what just happened. Marathon clients do not send
//   it and get exactly Marathon's stream.
// - Accept: Marathon (Jetty's EventSource servlet) insists on `Accept: text/event-stream` and
//   answers anything else with an HTML 405. We are more lenient because `curl host/v2/events`
//   sends `Accept: */*`: a request with no Accept header, or one admitting text/event-stream
//   (text/event-stream, text/*, */*), gets the stream; one that admits only other types (e.g.
//   `Accept: application/json`) gets a JSON 406 naming the type to ask for.
// - Heartbeat: an SSE comment (": heartbeat") every heartbeatInterval while anyone is subscribed,
//   so proxies and load balancers keep idle streams open. Timed by the loop's real timers, not
//   by the injected Clock (which only stamps events).
// - A client that stops reading: Marathon drops a subscriber with more than
//   `event_stream_max_outstanding_messages` unsent events. http::ResponseStream queues without
//   bound and does not tell how much is queued, so here such a client is cut off only by the
//   server's writeTimeout (a chunk write stuck for that long, 60 s by default); until then its
//   queue grows. Bounding it needs a queue-depth accessor on ResponseStream (see events.cpp).
//
// Threading: everything runs on the master's event loop. publish(), registerRoutes' handlers,
// addListener and removeListener are loop-thread only; subscriberCount() is safe from any thread.
// Destroy the bus on the loop thread, or after the loop has stopped.

#include "common/clock.hpp"
#include "common/event_loop.hpp"
#include "common/http/router.hpp"
#include "common/json.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dcos::marathon {

class EventBus {
 public:
  static constexpr size_t kReplay = 100;  // events kept for `replay`

  // `loop` is the master's event loop; everything runs on it (publish() is called on the loop
  // thread). `clock` stamps each event's "timestamp". Both must outlive the bus.
  EventBus(EventLoop& loop, const Clock& clock, Duration heartbeatInterval = std::chrono::seconds(15));
  // Closes every stream (without publishing event_stream_detached) and stops the heartbeat.
  ~EventBus();
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Adds "eventType" and "timestamp" to payload (an object; anything else is replaced by an
  // empty object) and sends it to every subscriber whose filter admits it, in subscription
  // order, then to every in-process listener. A subscriber whose stream is gone is dropped.
  void publish(const std::string& eventType, Json payload);

  // GET <prefix>/v2/events for each prefix (e.g. "" and "/marathon"). Answers 200 with
  // Content-Type text/event-stream and Cache-Control no-cache, no-store, must-revalidate, then
  // streams events until the client goes away or the bus is destroyed. See the header comment
  // for the query parameters and the Accept header. The router must not outlive the bus.
  void registerRoutes(http::Router& router, const std::vector<std::string>& prefixes);

  // In-process listeners (the dashboard, DNS): called synchronously on publish, after the
  // subscribers, with the full event JSON. A listener may add or remove listeners; one removed
  // during a publish is not called for that event if it has not been yet.
  uint64_t addListener(std::function<void(const Json& event)> fn);
  // Unknown ids are ignored.
  void removeListener(uint64_t id);

  size_t subscriberCount() const { return subscriberCount_.load(); }

 private:
  struct Subscriber {
    std::shared_ptr<http::ResponseStream> stream;
    std::set<std::string> types;  // empty: every type
    bool light = false;
    std::string remoteAddress;
  };

  void subscribe(const http::Request& request, const http::Responder& responder);
  void unsubscribe(uint64_t id);
  void armHeartbeat();
  void heartbeat();

  EventLoop& loop_;
  const Clock& clock_;
  Duration heartbeatInterval_;
  std::map<uint64_t, Subscriber> subscribers_;  // by id, which grows: subscription order
  uint64_t nextSubscriber_ = 1;
  std::atomic<size_t> subscriberCount_{0};
  std::map<uint64_t, std::function<void(const Json&)>> listeners_;
  uint64_t nextListener_ = 1;
  std::optional<EventLoop::TimerId> heartbeatTimer_;
  std::deque<std::pair<std::string, Json>> recent_;  // (type, light event), oldest first
  // Callbacks the bus leaves behind (stream close handlers, the heartbeat timer) hold a weak
  // reference to this and do nothing once the bus is gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// "YYYY-MM-DDTHH:MM:SS.mmmZ" in UTC, the form of Marathon's timestamps and versions.
std::string isoTimestamp(TimePoint t);

// The event as a `plan-format=light` subscriber sees it: a "plan" object loses "original" and
// "target"; anything else is unchanged.
Json lightEvent(const Json& event);

}  // namespace dcos::marathon
