#pragma once
// The master's hierarchical DRF allocator: decides which framework is offered which agent's
// resources. Pure: no I/O, no threads, no logging; time comes only from the injected Clock.
// Not thread-safe: the master calls it from its own strand.
//
// Semantics (Apache Mesos' hierarchical allocator, without quota and with flat roles):
//  - Two levels of Dominant Resource Fairness. Roles are ordered by weighted dominant share
//    (dominant share / weight), frameworks within a role by their dominant share in that role;
//    ties go to the smaller name. The dominant share is the max over scalar resource names of
//    allocated / total, with the total over every added agent, active or not (an inactive
//    agent's running tasks still count as allocated, so its total must count too).
//  - A round visits agents in a shuffled order. On each agent, the first eligible framework of
//    the first role (both in DRF order) receives *all* the agent's available unreserved
//    resources plus those reserved for its role; every other role with reservations there has
//    them offered to its own first eligible framework. So an agent's resources go to at most
//    one framework per role per round. Shares are updated after every grant, so fairness holds
//    within a round too.
//  - Eligible: framework added and active, subscribed to the role, the role not suppressed,
//    and no active filter of (framework, role, agent) that contains what would be offered.
//    Inactive agents, and agents whose leftover is below the minimum allocatable, are skipped.
//  - Granted resources count as allocated to the framework (and its role) until
//    recoverResources returns them.
// Unknown agent or framework ids are ignored by every call: the master validates requests.

#include "common/clock.hpp"
#include "common/result.hpp"
#include "kernel/resources/resources.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dcos::kernel {

struct AllocatorOptions {
  // Filter installed by decline() when the framework sent no refuse_seconds (Mesos' default).
  Duration defaultRefuse = std::chrono::seconds(5);
  // An offer must hold at least this many cpus OR this much mem (Mesos' default
  // min_allocatable_resources "cpus:0.01|mem:32"), so crumbs are not offered over and over.
  // A zero disables that criterion; with both zero any non-empty leftover is offered.
  Scalar minAllocatableCpus = Scalar::fromMillis(10);
  Scalar minAllocatableMem = Scalar::fromMillis(32'000);
  // Seeds the per-round shuffle of agents: the same seed and calls give the same offers.
  uint64_t seed = 0;
};

// One offer's worth: resources of one agent for one framework in one role. The resources
// carry allocationRole = role, as Mesos' allocation_info.
struct OfferGrant {
  std::string frameworkId;
  std::string agentId;
  std::string role;
  Resources resources;
};

class Allocator {
 public:
  explicit Allocator(const Clock& clock, AllocatorOptions options = {});
  ~Allocator();
  Allocator(Allocator&&) noexcept;
  Allocator& operator=(Allocator&&) noexcept;
  Allocator(const Allocator&) = delete;
  Allocator& operator=(const Allocator&) = delete;

  // Agents. `total` is the agent's (statically reserved or unreserved) resources. `used` lists
  // what is already allocated on it, e.g. running tasks recovered after a master failover; its
  // resources should carry their allocation role (missing ones are attributed as in
  // recoverResources) and are clipped to `total`. Frameworks named there that were not added
  // yet are tracked for their shares until addFramework. Adding a known id replaces the agent.
  void addAgent(const std::string& agentId, const Resources& total,
                const std::map<std::string, Resources>& used = {});
  // The agent's allocations vanish from every framework's share and its filters are dropped.
  void removeAgent(const std::string& agentId);
  // An inactive (disconnected) agent keeps its allocations but is not offered.
  void activateAgent(const std::string& agentId);
  void deactivateAgent(const std::string& agentId);

  // Frameworks. Adding a known id updates its roles and activation state.
  void addFramework(const std::string& frameworkId, const std::set<std::string>& roles, bool active = true);
  // Roles dropped here keep counting the framework's allocations made in them (until
  // recovered) but get no offers; their suppression and filters are forgotten.
  void updateFrameworkRoles(const std::string& frameworkId, const std::set<std::string>& roles);
  // All of the framework's allocations return to the pool; its filters are dropped.
  void removeFramework(const std::string& frameworkId);
  // A disconnected framework keeps its allocations but gets no offers. Deactivation drops its
  // filters, as Mesos does, so a re-subscribed scheduler sees everything again; suppression stays.
  void activateFramework(const std::string& frameworkId);
  void deactivateFramework(const std::string& frameworkId);

  // SUPPRESS / REVIVE for the given roles of the framework; empty = all its roles. Revive also
  // removes the framework's filters for those roles.
  void suppress(const std::string& frameworkId, const std::set<std::string>& roles = {});
  void revive(const std::string& frameworkId, const std::set<std::string>& roles = {});

  // Role weights (default 1.0). Fails with kInvalidArgument unless weight is finite and > 0
  // and the role name is valid.
  Result<void> setWeight(const std::string& role, double weight);

  // Resources handed back by the framework: unused parts of an accepted offer, a rescinded
  // offer, a finished task. They must have been allocated to it on that agent (what was not is
  // ignored) and should carry allocation roles; one without is attributed to the framework's
  // only role if it has exactly one, else to its reservation role or "*". With refuseFor > 0,
  // a filter is installed per role: the framework is not offered resources on this agent in that
  // role that are contained in the refused ones, until the clock passes now + refuseFor or the
  // framework revives.
  void recoverResources(const std::string& frameworkId, const std::string& agentId, const Resources& resources,
                        std::optional<Duration> refuseFor = std::nullopt);
  // DECLINE: recoverResources with the framework's refuse_seconds, or options.defaultRefuse if
  // it gave none. A refuseFor <= 0 installs no filter.
  void decline(const std::string& frameworkId, const std::string& agentId, const Resources& resources,
               std::optional<Duration> refuseFor = std::nullopt);

  // One allocation round over every active agent, or only over `agentIds` (event-driven
  // allocation after an agent was added or resources recovered; unknown ids are skipped).
  // Returns the grants in the order made; they are already counted as allocated.
  std::vector<OfferGrant> allocate();
  std::vector<OfferGrant> allocate(const std::vector<std::string>& agentIds);

  // Introspection for state endpoints and tests.
  Resources totalResources() const;  // of every added agent, active or not
  Resources allocatedTo(const std::string& frameworkId) const;
  std::map<std::string, Resources> allocatedByRole() const;  // roles with allocations only
  double weight(const std::string& role) const;
  // The framework's dominant share over all its roles (0 for an unknown framework).
  double dominantShare(const std::string& frameworkId) const;

 private:
  struct State;  // defined in allocator_state.hpp
  std::unique_ptr<State> state_;
};

}  // namespace dcos::kernel
