// Hostile and malformed input to the Mesos v1 scheduler API of a real master: every bad call
// gets a clear 4xx (or a TASK_ERROR naming the reason) and the master's state is unchanged.
#include "kernel/driver/scheduler_driver.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/support.hpp"
#include "tests/support/test_framework.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include <mutex>

using namespace dcos;
using namespace dcos::test;
using nlohmann::json;

namespace {

// Keeps every event and acknowledges updates; the test drives the other calls itself.
class Recorder : public kernel::Scheduler {
 public:
  kernel::SchedulerDriver* driver = nullptr;
  void received(const Json& e) override {
    {
      std::lock_guard lock(mu_);
      events_.push_back(e);
    }
    if (e.value("type", "") == "UPDATE" && e["update"]["status"].contains("uuid") && driver) {
      const Json& st = e["update"]["status"];
      (void)driver->send({{"type", "ACKNOWLEDGE"},
                          {"acknowledge", {{"agent_id", st["agent_id"]}, {"task_id", st["task_id"]}, {"uuid", st["uuid"]}}}});
    }
  }
  std::vector<Json> ofType(const std::string& type) {
    std::lock_guard lock(mu_);
    std::vector<Json> out;
    for (const auto& e : events_) {
      if (e.value("type", "") == type) out.push_back(e);
    }
    return out;
  }
  std::vector<Json> updates() {
    std::vector<Json> out;
    for (const auto& e : ofType("UPDATE")) out.push_back(e["update"]["status"]);
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<Json> events_;
};

HttpReply call(int port, const json& body, const std::string& streamId = "") {
  std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
  if (!streamId.empty()) headers["Mesos-Stream-Id"] = streamId;
  return httpRequest(port, "POST", "/api/v1/scheduler", body.is_string() ? body.get<std::string>() : body.dump(), headers);
}

std::string firstErrorPath(const HttpReply& r) {
  auto j = json::parse(r.body);
  return j["details"].empty() ? "" : j["details"][0]["path"].get<std::string>();
}

// A master, one agent with `resources`, and a Recorder framework that has had its first offer.
struct OneAgentCluster {
  TempDir dir;
  MasterProcess master;
  MasterProcess agent;
  Recorder rec;
  std::unique_ptr<kernel::SchedulerDriver> driver;
  int port;

  OneAgentCluster(std::vector<std::string> masterArgs, const std::string& resources, const std::string& name)
      : master(dir.file("master"), std::move(masterArgs)),
        agent(dir.file("agent"), {"--master=127.0.0.1:" + std::to_string(master.port()), "--resources=" + resources},
              "agent"),
        port(master.port()) {
    driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(port), testFrameworkInfo(name), rec);
    rec.driver = driver.get();
    driver->start();
    REQUIRE(waitFor([&] { return !rec.ofType("OFFERS").empty(); }, 15s));
  }
  ~OneAgentCluster() { driver->stop(); }
};

}  // namespace

TEST_CASE("malformed scheduler calls get 4xx with a JSON message naming the problem") {
  TempDir dir;
  MasterProcess master(dir.file("master"));
  int port = master.port();
  CHECK(call(port, json("{not json")).status == 400);
  CHECK(call(port, json::array()).status == 400);
  CHECK(call(port, json{{"no_type", 1}}).status == 400);
  auto badInfo = call(port, {{"type", "SUBSCRIBE"}, {"subscribe", {{"framework_info", {{"user", 5}, {"name", "x"}}}}}});
  CHECK(badInfo.status == 400);
  CHECK(firstErrorPath(badInfo) == "/subscribe/framework_info/user");
  auto badRole = call(port, {{"type", "SUBSCRIBE"},
                             {"subscribe", {{"framework_info", {{"user", "u"}, {"name", "x"}, {"role", "bad role"}}}}}});
  CHECK(badRole.status == 400);
  auto badTimeout = call(port, {{"type", "SUBSCRIBE"},
                                {"subscribe", {{"framework_info", {{"user", "u"}, {"name", "x"}, {"failover_timeout", -1}}}}}});
  CHECK(firstErrorPath(badTimeout) == "/subscribe/framework_info/failover_timeout");
  auto noStream = call(port, {{"type", "REVIVE"}, {"framework_id", {{"value", "nope"}}}});
  CHECK(noStream.status == 400);
  auto notSubscribed = call(port, {{"type", "REVIVE"}, {"framework_id", {{"value", "nope"}}}}, "some-stream");
  CHECK(notSubscribed.status == 403);
  auto protobuf = httpRequest(port, "POST", "/api/v1/scheduler", "x", {{"Content-Type", "application/x-protobuf"}});
  CHECK(protobuf.status == 400);
  CHECK(httpRequest(port, "GET", "/api/v1/scheduler").status == 405);
  // Nothing was registered by any of it.
  CHECK(ownFrameworks(masterState(port)["frameworks"]).empty());
}

