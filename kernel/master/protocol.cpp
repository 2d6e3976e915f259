#include "kernel/master/protocol.hpp"

#include <cmath>

namespace dcos::kernel {

Error invalidCall(const std::string& path, const std::string& message) {
  return Error(ErrorCode::kInvalidArgument, message, {{path, {message}}});
}

std::optional<Duration> refuseFilter(const Json& call) {
  if (!call.is_object() || !call.contains("filters") || !call["filters"].is_object()) return std::nullopt;
  const Json& f = call["filters"];
  if (!f.contains("refuse_seconds") || !f["refuse_seconds"].is_number()) return std::nullopt;
  double secs = f["refuse_seconds"].get<double>();
  if (!std::isfinite(secs) || secs < 0) return std::nullopt;
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(std::min(secs, 1e9)));
}

std::string idValue(const Json& obj, const char* field) {
  if (!obj.is_object()) return "";
  auto it = obj.find(field);
  if (it == obj.end() || !it->is_object()) return "";
  auto v = it->find("value");
  return v != it->end() && v->is_string() ? v->get<std::string>() : "";
}

Result<std::string> requireId(const Json& obj, const char* field, const std::string& path) {
  std::string p = path + "/" + field;
  if (!obj.is_object() || !obj.contains(field)) return invalidCall(p, std::string("missing ") + field);
  const Json& id = obj[field];
  if (!id.is_object() || !id.contains("value") || !id["value"].is_string() || id["value"].get<std::string>().empty()) {
    return invalidCall(p + "/value", std::string(field) + " must be {\"value\": \"<non-empty string>\"}");
  }
  return id["value"].get<std::string>();
}

Result<void> validateClientId(const std::string& id, const std::string& path) {
  if (id.empty()) return invalidCall(path, "must not be empty");
  if (id.size() > 255) return invalidCall(path, "must be at most 255 characters");
  if (id == "." || id == "..") return invalidCall(path, "must not be '.' or '..'");
  for (unsigned char c : id) {
    if (c == '/' || c <= 0x20 || c == 0x7f) {
      return invalidCall(path, "'" + id + "' must not contain '/', whitespace or control characters");
    }
  }
  return success();
}

std::set<std::string> frameworkRoles(const Json& info) {
  bool multiRole = false;
  for (const auto& c : info.value("capabilities", Json::array())) {
    if (c.is_object() && c.value("type", "") == "MULTI_ROLE") multiRole = true;
  }
  std::set<std::string> roles;
  if (multiRole && info.contains("roles") && info["roles"].is_array()) {
    for (const auto& r : info["roles"]) {
      if (r.is_string()) roles.insert(r.get<std::string>());
    }
  } else {
    roles.insert(info.contains("role") && info["role"].is_string() ? info["role"].get<std::string>() : "*");
  }
  return roles;
}

Result<void> validateFrameworkInfo(const Json& info, const std::string& path) {
  if (!info.is_object()) return invalidCall(path, "framework_info must be an object");
  for (const char* f : {"user", "name"}) {
    if (!info.contains(f) || !info[f].is_string()) return invalidCall(path + "/" + f, std::string(f) + " must be a string");
  }
  if (info.contains("failover_timeout")) {
    const Json& t = info["failover_timeout"];
    if (!t.is_number() || !std::isfinite(t.get<double>()) || t.get<double>() < 0) {
      return invalidCall(path + "/failover_timeout", "failover_timeout must be a non-negative number of seconds");
    }
  }
  if (info.contains("roles") && !info["roles"].is_array()) return invalidCall(path + "/roles", "roles must be an array");
  if (info.contains("role") && !info["role"].is_string()) return invalidCall(path + "/role", "role must be a string");
  if (info.contains("capabilities") && !info["capabilities"].is_array()) {
    return invalidCall(path + "/capabilities", "capabilities must be an array");
  }
  for (const auto& role : frameworkRoles(info)) {
    if (auto r = validateRole(role); !r) return invalidCall(path + "/roles", r.error().message);
  }
  if (info.contains("roles") && info["roles"].is_array()) {
    for (size_t i = 0; i < info["roles"].size(); ++i) {
      const Json& r = info["roles"][i];
      if (!r.is_string()) return invalidCall(path + "/roles/" + std::to_string(i), "roles must be strings");
      if (auto v = validateRole(r.get<std::string>()); !v) {
        return invalidCall(path + "/roles/" + std::to_string(i), v.error().message);
      }
    }
  }
  return success();
}

