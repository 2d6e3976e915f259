// The sandbox files API end to end: a real master and agent (and a dev cluster), a framework
// whose task writes to stdout, and the agent's files read through the master's proxy — and
// every way of reaching a file outside the sandboxes refused.
#include "common/http/client.hpp"
#include "common/http/http.hpp"
#include "tests/support/support.hpp"
#include "tests/support/test_framework.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <filesystem>

using namespace dcos;
using namespace dcos::test;
using nlohmann::json;

namespace {

http::ClientResponse get(int port, const std::string& target) {
  http::ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + target;
  req.timeout = 15s;
  auto r = http::fetch(req);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return *r;
}

json getJson(int port, const std::string& target) { return json::parse(get(port, target).body); }

// GET /agent/<id>/files/<op>?path=<path><extra> on the master.
http::ClientResponse files(int port, const std::string& agentId, const std::string& op, const std::string& path,
                           const std::string& extra = "") {
  return get(port, "/agent/" + agentId + "/files/" + op + "?path=" + http::percentEncode(path) + extra);
}

std::string agentIdOf(int masterPort) {
  json slaves = getJson(masterPort, "/master/state")["slaves"];
  return slaves.size() == 1 && slaves[0]["active"].get<bool>() ? slaves[0]["id"].get<std::string>() : "";
}

// A task that says hello, leaves a symlink to /etc/passwd in its sandbox and runs until released.
TestFramework::TaskSpec helloTask(const TempDir& dir) {
  return {"hello", "echo hello-sandbox; ln -s /etc/passwd leak; head -c 3750000 /dev/urandom | base64 -w0 > big.tmp && "
                   "mv big.tmp big; while [ ! -e " + dir.file("release") + " ]; do sleep 0.05; done"};
}

struct Cluster {
  TestFramework fw;
  std::unique_ptr<kernel::SchedulerDriver> driver;
  void start(const TempDir& dir, int port) {
    fw.addTasks({helloTask(dir)});
    driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(port), testFrameworkInfo("files"), fw);
    fw.setDriver(driver.get());
    driver->start();
  }
  ~Cluster() {
    if (driver) driver->stop();
  }
};

// Reads, browses and downloads the task's stdout through the master at `port`.
void checkServed(int port, const std::string& agentId, const std::string& sandbox) {
  REQUIRE(waitFor([&] { return getJson(port, "/agent/" + agentId + "/files/read?path=" +
                                                 http::percentEncode(sandbox + "/stdout") + "&offset=0")["data"] ==
                               "hello-sandbox\n"; },
                  10s));
  auto browse = files(port, agentId, "browse", sandbox);
  REQUIRE(browse.status == 200);
  std::map<std::string, json> entries;
  for (const auto& e : json::parse(browse.body)) entries[e["path"].get<std::string>()] = e;
  REQUIRE(entries.count(sandbox + "/stdout") == 1);
  CHECK(entries.count(sandbox + "/stderr") == 1);
  const json& out = entries[sandbox + "/stdout"];
  CHECK(out["size"] == 14);
  CHECK(out["mode"].get<std::string>().substr(0, 3) == "-rw");
  CHECK(out["nlink"] == 1);
  CHECK(out["mtime"].get<int64_t>() > 0);
  CHECK(out["uid"].is_string());
  CHECK(out["gid"].is_string());
  REQUIRE(waitFor([&] { return files(port, agentId, "browse", sandbox).body.find("/leak") != std::string::npos; }, 10s));

  CHECK(json::parse(files(port, agentId, "read", sandbox + "/stdout", "&offset=-1").body) ==
        json{{"data", ""}, {"offset", 14}});
  CHECK(json::parse(files(port, agentId, "read", sandbox + "/stdout").body)["offset"] == 14);
  CHECK(json::parse(files(port, agentId, "read", sandbox + "/stdout", "&offset=6&length=3").body) ==
        json{{"data", "san"}, {"offset", 6}});
  CHECK(files(port, agentId, "read", sandbox + "/stdout", "&offset=x").status == 400);
  CHECK(files(port, agentId, "read", sandbox, "&offset=0").status == 400);

  auto download = files(port, agentId, "download", sandbox + "/stdout");
  CHECK(download.status == 200);
  CHECK(download.body == "hello-sandbox\n");
  CHECK(download.headers["Content-Disposition"].find("filename=\"stdout\"") != std::string::npos);

  // A file too big for one response is streamed by the agent and again by the master.
  REQUIRE(waitFor([&] { return std::filesystem::exists(sandbox + "/big"); }, 10s));
  auto big = files(port, agentId, "download", sandbox + "/big");
  CHECK(big.status == 200);
  CHECK(big.body.size() == 5000000);
  CHECK(big.body == readFile(sandbox + "/big"));
  auto capped = json::parse(files(port, agentId, "read", sandbox + "/big", "&offset=0&length=9999999").body);
  CHECK(capped["data"] == readFile(sandbox + "/big").substr(0, 1024 * 1024));
  CHECK(json::parse(files(port, agentId, "read", sandbox + "/big", "&offset=-1").body)["offset"] == 5000000);
}

