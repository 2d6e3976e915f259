// The `dcos cluster|node|service|task` commands against a real `dcos dev` cluster: tables and
// --json checked against /master/state, task logs (followed too) through the sandbox files API,
// and the exit code and one-line message of each kind of failure.
#include "tests/support/cluster.hpp"
#include "tests/support/support.hpp"
#include "tests/support/test_framework.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>

#include "tests/support/cli_dev.hpp"
#include "tests/support/cli_output.hpp"

using namespace dcos::test;
using nlohmann::json;

namespace {

// A port nothing listens on: bound, read back, closed.
int unusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// The CLI tests' dev cluster, and a way to start an app and wait for its tasks.
struct Dev : CliDev {
  // Starts an app through the Marathon API and waits for `instances` RUNNING tasks.
  std::vector<json> startApp(const std::string& id, const std::string& cmd, int instances) {
    json app = {{"id", id}, {"cmd", cmd}, {"instances", instances}, {"cpus", 0.1}, {"mem", 16}};
    auto reply = httpRequest(master.port(), "POST", "/v2/apps", app.dump(), {{"Content-Type", "application/json"}});
    REQUIRE_MESSAGE(reply.status == 201, reply.body);
    std::vector<json> tasks;
    bool running = waitFor(
        [&] {
          tasks.clear();
          json state = masterState(master.port());
          for (const auto& f : state["frameworks"]) {
            for (const auto& t : f["tasks"]) {
              if (t["name"] == id.substr(1) && t["state"] == "TASK_RUNNING") tasks.push_back(t);
            }
          }
          return static_cast<int>(tasks.size()) == instances;
        },
        20s);
    REQUIRE_MESSAGE(running, "app " << id << " did not reach " << instances << " running tasks: "
                                 << masterState(master.port())["frameworks"].dump() << "\n" << master.process().stderrText());
    return tasks;
  }
};

const char* kTicker = "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done";

// The counters of the "tick N" lines in `text`.
std::vector<int> ticks(const std::string& text) {
  static const std::regex tick(R"(tick ([0-9]+)\n)");
  std::vector<int> out;
  for (std::sregex_iterator it(text.begin(), text.end(), tick), end; it != end; ++it) out.push_back(std::stoi((*it)[1]));
  return out;
}

}  // namespace

