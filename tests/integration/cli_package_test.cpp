// The `dcos package ...` commands against a real `dcos dev` cluster serving the built-in catalog:
// search, describe (--config, --render with an options file), install (the confirmation on stdin,
// --wait returning only when the app is healthy), list, uninstall and the repositories; and the
// exit code and one-line message of a bad options file or a bad repository URL.
#include "tests/support/cluster.hpp"
#include "tests/support/marathon.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "tests/support/cli_dev.hpp"
#include "tests/support/cli_output.hpp"

using namespace dcos::test;
using nlohmann::json;

namespace {

using Dev = CliDev;

const std::map<std::string, std::string>* findRow(const std::vector<std::map<std::string, std::string>>& rows,
                                                  const std::string& name) {
  for (const auto& r : rows) {
    if (r.count("NAME") && r.at("NAME") == name) return &r;
  }
  return nullptr;
}


}  // namespace

TEST_CASE("package search lists the built-in catalog as a table and as JSON") {
  Dev dev;
  auto r = dev.dcos({"package", "search"});
  REQUIRE(r.exitCode == 0);
  CHECK(r.out.rfind("NAME  ", 0) == 0);
  auto rows = parseTable(r.out);
  for (const char* name : {"spark", "kafka", "cassandra", "hdfs", "redis", "nginx", "zookeeper", "hello-world"}) {
    CHECK_MESSAGE(findRow(rows, name), name);
  }
  const auto* hello = findRow(rows, "hello-world");
  REQUIRE(hello);
  CHECK(hello->at("VERSION") == "1.0.0");
  CHECK(hello->at("SELECTED") == "True");
  CHECK(hello->at("FRAMEWORK") == "False");
  CHECK(hello->at("DESCRIPTION").rfind("A minimal web service", 0) == 0);

  r = dev.dcos({"package", "search", "hello*", "--json"});
  REQUIRE(r.exitCode == 0);
  json found = json::parse(r.out);
  REQUIRE(found["packages"].is_array());
  REQUIRE(found["packages"].size() == 1);
  CHECK(found["packages"][0]["name"] == "hello-world");
  CHECK(found["packages"][0]["currentVersion"] == "1.0.0");

  r = dev.dcos({"package", "search", "no-such-package-anywhere"});
  REQUIRE(r.exitCode == 0);
  CHECK(parseTable(r.out).empty());
}

TEST_CASE("package describe prints the package, its options schema, its versions and the rendered app") {
  Dev dev;
  auto r = dev.dcos({"package", "describe", "hello-world"});
  REQUIRE(r.exitCode == 0);
  json package = json::parse(r.out);
  CHECK(package["name"] == "hello-world");
  CHECK(package["version"] == "1.0.0");

  r = dev.dcos({"package", "describe", "hello-world", "--config"});
  REQUIRE(r.exitCode == 0);
  json schema = json::parse(r.out);
  CHECK(schema["properties"]["greeting"]["default"] == "Hello from DC/OS!");

  r = dev.dcos({"package", "describe", "hello-world", "--package-versions"});
  REQUIRE(r.exitCode == 0);
  CHECK(json::parse(r.out) == json::array({"1.0.0"}));

  std::string options = dev.file("options.json", R"({"greeting": "Bonjour", "service": {"name": "hi", "instances": 2}})");
  r = dev.dcos({"package", "describe", "hello-world", "--render", "--options", options});
  REQUIRE(r.exitCode == 0);
  json app = json::parse(r.out);
  CHECK(app["id"] == "/hi");
  CHECK(app["instances"] == 2);
  CHECK(app["env"]["GREETING"] == "Bonjour");

  r = dev.dcos({"package", "describe", "no-such-package"});
  CHECK(r.exitCode == 1);
  CHECK(lineCount(r.err) == 1);
  CHECK(r.err.find("no-such-package") != std::string::npos);
}

