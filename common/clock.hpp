#pragma once
// Time as an injected dependency: pure components (allocator, deployment planner, health
// bookkeeping) take a Clock so tests can drive time by hand.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace dcos {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

// Contract: now() is monotonic non-decreasing for a given clock object and safe to call from any
// thread. Wall-clock time (system_clock) is used because timestamps go into APIs and SQLite.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
  static SystemClock& instance();
};

// A clock that only moves when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'700'000'000)));
  TimePoint now() const override;
  void advance(Duration d);
  void set(TimePoint t);

 private:
  std::atomic<int64_t> nanos_;
};

// Seconds since the epoch as a double, the shape Mesos uses for status update timestamps.
double toEpochSeconds(TimePoint t);
// RFC 3339 / ISO 8601 in UTC with milliseconds ("2026-11-25T12:00:00.000Z"), as Marathon prints.
std::string toIso8601(TimePoint t);

}  // namespace dcos