TEST_CASE("cluster setup remembers and attaches a cluster; list, attach and remove manage them") {
  Dev dev;
  std::map<std::string, std::string> env{{"DCOS_DIR", dev.dir.file("cli")}};
  auto none = runDcos({"node", "list"}, env);
  CHECK(none.exitCode == 3);
  CHECK(none.err.find("dcos cluster setup") != std::string::npos);

  auto setup = runDcos({"cluster", "setup", dev.url, "--name", "one"}, env);
  REQUIRE_MESSAGE(setup.exitCode == 0, setup.err);
  REQUIRE(runDcos({"cluster", "setup", "127.0.0.1:" + std::to_string(dev.master.port()) + "/", "--name=two"}, env).exitCode == 0);
  struct stat st {};
  REQUIRE(::stat(dev.dir.file("cli/clusters.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto list = runDcos({"cluster", "list"}, env);
  REQUIRE(list.exitCode == 0);
  CHECK(std::regex_search(list.out, std::regex("^NAME +URL +ATTACHED\n")));
  CHECK(std::regex_search(list.out, std::regex("\none +" + dev.url + "\n")));
  CHECK(std::regex_search(list.out, std::regex("\ntwo +" + dev.url + " +\\*\n")));

  REQUIRE(runDcos({"cluster", "attach", "one"}, env).exitCode == 0);
  auto listed = json::parse(runDcos({"cluster", "list", "--json"}, env).out);
  REQUIRE(listed.size() == 2);
  CHECK(listed[0]["name"] == "one");
  CHECK(listed[0]["attached"] == true);
  CHECK(listed[1]["attached"] == false);
  CHECK(runDcos({"node", "list"}, env).exitCode == 0);  // through the attached cluster

  REQUIRE(runDcos({"cluster", "remove", "one"}, env).exitCode == 0);
  listed = json::parse(runDcos({"cluster", "list", "--json"}, env).out);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["name"] == "two");
  auto unattached = runDcos({"node", "list"}, env);
  CHECK(unattached.exitCode == 3);
  CHECK(unattached.err.find("cluster attach") != std::string::npos);
  env["DCOS_CLUSTER"] = "two";
  CHECK(runDcos({"node", "list"}, env).exitCode == 0);

  auto missing = runDcos({"cluster", "attach", "nope"}, env);
  CHECK(missing.exitCode == 1);
  CHECK(missing.err.find("two") != std::string::npos);
  auto down = runDcos({"cluster", "setup", "http://127.0.0.1:" + std::to_string(unusedPort())}, env);
  CHECK(down.exitCode == 3);
  CHECK(lineCount(down.err) == 1);
}

TEST_CASE("node list shows the agent as /master/state does, as a table and as JSON") {
  Dev dev;
  json agent = masterState(dev.master.port())["slaves"][0];
  auto listed = dev.dcos({"node", "list", "--json"});
  REQUIRE_MESSAGE(listed.exitCode == 0, listed.err);
  json nodes = json::parse(listed.out);
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0]["id"] == agent["id"]);
  CHECK(nodes[0]["hostname"] == agent["hostname"]);
  CHECK(nodes[0]["resources"]["cpus"] == 4.0);
  CHECK(nodes[0]["resources"]["mem"] == 4096.0);

  auto table = dev.dcos({"node", "list"});
  REQUIRE(table.exitCode == 0);
  CHECK(std::regex_search(table.out, std::regex("^ID +HOSTNAME +CPUS +MEM +DISK +STATUS\n")));
  std::string row = agent["id"].get<std::string>() + " +" + agent["hostname"].get<std::string>() + " +0/4 +0/4096 +0/4096 +ACTIVE\n";
  CHECK_MESSAGE(std::regex_search(table.out, std::regex(row)), table.out);

  auto described = dev.dcos({"node", "describe", agent["id"].get<std::string>(), "--json"});
  REQUIRE(described.exitCode == 0);
  CHECK(json::parse(described.out)["id"] == agent["id"]);
  CHECK(dev.dcos({"node", "describe", agent["id"].get<std::string>()}).out.find("ACTIVE") != std::string::npos);
  CHECK(dev.dcos({"node", "describe", "no-such-agent"}).exitCode == 1);
}

TEST_CASE("service list shows the service scheduler's framework") {
  Dev dev;
  auto table = dev.dcos({"service", "list"});
  REQUIRE_MESSAGE(table.exitCode == 0, table.err);
  CHECK(std::regex_search(table.out, std::regex("^NAME +HOST +ACTIVE +TASKS +CPU +MEM +DISK +ID\n")));
  CHECK(std::regex_search(table.out, std::regex("\nmarathon +\\S+ +True +0 ")));
  json frameworks = json::parse(dev.dcos({"service", "list", "--json"}).out);
  REQUIRE(frameworks.size() == 1);
  CHECK(frameworks[0]["name"] == "marathon");
  auto shutdown = dev.dcos({"service", "shutdown", "no-such-framework"});
  CHECK(shutdown.exitCode == 1);
  CHECK(shutdown.err.find("no-such-framework") != std::string::npos);
}

