// The same binary on three "hosts": network namespaces on one Linux bridge, a `dcos master` in
// the first and a `dcos agent` in each of the others, every one with its own IP. An app of four
// web servers spread over both agents must run two per agent and answer from the host namespace
// at the host:port the master lists; the master must reach the tasks (readiness checks) and the
// agents (sandbox files) across the bridge. Skipped, with the reason, where network namespaces
// cannot be made (not root, no iproute2).
#include "common/http/http.hpp"
#include "tests/support/marathon.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace dcos::test {
namespace {

using nlohmann::json;

constexpr int kPortsFirst = 31000;
constexpr int kPortsLast = 31099;

// A daemon of the built binary inside a namespace; `port()` is where it says it listens.
struct NsDaemon {
  std::unique_ptr<Process> process;
  std::string listenHost;
  int port = 0;
};

NsDaemon startInNamespace(const BridgedNamespaces& net, int index, const std::string& outputDir,
                          const std::vector<std::string>& args) {
  std::vector<std::string> argv = net.exec(index);
  argv.push_back(dcosBinary());
  argv.insert(argv.end(), args.begin(), args.end());
  NsDaemon d;
  d.process = std::make_unique<Process>(argv, outputDir);
  static const std::regex listening(R"(listening on http://([0-9.]+):([0-9]+))");
  bool up = waitFor(
      [&] {
        std::smatch m;
        std::string err = d.process->stderrText();
        if (std::regex_search(err, m, listening)) {
          d.listenHost = m[1];
          d.port = std::stoi(m[2]);
          return true;
        }
        return !d.process->running();
      },
      10s);
  REQUIRE_MESSAGE((up && d.port > 0), args[0], " in namespace ", net.name(index), " did not start: ",
                  d.process->stderrText());
  return d;
}

json jsonOf(const HttpReply& r) {
  json j = json::parse(r.body, nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

}  // namespace

TEST_CASE("a master and two agents in separate network namespaces run an app spread over both, reachable from the host") {
  auto started = std::chrono::steady_clock::now();
  // Declared first so it goes last: the processes below die before their namespaces go.
  BridgedNamespaces net(3);
  if (std::string why = net.setUp(); !why.empty()) {
    MESSAGE("SKIPPED (counted as passed): network namespaces are unavailable here: " << why);
    return;
  }
  TempDir dir;
  const std::string masterIp = net.address(0);
  const std::vector<std::string> agentIps = {net.address(1), net.address(2)};
  MESSAGE("network " << net.subnet() << ": master " << masterIp << " in " << net.name(0) << ", agents "
                     << agentIps[0] << ", " << agentIps[1] << ", host " << net.hostAddress());

  // The master, listening on and advertising its own IP only. Every namespace has its own ports,
  // so the daemons take the usual fixed ones, as on real hosts.
  NsDaemon master = startInNamespace(net, 0, dir.path(),
                                     {"master", "--work_dir=" + dir.file("master"), "--address=" + masterIp,
                                      "--hostname=" + masterIp, "--port=5050", "--allocation_interval=50ms",
                                      "--decline_offer_duration=1secs"});
  CHECK(master.listenHost == masterIp);
  const int mport = master.port;
  auto masterLog = [&] { return master.process->stderrText(); };
  auto get = [&](const std::string& target) { return httpTo(masterIp, mport, "GET", target); };

  // Reachable from the host namespace through the bridge.
  HttpReply health = get("/health");
  REQUIRE_MESSAGE(health.status == 200, "GET /health from the host namespace: ", health.body, "\n", masterLog());

  // With join tokens (issue 6) agents need the master's; before that change there is no file.
  std::vector<std::string> tokenArgs;
  if (std::filesystem::exists(dir.file("master/join-token"))) {
    std::string token = readFile(dir.file("master/join-token"));
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    tokenArgs.push_back("--token=" + token);
  }
  MESSAGE("agents join " << std::string(tokenArgs.empty() ? "without a token (the master made none)"
                                                           : "with the master's join token"));

  std::vector<NsDaemon> agents;
  for (int i = 0; i < 2; ++i) {
    std::vector<std::string> args = {"agent",
                                     "--work_dir=" + dir.file("agent-" + std::to_string(i + 1)),
                                     "--master=" + masterIp + ":" + std::to_string(mport),
                                     "--address=" + agentIps[i],
                                     "--port=5051",
                                     "--hostname=" + agentIps[i],
                                     "--resources=cpus:2;mem:1024;disk:1024;ports:[" + std::to_string(kPortsFirst) + "-" +
                                         std::to_string(kPortsLast) + "]"};
    args.insert(args.end(), tokenArgs.begin(), tokenArgs.end());
    agents.push_back(startInNamespace(net, i + 1, dir.path(), args));
    CHECK(agents.back().listenHost == agentIps[i]);
  }
  auto agentLogs = [&] {
    return "agent 1:\n" + agents[0].process->stderrText() + "\nagent 2:\n" + agents[1].process->stderrText();
  };

  // Both agents registered, each under its own IP, each at the address it listens on.
  std::map<std::string, std::string> agentIdByIp;
  bool registered = waitFor(
      [&] {
        json state = jsonOf(get("/master/state"));
        if (!state.is_object() || !state["slaves"].is_array()) return false;
        agentIdByIp.clear();
        for (const auto& s : state["slaves"]) {
          if (s.value("active", false)) agentIdByIp[s.value("hostname", "")] = s.value("id", "");
        }
        return agentIdByIp.size() == 2;
      },
      15s);
  REQUIRE_MESSAGE(registered, "agents did not register: ", masterLog(), "\n", agentLogs());
  REQUIRE(agentIdByIp.count(agentIps[0]) == 1);
  REQUIRE(agentIdByIp.count(agentIps[1]) == 1);
  CHECK(jsonOf(get("/master/state")).value("hostname", "") == masterIp);
  {
    json agentList = jsonOf(httpTo(masterIp, mport, "POST", "/api/v1", R"({"type":"GET_AGENTS"})"));
    REQUIRE_MESSAGE(agentList["get_agents"]["agents"].is_array(), agentList.dump());
    CHECK(agentList["get_agents"]["agents"].size() == 2);
    for (const auto& a : agentList["get_agents"]["agents"]) {
      std::string host = a["agent_info"].value("hostname", "");
      int index = host == agentIps[0] ? 0 : 1;
      CHECK(a.value("pid", "") == "slave(1)@" + agentIps[index] + ":" + std::to_string(agents[index].port));
    }
    json masterInfo = jsonOf(httpTo(masterIp, mport, "POST", "/api/v1", R"({"type":"GET_MASTER"})"));
    CHECK_MESSAGE(masterInfo["get_master"]["master_info"]["address"] ==
                      json({{"hostname", masterIp}, {"port", mport}}),
                  masterInfo.dump());
  }
  // The service scheduler names the leader by the master's advertised address.
  CHECK(jsonOf(get("/v2/info")).value("leader", "") == masterIp + ":" + std::to_string(mport));

  // Four web servers, at most two per agent: two on each. The cwd of a task is its sandbox, so
  // each serves its own sandbox (with the file naming it); the readiness check is probed by the
  // master, so the deployment finishes only if the master's namespace reaches every task.
  const std::string cmd =
      "echo \"task $MESOS_TASK_ID on $HOST\"; echo \"$MESOS_SANDBOX\" > sandbox.path; "
      "exec python3 -m http.server $PORT0 --bind 0.0.0.0";
  json app = {{"id", "/mh/web"},
              {"cmd", cmd},
              {"instances", 4},
              {"cpus", 0.1},
              {"mem", 32},
              {"portDefinitions", json::array({{{"port", 0}, {"name", "http"}}})},
              {"constraints", json::array({json::array({"hostname", "MAX_PER", "2"})})},
              {"healthChecks", json::array({httpHealthCheck("MESOS_HTTP", "/sandbox.path", 10)})},
              {"readinessChecks", json::array({{{"name", "ready"},
                                                {"protocol", "HTTP"},
                                                {"path", "/sandbox.path"},
                                                {"portName", "http"},
                                                {"intervalSeconds", 2},
                                                {"timeoutSeconds", 1},
                                                {"httpStatusCodesForReady", json::array({200})}}})}};
  HttpReply created = httpTo(masterIp, mport, "POST", "/v2/apps", app.dump());
  REQUIRE_MESSAGE(created.status == 201, created.status, " ", created.body);

  json tasks;
  bool healthy = waitFor(
      [&] {
        json r = jsonOf(get("/v2/apps/mh/web/tasks"));
        if (!r.is_object() || !r["tasks"].is_array()) return false;
        tasks = r["tasks"];
        return tasks.size() == 4 && countHealthy(tasks) == 4;
      },
      30s);
  REQUIRE_MESSAGE(healthy, "4 healthy tasks expected, got: ", tasks.dump(), "\nqueue: ", get("/v2/queue").body, "\n",
                  masterLog(), "\n", agentLogs());

  std::map<std::string, int> perHost;
  for (const auto& t : tasks) {
    ++perHost[jstr(t, "host")];
    CHECK(jstr(t, "slaveId") == agentIdByIp[jstr(t, "host")]);
  }
  CHECK(perHost.size() == 2);
  CHECK(perHost[agentIps[0]] == 2);
  CHECK(perHost[agentIps[1]] == 2);

  // Each task answers at host:port from the host namespace, and serves its own sandbox.
  std::map<std::string, std::string> sandboxOf;
  for (const auto& t : tasks) {
    std::string id = jstr(t, "id"), host = jstr(t, "host");
    CAPTURE(id);
    CAPTURE(host);
    REQUIRE(t["ports"].is_array());
    REQUIRE(t["ports"].size() == 1);
    int port = t["ports"][0].get<int>();
    CHECK(port >= kPortsFirst);
    CHECK(port <= kPortsLast);
    HttpReply listing = httpTo(host, port, "GET", "/");
    CHECK_MESSAGE(listing.status == 200, listing.body);
    CHECK(listing.body.find("sandbox.path") != std::string::npos);
    HttpReply path = httpTo(host, port, "GET", "/sandbox.path");
    REQUIRE_MESSAGE(path.status == 200, path.body);
    std::string sandbox = path.body.substr(0, path.body.find('\n'));
    CHECK(sandbox.find(dir.file("agent-")) == 0);
    sandboxOf[id] = sandbox;
  }
  // A task is not reachable on the other agent's IP at its port (each namespace is its own host)
  // unless the other agent happens to run a task on the same port.
  for (const auto& t : tasks) {
    std::string other = jstr(t, "host") == agentIps[0] ? agentIps[1] : agentIps[0];
    int port = t["ports"][0].get<int>();
    bool otherHasPort = false;
    for (const auto& u : tasks) otherHasPort |= jstr(u, "host") == other && u["ports"][0].get<int>() == port;
    if (!otherHasPort) CHECK(httpTo(other, port, "GET", "/", "", 2s).status == 0);
  }

  // The deployment ends: the master's readiness probes crossed the bridge to every task.
  bool deployed = waitFor([&] { return jsonOf(get("/v2/deployments")) == json::array(); }, 20s);
  CHECK_MESSAGE(deployed, "deployment still running: ", get("/v2/deployments").body, "\n",
                get("/v2/apps/mh/web?embed=apps.readiness").body);

  // The master's DNS server (port 53 in its namespace), asked from the host namespace: the app's
  // name has both agents' addresses, its service the four instances.
  if (haveCommand("dig")) {
    auto dig = [&](const std::string& name, const std::string& type) {
      std::istringstream in(commandOutput("dig @" + masterIp + " +short +time=2 +tries=1 " + name + " " + type));
      std::vector<std::string> lines;
      for (std::string line; std::getline(in, line);) lines.push_back(line);
      std::sort(lines.begin(), lines.end());
      return lines;
    };
    auto ips = agentIps;
    std::sort(ips.begin(), ips.end());
    CHECK(dig("web-mh.marathon.mesos", "A") == ips);
    CHECK(dig("_web-mh._tcp.marathon.mesos", "SRV").size() == 4);
    CHECK(dig("leader.mesos", "A") == std::vector<std::string>{masterIp});
    CHECK(dig("agent.mesos", "A") == ips);
  }

  // The master forwards the sandbox files API to the agent that runs the task.
  for (const auto& t : tasks) {
    std::string id = jstr(t, "id");
    CAPTURE(id);
    std::string target = "/agent/" + jstr(t, "slaveId") + "/files/read?path=" + dcos::http::percentEncode(sandboxOf[id] + "/stdout") +
                         "&offset=0";
    HttpReply read = get(target);
    CHECK_MESSAGE(read.status == 200, read.body);
    CHECK(jsonOf(read).value("data", "") == "task " + id + " on " + jstr(t, "host") + "\n");
  }

  // Everything goes away: processes (in every namespace), namespaces, veths, the bridge.
  agents.clear();
  master.process.reset();
  net.tearDown();
  CHECK(net.leftovers().empty());
  CHECK(processesUsing(dir.path()).empty());

  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  MESSAGE("multi-host test took " << seconds << " s");
  CHECK(seconds < 60);
}

}  // namespace dcos::test
