#include "kernel/allocator/allocator.hpp"

#include "kernel/allocator/allocator_state.hpp"

#include <algorithm>
#include <cmath>

namespace dcos::kernel {

Allocator::Allocator(const Clock& clock, AllocatorOptions options)
    : state_(std::make_unique<State>(clock, options)) {}
Allocator::~Allocator() = default;
Allocator::Allocator(Allocator&&) noexcept = default;
Allocator& Allocator::operator=(Allocator&&) noexcept = default;

void Allocator::addAgent(const std::string& agentId, const Resources& total,
                         const std::map<std::string, Resources>& used) {
  State& s = *state_;
  if (s.agentIds.count(agentId)) removeAgent(agentId);
  uint32_t a;
  if (!s.freeAgents.empty()) {
    a = s.freeAgents.back();
    s.freeAgents.pop_back();
  } else {
    a = static_cast<uint32_t>(s.agents.size());
    s.agents.emplace_back();
  }
  s.agents[a] = std::make_unique<AgentSlot>();
  AgentSlot& ag = *s.agents[a];
  ag.id = agentId;
  ag.total = total.unallocated();
  ag.available = ag.total;
  ag.totalQ = drf::quantitiesOf(ag.total, s.names);
  for (const auto& r : ag.total.items()) {
    if (!r.reserved()) continue;
    uint32_t role = s.internRole(r.role);
    if (std::find(ag.reservedRoles.begin(), ag.reservedRoles.end(), role) == ag.reservedRoles.end()) {
      ag.reservedRoles.push_back(role);
    }
  }
  s.agentIds.emplace(agentId, a);
  drf::add(s.totalQ, ag.totalQ);
  s.sharesStale = true;

  for (const auto& [frameworkId, resources] : used) {
    uint32_t f = s.frameworkSlot(frameworkId);
    Resources wanted = s.withAllocationRoles(*s.frameworks[f], resources);
    // Clip to what the agent has, item by item, so a bad report cannot overdraw it.
    Resources taken;
    for (Resource r : wanted.items()) {
      std::string role = r.allocationRole;
      r.allocationRole.clear();
      Resources one;
      one.add(r);
      Resources got = intersect(one, ag.available);
      ag.available -= got;
      ++ag.availableVersion;
      taken += got.allocate(role);
    }
    s.track(f, a, taken);
    s.freeFrameworkIfUnused(f);
  }
}

void Allocator::removeAgent(const std::string& agentId) {
  State& s = *state_;
  uint32_t a;
  AgentSlot* ag = s.agent(agentId, &a);
  if (!ag) return;
  for (uint32_t f = 0; f < s.frameworks.size(); ++f) {
    if (!s.frameworks[f]) continue;
    FrameworkSlot& fw = *s.frameworks[f];
    s.dropFilters(fw, [a](uint64_t key) { return agentOfKey(key) == a; });
    auto it = fw.allocation.find(a);
    if (it == fw.allocation.end()) continue;
    Resources gone = std::move(it->second);
    fw.allocation.erase(it);
    // The allocation is already out of the map; untrack() only adjusts shares here.
    s.untrack(f, a, gone);
    s.freeFrameworkIfUnused(f);
  }
  drf::subtract(s.totalQ, ag->totalQ);
  s.sharesStale = true;
  s.agentIds.erase(agentId);
  s.agents[a].reset();
  s.freeAgents.push_back(a);
}

void Allocator::activateAgent(const std::string& agentId) {
  if (AgentSlot* ag = state_->agent(agentId)) ag->active = true;
}

void Allocator::deactivateAgent(const std::string& agentId) {
  if (AgentSlot* ag = state_->agent(agentId)) ag->active = false;
}

void Allocator::addFramework(const std::string& frameworkId, const std::set<std::string>& roles, bool active) {
  State& s = *state_;
  uint32_t f = s.frameworkSlot(frameworkId);
  FrameworkSlot& fw = *s.frameworks[f];
  fw.added = true;
  fw.active = active;
  updateFrameworkRoles(frameworkId, roles);  // also files it in its roles' orders
}

void Allocator::updateFrameworkRoles(const std::string& frameworkId, const std::set<std::string>& roles) {
  State& s = *state_;
  uint32_t f;
  FrameworkSlot* fw = s.framework(frameworkId, &f);
  if (!fw) return;
  std::set<uint32_t> next;
  for (const auto& role : roles) next.insert(s.internRole(role));
  std::set<uint32_t> dropped;
  for (uint32_t role : fw->roles) {
    if (!next.count(role)) dropped.insert(role);
  }
  for (uint32_t role : dropped) fw->suppressed.erase(role);
  s.dropFilters(*fw, [&](uint64_t key) { return dropped.count(roleOfKey(key)) != 0; });
  fw->roles = std::move(next);
  s.syncRoles(f, dropped);
}

void Allocator::removeFramework(const std::string& frameworkId) {
  State& s = *state_;
  uint32_t f;
  FrameworkSlot* fw = s.framework(frameworkId, &f);
  if (!fw) return;
  fw->added = false;
  s.syncRoles(f);  // leaves every order
  s.releaseFramework(f);
  s.freeFrameworkIfUnused(f);
}

void Allocator::activateFramework(const std::string& frameworkId) {
  uint32_t f;
  if (FrameworkSlot* fw = state_->framework(frameworkId, &f)) {
    fw->active = true;
    state_->syncRoles(f);
  }
}

void Allocator::deactivateFramework(const std::string& frameworkId) {
  uint32_t f;
  if (FrameworkSlot* fw = state_->framework(frameworkId, &f)) {
    fw->active = false;
    state_->dropFilters(*fw, [](uint64_t) { return true; });
    state_->syncRoles(f);
  }
}

void Allocator::suppress(const std::string& frameworkId, const std::set<std::string>& roles) {
  uint32_t f;
  FrameworkSlot* fw = state_->framework(frameworkId, &f);
  if (!fw) return;
  for (uint32_t role : state_->selectRoles(*fw, roles)) fw->suppressed.insert(role);
  state_->syncRoles(f);
}

void Allocator::revive(const std::string& frameworkId, const std::set<std::string>& roles) {
  uint32_t f;
  FrameworkSlot* fw = state_->framework(frameworkId, &f);
  if (!fw) return;
  std::set<uint32_t> chosen = state_->selectRoles(*fw, roles);
  for (uint32_t role : chosen) fw->suppressed.erase(role);
  state_->dropFilters(*fw, [&](uint64_t key) { return chosen.count(roleOfKey(key)) != 0; });
  state_->syncRoles(f);
}

Result<void> Allocator::setWeight(const std::string& role, double weight) {
  if (!std::isfinite(weight) || weight <= 0) {
    return Error(ErrorCode::kInvalidArgument, "weight of role '" + role + "' must be a finite number > 0");
  }
  if (auto valid = validateRole(role); !valid) return valid.error();
  State& s = *state_;
  uint32_t r = s.internRole(role);
  s.roles[r]->weight = weight;
  if (s.roleOrder.contains(r)) s.roleOrder.set(r, &s.roles[r]->name, s.roleShare(r));
  return success();
}

void Allocator::recoverResources(const std::string& frameworkId, const std::string& agentId,
                                 const Resources& resources, std::optional<Duration> refuseFor) {
  State& s = *state_;
  uint32_t f, a;
  FrameworkSlot* fw = s.framework(frameworkId, &f);
  AgentSlot* ag = s.agent(agentId, &a);
  if (!fw || !ag || resources.empty()) return;
  Resources returned = s.withAllocationRoles(*fw, resources);
  if (auto it = fw->allocation.find(a); it != fw->allocation.end()) {
    Resources actual = intersect(returned, it->second);
    ag->available += actual.unallocated();
    ++ag->availableVersion;
    ag->idleEpoch = 0;
    s.untrack(f, a, actual);
  }
  if (refuseFor && *refuseFor > Duration::zero()) {
    TimePoint expires = s.clock.now() + *refuseFor;
    // One filter per allocation role, since offers (and so refusals) are per role.
    std::map<std::string, Resources> byRole;
    for (const auto& r : returned.items()) byRole[r.allocationRole].add(r);
    for (const auto& [role, refused] : byRole) {
      s.addFilter(f, a, s.internRole(role), refused.unallocated(), expires);
    }
  }
  s.freeFrameworkIfUnused(f);
}

void Allocator::decline(const std::string& frameworkId, const std::string& agentId, const Resources& resources,
                        std::optional<Duration> refuseFor) {
  recoverResources(frameworkId, agentId, resources, refuseFor.value_or(state_->options.defaultRefuse));
}

std::vector<OfferGrant> Allocator::allocate() {
  State& s = *state_;
  std::vector<uint32_t> order;
  order.reserve(s.agentIds.size());
  for (uint32_t a = 0; a < s.agents.size(); ++a) {
    if (s.agents[a] && s.agents[a]->active && !s.agents[a]->available.empty()) order.push_back(a);
  }
  return s.runRound(std::move(order));
}

std::vector<OfferGrant> Allocator::allocate(const std::vector<std::string>& agentIds) {
  State& s = *state_;
  std::vector<uint32_t> order;
  for (const auto& id : agentIds) {
    if (auto it = s.agentIds.find(id); it != s.agentIds.end()) order.push_back(it->second);
  }
  // A duplicate id must not let a second framework of a role take the same agent in one round.
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());
  return s.runRound(std::move(order));
}

