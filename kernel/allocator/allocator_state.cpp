// Bookkeeping of the allocator's state: slots, shares, DRF orders and allocations.
#include "kernel/allocator/allocator_state.hpp"

#include <algorithm>

namespace dcos::kernel {

AgentSlot* Allocator::State::agent(const std::string& id, uint32_t* index) {
  auto it = agentIds.find(id);
  if (it == agentIds.end()) return nullptr;
  if (index) *index = it->second;
  return agents[it->second].get();
}

FrameworkSlot* Allocator::State::framework(const std::string& id, uint32_t* index) {
  auto it = frameworkIds.find(id);
  if (it == frameworkIds.end()) return nullptr;
  if (index) *index = it->second;
  return frameworks[it->second].get();
}

const FrameworkSlot* Allocator::State::framework(const std::string& id) const {
  auto it = frameworkIds.find(id);
  return it == frameworkIds.end() ? nullptr : frameworks[it->second].get();
}

uint32_t Allocator::State::internRole(const std::string& name) {
  auto [it, inserted] = roleIds.try_emplace(name, static_cast<uint32_t>(roles.size()));
  if (inserted) {
    roles.push_back(std::make_unique<RoleSlot>());
    roles.back()->name = name;
  }
  return it->second;
}

uint32_t Allocator::State::frameworkSlot(const std::string& id) {
  if (auto it = frameworkIds.find(id); it != frameworkIds.end()) return it->second;
  uint32_t f;
  if (!freeFrameworks.empty()) {
    f = freeFrameworks.back();
    freeFrameworks.pop_back();
  } else {
    f = static_cast<uint32_t>(frameworks.size());
    frameworks.emplace_back();
  }
  frameworks[f] = std::make_unique<FrameworkSlot>();
  frameworks[f]->id = id;
  frameworkIds.emplace(id, f);
  return f;
}

std::set<uint32_t> Allocator::State::selectRoles(const FrameworkSlot& fw, const std::set<std::string>& names) const {
  if (names.empty()) return fw.roles;
  std::set<uint32_t> out;
  for (const auto& name : names) {
    auto it = roleIds.find(name);
    if (it != roleIds.end() && fw.roles.count(it->second)) out.insert(it->second);
  }
  return out;
}

double Allocator::State::roleShare(uint32_t role) const {
  const RoleSlot& r = *roles[role];
  return drf::dominantShare(r.allocated, totalQ) / r.weight;
}

double Allocator::State::frameworkShare(const FrameworkSlot& fw, uint32_t role) const {
  auto it = fw.allocatedByRole.find(role);
  return it == fw.allocatedByRole.end() ? 0.0 : drf::dominantShare(it->second, totalQ);
}

void Allocator::State::syncMembership(uint32_t f, uint32_t role) {
  FrameworkSlot& fw = *frameworks[f];
  RoleSlot& r = *roles[role];
  bool offerable = fw.added && fw.active && fw.roles.count(role) && !fw.suppressed.count(role);
  if (offerable) {
    if (!r.frameworks.contains(f)) {
      r.frameworks.set(f, &fw.id, frameworkShare(fw, role));
      ++eligibilityEpoch;
    }
  } else {
    r.frameworks.erase(f);
  }
  // Roles without offerable frameworks leave the role order, so rounds never walk them.
  if (r.frameworks.empty()) {
    roleOrder.erase(role);
  } else if (!roleOrder.contains(role)) {
    roleOrder.set(role, &r.name, roleShare(role));
  }
}

void Allocator::State::syncRoles(uint32_t f, const std::set<uint32_t>& alsoRoles) {
  for (uint32_t role : frameworks[f]->roles) syncMembership(f, role);
  for (uint32_t role : alsoRoles) syncMembership(f, role);
}

void Allocator::State::refreshShares() {
  for (uint32_t role = 0; role < roles.size(); ++role) {
    RoleSlot& r = *roles[role];
    if (roleOrder.contains(role)) roleOrder.set(role, &r.name, roleShare(role));
    // Collect first: set() moves entries within the order being walked.
    std::vector<uint32_t> members;
    members.reserve(r.frameworks.size());
    for (const auto& e : r.frameworks) members.push_back(e.id);
    for (uint32_t f : members) r.frameworks.set(f, &frameworks[f]->id, frameworkShare(*frameworks[f], role));
  }
  sharesStale = false;
}

void Allocator::State::changeShares(uint32_t f, uint32_t role, const drf::Quantities& q, int sign) {
  FrameworkSlot& fw = *frameworks[f];
  RoleSlot& r = *roles[role];
  drf::Quantities& mine = fw.allocatedByRole[role];
  if (sign > 0) {
    drf::add(r.allocated, q);
    drf::add(mine, q);
  } else {
    drf::subtract(r.allocated, q);
    drf::subtract(mine, q);
    if (drf::isZero(mine)) fw.allocatedByRole.erase(role);
  }
  // Stale shares are all recomputed before the next round; skip the re-filing meanwhile.
  if (sharesStale) return;
  if (r.frameworks.contains(f)) r.frameworks.set(f, &fw.id, frameworkShare(fw, role));
  if (roleOrder.contains(role)) roleOrder.set(role, &r.name, roleShare(role));
}

namespace {
// Splits allocated resources by allocation role; almost always a single group.
template <typename Fn>
void forEachRoleGroup(const Resources& allocated, Fn fn) {
  const auto& items = allocated.items();
  if (items.empty()) return;
  if (std::all_of(items.begin(), items.end(),
                  [&](const Resource& r) { return r.allocationRole == items.front().allocationRole; })) {
    fn(items.front().allocationRole, allocated);  // the common case, without copies
    return;
  }
  std::vector<std::pair<std::string, Resources>> groups;
  for (const auto& item : allocated.items()) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == item.allocationRole; });
    if (it == groups.end()) {
      groups.emplace_back(item.allocationRole, Resources());
      it = std::prev(groups.end());
    }
    it->second.add(item);
  }
  for (const auto& [role, resources] : groups) fn(role, resources);
}
}  // namespace