TEST_CASE("package install --yes --wait returns when healthy; list shows it; uninstall removes it") {
  Dev dev;
  std::string options = dev.file("options.json", R"({"greeting": "Hello from the test"})");
  auto r = dev.dcosWithInput({"package", "install", "hello-world", "--yes", "--wait", "--options", options}, "", 120s);
  INFO("stdout: ", r.out, "\nstderr: ", r.err);
  REQUIRE(r.exitCode == 0);
  json app = dev.app("/hello-world");  // right after the command: no waiting here
  CHECK(app.value("instances", -1) == 1);
  CHECK(app.value("tasksHealthy", -1) == app.value("instances", -2));
  CHECK(app["env"]["GREETING"] == "Hello from the test");
  CHECK(app["labels"]["DCOS_PACKAGE_NAME"] == "hello-world");
  CHECK(r.out.find("hello-world runs `python3 -m http.server`") != std::string::npos);  // pre-install notes
  CHECK(r.out.find("Installed Marathon app for package [hello-world] version [1.0.0]") != std::string::npos);
  CHECK(r.out.find("hello-world is starting.") != std::string::npos);  // post-install notes
  CHECK(r.out.find("Continue installing?") == std::string::npos);

  r = dev.dcos({"package", "list"});
  REQUIRE(r.exitCode == 0);
  auto rows = parseTable(r.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["NAME"] == "hello-world");
  CHECK(rows[0]["VERSION"] == "1.0.0");
  CHECK(rows[0]["APP"] == "/hello-world");
  r = dev.dcos({"package", "list", "--json"});
  REQUIRE(r.exitCode == 0);
  json listed = json::parse(r.out);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["name"] == "hello-world");
  CHECK(listed[0]["apps"] == json::array({"/hello-world"}));

  // A second install under the same id is refused by the cluster.
  r = dev.dcos({"package", "install", "hello-world", "--yes"});
  CHECK(r.exitCode == 1);
  CHECK(lineCount(r.err) == 1);

  r = dev.dcos({"package", "uninstall", "hello-world", "--yes"});
  REQUIRE(r.exitCode == 0);
  CHECK(r.out.find("Uninstalled package [hello-world] version [1.0.0]") != std::string::npos);
  CHECK(waitFor([&] { return mGet(dev.port(), "/v2/apps/hello-world").status == 404; }, 30s));
  r = dev.dcos({"package", "list"});
  REQUIRE(r.exitCode == 0);
  CHECK(parseTable(r.out).empty());
}

TEST_CASE("package install asks first: no, or no answer at all, installs nothing") {
  Dev dev;
  for (const std::string& input : {std::string("no\n"), std::string()}) {
    auto r = dev.dcosWithInput({"package", "install", "hello-world"}, input);
    INFO("input: '", input, "' stdout: ", r.out, "\nstderr: ", r.err);
    CHECK(r.exitCode == 1);
    CHECK(r.out.find("hello-world runs `python3 -m http.server`") != std::string::npos);
    CHECK(r.out.find("Continue installing? [yes/no]") != std::string::npos);
    CHECK(r.err == "dcos: Installation cancelled\n");
    CHECK(mGet(dev.port(), "/v2/apps/hello-world").status == 404);
  }
  auto r = dev.dcos({"package", "list", "--json"});
  REQUIRE(r.exitCode == 0);
  CHECK(json::parse(r.out).empty());

  // A "yes" installs (without --wait the command returns once the install is accepted).
  r = dev.dcosWithInput({"package", "install", "hello-world", "--app-id", "greeter"}, "yes\n");
  INFO("stdout: ", r.out, "\nstderr: ", r.err);
  CHECK(r.exitCode == 0);
  CHECK(mGet(dev.port(), "/v2/apps/greeter").status == 200);
  r = dev.dcosWithInput({"package", "uninstall", "hello-world", "--app-id", "greeter"}, "no\n");
  CHECK(r.exitCode == 1);
  CHECK(mGet(dev.port(), "/v2/apps/greeter").status == 200);
}

