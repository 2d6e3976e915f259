// The Mesos TaskInfo of one instance (Marathon's task builder): command, Marathon's task
// environment, labels, discovery info and the first health check in Mesos' form.
#include "marathon_like/task_info.hpp"

#include "common/uuid.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace dcos::marathon {
namespace {

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

Json buildTaskInfo(const LaunchRequest& request, const OfferView& offer, const LaunchPlan& plan) {
  const AppDefinition& app = *request.app;
  Json task = {{"name", mesosDnsName(app.id)},
               {"task_id", {{"value", request.taskId}}},
               {"agent_id", {{"value", offer.agentId}}},
               {"resources", plan.consumed.toJson()},
               {"command", commandInfo(request, offer, plan.hostPorts)},
               {"discovery", discoveryInfo(app, plan.hostPorts)}};
  if (!app.labels.empty()) task["labels"] = labelsJson(app.labels);
  if (Json hc = healthCheck(app, plan.hostPorts); !hc.is_null()) task["health_check"] = std::move(hc);
  return task;
}

std::string newTaskId(const std::string& appId) {
  std::string prefix = appId.starts_with("/") ? appId.substr(1) : appId;
  std::replace(prefix.begin(), prefix.end(), '/', '_');
  return prefix + "." + uuid::v4();
}

std::string appIdFromTaskId(const std::string& taskId) {
  auto dot = taskId.rfind('.');
  if (dot == std::string::npos || dot == 0) return "";
  std::string id = taskId.substr(0, dot);
  std::replace(id.begin(), id.end(), '_', '/');
  return "/" + id;
}

}  // namespace dcos::marathon
