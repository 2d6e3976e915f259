#pragma once
// Logging: one named logger per component ("master", "agent", "http", ...). The facade keeps
// spdlog out of every other translation unit (it costs seconds to compile each time); messages
// are formatted with fmt, which is compiled once in common/fmt.cpp.

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>

namespace dcos::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };

// Parses "trace|debug|info|warn|warning|error|critical|off" (case-insensitive).
bool parseLevel(std::string_view text, Level* out);

// Process-wide settings; call once at start-up before any logging (the defaults are info, text).
// With json=true each line is one JSON object: {"time","level","logger","message"}.
void configure(Level level, bool json);

class Logger {
 public:
  explicit Logger(std::string name);
  const std::string& name() const { return name_; }

  bool enabled(Level level) const;
  void write(Level level, std::string_view message) const;

  template <typename... Args>
  void trace(fmt::format_string<Args...> f, Args&&... args) const { emit(Level::kTrace, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void debug(fmt::format_string<Args...> f, Args&&... args) const { emit(Level::kDebug, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void info(fmt::format_string<Args...> f, Args&&... args) const { emit(Level::kInfo, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void warn(fmt::format_string<Args...> f, Args&&... args) const { emit(Level::kWarn, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void error(fmt::format_string<Args...> f, Args&&... args) const { emit(Level::kError, f, std::forward<Args>(args)...); }

 private:
  template <typename... Args>
  void emit(Level level, fmt::format_string<Args...> f, Args&&... args) const {
    if (enabled(level)) write(level, fmt::vformat(f, fmt::make_format_args(args...)));
  }
  std::string name_;
};

// The logger of a component; loggers live for the whole process.
const Logger& get(std::string_view component);

}  // namespace dcos::log
