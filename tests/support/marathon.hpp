#pragma once
// Helpers for integration tests of the Marathon-compatible /v2 API: a master with 1-3 agents
// (real processes of the built binary, each agent with its own hostname and range of ports), JSON
// requests, the tasks of an app as /v2/apps/{id}/tasks lists them, waiting for healthy
// instances and finished deployments, and a client of the /v2/events Server-Sent Events stream.
// Every expectation is Marathon's documented contract (docs/docs/rest-api/public/api/v2/*.raml).
#include "tests/support/cluster.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace dcos::test {

// ---------------------------------------------------------------------------------------------
// Requests

// A reply with its body parsed as JSON (null when it is not JSON).
struct JsonReply {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  nlohmann::json json;
  // For failure messages: "<status> <body>".
  std::string text() const { return std::to_string(status) + " " + body; }
};

inline JsonReply toJsonReply(const HttpReply& r) {
  JsonReply out{r.status, r.headers, r.body, nullptr};
  out.json = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (out.json.is_discarded()) out.json = nullptr;
  return out;
}

inline JsonReply mRequest(int port, const std::string& method, const std::string& target, const std::string& body = "") {
  std::map<std::string, std::string> headers{{"Accept", "application/json"}};
  if (!body.empty() || method == "POST" || method == "PUT") headers["Content-Type"] = "application/json";
  try {
    return toJsonReply(httpRequest(port, method, target, body, headers));
  } catch (const std::exception& e) {
    JsonReply r;
    r.body = std::string("request failed: ") + e.what();
    return r;
  }
}
inline JsonReply mGet(int port, const std::string& target) { return mRequest(port, "GET", target); }
inline JsonReply mPost(int port, const std::string& target, const nlohmann::json& body) {
  return mRequest(port, "POST", target, body.dump());
}
inline JsonReply mPut(int port, const std::string& target, const nlohmann::json& body) {
  return mRequest(port, "PUT", target, body.dump());
}
inline JsonReply mDelete(int port, const std::string& target) { return mRequest(port, "DELETE", target); }

// ---------------------------------------------------------------------------------------------
// A cluster: one `dcos master` and agents named agent-1..N.

// The first of 100 host ports of agent `index` (0-based): distinct per agent, and per test
// process so test executables running side by side do not hand out the same ports. Below the
// kernel's ephemeral range (32768+), so the HTTP servers of tasks never meet a client socket.
inline int agentPortBase(int index) {
  static const int processSlot = static_cast<int>(::getpid() % 30);
  return 20000 + processSlot * 400 + index * 100;
}

// A `dcos dev` cluster (master and agent in one process) in dir/dev: 4 cpus, 4 GiB, this test
// process's own 100 task ports (agentPortBase), 50 ms allocation rounds, plus `extra` flags;
// on `port` when given (a restart on the same port), else a free one.
inline std::unique_ptr<MasterProcess> startDevCluster(const TempDir& dir, std::vector<std::string> extra = {}, int port = 0) {
  int base = agentPortBase(0);
  std::vector<std::string> args{"--allocation_interval=50ms", "--resources=cpus:4;mem:4096;disk:4096;ports:[" +
                                                                  std::to_string(base) + "-" + std::to_string(base + 99) + "]"};
  args.insert(args.end(), extra.begin(), extra.end());
  if (port) args.push_back("--port=" + std::to_string(port));
  return std::make_unique<MasterProcess>(dir.file("dev"), args, "dev");
}

struct AgentOptions {
  // Empty: 127.0.0.1, which resolves everywhere (the scheduler probes readiness checks at the
  // agent's hostname).
  std::string hostname;
  std::string attributes;
  std::string resources;  // empty: cpus:2;mem:1024;disk:1024 and this agent's 100 ports
};

class MarathonCluster {
 public:
  // A master and `agents` agents; agent i is "agent-<i+1>" when `distinctHostnames` (for UNIQUE
  // hostname constraints), otherwise every agent is 127.0.0.1.
  // `masterArgs` are added to the master's flags (on restarts too).
  explicit MarathonCluster(int agents = 1, bool distinctHostnames = false, std::vector<std::string> masterArgs = {})
      : masterArgs_(std::move(masterArgs)) {
    std::filesystem::create_directories(dir.file("launches"));
    startMaster();
    for (int i = 0; i < agents; ++i) {
      AgentOptions o;
      if (distinctHostnames) o.hostname = "agent-" + std::to_string(i + 1);
      addAgent(o);
    }
    REQUIRE_MESSAGE(waitFor([&] { return activeAgentsSafe() == agents; }, 15s),
                    "agents did not register with the master: ", master->process().stderrText());
  }

  int port() const { return port_; }

