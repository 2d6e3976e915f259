#pragma once
// Reliable task status updates, agent side. Each task has a FIFO of updates; only its head is
// in flight. The head is (re)sent with exponential backoff until the framework's
// acknowledgement for its uuid comes back through the master; then the next one goes. Pure
// bookkeeping over an injected clock: the agent asks what is due, sends it, and arms a timer.

#include "common/clock.hpp"
#include "common/json.hpp"

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dcos::kernel {

struct StatusUpdate {
  std::string frameworkId;
  std::string taskId;
  std::string uuid;  // base64, as in TaskStatus.uuid
  Json status;       // the whole TaskStatus, uuid included
};

class StatusUpdateQueue {
 public:
  explicit StatusUpdateQueue(const Clock& clock, Duration initialBackoff = std::chrono::seconds(1),
                             Duration maxBackoff = std::chrono::seconds(30));

  // Queues an update behind the task's earlier ones. A new head is due at once.
  void add(StatusUpdate update);

  // The acknowledgement for `uuid`. True when it matches the head of the task's queue: the head
  // is dropped and the next update (if any) is due at once. Stale or unknown acks return false.
  bool acknowledge(const std::string& frameworkId, const std::string& taskId, const std::string& uuid);

  // The heads that are due now, oldest task first. Each is considered sent now: its next resend
  // is due after its backoff, which then doubles up to the maximum.
  std::vector<StatusUpdate> takeDue();

  // When the next head becomes due (nullopt when nothing is queued), to arm a timer.
  std::optional<TimePoint> nextDue() const;

  // After a reconnection: every head is due at once with its backoff reset.
  void resetBackoff();

  // Drops every update of a task (e.g. its framework is gone for good).
  void forget(const std::string& frameworkId, const std::string& taskId);

  size_t size() const;  // all queued updates, heads included
  bool pending(const std::string& frameworkId, const std::string& taskId) const;
  // The queued updates of a task, head first (for the agent's /state).
  std::vector<StatusUpdate> updatesOf(const std::string& frameworkId, const std::string& taskId) const;

 private:
  struct TaskQueue {
    std::deque<StatusUpdate> updates;
    TimePoint due;
    Duration backoff;
    uint64_t order = 0;  // when the task's queue was created, to keep "oldest task first"
  };
  using Key = std::pair<std::string, std::string>;

  const Clock& clock_;
  Duration initialBackoff_, maxBackoff_;
  std::map<Key, TaskQueue> queues_;
  uint64_t nextOrder_ = 0;
};

// A new random 16-byte update uuid, base64-encoded.
std::string newUpdateUuid();

}  // namespace dcos::kernel
