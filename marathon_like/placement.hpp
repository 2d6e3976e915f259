#pragma once
// The placement decision of the Marathon-like scheduler: may one more instance of an app run on
// this agent, given the app's constraints and where its instances already run? Pure functions:
// no I/O, no clock.
//
// Semantics follow Marathon's constraints documentation:
//  * Field "hostname" or "@hostname" is the agent's hostname; "@region" and "@zone" refer to the
//    Mesos fault domain, which AgentView does not carry: constraints on them are ignored (always
//    satisfied). Any other field names an agent attribute, whose value is the text Mesos shows
//    (ranges "[100-200]", sets "{a,b}", scalars without trailing zeros, e.g. "3").
//  * An agent without the attribute satisfies only UNLIKE; every other operator refuses it.
//  * Placed instances without the field's value do not count for UNIQUE, CLUSTER, GROUP_BY or
//    MAX_PER (they belong to no group).
//  * UNIQUE: no placed instance has the agent's value.
//  * CLUSTER v: the agent's value is exactly v. CLUSTER without value (or empty): the agent's
//    value equals that of the first placed instance that has one; any value when none does.
//  * GROUP_BY [n]: group placed instances by value. The candidate groups are the values seen so
//    far plus, when n is given and fewer than n values are in use, one not-yet-used value (size
//    0). The agent is accepted when its group (0 if its value is unused) is no larger than the
//    smallest candidate group. So an unused value is always accepted, and while fewer than n
//    values are in use only unused values are. n must be a positive integer.
//  * LIKE r / UNLIKE r: r must match the whole value (std::regex_match, ECMAScript grammar).
//    An invalid regex refuses (for both operators).
//  * MAX_PER n: fewer than n placed instances share the agent's value (n a non-negative integer).
//  * IS v: the agent's value equals v; when both are plain numbers they compare numerically
//    ("3" IS "3.0").
//  * Any other operator, or a missing/invalid required value, refuses.

#include "marathon_like/app.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dcos::marathon {

// The agent an offer comes from, as constraints see it.
struct AgentView {
  std::string agentId, hostname;
  std::map<std::string, std::string> attributes;  // attribute name -> value as Mesos shows it
};

// One of the app's running or staged instances.
struct PlacedInstance {
  std::string agentId, hostname;
  std::map<std::string, std::string> attributes;
};

// Why one offer cannot take one instance. `reason` uses Marathon's NoOfferMatchReason names;
// this component produces only "UnfulfilledConstraint".
struct Refusal {
  std::string reason;
  std::string message;
  bool operator==(const Refusal&) const = default;
};

inline constexpr const char* kUnfulfilledConstraint = "UnfulfilledConstraint";

// The constraint as Marathon writes it in messages: "field:OP" or "field:OP:value".
std::string describeConstraint(const Constraint& constraint);

// Does `agent` satisfy `constraint` given the instances already placed? nullopt = yes.
std::optional<Refusal> checkConstraint(const Constraint& constraint, const AgentView& agent,
                                       const std::vector<PlacedInstance>& placed);

// Does this agent satisfy every constraint? nullopt = yes; otherwise the first refusal, in the
// order of `constraints`.
std::optional<Refusal> checkConstraints(const std::vector<Constraint>& constraints,
                                        const AgentView& agent,
                                        const std::vector<PlacedInstance>& placed);

// A scalar attribute value as Mesos renders it: no trailing zeros ("3", "2.5").
std::string formatScalarAttribute(double value);

}  // namespace dcos::marathon