TEST_CASE("a wrong stream id is refused, and bad launches become TASK_ERROR without leaking resources") {
  OneAgentCluster c({"--allocation_interval=100ms"}, "cpus:1;mem:256;disk:64", "abuse");
  int port = c.port;
  auto& rec = c.rec;
  auto& driver = c.driver;
  std::string fid = driver->frameworkId();

  auto wrongStream = call(port, {{"type", "REVIVE"}, {"framework_id", {{"value", fid}}}}, "not-the-stream");
  CHECK(wrongStream.status == 400);

  json offer = rec.ofType("OFFERS").back()["offers"]["offers"][0];
  auto task = [&](const std::string& id, json resources) {
    return json{{"name", id}, {"task_id", {{"value", id}}}, {"agent_id", offer["agent_id"]},
                {"resources", resources}, {"command", {{"value", "sleep 300"}}}};
  };
  json cpus = [](double v) { return json::array({{{"name", "cpus"}, {"type", "SCALAR"}, {"scalar", {{"value", v}}}}}); }(0.1);
  json negative = json::array({{{"name", "cpus"}, {"type", "SCALAR"}, {"scalar", {{"value", -1}}}}});
  json tooMuch = json::array({{{"name", "cpus"}, {"type", "SCALAR"}, {"scalar", {{"value", 64}}}}});
  json tasks = json::array({task("good", cpus), task("negative", negative), task("greedy", tooMuch),
                            task("good", cpus), task("bad/id", cpus)});
  // Thousands of tasks in one ACCEPT: only what fits runs.
  for (int i = 0; i < 3000; ++i) tasks.push_back(task("many-" + std::to_string(i), cpus));
  auto accepted = driver->send({{"type", "ACCEPT"},
                                {"accept", {{"offer_ids", {offer["id"]}},
                                            {"operations", {{{"type", "LAUNCH"}, {"launch", {{"task_infos", tasks}}}}}}}}});
  REQUIRE(accepted.ok());
  auto stateOf = [&](const std::string& id) {
    std::string s;
    for (const auto& u : rec.updates()) {
      if (u["task_id"]["value"] == id) s = u["state"];
    }
    return s;
  };
  CHECK(waitFor([&] { return stateOf("good") == "TASK_RUNNING"; }, 15s));
  CHECK(stateOf("negative") == "TASK_ERROR");
  CHECK(stateOf("greedy") == "TASK_ERROR");
  CHECK(stateOf("bad/id") == "TASK_ERROR");
  int running = 0, errors = 0;
  REQUIRE(waitFor([&] {
    std::map<std::string, std::string> latest;
    for (const auto& u : rec.updates()) latest[u["task_id"]["value"]] = u["state"];
    running = errors = 0;
    for (int i = 0; i < 3000; ++i) {
      const std::string& s = latest["many-" + std::to_string(i)];
      running += s == "TASK_RUNNING" || s == "TASK_STARTING";
      errors += s == "TASK_ERROR";
    }
    return running + errors == 3000;
  }, 30s));
  CHECK(running == 9);  // 1 cpu: "good" and nine more at 0.1 each
  for (const auto& u : rec.updates()) {
    if (u["state"] == "TASK_ERROR") CHECK(u.value("message", "") != "");
  }
  // Reusing the consumed offer drops the launch with a reason.
  auto again = driver->send({{"type", "ACCEPT"},
                             {"accept", {{"offer_ids", {offer["id"]}},
                                         {"operations", {{{"type", "LAUNCH"}, {"launch", {{"task_infos", {task("late", cpus)}}}}}}}}}});
  REQUIRE(again.ok());
  CHECK(waitFor([&] { return stateOf("late") == "TASK_DROPPED"; }, 10s));
  auto state = json::parse(httpRequest(port, "GET", "/master/state").body);
  CHECK(ownFrameworks(state["frameworks"])[0]["tasks"].size() == 10);

  CHECK(state["slaves"][0]["used_resources"]["cpus"].get<double>() == doctest::Approx(1.0));
  driver->stop();
}