Resources Allocator::totalResources() const {
  Resources total;
  for (const auto& ag : state_->agents) {
    if (ag) total += ag->total;
  }
  return total;
}

Resources Allocator::allocatedTo(const std::string& frameworkId) const {
  Resources out;
  if (const FrameworkSlot* fw = state_->framework(frameworkId)) {
    for (const auto& [a, resources] : fw->allocation) out += resources;
  }
  return out;
}

std::map<std::string, Resources> Allocator::allocatedByRole() const {
  std::map<std::string, Resources> out;
  for (const auto& fw : state_->frameworks) {
    if (!fw) continue;
    for (const auto& [a, resources] : fw->allocation) {
      for (const auto& r : resources.items()) out[r.allocationRole].add(r);
    }
  }
  return out;
}

double Allocator::weight(const std::string& role) const {
  auto it = state_->roleIds.find(role);
  return it == state_->roleIds.end() ? 1.0 : state_->roles[it->second]->weight;
}

double Allocator::dominantShare(const std::string& frameworkId) const {
  const FrameworkSlot* fw = state_->framework(frameworkId);
  if (!fw) return 0.0;
  drf::Quantities sum;
  for (const auto& [role, q] : fw->allocatedByRole) drf::add(sum, q);
  return drf::dominantShare(sum, state_->totalQ);
}

}  // namespace dcos::kernel
