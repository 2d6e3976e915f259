// Marathon-like scale benchmark: how long the service scheduler hosted in the master takes to
// bring one app from 0 to N instances RUNNING on simulated agents, and back to 0.
//
// One process, one EventLoop thread: a kernel::Master (temp work dir, SQLite registry), the
// marathon::Service on it, and --agents simulated agents (benchmarks/sim_agents.hpp) subscribed
// in-process that answer RUN_TASK with TASK_STARTING then TASK_RUNNING, and KILL_TASK with
// TASK_KILLED, as a real agent does but without starting processes. The app is driven through
// the service's own HTTP routes (Router::dispatch, no sockets): POST /v2/apps with 0 instances,
// PUT instances=N, then GET /v2/apps?id=..&embed=apps.counts polled every few milliseconds.
//
// The reference lines are published figures, NOT measured in this run: Nomad's C1M (1,000,000
// containers on 5,000 hosts by 5 servers, ≈3,750 containers/s) and a Marathon report where a
// 500-instance app took 14 s to be running. Nothing passes or fails here.
//
//   ./build/benchmarks/marathon-scale-bench [--agents 1000] [--instances 10000]
//        [--allocation-interval-ms 50] [--cpus 0.1] [--mem 32] [--timeout-s 600] [--tmp /tmp]
//
// --tmp /dev/shm puts the work dir on tmpfs, where fdatasync costs nothing: the difference with
// the default run is what the synchronous SQLite commits (master.db, marathon.db) cost.
#include "benchmarks/sim_agents.hpp"
#include "common/clock.hpp"
#include "common/event_loop.hpp"
#include "common/http/http.hpp"
#include "common/http/router.hpp"
#include "common/log.hpp"
#include "discovery/discovery.hpp"
#include "kernel/master/master.hpp"
#include "marathon_like/service.hpp"

#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <tuple>

using namespace dcos;

namespace {

constexpr double kNomadC1mPerSecond = 3750.0;  // 1M containers, C1M challenge (2020)
constexpr double kMarathonInstances = 500, kMarathonSeconds = 14;

struct Args {
  int agents = 1000;
  int instances = 10000;
  int allocationIntervalMs = 50;
  double cpus = 0.1;
  double mem = 32;
  int timeoutS = 600;
  std::string tmpParent = "/tmp";  // where the work dir (master.db, marathon.db) goes
  bool dns = false;                // also run discovery (DNS zone rebuilt as tasks change)
};

Args parseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--agents") a.agents = std::atoi(next());
    else if (k == "--instances") a.instances = std::atoi(next());
    else if (k == "--allocation-interval-ms") a.allocationIntervalMs = std::atoi(next());
    else if (k == "--cpus") a.cpus = std::atof(next());
    else if (k == "--mem") a.mem = std::atof(next());
    else if (k == "--timeout-s") a.timeoutS = std::atoi(next());
    else if (k == "--tmp") a.tmpParent = next();
    else if (k == "--dns") a.dns = true;
    else {
      std::fprintf(stderr,
                   "usage: marathon-scale-bench [--agents N] [--instances N] [--allocation-interval-ms MS]\n"
                   "                            [--cpus C] [--mem MB] [--timeout-s S] [--tmp DIR] [--dns]\n");
      std::exit(2);
    }
  }
  return a;
}

double peakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

// Bytes malloc has handed out and not got back (all arenas): live heap, without fragmentation.
double heapInUseMb() { return static_cast<double>(mallinfo2().uordblks) / (1024.0 * 1024.0); }

double currentRssMb() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long pages = 0, resident = 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// Runs fn on the loop thread and waits for its result.
template <typename F>
auto onLoop(EventLoop& loop, F fn) -> decltype(fn()) {
  std::promise<decltype(fn())> done;
  auto future = done.get_future();
  loop.post([&] {
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      done.set_value();
    } else {
      done.set_value(fn());
    }
  });
  return future.get();
}

// A Responder sink that keeps the response (the service's app routes answer synchronously).
struct CaptureSink : http::Responder::Sink {
  http::Response response;
  void send(http::Response r) override { response = std::move(r); }
  std::shared_ptr<http::ResponseStream> stream(int, http::Headers) override { return nullptr; }
};