TEST_CASE("a bad options file is exit 1 naming the file and where it stops; nothing is installed") {
  Dev dev;
  std::string bad = dev.file("bad.json", "{\"greeting\": \"hi\",\n  oops}");
  auto r = dev.dcos({"package", "install", "hello-world", "--yes", "--options", bad});
  CHECK(r.exitCode == 1);
  CHECK(lineCount(r.err) == 1);
  CHECK(r.err.find(bad) != std::string::npos);
  CHECK(r.err.find("line 2") != std::string::npos);
  r = dev.dcos({"package", "describe", "hello-world", "--render", "--options", bad});
  CHECK(r.exitCode == 1);
  CHECK(r.err.find(bad) != std::string::npos);
  r = dev.dcos({"package", "install", "hello-world", "--yes", "--options", dev.dir.file("missing.json")});
  CHECK(r.exitCode == 1);
  CHECK(r.err.find("missing.json") != std::string::npos);

  // Options the schema rejects: the cluster names the field; nothing is installed.
  std::string wrong = dev.file("wrong.json", R"({"service": {"instances": "many"}})");
  r = dev.dcos({"package", "install", "hello-world", "--yes", "--options", wrong});
  CHECK(r.exitCode == 1);
  CHECK(lineCount(r.err) == 1);
  CHECK(r.err.find("instances") != std::string::npos);
  CHECK(mGet(dev.port(), "/v2/apps/hello-world").status == 404);
}

TEST_CASE("package repo list shows the built-in catalog; a bad URL is refused in one line; add and remove") {
  Dev dev;
  auto r = dev.dcos({"package", "repo", "list"});
  REQUIRE(r.exitCode == 0);
  auto rows = parseTable(r.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["NAME"] == "Universe (built-in)");
  CHECK(rows[0]["URI"].rfind("builtin:", 0) == 0);
  r = dev.dcos({"package", "repo", "list", "--json"});
  REQUIRE(r.exitCode == 0);
  CHECK(json::parse(r.out)["repositories"].size() == 1);

  r = dev.dcos({"package", "repo", "add", "broken", "not a url at all"});
  CHECK(r.exitCode == 1);
  CHECK(lineCount(r.err) == 1);
  CHECK(r.err.find("not a url at all") != std::string::npos);
  r = dev.dcos({"package", "repo", "add", "broken", "http://127.0.0.1:1/repo.json"});
  CHECK(r.exitCode == 1);
  CHECK(lineCount(r.err) == 1);
  CHECK(r.err.find("http://127.0.0.1:1/repo.json") != std::string::npos);

  // A repository tree on disk: a copy of the catalog's hello-world.
  std::string tree = dev.dir.file("repo");
  const char* testsDir = std::getenv("DCOS_TESTS_DIR");
  REQUIRE(testsDir);
  REQUIRE(runShell(dev.dir.path(), "mkdir -p repo/packages/H && cp -r '" + std::string(testsDir) +
                                       "/../universe/catalog/packages/H/hello-world' repo/packages/H/"));
  r = dev.dcos({"package", "repo", "add", "local", "file://" + tree, "--index", "0"});
  REQUIRE(r.exitCode == 0);
  r = dev.dcos({"package", "repo", "list"});
  REQUIRE(r.exitCode == 0);
  rows = parseTable(r.out);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["NAME"] == "local");
  CHECK(rows[0]["URI"] == "file://" + tree);
  r = dev.dcos({"package", "repo", "remove", "local"});
  REQUIRE(r.exitCode == 0);
  r = dev.dcos({"package", "repo", "list"});
  CHECK(parseTable(r.out).size() == 1);
  r = dev.dcos({"package", "repo", "remove", "local"});
  CHECK(r.exitCode == 1);
  CHECK(lineCount(r.err) == 1);
}
