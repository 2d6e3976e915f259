#include "kernel/agent/status_updates.hpp"

#include <doctest/doctest.h>

using namespace dcos;
using namespace dcos::kernel;
using namespace std::chrono_literals;

namespace {

StatusUpdate update(const std::string& task, const std::string& state, const std::string& uuid) {
  return {"fw", task, uuid, {{"task_id", {{"value", task}}}, {"state", state}, {"uuid", uuid}}};
}

std::vector<std::string> uuids(const std::vector<StatusUpdate>& updates) {
  std::vector<std::string> out;
  for (const auto& u : updates) out.push_back(u.uuid);
  return out;
}

}  // namespace

TEST_SUITE("agent status updates") {

TEST_CASE("only the head of a task's queue is sent, and the next goes once it is acknowledged") {
  FakeClock clock;
  StatusUpdateQueue q(clock);
  q.add(update("t1", "TASK_STARTING", "u1"));
  q.add(update("t1", "TASK_RUNNING", "u2"));
  q.add(update("t1", "TASK_FINISHED", "u3"));
  CHECK(q.size() == 3);
  CHECK(uuids(q.takeDue()) == std::vector<std::string>{"u1"});
  CHECK(q.takeDue().empty());  // in flight: nothing more until the ack or the backoff

  CHECK_FALSE(q.acknowledge("fw", "t1", "u2"));  // not the head
  CHECK(q.acknowledge("fw", "t1", "u1"));
  CHECK(uuids(q.takeDue()) == std::vector<std::string>{"u2"});
  CHECK(q.acknowledge("fw", "t1", "u2"));
  auto last = q.takeDue();
  REQUIRE(last.size() == 1);
  CHECK(last[0].status["state"] == "TASK_FINISHED");
  CHECK(q.acknowledge("fw", "t1", "u3"));
  CHECK(q.size() == 0);
  CHECK_FALSE(q.pending("fw", "t1"));
  CHECK_FALSE(q.nextDue().has_value());
  CHECK_FALSE(q.acknowledge("fw", "t1", "u3"));  // a duplicate ack is stale
}

TEST_CASE("an unacknowledged head is resent with backoff doubling up to the maximum") {
  FakeClock clock;
  StatusUpdateQueue q(clock, 1s, 8s);
  TimePoint start = clock.now();
  q.add(update("t1", "TASK_RUNNING", "u1"));
  std::vector<Duration> sendTimes;
  for (int i = 0; i < 7; ++i) {
    auto due = q.nextDue();
    REQUIRE(due.has_value());
    clock.set(*due);
    auto sent = q.takeDue();
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].uuid == "u1");
    sendTimes.push_back(clock.now() - start);
    // Just before the next resend nothing is due.
    clock.set(*q.nextDue() - 1ms);
    CHECK(q.takeDue().empty());
  }
  CHECK(sendTimes == std::vector<Duration>{0s, 1s, 3s, 7s, 15s, 23s, 31s});
}

TEST_CASE("tasks queue independently and due heads come oldest task first") {
  FakeClock clock;
  StatusUpdateQueue q(clock);
  q.add(update("b", "TASK_RUNNING", "b1"));
  q.add(update("a", "TASK_RUNNING", "a1"));
  q.add(update("a", "TASK_FAILED", "a2"));
  CHECK(uuids(q.takeDue()) == std::vector<std::string>{"b1", "a1"});
  CHECK(q.acknowledge("fw", "a", "a1"));
  CHECK(uuids(q.takeDue()) == std::vector<std::string>{"a2"});
  CHECK(q.pending("fw", "b"));
  CHECK(q.updatesOf("fw", "a").size() == 1);
}

TEST_CASE("after a reconnection every head is due at once with a fresh backoff") {
  FakeClock clock;
  StatusUpdateQueue q(clock, 1s, 30s);
  q.add(update("t1", "TASK_RUNNING", "u1"));
  q.takeDue();
  clock.advance(1s);
  q.takeDue();  // backoff is now 2s
  q.resetBackoff();
  CHECK(uuids(q.takeDue()) == std::vector<std::string>{"u1"});
  CHECK(*q.nextDue() == clock.now() + 1s);
}

TEST_CASE("an update queued behind an acknowledged one is due at once, not after the old backoff") {
  FakeClock clock;
  StatusUpdateQueue q(clock);
  q.add(update("t1", "TASK_RUNNING", "u1"));
  q.takeDue();
  q.add(update("t1", "TASK_FINISHED", "u2"));
  CHECK(q.takeDue().empty());
  REQUIRE(q.acknowledge("fw", "t1", "u1"));
  CHECK(*q.nextDue() == clock.now());
}

TEST_CASE("forgetting a task drops all of its updates") {
  FakeClock clock;
  StatusUpdateQueue q(clock);
  q.add(update("t1", "TASK_RUNNING", "u1"));
  q.add(update("t1", "TASK_KILLED", "u2"));
  q.forget("fw", "t1");
  CHECK(q.size() == 0);
  CHECK(q.takeDue().empty());
}

TEST_CASE("update uuids are 16 random bytes, base64-encoded") {
  std::string a = newUpdateUuid();
  CHECK(a.size() == 24);
  CHECK(a.substr(22) == "==");
  CHECK(a != newUpdateUuid());
}

}