Json resourcesObject(const Resources& r) {
  Json out = {{"cpus", 0.0}, {"mem", 0.0}, {"disk", 0.0}, {"gpus", 0.0}};
  for (const auto& name : r.scalarNames()) out[name] = r.scalar(name).toDouble();
  std::set<std::string> rangeNames;
  for (const auto& item : r.items()) {
    if (item.type == ValueType::kRanges) rangeNames.insert(item.name);
  }
  for (const auto& name : rangeNames) out[name] = r.ranges(name).toString();
  return out;
}

Json attributesObject(const Json& attributes) {
  Json out = Json::object();
  for (const auto& a : attributes) {
    if (!a.is_object() || !a.contains("name")) continue;
    std::string type = a.value("type", "TEXT");
    if (type == "SCALAR" && a.contains("scalar")) {
      out[a["name"].get<std::string>()] = a["scalar"].value("value", 0.0);
    } else if (type == "TEXT" && a.contains("text")) {
      out[a["name"].get<std::string>()] = a["text"].value("value", "");
    } else if (type == "RANGES" && a.contains("ranges")) {
      std::vector<Range> rs;
      for (const auto& x : a["ranges"].value("range", Json::array())) {
        rs.push_back({x.value("begin", uint64_t{0}), x.value("end", uint64_t{0})});
      }
      out[a["name"].get<std::string>()] = Ranges(rs).toString();
    }
  }
  return out;
}

Json offerJson(const OfferRecord& offer, const AgentRecord& agent) {
  Json j = {{"id", idJson(offer.id)},
            {"framework_id", idJson(offer.frameworkId)},
            {"agent_id", idJson(offer.agentId)},
            {"hostname", agent.hostname()},
            {"resources", offer.resources.toJson()},
            {"allocation_info", {{"role", offer.role}}}};
  if (agent.info.contains("attributes")) j["attributes"] = agent.info["attributes"];
  return j;
}

Json taskStateJson(const TaskRecord& t) {
  Json j = {{"id", t.taskId},
            {"name", t.task.value("name", t.taskId)},
            {"framework_id", t.frameworkId},
            {"executor_id", ""},
            {"slave_id", t.agentId},
            {"agent_id", t.agentId},
            {"state", t.state},
            {"role", t.role},
            {"resources", resourcesObject(t.resources)},
            {"statuses", t.statusesJson()}};
  for (const char* f : {"labels", "discovery", "container", "health_check"}) {
    if (t.task.contains(f)) j[f] = t.task[f];
  }
  return j;
}

Json frameworkStateJson(const FrameworkRecord& fw, const std::vector<Json>& tasks) {
  Json roles = Json::array();
  for (const auto& r : fw.roles) roles.push_back(r);
  return {{"id", fw.id},
          {"name", fw.info.value("name", "")},
          {"user", fw.info.value("user", "")},
          {"hostname", fw.info.value("hostname", "")},
          {"principal", fw.info.value("principal", "")},
          {"webui_url", fw.info.value("webui_url", "")},
          {"roles", roles},
          {"role", fw.roles.size() == 1 ? *fw.roles.begin() : std::string("*")},
          {"failover_timeout", fw.info.value("failover_timeout", 0.0)},
          {"active", fw.active},
          {"connected", fw.active},
          {"capabilities", fw.info.value("capabilities", Json::array())},
          {"registered_time", std::chrono::duration<double>(fw.registeredAt.time_since_epoch()).count()},
          {"tasks", tasks}};
}

Json agentStateJson(const AgentRecord& a, const Resources& used) {
  Json j = {{"id", a.id},
            {"hostname", a.hostname()},
            {"port", a.info.value("port", 5051)},
            {"attributes", attributesObject(a.info.value("attributes", Json::array()))},
            {"resources", resourcesObject(a.total)},
            {"used_resources", resourcesObject(used)},
            {"active", a.state == AgentState::kActive},
            {"state", agentStateName(a.state)},
            {"registered_time", std::chrono::duration<double>(a.registeredAt.time_since_epoch()).count()}};
  return j;
}

}  // namespace dcos::kernel
