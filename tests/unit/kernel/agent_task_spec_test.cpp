#include "kernel/agent/paths.hpp"
#include "kernel/agent/task_spec.hpp"

#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>

using namespace dcos;
using namespace dcos::kernel;

namespace {

TaskPlacement placement() {
  return {"fw-1", "agent-1", "host-a", "run-1", "/work/sandboxes/fw-1/t/run-1", "/usr/bin:/bin", "C.UTF-8"};
}

std::map<std::string, std::string> envOf(const LaunchSpec& spec) {
  std::map<std::string, std::string> env;
  for (const auto& kv : spec.environment) env[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  return env;
}

Json task(const std::string& extra = "{}") {
  Json t = Json::parse(R"({"name":"web","task_id":{"value":"web.1"},"agent_id":{"value":"agent-1"},
    "command":{"value":"echo hi"},
    "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}},
                 {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31005,"end":31006},{"begin":31001,"end":31001}]}}]})");
  t.merge_patch(Json::parse(extra));
  return t;
}

}  // namespace

TEST_SUITE("agent task spec") {

TEST_CASE("a shell command runs under /bin/sh -c with the Mesos environment and the task's ports in order") {
  auto spec = buildLaunchSpec(task(), placement());
  REQUIRE(spec.ok());
  CHECK(spec->program == "/bin/sh");
  CHECK(spec->argv == std::vector<std::string>{"sh", "-c", "echo hi"});
  CHECK(spec->containerId == "run-1");
  auto env = envOf(*spec);
  CHECK(env["PATH"] == "/usr/bin:/bin");
  CHECK(env["LANG"] == "C.UTF-8");
  CHECK(env["MESOS_SANDBOX"] == "/work/sandboxes/fw-1/t/run-1");
  CHECK(env["MESOS_TASK_ID"] == "web.1");
  CHECK(env["MESOS_EXECUTOR_ID"] == "web.1");
  CHECK(env["MESOS_AGENT_ID"] == "agent-1");
  CHECK(env["MESOS_FRAMEWORK_ID"] == "fw-1");
  CHECK(env["HOST"] == "host-a");
  CHECK(env["PORT0"] == "31005");
  CHECK(env["PORT1"] == "31006");
  CHECK(env["PORT2"] == "31001");
  CHECK(env["PORT"] == "31005");
  CHECK(env["PORTS"] == "31005,31006,31001");
  CHECK_FALSE(env.count("PORT3"));
}

TEST_CASE("a plain shell command line runs directly: program = first word, argv = the words") {
  auto spec = buildLaunchSpec(task(R"({"command":{"value":"sleep 30"}})"), placement());
  REQUIRE(spec.ok());
  CHECK(spec->program == "sleep");
  CHECK(spec->argv == std::vector<std::string>{"sleep", "30"});
  auto many = buildLaunchSpec(
      task(R"({"command":{"value":"  /usr/bin/env\t-i a=b ./x.sh --k=v,w +1 50% user@host:/p_q  "}})"), placement());
  REQUIRE(many.ok());
  CHECK(many->program == "/usr/bin/env");
  CHECK(many->argv ==
        std::vector<std::string>{"/usr/bin/env", "-i", "a=b", "./x.sh", "--k=v,w", "+1", "50%", "user@host:/p_q"});
  // The environment is the same either way.
  CHECK(envOf(*spec) == envOf(*buildLaunchSpec(task(), placement())));
  // shell false is unaffected: the value is the program, spaces and all.
  auto exact = buildLaunchSpec(task(R"({"command":{"shell":false,"value":"sleep 30"}})"), placement());
  REQUIRE(exact.ok());
  CHECK(exact->program == "sleep 30");
}

TEST_CASE("a command line with anything the shell interprets still runs under /bin/sh -c") {
  for (std::string special : {"'", "\"", "$", "`", "\\", "*", "?", "[", "]", ";", "&", "|", "(", ")", "<", ">",
                              "#", "\n", "!", "{", "}", "^", "\r", "\v", "\x7f", "\xc3\xa9"}) {
    for (const std::string& line : {"sleep 3" + special, "sleep " + special + "3", special + "sleep 3"}) {
      CAPTURE(line);
      CHECK(plainCommandWords(line) == std::nullopt);
      auto spec = buildLaunchSpec(task(Json{{"command", {{"value", line}}}}.dump()), placement());
      REQUIRE(spec.ok());
      CHECK(spec->program == "/bin/sh");
      CHECK(spec->argv == std::vector<std::string>{"sh", "-c", line});
    }
  }
  for (std::string line : {"exit 3", "cd /tmp", "exec sleep 1", "export A=1", "ulimit -n 10", "trap x INT",
                           "if true", "while true", "for x", "case x", "set -e", "source f", ". f", "eval x",
                           "read x", "wait", "kill 1", "echo hi", "A=1 sleep 3", "A=1", "~/bin/x", "sleep ~",
                           "%1", "   ", ""}) {
    CAPTURE(line);
    CHECK(plainCommandWords(line) == std::nullopt);
  }
  auto exit3 = buildLaunchSpec(task(R"({"command":{"value":"exit 3"}})"), placement());
  REQUIRE(exit3.ok());
  CHECK(exit3->argv == std::vector<std::string>{"sh", "-c", "exit 3"});
  auto cd = buildLaunchSpec(task(R"({"command":{"value":"cd /tmp"}})"), placement());
  REQUIRE(cd.ok());
  CHECK(cd->argv == std::vector<std::string>{"sh", "-c", "cd /tmp"});
}

TEST_CASE("shell false executes the value with the given arguments as argv") {
  auto spec = buildLaunchSpec(task(R"({"command":{"shell":false,"value":"/bin/echo","arguments":["echo","a b"]}})"),
                              placement());
  REQUIRE(spec.ok());
  CHECK(spec->program == "/bin/echo");
  CHECK(spec->argv == std::vector<std::string>{"echo", "a b"});
  auto bare = buildLaunchSpec(task(R"({"command":{"shell":false,"value":"true"}})"), placement());
  REQUIRE(bare.ok());
  CHECK(bare->argv == std::vector<std::string>{"true"});
}

TEST_CASE("named discovery ports and the command's variables join the environment, the latter winning") {
  auto spec = buildLaunchSpec(task(R"({
      "discovery":{"visibility":"FRAMEWORK","ports":{"ports":[{"number":31005,"name":"http"},{"number":31006,"name":"admin-api"}]}},
      "command":{"environment":{"variables":[{"name":"GREETING","value":"hello"},{"name":"HOST","value":"override"}]}}})"),
                              placement());
  REQUIRE(spec.ok());
  auto env = envOf(*spec);
  CHECK(env["PORT_HTTP"] == "31005");
  CHECK(env["PORT_ADMIN_API"] == "31006");
  CHECK(env["GREETING"] == "hello");
  CHECK(env["HOST"] == "override");
}

