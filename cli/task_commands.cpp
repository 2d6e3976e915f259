// dcos task list|log|ls: tasks from GET /master/state, their sandbox files through the master's
// files API (GET /agent/<agent_id>/files/{read,browse}?path=...).
#include "cli/tasks.hpp"

#include <chrono>
#include <ostream>
#include <thread>

namespace dcos::cli {
namespace {

constexpr auto kFollowInterval = std::chrono::milliseconds(200);
constexpr int64_t kReadChunk = 1 << 20;  // the most one files/read answers

std::string str(const Json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<void> list(Context& ctx, const Args& args) {
  if (args.positional.size() > 1) return usageError("expected at most one FILTER (usage: dcos task list [--all] [--json] [FILTER])");
  std::string filter = args.positional.empty() ? "" : args.positional[0];
  auto tasks = clusterTasks(ctx, args.has("all"));
  if (!tasks) return tasks.error();
  if (args.has("json")) {
    Json out = Json::array();
    for (const auto& t : *tasks) {
      if (taskMatches(t.task, filter)) out.push_back(t.task);
    }
    ctx.printJson(out);
    return success();
  }
  Table table({"NAME", "HOST", "USER", "STATE", "ID", "AGENT"});
  for (const auto& t : *tasks) {
    if (!taskMatches(t.task, filter)) continue;
    std::string state = str(t.task, "state");
    if (state.rfind("TASK_", 0) == 0) state = state.substr(5);
    auto orDash = [](const std::string& v) { return v.empty() ? std::string("-") : v; };
    table.add({str(t.task, "name"), orDash(t.agentHostname), orDash(t.frameworkUser), state, str(t.task, "id"), t.agentId});
  }
  table.print(ctx.out);
  return success();
}

// One files/read: {"data", "offset"}. Without `offset` the answer's offset is the file's size.
Result<Json> readAt(Context& ctx, const TaskRef& t, const std::string& path, std::optional<int64_t> offset,
                    int64_t length) {
  std::string target = filesTarget(t.agentId, "read", path);
  target += "&offset=" + std::to_string(offset.value_or(-1));
  if (offset) target += "&length=" + std::to_string(length);
  auto reply = ctx.get(target);
  if (!reply) return reply.error();
  if (!reply->is_object() || !reply->contains("offset")) {
    return Error(ErrorCode::kIo, "the cluster answered a file read without an offset");
  }
  return reply;
}

// Where the last `lines` lines of `text` start (0 when it has fewer); a final newline does not
// start an empty line.
size_t lastLinesStart(const std::string& text, int64_t lines, bool* complete) {
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;
  size_t cut = end;
  for (int64_t found = 0; found < lines; ++found) {
    size_t nl = cut == 0 ? std::string::npos : text.rfind('\n', cut - 1);
    if (nl == std::string::npos) {
      *complete = false;
      return 0;
    }
    cut = nl;
  }
  *complete = true;
  return lines == 0 ? text.size() : cut + 1;
}

// The file's last `lines` lines, read backwards a chunk at a time; `size` is where they end.
Result<std::string> tail(Context& ctx, const TaskRef& t, const std::string& path, int64_t size, int64_t lines) {
  std::string text;
  int64_t start = size;
  while (true) {
    bool complete = false;
    size_t from = lastLinesStart(text, lines, &complete);
    if (complete || start == 0) return text.substr(from);
    int64_t chunk = std::min<int64_t>(64 * 1024, start);
    start -= chunk;
    auto piece = readAt(ctx, t, path, start, chunk);
    if (!piece) return piece.error();
    text = piece->value("data", "") + text;
  }
}

Result<void> follow(Context& ctx, const TaskRef& t, const std::string& path, int64_t offset) {
  while (true) {
    auto piece = readAt(ctx, t, path, offset, kReadChunk);
    if (!piece) return piece.error();
    std::string data = piece->value("data", "");
    int64_t at = piece->value("offset", int64_t{0});
    if (data.empty() && at < offset) {
      offset = at;  // the file shrank (truncated): go on from its new end
      continue;
    }
    if (!data.empty()) {
      ctx.out << data << std::flush;
      offset += static_cast<int64_t>(data.size());
      // More may be waiting right away when a whole chunk came back.
      if (static_cast<int64_t>(data.size()) >= kReadChunk) continue;
    }
    std::this_thread::sleep_for(kFollowInterval);
  }
}

Result<void> log(Context& ctx, const Args& args) {
  if (args.positional.empty() || args.positional.size() > 2) {
    return usageError("expected TASK [FILE] (usage: dcos task log [--follow] [--lines N] [--stderr] TASK [FILE])");
  }
  int64_t lines = 10;
  if (auto v = args.value("lines")) {
    try {
      size_t used = 0;
      lines = std::stoll(*v, &used);
      if (used != v->size() || lines < 0) throw std::invalid_argument(*v);
    } catch (const std::exception&) {
      return usageError("--lines needs a number of lines (0 or more), not '" + *v + "'");
    }
  }
  std::string file = args.has("stderr") ? "stderr" : "stdout";
  if (args.positional.size() == 2) {
    if (args.has("stderr")) return usageError("give either FILE or --stderr");
    file = args.positional[1];
  }
  auto task = resolveTask(ctx, args.positional[0]);
  if (!task) return task.error();
  auto sandbox = taskSandbox(ctx, *task);
  if (!sandbox) return sandbox.error();
  std::string path = file.front() == '/' ? file : *sandbox + "/" + file;
  auto end = readAt(ctx, *task, path, std::nullopt, 0);
  if (!end) return end.error();
  int64_t size = end->value("offset", int64_t{0});
  auto text = tail(ctx, *task, path, size, lines);
  if (!text) return text.error();
  ctx.out << *text << std::flush;
  if (!args.has("follow")) return success();
  return follow(ctx, *task, path, size);
}

Result<void> ls(Context& ctx, const Args& args) {
  if (args.positional.empty() || args.positional.size() > 2) {
    return usageError("expected TASK [PATH] (usage: dcos task ls [--long] TASK [PATH])");
  }
  auto task = resolveTask(ctx, args.positional[0]);
  if (!task) return task.error();
  auto sandbox = taskSandbox(ctx, *task);
  if (!sandbox) return sandbox.error();
  std::string path = *sandbox;
  if (args.positional.size() == 2 && !args.positional[1].empty() && args.positional[1] != ".") {
    path += "/" + args.positional[1];
  }
  auto entries = ctx.get(filesTarget(task->agentId, "browse", path));
  if (!entries) return entries.error();
  if (!entries->is_array()) return Error(ErrorCode::kIo, "the cluster answered a browse with something else than a list");
  if (!args.has("long")) {
    for (const auto& e : *entries) {
      std::string p = str(e, "path");
      ctx.out << p.substr(p.rfind('/') + 1) << "\n";
    }
    return success();
  }
  Table table({"MODE", "NLINK", "UID", "GID", "SIZE", "MTIME", "NAME"});
  for (const auto& e : *entries) {
    std::string p = str(e, "path");
    auto num = [&e](const char* f) { return e.contains(f) && e[f].is_number() ? e[f].dump() : str(e, f); };
    table.add({str(e, "mode"), num("nlink"), num("uid"), num("gid"), num("size"),
               formatTime(e.value("mtime", 0.0)), p.substr(p.rfind('/') + 1)});
  }
  table.print(ctx.out);
  return success();
}

}  // namespace

void addTaskCommands(std::vector<Command>& commands) {
  commands.push_back({{"task", "list"}, "dcos task list [--all] [--json] [FILTER]",
                      "List the running tasks (--all: finished ones too) whose ID or name contains FILTER or matches it as a glob",
                      {"all", "json"}, list});
  commands.push_back({{"task", "log"}, "dcos task log [--follow] [--lines N] [--stderr] TASK [FILE]",
                      "Print the last N (10) lines of a task's stdout (--stderr, or FILE in its sandbox); --follow "
                      "then prints new lines as they come until interrupted",
                      {"follow", "lines=", "stderr"}, log});
  commands.push_back({{"task", "ls"}, "dcos task ls [--long] TASK [PATH]",
                      "List the files of a task's sandbox (or of PATH in it)", {"long"}, ls});
}

}  // namespace dcos::cli