  void addAgent(const AgentOptions& o) {
    int index = static_cast<int>(agents.size());
    int base = agentPortBase(index);
    std::string resources = o.resources.empty() ? "cpus:2;mem:1024;disk:1024;ports:[" + std::to_string(base) + "-" +
                                                      std::to_string(base + 99) + "]"
                                                : o.resources;
    std::vector<std::string> args{"--master=127.0.0.1:" + std::to_string(port_), "--resources=" + resources,
                                  "--hostname=" + (o.hostname.empty() ? std::string("127.0.0.1") : o.hostname)};
    if (!o.attributes.empty()) args.push_back("--attributes=" + o.attributes);
    agents.push_back(std::make_unique<MasterProcess>(dir.file("agent-" + std::to_string(index + 1)), args, "agent"));
  }

  // kill -9 of the master (its agents, executors and tasks keep running).
  void killMaster() {
    master->process().signal(SIGKILL);
    master->process().wait(5s);
  }
  // The master again, on the same work dir and port.
  void restartMaster() {
    master.reset();
    startMaster(port_);
  }

  int activeAgentsSafe() const {
    try {
      return activeAgents(port_);
    } catch (const std::exception&) {
      return -1;
    }
  }

  // Everything the master wrote to stderr (for failure messages).
  std::string masterLog() const { return master->process().stderrText(); }

  TempDir dir;
  std::unique_ptr<MasterProcess> master;
  std::vector<std::unique_ptr<MasterProcess>> agents;

 private:
  void startMaster(int fixedPort = 0) {
    std::vector<std::string> args{"--allocation_interval=50ms", "--decline_offer_duration=1secs"};
    args.insert(args.end(), masterArgs_.begin(), masterArgs_.end());
    if (fixedPort) args.push_back("--port=" + std::to_string(fixedPort));
    master = std::make_unique<MasterProcess>(dir.file("master"), args);
    port_ = master->port();
  }

  std::vector<std::string> masterArgs_;
  int port_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Apps and tasks

// A Marathon HTTP (scheduler-side) or MESOS_HTTP (executor-side) health check of port index 0,
// every second from the start, `grace` seconds of grace, 3 failures allowed.
inline nlohmann::json httpHealthCheck(const std::string& protocol = "HTTP", const std::string& path = "/", int grace = 10) {
  // delaySeconds (default 15) would hold the first check of a MESOS_HTTP check back that long.
  return {{"protocol", protocol},        {"path", path},         {"portIndex", 0},
          {"intervalSeconds", 1},        {"timeoutSeconds", 1},  {"gracePeriodSeconds", grace},
          {"maxConsecutiveFailures", 3}, {"delaySeconds", 0}};
}

// A shell command that records its launch (a line "<pid> <task id>" in dir/launches/<name>) and
// then becomes (exec) `python3 -m http.server $PORT0` on loopback, after `delaySeconds`.
inline std::string httpServerCmd(const TempDir& dir, const std::string& name, double delaySeconds = 0) {
  std::ostringstream cmd;
  cmd << "echo \"$$ $MESOS_TASK_ID\" >> " << dir.file("launches/" + name) << "; ";
  if (delaySeconds > 0) cmd << "sleep " << delaySeconds << "; ";
  cmd << "exec python3 -m http.server $PORT0 --bind 127.0.0.1";
  return cmd.str();
}

// A command that records its launch like httpServerCmd and then sleeps (no port needed).
inline std::string sleeperCmd(const TempDir& dir, const std::string& name) {
  return "echo \"$$ $MESOS_TASK_ID\" >> " + dir.file("launches/" + name) + "; exec sleep 600";
}

// The pids recorded in dir/launches/<name>, one per launch.
inline std::vector<int> launchedPids(const TempDir& dir, const std::string& name) {
  std::vector<int> out;
  std::istringstream in(readFile(dir.file("launches/" + name)));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(std::atoi(line.c_str()));
  }
  return out;
}
inline int alivePids(const TempDir& dir, const std::string& name) {
  auto pids = launchedPids(dir, name);
  return static_cast<int>(std::count_if(pids.begin(), pids.end(), [](int p) { return p > 0 && processAlive(p); }));
}

// A small app: 0.1 cpus, 32 MB, one port.
inline nlohmann::json appDef(const std::string& id, const std::string& cmd, int instances = 1) {
  return {{"id", id}, {"cmd", cmd}, {"cpus", 0.1}, {"mem", 32}, {"instances", instances}};
}

// GET /v2/apps/{id}/tasks → the "tasks" array (empty on any failure).
inline nlohmann::json appTasks(int port, const std::string& appId) {
  JsonReply r = mGet(port, "/v2/apps" + appId + "/tasks");
  if (r.status != 200 || !r.json.is_object() || !r.json.contains("tasks") || !r.json["tasks"].is_array()) {
    return nlohmann::json::array();
  }
  return r.json["tasks"];
}

