// The agent against a fake master speaking the agent protocol over real HTTP on loopback.
#include "kernel/agent/agent.hpp"

#include "common/http/server.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <future>
#include <mutex>
#include <thread>

using namespace dcos;
using namespace dcos::kernel;
using namespace std::chrono_literals;

namespace {

struct Call {
  Json body;
  std::string streamId;
  std::string type() const { return body.value("type", ""); }
};

// Records every call to /api/v1/agents; SUBSCRIBE opens a RecordIO stream ("stream-<n>").
class FakeMaster {
 public:
  FakeMaster() {
    router_.routeAsync("POST", "/api/v1/agents", [this](http::Request& req, http::Responder responder) {
      Json body = Json::parse(req.body);
      std::lock_guard lock(mu_);
      calls_.push_back({body, req.header("Mesos-Stream-Id")});
      if (body["type"] != "SUBSCRIBE") return responder.send(http::Response{202, {}, ""});
      if (refuse) return responder.send(http::Response::error(403, "Agent 'agent-1' was removed (GONE)"));
      if (stream_) stream_->close();
      std::string streamId = "stream-" + std::to_string(++streams_);
      stream_ = responder.stream(200, {{"Content-Type", "application/recordio"}, {"Mesos-Stream-Id", streamId}});
      if (silent) return;
      std::string id = body.value("/subscribe/agent_info/id/value"_json_pointer, std::string("agent-1"));
      Json subscribed = {{"type", "SUBSCRIBED"},
                         {"subscribed", {{"agent_id", {{"value", id}}}, {"ping_interval_seconds", 15.0}}}};
      stream_->write(http::recordIoFrame(subscribed.dump()));
    });
    server_ = std::make_unique<http::Server>(loop_, router_, http::ServerOptions{.address = "127.0.0.1"});
    port_ = *server_->listen();
    thread_ = std::thread([this] { loop_.run(); });
  }
  ~FakeMaster() {
    loop_.post([this] { server_->shutdown([this] { loop_.stop(); }); });
    thread_.join();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void send(const Json& event) {
    std::lock_guard lock(mu_);
    REQUIRE(stream_);
    stream_->write(http::recordIoFrame(event.dump()));
  }
  void closeStream() {
    std::lock_guard lock(mu_);
    if (stream_) stream_->close();
  }
  std::vector<Call> calls(const std::string& type) {
    std::lock_guard lock(mu_);
    std::vector<Call> out;
    for (const auto& c : calls_) {
      if (c.type() == type) out.push_back(c);
    }
    return out;
  }
  // Waits for the n-th call of a type (1-based) and returns it.
  Call waitCall(const std::string& type, size_t n = 1) {
    bool ok = test::waitFor([&] { return calls(type).size() >= n; }, 10s);
    REQUIRE_MESSAGE(ok, "no " << type << " call #" << n);
    return calls(type)[n - 1];
  }
  // The first UPDATE of a task in a state.
  Json updateOf(const std::string& task, const std::string& state) {
    auto find = [&]() -> Json {
      for (const auto& c : calls("UPDATE")) {
        const Json& st = c.body["update"]["status"];
        if (st["task_id"]["value"] == task && st["state"] == state) return st;
      }
      return Json();
    };
    bool ok = test::waitFor([&] { return !find().is_null(); }, 10s);
    REQUIRE_MESSAGE(ok, "no " << state << " update for " << task);
    return find();
  }
  // The n-th UPDATE's status.
  Json update(size_t n) { return waitCall("UPDATE", n).body["update"]["status"]; }
  void ack(const Json& status) {
    send({{"type", "ACKNOWLEDGE"},
          {"acknowledge", {{"framework_id", {{"value", "fw-1"}}}, {"task_id", status["task_id"]}, {"uuid", status["uuid"]}}}});
  }

  bool refuse = false;
  bool silent = false;

 private:
  EventLoop loop_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Call> calls_;
  std::shared_ptr<http::ResponseStream> stream_;
  int streams_ = 0;
};

// An agent on its own loop thread, talking to `master`.
class AgentHarness {
 public:
  explicit AgentHarness(FakeMaster& master, const std::function<void(AgentOptions&)>& tweak = {}) {
    AgentOptions o;
    o.master = master.address();
    o.workDir = dir.path();
    o.hostname = "agent-host";
    o.resources = *Resources::parse("cpus:2;mem:1024;ports:[31000-31010]");
    o.attributes = Json::parse(R"([{"name":"rack","type":"TEXT","text":{"value":"r1"}}])");
    o.initialUpdateBackoff = 1min;  // no resends unless a test asks for them
    if (tweak) tweak(o);
    options = o;
  }
  ~AgentHarness() {
    if (thread_.joinable()) {
      loop_.stop();
      thread_.join();
    }
    if (agent_) agent_->stop();
  }
  void start() {
    auto a = Agent::create(loop_, options);
    REQUIRE(a.ok());
    agent_ = std::move(*a);
    agent_->onRemoved([this](const std::string& message) {
      std::lock_guard lock(mu_);
      removedMessage_ = message;
    });
    loop_.post([this] { agent_->start(5051); });
    thread_ = std::thread([this] { loop_.run(); });
  }
  template <typename T>
  T onLoop(const std::function<T()>& fn) {
    std::promise<T> result;
    loop_.post([&] { result.set_value(fn()); });
    return result.get_future().get();
  }
  Json state() { return onLoop<Json>([this] { return agent_->stateJson(); }); }
  std::string removedMessage() {
    std::lock_guard lock(mu_);
    return removedMessage_;
  }

