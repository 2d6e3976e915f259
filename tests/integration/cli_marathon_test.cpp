// The `dcos marathon ...` commands against a real `dcos dev` cluster: apps, deployments, tasks
// and groups; tables and --json checked against the /v2 API; `--wait` returning only when the
// deployment is done (or failing when it cannot finish, is stopped or rolled back); and the exit
// code and one-line message of each kind of failure.
#include "tests/support/cluster.hpp"
#include "tests/support/marathon.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <sstream>

#include "tests/support/cli_dev.hpp"
#include "tests/support/cli_output.hpp"

using namespace dcos::test;
using nlohmann::json;

namespace {

using Dev = CliDev;


json webApp(int instances) {
  return {{"id", "/web"},         {"cmd", "exec python3 -m http.server $PORT0 --bind 127.0.0.1"},
          {"cpus", 0.1},          {"mem", 32},
          {"instances", instances}, {"healthChecks", {httpHealthCheck("MESOS_HTTP")}}};
}

json stuckApp() {
  json app = appDef("/stuck", "exec sleep 600");
  app["constraints"] = {{"hostname", "LIKE", "nowhere"}};
  return app;
}

std::string onlyDeployment(int port) {
  auto ds = deployments(port);
  return ds.is_array() && ds.size() == 1 ? jstr(ds[0], "id") : "";
}

}  // namespace

TEST_CASE("app add --wait returns when healthy; list, update, versions and show follow the app") {
  Dev dev;
  auto r = dev.dcos({"marathon", "app", "add", dev.jsonFile("web.json", webApp(2)), "--wait"});
  REQUIRE(r.exitCode == 0);
  json app = dev.app("/web");  // right after the command: no waiting here
  CHECK(app.value("tasksHealthy", -1) == 2);
  CHECK(app.value("instances", -1) == 2);
  CHECK(r.out.find("Created deployment ") != std::string::npos);
  CHECK(r.err.find("step ") != std::string::npos);
  CHECK(deployments(dev.port()).empty());

  r = dev.dcos({"marathon", "app", "list"});
  REQUIRE(r.exitCode == 0);
  auto rows = parseTable(r.out);
  REQUIRE(rows.size() == 1);
  CHECK(r.out.rfind("ID  ", 0) == 0);
  CHECK(rows[0]["ID"] == "/web");
  CHECK(rows[0]["MEM"] == "32");
  CHECK(rows[0]["CPUS"] == "0.1");
  CHECK(rows[0]["TASKS"] == "2/2");
  CHECK(rows[0]["HEALTH"] == "2/2");
  CHECK(rows[0]["DEPLOYMENT"] == "-");
  CHECK(rows[0]["CMD"] == "exec python3 -m http.server $PORT0 --bind 127.0.0.1");
  r = dev.dcos({"marathon", "app", "list", "--json"});
  REQUIRE(r.exitCode == 0);
  json list = json::parse(r.out);
  REQUIRE(list.is_array());
  REQUIRE(list.size() == 1);
  CHECK(list[0]["id"] == "/web");
  CHECK(list[0]["tasksRunning"] == 2);

  r = dev.dcos({"marathon", "app", "update", "web", "instances=3", "--wait"});
  REQUIRE(r.exitCode == 0);
  app = dev.app("/web");
  CHECK(app.value("instances", -1) == 3);
  CHECK(app.value("tasksHealthy", -1) == 3);

  r = dev.dcos({"marathon", "app", "version", "list", "web", "--json"});
  REQUIRE(r.exitCode == 0);
  json versions = json::parse(r.out);
  REQUIRE(versions.size() == 2);
  r = dev.dcos({"marathon", "app", "version", "list", "web", "--max-count=1"});
  CHECK(r.exitCode == 0);
  CHECK(parseTable(r.out).size() == 1);
  CHECK(parseTable(r.out)[0]["VERSION"] == versions[0].get<std::string>());

  r = dev.dcos({"marathon", "app", "show", "web", "--app-version", versions[1].get<std::string>()});
  REQUIRE(r.exitCode == 0);
  CHECK(json::parse(r.out)["instances"] == 2);
  r = dev.dcos({"marathon", "app", "show", "web", "--app-version=-1"});
  REQUIRE(r.exitCode == 0);
  CHECK(json::parse(r.out)["instances"] == 2);
  r = dev.dcos({"marathon", "app", "show", "/web/"});
  REQUIRE(r.exitCode == 0);
  CHECK(json::parse(r.out)["instances"] == 3);
  CHECK(json::parse(r.out)["id"] == "/web");
}

