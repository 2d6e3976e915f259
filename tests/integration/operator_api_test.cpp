// The Mesos v1 operator API of a real master (POST /api/v1): the synchronous calls and their
// JSON shapes, refusals of bad calls, and the SUBSCRIBE event stream watched while a real agent
// joins and a framework (over the HTTP scheduler driver) runs a task.
#include "common/http/client.hpp"
#include "common/http/recordio.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/support.hpp"
#include "tests/support/test_framework.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <mutex>
#include <thread>

using namespace dcos;
using namespace dcos::test;
using nlohmann::json;

namespace {

HttpReply call(int port, const std::string& body,
               const std::map<std::string, std::string>& headers = {{"Content-Type", "application/json"}}) {
  return httpRequest(port, "POST", "/api/v1", body, headers);
}

// A synchronous call that must succeed; its parsed response.
json get(int port, const std::string& type) {
  auto r = call(port, json{{"type", type}}.dump());
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"].find("application/json") != std::string::npos);
  auto body = json::parse(r.body);
  CHECK(body["type"] == type);
  return body;
}

// An operator SUBSCRIBE client on its own thread: keeps every event of the stream.
class OperatorStream {
 public:
  explicit OperatorStream(int port) : cancel_(std::make_shared<http::CancelToken>()) {
    thread_ = std::thread([this, port] { run(port); });
  }
  ~OperatorStream() {
    cancel_->cancel();
    thread_.join();
  }

  std::vector<json> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  int status() const {
    std::lock_guard lock(mu_);
    return status_;
  }
  std::string contentType() const {
    std::lock_guard lock(mu_);
    return contentType_;
  }
  // Index of the first event of `type` for which `match` holds, or -1.
  int find(const std::string& type, const std::function<bool(const json&)>& match = {}) const {
    auto all = events();
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].value("type", "") == type && (!match || match(all[i]))) return static_cast<int>(i);
    }
    return -1;
  }
  bool waitFor(const std::string& type, const std::function<bool(const json&)>& match = {}) const {
    return test::waitFor([&] { return find(type, match) >= 0; }, 20s);
  }

 private:
  void run(int port) {
    http::ClientRequest req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port) + "/api/v1";
    req.headers["Content-Type"] = "application/json";
    req.headers["Accept"] = "application/json";
    req.body = R"({"type": "SUBSCRIBE"})";
    req.timeout = 10s;
    req.cancel = cancel_;
    http::RecordIoDecoder decoder;
    (void)http::fetchStream(
        req,
        [&](std::string_view piece) {
          auto records = decoder.feed(piece);
          if (!records) return false;
          std::lock_guard lock(mu_);
          for (const auto& r : *records) events_.push_back(json::parse(r));
          return true;
        },
        Duration::zero(),
        [&](const http::ClientResponse& head) {
          std::lock_guard lock(mu_);
          status_ = head.status;
          contentType_ = head.headers.count("Content-Type") ? head.headers.at("Content-Type") : "";
        });
  }

  std::shared_ptr<http::CancelToken> cancel_;
  mutable std::mutex mu_;
  std::vector<json> events_;
  int status_ = 0;
  std::string contentType_;
  std::thread thread_;
};

std::unique_ptr<MasterProcess> startAgent(const TempDir& dir, int masterPort) {
  return std::make_unique<MasterProcess>(
      dir.file("agent"),
      std::vector<std::string>{"--master=127.0.0.1:" + std::to_string(masterPort), "--resources=cpus:2;mem:1024;disk:1024"},
      "agent");
}

// The scalar value of `name` in a v1 Resource array (0 when absent).
double scalar(const json& resources, const std::string& name) {
  double total = 0;
  for (const auto& r : resources) {
    if (r["name"] == name) total += r["scalar"]["value"].get<double>();
  }
  return total;
}

