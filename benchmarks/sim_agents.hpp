#pragma once
// Simulated agents: N agents that subscribe to a kernel::Master in-process (the same calls the
// agents API makes for a real agent's HTTP stream) and answer the master as a real agent does,
// without starting anything:
//   RUN_TASK / RUN_TASK_GROUP  → TASK_STARTING, then TASK_RUNNING once STARTING is acknowledged
//   KILL_TASK                  → TASK_KILLED (TASK_LOST for a task the agent does not know)
//   SHUTDOWN_FRAMEWORK         → TASK_KILLED for each of the framework's tasks
//   ACKNOWLEDGE                → the task's next queued update goes out
//   PING                       → PONG
// Updates are reliable per task as in kernel/agent/status_updates.hpp (only the head of a task's
// queue is in flight; each has a fresh uuid) but never resent: the master runs in the same
// process and does not lose them. Each agent batches what it has to say in one UPDATE call per
// loop turn (at most 256 updates, like the real agent's flushUpdates).
//
// Header-only so benchmarks and unit tests can share it. Everything runs on the master's loop:
// the master calls EventSink::send synchronously from inside its own calls, so each agent queues
// the event and answers on a later loop turn, never re-entering the master.

#include "common/clock.hpp"
#include "common/event_loop.hpp"
#include "common/json.hpp"
#include "common/result.hpp"
#include "kernel/agent/status_updates.hpp"
#include "kernel/master/master.hpp"
#include "kernel/master/protocol.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dcos::bench {

struct SimAgentOptions {
  std::string resources = "cpus:16;mem:65536;disk:100000;ports:[31000-32000]";
  std::string hostnamePrefix = "sim-agent-";
  // Hostnames that are addresses (10.x.y.z), so that discovery lists the agents' tasks.
  bool addressHostnames = false;
  Json attributes = Json::array();
};

// What the simulated agents saw and said, summed over all of them. Loop thread only.
struct SimAgentCounters {
  int64_t runTasks = 0;       // tasks received in RUN_TASK and RUN_TASK_GROUP
  int64_t kills = 0;          // KILL_TASK events
  int64_t acks = 0;           // ACKNOWLEDGE events that matched an update in flight
  int64_t updatesSent = 0;    // statuses sent in UPDATE calls
  int64_t callsFailed = 0;    // agentCall answers that were errors
  int64_t running = 0;        // tasks whose latest status is TASK_RUNNING
  double callSeconds = 0;     // wall time spent inside Master::agentCall (the master's work on them)
  std::string lastError;
};

class SimAgentCluster {
 public:
  SimAgentCluster(EventLoop& loop, kernel::Master& master, SimAgentOptions options = {})
      : loop_(loop), master_(master), options_(std::move(options)) {}
  SimAgentCluster(const SimAgentCluster&) = delete;
  SimAgentCluster& operator=(const SimAgentCluster&) = delete;
  ~SimAgentCluster() {
    for (auto& a : agents_) a->cluster = nullptr;
  }

  // Subscribes `count` more agents. On the loop thread.
  Result<void> addAgents(int count) {
    auto resources = kernel::Resources::parse(options_.resources);
    if (!resources) return resources.error();
    for (int i = 0; i < count; ++i) {
      auto agent = std::make_shared<Agent>();
      agent->cluster = this;
      size_t n = agents_.size();
      std::string hostname = options_.addressHostnames ? "10." + std::to_string(n >> 16 & 255) + "." +
                                                             std::to_string(n >> 8 & 255) + "." + std::to_string(n & 255)
                                                       : options_.hostnamePrefix + std::to_string(n);
      Json info = {{"hostname", hostname},
                   {"port", 5051},
                   {"resources", resources->toJson()},
                   {"attributes", options_.attributes}};
      Json call = {{"type", "SUBSCRIBE"}, {"subscribe", {{"agent_info", info}, {"tasks", Json::array()}}}};
      auto sub = master_.subscribeAgent(call, agent);
      if (!sub) return sub.error();
      agent->id = sub->agentId;
      agent->streamId = sub->streamId;
      agents_.push_back(std::move(agent));
    }
    return {};
  }