TEST_CASE("a deployment that cannot finish: --wait gives up at its deadline; list, watch and rollback") {
  Dev dev;
  auto start = std::chrono::steady_clock::now();
  auto r = dev.dcos({"marathon", "app", "add", dev.jsonFile("stuck.json", stuckApp()), "--wait", "--timeout", "2"});
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.exitCode == 1);
  CHECK(took < 10);
  CHECK(r.err.find("did not finish within 2 s") != std::string::npos);
  CHECK(r.err.find("UnfulfilledConstraint") != std::string::npos);  // why it waits, while it waits
  std::string id = onlyDeployment(dev.port());
  REQUIRE(!id.empty());

  r = dev.dcos({"marathon", "deployment", "list"});
  REQUIRE(r.exitCode == 0);
  auto rows = parseTable(r.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["ID"] == id);
  CHECK(rows[0]["APPS"] == "/stuck");
  CHECK(!rows[0]["ACTION"].empty());
  CHECK(rows[0]["PROGRESS"].find('/') != std::string::npos);
  r = dev.dcos({"marathon", "deployment", "list", "--json", "stuck"});
  REQUIRE(r.exitCode == 0);
  CHECK(json::parse(r.out).size() == 1);
  CHECK(json::parse(r.out)[0]["id"] == id);
  r = dev.dcos({"marathon", "deployment", "list", "--json", "other"});
  CHECK(json::parse(r.out).empty());
  CHECK(parseTable(dev.dcos({"marathon", "app", "list"}).out)[0]["DEPLOYMENT"] != "-");

  r = dev.dcos({"marathon", "deployment", "watch", "--max-count=1", id});
  CHECK(r.exitCode == 0);
  CHECK(lineCount(r.out) == 1);
  CHECK(r.out.find("hostname:LIKE:nowhere") != std::string::npos);

  r = dev.dcos({"marathon", "deployment", "rollback", id});
  REQUIRE(r.exitCode == 0);
  CHECK(r.out.find("Created deployment ") != std::string::npos);
  // Rolling back the creation of an app removes it.
  CHECK(waitFor([&] { return mGet(dev.port(), "/v2/apps/stuck").status == 404; }, 10s));
  CHECK(waitForNoDeployments(dev.port(), 10s));
  CHECK(dev.dcos({"marathon", "deployment", "watch", id}).exitCode == 1);
}

TEST_CASE("--wait fails when the deployment it follows is stopped or rolled back meanwhile") {
  Dev dev;
  REQUIRE(dev.dcos({"marathon", "app", "add", dev.jsonFile("stuck.json", stuckApp())}).exitCode == 0);
  for (const std::string how : {"stop", "rollback"}) {
    CAPTURE(how);
    std::string before = onlyDeployment(dev.port());
    std::vector<std::string> argv{dcosBinary(), "marathon", "app", "update", "stuck", "instances=2", "--force", "--wait"};
    Process waiting(argv, dev.dir.path(), dev.env);
    std::string id;
    REQUIRE(waitFor([&] { return !(id = onlyDeployment(dev.port())).empty() && id != before; }, 10s));
    auto r = dev.dcos({"marathon", "deployment", how, id});
    REQUIRE(r.exitCode == 0);
    REQUIRE(waiting.wait(20s) == 1);
    std::string err = waiting.stderrText();
    CHECK(err.find(how == "stop" ? "was stopped" : "was rolled back") != std::string::npos);
    CHECK(lineCount(err.substr(err.find("dcos: "))) == 1);
    if (how == "stop") {
      CHECK(waitForNoDeployments(dev.port(), 5s));
      CHECK(dev.app("/stuck").value("instances", -1) == 2);  // stopping leaves the app as it is
      REQUIRE(dev.dcos({"marathon", "app", "update", "stuck", "instances=1", "--force"}).exitCode == 0);
    }
  }
}

