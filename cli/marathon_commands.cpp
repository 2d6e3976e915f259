// `dcos marathon deployment|task|group ...` and the registration of every `dcos marathon`
// command (the app commands live in marathon_app_commands.cpp); following a deployment to its
// end for `--wait` and `deployment watch`.
#include "cli/marathon_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>

namespace dcos::cli {
namespace marathon {
namespace {

std::set<std::string> affectedApps(const Json& deployment) {
  std::set<std::string> out;
  if (deployment.contains("affectedApps") && deployment["affectedApps"].is_array()) {
    for (const auto& a : deployment["affectedApps"]) {
      if (a.is_string()) out.insert(a.get<std::string>());
    }
  }
  return out;
}

const Json* findById(const Json& list, const std::string& id) {
  if (!list.is_array()) return nullptr;
  for (const auto& item : list) {
    if (textOf(item, "id") == id) return &item;
  }
  return nullptr;
}

// The actions of the step a deployment is at (the last one when it is done).
std::vector<Json> currentActions(const Json& d) {
  std::vector<Json> out;
  if (d.contains("currentActions") && d["currentActions"].is_array() && !d["currentActions"].empty()) {
    for (const auto& a : d["currentActions"]) out.push_back(a);
  } else if (d.contains("steps") && d["steps"].is_array() && !d["steps"].empty()) {
    for (const auto& a : d["steps"].back().value("actions", Json::array())) out.push_back(a);
  }
  return out;
}

// "deployment ID: step 1/2, scale /web 1/3 healthy (waiting for 2 offers: Reason: message)".
// Refusal counts are left out on purpose: they grow with every offer, and the line is printed
// only when it changes.
Result<std::string> progressLine(Context& ctx, const Json& d) {
  std::ostringstream line;
  line << "deployment " << textOf(d, "id") << ": step " << numberOf(d, "currentStep") << "/"
       << numberOf(d, "totalSteps");
  for (const auto& a : currentActions(d)) {
    std::string app = textOf(a, "app");
    line << ", " << shortAction(textOf(a, "action")) << " " << app;
    Json counts = a.value("instances", Json());
    if (!counts.is_object()) {
      // Not every Marathon says what an action waits for; the app itself does.
      auto apps = ctx.get("/v2/apps?id=" + app);
      if (!apps) return apps.error();
      if (const Json* found = findById(apps->value("apps", Json::array()), app)) {
        bool checked = found->contains("healthChecks") && !(*found)["healthChecks"].empty();
        counts = {{"target", numberOf(*found, "instances")},
                  {"healthy", numberOf(*found, checked ? "tasksHealthy" : "tasksRunning")}};
      }
    }
    if (counts.is_object()) line << " " << numberOf(counts, "healthy") << "/" << numberOf(counts, "target") << " healthy";
    const Json waiting = a.value("waitingForOffers", Json());
    if (waiting.is_object() && numberOf(waiting, "count") > 0) {
      line << " (waiting for " << numberOf(waiting, "count") << " offer(s)";
      const Json refusals = waiting.value("offerRefusals", Json::object());
      for (const auto& [reason, r] : refusals.items()) {
        line << "; " << reason;
        if (!textOf(r, "message").empty()) line << ": " << textOf(r, "message");
      }
      line << ")";
    }
  }
  return line.str();
}

// Why a deployment that left /v2/deployments did not do its job ("" when it did): rolled back,
// replaced by a forced change, or stopped before its apps reached their target.
Result<std::string> judgeFinished(Context& ctx, const std::string& id, const Json& last, const Json& now) {
  auto mine = affectedApps(last);
  for (const auto& d : now) {
    bool overlaps = false;
    for (const auto& a : affectedApps(d)) overlaps = overlaps || mine.count(a);
    if (overlaps && d.value("rollback", false)) {
      return "deployment " + id + " was rolled back (by deployment " + textOf(d, "id") + ")";
    }
  }
  // The last action of each app says what the deployment meant to leave behind.
  std::map<std::string, std::string> finalAction;
  for (const auto& step : last.value("steps", Json::array())) {
    for (const auto& a : step.value("actions", Json::array())) finalAction[textOf(a, "app")] = textOf(a, "action");
  }
  auto apps = ctx.get("/v2/apps");
  if (!apps) return apps.error();
  const Json list = apps->value("apps", Json::array());
  for (const auto& [app, action] : finalAction) {
    const Json* found = findById(list, app);
    if (action == "StopApplication") {
      if (found) return "deployment " + id + " was stopped before it removed " + app;
      continue;
    }
    if (!found) return "deployment " + id + " ended but " + app + " does not exist";
    double target = numberOf(*found, "instances"), running = numberOf(*found, "tasksRunning");
    bool checked = found->contains("healthChecks") && !(*found)["healthChecks"].empty();
    double healthy = checked ? numberOf(*found, "tasksHealthy") : running;
    if (running >= target && healthy >= target) continue;
    std::string how = "deployment " + id + " was stopped";
    for (const auto& d : now) {
      if (affectedApps(d).count(app)) how = "deployment " + id + " was replaced by deployment " + textOf(d, "id");
    }
    std::ostringstream why;
    why << how << " before " << app << " reached its target (" << running << "/" << target << " running, "
        << healthy << " healthy)";
    return why.str();
  }
  return std::string();
}

}  // namespace

Result<void> followDeployment(Context& ctx, const std::string& id, const FollowOptions& options,
                              std::ostream& progress) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  Json last;  // the deployment as last seen
  std::string lastLine;
  int lines = 0;
  for (bool first = true;; first = false) {
    auto list = ctx.get("/v2/deployments");
    if (!list) return list.error();
    const Json* d = findById(*list, id);
    if (!d) {
      if (first && options.mustExist) {
        return Error(ErrorCode::kNotFound, "deployment " + id + " is not running (it finished, or there is no such deployment)");
      }
      // Gone before we saw it: it finished between the change and our first look.
      if (last.is_null()) return success();
      auto why = judgeFinished(ctx, id, last, *list);
      if (!why) return why.error();
      if (!why->empty()) return Error(ErrorCode::kConflict, *why);
      return success();
    }
    last = *d;
    auto line = progressLine(ctx, *d);
    if (!line) return line.error();
    if (*line != lastLine) {
      progress << *line << std::endl;
      lastLine = *line;
      if (options.maxLines > 0 && ++lines >= options.maxLines) return success();
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (options.timeoutSeconds > 0 && elapsed >= options.timeoutSeconds) {
      // Not kTimeout: that code means "cannot reach the cluster" (exit 3); this is a refusal (1).
      return Error(ErrorCode::kConflict, "deployment " + id + " did not finish within " +
                                             formatScalar(options.timeoutSeconds) +
                                             " s (it keeps running; see dcos marathon deployment list)");
    }
    double pause = options.intervalSeconds;
    if (options.timeoutSeconds > 0) pause = std::min(pause, std::max(0.0, options.timeoutSeconds - elapsed));
    std::this_thread::sleep_for(std::chrono::duration<double>(pause));
  }
}

Result<double> waitTimeout(const Args& args) {
  auto t = args.value("timeout");
  if (!t) return kDefaultWaitSeconds;
  char* end = nullptr;
  double seconds = std::strtod(t->c_str(), &end);
  if (t->empty() || *end != '\0' || !(seconds > 0)) {
    return usageError("--timeout must be a number of seconds greater than 0, not '" + *t + "'");
  }
  return seconds;
}

Result<void> reportChange(Context& ctx, const Args& args, const Context::Reply& reply) {
  std::string id = deploymentIdOf(reply);
  if (id.empty()) return success();
  ctx.out << "Created deployment " << id << std::endl;
  if (!args.has("wait")) return success();
  auto timeout = waitTimeout(args);
  if (!timeout) return timeout.error();
  FollowOptions options;
  options.timeoutSeconds = *timeout;
  if (auto r = followDeployment(ctx, id, options, ctx.err); !r) return r;
  ctx.out << "Deployment " << id << " finished" << std::endl;
  return success();
}

namespace {

// ---- deployment ----

Result<void> deploymentList(Context& ctx, const Args& args) {
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto list = ctx.get("/v2/deployments");
  if (!list) return list.error();
  Json shown = Json::array();
  std::string app = args.positional.empty() ? "" : normalizeId(args.positional[0]);
  for (const auto& d : *list) {
    if (app.empty() || affectedApps(d).count(app)) shown.push_back(d);
  }
  if (args.has("json")) {
    ctx.printJson(shown);
    return success();
  }
  Table table({"ID", "APPS", "ACTION", "PROGRESS"});
  for (const auto& d : shown) {
    std::string apps, actions;
    for (const auto& a : affectedApps(d)) apps += (apps.empty() ? "" : ",") + a;
    std::set<std::string> seen;
    for (const auto& a : currentActions(d)) {
      std::string name = shortAction(textOf(a, "action"));
      if (seen.insert(name).second) actions += (actions.empty() ? "" : ",") + name;
    }
    table.add({textOf(d, "id"), apps.empty() ? "-" : apps, actions.empty() ? "-" : actions,
               formatScalar(numberOf(d, "currentStep")) + "/" + formatScalar(numberOf(d, "totalSteps"))});
  }
  table.print(ctx.out);
  return success();
}

Result<void> deploymentWatch(Context& ctx, const Args& args) {
  auto id = positional(args, 0, "DEPLOYMENT_ID");
  if (!id) return id.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto maxCount = positiveInt(args, "max-count", 0);
  if (!maxCount) return maxCount.error();
  FollowOptions options;
  options.mustExist = true;
  options.maxLines = *maxCount;
  options.intervalSeconds = 1;
  if (auto v = args.value("interval")) {
    char* end = nullptr;
    options.intervalSeconds = std::strtod(v->c_str(), &end);
    if (v->empty() || *end != '\0' || !(options.intervalSeconds > 0)) {
      return usageError("--interval must be a number of seconds greater than 0, not '" + *v + "'");
    }
  }
  if (auto r = followDeployment(ctx, *id, options, ctx.out); !r) return r;
  if (options.maxLines == 0) ctx.out << "Deployment " << *id << " finished" << std::endl;
  return success();
}

Result<void> deploymentRollback(Context& ctx, const Args& args) {
  auto id = positional(args, 0, "DEPLOYMENT_ID");
  if (!id) return id.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto reply = ctx.exchange("DELETE", "/v2/deployments/" + *id, "");
  if (!reply) return reply.error();
  return reportChange(ctx, args, *reply);
}

Result<void> deploymentStop(Context& ctx, const Args& args) {
  auto id = positional(args, 0, "DEPLOYMENT_ID");
  if (!id) return id.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto reply = ctx.exchange("DELETE", "/v2/deployments/" + *id + "?force=true", "");
  if (!reply) return reply.error();
  ctx.out << "Stopped deployment " << *id << std::endl;
  return success();
}

// ---- task ----

Result<void> taskList(Context& ctx, const Args& args) {
  if (auto r = atMostPositionals(args, 1); !r) return r;
  std::string path = args.positional.empty() ? "/v2/tasks" : "/v2/apps" + normalizeId(args.positional[0]) + "/tasks";
  auto body = ctx.get(path);
  if (!body) return body.error();
  Json tasks = body->value("tasks", Json::array());
  if (args.has("json")) {
    ctx.printJson(tasks);
    return success();
  }
  Table table({"APP", "HEALTHY", "STARTED", "HOST", "ID"});
  for (const auto& t : tasks) {
    std::string healthy = "-";
    const Json results = t.value("healthCheckResults", Json::array());
    if (results.is_array() && !results.empty()) {
      bool alive = std::all_of(results.begin(), results.end(), [](const Json& h) { return h.value("alive", false); });
      healthy = alive ? "True" : "False";
    }
    std::string started = textOf(t, "startedAt");
    table.add({textOf(t, "appId"), healthy, started.empty() ? "-" : started, textOf(t, "host"), textOf(t, "id")});
  }
  table.print(ctx.out);
  return success();
}

Result<void> taskKill(Context& ctx, const Args& args) {
  if (auto id = positional(args, 0, "TASK_ID"); !id) return id.error();
  std::string query;
  if (args.has("scale")) query += "scale=true";
  if (args.has("wipe")) query += std::string(query.empty() ? "" : "&") + "wipe=true";
  Json body = {{"ids", args.positional}};
  auto reply = ctx.exchange("POST", "/v2/tasks/delete" + (query.empty() ? "" : "?" + query), body.dump());
  if (!reply) return reply.error();
  if (args.has("scale")) return reportChange(ctx, args, *reply);
  Json killed = reply->body.value("tasks", Json::array());
  if (killed.empty()) return Error(ErrorCode::kNotFound, "no such task: " + Json(args.positional).dump());
  for (const auto& t : killed) ctx.out << "Killed task " << textOf(t, "id") << std::endl;
  return success();
}

// ---- group ----

Result<void> groupAdd(Context& ctx, const Args& args) {
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto group = readJsonInput(args.positional.empty() ? "-" : args.positional[0]);
  if (!group) return group.error();
  auto reply = ctx.exchange("POST", "/v2/groups" + forceQuery(args), group->dump());
  if (!reply) return reply.error();
  return reportChange(ctx, args, *reply);
}

void addGroupRows(Table& table, const Json& group) {
  if (textOf(group, "id") != "/") {
    table.add({textOf(group, "id"), std::to_string(group.value("apps", Json::array()).size())});
  }
  for (const auto& child : group.value("groups", Json::array())) addGroupRows(table, child);
}

Result<void> groupList(Context& ctx, const Args& args) {
  if (auto r = atMostPositionals(args, 0); !r) return r;
  auto root = ctx.get("/v2/groups");
  if (!root) return root.error();
  if (args.has("json")) {
    ctx.printJson(*root);
    return success();
  }
  Table table({"ID", "APPS"});
  addGroupRows(table, *root);
  table.print(ctx.out);
  return success();
}

Result<void> groupShow(Context& ctx, const Args& args) {
  auto id = positional(args, 0, "GROUP_ID");
  if (!id) return id.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto group = ctx.get("/v2/groups" + normalizeId(*id));
  if (!group) return group.error();
  ctx.printJson(*group);
  return success();
}

Result<void> groupRemove(Context& ctx, const Args& args) {
  auto id = positional(args, 0, "GROUP_ID");
  if (!id) return id.error();
  if (auto r = atMostPositionals(args, 1); !r) return r;
  auto reply = ctx.exchange("DELETE", "/v2/groups" + normalizeId(*id) + forceQuery(args), "");
  if (!reply) return reply.error();
  return reportChange(ctx, args, *reply);
}

}  // namespace
}  // namespace marathon

void addMarathonCommands(std::vector<Command>& commands) {
  using namespace marathon;
  addAppCommands(commands);
  auto add = [&](std::vector<std::string> path, std::string usage, std::string summary, std::vector<std::string> flags,
                 std::function<Result<void>(Context&, const Args&)> run) {
    addCommand(commands, std::move(path), std::move(usage), std::move(summary), std::move(flags), std::move(run));
  };
  add({"marathon", "deployment", "list"}, "dcos marathon deployment list [--json] [APP_ID]",
      "List the deployments in progress (of one app)", {"json"}, deploymentList);
  add({"marathon", "deployment", "watch"}, "dcos marathon deployment watch [--max-count=N] [--interval=SECONDS] DEPLOYMENT_ID",
      "Print a deployment's progress as it changes until it is done", {"max-count=", "interval="}, deploymentWatch);
  add({"marathon", "deployment", "rollback"}, "dcos marathon deployment rollback [--wait] [--timeout=SECONDS] DEPLOYMENT_ID",
      "Cancel a deployment and restore the previous definitions", kWaitFlags, deploymentRollback);
  add({"marathon", "deployment", "stop"}, "dcos marathon deployment stop DEPLOYMENT_ID",
      "Cancel a deployment, leaving its apps as they are", {}, deploymentStop);
  add({"marathon", "task", "list"}, "dcos marathon task list [--json] [APP_ID]",
      "List the tasks of the apps (of one app)", {"json"}, taskList);
  add({"marathon", "task", "kill"}, "dcos marathon task kill [--scale] [--wipe] [--wait] TASK_ID...",
      "Kill tasks (--scale: and lower their apps' instances)", withWait({"scale", "wipe"}), taskKill);
  add({"marathon", "group", "add"}, "dcos marathon group add [--force] [--wait] [--timeout=SECONDS] [FILE|-]",
      "Create a group from a JSON definition (a file or stdin)", withWait({"force"}), groupAdd);
  add({"marathon", "group", "list"}, "dcos marathon group list [--json]", "List the groups", {"json"}, groupList);
  add({"marathon", "group", "show"}, "dcos marathon group show [--json] GROUP_ID", "Print a group's JSON", {"json"},
      groupShow);
  add({"marathon", "group", "remove"}, "dcos marathon group remove [--force] [--wait] [--timeout=SECONDS] GROUP_ID",
      "Remove a group and every app in it", withWait({"force"}), groupRemove);
}

}  // namespace dcos::cli
