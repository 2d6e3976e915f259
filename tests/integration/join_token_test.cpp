// Join tokens (issue 6): `dcos master` makes one on first start, `dcos master token` prints it,
// agents without it or with another are refused on both sides with a clear line, and
// packaging/install.sh installs a master and an agent that join (under --prefix, as a test can).
#include "tests/support/support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>

using namespace dcos::test;
using nlohmann::json;

namespace {

json slaves(int masterPort) { return json::parse(httpRequest(masterPort, "GET", "/master/state").body)["slaves"]; }

bool oneActiveAgent(int masterPort) {
  auto s = slaves(masterPort);
  return s.size() == 1 && s[0]["active"] == true;
}

// `dcos agent` of the master on `masterPort` with these extra flags and environment.
std::unique_ptr<Process> agentProcess(const TempDir& dir, const std::string& name, int masterPort,
                                      std::vector<std::string> extra, const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv{dcosBinary(), "agent", "--work_dir=" + dir.file(name), "--port=0",
                                "--address=127.0.0.1", "--master=127.0.0.1:" + std::to_string(masterPort),
                                "--resources=cpus:1;mem:256;disk:256"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return std::make_unique<Process>(argv, dir.path(), env);
}

bool isHexToken(const std::string& s) { return std::regex_match(s, std::regex("[0-9a-f]{32}")); }

// The DCOS_<FLAG>='value' lines of an env file install.sh wrote, as a map.
std::map<std::string, std::string> envFile(const std::string& path) {
  std::map<std::string, std::string> env;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') value = value.substr(1, value.size() - 2);
    env[line.substr(0, eq)] = value;
  }
  return env;
}

// The port a daemon logged it listens on, or 0.
int listeningPort(Process& p) {
  static const std::regex listening(R"(listening on http://[0-9.]+:([0-9]+))");
  int port = 0;
  waitFor(
      [&] {
        std::smatch m;
        std::string err = p.stderrText();
        if (std::regex_search(err, m, listening)) port = std::stoi(m[1]);
        return port != 0 || !p.running();
      },
      10s);
  return port;
}

}  // namespace