// One request through the router, on the loop thread.
http::Response call(EventLoop& loop, const http::Router& router, std::string method, std::string target,
                    std::string body = "") {
  return onLoop(loop, [&] {
    http::Request req;
    req.method = std::move(method);
    req.target = target;
    auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string query = target.substr(q + 1);
      size_t start = 0;
      while (start <= query.size()) {
        size_t end = query.find('&', start);
        if (end == std::string::npos) end = query.size();
        std::string kv = query.substr(start, end - start);
        auto eq = kv.find('=');
        if (!kv.empty()) {
          req.query.emplace_back(http::percentDecode(kv.substr(0, eq), true),
                                 eq == std::string::npos ? "" : http::percentDecode(kv.substr(eq + 1), true));
        }
        start = end + 1;
      }
    }
    req.headers["Content-Type"] = "application/json";
    req.body = std::move(body);
    req.remoteAddress = "127.0.0.1";
    auto sink = std::make_shared<CaptureSink>();
    router.dispatch(req, http::Responder(sink));
    return std::move(sink->response);
  });
}

struct Counts {
  int64_t running = 0, staged = 0, deployments = 0;
  int64_t agentRunTasks = 0, agentRunning = 0;
};

Counts poll(EventLoop& loop, const http::Router& router, const bench::SimAgentCluster& cluster, const std::string& appId) {
  auto r = call(loop, router, "GET", "/v2/apps?id=" + appId + "&embed=apps.counts&embed=apps.deployments");
  Counts c;
  auto j = parseJson(r.body);
  if (r.status == 200 && j && (*j)["apps"].is_array() && !(*j)["apps"].empty()) {
    const Json& app = (*j)["apps"][0];
    c.running = app.value("tasksRunning", int64_t{0});
    c.staged = app.value("tasksStaged", int64_t{0});
    c.deployments = static_cast<int64_t>(app.value("deployments", Json::array()).size());
  }
  auto counters = onLoop(loop, [&] { return cluster.counters(); });
  c.agentRunTasks = counters.runTasks;
  c.agentRunning = counters.running;
  return c;
}

using SteadyClock = std::chrono::steady_clock;
double secondsSince(SteadyClock::time_point t) { return std::chrono::duration<double>(SteadyClock::now() - t).count(); }

struct Phase {
  double firstRunning = -1, allLaunched = -1, allRunning = -1, deploymentDone = -1;
  double maxPollS = 0;  // the slowest GET /v2/apps: how long the loop made an API client wait
  int polls = 0;
  bool timedOut = false;
};

