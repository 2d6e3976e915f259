#pragma once
// Marathon's groups (the body of PUT/POST /v2/groups): a tree of apps and groups, parsed and
// validated the way Marathon does it, flattened for the deployment planner, and written back as
// Marathon's JSON. Pure functions: no I/O.

#include "marathon_like/app.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dcos::marathon {

struct Group {
  std::string id;  // absolute and normalized: "/prod"
  std::vector<AppDefinition> apps;
  std::vector<Group> groups;
  std::vector<std::string> dependencies;  // normalized ids of apps or groups
  std::optional<std::string> version;

  bool operator==(const Group&) const = default;
};

// Parses a group. Ids of nested groups and apps are resolved relative to their parent group
// ("web" inside "/prod" is "/prod/web"); absolute ids must lie under the parent. A missing id on
// the top-level group means `parentId` itself; nested groups need one. Dependencies are resolved
// against the group's parent, as an app's are. Every violation is collected with its full JSON
// path ("/apps/0/cpus", "/groups/1/apps/0/id", "/groups/0/id"); an id used twice in the tree (two
// apps, or an app and a group) is a violation at the later one. The error is kUnprocessable
// "Object is not valid" with those details.
Result<Group> parseGroup(const Json& json, const std::string& parentId = "/");

// All apps of the tree by id. A group's dependencies (and those of its ancestors) are added to
// each of its apps' dependencies; every dependency is resolved to app ids: one naming a group of
// the tree means all apps under it. Ids not found in the tree are kept as they are; an app never
// depends on itself.
std::map<std::string, AppDefinition> flattenApps(const Group& root);

// Marathon's JSON: id, apps (appToJson), groups, dependencies, and version when there is one.
Json groupToJson(const Group& group);

}  // namespace dcos::marathon
