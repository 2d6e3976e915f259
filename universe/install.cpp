#include "universe/install.hpp"

#include "universe/json_schema.hpp"
#include "universe/mustache.hpp"

#include <functional>
#include <map>

namespace dcos::universe {
namespace {

// Marathon tells a group from an app by its members.
bool looksLikeGroup(const Json& j) { return !j.contains("cmd") && !j.contains("container") && (j.contains("apps") || j.contains("groups")); }

std::string lastSegmentsOf(const std::string& absolute) { return absolute.empty() ? absolute : absolute.substr(1); }

// Adds the DC/OS labels to one app, keeping a DCOS_SERVICE_NAME the template chose.
void labelApp(Json& app, const PackageDefinition& p, const std::string& metadata64, const std::string& options64,
              const std::string& serviceName, const std::string& groupId) {
  Json& labels = app["labels"];
  if (!labels.is_object()) labels = Json::object();
  labels[kLabelPackageName] = p.name;
  labels[kLabelPackageVersion] = p.version;
  labels[kLabelPackageRelease] = std::to_string(p.releaseVersion);
  labels[kLabelPackageMetadata] = metadata64;
  labels[kLabelPackageOptions] = options64;
  labels[kLabelIsFramework] = p.framework ? "true" : "false";
  if (!labels.contains(kLabelServiceName) || !labels[kLabelServiceName].is_string()) labels[kLabelServiceName] = serviceName;
  if (p.framework) labels[kLabelFrameworkName] = labels[kLabelServiceName];
  if (!groupId.empty()) labels[kLabelPackageGroup] = groupId;
}

void forEachApp(Json& group, const std::function<void(Json&)>& fn) {
  if (group.contains("apps") && group["apps"].is_array()) {
    for (auto& app : group["apps"]) {
      if (app.is_object()) fn(app);
    }
  }
  if (group.contains("groups") && group["groups"].is_array()) {
    for (auto& g : group["groups"]) {
      if (g.is_object()) forEachApp(g, fn);
    }
  }
}

}  // namespace

std::string absoluteId(const std::string& id) {
  size_t b = id.find_first_not_of('/');
  if (b == std::string::npos) return "";
  size_t e = id.find_last_not_of('/');
  return "/" + id.substr(b, e - b + 1);
}

Json packageMetadata(const PackageDefinition& p) {
  Json m = p.packageJson;
  m["framework"] = p.framework;
  m["selected"] = p.selected;
  if (Json images = p.images(); !images.is_null()) m["images"] = images;
  return m;
}

Result<PreparedInstall> prepareInstall(const PackageDefinition& p, const Json& userOptions, const std::string& appId) {
  if (p.marathonTemplate.empty()) {
    return Error(ErrorCode::kInvalidArgument, "Package [" + p.name + "] version [" + p.version +
                                                  "] has no Marathon template: it cannot be installed");
  }
  auto options = resolveOptions(p.config, userOptions);
  if (!options) return options.error();
  auto rendered = renderMarathonTemplate(p.marathonTemplate, *options, p.resource);
  if (!rendered) return rendered.error();

  PreparedInstall out;
  out.options = *options;
  out.marathonJson = std::move(*rendered);
  out.group = looksLikeGroup(out.marathonJson);
  Json& j = out.marathonJson;
  std::string id = absoluteId(appId);
  if (id.empty() && j.contains("id") && j["id"].is_string()) id = absoluteId(j["id"].get<std::string>());
  if (id.empty()) id = "/" + p.name;
  out.id = id;

  // Cosmos names the service after the options' service.name, else the id.
  std::string serviceName = lastSegmentsOf(id);
  if (appId.empty() && options->contains("service") && (*options)["service"].is_object() &&
      (*options)["service"].contains("name") && (*options)["service"]["name"].is_string()) {
    serviceName = lastSegmentsOf(absoluteId((*options)["service"]["name"].get<std::string>()));
  }
  std::string metadata64 = base64Encode(packageMetadata(p).dump());
  std::string options64 = base64Encode(options->dump());

  if (!out.group) {
    j["id"] = id;
    labelApp(j, p, metadata64, options64, serviceName, "");
    return out;
  }
  // Member ids relative to the old top id move with it; absolute ones elsewhere are rewritten
  // under the new top id too, so the whole install lives under one group.
  std::string oldTop = j.contains("id") && j["id"].is_string() ? absoluteId(j["id"].get<std::string>()) : "";
  j["id"] = id;
  std::function<void(Json&)> rebase = [&](Json& g) {
    for (const char* key : {"apps", "groups"}) {
      if (!g.contains(key) || !g[key].is_array()) continue;
      for (auto& member : g[key]) {
        if (!member.is_object() || !member.contains("id") || !member["id"].is_string()) continue;
        std::string mid = member["id"].get<std::string>();
        if (!mid.empty() && mid[0] == '/' && !oldTop.empty() && mid.rfind(oldTop + "/", 0) == 0) {
          member["id"] = id + mid.substr(oldTop.size());
        }
        if (std::string(key) == "groups") rebase(member);
      }
    }
  };
  rebase(j);
  forEachApp(j, [&](Json& app) { labelApp(app, p, metadata64, options64, serviceName, id); });
  return out;
}

std::vector<InstalledPackage> installedPackages(const Json& apps) {
  std::map<std::string, InstalledPackage> byId;
  if (!apps.is_array()) return {};
  for (const auto& app : apps) {
    if (!app.is_object() || !app.contains("labels") || !app["labels"].is_object()) continue;
    const Json& labels = app["labels"];
    auto label = [&](const char* name) {
      return labels.contains(name) && labels[name].is_string() ? labels[name].get<std::string>() : std::string();
    };
    std::string name = label(kLabelPackageName);
    if (name.empty()) continue;
    InstalledPackage pkg;
    pkg.packageName = name;
    pkg.packageVersion = label(kLabelPackageVersion);
    std::string group = label(kLabelPackageGroup);
    pkg.group = !group.empty();
    pkg.appId = pkg.group ? absoluteId(group) : absoluteId(app.value("id", std::string()));
    if (auto decoded = base64Decode(label(kLabelPackageMetadata)); decoded) {
      if (auto parsed = parseJson(*decoded); parsed) pkg.metadata = std::move(*parsed);
    }
    byId.emplace(pkg.appId, std::move(pkg));
  }
  std::vector<InstalledPackage> out;
  for (auto& [id, pkg] : byId) out.push_back(std::move(pkg));
  return out;
}

}  // namespace dcos::universe
