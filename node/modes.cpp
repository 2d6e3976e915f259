#include "node/modes.hpp"

#include "common/log.hpp"
#include "discovery/discovery.hpp"
#include "node/discovery_flags.hpp"
#include "kernel/agent/agent.hpp"
#include "kernel/daemon.hpp"
#include "kernel/executor/executor.hpp"
#include "kernel/master/join_token.hpp"
#include "kernel/master/master.hpp"
#include "marathon_like/service.hpp"
#include "universe/package_service.hpp"
#include "web/web.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <optional>

namespace dcos::node {
using namespace dcos::kernel;
namespace {

void addMasterFlags(flags::FlagSet& f) {
  using flags::Type;
  f.add({.name = "allocation_interval", .type = Type::kDuration, .defaultValue = "1secs",
         .help = "Time between batched allocation rounds"});
  f.add({.name = "offer_timeout", .type = Type::kDuration, .defaultValue = "0secs",
         .help = "Rescind offers not used within this time (0 = never)"});
  f.add({.name = "agent_ping_timeout", .type = Type::kDuration, .defaultValue = "15secs",
         .help = "Time an agent has to answer a ping"});
  f.add({.name = "max_agent_ping_timeouts", .type = Type::kInt, .defaultValue = "5",
         .help = "Missed pings before an agent is UNREACHABLE", .min = 1, .max = 1000});
  f.add({.name = "agent_removal_timeout", .type = Type::kDuration, .defaultValue = "10mins",
         .help = "Time an UNREACHABLE agent has to come back before it is GONE"});
  f.add({.name = "hostname", .defaultValue = "", .help = "Hostname the master advertises (default: this machine's)"});
  f.add({.name = "weights", .defaultValue = "", .help = "DRF weights of roles, e.g. 'ads=2,batch=0.5' (others weigh 1)",
         .validate = [](const std::string& v) {
           auto w = parseWeights(v);
           return w ? std::string() : w.error().message;
         }});
  // The service scheduler (Marathon's flag names).
  f.add({.name = "decline_offer_duration", .type = Type::kDuration, .defaultValue = "120secs",
         .help = "How long offers the service scheduler declines stay away (new demand revives them at once)"});
  f.add({.name = "reconciliation_interval", .type = Type::kDuration, .defaultValue = "10mins",
         .help = "Time between the service scheduler's task reconciliations with the master"});
  f.add({.name = "event_stream_heartbeat_interval", .type = Type::kDuration, .defaultValue = "15secs",
         .help = "Time between keep-alive comments on /v2/events"});
  addDiscoveryFlags(f);
  f.add({.name = "web_dir", .defaultValue = "",
         .help = "Serve the dashboard from this directory (e.g. web/assets) instead of the embedded copy, "
                 "re-read on every request: for developing the dashboard"});
}

// A number in [0, 1], e.g. "0.1".
std::optional<double> parseFraction(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(v >= 0.0 && v <= 1.0)) return std::nullopt;
  return v;
}

void masterFlags(flags::FlagSet& f) {
  addDaemonFlags(f, 5050, "");
  addMasterFlags(f);
}

// The master's process: the kernel master and the service scheduler it hosts. The scheduler goes
// first (it calls into the master).
struct MasterNode {
  std::unique_ptr<Master> master;
  std::unique_ptr<discovery::Discovery> discovery;  // null with --dns_port=off
  std::unique_ptr<marathon::Service> marathon;
  std::unique_ptr<universe::PackageService> packages;  // installs through `marathon`
  JoinToken token;  // agents present it (kernel/master/join_token.hpp)
  std::string hostname, workDir;
  ~MasterNode() {
    discovery.reset();
    packages.reset();
    marathon.reset();
  }
  // Once the HTTP port is bound (it may have been 0): the scheduler subscribes. On the first
  // start, the one time the token is shown, the log says how agents join.
  void listening(uint16_t port) {
    master->listening(port);
    marathon->start(port);
    if (discovery) discovery->start(port);
    if (!token.created) return;
    log::get("master").info("created the join token in '{}/{}'; agents join with: dcos agent --master {}:{} --token {}",
                            workDir, kJoinTokenFile, hostname, port, token.value);
  }
};

// Opens the master and the service scheduler on the daemon's loop, serving their APIs and the
// dashboard.
Result<std::unique_ptr<MasterNode>> startMaster(DaemonContext& ctx) {
  MasterOptions o;
  o.allocationInterval = std::max<Duration>(ctx.flags.getDuration("allocation_interval"), std::chrono::milliseconds(10));
  if (auto t = ctx.flags.getDuration("offer_timeout"); t.count() > 0) o.offerTimeout = t;
  o.agentPingTimeout = std::max<Duration>(ctx.flags.getDuration("agent_ping_timeout"), std::chrono::milliseconds(10));
  o.maxAgentPingTimeouts = static_cast<int>(ctx.flags.getInt("max_agent_ping_timeouts"));
  o.agentRemovalTimeout = ctx.flags.getDuration("agent_removal_timeout");
  o.hostname = ctx.flags.getString("hostname");
  if (o.hostname.empty()) {
    char buf[256] = {};
    gethostname(buf, sizeof buf - 1);
    o.hostname = buf;
  }
  o.port = static_cast<uint16_t>(ctx.flags.getInt("port"));
  o.weights = parseWeights(ctx.flags.getString("weights")).value();
  o.flags = ctx.flags.values();
  auto node = std::make_unique<MasterNode>();
  auto token = loadOrCreateJoinToken(ctx.workDir);
  if (!token) return token.error();
  node->token = std::move(*token);
  node->hostname = o.hostname;
  node->workDir = ctx.workDir;
  o.joinToken = node->token.value;
  auto m = Master::open(ctx.loop, SystemClock::instance(), ctx.workDir, o);
  if (!m) return m.error();
  node->master = std::move(*m);

  marathon::ServiceOptions so;
  so.workDir = ctx.workDir;
  so.hostname = o.hostname;
  so.declineOfferDuration = ctx.flags.getDuration("decline_offer_duration");
  so.reconciliationInterval = std::max<Duration>(ctx.flags.getDuration("reconciliation_interval"), std::chrono::seconds(1));
  so.eventHeartbeat = std::max<Duration>(ctx.flags.getDuration("event_stream_heartbeat_interval"), std::chrono::milliseconds(10));
  so.dnsDomain = ctx.flags.getString("dns_domain");
  auto service = marathon::Service::open(ctx.loop, SystemClock::instance(), *node->master, so);
  if (!service) return service.error();
  node->marathon = std::move(*service);
  auto packages = universe::PackageService::open(ctx.loop, ctx.workDir, *node->marathon);
  if (!packages) return packages.error();
  node->packages = std::move(*packages);

  bool automaticPort = false;
  if (auto d = discoveryOptions(ctx.flags, o.hostname, automaticPort)) {
    auto dns = discovery::Discovery::open(ctx.loop, *node->master, std::move(*d));
    if (dns) {
      node->discovery = std::move(*dns);
      node->discovery->registerRoutes(ctx.router);
    } else if (automaticPort) {
      log::get("master").warn("{}; the master runs without DNS (choose a port with --dns_port, or --dns_port=off)",
                              dns.error().message);
    } else {
      return dns.error();
    }
  }

  node->master->registerRoutes(ctx.router);
  node->marathon->registerRoutes(ctx.router);
  node->packages->registerRoutes(ctx.router);
  web::registerRoutes(ctx.router, ctx.flags.getString("web_dir"));
  node->master->start();
  // Before dev mode's agent stops its tasks, so their end does not count as failures.
  ctx.onStopping.push_back([n = node.get()] { n->marathon->stop(); });
  ctx.onStopped.push_back([n = node.get()] {
    n->marathon->stop();
    if (n->discovery) n->discovery->stop();
  });
  return node;
}

int runMaster(const flags::FlagSet& f) {
  std::unique_ptr<MasterNode> master;
  return runDaemon(
      "master", f,
      [&](DaemonContext& ctx) -> Result<void> {
        auto m = startMaster(ctx);
        if (!m) return m.error();
        master = std::move(*m);
        return success();
      },
      [&master](uint16_t port) { master->listening(port); });
}

// Sandbox garbage collection, Mesos' flags (kernel/agent/gc.hpp).
// Flags of the agent's task runtime, shared by `dcos agent` and `dcos dev`.
void addTaskRuntimeFlags(flags::FlagSet& f) {
  using flags::Type;
  f.add({.name = "fetcher_cache_size", .type = Type::kInt, .defaultValue = "2147483648",
         .help = "Bytes of fetched artifacts kept in <work_dir>/fetcher-cache (least recently used go first)",
         .min = 0, .max = INT64_MAX});
  f.add({.name = "cgroups_enable_cfs", .type = Type::kBool, .defaultValue = "false",
         .help = "Cap each task's CPU time at its cpus with a CFS quota (needs cgroups)"});
  f.add({.name = "gc_delay", .type = Type::kDuration, .defaultValue = "7days",
         .help = "The longest a finished task's sandbox is kept (less as the disk fills up)"});
  f.add({.name = "gc_disk_headroom", .defaultValue = "0.1",
         .help = "Fraction of the disk kept free: sandboxes may be gc_delay * max(0, 1 - headroom - usage) old",
         .validate = [](const std::string& v) {
           auto h = parseFraction(v);
           return h ? std::string() : "must be a number between 0 and 1";
         }});
  f.add({.name = "disk_watch_interval", .type = Type::kDuration, .defaultValue = "1mins",
         .help = "Time between checks of the disk usage and removals of old sandboxes"});
  f.add({.name = "recover", .defaultValue = "reconnect", .help = "After a restart: 'reconnect' to the tasks of the "
         "last run (refused if the resources changed), or 'cleanup': kill them and register as a new agent",
         .choices = {"reconnect", "cleanup"}});
  f.add({.name = "pid_namespace", .type = Type::kBool, .defaultValue = "false",
         .help = "Run each task in its own PID namespace (namespaces/pid; needs root, else tasks run without)"});
  f.add({.name = "executor_recovery_timeout", .type = Type::kDuration, .defaultValue = "15mins",
         .help = "How long an executor whose task ended waits for its agent to come back"});
}

void applyTaskRuntimeFlags(const flags::FlagSet& f, AgentOptions& o) {
  o.cgroupsEnableCfs = f.getBool("cgroups_enable_cfs");
  o.fetcherCacheBytes = static_cast<uint64_t>(f.getInt("fetcher_cache_size"));
  o.gcDelay = f.getDuration("gc_delay");
  o.gcDiskHeadroom = parseFraction(f.getString("gc_disk_headroom")).value_or(0.1);
  o.diskWatchInterval = std::max<Duration>(f.getDuration("disk_watch_interval"), std::chrono::milliseconds(10));
  o.recoverCleanup = f.getString("recover") == "cleanup";
  o.executorRecoveryTimeout = f.getDuration("executor_recovery_timeout");
  o.pidNamespace = f.getBool("pid_namespace");
}

void agentFlags(flags::FlagSet& f) {
  addDaemonFlags(f, 5051, "/var/lib/dcos/agent");  // install.sh's default
  f.add({.name = "master", .help = "The master to register with, as HOST:PORT", .required = true});
  f.add({.name = "token", .defaultValue = "",
         .help = "The master's join token (`dcos master token` on the master prints it)"});
  f.add({.name = "resources", .defaultValue = "",
         .help = "Resources to offer instead of the detected ones, per name: "
                 "'cpus:4;mem:2048;ports:[31000-32000];cpus(role):2', or a JSON array"});
  f.add({.name = "attributes", .defaultValue = "", .help = "Attributes of this agent, e.g. 'rack:r1;zone:a;level:3'"});
  f.add({.name = "hostname", .defaultValue = "", .help = "Hostname the agent reports (default: this machine's)"});
  f.add({.name = "dns_setup", .type = flags::Type::kBool, .defaultValue = "false",
         .help = "Print the /etc/resolv.conf line that resolves the cluster's names through the master, and exit"});
  addTaskRuntimeFlags(f);
}

// Runs the agent until SIGINT/SIGTERM. Its tasks keep running under their executors when it
// stops, as in Mesos, for the next run to recover (an upgrade or a restart does not kill them).
// Exit code 1 when the master has removed the agent or refused its join token.
int runAgent(const flags::FlagSet& f) {
  if (f.getBool("dns_setup")) return printDnsSetup(f.getString("master"));
  std::unique_ptr<Agent> agent;
  bool removed = false;
  int code = runDaemon(
      "agent", f,
      [&](DaemonContext& ctx) -> Result<void> {
        auto options = agentOptionsFromFlags(f.getString("master"), ctx.workDir, f.getString("resources"),
                                             f.getString("attributes"), f.getString("hostname"));
        if (!options) return options.error();
        applyTaskRuntimeFlags(f, *options);
        options->listenAddress = f.getString("address");
        options->joinToken = f.getString("token");
        auto a = Agent::create(ctx.loop, std::move(*options));
        if (!a) return a.error();
        agent = std::move(*a);
        agent->registerRoutes(ctx.router);
        agent->onRemoved([&removed, &f, loop = &ctx.loop](const std::string& message) {
          removed = true;
          // The agent has logged the message, unless logging is off.
          if (f.getString("log_level") == "off") std::cerr << "dcos agent: " << message << std::endl;
          loop->stop();
        });
        ctx.onStopped.push_back([&agent] { agent->stop(/*killTasks=*/false); });
        return success();
      },
      [&agent](uint16_t port) { agent->start(port); });
  return removed ? 1 : code;
}

void devFlags(flags::FlagSet& f) {
  addDaemonFlags(f, 5050, ".dcos-dev");
  addMasterFlags(f);
  f.add({.name = "resources", .defaultValue = "",
         .help = "Resources the built-in agent offers instead of the detected ones, e.g. 'cpus:4;mem:2048'"});
  f.add({.name = "attributes", .defaultValue = "", .help = "Attributes of the built-in agent, e.g. 'rack:r1'"});
  addTaskRuntimeFlags(f);
}

// A master and an agent in one process: the agent keeps its state in <work_dir>/agent and talks
// to the master over loopback like any other agent, so dev behaves as a real cluster does.
int runDev(const flags::FlagSet& f) {
  std::unique_ptr<MasterNode> master;
  std::unique_ptr<Agent> agent;
  EventLoop* loop = nullptr;
  std::string workDir;
  http::Router* router = nullptr;
  return runDaemon(
      "dev", f,
      [&](DaemonContext& ctx) -> Result<void> {
        auto m = startMaster(ctx);
        if (!m) return m.error();
        master = std::move(*m);
        loop = &ctx.loop;
        workDir = ctx.workDir;
        router = &ctx.router;
        if (auto r = prepareWorkDir(workDir + "/agent"); !r) return r;
        // The agent leaves first, so it does not see its master vanish and try to reconnect.
        auto stopAgent = [&agent] {
          if (agent) agent->stop();
        };
        ctx.onStopping.push_back(stopAgent);
        ctx.onStopped.push_back(stopAgent);
        return success();
      },
      [&](uint16_t port) {
        master->listening(port);
        std::string address = "127.0.0.1:" + std::to_string(port);
        auto options = agentOptionsFromFlags(address, workDir + "/agent", f.getString("resources"),
                                             f.getString("attributes"), f.getString("hostname"));
        if (options) {
          applyTaskRuntimeFlags(f, *options);
          options->joinToken = master->token.value;
          options->listenAddress = f.getString("address");  // the agent shares the dev server
        }
        auto a = options ? Agent::create(*loop, std::move(*options)) : Result<std::unique_ptr<Agent>>(options.error());
        if (!a) {
          std::cerr << "dcos dev: cannot start the agent: " << a.error().message << std::endl;
          loop->stop();
          return;
        }
        agent = std::move(*a);
        // The agent shares the master's server: only its files and executor routes, which the
        // master has not.
        // The loop has not run yet, so no request sees the router change.
        agent->registerFileRoutes(*router);
        agent->registerStateRoutes(*router);
        agent->registerExecutorRoutes(*router);
        agent->start(port);
        std::cout << "dcos dev cluster is up\n"
                  << "  API and dashboard: http://127.0.0.1:" << port << "/\n"
                  << "  attach the CLI:    dcos cluster setup http://127.0.0.1:" << port << " --name dev\n";
        if (master->discovery) {
          std::cout << "  DNS for ." << f.getString("dns_domain") << ": 127.0.0.1:" << master->discovery->dnsPort()
                    << " (UDP and TCP)\n";
        }
        std::cout << "  master and one agent in this process, state in " << workDir << "\n"
                  << "  stop it with Ctrl-C (its tasks stop too)\n"
                  << std::flush;
      });
}

void tokenFlags(flags::FlagSet& f) {
  f.add({.name = "work_dir", .defaultValue = "/var/lib/dcos/master",
         .help = "The master's work directory (packaging/install.sh's default)"});
}

// `dcos master token`: prints the join token agents need. Exit 1 when there is none (or it
// cannot be read, e.g. without root on an installed master).
int runToken(const flags::FlagSet& f) {
  std::string workDir = f.getString("work_dir");
  auto token = readJoinToken(workDir);
  if (token) {
    std::cout << *token << "\n";
    return 0;
  }
  if (token.error().code == ErrorCode::kNotFound) {
    std::cerr << "dcos master token: no join token in '" << workDir
              << "': a master creates it there on its first start (is --work_dir the master's?)\n";
  } else {
    std::cerr << "dcos master token: " << token.error().message << "\n";
  }
  return 1;
}

void executorFlags(flags::FlagSet& f) {
  f.add({.name = "run_dir", .help = "The run directory the agent prepared (launch.json, executor.sock)",
         .required = true});
  f.add({.name = "listen_fd", .type = flags::Type::kInt, .defaultValue = "-1",
         .help = "The channel's listening socket, inherited from the agent (-1: listen on <run_dir>/executor.sock)",
         .min = -1, .max = 65535});
}

int runExecutorMode(const flags::FlagSet& f) {
  return runExecutor(f.getString("run_dir"), static_cast<int>(f.getInt("listen_fd")));
}

}  // namespace

const Mode& masterMode() {
  static const Mode m{"master", "Run a master: the cluster's registry, scheduler APIs and dashboard.",
                      masterFlags, runMaster};
  return m;
}

const Mode& masterTokenMode() {
  static const Mode m{"master token", "Print the join token agents need to join this master.", tokenFlags,
                      runToken};
  return m;
}

const Mode& agentMode() {
  static const Mode m{"agent", "Run an agent: offer this machine's resources and run tasks.", agentFlags,
                      runAgent};
  return m;
}

const Mode& devMode() {
  static const Mode m{"dev", "Run a one-process development cluster (master and agent) on this machine.",
                      devFlags, runDev};
  return m;
}

const Mode& executorMode() {
  static const Mode m{"executor", "Run one task for an agent (the agent starts it; not for direct use).",
                      executorFlags, runExecutorMode};
  return m;
}

}  // namespace dcos::node