// GET /v2/tasks → the "tasks" array.
inline nlohmann::json allTasks(int port) {
  JsonReply r = mGet(port, "/v2/tasks");
  if (r.status != 200 || !r.json.is_object() || !r.json["tasks"].is_array()) return nlohmann::json::array();
  return r.json["tasks"];
}

inline std::string jstr(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

inline bool taskRunning(const nlohmann::json& t) { return jstr(t, "state") == "TASK_RUNNING"; }

// Healthy as Marathon counts it: running, with health results, all alive.
inline bool taskHealthy(const nlohmann::json& t) {
  if (!taskRunning(t) || !t.contains("healthCheckResults") || !t["healthCheckResults"].is_array() ||
      t["healthCheckResults"].empty()) {
    return false;
  }
  for (const auto& h : t["healthCheckResults"]) {
    if (!h.value("alive", false)) return false;
  }
  return true;
}

inline int countRunning(const nlohmann::json& tasks) {
  return static_cast<int>(std::count_if(tasks.begin(), tasks.end(), [](const nlohmann::json& t) { return taskRunning(t); }));
}
inline int countHealthy(const nlohmann::json& tasks) {
  return static_cast<int>(std::count_if(tasks.begin(), tasks.end(), [](const nlohmann::json& t) { return taskHealthy(t); }));
}

inline bool waitForRunning(int port, const std::string& appId, int n, std::chrono::milliseconds timeout) {
  return waitFor([&] {
    auto tasks = appTasks(port, appId);
    return countRunning(tasks) == n && static_cast<int>(tasks.size()) == n;
  }, timeout);
}
inline bool waitForHealthy(int port, const std::string& appId, int n, std::chrono::milliseconds timeout) {
  return waitFor([&] {
    auto tasks = appTasks(port, appId);
    return countHealthy(tasks) == n && static_cast<int>(tasks.size()) == n;
  }, timeout);
}

// GET /v2/deployments → the array (null on failure).
inline nlohmann::json deployments(int port) {
  JsonReply r = mGet(port, "/v2/deployments");
  return r.status == 200 && r.json.is_array() ? r.json : nlohmann::json(nullptr);
}
inline bool deploymentListed(int port, const std::string& id) {
  auto ds = deployments(port);
  if (!ds.is_array()) return false;
  return std::any_of(ds.begin(), ds.end(), [&](const nlohmann::json& d) { return jstr(d, "id") == id; });
}
inline bool waitForNoDeployments(int port, std::chrono::milliseconds timeout) {
  return waitFor([&] {
    auto ds = deployments(port);
    return ds.is_array() && ds.empty();
  }, timeout);
}

inline std::set<std::string> taskIds(const nlohmann::json& tasks) {
  std::set<std::string> out;
  for (const auto& t : tasks) out.insert(jstr(t, "id"));
  return out;
}

// Milliseconds since the epoch of Marathon's ISO-8601 timestamps ("2015-08-26T20:23:44.678Z");
// -1 when it does not parse.
inline int64_t isoMillis(const std::string& s) {
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d%n", &year, &month, &day, &hour, &minute, &second, &consumed) != 6) return -1;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  if (static_cast<size_t>(consumed) < s.size() && s[consumed] == '.') {
    std::string frac;
    for (size_t i = consumed + 1; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) frac += s[i];
    frac = (frac + "000").substr(0, 3);
    ms += std::stoi(frac);
  }
  return ms;
}

// Connects to 127.0.0.1:port; true when something accepts.
inline bool portAccepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// ---------------------------------------------------------------------------------------------
// The event stream

// A client of GET /v2/events (text/event-stream) on a thread of its own: keeps every event in
// arrival order as {name: the `event:` field, data: the parsed `data:` JSON}. Understands chunked
// transfer encoding. Closes the connection on destruction.
class EventStream {
 public:
  struct Event {
    std::string name;
    nlohmann::json data;
    std::string type() const { return data.is_object() && data.contains("eventType") ? data["eventType"].get<std::string>() : name; }
  };

  EventStream(int port, const std::string& target = "/v2/events") {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
    thread_ = std::thread([this] { run(); });
  }
  ~EventStream() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  bool connected() const { return fd_ >= 0; }
  int status() const { return status_; }
  std::string header(const std::string& name) {
    std::lock_guard lock(mu_);
    return headers_.count(name) ? headers_[name] : "";
  }
  std::vector<Event> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<std::string> types() {
    std::vector<std::string> out;
    for (const auto& e : events()) out.push_back(e.type());
    return out;
  }
  // Everything received so far, raw (for failure messages).
  std::string raw() {
    std::lock_guard lock(mu_);
    return raw_.substr(0, 20000);
  }
  bool waitForType(const std::string& type, std::chrono::milliseconds timeout) {
    return waitFor([&] {
      auto t = types();
      return std::find(t.begin(), t.end(), type) != t.end();
    }, timeout);
  }

