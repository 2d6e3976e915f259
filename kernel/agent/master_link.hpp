#pragma once
// The agent's connection to its master (docs/ARCHITECTURE.md, "Agent ↔ master protocol"): one
// SUBSCRIBE call at a time on a dedicated thread, whose chunked RecordIO answer carries the
// master's events; other calls (UPDATE, PONG) are short POSTs on the loop's blocking pool that
// carry the stream's Mesos-Stream-Id. Reconnecting (when, and with which SUBSCRIBE body) is the
// agent's decision: the link only reports that a stream ended.

#include "common/clock.hpp"
#include "common/event_loop.hpp"
#include "common/json.hpp"
#include "common/result.hpp"

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace dcos::kernel {

class MasterLink {
 public:
  // Every handler runs on the loop thread.
  struct Handlers {
    // One event of the current stream, in order; a stream's first event is SUBSCRIBED.
    std::function<void(const Json& event)> onEvent;
    // The current stream ended or could not be opened. `status` is the HTTP status when the
    // master answered with something other than 200 (403: this agent was removed; 401: the join
    // token is missing or wrong), else 0.
    std::function<void(const Error& why, int status)> onClosed;
  };

  // `master` is "host:port" (or a base URL "http://host:port"). A `joinToken` goes with every
  // request as `Authorization: Bearer <token>` (kernel/master/join_token.hpp).
  MasterLink(EventLoop& loop, std::string master, Handlers handlers, std::string joinToken = "");
  // stop()s.
  ~MasterLink();
  MasterLink(const MasterLink&) = delete;
  MasterLink& operator=(const MasterLink&) = delete;

  // Opens a stream with this SUBSCRIBE call. `idleTimeout` ends a stream on which nothing
  // arrived for that long (a dead master or a broken network). Loop thread; the previous
  // stream must have been reported closed.
  void subscribe(const Json& call, Duration idleTimeout);

  // POSTs a call with the current stream's Mesos-Stream-Id. `done` (may be empty) gets the
  // HTTP status or the transport error, on the loop thread, unless the link stopped first.
  void call(const Json& call, std::function<void(Result<int> status)> done = {});

  // True from the stream's response head to its end.
  bool connected() const { return connected_; }
  const std::string& streamId() const { return streamId_; }
  const std::string& master() const { return master_; }

  // No handler or `done` runs after this. A stream in progress is cancelled (its connection
  // closed) and its thread joined. Call before the loop is destroyed. Idempotent.
  void stop();

 private:
  struct Channel;
  static void streamThread(std::shared_ptr<Channel> channel, uint64_t generation, std::string url,
                           std::string authorization, std::string body, Duration idle);

  EventLoop& loop_;
  std::string master_;
  std::string url_;
  std::string authorization_;  // the Authorization header's value, "" for none
  Handlers handlers_;
  std::shared_ptr<Channel> channel_;
  std::thread thread_;      // the stream
  std::thread callThread_;  // calls, one at a time
  uint64_t generation_ = 0;
  bool connected_ = false;
  std::string streamId_;
};

}  // namespace dcos::kernel
