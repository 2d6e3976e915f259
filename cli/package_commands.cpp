// `dcos package search|describe|install|list|uninstall` and `dcos package repo add|list|remove`:
// thin clients of the master's Cosmos-style /package/* API. Installing asks for confirmation on
// stdin (unless --yes) after the package's pre-install notes, and --wait follows the new app's
// deployment with the machinery of `marathon app add --wait` (marathon_support.hpp).
#include "cli/context.hpp"
#include "cli/marathon_support.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace dcos::cli {
namespace {

using marathon::atMostPositionals;
using marathon::positional;
using marathon::textOf;

// "True"/"False", as the DC/OS CLI prints booleans in tables.
std::string yesNo(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_boolean() && j[key].get<bool>() ? "True" : "False";
}

std::string orDash(const std::string& s) { return s.empty() ? "-" : s; }

// POST `body` to the /package `path`.
Result<Json> cosmos(Context& ctx, const std::string& path, const Json& body) {
  return ctx.send("POST", "/package/" + path, body);
}

// The --options file as a JSON object (absent: no "options" member is sent).
Result<std::optional<Json>> optionsOf(const Args& args) {
  auto file = args.value("options");
  if (!file) return std::optional<Json>();
  auto options = marathon::readJsonInput(*file);
  if (!options) return options.error();
  if (!options->is_object()) {
    return Error(ErrorCode::kInvalidArgument,
                 (*file == "-" ? std::string("stdin") : *file) + " must hold a JSON object of options");
  }
  return std::optional<Json>(std::move(*options));
}

// {packageName, packageVersion?, options?, appId?} from the command line.
Result<Json> packageRequest(const Args& args, const std::string& name, bool withOptions) {
  Json body = {{"packageName", name}};
  if (auto v = args.value("package-version")) body["packageVersion"] = *v;
  if (auto id = args.value("app-id")) body["appId"] = marathon::normalizeId(*id);
  if (withOptions) {
    auto options = optionsOf(args);
    if (!options) return options.error();
    if (*options) body["options"] = std::move(**options);
  }
  return body;
}

// Asks `question` on stdout until the answer on stdin is yes or no; EOF counts as no.
bool confirm(Context& ctx, const std::string& question) {
  for (;;) {
    ctx.out << question << " [yes/no] " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) {
      ctx.out << std::endl;
      return false;
    }
    std::transform(answer.begin(), answer.end(), answer.begin(), [](unsigned char c) { return std::tolower(c); });
    answer.erase(0, answer.find_first_not_of(" \t\r"));
    answer.erase(answer.find_last_not_of(" \t\r") + 1);
    if (answer == "yes" || answer == "y") return true;
    if (answer == "no" || answer == "n") return false;
    ctx.err << "'" << answer << "' is not a valid response" << std::endl;
  }
}

void printNotes(Context& ctx, const Json& j, const char* key) {
  std::string notes = textOf(j, key);
  if (!notes.empty()) ctx.out << notes << std::endl;
}

// ---- search, describe ----

Result<void> search(Context& ctx, const Args& args) {
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto found = cosmos(ctx, "search", {{"query", args.positional.empty() ? "" : args.positional[0]}});
  if (!found) return found.error();
  if (args.has("json")) {
    ctx.printJson(*found);
    return success();
  }
  Table table({"NAME", "VERSION", "SELECTED", "FRAMEWORK", "DESCRIPTION"});
  for (const auto& p : found->value("packages", Json::array())) {
    table.add({textOf(p, "name"), orDash(textOf(p, "currentVersion")), yesNo(p, "selected"), yesNo(p, "framework"),
               orDash(textOf(p, "description"))});
  }
  table.print(ctx.out);
  return success();
}

