// One allocation round, and the offer filters it consults.
//
// Cost: the agents are shuffled once; each agent then costs one walk down the DRF orders that
// stops at the first eligible framework, plus O(log n) to re-file the grantee and its role.
// Suppressed, inactive and unsubscribed frameworks are not in the orders at all, so only
// frameworks that are *filtered* on this agent are walked past: rounds are O(agents x log)
// in the common case instead of Mesos' O(agents x frameworks). An agent that nobody could take
// is remembered as idle (see eligibilityEpoch) and skipped until something changes, so a
// cluster whose frameworks all declined with long filters does not rescan them every round.
#include "kernel/allocator/allocator_state.hpp"

#include <algorithm>

namespace dcos::kernel {

void Allocator::State::addFilter(uint32_t f, uint32_t a, uint32_t role, Resources refused, TimePoint expires) {
  AgentSlot& ag = *agents[a];
  if (!ag.lastRefusal || !(*ag.lastRefusal == refused)) {
    ag.lastRefusal = std::make_shared<const Resources>(std::move(refused));
  }
  uint64_t key = filterKey(a, role);
  frameworks[f]->filters[key].push_back({ag.lastRefusal, expires});
  ++liveFilters;
  expiries.push({expires, f, key});
  // Revive and removal drop filters without touching the queue; rebuild it when stale entries
  // dominate, so a framework that declines and revives in a loop cannot grow it without bound.
  if (expiries.size() > 2 * liveFilters + 1024) {
    std::vector<Expiry> live;
    live.reserve(liveFilters);
    for (uint32_t i = 0; i < frameworks.size(); ++i) {
      if (!frameworks[i]) continue;
      for (const auto& [k, list] : frameworks[i]->filters) {
        for (const auto& flt : list) live.push_back({flt.expires, i, k});
      }
    }
    expiries = decltype(expiries)(std::greater<>(), std::move(live));
  }
}

void Allocator::State::expireFilters(TimePoint now) {
  while (!expiries.empty() && expiries.top().at <= now) {
    Expiry e = expiries.top();
    expiries.pop();
    // The slot may have been freed or reused since; dropping only what has expired is right
    // whoever owns it now.
    if (e.framework >= frameworks.size() || !frameworks[e.framework]) continue;
    FrameworkSlot& fw = *frameworks[e.framework];
    auto it = fw.filters.find(e.key);
    if (it == fw.filters.end()) continue;
    auto& list = it->second;
    auto dead = std::remove_if(list.begin(), list.end(), [&](const OfferFilter& x) { return x.expires <= now; });
    liveFilters -= static_cast<size_t>(list.end() - dead);
    list.erase(dead, list.end());
    if (list.empty()) fw.filters.erase(it);
    uint32_t a = agentOfKey(e.key);
    if (a < agents.size() && agents[a]) agents[a]->idleEpoch = 0;
  }
}

bool Allocator::State::filtered(const FrameworkSlot& fw, uint32_t agent, uint32_t role, const Resources& offered,
                                TimePoint now) {
  if (fw.filters.empty()) return false;
  auto it = fw.filters.find(filterKey(agent, role));
  if (it == fw.filters.end()) return false;
  AgentSlot& ag = *agents[agent];
  auto& memo = ag.coverMemo;
  // As in Mesos, a refusal covers offers it contains: if the agent now has more than was
  // refused (a task finished), the framework sees the new offer.
  return std::any_of(it->second.begin(), it->second.end(), [&](const OfferFilter& x) {
    if (x.expires <= now) return false;
    if (&offered != &ag.available) return x.refused->contains(offered);
    // Frameworks that declined the same whole offer share one refusal: check it once.
    if (memo.refused != x.refused || memo.version != ag.availableVersion) {
      memo.refused = x.refused;
      memo.version = ag.availableVersion;
      memo.covers = x.refused->contains(offered);
    }
    return memo.covers;
  });
}

std::vector<OfferGrant> Allocator::State::runRound(std::vector<uint32_t> agentOrder) {
  std::vector<OfferGrant> out;
  TimePoint now = clock.now();
  expireFilters(now);
  if (sharesStale) refreshShares();
  if (roleOrder.empty()) return out;
  // Mesos shuffles agents every round so no agent is always first to the lowest-share framework.
  std::shuffle(agentOrder.begin(), agentOrder.end(), rng);
  out.reserve(agentOrder.size());
  for (uint32_t a : agentOrder) allocateAgent(a, now, out);
  return out;
}

std::optional<uint32_t> Allocator::State::pickFramework(uint32_t role, uint32_t agent, const Resources& offered,
                                                        TimePoint now) {
  for (const auto& e : roles[role]->frameworks) {
    if (!filtered(*frameworks[e.id], agent, role, offered, now)) return e.id;
  }
  return std::nullopt;
}

void Allocator::State::allocateAgent(uint32_t a, TimePoint now, std::vector<OfferGrant>& out) {
  AgentSlot& ag = *agents[a];
  if (!ag.active || ag.available.empty() || ag.idleEpoch == eligibilityEpoch) return;
  if (!ag.reservedRoles.empty()) {
    size_t before = out.size();
    allocateReserved(a, now, out);
    if (out.size() == before) ag.idleEpoch = eligibilityEpoch;
    return;
  }
  // No reservations: every role would be offered the same thing, the whole leftover.
  if (allocatable(ag.available)) {
    for (const auto& r : roleOrder) {
      if (auto f = pickFramework(r.id, a, ag.available, now)) {
        grant(*f, r.id, a, ag.available, out);
        return;
      }
    }
  }
  ag.idleEpoch = eligibilityEpoch;
}

void Allocator::State::allocateReserved(uint32_t a, TimePoint now, std::vector<OfferGrant>& out) {
  AgentSlot& ag = *agents[a];
  std::optional<uint32_t> served;
  // First the unreserved part, together with the taker's reservations, to the first role in
  // DRF order that has an eligible framework; as in Mesos, one framework takes it all.
  Resources unreserved = ag.available.unreserved();
  if (!unreserved.empty()) {
    for (const auto& r : roleOrder) {
      uint32_t role = r.id;  // grant() re-files the role, invalidating `r`
      bool reservedHere = std::find(ag.reservedRoles.begin(), ag.reservedRoles.end(), role) != ag.reservedRoles.end();
      Resources offered = reservedHere ? unreserved + ag.available.reservedFor(*r.name) : unreserved;
      if (!allocatable(offered)) continue;
      if (auto f = pickFramework(role, a, offered, now)) {
        grant(*f, role, a, offered, out);
        served = role;
        break;
      }
    }
    // Nobody took it: every role was tried with its reservations plus the unreserved part, and
    // a filter or minimum that refused the larger offer refuses the smaller one too.
    if (!served) return;
  }
  // Then each other role's reservations go to that role's first eligible framework.
  for (uint32_t role : ag.reservedRoles) {
    if (role == served || !roleOrder.contains(role)) continue;
    Resources offered = ag.available.reservedFor(roles[role]->name);
    if (!allocatable(offered)) continue;
    if (auto f = pickFramework(role, a, offered, now)) grant(*f, role, a, offered, out);
  }
}

void Allocator::State::grant(uint32_t f, uint32_t role, uint32_t a, const Resources& offered,
                             std::vector<OfferGrant>& out) {
  AgentSlot& ag = *agents[a];
  FrameworkSlot& fw = *frameworks[f];
  // `offered` may be the agent's own `available`: take all we need from it before changing it.
  Resources allocated = offered.allocate(roles[role]->name);
  drf::Quantities q = drf::quantitiesOf(offered, names);
  if (&offered == &ag.available) {
    ag.available = Resources();
  } else {
    ag.available -= offered;
  }
  ++ag.availableVersion;
  Resources& mine = fw.allocation[a];
  if (mine.empty()) {
    mine = allocated;  // one copy instead of item-by-item merging: the common case
  } else {
    mine += allocated;
  }
  changeShares(f, role, q, +1);
  out.push_back({fw.id, ag.id, roles[role]->name, std::move(allocated)});
}

}  // namespace dcos::kernel
