#pragma once
// The allocator's internal state (not a public header: only kernel/allocator/*.cpp include it).
// Agents, frameworks and roles live in slot vectors indexed by dense ids so hot loops touch
// integers, not strings; the id maps translate at the API boundary. Slots of removed agents and
// frameworks are reused; everything that names a slot is cleaned when it is freed, except the
// filter expiry queue, whose entries only ever remove *expired* filters and so stay harmless.

#include "kernel/allocator/allocator.hpp"
#include "kernel/allocator/drf.hpp"

#include <memory>
#include <queue>
#include <random>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dcos::kernel {

// A refusal: `refused` (without allocation roles) is not offered again until `expires`.
// Refusals are shared: when many frameworks decline the same agent's whole offer they all
// point at one copy (AgentSlot::lastRefusal), which keeps memory per filter small and lets the
// agent remember the containment check for that copy (see AgentSlot::coverMemo).
struct OfferFilter {
  std::shared_ptr<const Resources> refused;
  TimePoint expires;
};

struct AgentSlot {
  std::string id;
  bool active = true;
  Resources total;
  Resources available;                 // total minus every allocation; no allocation roles
  uint64_t availableVersion = 0;       // bumped on every change of `available`
  drf::Quantities totalQ;
  std::vector<uint32_t> reservedRoles;  // roles with static reservations here (usually none)
  // Equal to State::eligibilityEpoch when the last round found no framework that could take
  // `available`; the agent is then skipped until something that could change that happens.
  uint64_t idleEpoch = 0;
  std::shared_ptr<const Resources> lastRefusal;  // the most recent refusal here, for sharing
  // Whether coverMemo.refused contains `available` at coverMemo.version. Holding the pointer
  // keeps the refusal alive, so a new one can never reuse its address and fool the memo.
  struct {
    std::shared_ptr<const Resources> refused;
    uint64_t version = 0;
    bool covers = false;
  } coverMemo;
};

struct FrameworkSlot {
  std::string id;
  bool added = false;  // false: known only from addAgent's `used`, not subscribed yet
  bool active = false;
  std::set<uint32_t> roles;       // subscribed role ids
  std::set<uint32_t> suppressed;  // subset of roles
  std::unordered_map<uint32_t, drf::Quantities> allocatedByRole;  // role id -> scalars
  std::unordered_map<uint32_t, Resources> allocation;  // agent id -> resources with allocation roles
  std::unordered_map<uint64_t, std::vector<OfferFilter>> filters;  // filterKey(agent, role)
};

struct RoleSlot {
  std::string name;
  double weight = 1.0;
  drf::Quantities allocated;   // of every framework, offerable or not
  drf::ShareOrder frameworks;  // offerable frameworks: added, active, subscribed, not suppressed
};

inline uint64_t filterKey(uint32_t agent, uint32_t role) { return (uint64_t{agent} << 32) | role; }
inline uint32_t agentOfKey(uint64_t key) { return static_cast<uint32_t>(key >> 32); }
inline uint32_t roleOfKey(uint64_t key) { return static_cast<uint32_t>(key & 0xffffffffu); }

struct Allocator::State {
  State(const Clock& c, AllocatorOptions o) : clock(c), options(o), rng(o.seed) {}

  const Clock& clock;
  AllocatorOptions options;
  std::mt19937_64 rng;
  drf::ScalarNames names;
  drf::Quantities totalQ;  // of every added agent
  // Set when totalQ changed: every stored share is stale until refreshShares().
  bool sharesStale = false;
  // Bumped whenever some framework may have become eligible anywhere (it joined a role's
  // order, or filters were dropped), which invalidates every agent's idleEpoch at once. Changes
  // local to one agent (resources returned, a filter expired) reset that agent's idleEpoch.
  // So a cluster whose frameworks all refused everything costs O(agents) per round, not
  // O(agents x frameworks).
  uint64_t eligibilityEpoch = 1;

  std::vector<std::unique_ptr<AgentSlot>> agents;
  std::vector<uint32_t> freeAgents;
  std::unordered_map<std::string, uint32_t> agentIds;

  std::vector<std::unique_ptr<FrameworkSlot>> frameworks;
  std::vector<uint32_t> freeFrameworks;
  std::unordered_map<std::string, uint32_t> frameworkIds;

