#include "marathon_like/group.hpp"

#include <functional>
#include <regex>
#include <set>

namespace dcos::marathon {
namespace {

const char* const kSegmentPattern =
    "^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])$";

std::vector<std::string> segments(const std::string& id) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= id.size()) {
    size_t end = id.find('/', start);
    if (end == std::string::npos) end = id.size();
    if (end > start) out.push_back(id.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// `id` lies strictly below `parent`.
bool isUnder(const std::string& id, const std::string& parent) {
  if (id == parent) return false;
  if (parent == "/") return id.size() > 1 && id.front() == '/';
  return id.size() > parent.size() && id.compare(0, parent.size(), parent) == 0 && id[parent.size()] == '/';
}

std::string parentOf(const std::string& id) {
  auto pos = id.rfind('/');
  return pos == std::string::npos || pos == 0 ? "/" : id.substr(0, pos);
}

struct Parser {
  std::vector<ErrorDetail> details;
  std::set<std::string> seen;

  void add(const std::string& path, const std::string& message) {
    for (auto& d : details) {
      if (d.path == path) { d.errors.push_back(message); return; }
    }
    details.push_back({path, {message}});
  }

  void claim(const std::string& id, const std::string& path) {
    if (!seen.insert(id).second) add(path, "id '" + id + "' is used more than once in the group tree");
  }

  // Parses `json` at JSON path `at` (a prefix such as "/groups/1", "" for the top).
  Group group(const Json& json, const std::string& parentId, const std::string& at, bool top) {
    Group g;
    if (!json.is_object()) {
      add(at.empty() ? "/" : at, "error.expected.jsobject");
      return g;
    }
    const std::string idPath = at + "/id";
    bool idOk = true;
    auto idIt = json.find("id");
    if (idIt == json.end() || idIt->is_null()) {
      if (top) {
        g.id = normalizeAppId(parentId, "/");
      } else {
        add(idPath, "error.path.missing");
        idOk = false;
      }
    } else if (!idIt->is_string()) {
      add(idPath, "error.expected.jsstring");
      idOk = false;
    } else {
      const std::string raw = idIt->get<std::string>();
      bool absolute = !raw.empty() && raw.front() == '/';
      static const std::regex segment(kSegmentPattern);
      bool valid = !raw.empty() || top;
      for (const auto& s : segments(raw)) {
        if (s == "." || s == "..") {
          if (absolute) valid = false;
        } else if (!std::regex_match(s, segment)) {
          valid = false;
        }
      }
      g.id = normalizeAppId(raw, parentId);
      if (!valid) {
        add(idPath, std::string("must fully match regular expression '") + kSegmentPattern + "'");
        idOk = false;
      } else if (!(top && g.id == normalizeAppId(parentId, "/")) && !isUnder(g.id, normalizeAppId(parentId, "/"))) {
        add(idPath, "group '" + g.id + "' must lie under its parent '" + normalizeAppId(parentId, "/") + "'");
        idOk = false;
      }
    }
    if (idOk && !top) claim(g.id, idPath);
    const std::string base = idOk ? g.id : normalizeAppId(parentId, "/");

    if (auto it = json.find("dependencies"); it != json.end() && !it->is_null()) {
      if (!it->is_array()) {
        add(at + "/dependencies", "error.expected.jsarray");
      } else {
        std::string depBase = idOk ? parentOf(g.id) : base;
        for (size_t i = 0; i < it->size(); ++i) {
          const Json& d = (*it)[i];
          if (!d.is_string()) {
            add(at + "/dependencies/" + std::to_string(i), "error.expected.jsstring");
          } else {
            g.dependencies.push_back(normalizeAppId(d.get<std::string>(), depBase));
          }
        }
      }
    }

    if (auto it = json.find("apps"); it != json.end() && !it->is_null()) {
      if (!it->is_array()) {
        add(at + "/apps", "error.expected.jsarray");
      } else {
        for (size_t i = 0; i < it->size(); ++i) {
          const std::string appAt = at + "/apps/" + std::to_string(i);
          auto app = parseApp((*it)[i], base);
          if (!app.ok()) {
            for (const auto& d : app.error().details) {
              std::string path = d.path == "/" ? appAt : appAt + d.path;
              for (const auto& e : d.errors) add(path, e);
            }
            continue;
          }
          if (!isUnder(app->id, base)) {
            add(appAt + "/id", "app '" + app->id + "' must lie under its group '" + base + "'");
            continue;
          }
          claim(app->id, appAt + "/id");
          g.apps.push_back(std::move(*app));
        }
      }
    }

    if (auto it = json.find("groups"); it != json.end() && !it->is_null()) {
      if (!it->is_array()) {
        add(at + "/groups", "error.expected.jsarray");
      } else {
        for (size_t i = 0; i < it->size(); ++i) {
          g.groups.push_back(group((*it)[i], base, at + "/groups/" + std::to_string(i), false));
        }
      }
    }

    if (auto it = json.find("version"); it != json.end() && !it->is_null()) {
      if (!it->is_string()) add(at + "/version", "error.expected.jsstring");
      else g.version = it->get<std::string>();
    }
    return g;
  }
};

void collect(const Group& g, std::vector<const AppDefinition*>& apps, std::map<std::string, const Group*>& groups) {
  groups[g.id] = &g;
  for (const auto& a : g.apps) apps.push_back(&a);
  for (const auto& sub : g.groups) collect(sub, apps, groups);
}

void appsUnder(const Group& g, std::vector<std::string>& out) {
  for (const auto& a : g.apps) out.push_back(a.id);
  for (const auto& sub : g.groups) appsUnder(sub, out);
}

}  // namespace

Result<Group> parseGroup(const Json& json, const std::string& parentId) {
  if (!json.is_object()) {
    return Error(ErrorCode::kUnprocessable, "Object is not valid", {{"/", {"error.expected.jsobject"}}});
  }
  Parser p;
  Group g = p.group(json, parentId, "", true);
  if (!p.details.empty()) return Error(ErrorCode::kUnprocessable, "Object is not valid", std::move(p.details));
  return g;
}

std::map<std::string, AppDefinition> flattenApps(const Group& root) {
  std::vector<const AppDefinition*> all;
  std::map<std::string, const Group*> groups;
  collect(root, all, groups);
  std::set<std::string> appIds;
  for (const auto* a : all) appIds.insert(a->id);

  auto resolve = [&](const std::string& dep, std::vector<std::string>& out) {
    if (appIds.count(dep) == 0) {
      if (auto it = groups.find(dep); it != groups.end()) {
        appsUnder(*it->second, out);
        return;
      }
    }
    out.push_back(dep);
  };

  std::map<std::string, AppDefinition> result;
  std::function<void(const Group&, const std::vector<std::string>&)> walk =
      [&](const Group& g, const std::vector<std::string>& inherited) {
        std::vector<std::string> deps = inherited;
        deps.insert(deps.end(), g.dependencies.begin(), g.dependencies.end());
        for (const auto& app : g.apps) {
          std::vector<std::string> raw = app.dependencies;
          raw.insert(raw.end(), deps.begin(), deps.end());
          std::vector<std::string> expanded;
          for (const auto& d : raw) resolve(d, expanded);
          AppDefinition copy = app;
          copy.dependencies.clear();
          std::set<std::string> added;
          for (const auto& d : expanded) {
            if (d != app.id && added.insert(d).second) copy.dependencies.push_back(d);
          }
          result[app.id] = std::move(copy);
        }
        for (const auto& sub : g.groups) walk(sub, deps);
      };
  walk(root, {});
  return result;
}

Json groupToJson(const Group& group) {
  Json apps = Json::array();
  for (const auto& a : group.apps) apps.push_back(appToJson(a));
  Json groups = Json::array();
  for (const auto& g : group.groups) groups.push_back(groupToJson(g));
  Json out{{"id", group.id}, {"apps", apps}, {"groups", groups}, {"dependencies", group.dependencies}};
  if (group.version) out["version"] = *group.version;
  return out;
}

}  // namespace dcos::marathon
