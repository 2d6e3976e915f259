// The CLI's pure parts: argument parsing, tables, the clusters file, exit codes and the one-line
// messages made from a server's error body.
#include "cli/cli.hpp"
#include "cli/context.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <sstream>

using namespace dcos;
using namespace dcos::cli;

TEST_CASE("flags take values as --name=value or --name value, switches take none") {
  auto args = parseArgs({"web", "--lines=5", "--follow", "--app-version", "v2", "extra"}, {"lines=", "follow", "app-version="});
  REQUIRE(args.ok());
  CHECK(args->positional == std::vector<std::string>{"web", "extra"});
  CHECK(args->value("lines") == "5");
  CHECK(args->value("app-version") == "v2");
  CHECK(args->has("follow"));
  CHECK_FALSE(args->has("json"));
  CHECK_FALSE(args->value("missing").has_value());
}

TEST_CASE("\"--\" ends the flags and \"-\" is a positional argument") {
  auto args = parseArgs({"-", "--", "--json", "-x"}, {"json"});
  REQUIRE(args.ok());
  CHECK(args->positional == std::vector<std::string>{"-", "--json", "-x"});
  CHECK_FALSE(args->has("json"));
}

TEST_CASE("unknown flags, missing values and values for switches are usage errors") {
  for (const auto& words : std::vector<std::vector<std::string>>{{"--bogus"}, {"--lines"}, {"--json=yes"}, {"-x"}}) {
    auto args = parseArgs(words, {"lines=", "json"});
    REQUIRE_FALSE(args.ok());
    CHECK(exitCodeFor(args.error()) == kExitUsage);
  }
  auto bogus = parseArgs({"--bogus"}, {});
  CHECK(bogus.error().message.find("--bogus") != std::string::npos);
}

TEST_CASE("--help and -h are accepted by every command") {
  auto args = parseArgs({"-h"}, {});
  REQUIRE(args.ok());
  CHECK(args->has("help"));
  CHECK(parseArgs({"--help"}, {})->has("help"));
}

TEST_CASE("tables align columns two spaces apart with capital headers and no trailing spaces") {
  Table table({"name", "STATE", "note"});
  table.add({"web", "RUNNING", ""});
  table.add({"database-1", "STAGING", "x"});
  CHECK(table.rows() == 2);
  std::ostringstream out;
  table.print(out);
  CHECK(out.str() ==
        "NAME        STATE    NOTE\n"
        "web         RUNNING\n"
        "database-1  STAGING  x\n");
}