  // Roles are never freed: there are few, and weights must outlive their frameworks.
  std::vector<std::unique_ptr<RoleSlot>> roles;
  std::unordered_map<std::string, uint32_t> roleIds;
  drf::ShareOrder roleOrder;  // roles with at least one offerable framework

  struct Expiry {
    TimePoint at;
    uint32_t framework;
    uint64_t key;
    bool operator>(const Expiry& o) const { return at > o.at; }
  };
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> expiries;
  size_t liveFilters = 0;

  // Lookups: nullptr when unknown; `index` receives the slot.
  AgentSlot* agent(const std::string& id, uint32_t* index = nullptr);
  FrameworkSlot* framework(const std::string& id, uint32_t* index = nullptr);
  const FrameworkSlot* framework(const std::string& id) const;
  uint32_t internRole(const std::string& name);
  uint32_t frameworkSlot(const std::string& id);  // finds or creates a not-yet-added slot
  // The named roles that the framework is subscribed to; all of them when `names` is empty.
  std::set<uint32_t> selectRoles(const FrameworkSlot& fw, const std::set<std::string>& names) const;

  double roleShare(uint32_t role) const;
  double frameworkShare(const FrameworkSlot& fw, uint32_t role) const;
  // Brings the framework's membership in the role's order, and the role's in roleOrder, in
  // line with its state. Call after any change to added/active/roles/suppressed.
  void syncMembership(uint32_t fw, uint32_t role);
  void syncRoles(uint32_t fw, const std::set<uint32_t>& alsoRoles = {});
  void refreshShares();

  // Share bookkeeping for allocations of `fw` in `role`; sign +1 adds, -1 removes.
  void changeShares(uint32_t fw, uint32_t role, const drf::Quantities& q, int sign);
  // Adds / removes allocated resources (with allocation roles) of fw on agent, with shares.
  // The agent's available resources are the caller's business.
  void track(uint32_t fw, uint32_t agent, const Resources& allocated);
  void untrack(uint32_t fw, uint32_t agent, const Resources& allocated);
  // Fills in missing allocation roles as recoverResources documents.
  Resources withAllocationRoles(const FrameworkSlot& fw, const Resources& resources) const;

  // Installs a refusal of `refused` (without allocation roles) by fw on the agent in the role.
  void addFilter(uint32_t fw, uint32_t agent, uint32_t role, Resources refused, TimePoint expires);
  // Drops the framework's filters whose key matches; keeps liveFilters right.
  template <typename Pred>
  void dropFilters(FrameworkSlot& fw, Pred matches) {
    for (auto it = fw.filters.begin(); it != fw.filters.end();) {
      if (matches(it->first)) {
        liveFilters -= it->second.size();
        ++eligibilityEpoch;
        it = fw.filters.erase(it);
      } else {
        ++it;
      }
    }
  }
  void expireFilters(TimePoint now);
  // Whether an active filter of fw on the agent in the role contains `offered`. Not const: it
  // updates the agent's coverMemo when `offered` is the agent's whole `available`.
  bool filtered(const FrameworkSlot& fw, uint32_t agent, uint32_t role, const Resources& offered, TimePoint now);
  void releaseFramework(uint32_t fw);       // returns every allocation of fw to its agents
  void freeFrameworkIfUnused(uint32_t fw);  // frees a not-added slot with no allocations left

  bool allocatable(const Resources& resources) const;
  std::vector<OfferGrant> runRound(std::vector<uint32_t> agentOrder);
  void allocateAgent(uint32_t agent, TimePoint now, std::vector<OfferGrant>& out);
  void allocateReserved(uint32_t agent, TimePoint now, std::vector<OfferGrant>& out);
  // First eligible framework of `role` for `offered` on `agent`, or nullopt.
  std::optional<uint32_t> pickFramework(uint32_t role, uint32_t agent, const Resources& offered, TimePoint now);
  void grant(uint32_t fw, uint32_t role, uint32_t agent, const Resources& offered, std::vector<OfferGrant>& out);
};

// The part of `wanted` that `have` holds, item by item (scalars: the smaller amount; ranges and
// sets: the intersection). Items are matched by kind, so allocation roles must agree.
Resources intersect(const Resources& wanted, const Resources& have);

}  // namespace dcos::kernel