std::string firstErrorPath(const HttpReply& r) {
  auto j = json::parse(r.body);
  return j["details"].empty() ? "" : j["details"][0]["path"].get<std::string>();
}

}  // namespace

TEST_CASE("the operator API reports health, version and the master's effective flags") {
  TempDir dir;
  MasterProcess master(dir.file("master"), {"--allocation_interval=100ms", "--max_agent_ping_timeouts=7"});
  int port = master.port();

  CHECK(get(port, "GET_HEALTH") == json{{"type", "GET_HEALTH"}, {"get_health", {{"healthy", true}}}});

  json version = get(port, "GET_VERSION")["get_version"]["version_info"];
  CHECK(!version["version"].get<std::string>().empty());
  CHECK(version["git_sha"].is_string());
  CHECK(version["build_date"].is_string());
  CHECK(version["build_time"].is_number());

  json flags = get(port, "GET_FLAGS")["get_flags"]["flags"];
  REQUIRE(flags.is_array());
  std::map<std::string, std::string> byName;
  for (const auto& f : flags) {
    CHECK(f.size() == 2);
    byName[f["name"].get<std::string>()] = f["value"].get<std::string>();
  }
  CHECK(byName["allocation_interval"] == "100ms");
  CHECK(byName["max_agent_ping_timeouts"] == "7");
  CHECK(byName["agent_ping_timeout"] == "15secs");  // a default
  CHECK(byName["work_dir"] == dir.file("master"));

  json info = get(port, "GET_MASTER")["get_master"];
  CHECK(info["master_info"]["id"].is_string());
  CHECK(info["start_time"].is_number());
  // Started with --port=0: master_info carries the port it really listens on.
  CHECK(info["master_info"]["port"] == port);
  CHECK(info["master_info"]["address"]["port"] == port);

  // A trailing slash is the same endpoint, as in Mesos' own examples.
  auto slash = httpRequest(port, "POST", "/api/v1/", R"({"type":"GET_HEALTH"})", {{"Content-Type", "application/json"}});
  CHECK(slash.status == 200);
}

TEST_CASE("bad operator calls get a 4xx with a JSON message") {
  TempDir dir;
  MasterProcess master(dir.file("master"));
  int port = master.port();

  auto notJson = call(port, "{not json");
  CHECK(notJson.status == 400);
  CHECK(!json::parse(notJson.body)["message"].get<std::string>().empty());
  CHECK(call(port, "[]").status == 400);
  auto noType = call(port, R"({"get_health": {}})");
  CHECK(noType.status == 400);
  CHECK(firstErrorPath(noType) == "/type");

  auto unknown = call(port, R"({"type": "MAKE_COFFEE"})");
  CHECK(unknown.status == 400);
  CHECK(json::parse(unknown.body)["message"].get<std::string>().find("MAKE_COFFEE") != std::string::npos);
  CHECK(firstErrorPath(unknown) == "/type");
  auto unsupported = call(port, R"({"type": "RESERVE_RESOURCES", "reserve_resources": {}})");
  CHECK(unsupported.status == 400);
  CHECK(json::parse(unsupported.body)["message"].get<std::string>().find("unsupported") != std::string::npos);

  auto teardownUnknown = call(port, R"({"type": "TEARDOWN", "teardown": {"framework_id": {"value": "nope"}}})");
  CHECK(teardownUnknown.status == 400);
  CHECK(firstErrorPath(call(port, R"({"type": "TEARDOWN"})")) == "/teardown/framework_id");

  // Only JSON: other bodies are 415 (400 without a Content-Type), protobuf-only clients 406.
  CHECK(call(port, R"({"type": "GET_HEALTH"})", {{"Content-Type", "text/plain"}}).status == 415);
  CHECK(call(port, "\x08\x01", {{"Content-Type", "application/x-protobuf"}}).status == 415);
  CHECK(call(port, R"({"type": "GET_HEALTH"})", {}).status == 400);
  auto protobufOnly = call(port, R"({"type": "GET_HEALTH"})",
                           {{"Content-Type", "application/json"}, {"Accept", "application/x-protobuf"}});
  CHECK(protobufOnly.status == 406);
  CHECK(json::parse(protobufOnly.body)["message"].get<std::string>().find("JSON") != std::string::npos);
  CHECK(call(port, R"({"type": "GET_HEALTH"})", {{"Content-Type", "application/json"}, {"Accept", "*/*"}}).status == 200);

  CHECK(httpRequest(port, "GET", "/api/v1").status == 405);
  CHECK(get(port, "GET_HEALTH")["get_health"]["healthy"] == true);  // still serving
}

