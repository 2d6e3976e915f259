#pragma once
// A fake master speaking the agent protocol over real HTTP on loopback, and an agent on its own
// loop thread talking to it: the harness of the agent's tests.
#include "common/http/server.hpp"
#include "kernel/agent/agent.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <future>
#include <mutex>
#include <thread>

namespace dcos::test {

using namespace std::chrono_literals;
using kernel::Agent;
using kernel::AgentOptions;
using kernel::Resources;

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
      if (body.contains("updates")) {
        // A batch of updates is recorded as one UPDATE call per update.
        for (const auto& u : body["updates"]) {
          calls_.push_back({{{"type", "UPDATE"}, {"agent_id", body["agent_id"]}, {"update", u}}, req.header("Mesos-Stream-Id")});
        }
        return responder.send(http::Response{202, {}, ""});
      }
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
    bool ok = waitFor([&] { return calls(type).size() >= n; }, 10s);
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
    bool ok = waitFor([&] { return !find().is_null(); }, 10s);
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
    o.executorBinary = dcosBinary();
    o.resources = *Resources::parse("cpus:2;mem:1024;ports:[31000-31010]");
    o.attributes = Json::parse(R"([{"name":"rack","type":"TEXT","text":{"value":"r1"}}])");
    o.initialUpdateBackoff = 1min;  // no resends unless a test asks for them
    if (tweak) tweak(o);
    options = o;
  }
  ~AgentHarness() { stop(true); }
  // Stops the loop and the agent; without `killTasks` the tasks keep running under their
  // executors, as after `dcos agent` gets SIGTERM. Idempotent.
  void stop(bool killTasks) {
    if (thread_.joinable()) {
      loop_.stop();
      thread_.join();
    }
    if (agent_) agent_->stop(killTasks);
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
  Json monitor() { return onLoop<Json>([this] { return agent_->monitorStatistics(); }); }
  std::string removedMessage() {
    std::lock_guard lock(mu_);
    return removedMessage_;
  }

  TempDir dir;
  AgentOptions options;

 private:
  EventLoop loop_;
  std::unique_ptr<Agent> agent_;
  std::thread thread_;
  std::mutex mu_;
  std::string removedMessage_;
};

inline Json runTask(const std::string& id, const Json& command) {
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

inline Json killTask(const std::string& id) {
  return {{"type", "KILL_TASK"}, {"kill_task", {{"framework_id", {{"value", "fw-1"}}}, {"task_id", {{"value", id}}}}}};
}

}  // namespace dcos::test
