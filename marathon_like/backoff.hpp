#pragma once
// Marathon's launch backoff for one app (what `GET /v2/queue` shows as `delay`): after a task of
// the app fails, new launches wait; the first wait is `backoffSeconds`, each further failure
// multiplies it by `backoffFactor`, capped at `maxLaunchDelaySeconds`. A changed app definition
// or `DELETE /v2/queue/{app}/delay` resets it. Pure: times are passed in.

#include "common/clock.hpp"

#include <optional>

namespace dcos::marathon {

class LaunchBackoff {
 public:
  LaunchBackoff(double backoffSeconds, double backoffFactor, double maxLaunchDelaySeconds)
      : base_(backoffSeconds), factor_(backoffFactor), max_(maxLaunchDelaySeconds) {}

  // A task of the app failed at `now`: the next launch waits the (grown) delay from then.
  void failed(TimePoint now);
  void reset();

  // Launches wait until this time; nullopt when they need not wait (never failed, or reset).
  std::optional<TimePoint> until() const { return until_; }
  bool mayLaunch(TimePoint now) const { return !until_ || now >= *until_; }
  // The delay the last failure imposed, in seconds (0 before any failure).
  double delaySeconds() const { return delay_; }
  // Seconds left to wait at `now` (0 when launches may go).
  double remainingSeconds(TimePoint now) const;

 private:
  double base_, factor_, max_;
  double delay_ = 0;
  std::optional<TimePoint> until_;
};

}  // namespace dcos::marathon