  test::TempDir dir;
  AgentOptions options;

 private:
  EventLoop loop_;
  std::unique_ptr<Agent> agent_;
  std::thread thread_;
  std::mutex mu_;
  std::string removedMessage_;
};

Json runTask(const std::string& id, const Json& command) {
  return {{"type", "RUN_TASK"},
          {"run_task",
           {{"framework_id", {{"value", "fw-1"}}},
            {"framework_info", {{"name", "test-fw"}, {"id", {{"value", "fw-1"}}}}},
            {"task",
             {{"name", id},
              {"task_id", {{"value", id}}},
              {"agent_id", {{"value", "agent-1"}}},
              {"resources", Json::parse(R"([{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},
                   {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31002,"end":31002}]}}])")},
              {"command", command}}}}}};
}

Json killTask(const std::string& id) {
  return {{"type", "KILL_TASK"}, {"kill_task", {{"framework_id", {{"value", "fw-1"}}}, {"task_id", {{"value", id}}}}}};
}

}  // namespace

TEST_SUITE("agent") {

TEST_CASE("a new agent subscribes without an id, keeps the id it is given, and answers pings") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  auto sub = master.waitCall("SUBSCRIBE");
  Json info = sub.body["subscribe"]["agent_info"];
  CHECK_FALSE(info.contains("id"));
  CHECK(info["hostname"] == "agent-host");
  CHECK(info["port"] == 5051);
  CHECK(info["attributes"][0]["name"] == "rack");
  CHECK(*Resources::fromJson(info["resources"]) == *Resources::parse("cpus:2;mem:1024;ports:[31000-31010]"));
  CHECK(sub.body["subscribe"]["tasks"] == Json::array());

  REQUIRE(test::waitFor([&] { return test::readFile(h.dir.file("agent_id")) == "agent-1\n"; }, 10s));
  master.send({{"type", "PING"}});
  auto pong = master.waitCall("PONG");
  CHECK(pong.streamId == "stream-1");
  CHECK(pong.body["agent_id"]["value"] == "agent-1");
  CHECK(h.state()["id"] == "agent-1");
  CHECK(h.state()["registered"] == true);
}

TEST_CASE("an agent with a stored id subscribes with it") {
  FakeMaster master;
  AgentHarness h(master);
  test::writeFile(h.dir.file("agent_id"), "agent-9\n");
  h.start();
  CHECK(master.waitCall("SUBSCRIBE").body["subscribe"]["agent_info"]["id"]["value"] == "agent-9");
}

