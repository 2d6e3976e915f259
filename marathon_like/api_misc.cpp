// The rest of /v2: groups, tasks, queue, deployments, info, leader; /ping and /metrics.
#include "marathon_like/api_support.hpp"

#include "common/version.hpp"

#include <algorithm>
#include <cmath>

namespace dcos::marathon {

Result<Json> jsonBody(const http::Request& req) {
  Json body = Json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    return Error(ErrorCode::kInvalidArgument, "Invalid JSON", {{"/", {"the request body is not valid JSON"}}});
  }
  return body;
}

std::string appIdParam(const http::Request& req) {
  auto it = req.params.find("id");
  return normalizeAppId(it == req.params.end() ? "/" : "/" + it->second, "/");
}

std::set<std::string> embedsOf(const http::Request& req, const std::string& prefix) {
  std::set<std::string> out = {"counts", "deployments"};
  for (const auto& e : req.queryParams("embed")) {
    if (e.rfind(prefix, 0) == 0) out.insert(e.substr(prefix.size()));
  }
  return out;
}

bool forced(const http::Request& req) { return req.queryParam("force") == "true"; }

http::Response appNotFound(const std::string& id) {
  return http::Response::error(404, "App '" + id + "' does not exist", {{"/id", {"unknown app"}}});
}

http::Response deployError(const Error& error) {
  auto response = http::Response::error(error);
  if (error.code == ErrorCode::kConflict && !error.details.empty()) {
    Json body = errorBody(error);
    body["deployments"] = Json::array();
    for (const auto& id : error.details[0].errors) body["deployments"].push_back({{"id", id}});
    response = http::Response::json(409, body);
  }
  return response;
}

http::Response deployed(int status, const Result<Json>& result) {
  if (!result) return deployError(result.error());
  auto response = http::Response::json(status, *result);
  if (result->contains("deploymentId")) response.headers["Marathon-Deployment-Id"] = (*result)["deploymentId"].get<std::string>();
  return response;
}

Result<Json> Service::Impl::putGroup(const Group& group, bool replace, bool force) {
  auto target = flattenApps(group);
  std::vector<AppDefinition> changed;
  for (auto& [id, def] : target) {
    auto it = apps.find(id);
    AppDefinition current = it == apps.end() ? AppDefinition{} : it->second.def;
    current.version = def.version;
    if (it == apps.end() || !(current == def)) changed.push_back(def);
  }
  std::vector<std::string> removed;
  if (replace) {
    for (const auto& id : appsUnder(apps, group.id)) {
      if (!target.count(id)) removed.push_back(id);
    }
  }
  auto result = deploy(std::move(changed), std::move(removed), force);
  if (!result) return result;
  // Explicit groups keep their dependencies (and exist while empty).
  std::vector<const Group*> pending = {&group};
  while (!pending.empty()) {
    const Group* g = pending.back();
    pending.pop_back();
    Json record = {{"dependencies", g->dependencies}, {"version", (*result)["version"]}};
    groups[g->id] = record;
    if (auto r = store->putGroup(g->id, record); !r) serviceLogger().error("storing group {}: {}", g->id, r.error().message);
    for (const auto& child : g->groups) pending.push_back(&child);
  }
  return result;
}