  size_t size() const { return agents_.size(); }
  const SimAgentCounters& counters() const { return counters_; }

 private:
  struct SimTask {
    std::string frameworkId;
    std::deque<Json> updates;  // head in flight once sent
    bool headSent = false;
    bool terminal = false;
    std::string state;
  };

  // The part of a master event an agent acts on.
  struct Event {
    std::string type, frameworkId, uuid;
    std::vector<std::string> taskIds;
  };

  struct Agent : kernel::EventSink, std::enable_shared_from_this<Agent> {
    SimAgentCluster* cluster = nullptr;
    std::string id, streamId;
    bool closed = false;
    std::deque<Event> inbox;
    bool drainPosted = false;
    std::map<std::string, SimTask> tasks;  // by "<framework>/<task>"
    std::vector<Json> outbox;               // {"framework_id", "status"} entries for the next UPDATE

    bool send(const Json& event) override {
      if (closed || !cluster) return false;
      // Only what the answer needs is kept: copying whole events (TaskInfo, framework_info) for
      // 10,000 launches would make the simulation, not the master, the memory hog.
      inbox.push_back(digest(event));
      if (!drainPosted) {
        drainPosted = true;
        cluster->loop_.post([self = shared_from_this()] { self->drain(); });
      }
      return true;
    }
    void close() override { closed = true; }

    static Event digest(const Json& event) {
      Event e;
      e.type = event.value("type", "");
      auto section = [&](const char* name) { return event.value(name, Json::object()); };
      if (e.type == "RUN_TASK") {
        Json run = section("run_task");
        e.frameworkId = kernel::idValue(run, "framework_id");
        e.taskIds.push_back(kernel::idValue(run.value("task", Json::object()), "task_id"));
      } else if (e.type == "RUN_TASK_GROUP") {
        Json run = section("run_task_group");
        e.frameworkId = kernel::idValue(run, "framework_id");
        for (const auto& task : run.value("/task_group/tasks"_json_pointer, Json::array())) {
          e.taskIds.push_back(kernel::idValue(task, "task_id"));
        }
      } else if (e.type == "KILL_TASK") {
        Json kill = section("kill_task");
        e.frameworkId = kernel::idValue(kill, "framework_id");
        e.taskIds.push_back(kernel::idValue(kill, "task_id"));
      } else if (e.type == "SHUTDOWN_FRAMEWORK") {
        e.frameworkId = kernel::idValue(section("shutdown_framework"), "framework_id");
      } else if (e.type == "ACKNOWLEDGE") {
        Json ack = section("acknowledge");
        e.frameworkId = kernel::idValue(ack, "framework_id");
        e.taskIds.push_back(kernel::idValue(ack, "task_id"));
        e.uuid = ack.value("uuid", "");
      }
      return e;
    }

    void drain() {
      drainPosted = false;
      if (!cluster) return;
      while (!inbox.empty()) {
        Event event = std::move(inbox.front());
        inbox.pop_front();
        handle(event);
      }
      flush();
    }

    void handle(const Event& e) {
      const std::string& fid = e.frameworkId;
      if (e.type == "RUN_TASK" || e.type == "RUN_TASK_GROUP") {
        for (const auto& tid : e.taskIds) launch(fid, tid);
      } else if (e.type == "KILL_TASK") {
        ++cluster->counters_.kills;
        for (const auto& tid : e.taskIds) killTask(fid, tid);
      } else if (e.type == "SHUTDOWN_FRAMEWORK") {
        std::vector<std::string> ids;
        for (const auto& [key, t] : tasks) {
          if (t.frameworkId == fid && !t.terminal) ids.push_back(key.substr(fid.size() + 1));
        }
        for (const auto& tid : ids) killTask(fid, tid);
      } else if (e.type == "ACKNOWLEDGE") {
        for (const auto& tid : e.taskIds) acknowledge(fid, tid, e.uuid);
      } else if (e.type == "PING") {
        call({{"type", "PONG"}, {"agent_id", kernel::idJson(id)}});
      }
      // SUBSCRIBED needs nothing: subscribeAgent's result carried the agent and stream ids.
    }