void Allocator::State::track(uint32_t f, uint32_t a, const Resources& allocated) {
  if (allocated.empty()) return;
  frameworks[f]->allocation[a] += allocated;
  forEachRoleGroup(allocated, [&](const std::string& role, const Resources& part) {
    changeShares(f, internRole(role), drf::quantitiesOf(part, names), +1);
  });
}

void Allocator::State::untrack(uint32_t f, uint32_t a, const Resources& allocated) {
  if (allocated.empty()) return;
  FrameworkSlot& fw = *frameworks[f];
  auto it = fw.allocation.find(a);
  if (it != fw.allocation.end()) {
    it->second -= allocated;
    if (it->second.empty()) fw.allocation.erase(it);
  }
  forEachRoleGroup(allocated, [&](const std::string& role, const Resources& part) {
    changeShares(f, internRole(role), drf::quantitiesOf(part, names), -1);
  });
}

Resources Allocator::State::withAllocationRoles(const FrameworkSlot& fw, const Resources& resources) const {
  bool complete = std::all_of(resources.items().begin(), resources.items().end(),
                              [](const Resource& r) { return !r.allocationRole.empty(); });
  if (complete) return resources;
  Resources out;
  for (Resource r : resources.items()) {
    if (r.allocationRole.empty()) {
      r.allocationRole = fw.roles.size() == 1 ? roles[*fw.roles.begin()]->name : r.role;
    }
    out.add(r);
  }
  return out;
}

void Allocator::State::releaseFramework(uint32_t f) {
  FrameworkSlot& fw = *frameworks[f];
  // Move out first: untrack() edits the map being walked.
  auto allocation = std::move(fw.allocation);
  fw.allocation.clear();
  for (const auto& [a, resources] : allocation) {
    agents[a]->available += resources.unallocated();
    ++agents[a]->availableVersion;
    agents[a]->idleEpoch = 0;
    forEachRoleGroup(resources, [&](const std::string& role, const Resources& part) {
      changeShares(f, internRole(role), drf::quantitiesOf(part, names), -1);
    });
  }
}

void Allocator::State::freeFrameworkIfUnused(uint32_t f) {
  FrameworkSlot& fw = *frameworks[f];
  if (fw.added || !fw.allocation.empty()) return;
  dropFilters(fw, [](uint64_t) { return true; });
  frameworkIds.erase(fw.id);
  frameworks[f].reset();
  freeFrameworks.push_back(f);
}

bool Allocator::State::allocatable(const Resources& resources) const {
  if (resources.empty()) return false;
  Scalar minCpus = options.minAllocatableCpus;
  Scalar minMem = options.minAllocatableMem;
  if (minCpus.millis() <= 0 && minMem.millis() <= 0) return true;
  return (minCpus.millis() > 0 && resources.cpus() >= minCpus) ||
         (minMem.millis() > 0 && resources.mem() >= minMem);
}

Resources intersect(const Resources& wanted, const Resources& have) {
  if (have.contains(wanted)) return wanted;
  Resources out;
  for (const auto& w : wanted.items()) {
    for (const auto& h : have.items()) {
      if (!h.sameKind(w)) continue;
      Resource r = w;
      switch (w.type) {
        case ValueType::kScalar: r.scalar = std::min(w.scalar, h.scalar); break;
        case ValueType::kRanges: r.ranges = w.ranges - (w.ranges - h.ranges); break;
        case ValueType::kSet:
          r.set.clear();
          std::set_intersection(w.set.begin(), w.set.end(), h.set.begin(), h.set.end(),
                                std::inserter(r.set, r.set.end()));
          break;
      }
      out.add(r);
    }
  }
  return out;
}

}  // namespace dcos::kernel