// Every way out of the sandboxes is refused, whatever the operation.
void checkRefused(int port, const std::string& agentId, const std::string& sandbox, const std::string& sibling) {
  const std::vector<std::string> outside = {
      "/etc/passwd",
      sandbox + "/../../..",     // the sandboxes root
      sandbox + "/../../../..",  // the agent's work dir, the root's parent
      sandbox + "/../../../../../../../../etc/passwd",
      sandbox + "/leak",         // a symlink the task made to /etc/passwd
      sibling,                   // shares a prefix with the sandboxes dir
      "/etc/no-such-file",
  };
  for (const auto& path : outside) {
    for (const char* op : {"browse", "read", "download"}) {
      CAPTURE(path);
      CAPTURE(op);
      auto r = files(port, agentId, op, path, std::string(op) == "read" ? "&offset=0" : "");
      CHECK(r.status == 403);
      CHECK(r.body.find("root:") == std::string::npos);
      CHECK(json::parse(r.body)["message"].get<std::string>().find("outside") != std::string::npos);
    }
  }
  CHECK(files(port, agentId, "read", sandbox + "/no-such-file").status == 404);
  CHECK(files(port, agentId, "browse", "").status == 400);
  CHECK(files(port, agentId, "browse", "relative/path").status == 400);
  CHECK(get(port, "/agent/" + agentId + "/files/read?path=" + http::percentEncode(sandbox) + "/stdout%00x").status == 400);
  CHECK(files(port, "no-such-agent", "browse", sandbox).status == 404);
  CHECK(get(port, "/agent/" + agentId + "/files/delete?path=x").status == 404);
}

}  // namespace

TEST_CASE("the master serves an agent's sandbox files and refuses every path outside the sandboxes") {
  TempDir dir;
  MasterProcess master(dir.file("master"), {"--allocation_interval=100ms"});
  auto agent = std::make_unique<MasterProcess>(
      dir.file("a1"),
      std::vector<std::string>{"--master=127.0.0.1:" + std::to_string(master.port()), "--resources=cpus:1;mem:256;disk:64"},
      "agent");
  std::string agentId;
  REQUIRE(waitFor([&] { return !(agentId = agentIdOf(master.port())).empty(); }, 10s));
  Cluster cluster;
  cluster.start(dir, master.port());
  REQUIRE(waitFor([&] { return cluster.fw.state("hello") == "TASK_RUNNING"; }, 20s));

  // The agent's /state tells where the sandbox is.
  json tasks = getJson(agent->port(), "/state")["frameworks"][0]["tasks"];
  REQUIRE(tasks.size() == 1);
  std::string sandbox = tasks[0]["sandbox"];
  CHECK(sandbox.rfind(dir.file("a1/sandboxes/"), 0) == 0);
  json executors = getJson(agent->port(), "/state")["frameworks"][0]["executors"];
  REQUIRE(executors.size() == 1);
  CHECK(executors[0]["directory"] == sandbox);

  checkServed(master.port(), agentId, sandbox);
  // The agent answers the same on its own port.
  CHECK(getJson(agent->port(), "/files/read?path=" + http::percentEncode(sandbox + "/stdout") + "&offset=0")["data"] ==
        "hello-sandbox\n");

  std::filesystem::create_directories(dir.file("a1/sandboxes-evil"));
  writeFile(dir.file("a1/sandboxes-evil/secret"), "secret\n");
  checkRefused(master.port(), agentId, sandbox, dir.file("a1/sandboxes-evil/secret"));
  CHECK(get(agent->port(), "/files/read?path=%2Fetc%2Fpasswd&offset=0").status == 403);

  writeFile(dir.file("release"), "");
  REQUIRE(waitFor([&] { return cluster.fw.state("hello") == "TASK_FINISHED"; }, 15s));
  // An agent that cannot be reached: 503, not a hang.
  agent->process().signal(SIGKILL);
  REQUIRE(agent->process().wait(5s) >= 0);
  CHECK(files(master.port(), agentId, "browse", sandbox).status == 503);
  CHECK(files(master.port(), agentId, "download", sandbox + "/stdout").status == 503);
}

TEST_CASE("a dev cluster serves its built-in agent's sandbox files on the master's port") {
  TempDir dir;
  MasterProcess dev(dir.file("dev"), {"--allocation_interval=100ms", "--resources=cpus:1;mem:256;disk:64"}, "dev");
  std::string agentId;
  REQUIRE(waitFor([&] { return !(agentId = agentIdOf(dev.port())).empty(); }, 10s));
  Cluster cluster;
  cluster.start(dir, dev.port());
  REQUIRE(waitFor([&] { return cluster.fw.state("hello") == "TASK_RUNNING"; }, 20s));

  // Dev's /state is the master's; find the run directory by browsing the task's directory.
  std::string taskDir = dir.file("dev/agent/sandboxes/" + cluster.fw.frameworkId() + "/hello");
  json runs = json::parse(files(dev.port(), agentId, "browse", taskDir).body);
  REQUIRE(runs.size() == 1);
  std::string sandbox = runs[0]["path"];
  CHECK(runs[0]["mode"].get<std::string>()[0] == 'd');

  checkServed(dev.port(), agentId, sandbox);
  std::filesystem::create_directories(dir.file("dev/agent/sandboxes-evil"));
  writeFile(dir.file("dev/agent/sandboxes-evil/secret"), "secret\n");
  checkRefused(dev.port(), agentId, sandbox, dir.file("dev/agent/sandboxes-evil/secret"));
  writeFile(dir.file("release"), "");
  CHECK(waitFor([&] { return cluster.fw.state("hello") == "TASK_FINISHED"; }, 15s));
}
