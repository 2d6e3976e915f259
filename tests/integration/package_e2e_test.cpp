// Catalog packages installed for real on a `dcos dev` cluster through the CLI, running what the
// agent's Debian packages provide (installed by packaging/install-deps.sh): redis answers PONG on
// the port Marathon gave it, `package list` shows it, `uninstall` ends it.
#include "tests/support/marathon.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace dcos::test;
using nlohmann::json;

TEST_CASE("dcos package install redis: the server answers PONG on its port; list and uninstall follow it") {
  if (!haveCommand("redis-server") || !haveCommand("redis-cli")) {
    MESSAGE("SKIPPED (counted as passed): redis-server/redis-cli are not installed (packaging/install-deps.sh installs them)");
    return;
  }
  TempDir dir;
  MasterProcess dev(dir.file("dev"), {"--allocation_interval=50ms", "--resources=cpus:2;mem:2048;disk:2048;ports:[31000-31099]"},
                    "dev");
  std::map<std::string, std::string> env = {{"DCOS_URL", "http://127.0.0.1:" + std::to_string(dev.port())},
                                            {"DCOS_DIR", dir.file("cli")}};
  auto installed = runDcos({"package", "install", "redis", "--yes", "--wait", "--timeout", "60"}, env);
  INFO("install: ", installed.out, installed.err, "\nmaster log:\n", dev.process().stderrText());
  REQUIRE(installed.exitCode == 0);

  json app = mGet(dev.port(), "/v2/apps/redis").json["app"];
  REQUIRE(app.is_object());
  CHECK(app["labels"]["DCOS_PACKAGE_NAME"] == "redis");
  CHECK(app["tasksHealthy"] == app["instances"]);
  json tasks = appTasks(dev.port(), "/redis");
  REQUIRE(tasks.size() == 1);
  int port = tasks[0]["ports"][0];
  TempDir work;
  CHECK(runShell(work.path(), "redis-cli -p " + std::to_string(port) + " ping | grep -qx PONG"));

  auto listed = runDcos({"package", "list", "--json"}, env);
  CHECK(listed.exitCode == 0);
  CHECK(listed.out.find("\"redis\"") != std::string::npos);

  auto removed = runDcos({"package", "uninstall", "redis", "--yes"}, env);
  CHECK_MESSAGE(removed.exitCode == 0, removed.err);
  CHECK(waitFor([&] { return mGet(dev.port(), "/v2/apps/redis").status == 404 && allTasks(dev.port()).empty(); }, 20s));
  CHECK(waitFor([&] { return !runShell(work.path(), "redis-cli -p " + std::to_string(port) + " ping 2>/dev/null | grep -qx PONG"); }, 10s));
}

TEST_CASE("dcos package install nginx with an options file: it serves its page and health endpoint on its port") {
  if (!haveCommand("nginx")) {
    MESSAGE("SKIPPED (counted as passed): nginx is not installed (packaging/install-deps.sh installs nginx-light)");
    return;
  }
  TempDir dir;
  MasterProcess dev(dir.file("dev"), {"--allocation_interval=50ms", "--resources=cpus:2;mem:2048;disk:2048;ports:[31100-31199]"},
                    "dev");
  std::map<std::string, std::string> env = {{"DCOS_URL", "http://127.0.0.1:" + std::to_string(dev.port())},
                                            {"DCOS_DIR", dir.file("cli")}};
  writeFile(dir.file("options.json"), R"({"service": {"name": "/web/nginx"}, "nginx": {"worker_processes": 2}})");
  auto installed = runDcos({"package", "install", "nginx", "--options", dir.file("options.json"), "--yes", "--wait",
                            "--timeout", "60"}, env);
  INFO("install: ", installed.out, installed.err);
  REQUIRE(installed.exitCode == 0);
  json tasks = appTasks(dev.port(), "/web/nginx");
  REQUIRE(tasks.size() == 1);
  int port = tasks[0]["ports"][0];
  HttpReply page = httpRequest(port, "GET", "/");
  CHECK(page.status == 200);
  CHECK(page.body.find("nginx on DC/OS") != std::string::npos);
  CHECK(httpRequest(port, "GET", "/healthz").body == "ok\n");
  auto removed = runDcos({"package", "uninstall", "nginx", "--app-id", "/web/nginx", "--yes"}, env);
  CHECK_MESSAGE(removed.exitCode == 0, removed.err);
  CHECK(waitFor([&] { return allTasks(dev.port()).empty(); }, 20s));
}