TEST_CASE("the clusters file round-trips under DCOS_DIR, private to the user") {
  test::TempDir dir;
  std::map<std::string, std::string> env{{"DCOS_DIR", dir.file("config")}, {"HOME", dir.path()}};
  std::ostringstream out, err;
  Context ctx(env, out, err);
  CHECK(ctx.configDir() == dir.file("config"));
  CHECK(ctx.clusters().empty());
  auto none = ctx.cluster();
  REQUIRE_FALSE(none.ok());
  CHECK(exitCodeFor(none.error()) == kExitUnreachable);
  CHECK(none.error().message.find("dcos cluster setup") != std::string::npos);

  REQUIRE(ctx.saveClusters({{"a", "http://10.0.0.1:5050", "", false}, {"b", "http://10.0.0.2:5050", "secret", true}}).ok());
  auto clusters = ctx.clusters();
  REQUIRE(clusters.size() == 2);
  CHECK(clusters[0].name == "a");
  CHECK(clusters[1].token == "secret");
  CHECK(clusters[1].attached);
  CHECK(ctx.cluster()->name == "b");
  struct stat st {};
  REQUIRE(::stat(dir.file("config/clusters.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(test::readFile(dir.file("config/clusters.json")).find("\"clusters\"") != std::string::npos);
}

TEST_CASE("DCOS_URL and DCOS_CLUSTER override the attached cluster") {
  test::TempDir dir;
  std::map<std::string, std::string> env{{"DCOS_DIR", dir.path()}};
  std::ostringstream out, err;
  Context ctx(env, out, err);
  REQUIRE(ctx.saveClusters({{"a", "http://10.0.0.1:5050", "ta", true}, {"b", "http://10.0.0.2:5050", "", false}}).ok());
  env["DCOS_CLUSTER"] = "b";
  CHECK(ctx.cluster()->url == "http://10.0.0.2:5050");
  env["DCOS_CLUSTER"] = "nope";
  CHECK(exitCodeFor(ctx.cluster().error()) == kExitUnreachable);
  env["DCOS_URL"] = "http://10.0.0.1:5050/";
  CHECK(ctx.cluster()->url == "http://10.0.0.1:5050");
  CHECK(ctx.cluster()->token == "ta");
}

TEST_CASE("exit codes: usage 2, unreachable 3, everything else 1") {
  CHECK(exitCodeFor(usageError("bad")) == kExitUsage);
  CHECK(exitCodeFor(Error(ErrorCode::kUnavailable, "down")) == kExitUnreachable);
  CHECK(exitCodeFor(Error(ErrorCode::kTimeout, "slow")) == kExitUnreachable);
  CHECK(exitCodeFor(Error(ErrorCode::kInvalidArgument, "bad app file")) == kExitRefused);
  CHECK(exitCodeFor(Error(ErrorCode::kNotFound, "no such app")) == kExitRefused);
  // A server answering 503 refused the request: it was reached.
  CHECK(exitCodeFor(serverError(503, R"({"message":"not ready"})")) == kExitRefused);
  CHECK(exitCodeFor(serverError(504, "")) == kExitRefused);
}

TEST_CASE("a Marathon 422 body becomes one line with the field paths") {
  std::string body = R"({"message":"Object is not valid","details":[
      {"path":"/cpus","errors":["must be greater than or equal to 0"]},
      {"path":"/id","errors":["must be fully qualified","must not be empty"]}]})";
  Error e = serverError(422, body);
  CHECK(e.message ==
        "Object is not valid (/cpus: must be greater than or equal to 0; /id: must be fully qualified; /id: must not be empty)");
  CHECK(e.message.find('\n') == std::string::npos);
  CHECK(exitCodeFor(e) == kExitRefused);
}

TEST_CASE("a body that is not JSON still gives a readable message") {
  CHECK(serverError(500, "boom\nstack").message == "HTTP 500: boom");
  CHECK(serverError(404, "").message == "HTTP 404");
  CHECK(serverError(404, R"({"message":"App '/x' does not exist"})").message == "App '/x' does not exist");
}

TEST_CASE("scalars print without trailing zeros and times in UTC") {
  CHECK(formatScalar(0.5) == "0.5");
  CHECK(formatScalar(128) == "128");
  CHECK(formatScalar(1.25) == "1.25");
  CHECK(formatScalar(0.1 + 0.2) == "0.3");
  CHECK(formatTime(0) == "-");
  CHECK(formatTime(1795629600) == "2026-11-25T18:00:00Z");
}

TEST_CASE("the CLI handles its nouns, not the daemon modes") {
  for (const char* noun : {"cluster", "node", "service", "task", "marathon", "help", "completion"}) CHECK(handles(noun));
  for (const char* mode : {"master", "agent", "dev", "executor", "bogus"}) CHECK_FALSE(handles(mode));
  std::ostringstream summary;
  printCommandSummary(summary);
  CHECK(summary.str().find("task") != std::string::npos);
}

TEST_CASE("unknown commands are usage errors") {
  CHECK(run({{"task", "bogus"}, {}}) == kExitUsage);
  CHECK(run({{"node"}, {}}) == kExitUsage);
  CHECK(run({{"help", "bogus"}, {}}) == kExitUsage);
  CHECK(run({{"completion", "zsh"}, {}}) == kExitUsage);
}
