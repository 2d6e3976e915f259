#include "kernel/agent/task_spec.hpp"

#include "kernel/executor/health_check.hpp"
#include "kernel/master/protocol.hpp"
#include "kernel/resources/resources.hpp"

#include <sys/resource.h>

#include <cctype>
#include <map>
#include <set>
#include <string_view>

namespace dcos::kernel {
namespace {

Result<void> checkContainer(const Json& task) {
  auto it = task.find("container");
  if (it == task.end() || it->is_null()) return success();
  std::string type = it->value("type", "MESOS");
  if (type != "MESOS") {
    return Error(ErrorCode::kUnprocessable,
                 "container type " + type + " is not supported by this agent (only MESOS without an image)");
  }
  auto mesos = it->find("mesos");
  if (mesos != it->end() && mesos->is_object() && mesos->contains("image")) {
    return Error(ErrorCode::kUnprocessable, "container images are not supported by this agent yet");
  }
  return success();
}

// Mesos' RLimitInfo: {"rlimits": [{"type": "RLMT_NOFILE", "soft": 1024, "hard": 4096}]}; soft
// and hard are both given or both left out (unlimited).
Result<std::vector<SpawnLimit>> parseRlimits(const Json& task) {
  static const std::map<std::string, int> kTypes = {
      {"RLMT_AS", RLIMIT_AS},           {"RLMT_CORE", RLIMIT_CORE},       {"RLMT_CPU", RLIMIT_CPU},
      {"RLMT_DATA", RLIMIT_DATA},       {"RLMT_FSIZE", RLIMIT_FSIZE},     {"RLMT_LOCKS", RLIMIT_LOCKS},
      {"RLMT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLMT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLMT_NICE", RLIMIT_NICE},
      {"RLMT_NOFILE", RLIMIT_NOFILE},   {"RLMT_NPROC", RLIMIT_NPROC},     {"RLMT_RSS", RLIMIT_RSS},
      {"RLMT_RTPRIO", RLIMIT_RTPRIO},   {"RLMT_RTTIME", RLIMIT_RTTIME},   {"RLMT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLMT_STACK", RLIMIT_STACK}};
  std::vector<SpawnLimit> out;
  Json list = task.value("/container/rlimit_info/rlimits"_json_pointer, Json::array());
  if (!list.is_array()) return Error(ErrorCode::kInvalidArgument, "container.rlimit_info.rlimits: must be an array");
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& r = list[i];
    std::string at = "container.rlimit_info.rlimits[" + std::to_string(i) + "]";
    auto type = r.is_object() ? kTypes.find(r.value("type", "")) : kTypes.end();
    if (type == kTypes.end()) return Error(ErrorCode::kInvalidArgument, at + ".type: unknown rlimit type");
    bool soft = r.contains("soft"), hard = r.contains("hard");
    if (soft != hard) return Error(ErrorCode::kInvalidArgument, at + ": soft and hard must be set together");
    SpawnLimit limit{type->second, RLIM_INFINITY, RLIM_INFINITY};
    if (soft) {
      limit.soft = r["soft"].get<unsigned long long>();
      limit.hard = r["hard"].get<unsigned long long>();
      if (limit.soft > limit.hard) return Error(ErrorCode::kInvalidArgument, at + ": soft must not exceed hard");
    }
    out.push_back(limit);
  }
  return out;
}

// Named discovery ports: the port number given there, else the task's port at the same index.
void addNamedPorts(const Json& task, const std::vector<uint64_t>& ports, std::map<std::string, std::string>& env) {
  auto d = task.find("discovery");
  if (d == task.end() || !d->is_object()) return;
  auto list = d->value("/ports/ports"_json_pointer, Json::array());
  if (!list.is_array()) return;
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& p = list[i];
    if (!p.is_object() || !p.contains("name") || !p["name"].is_string()) continue;
    std::string name = p["name"].get<std::string>();
    if (name.empty()) continue;
    if (p.contains("number") && p["number"].is_number_unsigned()) {
      env[portVariableName(name)] = std::to_string(p["number"].get<uint64_t>());
    } else if (i < ports.size()) {
      env[portVariableName(name)] = std::to_string(ports[i]);
    }
  }
}

