#include "marathon_like/placement.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <regex>

namespace dcos::marathon {
namespace {

enum class FieldKind { kHostname, kIgnored, kAttribute };

FieldKind kindOf(const std::string& field) {
  if (field == "hostname" || field == "@hostname") return FieldKind::kHostname;
  if (field == "@region" || field == "@zone") return FieldKind::kIgnored;
  return FieldKind::kAttribute;
}

std::optional<std::string> valueOf(const std::string& field, const std::string& hostname,
                                   const std::map<std::string, std::string>& attributes) {
  if (kindOf(field) == FieldKind::kHostname) return hostname;
  auto it = attributes.find(field);
  if (it == attributes.end()) return std::nullopt;
  return it->second;
}

// How many placed instances have each value of `field` (instances without one are skipped).
std::map<std::string, size_t> groupSizes(const std::string& field,
                                         const std::vector<PlacedInstance>& placed) {
  std::map<std::string, size_t> sizes;
  for (const auto& p : placed) {
    if (auto v = valueOf(field, p.hostname, p.attributes)) ++sizes[*v];
  }
  return sizes;
}

// A whole-string non-negative integer ("2"), as MAX_PER and GROUP_BY take.
std::optional<long long> parseCount(const std::string& text) {
  long long n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc() || ptr != end || n < 0) return std::nullopt;
  return n;
}

// A whole-string finite decimal number ("3", "3.0", "-1.5e2").
std::optional<double> parseNumber(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

std::string inQuotes(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

std::string describeConstraint(const Constraint& c) {
  std::string out = c.field + ":" + c.op;
  if (c.value) out += ":" + *c.value;
  return out;
}

std::string formatScalarAttribute(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::optional<Refusal> checkConstraint(const Constraint& c, const AgentView& agent,
                                       const std::vector<PlacedInstance>& placed) {
  auto refuse = [&](const std::string& why) -> std::optional<Refusal> {
    return Refusal{kUnfulfilledConstraint,
                   "constraint " + describeConstraint(c) + " not satisfied by agent " +
                       agent.agentId + " (" + agent.hostname + "): " + why};
  };

  if (kindOf(c.field) == FieldKind::kIgnored) return std::nullopt;

  auto value = valueOf(c.field, agent.hostname, agent.attributes);
  if (!value) {
    if (c.op == "UNLIKE") return std::nullopt;
    return refuse("the agent has no attribute " + inQuotes(c.field));
  }
  const std::string& v = *value;

  if (c.op == "UNIQUE") {
    auto sizes = groupSizes(c.field, placed);
    if (sizes.count(v)) return refuse("an instance already runs where " + c.field + " is " + inQuotes(v));
    return std::nullopt;
  }

  if (c.op == "CLUSTER") {
    if (c.value && !c.value->empty()) {
      if (v == *c.value) return std::nullopt;
      return refuse(c.field + " is " + inQuotes(v));
    }
    for (const auto& p : placed) {
      if (auto pv = valueOf(c.field, p.hostname, p.attributes)) {
        if (*pv == v) return std::nullopt;
        return refuse("instances run where " + c.field + " is " + inQuotes(*pv) + ", not " +
                      inQuotes(v));
      }
    }
    return std::nullopt;
  }

  if (c.op == "GROUP_BY") {
    std::optional<long long> wanted;
    if (c.value && !c.value->empty()) {
      wanted = parseCount(*c.value);
      if (!wanted || *wanted < 1) return refuse("the value is not a positive integer");
    }
    auto sizes = groupSizes(c.field, placed);
    auto it = sizes.find(v);
    size_t mine = it == sizes.end() ? 0 : it->second;
    size_t smallest = mine;
    for (const auto& [_, n] : sizes) smallest = std::min(smallest, n);
    if (wanted && sizes.size() < static_cast<size_t>(*wanted)) smallest = 0;
    if (mine <= smallest) return std::nullopt;
    return refuse(std::to_string(mine) + " instance(s) already run where " + c.field + " is " +
                  inQuotes(v) + ", other values have " + std::to_string(smallest));
  }

  if (c.op == "LIKE" || c.op == "UNLIKE") {
    if (!c.value) return refuse("no regular expression given");
    bool matches = false;
    try {
      matches = std::regex_match(v, std::regex(*c.value, std::regex::ECMAScript));
    } catch (const std::regex_error&) {
      return refuse("invalid regular expression " + inQuotes(*c.value));
    }
    bool ok = c.op == "LIKE" ? matches : !matches;
    if (ok) return std::nullopt;
    return refuse(c.field + " is " + inQuotes(v));
  }

  if (c.op == "MAX_PER") {
    auto max = c.value ? parseCount(*c.value) : std::nullopt;
    if (!max) return refuse("the value is not a non-negative integer");
    auto sizes = groupSizes(c.field, placed);
    auto it = sizes.find(v);
    size_t mine = it == sizes.end() ? 0 : it->second;
    if (mine < static_cast<size_t>(*max)) return std::nullopt;
    return refuse(std::to_string(mine) + " instance(s) already run where " + c.field + " is " +
                  inQuotes(v));
  }

  if (c.op == "IS") {
    if (!c.value) return refuse("no value given");
    if (v == *c.value) return std::nullopt;
    auto a = parseNumber(v), b = parseNumber(*c.value);
    if (a && b && *a == *b) return std::nullopt;
    return refuse(c.field + " is " + inQuotes(v));
  }

  return refuse("unsupported operator " + inQuotes(c.op));
}

std::optional<Refusal> checkConstraints(const std::vector<Constraint>& constraints,
                                        const AgentView& agent,
                                        const std::vector<PlacedInstance>& placed) {
  for (const auto& c : constraints) {
    if (auto r = checkConstraint(c, agent, placed)) return r;
  }
  return std::nullopt;
}

}  // namespace dcos::marathon