 private:
  void run() {
    std::string buf;
    char chunk[16384];
    bool headDone = false, chunked = false;
    std::string body;  // de-chunked bytes not yet split into events
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      {
        std::lock_guard lock(mu_);
        if (raw_.size() < 1000000) raw_.append(chunk, static_cast<size_t>(n));
      }
      if (!headDone) {
        auto end = buf.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        HttpReply head = parseReply(buf.substr(0, end + 4));
        status_ = head.status;
        {
          std::lock_guard lock(mu_);
          headers_ = head.headers;
        }
        auto te = head.headers.find("transfer-encoding");
        chunked = te != head.headers.end() && te->second.find("chunked") != std::string::npos;
        buf.erase(0, end + 4);
        headDone = true;
      }
      if (chunked) {
        while (true) {
          auto lineEnd = buf.find("\r\n");
          if (lineEnd == std::string::npos) break;
          size_t size = std::strtoul(buf.substr(0, lineEnd).c_str(), nullptr, 16);
          if (buf.size() < lineEnd + 2 + size + 2) break;
          body += buf.substr(lineEnd + 2, size);
          buf.erase(0, lineEnd + 2 + size + 2);
          if (size == 0) break;
        }
      } else {
        body += buf;
        buf.clear();
      }
      splitEvents(body);
    }
  }

  // Takes every complete event (ended by a blank line) off the front of `body`.
  void splitEvents(std::string& body) {
    while (true) {
      size_t end = body.find("\n\n");
      size_t crlf = body.find("\r\n\r\n");
      size_t sep = 2;
      if (crlf != std::string::npos && (end == std::string::npos || crlf < end)) end = crlf, sep = 4;
      if (end == std::string::npos) return;
      std::string block = body.substr(0, end);
      body.erase(0, end + sep);
      Event e;
      std::string data;
      std::istringstream in(block);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto field = [&](const char* name) -> std::optional<std::string> {
          std::string prefix = std::string(name) + ":";
          if (line.rfind(prefix, 0) != 0) return std::nullopt;
          std::string v = line.substr(prefix.size());
          if (!v.empty() && v[0] == ' ') v.erase(0, 1);
          return v;
        };
        if (auto v = field("event")) e.name = *v;
        if (auto v = field("data")) data += (data.empty() ? "" : "\n") + *v;
      }
      if (e.name.empty() && data.empty()) continue;  // a comment or keep-alive
      e.data = nlohmann::json::parse(data, nullptr, false);
      if (e.data.is_discarded()) e.data = data;
      std::lock_guard lock(mu_);
      events_.push_back(std::move(e));
    }
  }

  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> status_{0};
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, std::string> headers_;
  std::vector<Event> events_;
  std::string raw_;
};

// ---------------------------------------------------------------------------------------------
// Watching an app while it changes

// Polls GET /v2/apps/{id}/tasks on a thread of its own until stopped, keeping the least number
// of healthy tasks and the most tasks seen at once (and the snapshot of each).
class TaskWatcher {
 public:
  TaskWatcher(int port, std::string appId) : port_(port), appId_(std::move(appId)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        JsonReply r = mGet(port_, "/v2/apps" + appId_ + "/tasks");
        if (r.status != 200 || !r.json.is_object() || !r.json["tasks"].is_array()) {
          std::this_thread::sleep_for(20ms);
          continue;  // a failed poll says nothing about the tasks
        }
        const nlohmann::json& tasks = r.json["tasks"];
        {
          std::lock_guard lock(mu_);
          ++samples_;
          int healthy = countHealthy(tasks);
          int total = static_cast<int>(tasks.size());
          if (healthy < minHealthy_) minHealthy_ = healthy, minHealthySnapshot_ = tasks;
          if (total > maxTasks_) maxTasks_ = total, maxTasksSnapshot_ = tasks;
        }
        std::this_thread::sleep_for(20ms);
      }
    });
  }
  ~TaskWatcher() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int minHealthy() { std::lock_guard l(mu_); return minHealthy_; }
  int maxTasks() { std::lock_guard l(mu_); return maxTasks_; }
  int samples() { std::lock_guard l(mu_); return samples_; }
  std::string minHealthySnapshot() { std::lock_guard l(mu_); return minHealthySnapshot_.dump(); }
  std::string maxTasksSnapshot() { std::lock_guard l(mu_); return maxTasksSnapshot_.dump(); }

 private:
  int port_;
  std::string appId_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  int samples_ = 0;
  int minHealthy_ = 1 << 30;
  int maxTasks_ = 0;
  nlohmann::json minHealthySnapshot_, maxTasksSnapshot_;
};

}  // namespace dcos::test