// Shell reserved words and special/regular builtins (POSIX, plus common bash/dash ones): a command
// line starting with one of these changes or depends on the shell itself, so it stays under sh.
bool isShellWord(const std::string& w) {
  static const std::set<std::string> kWords = {
      "!",        "{",       "}",       ".",       ":",        "[",       "[[",      "]]",     "alias",
      "bg",       "bind",    "break",   "builtin", "caller",   "case",    "cd",      "command", "compgen",
      "complete", "continue", "declare", "dirs",   "disown",   "do",      "done",    "echo",    "elif",
      "else",     "enable",  "esac",    "eval",    "exec",     "exit",    "export",  "false",   "fc",
      "fg",       "fi",      "for",     "function", "getopts", "hash",    "help",    "history", "if",
      "in",       "jobs",    "kill",    "let",     "local",    "logout",  "popd",    "printf",  "pushd",
      "pwd",      "read",    "readonly", "return", "select",   "set",     "shift",   "shopt",   "source",
      "suspend",  "test",    "then",    "time",    "times",    "trap",    "true",    "type",    "typeset",
      "ulimit",   "umask",   "unalias", "unset",   "until",    "wait",    "while"};
  return kWords.count(w) > 0;
}

}  // namespace

std::optional<std::vector<std::string>> plainCommandWords(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  for (char c : line) {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
      continue;
    }
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 std::string_view("-_./:=,+%@").find(c) != std::string_view::npos;
    if (!plain) return std::nullopt;
    word += c;
  }
  if (!word.empty()) words.push_back(std::move(word));
  if (words.empty() || isShellWord(words[0])) return std::nullopt;
  // `NAME=value cmd` is an assignment, not a program ('=' elsewhere in the first word is fine,
  // but be conservative: any '=' in the first word keeps the shell).
  if (words[0].find('=') != std::string::npos) return std::nullopt;
  if (words[0][0] == '%') return std::nullopt;  // a job spec in shells with job control

  return words;
}

std::vector<uint64_t> taskPorts(const Json& task) {
  std::vector<uint64_t> ports;
  auto resources = task.find("resources");
  if (resources == task.end() || !resources->is_array()) return ports;
  for (const auto& r : *resources) {
    if (!r.is_object() || r.value("name", "") != "ports") continue;
    auto list = r.value("/ranges/range"_json_pointer, Json::array());
    for (const auto& range : list) {
      if (!range.is_object() || !range.contains("begin") || !range["begin"].is_number_unsigned()) continue;
      uint64_t begin = range["begin"].get<uint64_t>();
      uint64_t end = range.contains("end") && range["end"].is_number_unsigned() ? range["end"].get<uint64_t>() : begin;
      for (uint64_t p = begin; p <= end && ports.size() < 65536; ++p) ports.push_back(p);
    }
  }
  return ports;
}

std::string portVariableName(const std::string& name) {
  std::string out = "PORT_";
  for (unsigned char c : name) {
    char u = static_cast<char>(std::toupper(c));
    out += (std::isalnum(static_cast<unsigned char>(u)) || u == '_') && c < 128 ? u : '_';
  }
  return out;
}

Duration gracePeriod(const Json& killPolicy, Duration fallback) {
  if (!killPolicy.is_object()) return fallback;
  auto grace = killPolicy.find("grace_period");
  if (grace == killPolicy.end() || !grace->is_object()) return fallback;
  auto nanos = grace->value("nanoseconds", Json());
  if (nanos.is_number_integer() && nanos.get<int64_t>() >= 0) return Duration(nanos.get<int64_t>());
  if (nanos.is_string()) {
    try {
      int64_t n = std::stoll(nanos.get<std::string>());
      if (n >= 0) return Duration(n);
    } catch (const std::exception&) {
    }
  }
  return fallback;
}