TEST_CASE("offers not used within --offer_timeout are rescinded and offered again") {
  OneAgentCluster c({"--allocation_interval=100ms", "--offer_timeout=300ms"}, "cpus:1;mem:128", "slow");
  auto& rec = c.rec;
  std::string first = rec.ofType("OFFERS")[0]["offers"]["offers"][0]["id"]["value"];
  CHECK(waitFor([&] {
    for (const auto& r : rec.ofType("RESCIND")) {
      if (r["rescind"]["offer_id"]["value"] == first) return true;
    }
    return false;
  }, 10s));
  // The resources come back in a new offer.
  CHECK(waitFor([&] { return rec.ofType("OFFERS").size() >= 2; }, 10s));
}

TEST_CASE("LAUNCH_GROUP runs every task of the group, and TEARDOWN removes the framework and its tasks") {
  OneAgentCluster c({"--allocation_interval=100ms"}, "cpus:1;mem:256", "group");
  int port = c.port;
  auto& rec = c.rec;
  auto& driver = c.driver;
  json offer = rec.ofType("OFFERS").back()["offers"]["offers"][0];
  json cpus = json::array({{{"name", "cpus"}, {"type", "SCALAR"}, {"scalar", {{"value", 0.2}}}}});
  json group = json::array();
  for (const char* id : {"g1", "g2"}) {
    group.push_back({{"name", id}, {"task_id", {{"value", id}}}, {"agent_id", offer["agent_id"]},
                     {"resources", cpus}, {"command", {{"value", "sleep 300"}}}});
  }
  json executor = {{"type", "DEFAULT"}, {"executor_id", {{"value", "group-executor"}}}, {"framework_id", {{"value", driver->frameworkId()}}}};
  REQUIRE(driver->send({{"type", "ACCEPT"},
                        {"accept", {{"offer_ids", {offer["id"]}},
                                    {"operations", {{{"type", "LAUNCH_GROUP"},
                                                     {"launch_group", {{"executor", executor}, {"task_group", {{"tasks", group}}}}}}}}}}})
              .ok());
  auto running = [&] {
    std::map<std::string, std::string> latest;
    for (const auto& u : rec.updates()) latest[u["task_id"]["value"]] = u["state"];
    return latest["g1"] == "TASK_RUNNING" && latest["g2"] == "TASK_RUNNING";
  };
  CHECK(waitFor(running, 15s));
  REQUIRE(driver->send({{"type", "TEARDOWN"}}).ok());
  CHECK(waitFor([&] { return ownFrameworks(masterState(port)["frameworks"]).empty(); }, 10s));
  auto agentState = [&] { return json::parse(httpRequest(c.agent.port(), "GET", "/state").body); };
  CHECK(waitFor([&] {
    int live = 0;
    json s = agentState();
    for (const auto& f : s.value("frameworks", json::array())) live += static_cast<int>(f.value("tasks", json::array()).size());
    return live == 0;
  }, 15s));
  driver->stop();
}

namespace {

json groupTask(const json& offer, const std::string& id, const std::string& command, double cpus = 0.2) {
  return {{"name", id},
          {"task_id", {{"value", id}}},
          {"agent_id", offer["agent_id"]},
          {"resources", json::array({{{"name", "cpus"}, {"type", "SCALAR"}, {"scalar", {{"value", cpus}}}}})},
          {"command", {{"value", command}}}};
}

json launchGroup(const json& offer, const json& tasks, const std::string& frameworkId) {
  json executor = {{"type", "DEFAULT"}, {"executor_id", {{"value", "ex-" + tasks[0]["task_id"]["value"].get<std::string>()}}},
                   {"framework_id", {{"value", frameworkId}}}};
  return {{"type", "ACCEPT"},
          {"accept", {{"offer_ids", {offer["id"]}},
                      {"filters", {{"refuse_seconds", 0}}},
                      {"operations", {{{"type", "LAUNCH_GROUP"},
                                       {"launch_group", {{"executor", executor}, {"task_group", {{"tasks", tasks}}}}}}}}}}};
}

}  // namespace