TEST_CASE("a task's updates go one at a time, each after the previous one's acknowledgement") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  master.send(runTask("hello.1", {{"value", "echo \"hello $PORT0 $PORTS $MESOS_TASK_ID\"; echo \"$MESOS_SANDBOX\""}}));
  Json starting = master.update(1);
  CHECK(starting["state"] == "TASK_STARTING");
  CHECK(starting["task_id"]["value"] == "hello.1");
  CHECK(starting["source"] == "SOURCE_EXECUTOR");
  CHECK(starting["agent_id"]["value"] == "agent-1");
  CHECK(starting["executor_id"]["value"] == "hello.1");
  CHECK(starting["uuid"].get<std::string>().size() == 24);
  CHECK(starting["timestamp"].get<double>() > 1.6e9);
  CHECK(master.waitCall("UPDATE").streamId == "stream-1");
  CHECK(master.waitCall("UPDATE").body["update"]["framework_id"]["value"] == "fw-1");

  master.ack(starting);
  Json running = master.update(2);
  CHECK(running["state"] == "TASK_RUNNING");
  CHECK(running["container_status"]["executor_pid"].get<int>() > 0);
  master.ack(running);
  Json finished = master.update(3);
  CHECK(finished["state"] == "TASK_FINISHED");
  CHECK(finished["message"] == "Command exited with status 0");
  CHECK(master.calls("UPDATE").size() == 3);

  std::string sandbox = h.state()["frameworks"][0]["tasks"][0]["sandbox"];
  CHECK(sandbox.rfind(h.dir.path() + "/sandboxes/fw-1/hello.1/", 0) == 0);
  CHECK(test::readFile(sandbox + "/stdout") == "hello 31002 31002 hello.1\n" + sandbox + "\n");
  master.ack(finished);
  REQUIRE(test::waitFor([&] { return h.state()["completed_tasks"].size() == 1; }, 10s));
  CHECK(h.state()["frameworks"].empty());
  CHECK(h.state()["completed_tasks"][0]["state"] == "TASK_FINISHED");
}

TEST_CASE("an unacknowledged update is resent with the same uuid") {
  FakeMaster master;
  AgentHarness h(master, [](AgentOptions& o) { o.initialUpdateBackoff = 20ms; });
  h.start();
  master.waitCall("SUBSCRIBE");
  master.send(runTask("t", {{"value", "exec sleep 30"}}));
  Json first = master.update(1);
  Json third = master.update(3);
  CHECK(third["uuid"] == first["uuid"]);
  CHECK(third["state"] == "TASK_STARTING");
}

TEST_CASE("a killed task ends TASK_KILLED and a kill for an unknown task answers TASK_LOST") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  master.send(runTask("sleeper", {{"value", "exec sleep 30"}}));
  master.ack(master.update(1));
  Json running = master.update(2);
  REQUIRE(running["state"] == "TASK_RUNNING");
  master.ack(running);
  master.send(killTask("sleeper"));
  Json killed = master.update(3);
  CHECK(killed["state"] == "TASK_KILLED");
  CHECK(killed["message"] == "Command terminated by signal SIGTERM");

  master.send(killTask("ghost"));
  Json lost = master.update(4);
  CHECK(lost["state"] == "TASK_LOST");
  CHECK(lost["task_id"]["value"] == "ghost");
  CHECK(lost["message"] == "task unknown to the agent");
}

TEST_CASE("shutting down a framework kills its tasks and then drops its pending updates") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  for (const char* id : {"a", "b"}) {
    master.send(runTask(id, {{"value", "exec sleep 30"}}));
    master.ack(master.updateOf(id, "TASK_STARTING"));
    master.ack(master.updateOf(id, "TASK_RUNNING"));
  }
  master.send({{"type", "SHUTDOWN_FRAMEWORK"}, {"shutdown_framework", {{"framework_id", {{"value", "fw-1"}}}}}});
  CHECK(master.updateOf("a", "TASK_KILLED")["message"] == "Command terminated by signal SIGTERM");
  CHECK(master.updateOf("b", "TASK_KILLED")["message"] == "Command terminated by signal SIGTERM");
  REQUIRE(test::waitFor([&] { return h.state()["frameworks"].empty(); }, 10s));
  CHECK(h.state()["pending_status_updates"] == 0);
  CHECK(h.state()["completed_tasks"].size() == 2);
}

