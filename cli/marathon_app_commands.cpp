// `dcos marathon app ...`: add, list, show, update, restart, kill, remove, version list; and the
// small helpers every marathon command file uses (marathon_support.hpp).
#include "cli/marathon_support.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

namespace dcos::cli {
namespace marathon {

std::string normalizeId(const std::string& id) {
  std::string out = id.empty() || id[0] != '/' ? "/" + id : id;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Result<std::string> positional(const Args& args, size_t index, const std::string& name) {
  if (args.positional.size() <= index) return usageError("missing " + name);
  return args.positional[index];
}

Result<void> atMostPositionals(const Args& args, size_t max) {
  if (args.positional.size() > max) return usageError("unexpected argument '" + args.positional[max] + "'");
  return success();
}

Result<Json> readJsonInput(const std::string& source) {
  std::string text, name;
  if (source.empty() || source == "-") {
    name = "stdin";
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    name = source;
    std::ifstream in(source, std::ios::binary);
    if (!in) return Error(ErrorCode::kIo, "cannot read " + source + ": no such file or not readable");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, name + " is empty: expected a JSON definition");
  }
  auto json = parseJson(text);
  if (!json) {
    // One line: the file, then the parser's account with its line and column.
    std::string why = json.error().message;
    if (why.rfind("Invalid JSON: ", 0) == 0) why = why.substr(14);
    for (char& c : why) c = c == '\n' ? ' ' : c;
    return Error(ErrorCode::kInvalidArgument, name + " is not valid JSON: " + why);
  }
  return std::move(*json);
}

std::string shortAction(const std::string& action) {
  static const std::map<std::string, std::string> kShort = {{"StartApplication", "start"},
                                                            {"StopApplication", "stop"},
                                                            {"ScaleApplication", "scale"},
                                                            {"RestartApplication", "restart"},
                                                            {"ResolveArtifacts", "resolve artifacts"}};
  auto it = kShort.find(action);
  return it == kShort.end() ? action : it->second;
}

Result<int> positiveInt(const Args& args, const std::string& flag, int fallback) {
  auto v = args.value(flag);
  if (!v) return fallback;
  char* end = nullptr;
  long n = std::strtol(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || n <= 0) return usageError("--" + flag + " must be a positive integer, not '" + *v + "'");
  return static_cast<int>(n);
}

std::string forceQuery(const Args& args) { return args.has("force") ? "?force=true" : ""; }

std::string textOf(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

double numberOf(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

std::string deploymentIdOf(const Context::Reply& reply) {
  if (auto it = reply.headers.find("marathon-deployment-id"); it != reply.headers.end() && !it->second.empty()) {
    return it->second;
  }
  if (!textOf(reply.body, "deploymentId").empty()) return textOf(reply.body, "deploymentId");
  if (reply.body.is_object() && reply.body.contains("deployments") && reply.body["deployments"].is_array() &&
      !reply.body["deployments"].empty()) {
    return textOf(reply.body["deployments"][0], "id");
  }
  return "";
}

void addCommand(std::vector<Command>& commands, std::vector<std::string> path, std::string usage, std::string summary,
                std::vector<std::string> flags, std::function<Result<void>(Context&, const Args&)> run) {
  auto withUsage = [usage, run = std::move(run)](Context& ctx, const Args& args) -> Result<void> {
    // A bad --timeout is reported before anything changes on the cluster.
    auto timeout = waitTimeout(args);
    auto result = timeout ? run(ctx, args) : Result<void>(timeout.error());
    if (!result && exitCodeFor(result.error()) == kExitUsage) {
      return usageError(result.error().message + " (usage: " + usage + ")");
    }
    return result;
  };
  commands.push_back({std::move(path), std::move(usage), std::move(summary), std::move(flags), std::move(withUsage)});
}

std::vector<std::string> withWait(std::vector<std::string> flags) {
  flags.insert(flags.end(), kWaitFlags.begin(), kWaitFlags.end());
  return flags;
}

namespace {

std::string appPath(const std::string& id) { return "/v2/apps" + normalizeId(id); }

Result<void> appAdd(Context& ctx, const Args& args) {
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto app = readJsonInput(args.positional.empty() ? "-" : args.positional[0]);
  if (!app) return app.error();
  auto reply = ctx.exchange("POST", "/v2/apps" + forceQuery(args), app->dump());
  if (!reply) return reply.error();
  return reportChange(ctx, args, *reply);
}

// The DC/OS CLI's DEPLOYMENT column: what the deployments touching an app do to it now.
std::map<std::string, std::string> deploymentActions(const Json& deployments) {
  std::map<std::string, std::string> out;
  for (const auto& d : deployments) {
    for (const auto& a : d.value("currentActions", Json::array())) {
      std::string& cell = out[textOf(a, "app")];
      cell += (cell.empty() ? "" : ",") + shortAction(textOf(a, "action"));
    }
    // Apps of the deployment that have no action in the current step still show it.
    for (const auto& app : d.value("affectedApps", Json::array())) {
      if (app.is_string() && out[app.get<std::string>()].empty()) out[app.get<std::string>()] = "deploy";
    }
  }
  return out;
}

std::string commandOf(const Json& app) {
  if (!textOf(app, "cmd").empty()) return textOf(app, "cmd");
  if (app.contains("args") && app["args"].is_array() && !app["args"].empty()) {
    std::string out;
    for (const auto& a : app["args"]) out += (out.empty() ? "" : " ") + (a.is_string() ? a.get<std::string>() : a.dump());
    return out;
  }
  return "-";
}

Result<void> appList(Context& ctx, const Args& args) {
  if (auto r = atMostPositionals(args, 0); !r) return r;
  auto apps = ctx.get("/v2/apps?embed=apps.counts&embed=apps.deployments");
  if (!apps) return apps.error();
  Json list = apps->value("apps", Json::array());
  if (args.has("json")) {
    ctx.printJson(list);
    return success();
  }
  auto deployments = ctx.get("/v2/deployments");
  if (!deployments) return deployments.error();
  auto queue = ctx.get("/v2/queue");
  if (!queue) return queue.error();
  std::set<std::string> waiting;
  for (const auto& q : queue->value("queue", Json::array())) waiting.insert(textOf(q.value("app", Json()), "id"));
  auto actions = deploymentActions(*deployments);

  Table table({"ID", "MEM", "CPUS", "TASKS", "HEALTH", "DEPLOYMENT", "WAITING", "CONTAINER", "CMD"});
  for (const auto& app : list) {
    std::string id = textOf(app, "id");
    bool checked = app.contains("healthChecks") && app["healthChecks"].is_array() && !app["healthChecks"].empty();
    std::string health = checked ? formatScalar(numberOf(app, "tasksHealthy")) + "/" + formatScalar(numberOf(app, "tasksRunning")) : "-";
    std::string container = "mesos";
    if (app.contains("container") && app["container"].is_object() && !textOf(app["container"], "type").empty()) {
      container = textOf(app["container"], "type");
      for (char& c : container) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    auto action = actions.find(id);
    table.add({id, formatScalar(numberOf(app, "mem")), formatScalar(numberOf(app, "cpus")),
               formatScalar(numberOf(app, "tasksRunning")) + "/" + formatScalar(numberOf(app, "instances")), health,
               action == actions.end() || action->second.empty() ? "-" : action->second,
               waiting.count(id) ? "True" : "False", container, commandOf(app)});
  }
  table.print(ctx.out);
  return success();
}

// --app-version: a version timestamp, or (as in the DC/OS CLI) a negative number counting back
// from the current version (-1 is the one before it).
Result<std::string> resolveVersion(Context& ctx, const std::string& id, const std::string& version) {
  char* end = nullptr;
  long back = std::strtol(version.c_str(), &end, 10);
  if (version.empty() || *end != '\0') return version;
  if (back >= 0) return usageError("--app-version must be a version or a negative number, not '" + version + "'");
  auto versions = ctx.get(appPath(id) + "/versions");
  if (!versions) return versions.error();
  Json list = versions->value("versions", Json::array());
  if (static_cast<size_t>(-back) >= list.size()) {
    return Error(ErrorCode::kNotFound, "app " + normalizeId(id) + " has only " + std::to_string(list.size()) +
                                           " version(s); --app-version=" + version + " goes too far back");
  }
  return list[static_cast<size_t>(-back)].get<std::string>();
}

Result<void> appShow(Context& ctx, const Args& args) {
  auto id = positional(args, 0, "APP_ID");
  if (!id) return id.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  if (auto v = args.value("app-version")) {
    auto version = resolveVersion(ctx, *id, *v);
    if (!version) return version.error();
    auto app = ctx.get(appPath(*id) + "/versions/" + *version);
    if (!app) return app.error();
    ctx.printJson(*app);
    return success();
  }
  auto app = ctx.get(appPath(*id));
  if (!app) return app.error();
  ctx.printJson(app->value("app", *app));
  return success();
}

// `key=value` properties: the value as JSON when it parses (instances=3, env='{"A":"1"}'), else
// as a string (cmd="sleep 10" reaches us as cmd=sleep 10).
Result<Json> parseProperties(const std::vector<std::string>& properties) {
  Json out = Json::object();
  for (const auto& p : properties) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) return usageError("expected key=value, not '" + p + "'");
    std::string value = p.substr(eq + 1);
    Json parsed = Json::parse(value, nullptr, /*allow_exceptions=*/false);
    out[p.substr(0, eq)] = parsed.is_discarded() ? Json(value) : parsed;
  }
  return out;
}

Result<void> appUpdate(Context& ctx, const Args& args) {
  auto id = positional(args, 0, "APP_ID");
  if (!id) return id.error();
  Json changes;
  if (args.positional.size() > 1) {
    auto parsed = parseProperties({args.positional.begin() + 1, args.positional.end()});
    if (!parsed) return parsed.error();
    changes = std::move(*parsed);
  } else {
    auto read = readJsonInput("-");
    if (!read) return read.error();
    if (!read->is_object()) return Error(ErrorCode::kInvalidArgument, "stdin: expected a JSON object of the fields to change");
    changes = std::move(*read);
  }
  auto reply = ctx.exchange("PUT", appPath(*id) + forceQuery(args), changes.dump());
  if (!reply) return reply.error();
  return reportChange(ctx, args, *reply);
}

Result<void> appRestart(Context& ctx, const Args& args) {
  auto id = positional(args, 0, "APP_ID");
  if (!id) return id.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto reply = ctx.exchange("POST", appPath(*id) + "/restart" + forceQuery(args), "");
  if (!reply) return reply.error();
  return reportChange(ctx, args, *reply);
}

Result<void> appKill(Context& ctx, const Args& args) {
  auto id = positional(args, 0, "APP_ID");
  if (!id) return id.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  std::string query;
  if (args.has("scale")) query += "scale=true";
  if (auto host = args.value("host")) query += std::string(query.empty() ? "" : "&") + "host=" + *host;
  auto reply = ctx.exchange("DELETE", appPath(*id) + "/tasks" + (query.empty() ? "" : "?" + query), "");
  if (!reply) return reply.error();
  if (args.has("scale")) return reportChange(ctx, args, *reply);
  Json killed = reply->body.value("tasks", Json::array());
  ctx.out << "Killed tasks: " << killed.size() << std::endl;
  for (const auto& t : killed) ctx.out << "  " << textOf(t, "id") << std::endl;
  return success();
}

Result<void> appRemove(Context& ctx, const Args& args) {
  auto id = positional(args, 0, "APP_ID");
  if (!id) return id.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto reply = ctx.exchange("DELETE", appPath(*id) + forceQuery(args), "");
  if (!reply) return reply.error();
  return reportChange(ctx, args, *reply);
}

Result<void> appVersionList(Context& ctx, const Args& args) {
  auto id = positional(args, 0, "APP_ID");
  if (!id) return id.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto maxCount = positiveInt(args, "max-count", 0);
  if (!maxCount) return maxCount.error();
  size_t max = static_cast<size_t>(*maxCount);
  auto versions = ctx.get(appPath(*id) + "/versions");
  if (!versions) return versions.error();
  Json list = versions->value("versions", Json::array());  // newest first
  if (max > 0 && list.size() > max) list.erase(list.begin() + static_cast<std::ptrdiff_t>(max), list.end());
  if (args.has("json")) {
    ctx.printJson(list);
    return success();
  }
  Table table({"VERSION"});
  for (const auto& v : list) table.add({v.is_string() ? v.get<std::string>() : v.dump()});
  table.print(ctx.out);
  return success();
}

}  // namespace

void addAppCommands(std::vector<Command>& commands) {
  auto add = [&](std::vector<std::string> path, std::string usage, std::string summary, std::vector<std::string> flags,
                 std::function<Result<void>(Context&, const Args&)> run) {
    addCommand(commands, std::move(path), std::move(usage), std::move(summary), std::move(flags), std::move(run));
  };
  add({"marathon", "app", "add"}, "dcos marathon app add [--force] [--wait] [--timeout=SECONDS] [FILE|-]",
      "Add an app from a JSON definition (a file or stdin)", withWait({"force"}), appAdd);
  add({"marathon", "app", "list"}, "dcos marathon app list [--json]", "List the apps", {"json"}, appList);
  add({"marathon", "app", "show"}, "dcos marathon app show [--app-version=VERSION] [--json] APP_ID",
      "Print an app's definition (of a version: a timestamp, or -N for N versions back)", {"app-version=", "json"},
      appShow);
  add({"marathon", "app", "update"},
      "dcos marathon app update [--force] [--wait] [--timeout=SECONDS] APP_ID [KEY=VALUE ...]",
      "Change an app's fields (values are JSON when they parse; none: a JSON object on stdin)", withWait({"force"}),
      appUpdate);
  add({"marathon", "app", "restart"}, "dcos marathon app restart [--force] [--wait] [--timeout=SECONDS] APP_ID",
      "Restart every instance of an app (a rolling deployment)", withWait({"force"}), appRestart);
  add({"marathon", "app", "kill"}, "dcos marathon app kill [--scale] [--host=HOST] APP_ID",
      "Kill an app's tasks (they are replaced unless --scale)", withWait({"scale", "host="}), appKill);
  add({"marathon", "app", "remove"}, "dcos marathon app remove [--force] [--wait] [--timeout=SECONDS] APP_ID",
      "Remove an app and stop its tasks", withWait({"force"}), appRemove);
  add({"marathon", "app", "version", "list"}, "dcos marathon app version list [--max-count=N] [--json] APP_ID",
      "List an app's versions, newest first", {"max-count=", "json"}, appVersionList);
}

}  // namespace marathon
}  // namespace dcos::cli