TEST_CASE("an operator subscriber sees an agent join, a framework run a task to the end, and both leave") {
  TempDir dir;
  MasterProcess master(dir.file("master"),
                       {"--allocation_interval=100ms", "--agent_ping_timeout=500ms", "--max_agent_ping_timeouts=2"});
  int port = master.port();
  OperatorStream stream(port);
  REQUIRE(stream.waitFor("SUBSCRIBED"));
  CHECK(stream.status() == 200);
  CHECK(stream.contentType() == "application/json");
  json subscribed = stream.events()[0];
  CHECK(subscribed["type"] == "SUBSCRIBED");
  CHECK(subscribed["subscribed"]["heartbeat_interval_seconds"] == 15.0);
  const json& initial = subscribed["subscribed"]["get_state"];
  CHECK(initial["get_agents"]["agents"].empty());
  CHECK(ownFrameworks(initial["get_frameworks"]["frameworks"]).empty());
  CHECK(initial["get_tasks"]["tasks"].empty());
  CHECK(initial["get_executors"]["executors"].empty());

  // An agent joins.
  auto agent = startAgent(dir, port);
  REQUIRE(stream.waitFor("AGENT_ADDED"));
  json added = stream.events()[stream.find("AGENT_ADDED")]["agent_added"]["agent"];
  std::string agentId = added["agent_info"]["id"]["value"];
  CHECK(!agentId.empty());
  CHECK(added["active"] == true);
  CHECK(!added["agent_info"]["hostname"].get<std::string>().empty());
  CHECK(scalar(added["total_resources"], "cpus") == 2.0);
  CHECK(added["registered_time"]["nanoseconds"].get<int64_t>() > 0);

  // A framework runs a task that waits for the test.
  std::string release = dir.file("release");
  TestFramework fw;
  fw.addTasks({{"op-task", "while [ ! -e " + release + " ]; do sleep 0.05; done"}});
  auto driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(port), testFrameworkInfo("operator-test"), fw);
  fw.setDriver(driver.get());
  driver->start();
  REQUIRE(waitFor([&] { return fw.countInState("TASK_RUNNING") == 1; }, 30s));
  auto isState = [](const std::string& state) {
    return [state](const json& e) { return e["task_updated"]["state"] == state; };
  };
  REQUIRE(stream.waitFor("TASK_UPDATED", isState("TASK_RUNNING")));
  std::string frameworkId = fw.frameworkId();

  json taskAdded = stream.events()[stream.find("TASK_ADDED")]["task_added"]["task"];
  CHECK(taskAdded["task_id"]["value"] == "op-task");
  CHECK(taskAdded["state"] == "TASK_STAGING");
  CHECK(taskAdded["framework_id"]["value"] == frameworkId);
  CHECK(taskAdded["agent_id"]["value"] == agentId);
  json running = stream.events()[stream.find("TASK_UPDATED", isState("TASK_RUNNING"))]["task_updated"];
  CHECK(running["framework_id"]["value"] == frameworkId);
  CHECK(running["status"]["task_id"]["value"] == "op-task");
  CHECK(running["status"]["state"] == "TASK_RUNNING");
  json fwAdded = stream.events()[stream.find("FRAMEWORK_ADDED")]["framework_added"]["framework"];
  CHECK(fwAdded["framework_info"]["id"]["value"] == frameworkId);
  CHECK(fwAdded["framework_info"]["name"] == "operator-test");
  CHECK(fwAdded["connected"] == true);

  // The state calls list what exists, with Mesos' field names.
  json state = get(port, "GET_STATE")["get_state"];
  REQUIRE(state["get_agents"]["agents"].size() == 1);
  const json& a = state["get_agents"]["agents"][0];
  for (const char* f : {"agent_info", "active", "version", "pid", "registered_time", "total_resources",
                        "allocated_resources", "offered_resources"}) {
    CAPTURE(f);
    CHECK(a.contains(f));
  }
  CHECK(a["agent_info"]["id"]["value"] == agentId);
  CHECK(a["active"] == true);
  CHECK(scalar(a["allocated_resources"], "cpus") == doctest::Approx(0.1));
  CHECK(state["get_agents"]["recovered_agents"].empty());

  REQUIRE(ownFrameworks(state["get_frameworks"]["frameworks"]).size() == 1);
  const json f = ownFrameworks(state["get_frameworks"]["frameworks"])[0];
  CHECK(f["framework_info"]["id"]["value"] == frameworkId);
  CHECK(f["framework_info"]["user"] == "root");
  CHECK(f["active"] == true);
  CHECK(f["connected"] == true);
  CHECK(f["recovered"] == false);
  CHECK(f["registered_time"]["nanoseconds"].get<int64_t>() > 0);
  CHECK(scalar(f["allocated_resources"], "mem") == 16.0);
  CHECK(f["offers"].is_array());
  CHECK(state["get_frameworks"]["completed_frameworks"].empty());

  REQUIRE(state["get_tasks"]["tasks"].size() == 1);
  const json& t = state["get_tasks"]["tasks"][0];
  CHECK(t["name"].is_string());
  CHECK(t["task_id"]["value"] == "op-task");
  CHECK(t["framework_id"]["value"] == frameworkId);
  CHECK(t["agent_id"]["value"] == agentId);
  CHECK(t["state"] == "TASK_RUNNING");
  CHECK(scalar(t["resources"], "cpus") == doctest::Approx(0.1));
  // Its history, oldest first: the agent's STARTING (in brief), then the latest RUNNING whole.
  REQUIRE(t["statuses"].size() == 2);
  CHECK(t["statuses"][0]["state"] == "TASK_STARTING");
  CHECK(t["statuses"][0]["timestamp"].get<double>() > 0);
  CHECK(t["statuses"][1]["state"] == "TASK_RUNNING");
  CHECK(t["statuses"][1].contains("uuid"));
  CHECK(state["get_tasks"]["unreachable_tasks"].empty());
  CHECK(state["get_executors"]["executors"].empty());

  CHECK(get(port, "GET_AGENTS")["get_agents"]["agents"][0]["agent_info"]["id"]["value"] == agentId);
  CHECK(ownFrameworks(get(port, "GET_FRAMEWORKS")["get_frameworks"]["frameworks"])[0]["framework_info"]["id"]["value"] == frameworkId);
  CHECK(get(port, "GET_TASKS")["get_tasks"]["tasks"][0]["task_id"]["value"] == "op-task");
  json roles = get(port, "GET_ROLES")["get_roles"]["roles"];
  REQUIRE(roles.size() == 1);
  CHECK(roles[0]["name"] == "*");
  CHECK(roles[0]["weight"] == 1.0);
  json inRole = roles[0]["frameworks"];  // ours, and the service scheduler the master hosts
  CHECK(std::find(inRole.begin(), inRole.end(), json{{"value", frameworkId}}) != inRole.end());
  CHECK(scalar(roles[0]["resources"], "cpus") >= 0.1);

  // The task ends; its update comes after everything above, in order.
  writeFile(release, "");
  REQUIRE(stream.waitFor("TASK_UPDATED", isState("TASK_FINISHED")));
  int agentAdded = stream.find("AGENT_ADDED");
  int frameworkAdded = stream.find("FRAMEWORK_ADDED");
  int taskAddedAt = stream.find("TASK_ADDED");
  int runningAt = stream.find("TASK_UPDATED", isState("TASK_RUNNING"));
  int finishedAt = stream.find("TASK_UPDATED", isState("TASK_FINISHED"));
  CHECK(0 < agentAdded);
  CHECK(agentAdded < frameworkAdded);
  CHECK(frameworkAdded < taskAddedAt);
  CHECK(taskAddedAt < runningAt);
  CHECK(runningAt < finishedAt);
  CHECK(stream.find("TASK_UPDATED", isState("TASK_FAILED")) < 0);
  CHECK(waitFor([&] {
    json tasks = get(port, "GET_TASKS")["get_tasks"];
    return tasks["tasks"].empty() && tasks["completed_tasks"].size() == 1 &&
           tasks["completed_tasks"][0]["state"] == "TASK_FINISHED";
  }, 10s));

  // The scheduler goes away: the framework is disconnected, then torn down by the operator.
  driver->stop();
  REQUIRE(stream.waitFor("FRAMEWORK_UPDATED",
                         [](const json& e) { return e["framework_updated"]["framework"]["connected"] == false; }));
  auto teardown = call(port, json{{"type", "TEARDOWN"}, {"teardown", {{"framework_id", {{"value", frameworkId}}}}}}.dump());
  CHECK(teardown.status == 200);
  REQUIRE(stream.waitFor("FRAMEWORK_REMOVED"));
  CHECK(stream.events()[stream.find("FRAMEWORK_REMOVED")]["framework_removed"]["framework_info"]["id"]["value"] ==
        frameworkId);
  json frameworks = get(port, "GET_FRAMEWORKS")["get_frameworks"];
  CHECK(ownFrameworks(frameworks["frameworks"]).empty());
  REQUIRE(frameworks["completed_frameworks"].size() == 1);
  CHECK(frameworks["completed_frameworks"][0]["framework_info"]["id"]["value"] == frameworkId);
  CHECK(frameworks["completed_frameworks"][0]["active"] == false);

  // The agent dies: once it misses its pings it is removed.
  agent->process().signal(SIGKILL);
  REQUIRE(stream.waitFor("AGENT_REMOVED"));
  CHECK(stream.events()[stream.find("AGENT_REMOVED")]["agent_removed"]["agent_id"]["value"] == agentId);
  CHECK(get(port, "GET_AGENTS")["get_agents"]["agents"].empty());
}

TEST_CASE("an operator subscriber that goes away is forgotten and the others keep receiving") {
  TempDir dir;
  MasterProcess master(dir.file("master"), {"--allocation_interval=100ms"});
  int port = master.port();
  auto gone = std::make_unique<OperatorStream>(port);
  OperatorStream staying(port);
  REQUIRE(gone->waitFor("SUBSCRIBED"));
  REQUIRE(staying.waitFor("SUBSCRIBED"));
  gone.reset();  // closes its connection

  auto agent = startAgent(dir, port);
  REQUIRE(staying.waitFor("AGENT_ADDED"));
  CHECK(get(port, "GET_HEALTH")["get_health"]["healthy"] == true);
}

TEST_CASE("roles given a weight with --weights are listed by GET_ROLES with it") {
  TempDir dir;
  MasterProcess master(dir.file("master"), {"--weights=ads=2,batch=0.5"});
  json roles = get(master.port(), "GET_ROLES")["get_roles"]["roles"];
  std::map<std::string, double> weights;
  for (const auto& r : roles) weights[r["name"]] = r["weight"];
  CHECK(weights["ads"] == 2.0);
  CHECK(weights["batch"] == 0.5);
}