namespace {

Result<LaunchSpec> buildUnchecked(const Json& task, const TaskPlacement& placement) {
  if (auto ok = checkContainer(task); !ok) return ok.error();
  auto command = task.find("command");
  if (command == task.end() || !command->is_object()) {
    return Error(ErrorCode::kInvalidArgument, "the task has no command (executors are not supported yet)");
  }
  std::string value = command->value("value", "");
  bool shell = command->value("shell", true);
  if (value.empty()) return Error(ErrorCode::kInvalidArgument, "the task's command has no value");

  LaunchSpec spec;
  spec.containerId = placement.containerId;
  spec.sandbox = placement.sandbox;
  if (auto words = shell ? plainCommandWords(value) : std::nullopt) {
    spec.program = (*words)[0];
    spec.argv = std::move(*words);
  } else if (shell) {
    spec.program = "/bin/sh";
    spec.argv = {"sh", "-c", value};
  } else {
    spec.program = value;
    auto args = command->value("arguments", Json::array());
    for (const auto& a : args) spec.argv.push_back(a.is_string() ? a.get<std::string>() : a.dump());
    if (spec.argv.empty()) spec.argv.push_back(value);
  }

  std::string taskId = idValue(task, "task_id");
  std::map<std::string, std::string> env;
  env["PATH"] = placement.path.empty() ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" : placement.path;
  if (!placement.lang.empty()) env["LANG"] = placement.lang;
  env["MESOS_SANDBOX"] = placement.sandbox;
  env["MESOS_TASK_ID"] = taskId;
  env["MESOS_AGENT_ID"] = placement.agentId;
  env["MESOS_FRAMEWORK_ID"] = placement.frameworkId;
  env["MESOS_EXECUTOR_ID"] = taskId;
  env["HOST"] = placement.hostname;
  auto ports = taskPorts(task);
  std::string all;
  for (size_t i = 0; i < ports.size(); ++i) {
    env["PORT" + std::to_string(i)] = std::to_string(ports[i]);
    all += (i ? "," : "") + std::to_string(ports[i]);
  }
  if (!ports.empty()) {
    env["PORTS"] = all;
    env["PORT"] = std::to_string(ports[0]);
  }
  addNamedPorts(task, ports, env);
  auto vars = command->value("/environment/variables"_json_pointer, Json::array());
  for (const auto& v : vars) {
    if (!v.is_object() || !v.contains("name") || !v["name"].is_string()) continue;
    std::string name = v["name"].get<std::string>();
    if (name.empty() || name.find('=') != std::string::npos) continue;
    env[name] = v.value("value", "");
  }
  for (const auto& [k, v] : env) spec.environment.push_back(k + "=" + v);
  if (auto resources = Resources::fromJson(task.value("resources", Json::array()))) {
    spec.cpus = resources->cpus().toDouble();
    spec.memBytes = static_cast<uint64_t>(resources->mem().toDouble() * 1024 * 1024);
  }
  auto limits = parseRlimits(task);
  if (!limits) return limits.error();
  spec.limits = std::move(*limits);
  if (auto hc = task.find("health_check"); hc != task.end() && !hc->is_null()) {
    if (auto parsed = parseHealthCheck(*hc); !parsed) return parsed.error();
    spec.healthCheck = *hc;
  }
  return spec;
}

}  // namespace

Result<LaunchSpec> buildLaunchSpec(const Json& task, const TaskPlacement& placement) {
  // The master validates tasks, but a field of an unexpected JSON type must still fail the task
  // rather than escape as an exception.
  try {
    return buildUnchecked(task, placement);
  } catch (const Json::exception& e) {
    return Error(ErrorCode::kInvalidArgument, std::string("malformed task: ") + e.what());
  }
}

}  // namespace dcos::kernel