// Polls until `done` holds (and the app's deployment is over), recording milestones.
template <typename Done>
Phase waitFor(EventLoop& loop, const http::Router& router, const bench::SimAgentCluster& cluster,
              const std::string& appId, int target, int timeoutS, SteadyClock::time_point start, Done done) {
  Phase p;
  auto deadline = start + std::chrono::seconds(timeoutS);
  int lastReport = 0;
  for (;;) {
    auto before = SteadyClock::now();
    Counts c = poll(loop, router, cluster, appId);
    p.maxPollS = std::max(p.maxPollS, secondsSince(before));
    ++p.polls;
    double t = secondsSince(start);
    if (p.firstRunning < 0 && c.running > 0) p.firstRunning = t;
    if (p.allLaunched < 0 && c.agentRunTasks >= target) p.allLaunched = t;
    if (p.allRunning < 0 && done(c)) p.allRunning = t;
    if (p.allRunning >= 0 && c.deployments == 0) {
      p.deploymentDone = t;
      return p;
    }
    if (static_cast<int>(t) / 5 > lastReport) {
      lastReport = static_cast<int>(t) / 5;
      std::fprintf(stderr, "  ... %5.1f s: running %lld, staged %lld, agents got %lld RUN_TASK, deployments %lld\n", t,
                   static_cast<long long>(c.running), static_cast<long long>(c.staged),
                   static_cast<long long>(c.agentRunTasks), static_cast<long long>(c.deployments));
    }
    if (SteadyClock::now() > deadline) {
      p.timedOut = true;
      return p;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void printPhase(const char* name, const Phase& p, int n) {
  auto s = [](double v) { return v < 0 ? std::string("-") : fmt::format("{:.3f}", v); };
  std::printf("%-12s %10s %12s %14s %12s %12s%s\n", name, s(p.firstRunning).c_str(), s(p.allLaunched).c_str(),
              s(p.allRunning).c_str(), s(p.deploymentDone).c_str(),
              p.allRunning > 0 ? fmt::format("{:.0f}", n / p.allRunning).c_str() : "-", p.timedOut ? "  TIMED OUT" : "");
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parseArgs(argc, argv);
  log::configure(log::Level::kWarn, false);
  std::string tmpl = args.tmpParent + "/marathon-scale-bench-XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  std::string workDir = tmpl;

  EventLoop loop;
  std::thread loopThread([&] { loop.run(); });
  http::Router router;
  std::unique_ptr<kernel::Master> master;
  std::unique_ptr<marathon::Service> service;
  std::unique_ptr<bench::SimAgentCluster> cluster;
  std::unique_ptr<discovery::Discovery> dns;

  double rssStart = currentRssMb();
  auto opened = onLoop(loop, [&]() -> Result<void> {
    kernel::MasterOptions mo;
    mo.allocationInterval = std::chrono::milliseconds(args.allocationIntervalMs);
    mo.hostname = "bench-master";
    auto m = kernel::Master::open(loop, SystemClock::instance(), workDir, mo);
    if (!m) return m.error();
    master = std::move(*m);
    marathon::ServiceOptions so;
    so.workDir = workDir;
    so.hostname = mo.hostname;
    so.port = 5050;
    auto s = marathon::Service::open(loop, SystemClock::instance(), *master, so);
    if (!s) return s.error();
    service = std::move(*s);
    master->registerRoutes(router);
    service->registerRoutes(router);
    master->start();
    service->start(so.port);
    bench::SimAgentOptions simOptions;
    if (args.dns) {
      discovery::DiscoveryOptions d;
      d.server.address = "127.0.0.1";
      d.server.port = 0;
      d.server.recurse = false;
      auto opened = discovery::Discovery::open(loop, *master, d);
      if (!opened) return opened.error();
      dns = std::move(*opened);
      dns->start(so.port);
      simOptions.addressHostnames = true;  // so that every task is in the zone
    }
    cluster = std::make_unique<bench::SimAgentCluster>(loop, *master, simOptions);
    return {};
  });
  if (!opened) {
    std::fprintf(stderr, "cannot start: %s\n", opened.error().message.c_str());
    loop.stop();
    loopThread.join();
    return 1;
  }

  auto t0 = SteadyClock::now();
  auto added = onLoop(loop, [&] { return cluster->addAgents(args.agents); });
  double subscribeS = secondsSince(t0);
  if (!added) {
    std::fprintf(stderr, "agents cannot subscribe: %s\n", added.error().message.c_str());
    return 1;
  }
  double rssAgents = currentRssMb();

  const std::string appId = "/bench/sleep";
  Json app = {{"id", appId}, {"cmd", "sleep 3600"}, {"cpus", args.cpus}, {"mem", args.mem}, {"instances", 0}};
  auto created = call(loop, router, "POST", "/v2/apps", app.dump());
  if (created.status != 201) {
    std::fprintf(stderr, "POST /v2/apps answered %d: %s\n", created.status, created.body.c_str());
    return 1;
  }
  // The empty deployment of the creation must be over before the scale starts.
  waitFor(loop, router, *cluster, appId, 0, 10, SteadyClock::now(), [](const Counts&) { return true; });

  std::printf("dcos marathon-like scale benchmark: %d simulated agents (in-process, %s), one app of %d instance(s)\n"
              "(cpus %.2f, mem %.0f, one host port), allocation interval %d ms, driven through the HTTP routes;\n"
              "work dir %s.\n\n",
              args.agents, "cpus:16;mem:65536;disk:100000;ports:[31000-32000]", args.instances, args.cpus, args.mem,
              args.allocationIntervalMs, workDir.c_str());
  std::printf("%d agents subscribed in %.3f s\n\n", args.agents, subscribeS);
  std::fflush(stdout);

  auto t1 = SteadyClock::now();
  auto put = call(loop, router, "PUT", "/v2/apps" + appId, Json{{"instances", args.instances}}.dump());
  if (put.status != 200) {
    std::fprintf(stderr, "PUT answered %d: %s\n", put.status, put.body.c_str());
    return 1;
  }
  Phase up = waitFor(loop, router, *cluster, appId, args.instances, args.timeoutS, t1,
                     [&](const Counts& c) { return c.running >= args.instances; });
  double rssUp = currentRssMb();
  double peakUp = peakRssMb();
  double heapUp = onLoop(loop, [] { return heapInUseMb(); });
  // What the master keeps per task, serialized (its Json trees take several times more).
  auto [masterTasks, taskInfoBytes, statusBytes] = onLoop(loop, [&] {
    size_t info = 0, status = 0;
    for (const auto& [key, t] : master->tasks()) {
      info += t.task.dump().size();
      status += t.status.dump().size();
    }
    return std::tuple<size_t, size_t, size_t>{master->tasks().size(), info, status};
  });

  auto t2 = SteadyClock::now();
  auto down = call(loop, router, "PUT", "/v2/apps" + appId, Json{{"instances", 0}}.dump());
  if (down.status != 200) {
    std::fprintf(stderr, "PUT answered %d: %s\n", down.status, down.body.c_str());
    return 1;
  }
  Phase dn = waitFor(loop, router, *cluster, appId, 0, args.timeoutS, t2,
                     [](const Counts& c) { return c.running == 0 && c.staged == 0; });
  dn.firstRunning = -1;
  dn.allLaunched = -1;
  auto counters = onLoop(loop, [&] { return cluster->counters(); });
  double heapDown = onLoop(loop, [] { return heapInUseMb(); });

  std::printf("%-12s %10s %12s %14s %12s %12s\n", "phase", "first s", "launched s", "all RUNNING s", "deployed s",
              "tasks/s");
  printPhase("0 -> N", up, args.instances);
  std::printf("%-12s %10s %12s %14s %12s %12s%s\n", "N -> 0", "-", "-",
              dn.allRunning < 0 ? "-" : fmt::format("{:.3f}", dn.allRunning).c_str(),
              dn.deploymentDone < 0 ? "-" : fmt::format("{:.3f}", dn.deploymentDone).c_str(),
              dn.allRunning > 0 ? fmt::format("{:.0f}", args.instances / dn.allRunning).c_str() : "-",
              dn.timedOut ? "  TIMED OUT" : "");
  std::printf("(N -> 0: \"all RUNNING s\" = until no instance is left RUNNING or staged; tasks/s = kills/s)\n");
  std::printf("slowest GET /v2/apps poll (the loop busy with other work): %.3f s scaling up (%d polls), %.3f s scaling "
              "down (%d polls)\n\n", up.maxPollS, up.polls, dn.maxPollS, dn.polls);
  std::printf("memory: RSS %.0f MB at start, %.0f MB with the agents, %.0f MB at N running (peak %.0f MB), %.0f MB "
              "after scaling to 0; peak RSS %.0f MB\n",
              rssStart, rssAgents, rssUp, peakUp, currentRssMb(), peakRssMb());
  std::printf("heap in use (mallinfo2): %.0f MB at N running, %.0f MB after scaling to 0: %.1f KB per instance\n",
              heapUp, heapDown, (heapUp - heapDown) * 1024 / std::max(1, args.instances));
  std::printf("the master held %zu tasks at N running; per task TaskInfo %.0f bytes and latest status %.0f bytes "
              "as JSON text\n", masterTasks, masterTasks ? double(taskInfoBytes) / masterTasks : 0.0,
              masterTasks ? double(statusBytes) / masterTasks : 0.0);
  std::printf("agents: %lld tasks received, %lld kills, %lld updates sent, %lld acks, %.3f s inside Master::agentCall, "
              "%lld failed calls%s%s\n\n",
              static_cast<long long>(counters.runTasks), static_cast<long long>(counters.kills),
              static_cast<long long>(counters.updatesSent), static_cast<long long>(counters.acks),
              counters.callSeconds, static_cast<long long>(counters.callsFailed), counters.lastError.empty() ? "" : ", last: ",
              counters.lastError.c_str());

  if (dns) {
    auto st = onLoop(loop, [&] { return dns->stats(); });
    std::printf("discovery: %llu zone rebuilds (up to %zu tasks), %.3f s of snapshots on the loop (%.2f ms each), "
                "%.3f s of zone builds off the loop\n\n",
                static_cast<unsigned long long>(st.rebuilds), st.maxTasks, st.snapshotSeconds,
                st.rebuilds ? 1000 * st.snapshotSeconds / static_cast<double>(st.rebuilds) : 0.0, st.buildSeconds);
  }
  std::printf("References (published figures, NOT measured in this run; different hardware and real containers):\n");
  std::printf("  Nomad C1M: 1,000,000 containers on 5,000 hosts, 5 servers   ~%.0f containers/s\n", kNomadC1mPerSecond);
  std::printf("  Marathon: a %.0f-instance app needed %.0f s                    ~%.1f tasks/s\n", kMarathonInstances,
              kMarathonSeconds, kMarathonInstances / kMarathonSeconds);
  if (up.allRunning > 0) {
    double rate = args.instances / up.allRunning;
    std::printf("  ours, 0 -> %d RUNNING: %.0f tasks/s = %.2fx Nomad's C1M rate, %.1fx the Marathon report's rate\n",
                args.instances, rate, rate / kNomadC1mPerSecond, rate / (kMarathonInstances / kMarathonSeconds));
  }
  std::fflush(stdout);

  onLoop(loop, [&] {
    service->stop();
    dns.reset();
    cluster.reset();
    service.reset();
    master.reset();
  });
  loop.stop();
  loopThread.join();
  std::error_code ec;
  std::filesystem::remove_all(workDir, ec);
  return up.timedOut || dn.timedOut ? 1 : 0;
}
