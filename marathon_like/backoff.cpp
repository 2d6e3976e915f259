#include "marathon_like/backoff.hpp"

#include <algorithm>

namespace dcos::marathon {

void LaunchBackoff::failed(TimePoint now) {
  delay_ = delay_ == 0 ? base_ : delay_ * factor_;
  delay_ = std::clamp(delay_, 0.0, max_);
  until_ = now + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(delay_));
}

void LaunchBackoff::reset() {
  delay_ = 0;
  until_.reset();
}

double LaunchBackoff::remainingSeconds(TimePoint now) const {
  if (!until_ || now >= *until_) return 0;
  return std::chrono::duration<double>(*until_ - now).count();
}

}  // namespace dcos::marathon