// The versions of a package, newest release first (list-versions answers {version: revision}).
Result<Json> packageVersions(Context& ctx, const std::string& name) {
  auto listed = cosmos(ctx, "list-versions", {{"packageName", name}, {"includePackageVersions", true}});
  if (!listed) return listed.error();
  std::vector<std::pair<double, std::string>> versions;
  const Json results = listed->value("results", Json::object());  // items() must not outlive it
  for (const auto& [version, revision] : results.items()) {
    double rev = revision.is_string() ? std::atof(revision.get<std::string>().c_str())
                                      : (revision.is_number() ? revision.get<double>() : 0);
    versions.emplace_back(rev, version);
  }
  std::sort(versions.begin(), versions.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  Json out = Json::array();
  for (const auto& v : versions) out.push_back(v.second);
  return out;
}

Result<void> describe(Context& ctx, const Args& args) {
  auto name = positional(args, 0, "PACKAGE_NAME");
  if (!name) return name.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  int views = args.has("config") + args.has("render") + args.has("package-versions");
  if (views > 1) return usageError("--config, --render and --package-versions exclude each other");
  if ((args.has("options") || args.has("app-id")) && !args.has("render")) {
    return usageError("--options and --app-id go with --render");
  }
  if (args.has("package-versions")) {
    auto versions = packageVersions(ctx, *name);
    if (!versions) return versions.error();
    ctx.printJson(*versions);
    return success();
  }
  auto request = packageRequest(args, *name, args.has("render"));
  if (!request) return request.error();
  if (args.has("render")) {
    auto rendered = cosmos(ctx, "render", *request);
    if (!rendered) return rendered.error();
    ctx.printJson(rendered->value("marathonJson", Json::object()));
    return success();
  }
  auto described = cosmos(ctx, "describe", *request);
  if (!described) return described.error();
  Json package = described->value("package", Json::object());
  ctx.printJson(args.has("config") ? package.value("config", Json::object()) : package);
  return success();
}

// ---- install ----

// Whether the app has its target instances running (and healthy when it has health checks).
Result<bool> appAtTarget(Context& ctx, const std::string& appId) {
  auto reply = ctx.exchange("GET", "/v2/apps" + appId, "");
  if (!reply) return reply.error();
  Json app = reply->body.value("app", Json::object());
  bool checked = app.contains("healthChecks") && app["healthChecks"].is_array() && !app["healthChecks"].empty();
  double target = marathon::numberOf(app, "instances");
  return marathon::numberOf(app, "tasksRunning") >= target &&
         (!checked || marathon::numberOf(app, "tasksHealthy") >= target);
}

// The deployment in progress that touches `appId` (or an app of the group `appId`), "" if none.
Result<std::string> deploymentOf(Context& ctx, const std::string& appId) {
  auto list = ctx.get("/v2/deployments");
  if (!list) return list.error();
  for (const auto& d : *list) {
    for (const auto& a : d.value("affectedApps", Json::array())) {
      std::string app = a.is_string() ? a.get<std::string>() : "";
      if (app == appId || app.rfind(appId + "/", 0) == 0) return textOf(d, "id");
    }
  }
  return std::string();
}

// --wait: follows the deployment that installs `appId` until its apps are at their target.
Result<void> waitForInstall(Context& ctx, const Args& args, const std::string& appId) {
  auto timeout = marathon::waitTimeout(args);
  if (!timeout) return timeout.error();
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration<double>(*timeout);
  for (;;) {
    double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    auto id = deploymentOf(ctx, appId);
    if (!id) return id.error();
    if (!id->empty()) {
      marathon::FollowOptions options;
      options.timeoutSeconds = std::max(left, 0.001);
      if (auto r = marathon::followDeployment(ctx, *id, options, ctx.err); !r) return r;
      ctx.out << "Deployment " << *id << " finished" << std::endl;
      return success();
    }
    // No deployment: it finished already (or a group's apps are addressed one by one).
    auto done = appAtTarget(ctx, appId);
    if (done && *done) return success();
    if (left <= 0) {
      return Error(ErrorCode::kConflict, "app " + appId + " did not reach its target within " +
                                             formatScalar(*timeout) + " s (see dcos marathon app show " + appId + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

Result<void> install(Context& ctx, const Args& args) {
  auto name = positional(args, 0, "PACKAGE_NAME");
  if (!name) return name.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  if (args.value("options") == "-" && !args.has("yes")) {
    return usageError("--options - reads stdin, where the confirmation is asked: add --yes");
  }
  // A bad options file fails before anything is asked or installed.
  auto request = packageRequest(args, *name, true);
  if (!request) return request.error();
  Json describeRequest = {{"packageName", *name}};
  if (request->contains("packageVersion")) describeRequest["packageVersion"] = (*request)["packageVersion"];
  auto described = cosmos(ctx, "describe", describeRequest);
  if (!described) return described.error();
  Json package = described->value("package", Json::object());
  printNotes(ctx, package, "preInstallNotes");
  if (!args.has("yes") && !confirm(ctx, "Continue installing?")) {
    return Error(ErrorCode::kConflict, "Installation cancelled");
  }
  std::string version = textOf(package, "version");
  (*request)["packageVersion"] = version;
  auto installed = cosmos(ctx, "install", *request);
  if (!installed) return installed.error();  // refused: nothing was installed, nothing said
  ctx.out << "Installed Marathon app for package [" << *name << "] version [" << version << "]";
  if (request->contains("appId")) ctx.out << " with app id [" << (*request)["appId"].get<std::string>() << "]";
  ctx.out << std::endl;
  if (installed->contains("postInstallNotes")) {
    printNotes(ctx, *installed, "postInstallNotes");
  } else {
    printNotes(ctx, package, "postInstallNotes");
  }
  std::string appId = marathon::normalizeId(textOf(*installed, "appId"));
  if (!textOf(*installed, "appId").empty()) ctx.out << "The service will appear as " << appId << std::endl;
  if (!args.has("wait") || textOf(*installed, "appId").empty()) return success();
  return waitForInstall(ctx, args, appId);
}

// ---- list, uninstall ----

// The installed packages as DC/OS lists them: each package definition once, with "apps".
Result<Json> installedPackages(Context& ctx, const Args& args, const std::string& name) {
  Json body = Json::object();
  if (!name.empty()) body["packageName"] = name;
  if (auto id = args.value("app-id")) body["appId"] = marathon::normalizeId(*id);
  auto listed = cosmos(ctx, "list", body);
  if (!listed) return listed.error();
  Json out = Json::array();
  for (const auto& p : listed->value("packages", Json::array())) {
    Json definition = p.value("packageInformation", Json::object()).value("packageDefinition", Json::object());
    std::string app = textOf(p, "appId");
    auto same = std::find_if(out.begin(), out.end(), [&](const Json& o) {
      return textOf(o, "name") == textOf(definition, "name") && textOf(o, "version") == textOf(definition, "version");
    });
    if (same == out.end()) {
      definition["apps"] = Json::array();
      out.push_back(std::move(definition));
      same = out.end() - 1;
    }
    if (!app.empty()) (*same)["apps"].push_back(app);
  }
  return out;
}

Result<void> list(Context& ctx, const Args& args) {
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto packages = installedPackages(ctx, args, args.positional.empty() ? "" : args.positional[0]);
  if (!packages) return packages.error();
  if (args.has("json")) {
    ctx.printJson(*packages);
    return success();
  }
  Table table({"NAME", "VERSION", "SELECTED", "APP", "COMMAND", "DESCRIPTION"});
  for (const auto& p : *packages) {
    std::string apps;
    for (const auto& a : p["apps"]) apps += (apps.empty() ? "" : ",") + a.get<std::string>();
    std::string command = p.contains("command") ? textOf(p["command"], "name") : "";
    if (command.empty() && p.contains("command")) command = textOf(p, "name");
    table.add({textOf(p, "name"), orDash(textOf(p, "version")), yesNo(p, "selected"), orDash(apps), orDash(command),
               orDash(textOf(p, "description"))});
  }
  table.print(ctx.out);
  return success();
}

Result<void> uninstall(Context& ctx, const Args& args) {
  auto name = positional(args, 0, "PACKAGE_NAME");
  if (!name) return name.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  if (args.has("all") && args.has("app-id")) return usageError("--all and --app-id exclude each other");
  Json body = {{"packageName", *name}};
  if (auto id = args.value("app-id")) body["appId"] = marathon::normalizeId(*id);
  if (args.has("all")) body["all"] = true;
  if (!args.has("yes")) {
    auto installed = installedPackages(ctx, args, *name);
    if (!installed) return installed.error();
    std::string apps;
    for (const auto& p : *installed) {
      for (const auto& a : p["apps"]) apps += (apps.empty() ? "" : ", ") + a.get<std::string>();
    }
    if (apps.empty()) return Error(ErrorCode::kNotFound, "Package [" + *name + "] is not installed");
    ctx.out << "Uninstalling package [" << *name << "] (" << apps << ")" << std::endl;
    if (!confirm(ctx, "Continue uninstalling?")) return Error(ErrorCode::kConflict, "Uninstall cancelled");
  }
  auto removed = cosmos(ctx, "uninstall", body);
  if (!removed) return removed.error();
  for (const auto& r : removed->value("results", Json::array())) {
    ctx.out << "Uninstalled package [" << textOf(r, "packageName") << "] version [" << textOf(r, "packageVersion")
            << "] (app " << textOf(r, "appId") << ")" << std::endl;
    printNotes(ctx, r, "postUninstallNotes");
  }
  return success();
}

// ---- repo ----

Result<void> repoAdd(Context& ctx, const Args& args) {
  auto name = positional(args, 0, "REPO_NAME");
  if (!name) return name.error();
  auto url = positional(args, 1, "REPO_URL");
  if (!url) return url.error();
  if (auto r = atMostPositionals(args, 2); !r) return r;
  Json body = {{"name", *name}, {"uri", *url}};
  if (auto index = args.value("index")) {
    char* end = nullptr;
    long n = std::strtol(index->c_str(), &end, 10);
    if (index->empty() || *end != '\0' || n < 0) {
      return usageError("--index must be a non-negative integer, not '" + *index + "'");
    }
    body["index"] = n;
  }
  auto added = cosmos(ctx, "repository/add", body);
  if (!added) return added.error();
  ctx.out << "Added repository [" << *name << "] (" << *url << ")" << std::endl;
  return success();
}

Result<void> repoList(Context& ctx, const Args& args) {
  if (auto r = atMostPositionals(args, 0); !r) return r;
  auto listed = cosmos(ctx, "repository/list", Json::object());
  if (!listed) return listed.error();
  if (args.has("json")) {
    ctx.printJson(*listed);
    return success();
  }
  Table table({"NAME", "URI"});
  for (const auto& r : listed->value("repositories", Json::array())) table.add({textOf(r, "name"), textOf(r, "uri")});
  table.print(ctx.out);
  return success();
}

Result<void> repoRemove(Context& ctx, const Args& args) {
  auto name = positional(args, 0, "REPO_NAME");
  if (!name) return name.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto removed = cosmos(ctx, "repository/delete", {{"name", *name}});
  if (!removed) return removed.error();
  ctx.out << "Removed repository [" << *name << "]" << std::endl;
  return success();
}

}  // namespace

void addPackageCommands(std::vector<Command>& commands) {
  auto add = [&](std::vector<std::string> path, std::string usage, std::string summary, std::vector<std::string> flags,
                 std::function<Result<void>(Context&, const Args&)> run) {
    marathon::addCommand(commands, std::move(path), std::move(usage), std::move(summary), std::move(flags),
                         std::move(run));
  };
  add({"package", "search"}, "dcos package search [--json] [QUERY]",
      "Search the repositories' packages (name, description, tags; * is a wildcard)", {"json"}, search);
  add({"package", "describe"},
      "dcos package describe [--package-version=V] [--config | --render [--options=FILE] [--app-id=ID] | "
      "--package-versions] PACKAGE_NAME",
      "Print a package's definition, its options schema, the Marathon app it renders, or its versions",
      {"package-version=", "config", "render", "options=", "app-id=", "package-versions"}, describe);
  add({"package", "install"},
      "dcos package install [--options=FILE] [--package-version=V] [--app-id=ID] [--yes] [--wait] "
      "[--timeout=SECONDS] PACKAGE_NAME",
      "Install a package as a Marathon app (asks first unless --yes; --wait: until it is healthy)",
      marathon::withWait({"options=", "package-version=", "app-id=", "yes"}), install);
  add({"package", "list"}, "dcos package list [--json] [--app-id=ID] [PACKAGE_NAME]", "List the installed packages",
      {"json", "app-id="}, list);
  add({"package", "uninstall"}, "dcos package uninstall [--app-id=ID | --all] [--yes] PACKAGE_NAME",
      "Uninstall a package's app (--all: every install of it; asks first unless --yes)", {"app-id=", "all", "yes"},
      uninstall);
  add({"package", "repo", "add"}, "dcos package repo add [--index=N] REPO_NAME REPO_URL",
      "Add a package repository (a Universe index at http(s):// or file://, or a package tree)", {"index="},
      repoAdd);
  add({"package", "repo", "list"}, "dcos package repo list [--json]", "List the package repositories", {"json"},
      repoList);
  add({"package", "repo", "remove"}, "dcos package repo remove REPO_NAME", "Remove a package repository", {},
      repoRemove);
}

}  // namespace dcos::cli
