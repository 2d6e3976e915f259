#include "marathon_like/offer_match.hpp"

#include "marathon_like/task_info.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>
#include <utility>

namespace dcos::marathon {
namespace {

using kernel::Resource;
using kernel::Resources;
using kernel::Scalar;
using kernel::ValueType;

Error invalid(const std::string& field, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, "offer " + field + ": " + what, {{field, {what}}});
}

// {"value": "..."} objects such as id, agent_id.
std::optional<std::string> idValue(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) return std::nullopt;
  auto v = it->find("value");
  if (v == it->end() || !v->is_string() || v->get<std::string>().empty()) return std::nullopt;
  return v->get<std::string>();
}

// A Mesos v1 Attribute's value as Mesos renders it.
Result<std::string> attributeValue(const Json& a, const std::string& at) {
  std::string type = a.value("type", std::string("TEXT"));
  if (type == "TEXT") {
    auto v = a.value("/text/value"_json_pointer, Json());
    if (!v.is_string()) return invalid(at + "/text/value", "must be a string");
    return v.get<std::string>();
  }
  if (type == "SCALAR") {
    auto v = a.value("/scalar/value"_json_pointer, Json());
    if (!v.is_number()) return invalid(at + "/scalar/value", "must be a number");
    return formatScalarAttribute(v.get<double>());
  }
  if (type == "RANGES") {
    auto list = a.value("/ranges/range"_json_pointer, Json());
    if (!list.is_array()) return invalid(at + "/ranges/range", "must be an array");
    std::vector<kernel::Range> ranges;
    for (const auto& r : list) {
      if (!r.is_object() || !r.value("begin", Json()).is_number_unsigned() || !r.value("end", Json()).is_number_unsigned()) {
        return invalid(at + "/ranges/range", "each range needs unsigned begin and end");
      }
      ranges.push_back({r["begin"].get<uint64_t>(), r["end"].get<uint64_t>()});
    }
    return kernel::Ranges(std::move(ranges)).toString();
  }
  if (type == "SET") {
    auto items = a.value("/set/item"_json_pointer, Json());
    if (!items.is_array()) return invalid(at + "/set/item", "must be an array of strings");
    std::string out;
    for (const auto& i : items) {
      if (!i.is_string()) return invalid(at + "/set/item", "must be an array of strings");
      out += (out.empty() ? "" : ",") + i.get<std::string>();
    }
    return "{" + out + "}";
  }
  return invalid(at + "/type", "unknown attribute type '" + type + "'");
}

// Resources the app may use, reserved ones first (stable otherwise).
std::vector<Resource> usableResources(const Resources& remaining, const AppDefinition& app,
                                      const std::string& frameworkRole) {
  std::set<std::string> accepted(app.acceptedResourceRoles.begin(), app.acceptedResourceRoles.end());
  if (accepted.empty()) accepted.insert("*");
  std::vector<Resource> out;
  for (const auto& r : remaining.items()) {
    if (!accepted.count(r.role)) continue;
    if (r.reserved() && r.role != frameworkRole) continue;
    out.push_back(r);
  }
  std::stable_partition(out.begin(), out.end(), [](const Resource& r) { return r.reserved(); });
  return out;
}

Scalar available(const std::vector<Resource>& usable, const std::string& name) {
  Scalar sum;
  for (const auto& r : usable) sum += r.name == name && r.type == ValueType::kScalar ? r.scalar : Scalar();
  return sum;
}

// Takes `need` of a scalar from `usable` (the caller checked there is enough).
void takeScalar(const std::vector<Resource>& usable, const std::string& name, Scalar need, Resources& consumed) {
  for (const auto& r : usable) {
    if (need.millis() <= 0) return;
    if (r.name != name || r.type != ValueType::kScalar) continue;
    Resource piece = r;
    piece.scalar = std::min(r.scalar, need);
    need -= piece.scalar;
    consumed.add(piece);
  }
}

// The lowest port of `r` that is not in `used`, if any.
std::optional<uint64_t> lowestFree(const Resource& r, const std::set<uint64_t>& used) {
  for (const auto& range : r.ranges.ranges()) {
    for (uint64_t p = std::max<uint64_t>(range.begin, 1); p <= range.end && p <= 65535; ++p) {
      if (!used.count(p)) return p;
    }
  }
  return std::nullopt;
}

