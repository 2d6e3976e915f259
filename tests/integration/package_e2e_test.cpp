// Catalog packages installed for real on a `dcos dev` cluster through the CLI: redis and nginx
// run what the agent's Debian packages provide (installed by packaging/install-deps.sh); kafka is
// fetched from a mirror the test serves (a tarball with the upstream layout).
#include "tests/support/local_server.hpp"
#include "tests/support/marathon.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>

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

TEST_CASE("dcos package install kafka from a mirror: the artifact is fetched and extracted and the start command runs; "
          "a missing artifact fails the task naming the URI") {
  TempDir dir;
  // A tarball with the upstream layout whose scripts stand in for Kafka: kafka-storage.sh
  // succeeds, kafka-server-start.sh records its argument and listens on the task's port.
  std::string root = dir.file("fixture/kafka_2.13-3.9.1/bin");
  std::filesystem::create_directories(root);
  writeFile(root + "/kafka-storage.sh", "#!/bin/sh\necho formatted >> \"$MESOS_SANDBOX/storage.log\"\n");
  writeFile(root + "/kafka-server-start.sh", "#!/bin/sh\necho \"started with $1\" > " + dir.file("started-$MESOS_TASK_ID") +
                                                 "\nexec python3 -m http.server \"$PORT0\" --bind 127.0.0.1\n");
  REQUIRE(runShell(dir.file("fixture"), "chmod +x kafka_2.13-3.9.1/bin/*.sh && tar czf kafka.tgz kafka_2.13-3.9.1"));
  std::string tarball = readFile(dir.file("fixture/kafka.tgz"));
  LocalServer mirror;
  std::atomic<int> downloads{0};
  mirror.router.route("GET", "/mirror/kafka/3.9.1/kafka_2.13-3.9.1.tgz", [&](const dcos::http::Request&) {
    ++downloads;
    return dcos::http::Response::text(200, tarball, "application/gzip");
  });
  mirror.start();

  MasterProcess dev(dir.file("dev"), {"--allocation_interval=50ms", "--resources=cpus:4;mem:8192;disk:8192;ports:[31200-31299]"},
                    "dev");
  std::map<std::string, std::string> env = {{"DCOS_URL", "http://127.0.0.1:" + std::to_string(dev.port())},
                                            {"DCOS_DIR", dir.file("cli")}};
  json options = {{"artifact_base_url", mirror.url("/mirror")},
                  {"controller", {{"port", 31250}, {"mem", 256}, {"heap_mb", 128}}},
                  {"brokers", {{"count", 1}, {"mem", 256}, {"heap_mb", 128}}},
                  {"java", {{"java_home", "/usr"}}}};
  writeFile(dir.file("kafka.json"), options.dump());
  // (Kafka's health checks take their time; running tasks whose start command ran is the point.)
  auto installed = runDcos({"package", "install", "kafka", "--options", dir.file("kafka.json"), "--yes"}, env);
  INFO("install: ", installed.out, installed.err);
  REQUIRE(installed.exitCode == 0);
  json tasks;
  auto started = [&] {
    tasks = allTasks(dev.port());
    if (tasks.size() != 2 || countRunning(tasks) != 2) return false;  // the controller and one broker
    for (const auto& t : tasks) {
      if (readFile(dir.file("started-" + jstr(t, "id"))) != "started with server.properties\n") return false;
    }
    return true;
  };
  CHECK_MESSAGE(waitFor(started, 60s), tasks.dump(), "\nmaster log:\n", dev.process().stderrText());
  CHECK(downloads >= 1);

  // The same package from a mirror that lacks the artifact: the task fails, and says which URI.
  json missing = options;
  missing["artifact_base_url"] = mirror.url("/nowhere");
  missing["controller"]["port"] = 31251;
  writeFile(dir.file("missing.json"), missing.dump());
  auto failing = runDcos({"package", "install", "kafka", "--app-id", "/kafka-missing", "--options", dir.file("missing.json"),
                          "--yes"}, env);
  REQUIRE_MESSAGE(failing.exitCode == 0, failing.err);
  std::string uri = mirror.url("/nowhere/kafka/3.9.1/kafka_2.13-3.9.1.tgz");
  CHECK_MESSAGE(waitFor([&] {
    auto app = mGet(dev.port(), "/v2/apps/kafka-missing/controller").json;
    return app.is_object() && jstr(app["app"]["lastTaskFailure"], "message").find(uri) != std::string::npos;
  }, 30s), mGet(dev.port(), "/v2/apps/kafka-missing/controller").text());
}

TEST_CASE("dcos package install zookeeper: a standalone server from the agent's Debian package answers 'ruok'") {
  if (!haveCommand("java") || !std::filesystem::exists("/usr/share/java/zookeeper.jar")) {
    MESSAGE("SKIPPED (counted as passed): Debian's zookeeper package is not installed (packaging/install-deps.sh installs it)");
    return;
  }
  TempDir dir;
  MasterProcess dev(dir.file("dev"), {"--allocation_interval=50ms", "--resources=cpus:2;mem:2048;disk:2048;ports:[31300-31399]"},
                    "dev");
  std::map<std::string, std::string> env = {{"DCOS_URL", "http://127.0.0.1:" + std::to_string(dev.port())},
                                            {"DCOS_DIR", dir.file("cli")}};
  auto installed = runDcos({"package", "install", "zookeeper", "--yes"}, env);
  INFO("install: ", installed.out, installed.err);
  REQUIRE(installed.exitCode == 0);
  int port = 0;
  std::string answer;
  CHECK_MESSAGE(waitFor([&] {
    json tasks = appTasks(dev.port(), "/zookeeper");
    if (tasks.size() != 1 || !taskRunning(tasks[0])) return false;
    port = tasks[0]["ports"][0];
    try {
      answer = rawExchange(port, "ruok", 2s);  // ZooKeeper's four-letter word
    } catch (const std::exception& e) {
      answer = e.what();  // not listening yet
    }
    return answer == "imok";
  }, 60s), "answer: '", answer, "'\nmaster log:\n", dev.process().stderrText());
  auto removed = runDcos({"package", "uninstall", "zookeeper", "--yes"}, env);
  CHECK_MESSAGE(removed.exitCode == 0, removed.err);
  CHECK(waitFor([&] { return allTasks(dev.port()).empty(); }, 20s));
}