TEST_CASE("tasks: list and kill; app kill, update from properties and stdin, restart, remove") {
  Dev dev;
  REQUIRE(dev.dcos({"marathon", "app", "add", dev.jsonFile("sleep.json", appDef("/sleep", "exec sleep 600", 2)), "--wait"})
              .exitCode == 0);
  REQUIRE(countRunning(appTasks(dev.port(), "/sleep")) == 2);
  auto r = dev.dcos({"marathon", "task", "list", "--json"});
  REQUIRE(r.exitCode == 0);
  json tasks = json::parse(r.out);
  REQUIRE(tasks.size() == 2);
  CHECK(taskIds(tasks) == taskIds(appTasks(dev.port(), "/sleep")));
  r = dev.dcos({"marathon", "task", "list", "sleep"});
  auto rows = parseTable(r.out);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["APP"] == "/sleep");
  CHECK(rows[0]["HEALTHY"] == "-");
  CHECK(rows[0]["STARTED"] != "-");
  CHECK(!rows[0]["HOST"].empty());
  CHECK(taskIds(tasks).count(rows[0]["ID"]) == 1);

  std::string victim = rows[0]["ID"];
  r = dev.dcos({"marathon", "task", "kill", victim});
  REQUIRE(r.exitCode == 0);
  CHECK(r.out.find(victim) != std::string::npos);
  CHECK(waitFor([&] {
    auto now = appTasks(dev.port(), "/sleep");
    return countRunning(now) == 2 && !taskIds(now).count(victim);
  }, 15s));  // replaced
  victim = jstr(appTasks(dev.port(), "/sleep")[0], "id");
  REQUIRE(dev.dcos({"marathon", "task", "kill", "--scale", "--wait", victim}).exitCode == 0);
  CHECK(dev.app("/sleep").value("instances", -1) == 1);
  CHECK(dev.dcos({"marathon", "task", "kill", "no-such-task"}).exitCode == 1);

  auto old = taskIds(appTasks(dev.port(), "/sleep"));
  r = dev.dcos({"marathon", "app", "kill", "sleep"});
  REQUIRE(r.exitCode == 0);
  CHECK(waitFor([&] {
    auto now = appTasks(dev.port(), "/sleep");
    return countRunning(now) == 1 && taskIds(now) != old;
  }, 15s));

  r = dev.dcos({"marathon", "app", "update", "sleep", "env={\"B\":\"2\"}", "cmd=exec sleep 500", "--wait"});
  REQUIRE(r.exitCode == 0);
  CHECK(dev.app("/sleep")["env"]["B"] == "2");
  CHECK(dev.app("/sleep")["cmd"] == "exec sleep 500");
  writeFile(dev.dir.file("change.json"), R"({"env": {"C": "3"}})");
  {
    Process p({"/bin/sh", "-c", dcosBinary() + " marathon app update sleep < " + dev.dir.file("change.json")},
              dev.dir.path(), dev.env);
    REQUIRE(p.wait(30s) == 0);
  }
  CHECK(waitFor([&] { return dev.app("/sleep")["env"].value("C", "") == "3"; }, 5s));
  CHECK(waitForNoDeployments(dev.port(), 15s));

  old = taskIds(appTasks(dev.port(), "/sleep"));
  REQUIRE(dev.dcos({"marathon", "app", "restart", "sleep", "--wait"}).exitCode == 0);
  auto now = appTasks(dev.port(), "/sleep");
  CHECK(countRunning(now) == 1);
  for (const auto& id : old) CHECK(taskIds(now).count(id) == 0);

  REQUIRE(dev.dcos({"marathon", "app", "remove", "sleep", "--wait"}).exitCode == 0);
  CHECK(mGet(dev.port(), "/v2/apps/sleep").status == 404);
  CHECK(parseTable(dev.dcos({"marathon", "app", "list"}).out).empty());
}