TEST_SUITE("join token") {

TEST_CASE("an agent without the join token or with a wrong one is refused on both sides; the right one joins") {
  TempDir dir;
  MasterProcess master(dir.file("master"));
  int port = master.port();
  std::string token = joinToken(dir.file("master"));
  REQUIRE(isHexToken(token));

  // No token (an empty DCOS_TOKEN also keeps the test support from adding it).
  auto none = agentProcess(dir, "agent-none", port, {}, {{"DCOS_TOKEN", ""}});
  CHECK(none->wait(15s) == 1);
  std::string err = none->stderrText();
  CHECK_MESSAGE(err.find("the master at 127.0.0.1:" + std::to_string(port) + " refused the join token") != std::string::npos, err);
  CHECK_MESSAGE(err.find("dcos master token") != std::string::npos, err);
  CHECK_MESSAGE(err.find("no join token") != std::string::npos, err);

  auto wrong = agentProcess(dir, "agent-wrong", port, {"--token=" + std::string(32, '0')}, {});
  CHECK(wrong->wait(15s) == 1);
  err = wrong->stderrText();
  CHECK_MESSAGE(err.find("refused the join token: wrong join token") != std::string::npos, err);
  // One line each, and no retry.
  CHECK(std::count(err.begin(), err.end(), '\n') < 10);

  std::string masterErr = master.process().stderrText();
  CHECK_MESSAGE(masterErr.find("refused agent 127.0.0.1:") != std::string::npos, masterErr);
  CHECK_MESSAGE(masterErr.find(": missing join token") != std::string::npos, masterErr);
  CHECK_MESSAGE(masterErr.find(": wrong join token") != std::string::npos, masterErr);
  CHECK(slaves(port).empty());

  // The answer itself: 401 with the JSON error body, whatever the call.
  auto reply = httpRequest(port, "POST", "/api/v1/agents", R"({"type":"SUBSCRIBE","subscribe":{}})",
                           {{"Content-Type", "application/json"}});
  CHECK(reply.status == 401);
  json body = json::parse(reply.body);
  CHECK(body["message"].get<std::string>().find("join token") != std::string::npos);
  CHECK(body["details"].is_array());
  CHECK(reply.headers.count("www-authenticate") == 1);
  reply = httpRequest(port, "POST", "/api/v1/agents", R"({"type":"PONG"})",
                      {{"Content-Type", "application/json"}, {"Authorization", "Bearer nope-nope-nope-nope"}});
  CHECK(reply.status == 401);
  // Schedulers, operators and /v2 need no token.
  CHECK(httpRequest(port, "POST", "/api/v1", R"({"type":"GET_HEALTH"})", {{"Content-Type", "application/json"}}).status == 200);
  CHECK(httpRequest(port, "GET", "/v2/apps").status == 200);
  CHECK(httpRequest(port, "GET", "/master/state").status == 200);

  // The right token, from the environment as the systemd unit passes it.
  auto right = agentProcess(dir, "agent-right", port, {}, {{"DCOS_TOKEN", token}});
  CHECK_MESSAGE(waitFor([&] { return oneActiveAgent(port); }, 15s), right->stderrText());
  CHECK(right->running());
}

TEST_CASE("the join token is made once with mode 0600, printed by dcos master token and kept across restarts") {
  TempDir dir;
  auto master = std::make_unique<MasterProcess>(dir.file("master"));
  int port = master->port();
  std::string token = joinToken(dir.file("master"));
  REQUIRE(isHexToken(token));
  struct stat st {};
  REQUIRE(::stat(dir.file("master/join-token").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // The first start says how agents join, with the token (logged just after "listening").
  CHECK_MESSAGE(waitFor([&] {
    std::string err = master->process().stderrText();
    return err.find("agents join with: dcos agent --master ") != std::string::npos &&
           err.find("--token " + token) != std::string::npos;
  }, 5s), master->process().stderrText());

  auto printed = runDcos({"master", "token", "--work_dir=" + dir.file("master")});
  CHECK(printed.exitCode == 0);
  CHECK(printed.out == token + "\n");
  printed = runDcos({"master", "token"}, {{"DCOS_WORK_DIR", dir.file("master")}});
  CHECK(printed.out == token + "\n");
  auto none = runDcos({"master", "token", "--work_dir=" + dir.file("elsewhere")});
  CHECK(none.exitCode == 1);
  CHECK_MESSAGE(none.err.find("no join token in '" + dir.file("elsewhere") + "'") != std::string::npos, none.err);
  CHECK(std::count(none.err.begin(), none.err.end(), '\n') == 1);

  auto agent = agentProcess(dir, "agent", port, {"--token=" + token}, {});
  REQUIRE_MESSAGE(waitFor([&] { return oneActiveAgent(port); }, 15s), agent->stderrText());

  // A restart keeps the token, says nothing of it, and the agent comes back with the same one.
  master->process().signal(SIGTERM);
  REQUIRE(master->process().wait(10s) == 0);
  master = std::make_unique<MasterProcess>(dir.file("master"), std::vector<std::string>{"--port=" + std::to_string(port)});
  CHECK(joinToken(dir.file("master")) == token);
  CHECK(master->process().stderrText().find("agents join with") == std::string::npos);
  CHECK_MESSAGE(waitFor([&] { return oneActiveAgent(port); }, 15s), agent->stderrText());
  CHECK(runDcos({"master", "token", "--work_dir=" + dir.file("master")}).out == token + "\n");
}

TEST_CASE("dcos dev's agent joins its own master with the token") {
  TempDir dir;
  MasterProcess dev(dir.file("dev"), {}, "dev");
  CHECK(isHexToken(joinToken(dir.file("dev"))));
  CHECK_MESSAGE(waitFor([&] { return oneActiveAgent(dev.port()); }, 15s), dev.process().stderrText());
}

TEST_CASE("install.sh installs a master and an agent that join with the printed token") {
  const char* tests = std::getenv("DCOS_TESTS_DIR");
  REQUIRE(tests);
  std::string script = std::string(tests) + "/../packaging/install.sh";
  TempDir dir;
  std::string bin = dcosBinary();
  std::string common = " --binary '" + bin + "' --port 0";

  // A dry run writes nothing and hides the token.
  Process dry({"/bin/sh", script, "--role", "agent", "--master", "10.0.0.1:5050", "--token", "secret-secret-1234",
               "--prefix", dir.file("dry"), "--dry-run", "--binary", bin},
              dir.path());
  CHECK(dry.wait(30s) == 0);
  CHECK(dry.stdoutText().find("dcos-agent.service") != std::string::npos);
  CHECK(dry.stdoutText().find("secret-secret-1234") == std::string::npos);
  CHECK(readFile(dir.file("dry/etc/dcos/agent.env")).empty());

  REQUIRE(runShell(dir.path(), "sh '" + script + "' --role master --prefix m --work-dir '" + dir.file("mwd") + "'" + common));
  CHECK(readFile(dir.file("m/etc/systemd/system/dcos-master.service")).find("ExecStart=/usr/local/bin/dcos master") !=
        std::string::npos);
  auto masterEnv = envFile(dir.file("m/etc/dcos/master.env"));
  CHECK(masterEnv["DCOS_WORK_DIR"] == dir.file("mwd"));
  masterEnv["DCOS_ADDRESS"] = "127.0.0.1";
  Process master({dir.file("m/usr/local/bin/dcos"), "master"}, dir.path(), masterEnv);
  int port = listeningPort(master);
  REQUIRE_MESSAGE(port != 0, master.stderrText());
  auto token = runDcos({"master", "token", "--work_dir=" + dir.file("mwd")});
  REQUIRE(token.exitCode == 0);
  std::string t = token.out.substr(0, token.out.find('\n'));

  REQUIRE(runShell(dir.path(), "sh '" + script + "' --role agent --prefix a --master 127.0.0.1:" + std::to_string(port) +
                                   " --token " + t + " --work-dir '" + dir.file("awd") +
                                   "' --resources 'cpus:1;mem:256;disk:256'" + common));
  std::string unit = readFile(dir.file("a/etc/systemd/system/dcos-agent.service"));
  CHECK(unit.find("KillMode=process") != std::string::npos);
  CHECK(unit.find("EnvironmentFile=/etc/dcos/agent.env") != std::string::npos);
  struct stat st {};
  REQUIRE(::stat(dir.file("a/etc/dcos/agent.env").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto agentEnv = envFile(dir.file("a/etc/dcos/agent.env"));
  CHECK(agentEnv["DCOS_TOKEN"] == t);
  CHECK(agentEnv["DCOS_RESOURCES"] == "cpus:1;mem:256;disk:256");
  agentEnv["DCOS_ADDRESS"] = "127.0.0.1";
  Process agent({dir.file("a/usr/local/bin/dcos"), "agent"}, dir.path(), agentEnv);
  CHECK_MESSAGE(waitFor([&] { return oneActiveAgent(port); }, 15s), agent.stderrText());
}

}  // TEST_SUITE
