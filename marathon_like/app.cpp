#include "marathon_like/app.hpp"

#include "marathon_like/readiness.hpp"

#include <cmath>
#include <regex>
#include <set>
#include <sstream>

namespace dcos::marathon {
namespace {

const char* const kIdPattern = "^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])$";
const char* const kCommandRequired =
    "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.";

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream in(path);
  for (std::string part; std::getline(in, part, '/');) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

// Collects violations by JSON path, in the order they were found.
class Violations {
 public:
  void add(const std::string& path, const std::string& message) {
    for (auto& d : details_) {
      if (d.path == path) { d.errors.push_back(message); return; }
    }
    details_.push_back({path, {message}});
  }
  bool empty() const { return details_.empty(); }
  std::vector<ErrorDetail> take() { return std::move(details_); }

 private:
  std::vector<ErrorDetail> details_;
};

// Typed reads of optional fields: nullopt when absent or null, or (with a violation) when the
// JSON type is wrong. Messages are Play JSON's, which Marathon answers with.
class Reader {
 public:
  Reader(const Json& object, std::string at, Violations& v) : o_(object), at_(std::move(at)), v_(v) {}

  const Json* field(const char* key) const {
    auto it = o_.find(key);
    return it == o_.end() || it->is_null() ? nullptr : &*it;
  }
  std::string path(const std::string& key) const { return at_ + "/" + key; }

  std::optional<std::string> str(const char* key) const {
    const Json* j = field(key);
    if (!j) return std::nullopt;
    if (!j->is_string()) return fail(key, "error.expected.jsstring"), std::nullopt;
    return j->get<std::string>();
  }
  std::optional<bool> boolean(const char* key) const {
    const Json* j = field(key);
    if (!j) return std::nullopt;
    if (!j->is_boolean()) return fail(key, "error.expected.jsboolean"), std::nullopt;
    return j->get<bool>();
  }
  std::optional<double> number(const char* key) const {
    const Json* j = field(key);
    if (!j) return std::nullopt;
    if (!j->is_number()) return fail(key, "error.expected.jsnumber"), std::nullopt;
    return j->get<double>();
  }
  std::optional<int64_t> integer(const char* key) const {
    auto d = number(key);
    if (!d) return std::nullopt;
    if (std::floor(*d) != *d || std::fabs(*d) > 9.0e15) return fail(key, "error.expected.jsnumber.integer"), std::nullopt;
    return static_cast<int64_t>(*d);
  }
  const Json* array(const char* key) const { return typed(key, &Json::is_array, "error.expected.jsarray"); }
  const Json* object(const char* key) const { return typed(key, &Json::is_object, "error.expected.jsobject"); }

  void fail(const std::string& key, const std::string& message) const { v_.add(path(key), message); }

  // `value` at `key`, violating when below `min` or (if given) above `max`.
  template <typename T>
  void range(const char* key, T& out, std::optional<T> value, T min, std::optional<T> max = std::nullopt) const {
    if (!value) return;
    out = *value;
    std::ostringstream bound;
    if (*value < min) {
      bound << "must be greater than or equal to " << min;
      fail(key, bound.str());
    } else if (max && *value > *max) {
      bound << "must be less than or equal to " << *max;
      fail(key, bound.str());
    }
  }

 private:
  const Json* typed(const char* key, bool (Json::*is)() const noexcept, const char* message) const {
    const Json* j = field(key);
    if (!j) return nullptr;
    if (!(j->*is)()) return fail(key, message), nullptr;
    return j;
  }