void Service::Impl::registerMiscRoutes(http::Router& router, const std::string& p) {
  // ---- groups ----
  auto showGroup = [this](const http::Request& req) {
    std::string id = appIdParam(req);
    bool known = id == "/" || groups.count(id) || !appsUnder(apps, id).empty();
    if (!known) return http::Response::error(404, "Group '" + id + "' does not exist", {{"/id", {"unknown group"}}});
    return http::Response::json(200, groupJson(id, embedsOf(req, "group.apps.")));
  };
  router.route("GET", p + "/v2/groups", showGroup);
  router.route("GET", p + "/v2/groups/{id*}", showGroup);

  auto changeGroup = [this](const http::Request& req, bool create) {
    std::string id = appIdParam(req);
    auto body = jsonBody(req);
    if (!body) return http::Response::error(body.error());
    if (body->is_object() && body->contains("scaleBy")) {
      const Json& by = (*body)["scaleBy"];
      if (!by.is_number() || by.get<double>() < 0) {
        return http::Response::error(422, "Object is not valid", {{"/scaleBy", {"must be a number >= 0"}}});
      }
      double factor = by.get<double>();
      std::vector<AppDefinition> scaled;
      for (const auto& appId : appsUnder(apps, id)) {
        AppDefinition def = apps.at(appId).def;
        def.instances = static_cast<int64_t>(std::ceil(static_cast<double>(def.instances) * factor));
        scaled.push_back(std::move(def));
      }
      return deployed(200, deploy(std::move(scaled), {}, forced(req)));
    }
    auto group = parseGroup(*body, id);
    if (!group) return http::Response::error(group.error());
    bool exists = groups.count(group->id) || !appsUnder(apps, group->id).empty();
    if (create && exists) {
      return http::Response::error(409, "Group " + group->id + " is already created. Use PUT to change this group.",
                                   {{"/id", {"already exists"}}});
    }
    events.publish("group_change_success", {{"groupId", group->id}, {"version", ""}});
    return deployed(create ? 201 : 200, putGroup(*group, !create, forced(req)));
  };
  router.route("POST", p + "/v2/groups", [changeGroup](const http::Request& req) { return changeGroup(req, true); });
  router.route("POST", p + "/v2/groups/{id*}", [changeGroup](const http::Request& req) { return changeGroup(req, true); });
  router.route("PUT", p + "/v2/groups", [changeGroup](const http::Request& req) { return changeGroup(req, false); });
  router.route("PUT", p + "/v2/groups/{id*}", [changeGroup](const http::Request& req) { return changeGroup(req, false); });

  router.route("DELETE", p + "/v2/groups/{id*}", [this](const http::Request& req) {
    std::string id = appIdParam(req);
    auto removed = appsUnder(apps, id);
    bool known = groups.count(id) || !removed.empty();
    if (!known) return http::Response::error(404, "Group '" + id + "' does not exist", {{"/id", {"unknown group"}}});
    auto result = deploy({}, removed, forced(req));
    if (!result) return deployError(result.error());
    std::string prefix = id + "/";
    for (auto it = groups.begin(); it != groups.end();) {
      if (it->first == id || it->first.rfind(prefix, 0) == 0) {
        (void)store->removeGroup(it->first);
        it = groups.erase(it);
      } else {
        ++it;
      }
    }
    return deployed(200, result);
  });

  // ---- tasks ----
  router.route("GET", p + "/v2/tasks", [this](const http::Request& req) {
    auto status = req.queryParams("status");
    Json tasks = Json::array();
    for (const auto& [id, inst] : instances) {
      if (!status.empty()) {
        std::string mine = inst.rec.state == "TASK_RUNNING" ? "running" : inst.rec.state == "TASK_STAGING" ? "staging" : "";
        if (std::find(status.begin(), status.end(), mine) == status.end()) continue;
      }
      tasks.push_back(taskJson(inst));
    }
    return http::Response::json(200, {{"tasks", tasks}});
  });
  router.route("POST", p + "/v2/tasks/delete", [this](const http::Request& req) {
    auto body = jsonBody(req);
    if (!body) return http::Response::error(body.error());
    if (!body->is_object() || !body->contains("ids") || !(*body)["ids"].is_array()) {
      return http::Response::error(422, "Object is not valid", {{"/ids", {"error.path.missing"}}});
    }
    std::vector<std::string> ids;
    for (const auto& id : (*body)["ids"]) {
      if (!id.is_string()) return http::Response::error(422, "Object is not valid", {{"/ids", {"error.expected.jsstring"}}});
      ids.push_back(id.get<std::string>());
    }
    return killTasks(ids, req.queryParam("scale") == "true", forced(req));
  });

  // ---- queue ----
  router.route("GET", p + "/v2/queue", [this](const http::Request&) { return http::Response::json(200, queueJson()); });
  router.route("DELETE", p + "/v2/queue/{id*}/delay", [this](const http::Request& req) {
    std::string id = appIdParam(req);
    auto it = apps.find(id);
    if (it == apps.end()) return appNotFound(id);
    it->second.backoff.reset();
    shapeDirty = true;
    scheduleFlush();
    return http::Response::text(204, "");
  });

  // ---- deployments ----
  router.route("GET", p + "/v2/deployments", [this](const http::Request&) {
    Json list = Json::array();
    for (const auto& [id, d] : deployments) list.push_back(deploymentJson(d));
    return http::Response::json(200, list);
  });
  router.route("DELETE", p + "/v2/deployments/{id}", [this](const http::Request& req) {
    bool force = forced(req);
    auto result = cancelDeployment(req.params.at("id"), force);
    if (!result) return deployError(result.error());
    if (force) return http::Response::json(202, Json::object());
    return deployed(200, result);
  });

  // ---- info ----
  auto leader = [this] { return options.hostname + ":" + std::to_string(options.port); };
  router.route("GET", p + "/v2/info", [this, leader](const http::Request&) {
    return http::Response::json(
        200, {{"name", options.frameworkName},
              {"version", version::version()},
              {"buildref", version::gitCommit()},
              {"elected", true},
              {"leader", leader()},
              {"frameworkId", frameworkId},
              {"marathon_config",
               {{"master", "in-process"},
                {"framework_name", options.frameworkName},
                {"decline_offer_duration", std::chrono::duration_cast<std::chrono::milliseconds>(options.declineOfferDuration).count()},
                {"reconciliation_interval", std::chrono::duration_cast<std::chrono::milliseconds>(options.reconciliationInterval).count()},
                {"mesos_role", "*"},
                {"failover_timeout", 7 * 24 * 3600}}},
              {"http_config", {{"http_port", options.port}}},
              {"event_subscriber", {{"type", "http_callback"}, {"http_endpoints", Json::array()}}}});
  });
  router.route("GET", p + "/v2/leader", [leader](const http::Request&) {
    return http::Response::json(200, {{"leader", leader()}});
  });
  router.route("GET", p + "/ping", [](const http::Request&) { return http::Response::text(200, "pong\n"); });
  router.route("GET", p + "/metrics", [this](const http::Request&) {
    int64_t running = 0, staged = 0, healthy = 0;
    for (const auto& [id, inst] : instances) {
      running += inst.rec.state == "TASK_RUNNING";
      staged += inst.rec.state == "TASK_STAGING" || inst.rec.state == "TASK_STARTING";
      healthy += isHealthy(apps.count(inst.rec.appId) ? &apps.at(inst.rec.appId) : nullptr, inst);
    }
    return http::Response::json(
        200, {{"version", version::version()},
              {"gauges",
               {{"marathon.apps.active.gauge", {{"value", apps.size()}}},
                {"marathon.groups.active.gauge", {{"value", groups.size()}}},
                {"marathon.deployments.active.gauge", {{"value", deployments.size()}}},
                {"marathon.instances.running.gauge", {{"value", running}}},
                {"marathon.instances.staged.gauge", {{"value", staged}}},
                {"marathon.instances.healthy.gauge", {{"value", healthy}}},
                {"marathon.http.event-streams.active.gauge", {{"value", events.subscriberCount()}}}}},
              {"counters", {{"marathon.tasks.launched.counter", {{"count", launchedTotal}}}}}});
  });
}

}  // namespace dcos::marathon
