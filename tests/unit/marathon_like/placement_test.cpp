#include "marathon_like/placement.hpp"

#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace dcos::marathon;

namespace {

AgentView agent(const std::string& host, std::map<std::string, std::string> attrs = {}) {
  return AgentView{"id-" + host, host, std::move(attrs)};
}

PlacedInstance on(const AgentView& a) { return PlacedInstance{a.agentId, a.hostname, a.attributes}; }

Constraint con(std::string field, std::string op, std::optional<std::string> value = std::nullopt) {
  return Constraint{std::move(field), std::move(op), std::move(value)};
}

struct Case {
  const char* name;
  Constraint constraint;
  AgentView agent;
  std::vector<PlacedInstance> placed;
  bool accepted;
};

}  // namespace

TEST_CASE("placement: each operator accepts and refuses") {
  const auto h1 = agent("h1", {{"rack", "r1"}, {"cores", "3"}, {"ports", "[100-200]"}});
  const auto h2 = agent("h2", {{"rack", "r2"}, {"cores", "4"}});
  const auto h3 = agent("h3", {{"rack", "r1"}});
  const auto bare = agent("bare");

  const std::vector<Case> cases = {
      {"UNIQUE hostname, nothing placed", con("hostname", "UNIQUE"), h1, {}, true},
      {"UNIQUE hostname, other host used", con("hostname", "UNIQUE"), h1, {on(h2)}, true},
      {"UNIQUE hostname, same host used", con("hostname", "UNIQUE"), h1, {on(h1)}, false},
      {"UNIQUE @hostname, same host used", con("@hostname", "UNIQUE"), h1, {on(h1)}, false},
      {"UNIQUE attribute, same rack other host", con("rack", "UNIQUE"), h3, {on(h1)}, false},
      {"UNIQUE attribute, other rack", con("rack", "UNIQUE"), h2, {on(h1)}, true},
      {"UNIQUE attribute, placed lacks attribute", con("rack", "UNIQUE"), h1, {on(bare)}, true},
      {"CLUSTER value matches", con("rack", "CLUSTER", "r1"), h1, {}, true},
      {"CLUSTER value differs", con("rack", "CLUSTER", "r1"), h2, {}, false},
      {"CLUSTER hostname value", con("hostname", "CLUSTER", "h2"), h2, {}, true},
      {"CLUSTER hostname value differs", con("hostname", "CLUSTER", "h2"), h1, {}, false},
      {"CLUSTER no value, none placed", con("rack", "CLUSTER"), h2, {}, true},
      {"CLUSTER no value, same as first", con("rack", "CLUSTER"), h3, {on(h1)}, true},
      {"CLUSTER no value, differs from first", con("rack", "CLUSTER"), h2, {on(h1)}, false},
      {"CLUSTER empty value behaves as none", con("rack", "CLUSTER", ""), h2, {on(h1)}, false},
      {"CLUSTER hostname no value, other host", con("hostname", "CLUSTER"), h3, {on(h1)}, false},
      {"LIKE full match", con("rack", "LIKE", "r[1-3]"), h1, {}, true},
      {"LIKE no match", con("rack", "LIKE", "r[3-9]"), h1, {}, false},
      {"LIKE is not a substring search", con("hostname", "LIKE", "h"), h1, {}, false},
      {"LIKE substring needs .*", con("hostname", "LIKE", "h.*"), h1, {}, true},
      {"LIKE invalid regex refuses", con("rack", "LIKE", "r[1"), h1, {}, false},
      {"UNLIKE no match accepts", con("rack", "UNLIKE", "r[2-9]"), h1, {}, true},
      {"UNLIKE match refuses", con("rack", "UNLIKE", "r[1-2]"), h1, {}, false},
      {"UNLIKE is a full match", con("rack", "UNLIKE", "r"), h1, {}, true},
      {"MAX_PER under limit", con("rack", "MAX_PER", "2"), h3, {on(h1)}, true},
      {"MAX_PER at limit", con("rack", "MAX_PER", "2"), h3, {on(h1), on(h3)}, false},
      {"MAX_PER other value", con("rack", "MAX_PER", "2"), h2, {on(h1), on(h3)}, true},
      {"MAX_PER 0 refuses all", con("rack", "MAX_PER", "0"), h2, {}, false},
      {"MAX_PER non-integer refuses", con("rack", "MAX_PER", "two"), h2, {}, false},
      {"IS text equal", con("rack", "IS", "r1"), h1, {}, true},
      {"IS text differs", con("rack", "IS", "r2"), h1, {}, false},
      {"IS scalar numeric equal", con("cores", "IS", "3.0"), h1, {}, true},
      {"IS scalar numeric differs", con("cores", "IS", "3.5"), h1, {}, false},
      {"IS range text", con("ports", "IS", "[100-200]"), h1, {}, true},
      {"IS hostname", con("hostname", "IS", "h1"), h1, {}, true},
      {"unknown operator refuses", con("rack", "NEAR", "r1"), h1, {}, false},
      {"@zone is ignored", con("@zone", "IS", "z1"), bare, {}, true},
      {"@region is ignored", con("@region", "UNIQUE"), bare, {on(bare)}, true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto refusal = checkConstraints({c.constraint}, c.agent, c.placed);
    CHECK(refusal.has_value() == !c.accepted);
    if (refusal) {
      CHECK(refusal->reason == "UnfulfilledConstraint");
      CHECK(refusal->message.find(describeConstraint(c.constraint)) != std::string::npos);
    }
  }
}

TEST_CASE("placement: an agent without the attribute passes only UNLIKE") {
  const auto bare = agent("bare");
  const auto h1 = agent("h1", {{"rack", "r1"}});
  const std::vector<std::pair<Constraint, bool>> cases = {
      {con("rack", "UNIQUE"), false},      {con("rack", "CLUSTER"), false},
      {con("rack", "CLUSTER", "r1"), false}, {con("rack", "GROUP_BY"), false},
      {con("rack", "LIKE", ".*"), false},  {con("rack", "UNLIKE", "r1"), true},
      {con("rack", "MAX_PER", "5"), false}, {con("rack", "IS", "r1"), false},
  };
  for (const auto& [c, accepted] : cases) {
    CAPTURE(describeConstraint(c));
    CHECK(!checkConstraint(c, bare, {on(h1)}).has_value() == accepted);
  }
}

TEST_CASE("placement: the refusal names the constraint") {
  const auto h1 = agent("h1");
  auto r = checkConstraints({con("hostname", "UNIQUE")}, h1, {on(h1)});
  REQUIRE(r.has_value());
  CHECK(r->reason == "UnfulfilledConstraint");
  CHECK(r->message.find("hostname:UNIQUE") != std::string::npos);
  CHECK(describeConstraint(con("rack", "MAX_PER", "2")) == "rack:MAX_PER:2");
}

TEST_CASE("placement: all constraints must hold, the first failing one is reported") {
  const auto h1 = agent("h1", {{"rack", "r1"}});
  const auto h2 = agent("h2", {{"rack", "r1"}});
  std::vector<Constraint> cs = {con("hostname", "UNIQUE"), con("rack", "MAX_PER", "1")};
  CHECK_FALSE(checkConstraints(cs, h2, {}).has_value());
  auto r = checkConstraints(cs, h2, {on(h1)});
  REQUIRE(r.has_value());
  CHECK(r->message.find("rack:MAX_PER:1") != std::string::npos);
  r = checkConstraints(cs, h1, {on(h1)});
  REQUIRE(r.has_value());
  CHECK(r->message.find("hostname:UNIQUE") != std::string::npos);
  CHECK_FALSE(checkConstraints({}, h1, {on(h1)}).has_value());
}

TEST_CASE("placement: GROUP_BY 3 spreads 6 instances over 3 racks") {
  // Offers arrive with a rack-a bias: each round offers every agent in this order, and the first
  // accepted one takes the instance.
  std::vector<AgentView> agents;
  for (const char* rack : {"a", "a", "a", "b", "b", "c"}) {
    agents.push_back(agent(std::string("h") + std::to_string(agents.size()), {{"rack", rack}}));
  }
  std::vector<PlacedInstance> placed;
  const std::vector<Constraint> cs = {con("rack", "GROUP_BY", "3")};
  for (int i = 0; i < 6; ++i) {
    bool launched = false;
    for (const auto& a : agents) {
      if (!checkConstraints(cs, a, placed)) {
        placed.push_back(on(a));
        launched = true;
        break;
      }
    }
    REQUIRE(launched);
  }
  std::map<std::string, int> perRack;
  for (const auto& p : placed) ++perRack[p.attributes.at("rack")];
  CHECK(perRack == std::map<std::string, int>{{"a", 2}, {"b", 2}, {"c", 2}});
}

TEST_CASE("placement: GROUP_BY rules") {
  const auto a = agent("ha", {{"rack", "a"}});
  const auto b = agent("hb", {{"rack", "b"}});
  const auto c = agent("hc", {{"rack", "c"}});
  // Without a count only the values seen so far are known: a second instance may join rack a.
  CHECK_FALSE(checkConstraint(con("rack", "GROUP_BY"), a, {on(a)}).has_value());
  // With a count, a new value is preferred while fewer than n values are in use.
  CHECK(checkConstraint(con("rack", "GROUP_BY", "3"), a, {on(a)}).has_value());
  CHECK(checkConstraint(con("rack", "GROUP_BY", "3"), a, {on(a), on(b)}).has_value());
  CHECK_FALSE(checkConstraint(con("rack", "GROUP_BY", "3"), c, {on(a), on(b)}).has_value());
  CHECK_FALSE(checkConstraint(con("rack", "GROUP_BY", "2"), a, {on(a), on(b)}).has_value());
  // The biggest group refuses, a smallest group accepts.
  CHECK(checkConstraint(con("rack", "GROUP_BY"), a, {on(a), on(a), on(b)}).has_value());
  CHECK_FALSE(checkConstraint(con("rack", "GROUP_BY"), b, {on(a), on(a), on(b)}).has_value());
  // An unused value is always acceptable.
  CHECK_FALSE(checkConstraint(con("rack", "GROUP_BY"), c, {on(a), on(a), on(b)}).has_value());
  // A bad count refuses.
  CHECK(checkConstraint(con("rack", "GROUP_BY", "x"), c, {}).has_value());
  CHECK(checkConstraint(con("rack", "GROUP_BY", "0"), c, {}).has_value());
  // hostname works as a field.
  CHECK(checkConstraint(con("hostname", "GROUP_BY"), a, {on(a), on(b), on(a)}).has_value());
}

TEST_CASE("placement: MAX_PER 2 fills each value to two") {
  std::vector<AgentView> agents = {agent("h1", {{"rack", "r1"}}), agent("h2", {{"rack", "r1"}}),
                                   agent("h3", {{"rack", "r1"}}), agent("h4", {{"rack", "r2"}})};
  std::vector<PlacedInstance> placed;
  const std::vector<Constraint> cs = {con("rack", "MAX_PER", "2")};
  for (int i = 0; i < 5; ++i) {
    for (const auto& a : agents) {
      if (!checkConstraints(cs, a, placed)) {
        placed.push_back(on(a));
        break;
      }
    }
  }
  REQUIRE(placed.size() == 4);  // the fifth instance finds no room
  std::vector<std::string> hosts;
  for (const auto& p : placed) hosts.push_back(p.hostname);
  CHECK(hosts == std::vector<std::string>{"h1", "h1", "h4", "h4"});
}

TEST_CASE("placement: scalar attributes render like Mesos") {
  CHECK(formatScalarAttribute(3) == "3");
  CHECK(formatScalarAttribute(3.0) == "3");
  CHECK(formatScalarAttribute(2.5) == "2.5");
  CHECK(formatScalarAttribute(0.125) == "0.125");
  CHECK(formatScalarAttribute(-0.0) == "0");
}
