// /v2/apps: create, list (filters, embeds), show, update (PUT/PATCH, partial by default as in
// Marathon), delete, restart, tasks (list, kill, kill-and-scale) and versions.
#include "marathon_like/api_support.hpp"

#include <algorithm>

namespace dcos::marathon {
namespace {

constexpr size_t kAppsCacheEntries = 16;  // distinct queries kept per state version

// Marathon's label selector, one term: "key", "key==value", "key!=value".
bool labelMatches(const std::map<std::string, std::string>& labels, const std::string& selector) {
  for (const char* op : {"==", "!="}) {
    auto at = selector.find(op);
    if (at == std::string::npos) continue;
    auto it = labels.find(selector.substr(0, at));
    bool equal = it != labels.end() && it->second == selector.substr(at + 2);
    return std::string(op) == "==" ? equal : !equal;
  }
  return labels.count(selector) > 0;
}

}  // namespace

void Service::Impl::registerAppRoutes(http::Router& router, const std::string& p) {
  router.route("GET", p + "/v2/apps", [this](const http::Request& req) {
    if (appsCacheVersion != stateVersion) {
      appsCache.clear();
      appsCacheVersion = stateVersion;
    }
    if (auto hit = appsCache.find(req.target); hit != appsCache.end()) {
      http::Response cached;
      cached.headers["Content-Type"] = "application/json";
      cached.body = hit->second;
      return cached;
    }
    auto embed = embedsOf(req, "apps.");
    auto cmd = req.queryParam("cmd");
    auto id = req.queryParam("id");
    auto label = req.queryParam("label");
    Json list = Json::array();
    for (const auto& [appId, app] : apps) {
      if (cmd && app.def.cmd.value_or("").find(*cmd) == std::string::npos) continue;
      if (id && appId.find(*id) == std::string::npos) continue;
      if (label && !labelMatches(app.def.labels, *label)) continue;
      list.push_back(appJson(app, embed));
    }
    Json body = Json::object();
    body["apps"] = std::move(list);
    auto response = http::Response::json(200, body);
    if (appsCache.size() < kAppsCacheEntries) appsCache.emplace(req.target, response.body);
    return response;
  });

  router.route("POST", p + "/v2/apps", [this, p](const http::Request& req) {
    auto body = jsonBody(req);
    if (!body) return http::Response::error(body.error());
    auto def = parseApp(*body);
    if (!def) return http::Response::error(def.error());
    if (apps.count(def->id)) {
      return http::Response::error(409, "An app with id [" + def->id + "] already exists.", {{"/id", {"already exists"}}});
    }
    events.publish("api_post_event", {{"clientIp", req.remoteAddress}, {"uri", req.path}, {"appDefinition", *body}});
    auto result = deploy({*def}, {}, forced(req));
    if (!result) return deployError(result.error());
    Json app = appJson(apps.at(def->id), {"counts", "deployments"});
    auto response = http::Response::json(201, app);
    response.headers["Location"] = p + "/v2/apps" + def->id;
    response.headers["Marathon-Deployment-Id"] = (*result)["deploymentId"].get<std::string>();
    return response;
  });

  router.route("GET", p + "/v2/apps/{id*}", [this](const http::Request& req) {
    std::string id = appIdParam(req);
    auto it = apps.find(id);
    if (it == apps.end()) return appNotFound(id);
    auto embed = embedsOf(req, "app.");
    for (const char* e : {"counts", "deployments", "tasks", "lastTaskFailure"}) embed.insert(e);
    return http::Response::json(200, {{"app", appJson(it->second, embed)}});
  });

  auto update = [this](const http::Request& req, bool partialByDefault) {
    std::string id = appIdParam(req);
    auto body = jsonBody(req);
    if (!body) return http::Response::error(body.error());
    if (!body->is_object()) return http::Response::error(422, "Object is not valid", {{"/", {"error.expected.jsobject"}}});
    if (body->contains("id") && (*body)["id"].is_string() && normalizeAppId((*body)["id"], "/") != id) {
      return http::Response::error(422, "Object is not valid",
                                   {{"/id", {"The app id in the body must match the one in the path"}}});
    }
    Json merged = *body;
    bool partial = req.queryParam("partialUpdate").value_or(partialByDefault ? "true" : "false") != "false";
    auto it = apps.find(id);
    if (it != apps.end() && partial) {
      merged = appToJson(it->second.def);
      for (const auto& [key, value] : body->items()) merged[key] = value;
    }
    merged["id"] = id;
    merged.erase("version");
    auto def = parseApp(merged);
    if (!def) return http::Response::error(def.error());
    events.publish("api_post_event", {{"clientIp", req.remoteAddress}, {"uri", req.path}, {"appDefinition", merged}});
    bool created = it == apps.end();
    return deployed(created ? 201 : 200, deploy({*def}, {}, forced(req)));
  };
  router.route("PUT", p + "/v2/apps/{id*}", [update](const http::Request& req) { return update(req, true); });
  router.route("PATCH", p + "/v2/apps/{id*}", [update](const http::Request& req) { return update(req, true); });

  router.route("DELETE", p + "/v2/apps/{id*}", [this](const http::Request& req) {
    std::string id = appIdParam(req);
    if (!apps.count(id)) return appNotFound(id);
    return deployed(200, deploy({}, {id}, forced(req)));
  });

  router.route("POST", p + "/v2/apps/{id*}/restart", [this](const http::Request& req) {
    std::string id = appIdParam(req);
    auto it = apps.find(id);
    if (it == apps.end()) return appNotFound(id);
    return deployed(200, deploy({it->second.def}, {}, forced(req), /*restart=*/true));
  });

  router.route("GET", p + "/v2/apps/{id*}/tasks", [this](const http::Request& req) {
    std::string id = appIdParam(req);
    if (!apps.count(id)) return appNotFound(id);
    Json tasks = Json::array();
    for (const auto& tid : instancesOf(id)) tasks.push_back(taskJson(instances.at(tid)));
    return http::Response::json(200, {{"tasks", tasks}});
  });

  router.route("DELETE", p + "/v2/apps/{id*}/tasks", [this](const http::Request& req) {
    std::string id = appIdParam(req);
    if (!apps.count(id)) return appNotFound(id);
    std::vector<std::string> ids;
    auto host = req.queryParam("host");
    for (const auto& tid : instancesOf(id)) {
      if (!host || instances.at(tid).rec.hostname == *host) ids.push_back(tid);
    }
    return killTasks(ids, req.queryParam("scale") == "true", forced(req));
  });

  router.route("DELETE", p + "/v2/apps/{id*}/tasks/{taskId}", [this](const http::Request& req) {
    std::string id = appIdParam(req);
    if (!apps.count(id)) return appNotFound(id);
    std::string taskId = req.params.at("taskId");
    auto it = instances.find(taskId);
    if (it == instances.end() || it->second.rec.appId != id) {
      return http::Response::error(404, "Task '" + taskId + "' does not exist", {{"/taskId", {"unknown task"}}});
    }
    auto response = killTasks({taskId}, req.queryParam("scale") == "true", forced(req));
    if (response.status == 200 && req.queryParam("scale") != "true") {
      Json body = Json::parse(response.body);
      return http::Response::json(200, {{"task", body["tasks"].empty() ? Json::object() : body["tasks"][0]}});
    }
    return response;
  });

  router.route("GET", p + "/v2/apps/{id*}/versions", [this](const http::Request& req) {
    std::string id = appIdParam(req);
    if (!apps.count(id)) return appNotFound(id);
    return http::Response::json(200, {{"versions", store->apps().versions(id)}});
  });

  router.route("GET", p + "/v2/apps/{id*}/versions/{version}", [this](const http::Request& req) {
    std::string id = appIdParam(req);
    auto def = store->apps().getVersion(id, req.params.at("version"));
    if (!def) {
      return http::Response::error(404, "App '" + id + "' does not exist in version " + req.params.at("version"),
                                   {{"/version", {"unknown version"}}});
    }
    return http::Response::json(200, appToJson(*def));
  });
}

http::Response Service::Impl::killTasks(const std::vector<std::string>& taskIds, bool scale, bool force) {
  Json killed = Json::array();
  if (scale) {
    // One new definition per app, with as many fewer instances as tasks go.
    std::map<std::string, int64_t> fewer;
    for (const auto& tid : taskIds) {
      if (auto it = instances.find(tid); it != instances.end() && !it->second.killing) ++fewer[it->second.rec.appId];
    }
    std::vector<AppDefinition> changed;
    for (const auto& [appId, n] : fewer) {
      AppDefinition def = apps.at(appId).def;
      def.instances = std::max<int64_t>(0, def.instances - n);
      changed.push_back(std::move(def));
    }
    for (const auto& tid : taskIds) {
      if (auto it = instances.find(tid); it != instances.end()) killInstance(it->second);
    }
    return deployed(200, deploy(std::move(changed), {}, force));
  }
  for (const auto& tid : taskIds) {
    auto it = instances.find(tid);
    if (it == instances.end()) continue;
    killed.push_back(taskJson(it->second));
    killInstance(it->second);
  }
  shapeDirty = true;
  scheduleFlush();
  return http::Response::json(200, {{"tasks", killed}});
}

}  // namespace dcos::marathon