TEST_CASE("service shutdown tears a framework down with its tasks") {
  Dev dev;
  TestFramework fw;
  fw.addTasks({{"held", "sleep 600"}});
  auto driver = dcos::kernel::makeHttpDriver("127.0.0.1:" + std::to_string(dev.master.port()),
                                             testFrameworkInfo("cli-test"), fw);
  fw.setDriver(driver.get());
  driver->start();
  REQUIRE(waitFor([&] { return fw.countInState("TASK_RUNNING") == 1; }, 20s));
  std::string id = fw.frameworkId();

  auto table = dev.dcos({"service", "list"});
  CHECK_MESSAGE(std::regex_search(table.out, std::regex("\ncli-test +- +True +1 +0\\.1 +16 +0 +" + id + "\n")), table.out);
  auto shutdown = dev.dcos({"service", "shutdown", id});
  CHECK_MESSAGE(shutdown.exitCode == 0, shutdown.err);
  CHECK(waitFor([&] { return ownFrameworks(masterState(dev.master.port())["frameworks"]).empty(); }, 10s));
  CHECK(dev.dcos({"service", "list"}).out.find("cli-test") == std::string::npos);
  CHECK(dev.dcos({"task", "list", "held"}).out.find("held") == std::string::npos);
  driver->stop();
}

TEST_CASE("task list, log and ls show a Marathon task and its output") {
  Dev dev;
  json task = dev.startApp("/ticker", kTicker, 1)[0];
  std::string id = task["id"];

  auto table = dev.dcos({"task", "list"});
  REQUIRE_MESSAGE(table.exitCode == 0, table.err);
  CHECK(std::regex_search(table.out, std::regex("^NAME +HOST +USER +STATE +ID +AGENT\n")));
  CHECK_MESSAGE(std::regex_search(table.out, std::regex("\nticker +\\S+ +\\S+ +RUNNING +" + std::regex_replace(id, std::regex("\\."), "\\.") + " ")), table.out);
  json listed = json::parse(dev.dcos({"task", "list", "--json", "tick*"}).out);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["id"] == id);
  CHECK(json::parse(dev.dcos({"task", "list", "--json", "nothing-like-it"}).out).empty());

  REQUIRE(waitFor([&] { return ticks(dev.dcos({"task", "log", "ticker"}).out).size() >= 3; }, 10s));
  auto log = dev.dcos({"task", "log", "--lines", "3", id});
  REQUIRE_MESSAGE(log.exitCode == 0, log.err);
  auto seen = ticks(log.out);
  CHECK(seen.size() == 3);
  CHECK(lineCount(log.out) == 3);
  CHECK(dev.dcos({"task", "log", "--stderr", "ticker"}).exitCode == 0);
  CHECK(dev.dcos({"task", "log", "ticker", "no-such-file"}).exitCode == 1);

  auto ls = dev.dcos({"task", "ls", "ticker"});
  REQUIRE_MESSAGE(ls.exitCode == 0, ls.err);
  CHECK(ls.out.find("stdout\n") != std::string::npos);
  CHECK(ls.out.find("stderr\n") != std::string::npos);
  CHECK(dev.dcos({"task", "ls", "--long", "ticker"}).out.find("SIZE") != std::string::npos);
}

TEST_CASE("task log --follow prints lines the task writes after it started") {
  Dev dev;
  dev.startApp("/ticker", kTicker, 1);
  REQUIRE(waitFor([&] { return !ticks(dev.dcos({"task", "log", "ticker"}).out).empty(); }, 10s));
  Process follow({dcosBinary(), "task", "log", "--follow", "--lines=1", "ticker"}, dev.dir.path(), dev.env);
  int first = 0;
  REQUIRE_MESSAGE(waitFor([&] {
                    auto seen = ticks(follow.stdoutText());
                    if (!seen.empty()) first = seen.front();
                    return first > 0;
                  }, 10s),
                  follow.stderrText());
  // --lines=1 printed one line that existed at the start; anything after it was written later.
  CHECK(waitFor([&] { return ticks(follow.stdoutText()).back() >= first + 3; }, 10s));
  auto seen = ticks(follow.stdoutText());
  for (size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] == seen[i - 1] + 1);
  CHECK(follow.running());
}