TEST_CASE("a task group is launched whole or not at all, and one member failing or killed ends the group") {
  OneAgentCluster c({"--allocation_interval=100ms"}, "cpus:2;mem:256", "groups");
  auto& rec = c.rec;
  auto& driver = c.driver;
  auto latest = [&](const std::string& id) {
    json last = json::object();
    for (const auto& u : rec.updates()) {
      if (u["task_id"]["value"] == id) last = u;
    }
    return last;
  };
  auto nextOffer = [&](size_t n) {
    REQUIRE(waitFor([&] { return rec.ofType("OFFERS").size() >= n; }, 15s));
    return rec.ofType("OFFERS")[n - 1]["offers"]["offers"][0];
  };

  // One task asks for more than the offer has: the whole group is refused, nothing runs.
  json offer = nextOffer(1);
  REQUIRE(driver->send(launchGroup(offer, {groupTask(offer, "ok-1", "sleep 300"), groupTask(offer, "huge", "sleep 300", 64)},
                                   driver->frameworkId())).ok());
  REQUIRE(waitFor([&] { return latest("ok-1").value("state", "") == "TASK_ERROR" && latest("huge").value("state", "") == "TASK_ERROR"; }, 10s));
  CHECK(latest("ok-1")["message"].get<std::string>().find("task 'huge'") != std::string::npos);
  CHECK(latest("huge")["message"].get<std::string>().find("more resources") != std::string::npos);

  // A member that fails takes the others with it.
  offer = nextOffer(2);
  REQUIRE(driver->send(launchGroup(offer, {groupTask(offer, "long", "sleep 300"), groupTask(offer, "crash", "sleep 0.3; exit 3")},
                                   driver->frameworkId())).ok());
  REQUIRE(waitFor([&] { return latest("crash").value("state", "") == "TASK_FAILED"; }, 15s));
  CHECK(waitFor([&] { return latest("long").value("state", "") == "TASK_KILLED"; }, 15s));

  // Killing one member kills the group.
  offer = nextOffer(3);
  REQUIRE(driver->send(launchGroup(offer, {groupTask(offer, "a", "sleep 300"), groupTask(offer, "b", "sleep 300")},
                                   driver->frameworkId())).ok());
  REQUIRE(waitFor([&] { return latest("a").value("state", "") == "TASK_RUNNING" && latest("b").value("state", "") == "TASK_RUNNING"; }, 15s));
  REQUIRE(driver->send({{"type", "KILL"}, {"kill", {{"task_id", {{"value", "a"}}}}}}).ok());
  CHECK(waitFor([&] { return latest("a").value("state", "") == "TASK_KILLED" && latest("b").value("state", "") == "TASK_KILLED"; }, 15s));
  driver->stop();
}

