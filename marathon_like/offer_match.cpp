#include "marathon_like/offer_match.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
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

// A double as Marathon (Scala's Double.toString) writes it in MARATHON_APP_RESOURCE_*: "128.0".
std::string scalaDouble(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e7) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
  }
  return formatScalarAttribute(v);
}

// Label keys in env names: runs of characters other than [A-Za-z0-9_] become one '_', uppercased.
std::string labelEnvName(const std::string& key) {
  std::string out;
  bool inRun = false;
  for (unsigned char c : key) {
    bool keep = std::isalnum(c) || c == '_';
    if (keep) out += static_cast<char>(std::toupper(c));
    else if (!inRun) out += '_';
    inRun = !keep;
  }
  return out;
}

// Named ports in env names: uppercased, anything but [A-Z0-9_] becomes '_' (as the agent does).
std::string portEnvName(const std::string& name) {
  std::string out = "PORT_";
  for (unsigned char c : name) out += std::isalnum(c) || c == '_' ? static_cast<char>(std::toupper(c)) : '_';
  return out;
}

using EnvList = std::vector<std::pair<std::string, std::string>>;

EnvList marathonEnv(const LaunchRequest& req, const OfferView& offer, const std::vector<uint32_t>& ports) {
  const AppDefinition& app = *req.app;
  EnvList env = {{"MARATHON_APP_ID", app.id}};
  if (app.version) env.emplace_back("MARATHON_APP_VERSION", *app.version);
  env.emplace_back("MARATHON_APP_RESOURCE_CPUS", scalaDouble(app.cpus));
  env.emplace_back("MARATHON_APP_RESOURCE_MEM", scalaDouble(app.mem));
  env.emplace_back("MARATHON_APP_RESOURCE_DISK", scalaDouble(app.disk));
  env.emplace_back("MARATHON_APP_RESOURCE_GPUS", std::to_string(app.gpus));
  // Marathon leaves out labels too long for an environment variable.
  constexpr size_t kMaxLength = 512, kPrefixLength = 19;  // "MARATHON_APP_LABEL_"
  std::string names;
  EnvList labelValues;
  for (const auto& [key, value] : app.labels) {
    if (key.size() >= kMaxLength - kPrefixLength || value.size() >= kMaxLength) continue;
    std::string name = labelEnvName(key);
    names += (names.empty() ? "" : " ") + name;
    labelValues.emplace_back("MARATHON_APP_LABEL_" + name, value);
  }
  env.emplace_back("MARATHON_APP_LABELS", names);
  env.insert(env.end(), labelValues.begin(), labelValues.end());
  env.emplace_back("MESOS_TASK_ID", req.taskId);
  env.emplace_back("HOST", offer.hostname);
  std::string all;
  for (size_t i = 0; i < ports.size(); ++i) {
    env.emplace_back("PORT" + std::to_string(i), std::to_string(ports[i]));
    all += (i ? "," : "") + std::to_string(ports[i]);
  }
  if (!ports.empty()) {
    env.emplace_back("PORT", std::to_string(ports[0]));
    env.emplace_back("PORTS", all);
  }
  for (size_t i = 0; i < ports.size() && i < app.portDefinitions.size(); ++i) {
    uint32_t declared = app.portDefinitions[i].port;
    env.emplace_back("PORT_" + std::to_string(declared != 0 ? declared : ports[i]), std::to_string(ports[i]));
  }
  for (size_t i = 0; i < ports.size() && i < app.portDefinitions.size(); ++i) {
    const auto& name = app.portDefinitions[i].name;
    if (name && !name->empty()) env.emplace_back(portEnvName(*name), std::to_string(ports[i]));
  }
  return env;
}

Json environment(const LaunchRequest& req, const OfferView& offer, const std::vector<uint32_t>& ports) {
  EnvList env(req.app->env.begin(), req.app->env.end());
  std::set<std::string> userNames;
  for (const auto& [k, v] : req.app->env) userNames.insert(k);
  // The app's own env wins over Marathon's variables, as in Marathon.
  for (auto& kv : marathonEnv(req, offer, ports)) {
    if (!userNames.count(kv.first)) env.push_back(std::move(kv));
  }
  for (const auto& [k, v] : req.extraEnv) {
    std::erase_if(env, [&](const auto& kv) { return kv.first == k; });
    env.emplace_back(k, v);
  }
  Json vars = Json::array();
  for (const auto& [k, v] : env) vars.push_back({{"name", k}, {"value", v}});
  return vars;
}

Json commandInfo(const LaunchRequest& req, const OfferView& offer, const std::vector<uint32_t>& ports) {
  const AppDefinition& app = *req.app;
  Json command;
  if (app.cmd) {
    command = {{"shell", true}, {"value", *app.cmd}};
  } else if (app.args && !app.args->empty()) {
    command = {{"shell", false}, {"value", app.args->front()}, {"arguments", *app.args}};
  } else {
    // parseApp requires cmd or args unless there is an image, and images never match.
    command = {{"shell", true}, {"value", ""}};
  }
  if (!app.fetch.empty()) {
    Json uris = Json::array();
    for (const auto& f : app.fetch) {
      Json u = {{"value", f.uri}, {"executable", f.executable}, {"extract", f.extract}, {"cache", f.cache}};
      if (f.outputFile) u["output_file"] = *f.outputFile;
      uris.push_back(std::move(u));
    }
    command["uris"] = std::move(uris);
  }
  if (app.user) command["user"] = *app.user;
  command["environment"] = {{"variables", environment(req, offer, ports)}};
  return command;
}

