#include "common/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>

namespace dcos::log {
namespace {

std::atomic<int> gLevel{static_cast<int>(Level::kInfo)};
std::atomic<bool> gJson{false};

std::shared_ptr<spdlog::logger> sharedLogger() {
  // One spdlog logger writing to stderr; component names go in the message pattern by hand so
  // every component shares one sink and one lock.
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto l = std::make_shared<spdlog::logger>("dcos", sink);
    l->set_level(spdlog::level::trace);
    l->set_pattern("%v");
    return l;
  }();
  return logger;
}

spdlog::level::level_enum toSpd(Level level) {
  return static_cast<spdlog::level::level_enum>(static_cast<int>(level));
}

const char* levelName(Level level) {
  static const char* names[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  return names[static_cast<int>(level)];
}

std::string jsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  return out;
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms % 1000));
}

}  // namespace

bool parseLevel(std::string_view text, Level* out) {
  std::string t(text);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  static const std::pair<const char*, Level> table[] = {
      {"trace", Level::kTrace}, {"debug", Level::kDebug}, {"info", Level::kInfo},
      {"warn", Level::kWarn},   {"warning", Level::kWarn}, {"error", Level::kError},
      {"critical", Level::kCritical}, {"off", Level::kOff}};
  for (const auto& [name, level] : table) {
    if (t == name) {
      *out = level;
      return true;
    }
  }
  return false;
}

void configure(Level level, bool json) {
  gLevel = static_cast<int>(level);
  gJson = json;
}

Logger::Logger(std::string name) : name_(std::move(name)) {}

bool Logger::enabled(Level level) const {
  return level != Level::kOff && static_cast<int>(level) >= gLevel.load(std::memory_order_relaxed);
}

void Logger::write(Level level, std::string_view message) const {
  std::string line;
  if (gJson) {
    line = fmt::format(R"({{"time":"{}","level":"{}","logger":"{}","message":"{}"}})", timestamp(),
                       levelName(level), jsonEscape(name_), jsonEscape(message));
  } else {
    line = fmt::format("{} {:<5} [{}] {}", timestamp(), levelName(level), name_, message);
  }
  sharedLogger()->log(toSpd(level), line);
}

const Logger& get(std::string_view component) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Logger>, std::less<>> loggers;
  std::lock_guard lock(mu);
  auto it = loggers.find(component);
  if (it == loggers.end()) {
    it = loggers.emplace(std::string(component), std::make_unique<Logger>(std::string(component))).first;
  }
  return *it->second;
}

}  // namespace dcos::log