TEST_CASE("a task without a command cannot run, and foreign containers are not supported") {
  Json noCommand = task();
  noCommand.erase("command");
  auto r = buildLaunchSpec(noCommand, placement());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(r.error().message.find("no command") != std::string::npos);

  auto docker = buildLaunchSpec(task(R"({"container":{"type":"DOCKER","docker":{"image":"nginx"}}})"), placement());
  REQUIRE_FALSE(docker.ok());
  CHECK(docker.error().code == ErrorCode::kUnprocessable);
  CHECK(docker.error().message.find("DOCKER") != std::string::npos);

  auto image = buildLaunchSpec(
      task(R"({"container":{"type":"MESOS","mesos":{"image":{"type":"DOCKER","docker":{"name":"x"}}}}})"), placement());
  REQUIRE_FALSE(image.ok());
  CHECK(image.error().code == ErrorCode::kUnprocessable);

  CHECK(buildLaunchSpec(task(R"({"container":{"type":"MESOS"}})"), placement()).ok());
}

TEST_CASE("the spec carries the task's cpus and mem for the isolators") {
  auto spec = buildLaunchSpec(task(), placement());
  REQUIRE(spec.ok());
  CHECK(spec->cpus == doctest::Approx(1.0));
  CHECK(spec->memBytes == 0);
  Json t = task();
  t["resources"].push_back(Json::parse(R"({"name":"mem","type":"SCALAR","scalar":{"value":48}})"));
  spec = buildLaunchSpec(t, placement());
  REQUIRE(spec.ok());
  CHECK(spec->memBytes == 48ull << 20);
}

TEST_CASE("the kill grace period comes from the kill policy, else the default") {
  using namespace std::chrono_literals;
  CHECK(gracePeriod(Json(), 3s) == 3s);
  CHECK(gracePeriod(Json::parse(R"({"grace_period":{"nanoseconds":500000000}})"), 3s) == 500ms);
  CHECK(gracePeriod(Json::parse(R"({"grace_period":{"nanoseconds":"2000000000"}})"), 3s) == 2s);
  CHECK(gracePeriod(Json::parse(R"({"grace_period":{"nanoseconds":-1}})"), 3s) == 3s);
}

TEST_CASE("ids become safe, distinct path components") {
  CHECK(pathComponent("web.1_a-b") == "web.1_a-b");
  CHECK(pathComponent("a/b") == "a%2Fb");
  CHECK(pathComponent("a%2Fb") == "a%252Fb");
  CHECK(pathComponent("..") == "%2E%2E");
  CHECK(pathComponent(".") == "%2E");
  CHECK(pathComponent("") == "%");
  CHECK(pathComponent("x y\n") == "x%20y%0A");
  CHECK(pathComponent(std::string(300, 'a')).size() == 200);
  CHECK(sandboxPath("/w", "fw", "../../etc", "r") == "/w/sandboxes/fw/..%2F..%2Fetc/r");
}

TEST_CASE("the agent id survives in the work dir and a garbled one is refused") {
  test::TempDir dir;
  auto none = readAgentId(dir.path());
  REQUIRE(none.ok());
  CHECK(none->empty());
  REQUIRE(writeAgentId(dir.path(), "cluster-S1").ok());
  CHECK(*readAgentId(dir.path()) == "cluster-S1");
  REQUIRE(writeAgentId(dir.path(), "cluster-S2").ok());
  CHECK(*readAgentId(dir.path()) == "cluster-S2");
  CHECK(test::readFile(dir.file("agent_id")) == "cluster-S2\n");
  test::writeFile(dir.file("agent_id"), "two words\n");
  CHECK_FALSE(readAgentId(dir.path()).ok());
}

TEST_CASE("update uuids are 16 random bytes in base64") {
  CHECK(base64Encode("") == "");
  CHECK(base64Encode("f") == "Zg==");
  CHECK(base64Encode("fo") == "Zm8=");
  CHECK(base64Encode("foo") == "Zm9v");
  CHECK(base64Encode("foobar") == "Zm9vYmFy");
  CHECK(base64Encode(std::string("\xff\xfe\x00", 3)) == "//4A");
  CHECK(newRunId().size() == 36);
  CHECK(newRunId() != newRunId());
}

}