Json labelsJson(const std::map<std::string, std::string>& labels) {
  Json list = Json::array();
  for (const auto& [k, v] : labels) list.push_back({{"key", k}, {"value", v}});
  return {{"labels", std::move(list)}};
}

Json discoveryInfo(const AppDefinition& app, const std::vector<uint32_t>& ports) {
  Json list = Json::array();
  for (size_t i = 0; i < ports.size() && i < app.portDefinitions.size(); ++i) {
    const auto& def = app.portDefinitions[i];
    // parseApp allows "tcp", "udp" and "udp,tcp"; Mesos wants one entry per protocol.
    std::string protocols = def.protocol.empty() ? "tcp" : def.protocol;
    for (const char* protocol : {"udp", "tcp"}) {
      if (protocols.find(protocol) == std::string::npos) continue;
      Json p = {{"number", ports[i]}, {"protocol", protocol}};
      if (def.name) p["name"] = *def.name;
      if (!def.labels.empty()) p["labels"] = labelsJson(def.labels);
      list.push_back(std::move(p));
    }
  }
  return {{"visibility", "FRAMEWORK"}, {"name", mesosDnsName(app.id)}, {"ports", {{"ports", std::move(list)}}}};
}

// The app's first health check in Mesos' form; null when there is none or its port is unknown.
Json healthCheck(const AppDefinition& app, const std::vector<uint32_t>& ports) {
  if (!app.healthChecks.is_array() || app.healthChecks.empty() || !app.healthChecks[0].is_object()) return Json();
  const Json& hc = app.healthChecks[0];
  std::string protocol = hc.value("protocol", std::string("HTTP"));
  Json out;
  if (protocol == "COMMAND") {
    auto value = hc.value("/command/value"_json_pointer, Json());
    if (!value.is_string()) return Json();
    out = {{"type", "COMMAND"}, {"command", {{"shell", true}, {"value", value}}}};
  } else {
    int64_t port = 0;
    if (hc.contains("port") && hc["port"].is_number_integer()) {
      port = hc["port"].get<int64_t>();
    } else {
      auto index = hc.value("portIndex", Json(0));
      if (!index.is_number_integer() || index.get<int64_t>() < 0 ||
          static_cast<uint64_t>(index.get<int64_t>()) >= ports.size()) {
        return Json();
      }
      port = ports[index.get<int64_t>()];
    }
    if (protocol.find("TCP") != std::string::npos) {
      out = {{"type", "TCP"}, {"tcp", {{"port", port}}}};
    } else {
      Json http = {{"port", port}, {"path", hc.value("path", std::string("/"))}};
      if (protocol.find("HTTPS") != std::string::npos) http["scheme"] = "https";
      out = {{"type", "HTTP"}, {"http", std::move(http)}};
    }
  }
  const std::pair<const char*, const char*> kTimings[] = {
      {"delaySeconds", "delay_seconds"},       {"intervalSeconds", "interval_seconds"},
      {"timeoutSeconds", "timeout_seconds"},   {"gracePeriodSeconds", "grace_period_seconds"},
      {"maxConsecutiveFailures", "consecutive_failures"}};
  for (const auto& [from, to] : kTimings) {
    if (hc.contains(from) && hc[from].is_number()) out[to] = hc[from];
  }
  // Marathon itself runs HTTP, HTTPS and TCP checks, starting at once; only its MESOS_* and
  // COMMAND checks (run by Mesos) wait delaySeconds. The executor runs them all here, so the
  // first kind gets no delay.
  if (protocol == "HTTP" || protocol == "HTTPS" || protocol == "TCP") out["delay_seconds"] = 0;
  return out;
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
  Json task = {{"name", mesosDnsName(app.id)},
               {"task_id", {{"value", request.taskId}}},
               {"agent_id", {{"value", offer.agentId}}},
               {"resources", plan.consumed.toJson()},
               {"command", commandInfo(request, offer, plan.hostPorts)},
               {"discovery", discoveryInfo(app, plan.hostPorts)}};
  if (!app.labels.empty()) task["labels"] = labelsJson(app.labels);
  if (Json hc = healthCheck(app, plan.hostPorts); !hc.is_null()) task["health_check"] = std::move(hc);
  plan.taskInfo = std::move(task);
  return plan;
}

std::string newTaskId(const std::string& appId) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint8_t bytes[16];
  for (int i = 0; i < 16; i += 8) {
    uint64_t r = rng();
    for (int k = 0; k < 8; ++k) bytes[i + k] = static_cast<uint8_t>(r >> (8 * k));
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string uuid;
  static const char* kHex = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) uuid += '-';
    uuid += kHex[bytes[i] >> 4];
    uuid += kHex[bytes[i] & 0x0f];
  }
  std::string prefix = appId.starts_with("/") ? appId.substr(1) : appId;
  std::replace(prefix.begin(), prefix.end(), '/', '_');
  return prefix + "." + uuid;
}

std::string appIdFromTaskId(const std::string& taskId) {
  auto dot = taskId.rfind('.');
  if (dot == std::string::npos || dot == 0) return "";
  std::string id = taskId.substr(0, dot);
  std::replace(id.begin(), id.end(), '_', '/');
  return "/" + id;
}

}  // namespace dcos::marathon