TEST_CASE("task log and ls find the sandbox on an agent of its own") {
  TempDir dir;
  MasterProcess master(dir.file("master"));
  auto agent = startAgent(dir, "agent", master.port());
  REQUIRE(waitFor([&] { return activeAgents(master.port()) == 1; }, 10s));
  TestFramework fw;
  fw.addTasks({{"greeter", "echo hello-from-the-agent; echo oops >&2; sleep 600"}});
  auto driver = dcos::kernel::makeHttpDriver("127.0.0.1:" + std::to_string(master.port()), testFrameworkInfo("cli-test"), fw);
  fw.setDriver(driver.get());
  driver->start();
  REQUIRE(waitFor([&] { return fw.countInState("TASK_RUNNING") == 1; }, 20s));
  std::map<std::string, std::string> env{{"DCOS_DIR", dir.file("cli")},
                                         {"DCOS_URL", "http://127.0.0.1:" + std::to_string(master.port())}};
  RunResult log;
  CHECK(waitFor([&] { return (log = runDcos({"task", "log", "greeter"}, env)).out == "hello-from-the-agent\n"; }, 10s));
  CHECK_MESSAGE(log.exitCode == 0, log.err);
  CHECK(runDcos({"task", "log", "--stderr", "greeter"}, env).out.find("oops\n") != std::string::npos);
  CHECK(runDcos({"task", "ls", "greeter"}, env).out.find("stdout\n") != std::string::npos);
  driver->stop();
}

TEST_CASE("a TASK naming several tasks or none is refused with exit 1") {
  Dev dev;
  auto tasks = dev.startApp("/pair", "sleep 600", 2);
  auto several = dev.dcos({"task", "log", "pair"});
  CHECK(several.exitCode == 1);
  CHECK(lineCount(several.err) == 1);
  for (const auto& t : tasks) CHECK(several.err.find(t["id"].get<std::string>()) != std::string::npos);
  auto none = dev.dcos({"task", "ls", "no-such-task"});
  CHECK(none.exitCode == 1);
  CHECK(none.err.rfind("dcos: ", 0) == 0);
}

TEST_CASE("an unreachable cluster exits 3 with one line") {
  TempDir dir;
  std::string url = "http://127.0.0.1:" + std::to_string(unusedPort());
  for (const auto& args : std::vector<std::vector<std::string>>{{"task", "list"}, {"node", "list"}, {"service", "list"}}) {
    auto r = runDcos(args, {{"DCOS_DIR", dir.path()}, {"DCOS_URL", url}});
    CHECK(r.exitCode == 3);
    CHECK(r.out.empty());
    CHECK(lineCount(r.err) == 1);
    CHECK(r.err.rfind("dcos: cannot reach the cluster at " + url, 0) == 0);
  }
}

TEST_CASE("usage errors exit 2; version, help and the completion script") {
  TempDir dir;
  std::map<std::string, std::string> env{{"DCOS_DIR", dir.path()}};
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"task", "bogus"}, {"task"}, {"task", "list", "--bogus"}, {"task", "log"}, {"help", "bogus"}}) {
    auto r = runDcos(args, env);
    CHECK(r.exitCode == 2);
    CHECK(lineCount(r.err) == 1);
  }
  CHECK(runDcos({"task", "bogus"}, env).err.find("list, log, ls") != std::string::npos);
  auto version = runDcos({"--version"}, env);
  CHECK(version.exitCode == 0);
  CHECK_FALSE(version.out.empty());
  auto help = runDcos({"help", "task"}, env);
  CHECK(help.exitCode == 0);
  CHECK(help.out.find("dcos task log [--follow]") != std::string::npos);
  auto verbHelp = runDcos({"task", "log", "--help"}, env);
  CHECK(verbHelp.exitCode == 0);
  CHECK(verbHelp.out.find("--lines") != std::string::npos);
  auto completion = runDcos({"completion", "bash"}, env);
  CHECK(completion.exitCode == 0);
  CHECK(completion.out.find("complete -F") != std::string::npos);
  CHECK(completion.out.find("marathon") != std::string::npos);
  CHECK(runDcos({"--help"}, env).out.find("cluster") != std::string::npos);
}
