// The /package/* operations other than repositories: search, describe, list-versions, render,
// install, uninstall, list.
#include "universe/install.hpp"
#include "universe/json_schema.hpp"
#include "universe/package_service_impl.hpp"

#include "marathon_like/service.hpp"

#include <algorithm>
#include <set>
#include <variant>

namespace dcos::universe {
namespace {

struct Found {
  const PackageDefinition* package = nullptr;
  std::shared_ptr<const Repository> repository;  // keeps `package` alive
};

// The first repository holding the package (and version) wins.
std::variant<Found, ApiError> findPackage(const Repositories& repos, const std::string& name, const std::string& version) {
  bool nameKnown = false;
  for (const auto& repo : repos) {
    if (auto p = repo->find(name, version); p) return Found{*p, repo};
    if (!repo->versions(name).empty()) nameKnown = true;
  }
  if (nameKnown) {
    return ApiError{400, "VersionNotFound", "Version [" + version + "] of package [" + name + "] not found", {},
                    {{"packageName", name}, {"packageVersion", version}}};
  }
  return ApiError{400, "PackageNotFound", "Package [" + name + "] not found", {}, {{"packageName", name}}};
}

// The Marathon error body's details ({"details": [{"path", "errors"}]}), as ours.
std::vector<ErrorDetail> marathonDetails(const std::string& body) {
  std::vector<ErrorDetail> out;
  auto j = parseJson(body);
  if (!j || !j->is_object() || !j->contains("details") || !(*j)["details"].is_array()) return out;
  for (const auto& d : (*j)["details"]) {
    if (!d.is_object()) continue;
    ErrorDetail detail{d.value("path", std::string()), {}};
    if (d.contains("errors") && d["errors"].is_array()) {
      for (const auto& e : d["errors"]) {
        if (e.is_string()) detail.errors.push_back(e.get<std::string>());
      }
    }
    out.push_back(std::move(detail));
  }
  return out;
}

std::string marathonMessage(const http::Response& r) {
  auto j = parseJson(r.body);
  if (j && j->is_object() && j->contains("message") && (*j)["message"].is_string()) return (*j)["message"].get<std::string>();
  return r.body.substr(0, 300);
}

ApiError marathonError(const http::Response& r, const std::string& what) {
  int status = r.status == 422 || r.status == 400 ? 400 : 502;
  return ApiError{status, "MarathonBadResponse",
                  "Marathon refused to " + what + " (" + std::to_string(r.status) + "): " + marathonMessage(r),
                  marathonDetails(r.body), {{"marathonStatus", r.status}}};
}

// The package release and its Marathon JSON for render and install.
std::variant<std::pair<Found, PreparedInstall>, ApiError> prepare(const Repositories& repos, const Json& body) {
  auto name = stringField(body, "packageName", true);
  auto version = stringField(body, "packageVersion", false);
  auto appId = stringField(body, "appId", false);
  for (auto* f : {&name, &version, &appId}) {
    if (f->error) return *f->error;
  }
  Json options = body.contains("options") ? body["options"] : Json();
  if (!options.is_null() && !options.is_object()) {
    return ApiError{400, "MalformedRequest", "'options' must be a JSON object", {{"/options", {"must be an object"}}}};
  }
  auto found = findPackage(repos, name.value, version.value);
  if (auto* e = std::get_if<ApiError>(&found)) return *e;
  const Found& f = std::get<Found>(found);
  const PackageDefinition& p = *f.package;
  Json pkgData = {{"packageName", p.name}, {"packageVersion", p.version}};
  if (p.marathonTemplate.empty()) {
    return ApiError{400, "ServiceMarathonTemplateNotFound",
                    "Package [" + p.name + "] version [" + p.version + "] has no Marathon template", {}, pkgData};
  }
  if (auto resolved = resolveOptions(p.config, options); !resolved) {
    const Error& e = resolved.error();
    if (e.code == ErrorCode::kUnprocessable) {
      return ApiError{400, "JsonSchemaMismatch", e.message, e.details, pkgData};
    }
    return ApiError{400, "InvalidPackageConfig", "Package [" + p.name + "] has an invalid config.json: " + e.message,
                    e.details, pkgData};
  }
  auto prepared = prepareInstall(p, options, appId.value);
  if (!prepared) {
    return ApiError{400, "MarathonTemplateRenderError", prepared.error().message, prepared.error().details, pkgData};
  }
  return std::make_pair(f, std::move(*prepared));
}

void search(const Repositories& repos, const Json& body, const Reply& reply) {
  auto query = stringField(body, "query", false);
  if (query.error) return reply.fail(*query.error);
  std::set<std::string> seen;
  std::vector<std::pair<std::string, Json>> entries;
  for (const auto& repo : repos) {
    for (const PackageDefinition* p : repo->search(query.value)) {
      if (seen.insert(p->name).second) entries.emplace_back(p->name, repo->searchEntryJson(*p));
    }
  }
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Json packages = Json::array();
  for (auto& [name, entry] : entries) packages.push_back(std::move(entry));
  reply.ok({{"packages", packages}});
}

void describe(const Repositories& repos, const Json& body, const Reply& reply) {
  auto name = stringField(body, "packageName", true);
  auto version = stringField(body, "packageVersion", false);
  if (name.error || version.error) return reply.fail(name.error ? *name.error : *version.error);
  auto found = findPackage(repos, name.value, version.value);
  if (auto* e = std::get_if<ApiError>(&found)) return reply.fail(*e);
  reply.ok({{"package", describeJson(*std::get<Found>(found).package)}});
}

void listVersions(const Repositories& repos, const Json& body, const Reply& reply) {
  auto name = stringField(body, "packageName", true);
  if (name.error) return reply.fail(*name.error);
  auto found = findPackage(repos, name.value, "");
  if (auto* e = std::get_if<ApiError>(&found)) return reply.fail(*e);
  Json results = Json::object();
  for (const auto& p : std::get<Found>(found).repository->packages()) {
    // Newest release first: a version keeps its newest releaseVersion.
    if (p.name == name.value && !results.contains(p.version)) results[p.version] = std::to_string(p.releaseVersion);
  }
  reply.ok({{"results", results}});
}

}  // namespace

void PackageService::Impl::install(const Json& body, const Reply& reply) {
  withRepositories([weak = weak_from_this(), body, reply](Repositories repos) {
    auto self = weak.lock();
    if (!self) return;
    auto prepared = prepare(repos, body);
    if (auto* e = std::get_if<ApiError>(&prepared)) return reply.fail(*e);
    auto& [found, plan] = std::get<0>(prepared);
    const PackageDefinition& p = *found.package;
    auto r = self->marathon.request("POST", plan.group ? "/v2/groups" : "/v2/apps", plan.marathonJson.dump());
    if (r.status == 409) {
      return reply.fail({409, "PackageAlreadyInstalled",
                         "Package [" + p.name + "] is already installed as [" + plan.id +
                             "] (or that id is taken): install it again with another appId or service.name",
                         {{"/appId", {"already exists"}}}, {{"packageName", p.name}, {"appId", plan.id}}});
    }
    if (r.status < 200 || r.status >= 300) return reply.fail(marathonError(r, "create " + plan.id));
    self->logger.info("installed package '{}' {} as '{}'", p.name, p.version, plan.id);
    Json out = {{"packageName", p.name}, {"packageVersion", p.version}, {"appId", plan.id}};
    if (!p.postInstallNotes.empty()) out["postInstallNotes"] = p.postInstallNotes;
    reply.ok(out);
  });
}

void PackageService::Impl::listInstalled(const Json& body, const Reply& reply) {
  auto name = stringField(body, "packageName", false);
  auto appId = stringField(body, "appId", false);
  if (name.error || appId.error) return reply.fail(name.error ? *name.error : *appId.error);
  auto r = marathon.request("GET", "/v2/apps");
  auto apps = parseJson(r.body);
  if (r.status != 200 || !apps || !apps->is_object()) return reply.fail(marathonError(r, "list the apps"));
  Json packages = Json::array();
  for (const auto& pkg : installedPackages(apps->value("apps", Json::array()))) {
    if (!name.value.empty() && pkg.packageName != name.value) continue;
    if (!appId.value.empty() && pkg.appId != absoluteId(appId.value)) continue;
    Json definition = pkg.metadata.is_object() ? pkg.metadata
                                               : Json{{"name", pkg.packageName}, {"version", pkg.packageVersion}};
    packages.push_back({{"appId", pkg.appId}, {"packageInformation", {{"packageDefinition", definition}}}});
  }
  reply.ok({{"packages", packages}});
}

void PackageService::Impl::uninstall(const Json& body, const Reply& reply) {
  auto name = stringField(body, "packageName", true);
  auto appId = stringField(body, "appId", false);
  if (name.error || appId.error) return reply.fail(name.error ? *name.error : *appId.error);
  bool all = body.contains("all") && body["all"].is_boolean() && body["all"].get<bool>();
  auto r = marathon.request("GET", "/v2/apps");
  auto apps = parseJson(r.body);
  if (r.status != 200 || !apps || !apps->is_object()) return reply.fail(marathonError(r, "list the apps"));
  std::vector<InstalledPackage> matches;
  for (auto& pkg : installedPackages(apps->value("apps", Json::array()))) {
    if (pkg.packageName == name.value && (appId.value.empty() || pkg.appId == absoluteId(appId.value))) {
      matches.push_back(std::move(pkg));
    }
  }
  Json data = {{"packageName", name.value}};
  if (matches.empty()) {
    std::string where = appId.value.empty() ? "" : " with appId [" + absoluteId(appId.value) + "]";
    return reply.fail({404, "PackageNotInstalled", "Package [" + name.value + "]" + where + " is not installed", {}, data});
  }
  if (matches.size() > 1 && !all) {
    Json ids = Json::array();
    for (const auto& m : matches) ids.push_back(m.appId);
    data["appIds"] = ids;
    return reply.fail({400, "AmbiguousAppId", "Package [" + name.value + "] is installed " +
                           std::to_string(matches.size()) + " times: name one with appId, or pass all", {}, data});
  }
  Json results = Json::array();
  for (const auto& m : matches) {
    auto d = marathon.request("DELETE", std::string(m.group ? "/v2/groups" : "/v2/apps") + m.appId + "?force=true");
    if (d.status < 200 || d.status >= 300) return reply.fail(marathonError(d, "remove " + m.appId));
    logger.info("uninstalled package '{}' from '{}'", m.packageName, m.appId);
    Json result = {{"packageName", m.packageName}, {"appId", m.appId}, {"packageVersion", m.packageVersion}};
    if (m.metadata.is_object() && m.metadata.contains("postUninstallNotes")) {
      result["postUninstallNotes"] = m.metadata["postUninstallNotes"];
    }
    results.push_back(std::move(result));
  }
  reply.ok({{"results", results}});
}

void PackageService::Impl::registerPackageRoutes(http::Router& router) {
  // Operations that only read the repositories.
  auto reading = [this](void (*fn)(const Repositories&, const Json&, const Reply&)) {
    return [this, fn](const Json& body, Reply reply) {
      withRepositories([body, reply, fn](Repositories repos) { fn(repos, body, reply); });
    };
  };
  routeOperation(router, "search", "search", reading(search));
  routeOperation(router, "describe", "describe", reading(describe));
  routeOperation(router, "list-versions", "list-versions", reading(listVersions));
  routeOperation(router, "render", "render", reading([](const Repositories& repos, const Json& body, const Reply& reply) {
    auto prepared = prepare(repos, body);
    if (auto* e = std::get_if<ApiError>(&prepared)) return reply.fail(*e);
    reply.ok({{"marathonJson", std::get<0>(prepared).second.marathonJson}});
  }));

  routeOperation(router, "install", "install", [this](const Json& body, Reply reply) { install(body, reply); });

  routeOperation(router, "list", "list", [this](const Json& body, Reply reply) { listInstalled(body, reply); });

  routeOperation(router, "uninstall", "uninstall", [this](const Json& body, Reply reply) { uninstall(body, reply); });
}

}  // namespace dcos::universe