    Json status(const std::string& taskId, const std::string& state, const std::string& reason = "") const {
      Json s = {{"task_id", kernel::idJson(taskId)},
                {"state", state},
                {"source", "SOURCE_EXECUTOR"},
                {"timestamp", toEpochSeconds(SystemClock::instance().now())},
                {"uuid", kernel::newUpdateUuid()},
                {"agent_id", kernel::idJson(id)},
                {"executor_id", kernel::idJson(taskId)}};
      if (!reason.empty()) s["reason"] = reason;
      return s;
    }

    void launch(const std::string& fid, const std::string& tid) {
      if (fid.empty() || tid.empty()) return;
      ++cluster->counters_.runTasks;
      SimTask& t = tasks[fid + "/" + tid];
      t.frameworkId = fid;
      queue(fid, tid, t, status(tid, "TASK_STARTING"));
      queue(fid, tid, t, status(tid, "TASK_RUNNING"));
    }

    void killTask(const std::string& fid, const std::string& tid) {
      auto it = tasks.find(fid + "/" + tid);
      if (it == tasks.end()) {
        SimTask& t = tasks[fid + "/" + tid];
        t.frameworkId = fid;
        queue(fid, tid, t, status(tid, "TASK_LOST", "REASON_TASK_UNKNOWN"));
        return;
      }
      if (it->second.terminal) return;
      queue(fid, tid, it->second, status(tid, "TASK_KILLED"));
    }

    // Appends an update; sends it at once when it is the task's only one.
    void queue(const std::string& fid, const std::string& tid, SimTask& t, Json s) {
      t.terminal = kernel::isTerminalState(s.value("state", ""));
      t.updates.push_back(std::move(s));
      if (!t.headSent) sendHead(fid, t);
      (void)tid;
    }

    void sendHead(const std::string& fid, SimTask& t) {
      if (t.updates.empty()) return;
      t.headSent = true;
      const Json& head = t.updates.front();
      std::string state = head.value("state", "");
      if (state != t.state) {
        if (t.state == "TASK_RUNNING") --cluster->counters_.running;
        if (state == "TASK_RUNNING") ++cluster->counters_.running;
        t.state = state;
      }
      outbox.push_back({{"framework_id", kernel::idJson(fid)}, {"status", head}});
    }

    void acknowledge(const std::string& fid, const std::string& tid, const std::string& uuid) {
      auto it = tasks.find(fid + "/" + tid);
      if (it == tasks.end() || it->second.updates.empty()) return;
      SimTask& t = it->second;
      if (!t.headSent || t.updates.front().value("uuid", "") != uuid) return;
      ++cluster->counters_.acks;
      t.updates.pop_front();
      t.headSent = false;
      if (!t.updates.empty()) {
        sendHead(fid, t);
      } else if (t.terminal) {
        tasks.erase(it);
      }
    }

    void flush() {
      constexpr size_t kBatch = 256;
      for (size_t i = 0; i < outbox.size(); i += kBatch) {
        Json batch = Json::array();
        for (size_t j = i; j < std::min(outbox.size(), i + kBatch); ++j) batch.push_back(std::move(outbox[j]));
        cluster->counters_.updatesSent += static_cast<int64_t>(batch.size());
        call({{"type", "UPDATE"}, {"agent_id", kernel::idJson(id)}, {"updates", std::move(batch)}});
      }
      outbox.clear();
    }

    void call(const Json& c) {
      auto start = std::chrono::steady_clock::now();
      auto r = cluster->master_.agentCall(c, streamId);
      cluster->counters_.callSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!r) {
        ++cluster->counters_.callsFailed;
        cluster->counters_.lastError = r.error().message;
      }
    }
  };

  EventLoop& loop_;
  kernel::Master& master_;
  SimAgentOptions options_;
  std::vector<std::shared_ptr<Agent>> agents_;
  SimAgentCounters counters_;
};

}  // namespace dcos::bench