TEST_CASE("a custom executor gets its task over the v1 executor API, and framework messages go both ways") {
  OneAgentCluster c({"--allocation_interval=100ms"}, "cpus:1;mem:256", "custom-executor");
  auto& rec = c.rec;
  auto& driver = c.driver;
  const char* tests = std::getenv("DCOS_TESTS_DIR");
  REQUIRE(tests);
  json offer = rec.ofType("OFFERS").back()["offers"]["offers"][0];
  json executor = {{"executor_id", {{"value", "echoer"}}},
                   {"framework_id", {{"value", driver->frameworkId()}}},
                   {"command", {{"value", std::string("exec python3 ") + tests + "/support/test_executor.py"}}}};
  json task = {{"name", "custom"},
               {"task_id", {{"value", "custom"}}},
               {"agent_id", offer["agent_id"]},
               {"resources", json::array({{{"name", "cpus"}, {"type", "SCALAR"}, {"scalar", {{"value", 0.2}}}}})},
               {"executor", executor}};
  REQUIRE(driver->send({{"type", "ACCEPT"},
                        {"accept", {{"offer_ids", {offer["id"]}},
                                    {"operations", {{{"type", "LAUNCH"}, {"launch", {{"task_infos", {task}}}}}}}}}})
              .ok());
  auto state = [&] {
    std::string s;
    for (const auto& u : rec.updates()) {
      if (u["task_id"]["value"] == "custom") s = u["state"];
    }
    return s;
  };
  REQUIRE(waitFor([&] { return state() == "TASK_RUNNING"; }, 20s));

  // Malformed executor calls get a 4xx naming the problem and change nothing.
  json ids = {{"framework_id", {{"value", driver->frameworkId()}}}, {"executor_id", {{"value", "echoer"}}}};
  auto executorCall = [&](const std::string& body) {
    return httpRequest(c.agent.port(), "POST", "/api/v1/executor", body, {{"Content-Type", "application/json"}});
  };
  auto with = [&](json extra) {
    json body = ids;
    body.update(extra);
    return body.dump();
  };
  struct Bad {
    std::string body;
    int status;
    std::string path;
  };
  std::vector<Bad> bad = {
      {"{not json", 400, ""},
      {json{{"type", "UPDATE"}, {"framework_id", ids["framework_id"]}}.dump(), 400, "/executor_id"},
      {json{{"type", "UPDATE"}, {"framework_id", ids["framework_id"]}, {"executor_id", {{"value", "nobody"}}}}.dump(), 404, ""},
      {with({{"type", 7}}), 400, "/type"},
      {with({{"type", "UPDATE"}, {"update", "x"}}), 400, "/update/status"},
      {with({{"type", "UPDATE"}, {"update", {{"status", {{"task_id", {{"value", "custom"}}}, {"state", "TASK_FAILED"}, {"uuid", 5}}}}}}), 400, "/update/status"},
      {with({{"type", "UPDATE"}, {"update", {{"status", {{"task_id", {{"value", "other"}}}, {"state", "TASK_FAILED"}, {"uuid", "AAAA"}}}}}}), 400, "/update/status"},
      {with({{"type", "MESSAGE"}, {"message", {{"data", 12}}}}), 400, "/message/data"},
  };
  for (const auto& b : bad) {
    CAPTURE(b.body);
    auto reply = executorCall(b.body);
    CHECK(reply.status == b.status);
    json error = json::parse(reply.body, nullptr, false);
    REQUIRE(error.is_object());
    CHECK(error.contains("message"));
    if (!b.path.empty()) {
      REQUIRE(!error["details"].empty());
      CHECK(error["details"][0]["path"] == b.path);
    }
  }
  CHECK(state() == "TASK_RUNNING");

  // Scheduler → executor → scheduler.
  REQUIRE(driver->send({{"type", "MESSAGE"},
                        {"message", {{"agent_id", offer["agent_id"]}, {"executor_id", {{"value", "echoer"}}}, {"data", "aGVsbG8="}}}})
              .ok());  // "hello"
  REQUIRE(waitFor([&] { return !rec.ofType("MESSAGE").empty(); }, 10s));
  json message = rec.ofType("MESSAGE")[0]["message"];
  CHECK(message["data"] == "ZWNobzpoZWxsbw==");  // "echo:hello"
  CHECK(message["executor_id"]["value"] == "echoer");
  CHECK(message["agent_id"] == offer["agent_id"]);

  // A kill goes to the executor, which reports it and, with no task left, exits: a FAILURE event.
  REQUIRE(driver->send({{"type", "KILL"}, {"kill", {{"task_id", {{"value", "custom"}}}}}}).ok());
  CHECK(waitFor([&] { return state() == "TASK_KILLED"; }, 10s));
  REQUIRE(waitFor([&] { return !rec.ofType("FAILURE").empty(); }, 10s));
  json failure = rec.ofType("FAILURE")[0]["failure"];
  CHECK(failure["executor_id"]["value"] == "echoer");
  CHECK(failure["status"] == 0);
  driver->stop();
}
