#include "marathon_like/backoff.hpp"

#include <doctest/doctest.h>

using namespace dcos;
using namespace dcos::marathon;
using namespace std::chrono_literals;

TEST_SUITE("marathon launch backoff") {

TEST_CASE("no failure, no wait") {
  LaunchBackoff b(1, 1.15, 300);
  TimePoint t0{};
  CHECK(b.mayLaunch(t0));
  CHECK_FALSE(b.until().has_value());
  CHECK(b.delaySeconds() == 0);
  CHECK(b.remainingSeconds(t0) == 0);
}

TEST_CASE("the delay starts at backoffSeconds, grows by backoffFactor and stops at maxLaunchDelaySeconds") {
  LaunchBackoff b(2, 2, 10);
  TimePoint t0{};
  b.failed(t0);
  CHECK(b.delaySeconds() == doctest::Approx(2));
  CHECK_FALSE(b.mayLaunch(t0 + 1999ms));
  CHECK(b.mayLaunch(t0 + 2s));
  CHECK(b.remainingSeconds(t0 + 500ms) == doctest::Approx(1.5));
  b.failed(t0 + 3s);
  CHECK(b.delaySeconds() == doctest::Approx(4));
  CHECK_FALSE(b.mayLaunch(t0 + 6s));
  CHECK(b.mayLaunch(t0 + 7s));
  b.failed(t0 + 10s);
  CHECK(b.delaySeconds() == doctest::Approx(8));
  b.failed(t0 + 20s);
  CHECK(b.delaySeconds() == doctest::Approx(10));  // capped
  b.failed(t0 + 40s);
  CHECK(b.delaySeconds() == doctest::Approx(10));
  CHECK(b.mayLaunch(t0 + 50s));
}

TEST_CASE("Marathon's defaults: 1 s, x1.15, up to 300 s; a reset starts over") {
  LaunchBackoff b(1, 1.15, 300);
  TimePoint t{};
  for (int i = 0; i < 100; ++i) b.failed(t);
  CHECK(b.delaySeconds() == doctest::Approx(300));
  b.reset();
  CHECK(b.mayLaunch(t));
  b.failed(t);
  CHECK(b.delaySeconds() == doctest::Approx(1));
}

}  // TEST_SUITE