  const Json& o_;
  std::string at_;
  Violations& v_;
};

std::map<std::string, std::string> stringMap(const Reader& r, const char* key, Violations& v) {
  std::map<std::string, std::string> out;
  const Json* m = r.object(key);
  if (!m) return out;
  for (const auto& [name, value] : m->items()) {
    if (value.is_string()) {
      out[name] = value.get<std::string>();
    } else if (value.is_object() && value.contains("secret")) {
      v.add(r.path(key) + "/" + name, "secret references are not supported");
    } else {
      v.add(r.path(key) + "/" + name, "error.expected.jsstring");
    }
  }
  return out;
}

// Each element of array `key` handed to `each` as (element, its path, its index).
template <typename F>
void forEach(const Reader& r, const char* key, F each) {
  const Json* list = r.array(key);
  if (!list) return;
  for (size_t i = 0; i < list->size(); ++i) each((*list)[i], r.path(key) + "/" + std::to_string(i), i);
}

void parseId(const Reader& r, const std::string& baseGroup, AppDefinition& app) {
  auto raw = r.str("id");
  if (!raw) {
    if (!r.field("id")) r.fail("id", "is required");
    return;
  }
  static const std::regex segment(kIdPattern);
  bool absolute = !raw->empty() && raw->front() == '/';
  bool valid = !raw->empty();
  for (const auto& s : splitPath(*raw)) {
    if (s == "." || s == "..") {
      if (absolute) valid = false;
    } else if (!std::regex_match(s, segment)) {
      valid = false;
    }
  }
  app.id = normalizeAppId(*raw, baseGroup);
  if (!valid) {
    r.fail("id", std::string("must fully match regular expression '") + kIdPattern + "'");
  } else if (app.id == "/") {
    r.fail("id", "must not be the root group");
  }
}

void parseFetch(const Reader& r, AppDefinition& app, Violations& v) {
  forEach(r, "fetch", [&](const Json& f, const std::string& at, size_t) {
    if (!f.is_object()) return v.add(at, "error.expected.jsobject");
    Reader fr(f, at, v);
    FetchUri uri;
    uri.uri = fr.str("uri").value_or("");
    if (uri.uri.empty() && !fr.field("uri")) fr.fail("uri", "is required");
    uri.executable = fr.boolean("executable").value_or(false);
    uri.extract = fr.boolean("extract").value_or(true);
    uri.cache = fr.boolean("cache").value_or(false);
    uri.outputFile = fr.str("outputFile");
    app.fetch.push_back(std::move(uri));
  });
}

void parsePorts(const Reader& r, AppDefinition& app, Violations& v) {
  if (!r.field("portDefinitions")) return;  // the default: one port, any number
  app.portDefinitions.clear();
  std::set<uint32_t> seen;
  forEach(r, "portDefinitions", [&](const Json& p, const std::string& at, size_t) {
    if (!p.is_object()) return v.add(at, "error.expected.jsobject");
    Reader pr(p, at, v);
    PortDefinition def;
    int64_t port = 0;
    pr.range<int64_t>("port", port, pr.integer("port"), 0, 65535);
    if (port >= 0 && port <= 65535) def.port = static_cast<uint32_t>(port);
    def.protocol = pr.str("protocol").value_or("tcp");
    if (def.protocol != "tcp" && def.protocol != "udp" && def.protocol != "udp,tcp") {
      pr.fail("protocol", "must be one of tcp, udp, udp,tcp");
    }
    def.name = pr.str("name");
    def.labels = stringMap(pr, "labels", v);
    if (def.port != 0 && !seen.insert(def.port).second) v.add(r.path("portDefinitions"), "Ports must be unique.");
    app.portDefinitions.push_back(std::move(def));
  });
}

void checkConstraint(const Constraint& c, const std::string& at, Violations& v) {
  static const std::set<std::string> kOps = {"UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS"};
  if (c.field.empty()) v.add(at, "constraint field must not be empty");
  if (!kOps.count(c.op)) {
    return v.add(at, "Constraint operator must be one of UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER or IS");
  }
  const bool needsValue = c.op == "LIKE" || c.op == "UNLIKE" || c.op == "MAX_PER" || c.op == "IS";
  if (c.op == "UNIQUE" && c.value) return v.add(at, "Value specified but not used");
  if (needsValue && !c.value) return v.add(at, "Missing value");
  if (!c.value) return;
  const std::string& value = *c.value;
  if (c.op == "LIKE" || c.op == "UNLIKE") {
    try {
      std::regex check(value, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      v.add(at, "'" + value + "' is not a valid regular expression");
    }
  } else if (c.op == "MAX_PER" || c.op == "GROUP_BY") {
    bool digits = !value.empty() && value.size() < 10 && value.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stol(value) < (c.op == "MAX_PER" ? 1 : 0)) {
      v.add(at, "Value was not a valid integer");
    }
  } else if (value.empty()) {
    v.add(at, "Value must not be empty");
  }
}

void parseConstraints(const Reader& r, AppDefinition& app, Violations& v) {
  forEach(r, "constraints", [&](const Json& c, const std::string& at, size_t) {
    Constraint out;
    auto text = [](const Json& j) { return j.is_string() ? std::optional(j.get<std::string>()) : std::nullopt; };
    if (c.is_array() && (c.size() == 2 || c.size() == 3)) {
      auto field = text(c[0]), op = text(c[1]);
      if (!field || !op || (c.size() == 3 && !text(c[2]))) return v.add(at, "Each constraint element must be a string");
      out = {*field, *op, c.size() == 3 ? text(c[2]) : std::nullopt};
    } else if (c.is_object()) {
      Reader cr(c, at, v);
      out = {cr.str("fieldName").value_or(""), cr.str("operator").value_or(""), cr.str("value")};
    } else {
      return v.add(at, "Each constraint must have either 2 or 3 fields");
    }
    checkConstraint(out, at, v);
    app.constraints.push_back(std::move(out));
  });
}

std::vector<std::string> stringList(const Reader& r, const char* key, Violations& v) {
  std::vector<std::string> out;
  forEach(r, key, [&](const Json& s, const std::string& at, size_t) {
    if (!s.is_string()) return v.add(at, "error.expected.jsstring");
    out.push_back(s.get<std::string>());
  });
  return out;
}

void parseHealthChecks(const Reader& r, AppDefinition& app, Violations& v) {
  static const std::set<std::string> kProtocols = {"HTTP",      "HTTPS",      "TCP",      "COMMAND",
                                                   "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP"};
  forEach(r, "healthChecks", [&](const Json& h, const std::string& at, size_t) {
    if (!h.is_object()) return v.add(at, "error.expected.jsobject");
    Reader hr(h, at, v);
    Json check = h;
    std::string protocol = hr.str("protocol").value_or("HTTP");
    if (!kProtocols.count(protocol)) {
      hr.fail("protocol", "must be one of HTTP, HTTPS, TCP, COMMAND, MESOS_HTTP, MESOS_HTTPS, MESOS_TCP");
    }
    check["protocol"] = protocol;
    const std::pair<const char*, int64_t> kDefaults[] = {
        {"gracePeriodSeconds", 300}, {"intervalSeconds", 60}, {"timeoutSeconds", 20},
        {"maxConsecutiveFailures", 3}, {"delaySeconds", 15}};
    for (const auto& [key, fallback] : kDefaults) {
      int64_t value = fallback;
      hr.range<int64_t>(key, value, hr.integer(key), 0);
      check[key] = value;
    }
    if (protocol == "COMMAND") {
      if (!hr.object("command") && !hr.field("command")) hr.fail("command", "is required for protocol COMMAND");
    } else {
      if (protocol.find("HTTP") != std::string::npos) check["path"] = hr.str("path").value_or("/");
      auto port = hr.integer("port");
      if (!port) {
        int64_t index = 0;
        hr.range<int64_t>("portIndex", index, hr.integer("portIndex"), 0);
        check["portIndex"] = index;
      }
    }
    app.healthChecks.push_back(std::move(check));
  });
}

void parseStrategies(const Reader& r, AppDefinition& app, Violations& v) {
  if (const Json* u = r.object("upgradeStrategy")) {
    Reader ur(*u, r.path("upgradeStrategy"), v);
    auto& s = app.upgradeStrategy;
    ur.range("minimumHealthCapacity", s.minimumHealthCapacity, ur.number("minimumHealthCapacity"), 0.0, std::optional(1.0));
    ur.range("maximumOverCapacity", s.maximumOverCapacity, ur.number("maximumOverCapacity"), 0.0, std::optional(1.0));
  }
  if (const Json* u = r.field("unreachableStrategy")) {
    auto& s = app.unreachableStrategy;
    if (u->is_string()) {
      if (u->get<std::string>() == "disabled") s.enabled = false;
      else r.fail("unreachableStrategy", "must be \"disabled\" or an object");
    } else if (u->is_object()) {
      Reader ur(*u, r.path("unreachableStrategy"), v);
      ur.range<int64_t>("inactiveAfterSeconds", s.inactiveAfterSeconds, ur.integer("inactiveAfterSeconds"), 0);
      ur.range<int64_t>("expungeAfterSeconds", s.expungeAfterSeconds, ur.integer("expungeAfterSeconds"), 0);
      if (s.inactiveAfterSeconds > s.expungeAfterSeconds) {
        r.fail("unreachableStrategy", "inactiveAfterSeconds must be less than or equal to expungeAfterSeconds");
      }
    } else {
      r.fail("unreachableStrategy", "must be \"disabled\" or an object");
    }
  }
  app.killSelection = r.str("killSelection").value_or("YOUNGEST_FIRST");
  if (app.killSelection != "YOUNGEST_FIRST" && app.killSelection != "OLDEST_FIRST") {
    r.fail("killSelection", "must be one of YOUNGEST_FIRST, OLDEST_FIRST");
  }
}

std::string dockerImage(const Json& container) {
  if (!container.is_object()) return "";
  auto docker = container.find("docker");
  if (docker == container.end() || !docker->is_object()) return "";
  auto image = docker->find("image");
  return image != docker->end() && image->is_string() ? image->get<std::string>() : "";
}

void parseContainer(const Reader& r, AppDefinition& app, Violations& v) {
  const Json* c = r.object("container");
  if (!c) return;
  Reader cr(*c, r.path("container"), v);
  std::string type = cr.str("type").value_or("DOCKER");
  if (type != "DOCKER" && type != "MESOS") cr.fail("type", "must be one of DOCKER, MESOS");
  if (const Json* docker = cr.object("docker")) {
    Reader dr(*docker, cr.path("docker"), v);
    if (dr.str("image").value_or("").empty()) dr.fail("image", "must not be empty");
  } else if (type == "DOCKER") {
    cr.fail("docker", "is required for container type DOCKER");
  }
  app.container = *c;
  app.container["type"] = type;
}

void parseCommand(const Reader& r, AppDefinition& app, Violations& v) {
  app.cmd = r.str("cmd");
  if (r.field("args")) app.args = stringList(r, "args", v);
  app.user = r.str("user");
  bool hasImage = !dockerImage(app.container).empty();
  bool either = r.field("cmd") || r.field("args");
  if ((r.field("cmd") && r.field("args")) || (!either && !hasImage)) v.add("/", kCommandRequired);
}

void parseResources(const Reader& r, AppDefinition& app) {
  r.range<int64_t>("instances", app.instances, r.integer("instances"), 0, std::optional<int64_t>(kMaxInstances));
  r.range("cpus", app.cpus, r.number("cpus"), 0.0);
  r.range("mem", app.mem, r.number("mem"), 0.0);
  r.range("disk", app.disk, r.number("disk"), 0.0);
  r.range<int64_t>("gpus", app.gpus, r.integer("gpus"), 0);
  r.range("backoffSeconds", app.backoffSeconds, r.number("backoffSeconds"), 0.0);
  r.range("backoffFactor", app.backoffFactor, r.number("backoffFactor"), 1.0);
  r.range<int64_t>("maxLaunchDelaySeconds", app.maxLaunchDelaySeconds, r.integer("maxLaunchDelaySeconds"), 0);
  app.requirePorts = r.boolean("requirePorts").value_or(false);
}

std::string parentOf(const std::string& id) {
  auto slash = id.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : id.substr(0, slash);
}

}  // namespace

bool AppDefinition::needsDocker() const { return !dockerImage(container).empty(); }

Result<AppDefinition> parseApp(const Json& json, const std::string& baseGroup) {
  if (!json.is_object()) {
    return Error(ErrorCode::kUnprocessable, "Object is not valid", {{"/", {"error.expected.jsobject"}}});
  }
  Violations v;
  Reader r(json, "", v);
  AppDefinition app;
  parseId(r, baseGroup, app);
  parseContainer(r, app, v);
  parseCommand(r, app, v);
  app.env = stringMap(r, "env", v);
  app.labels = stringMap(r, "labels", v);
  parseResources(r, app);
  parseFetch(r, app, v);
  parsePorts(r, app, v);
  parseConstraints(r, app, v);
  app.acceptedResourceRoles = stringList(r, "acceptedResourceRoles", v);
  parseHealthChecks(r, app, v);
  if (const Json* checks = r.array("readinessChecks")) {
    std::vector<ErrorDetail> errors;
    app.readinessChecks = Json::array();
    for (const auto& c : parseReadinessChecks(*checks, app.portDefinitions, errors)) {
      app.readinessChecks.push_back(readinessCheckToJson(c));
    }
    for (const auto& e : errors) v.add(e.path, e.errors.front());
  }
  std::string parent = app.id.empty() ? baseGroup : parentOf(app.id);
  for (const auto& dep : stringList(r, "dependencies", v)) app.dependencies.push_back(normalizeAppId(dep, parent));
  parseStrategies(r, app, v);
  app.version = r.str("version");
  if (!v.empty()) return Error(ErrorCode::kUnprocessable, "Object is not valid", v.take());
  return app;
}

std::string normalizeAppId(const std::string& id, const std::string& base) {
  std::vector<std::string> out;
  if (id.empty() || id.front() != '/') {
    for (const auto& s : splitPath(base)) {
      if (s == "..") { if (!out.empty()) out.pop_back(); }
      else if (s != ".") out.push_back(s);
    }
  }
  for (const auto& s : splitPath(id)) {
    if (s == "..") { if (!out.empty()) out.pop_back(); }
    else if (s != ".") out.push_back(s);
  }
  std::string result;
  for (const auto& s : out) result += "/" + s;
  return result.empty() ? "/" : result;
}

std::string mesosDnsName(const std::string& appId) {
  auto parts = splitPath(appId);
  std::string name;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) name += (name.empty() ? "" : "-") + *it;
  return name;
}

}  // namespace dcos::marathon
