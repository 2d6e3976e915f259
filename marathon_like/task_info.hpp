#pragma once
// Building the Mesos TaskInfo of an instance once an offer fits it (private to marathon_like/;
// the public entry points are in offer_match.hpp).

#include "marathon_like/offer_match.hpp"

namespace dcos::marathon {

// `plan` holds the host ports and consumed resources already chosen.
Json buildTaskInfo(const LaunchRequest& request, const OfferView& offer, const LaunchPlan& plan);

}  // namespace dcos::marathon
