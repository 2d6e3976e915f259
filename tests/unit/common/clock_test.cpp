#include "common/clock.hpp"

#include <doctest/doctest.h>

using namespace dcos;

TEST_CASE("a fake clock moves only when told") {
  FakeClock clock(TimePoint(std::chrono::seconds(100)));
  auto t0 = clock.now();
  CHECK(clock.now() == t0);
  clock.advance(std::chrono::milliseconds(1500));
  CHECK(clock.now() - t0 == std::chrono::milliseconds(1500));
  clock.set(TimePoint(std::chrono::seconds(5)));
  CHECK(toEpochSeconds(clock.now()) == 5.0);
}

TEST_CASE("ISO 8601 timestamps in UTC with milliseconds") {
  CHECK(toIso8601(TimePoint(std::chrono::milliseconds(1'700'000'000'123))) == "2023-11-14T22:13:20.123Z");
  CHECK(toIso8601(TimePoint(std::chrono::seconds(0))) == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("the system clock is close to the real time") {
  auto a = SystemClock::instance().now();
  auto b = std::chrono::system_clock::now();
  CHECK(std::chrono::abs(b - a) < std::chrono::seconds(5));
}