TEST_CASE("a task without a command is TASK_ERROR and a missing binary is TASK_FAILED") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  Json noCommand = runTask("bad", Json());
  noCommand["run_task"]["task"].erase("command");
  master.send(noCommand);
  Json error = master.update(1);
  CHECK(error["state"] == "TASK_ERROR");
  CHECK(error["reason"] == "REASON_TASK_INVALID");

  master.send(runTask("missing", {{"shell", false}, {"value", "/nonexistent/binary"}}));
  Json starting = master.update(2);
  CHECK(starting["state"] == "TASK_STARTING");
  master.ack(starting);
  Json failed = master.update(3);
  CHECK(failed["state"] == "TASK_FAILED");
  CHECK(failed["message"] == "exec failed: '/nonexistent/binary': No such file or directory");
}

TEST_CASE("after the stream ends the agent resubscribes with its id, its tasks and its pending updates") {
  FakeMaster master;
  AgentHarness h(master);
  h.start();
  master.waitCall("SUBSCRIBE");
  master.send(runTask("web", {{"value", "exec sleep 30"}}));
  master.ack(master.update(1));
  Json running = master.update(2);  // left unacknowledged
  master.closeStream();

  auto again = master.waitCall("SUBSCRIBE", 2);
  CHECK(again.body["subscribe"]["agent_info"]["id"]["value"] == "agent-1");
  Json tasks = again.body["subscribe"]["tasks"];
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0]["framework_id"]["value"] == "fw-1");
  CHECK(tasks[0]["framework_info"]["name"] == "test-fw");
  CHECK(tasks[0]["task"]["task_id"]["value"] == "web");
  CHECK(tasks[0]["status"]["state"] == "TASK_RUNNING");
  // The pending update goes again at once on the new stream, despite its long backoff.
  Json resent = master.update(3);
  CHECK(resent["uuid"] == running["uuid"]);
  CHECK(master.waitCall("UPDATE", 3).streamId == "stream-2");
}

TEST_CASE("a silent master is noticed through the idle timeout") {
  FakeMaster master;
  master.silent = true;
  AgentHarness h(master, [](AgentOptions& o) { o.defaultPingInterval = 100ms; });
  h.start();
  master.waitCall("SUBSCRIBE", 2);
}

TEST_CASE("a master that refuses the agent with 403 stops it and says to clear the work dir") {
  FakeMaster master;
  master.refuse = true;
  AgentHarness h(master);
  test::writeFile(h.dir.file("agent_id"), "agent-1\n");
  h.start();
  REQUIRE(test::waitFor([&] { return !h.removedMessage().empty(); }, 10s));
  std::string message = h.removedMessage();
  CHECK(message.find("removed") != std::string::npos);
  CHECK(message.find("GONE") != std::string::npos);
  CHECK(message.find(h.dir.path()) != std::string::npos);
  CHECK(master.calls("SUBSCRIBE").size() == 1);
}

TEST_CASE("the agent's state shows its resources, attributes and tasks") {
  FakeMaster master;
  AgentHarness h(master, [](AgentOptions& o) { o.resources = *Resources::parse("cpus:2;cpus(ads):1;mem:512"); });
  h.start();
  master.waitCall("SUBSCRIBE");
  master.send(runTask("web", {{"value", "exec sleep 30"}}));
  master.update(1);
  Json s = h.state();
  CHECK(s["hostname"] == "agent-host");
  CHECK(s["master"] == master.address());
  CHECK(s["resources"]["cpus"] == 3.0);
  CHECK(s["unreserved_resources"]["cpus"] == 2.0);
  CHECK(s["reserved_resources"]["ads"]["cpus"] == 1.0);
  CHECK(s["attributes"]["rack"] == "r1");
  REQUIRE(s["frameworks"].size() == 1);
  CHECK(s["frameworks"][0]["name"] == "test-fw");
  CHECK(s["frameworks"][0]["tasks"][0]["id"] == "web");
  CHECK(s["pending_status_updates"].get<int>() >= 1);
}

TEST_CASE("reconnect delays are jittered between half and all of the delay") {
  CHECK(withJitter(1000ms, 0.0) == 500ms);
  CHECK(withJitter(1000ms, 1.0) == 1000ms);
  CHECK(withJitter(1000ms, 0.5) == 750ms);
  CHECK(withJitter(1000ms, 7.0) == 1000ms);
}

}
