#include "kernel/agent/status_updates.hpp"

#include "kernel/agent/paths.hpp"

#include <algorithm>

namespace dcos::kernel {

StatusUpdateQueue::StatusUpdateQueue(const Clock& clock, Duration initialBackoff, Duration maxBackoff)
    : clock_(clock), initialBackoff_(initialBackoff), maxBackoff_(maxBackoff) {}

void StatusUpdateQueue::add(StatusUpdate update) {
  Key key{update.frameworkId, update.taskId};
  auto [it, created] = queues_.try_emplace(key);
  TaskQueue& q = it->second;
  if (created) {
    q.due = clock_.now();
    q.backoff = initialBackoff_;
    q.order = nextOrder_++;
  }
  q.updates.push_back(std::move(update));
}

bool StatusUpdateQueue::acknowledge(const std::string& frameworkId, const std::string& taskId,
                                    const std::string& uuid) {
  auto it = queues_.find({frameworkId, taskId});
  if (it == queues_.end() || it->second.updates.front().uuid != uuid) return false;
  TaskQueue& q = it->second;
  q.updates.pop_front();
  if (q.updates.empty()) {
    queues_.erase(it);
  } else {
    q.due = clock_.now();
    q.backoff = initialBackoff_;
  }
  return true;
}

std::vector<StatusUpdate> StatusUpdateQueue::takeDue() {
  TimePoint now = clock_.now();
  std::vector<std::pair<uint64_t, TaskQueue*>> due;
  for (auto& [key, q] : queues_) {
    if (q.due <= now) due.emplace_back(q.order, &q);
  }
  std::sort(due.begin(), due.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<StatusUpdate> out;
  for (auto& [order, q] : due) {
    out.push_back(q->updates.front());
    q->due = now + q->backoff;
    q->backoff = std::min(q->backoff * 2, maxBackoff_);
  }
  return out;
}

std::optional<TimePoint> StatusUpdateQueue::nextDue() const {
  std::optional<TimePoint> next;
  for (const auto& [key, q] : queues_) {
    if (!next || q.due < *next) next = q.due;
  }
  return next;
}

void StatusUpdateQueue::resetBackoff() {
  TimePoint now = clock_.now();
  for (auto& [key, q] : queues_) {
    q.due = now;
    q.backoff = initialBackoff_;
  }
}

void StatusUpdateQueue::forget(const std::string& frameworkId, const std::string& taskId) {
  queues_.erase({frameworkId, taskId});
}

size_t StatusUpdateQueue::size() const {
  size_t n = 0;
  for (const auto& [key, q] : queues_) n += q.updates.size();
  return n;
}

bool StatusUpdateQueue::pending(const std::string& frameworkId, const std::string& taskId) const {
  return queues_.count({frameworkId, taskId}) > 0;
}

std::vector<StatusUpdate> StatusUpdateQueue::updatesOf(const std::string& frameworkId,
                                                       const std::string& taskId) const {
  auto it = queues_.find({frameworkId, taskId});
  if (it == queues_.end()) return {};
  return {it->second.updates.begin(), it->second.updates.end()};
}

std::string newUpdateUuid() { return base64Encode(randomBytes(16)); }

}  // namespace dcos::kernel
