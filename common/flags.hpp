#pragma once
// Flags for the modes (`dcos master`, `dcos agent`, `dcos dev`). Each flag has a name, a type,
// a default and a help line. Values come, in order of precedence, from the command line
// (`--work_dir=/x` or `--work_dir /x`; `--work-dir` is the same flag), from the environment
// (`DCOS_WORK_DIR`), from a config file (`--config FILE`: `name = value` lines or one JSON object)
// and from the default. Every problem is one line naming the flag, meant for exit code 2.

#include "common/clock.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dcos::flags {

enum class Type { kString, kInt, kBool, kDuration };

struct Spec {
  std::string name;
  Type type = Type::kString;
  std::string defaultValue;  // as the user would type it; empty with required=true
  std::string help;
  bool required = false;
  int64_t min = INT64_MIN;  // kInt only
  int64_t max = INT64_MAX;
  std::vector<std::string> choices;  // kString: when not empty, the only accepted values
  // Further checks: returns why the value is bad, or "" when it is fine.
  std::function<std::string(const std::string& value)> validate;
};

// Where a value came from, for `--help`-style reports and GET_FLAGS.
enum class Source { kDefault, kFile, kEnvironment, kCommandLine };

class FlagSet {
 public:
  explicit FlagSet(std::string command) : command_(std::move(command)) {}

  FlagSet& add(Spec spec);

  // Parses args (without the program and mode words). `env` is the process environment as
  // NAME=VALUE strings. Errors are kInvalidArgument with a one-line message.
  Result<void> parse(const std::vector<std::string>& args, const std::vector<std::string>& env);

  std::string getString(const std::string& name) const;
  int64_t getInt(const std::string& name) const;
  bool getBool(const std::string& name) const;
  Duration getDuration(const std::string& name) const;
  Source source(const std::string& name) const;
  // Every flag with its effective value as a string, for logs and the operator API.
  std::map<std::string, std::string> values() const;

  // The `--help` text: usage line, then each flag with its default.
  std::string help(const std::string& summary) const;
  bool helpRequested() const { return helpRequested_; }
  const std::vector<Spec>& specs() const { return specs_; }

 private:
  Result<void> set(const std::string& name, const std::string& value, Source source,
                   const std::string& origin);
  const Spec* find(const std::string& name) const;

  std::string command_;
  std::vector<Spec> specs_;
  std::map<std::string, std::string> values_;
  std::map<std::string, Source> sources_;
  bool helpRequested_ = false;
};

// "10secs", "500ms", "2mins", "1hrs", "3days", "250us", "5ns" (Mesos' spellings) and the short
// forms "10s", "2m", "1h", "3d"; a bare number is seconds.
Result<Duration> parseDuration(const std::string& text);
std::string formatDuration(Duration d);

}  // namespace dcos::flags