TEST_CASE("groups: add with --wait, list, show, remove") {
  Dev dev;
  json group = {{"id", "/prod"}, {"apps", {appDef("/prod/a", "exec sleep 600"), appDef("/prod/b", "exec sleep 600")}}};
  auto r = dev.dcos({"marathon", "group", "add", dev.jsonFile("group.json", group), "--wait"});
  REQUIRE(r.exitCode == 0);
  CHECK(dev.app("/prod/a").value("tasksRunning", -1) == 1);
  CHECK(dev.app("/prod/b").value("tasksRunning", -1) == 1);

  r = dev.dcos({"marathon", "group", "list"});
  REQUIRE(r.exitCode == 0);
  auto rows = parseTable(r.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["ID"] == "/prod");
  CHECK(rows[0]["APPS"] == "2");
  r = dev.dcos({"marathon", "group", "list", "--json"});
  CHECK(json::parse(r.out)["groups"][0]["id"] == "/prod");
  r = dev.dcos({"marathon", "group", "show", "prod"});
  REQUIRE(r.exitCode == 0);
  CHECK(json::parse(r.out)["id"] == "/prod");
  CHECK(json::parse(r.out)["apps"].size() == 2);

  REQUIRE(dev.dcos({"marathon", "group", "remove", "prod", "--wait"}).exitCode == 0);
  CHECK(mGet(dev.port(), "/v2/groups/prod").status == 404);
  CHECK(mGet(dev.port(), "/v2/apps").json["apps"].empty());
  CHECK(dev.dcos({"marathon", "group", "show", "prod"}).exitCode == 1);
}

TEST_CASE("failures: one line and the right exit code") {
  Dev dev;
  writeFile(dev.dir.file("broken.json"), "{\"id\": \"/x\",\n  \"cmd\": }");
  auto r = dev.dcos({"marathon", "app", "add", dev.dir.file("broken.json")});
  CHECK(r.exitCode == 1);
  CHECK(lineCount(r.err) == 1);
  CHECK(r.err.find("broken.json") != std::string::npos);
  CHECK(r.err.find("line 2") != std::string::npos);
  CHECK(r.out.empty());

  r = dev.dcos({"marathon", "app", "add", dev.dir.file("missing.json")});
  CHECK(r.exitCode == 1);
  CHECK(r.err.find("missing.json") != std::string::npos);
  r = dev.dcos({"marathon", "app", "add"});  // stdin is empty
  CHECK(r.exitCode == 1);
  CHECK(lineCount(r.err) == 1);

  json invalid = appDef("/neg", "sleep 1");
  invalid["cpus"] = -1;
  r = dev.dcos({"marathon", "app", "add", dev.jsonFile("neg.json", invalid)});
  CHECK(r.exitCode == 1);
  CHECK(lineCount(r.err) == 1);
  CHECK(r.err.find("/cpus") != std::string::npos);
  CHECK(mGet(dev.port(), "/v2/apps/neg").status == 404);

  r = dev.dcos({"marathon", "app", "show", "nope"});
  CHECK(r.exitCode == 1);
  CHECK(r.err.find("/nope") != std::string::npos);
  CHECK(dev.dcos({"marathon", "deployment", "stop", "not-a-deployment"}).exitCode == 1);

  for (const auto& args : std::vector<std::vector<std::string>>{{"marathon", "app", "show"},
                                                                {"marathon", "app", "update", "web", "instances"},
                                                                {"marathon", "app", "add", "--timeout=soon", "x.json"},
                                                                {"marathon", "deployment", "rollback"},
                                                                {"marathon", "task", "kill"},
                                                                {"marathon", "group", "show", "a", "b"},
                                                                {"marathon", "app", "list", "--nope"}}) {
    r = dev.dcos(args);
    CAPTURE(args);
    CHECK(r.exitCode == 2);
    CHECK(lineCount(r.err) == 1);
  }

  auto unreachable = dev.env;
  unreachable["DCOS_URL"] = "http://127.0.0.1:1";
  r = runDcos({"marathon", "app", "list"}, unreachable);
  CHECK(r.exitCode == 3);
  CHECK(lineCount(r.err) == 1);
}
