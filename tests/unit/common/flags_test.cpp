#include "common/flags.hpp"

#include "tests/support/support.hpp"

#include <doctest/doctest.h>

using namespace dcos;
using flags::FlagSet;
using flags::Source;
using flags::Type;

namespace {

FlagSet makeFlags() {
  FlagSet f("dcos test");
  f.add({.name = "port", .type = Type::kInt, .defaultValue = "5050", .help = "port", .min = 0, .max = 65535});
  f.add({.name = "work_dir", .defaultValue = "", .help = "dir", .required = true});
  f.add({.name = "log_level", .defaultValue = "info", .help = "level", .choices = {"debug", "info", "warn"}});
  f.add({.name = "verbose", .type = Type::kBool, .defaultValue = "false", .help = "chatty"});
  f.add({.name = "timeout", .type = Type::kDuration, .defaultValue = "10secs", .help = "timeout"});
  f.add({.name = "config", .defaultValue = "", .help = "config file"});
  return f;
}

}  // namespace

TEST_CASE("precedence is flag over environment over file over default") {
  test::TempDir dir;
  test::writeFile(dir.file("flags.conf"), "# comment\nport = 7000\nlog_level = warn\ntimeout=3secs\n");
  auto f = makeFlags();
  auto r = f.parse({"--work_dir=/w", "--port", "9000", "--config=" + dir.file("flags.conf")},
                   {"DCOS_PORT=8000", "DCOS_LOG_LEVEL=debug", "PATH=/bin"});
  REQUIRE(r.ok());
  CHECK(f.getInt("port") == 9000);
  CHECK(f.source("port") == Source::kCommandLine);
  CHECK(f.getString("log_level") == "debug");
  CHECK(f.source("log_level") == Source::kEnvironment);
  CHECK(f.getDuration("timeout") == std::chrono::seconds(3));
  CHECK(f.source("timeout") == Source::kFile);
  CHECK(f.getBool("verbose") == false);
  CHECK(f.source("verbose") == Source::kDefault);
}

TEST_CASE("the config file may come from the environment and may be JSON") {
  test::TempDir dir;
  test::writeFile(dir.file("flags.json"), R"({"port": 6000, "work-dir": "/from/file", "verbose": true})");
  auto f = makeFlags();
  REQUIRE(f.parse({}, {"DCOS_CONFIG=" + dir.file("flags.json")}).ok());
  CHECK(f.getInt("port") == 6000);
  CHECK(f.getString("work_dir") == "/from/file");
  CHECK(f.getBool("verbose"));
}

TEST_CASE("hyphens and underscores name the same flag, and a bare bool flag means true") {
  auto f = makeFlags();
  REQUIRE(f.parse({"--work-dir", "/x", "--log-level=warn", "--verbose"}, {}).ok());
  CHECK(f.getString("work_dir") == "/x");
  CHECK(f.getString("log_level") == "warn");
  CHECK(f.getBool("verbose"));
}

TEST_CASE("each kind of bad input is one message naming the flag") {
  auto parseError = [](std::vector<std::string> args, std::vector<std::string> env = {}) {
    auto f = makeFlags();
    auto r = f.parse(args, env);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK(parseError({"--work_dir=/x", "--bogus=1"}).find("--bogus") != std::string::npos);
  CHECK(parseError({"--work_dir=/x", "--port=abc"}).find("--port") != std::string::npos);
  CHECK(parseError({"--work_dir=/x", "--port=70000"}).find("between 0 and 65535") != std::string::npos);
  CHECK(parseError({"--work_dir=/x", "--port=-1"}).find("--port") != std::string::npos);
  CHECK(parseError({"--work_dir=/x", "--log_level=loud"}).find("one of debug, info, warn") != std::string::npos);
  CHECK(parseError({"--work_dir=/x", "--timeout=5 fortnights"}).find("--timeout") != std::string::npos);
  CHECK(parseError({"--work_dir=/x", "--verbose=maybe"}).find("--verbose") != std::string::npos);
  CHECK(parseError({}).find("missing required flag --work_dir") != std::string::npos);
  CHECK(parseError({"--work_dir=/x", "stray"}).find("unexpected argument 'stray'") != std::string::npos);
  CHECK(parseError({"--work_dir=/x"}, {"DCOS_PORT=nope"}).find("DCOS_PORT") != std::string::npos);
  CHECK(parseError({"--work_dir=/x", "--config=/does/not/exist"}).find("/does/not/exist") != std::string::npos);
}

TEST_CASE("unknown keys in a config file are refused with the line number") {
  test::TempDir dir;
  test::writeFile(dir.file("bad.conf"), "port = 1\nnot_a_flag = 2\n");
  auto f = makeFlags();
  auto r = f.parse({"--work_dir=/x", "--config", dir.file("bad.conf")}, {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("not_a_flag") != std::string::npos);
  CHECK(r.error().message.find("line 2") != std::string::npos);
}

TEST_CASE("--help is noticed without requiring other flags") {
  auto f = makeFlags();
  REQUIRE(f.parse({"--help"}, {}).ok());
  CHECK(f.helpRequested());
  std::string help = f.help("A test mode.");
  CHECK(help.find("--port=INT") != std::string::npos);
  CHECK(help.find("(default: 5050)") != std::string::npos);
  CHECK(help.find("--work_dir=VALUE") != std::string::npos);
  CHECK(help.find("(required)") != std::string::npos);
}

TEST_CASE("durations in Mesos' spellings") {
  CHECK(*flags::parseDuration("10secs") == std::chrono::seconds(10));
  CHECK(*flags::parseDuration("500ms") == std::chrono::milliseconds(500));
  CHECK(*flags::parseDuration("2mins") == std::chrono::minutes(2));
  CHECK(*flags::parseDuration("1.5hrs") == std::chrono::minutes(90));
  CHECK(*flags::parseDuration("7days") == std::chrono::hours(168));
  CHECK(*flags::parseDuration("3") == std::chrono::seconds(3));
  CHECK_FALSE(flags::parseDuration("ms").ok());
  CHECK_FALSE(flags::parseDuration("5 parsecs").ok());
  CHECK(flags::formatDuration(std::chrono::seconds(90)) == "90secs");
  CHECK(flags::formatDuration(std::chrono::minutes(2)) == "2mins");
}

TEST_CASE("a flag's own check refuses a value with its reason") {
  FlagSet f("dcos test");
  f.add({.name = "weights", .defaultValue = "", .help = "w",
         .validate = [](const std::string& v) { return v.find('=') == std::string::npos && !v.empty() ? "expected role=weight" : ""; }});
  auto bad = f.parse({"--weights=ads"}, {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "invalid value 'ads' for --weights: expected role=weight");
  FlagSet g("dcos test");
  g.add({.name = "weights", .defaultValue = "", .help = "w",
         .validate = [](const std::string& v) { return v.find('=') == std::string::npos && !v.empty() ? "expected role=weight" : ""; }});
  CHECK(g.parse({"--weights=ads=2"}, {}).ok());
}