// One host port per port definition, or a message saying what is missing.
std::variant<std::vector<uint32_t>, std::string> assignPorts(const std::vector<Resource>& usable,
                                                             const AppDefinition& app, Resources& consumed) {
  const auto& defs = app.portDefinitions;
  std::vector<uint64_t> chosen(defs.size(), 0);
  std::vector<const Resource*> from(defs.size(), nullptr);
  std::set<uint64_t> used;
  // Declared ports first (pass 0), so that a dynamic pick cannot take a port another needs.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < defs.size(); ++i) {
      uint64_t want = app.requirePorts ? defs[i].port : 0;
      if ((want != 0) != (pass == 0)) continue;
      for (const auto& r : usable) {
        if (r.name != "ports" || r.type != ValueType::kRanges) continue;
        auto p = want == 0 ? lowestFree(r, used)
                           : r.ranges.contains(want) && !used.count(want) ? std::optional(want) : std::nullopt;
        if (p) {
          chosen[i] = *p;
          from[i] = &r;
          break;
        }
      }
      if (!from[i] && want != 0) return "port " + std::to_string(want) + " is required but not offered";
      if (!from[i]) return std::to_string(defs.size()) + " port(s) needed, not enough offered";
      used.insert(chosen[i]);
    }
  }
  std::vector<uint32_t> ports;
  for (size_t i = 0; i < defs.size(); ++i) {
    Resource piece = *from[i];
    piece.ranges = kernel::Ranges({{chosen[i], chosen[i]}});
    consumed.add(piece);
    ports.push_back(static_cast<uint32_t>(chosen[i]));
  }
  return ports;
}

}  // namespace

Result<OfferView> parseOffer(const Json& offer) {
  if (!offer.is_object()) return invalid("/", "must be an object");
  OfferView view;
  auto id = idValue(offer, "id");
  if (!id) return invalid("/id/value", "must be a non-empty string");
  auto agent = idValue(offer, "agent_id");
  if (!agent) return invalid("/agent_id/value", "must be a non-empty string");
  view.offerId = *id;
  view.agentId = *agent;
  auto host = offer.value("hostname", Json());
  if (!host.is_string()) return invalid("/hostname", "must be a string");
  view.hostname = host.get<std::string>();
  auto role = offer.value("/allocation_info/role"_json_pointer, Json(""));
  if (!role.is_string()) return invalid("/allocation_info/role", "must be a string");
  view.allocationRole = role.get<std::string>();
  auto resources = Resources::fromJson(offer.value("resources", Json::array()), "/resources");
  if (!resources) {
    const Error& e = resources.error();
    std::string field = e.details.empty() ? "/resources" : e.details[0].path;
    return Error(ErrorCode::kInvalidArgument, "offer " + field + ": " + e.message, e.details);
  }
  view.resources = std::move(*resources);
  view.agent = AgentView{view.agentId, view.hostname, {}};
  auto attributes = offer.value("attributes", Json::array());
  if (!attributes.is_array()) return invalid("/attributes", "must be an array");
  for (size_t i = 0; i < attributes.size(); ++i) {
    const Json& a = attributes[i];
    std::string at = "/attributes/" + std::to_string(i);
    if (!a.is_object() || !a.value("name", Json()).is_string()) return invalid(at + "/name", "must be a string");
    auto value = attributeValue(a, at);
    if (!value) return value.error();
    view.agent.attributes[a["name"].get<std::string>()] = std::move(*value);
  }
  return view;
}

std::variant<LaunchPlan, std::vector<Refusal>> matchOffer(const LaunchRequest& request, const OfferView& offer,
                                                          const Resources& remaining,
                                                          const std::vector<PlacedInstance>& placed) {
  const AppDefinition& app = *request.app;
  if (app.needsDocker()) {
    return std::vector<Refusal>{{kNoDockerContainerizer, "no agent offers a Docker containerizer"}};
  }
  std::vector<Refusal> refusals;
  auto usable = usableResources(remaining, app, request.frameworkRole);
  if (usable.empty()) {
    std::string roles;
    for (const auto& r : app.acceptedResourceRoles) roles += (roles.empty() ? "" : ", ") + r;
    refusals.push_back({kUnfulfilledRole, "the offer has no resources of the accepted roles (" +
                                              (roles.empty() ? std::string("*") : roles) + ")"});
  }
  if (auto refusal = checkConstraints(app.constraints, offer.agent, placed)) refusals.push_back(*refusal);

  struct Need {
    const char* name;
    const char* reason;
    double amount;
    bool checked;
  };
  const Need needs[] = {{"cpus", kInsufficientCpus, app.cpus, true},
                        {"mem", kInsufficientMemory, app.mem, true},
                        {"disk", kInsufficientDisk, app.disk, app.disk > 0},
                        {"gpus", kInsufficientGpus, static_cast<double>(app.gpus), app.gpus > 0}};
  Resources consumed;
  for (const auto& need : needs) {
    if (!need.checked) continue;
    Scalar want = Scalar::fromDouble(need.amount), have = available(usable, need.name);
    if (have < want) {
      refusals.push_back({need.reason, std::string(need.name) + ": the offer has " + formatScalarAttribute(have.toDouble()) +
                                           " of the accepted roles, the app needs " + formatScalarAttribute(need.amount)});
    } else {
      takeScalar(usable, need.name, want, consumed);
    }
  }
  auto ports = assignPorts(usable, app, consumed);
  if (auto* problem = std::get_if<std::string>(&ports)) refusals.push_back({kInsufficientPorts, "ports: " + *problem});
  if (!refusals.empty()) return refusals;

  LaunchPlan plan;
  plan.hostPorts = std::get<std::vector<uint32_t>>(std::move(ports));
  plan.consumed = std::move(consumed);
  plan.taskInfo = buildTaskInfo(request, offer, plan);
  return plan;
}

}  // namespace dcos::marathon
