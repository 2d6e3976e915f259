#include "kernel/agent/agent.hpp"

#include "common/log.hpp"
#include "kernel/agent/cgroups.hpp"
#include "kernel/agent/detect.hpp"
#include "kernel/agent/paths.hpp"
#include "kernel/master/protocol.hpp"  // Mesos v1 JSON helpers shared with the master

#include <algorithm>
#include <filesystem>
#include <random>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("agent"); }

double random01() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

Duration withJitter(Duration delay, double r) {
  r = std::clamp(r, 0.0, 1.0);
  return delay / 2 + std::chrono::duration_cast<Duration>(delay / 2 * r);
}

Result<AgentOptions> agentOptionsFromFlags(const std::string& master, const std::string& workDir,
                                           const std::string& resources, const std::string& attributes,
                                           const std::string& hostname) {
  auto facts = readMachineFacts(workDir);
  if (!facts) return facts.error();
  auto offered = applyResourcesFlag(defaultResources(*facts), resources);
  if (!offered) return offered.error();
  auto parsedAttributes = parseAttributes(attributes);
  if (!parsedAttributes) return parsedAttributes.error();
  AgentOptions o;
  o.master = master;
  o.workDir = workDir;
  o.hostname = agentHostname(hostname);
  o.resources = std::move(*offered);
  o.attributes = std::move(*parsedAttributes);
  return o;
}

Result<std::unique_ptr<Agent>> Agent::create(EventLoop& loop, AgentOptions options, const Clock& clock,
                                             std::unique_ptr<TaskLauncher> launcher) {
  auto id = readAgentId(options.workDir);
  if (!id) return id.error();
  auto checkpoint = AgentCheckpoint::open(options.workDir);
  if (!checkpoint) return Error(ErrorCode::kIo, "cannot open the agent's checkpoint: " + checkpoint.error().message);
  auto loaded = (*checkpoint)->load();
  if (!loaded) return Error(ErrorCode::kIo, "cannot read the agent's checkpoint: " + loaded.error().message);
  if (auto ok = checkRecoverable(options, *loaded); !ok) {
    if (!options.recoverCleanup) return ok.error();
    logger().warn("{}; --recover=cleanup: killing the {} task(s) of the last agent and registering as a new agent",
                  ok.error().message, loaded->tasks.size());
    *id = "";
    std::error_code ec;
    std::filesystem::remove(options.workDir + "/agent_id", ec);
    if (ec) return Error(ErrorCode::kIo, "cannot remove " + options.workDir + "/agent_id: " + ec.message());
    loaded->resources = Json();
    for (auto& t : loaded->tasks) t["cleanup"] = true;  // recover() kills them and forgets them
    loaded->updates.clear();
  }
  if (!launcher) {
    std::string why;
    auto cgroups = Cgroups::detect(options.cgroupsEnableCfs, &why);
    if (cgroups) {
      logger().info("isolation: cgroups v{} (cgroups/cpu, cgroups/mem{})", cgroups->version(),
                    cgroups->cfs() ? ", CFS quota" : "");
    } else {
      logger().warn("isolation: posix/none, tasks run without cgroups: {}", why);
    }
    launcher = makeExecutorLauncher(
        loop, {options.executorBinary, options.workDir + "/runs", options.executorRecoveryTimeout, options.pidNamespace},
        std::move(cgroups), why);
  }
  return std::unique_ptr<Agent>(new Agent(loop, std::move(options), clock, std::move(launcher), std::move(*id),
                                          std::move(*checkpoint), std::move(*loaded)));
}

Agent::Agent(EventLoop& loop, AgentOptions options, const Clock& clock, std::unique_ptr<TaskLauncher> launcher,
             std::string agentId, std::unique_ptr<AgentCheckpoint> checkpoint, AgentCheckpoint::Loaded recovered)
    : loop_(loop),
      options_(std::move(options)),
      clock_(clock),
      launcher_(std::move(launcher)),
      checkpoint_(std::move(checkpoint)),
      recovered_(std::move(recovered)),
      updates_(clock, options_.initialUpdateBackoff, options_.maxUpdateBackoff),
      agentId_(std::move(agentId)),
      startedAt_(clock.now()),
      pingInterval_(options_.defaultPingInterval),
      reconnectDelay_(options_.minReconnectDelay) {
  link_ = std::make_unique<MasterLink>(
      loop_, options_.master,
      MasterLink::Handlers{[this](const Json& event) { handleEvent(event); },
                           [this](const Error& why, int status) { handleClosed(why, status); }},
      options_.joinToken);
}

Agent::~Agent() { stop(); }

void Agent::start(uint16_t port) {
  if (started_ || stopped_) return;
  started_ = true;
  port_ = port;
  recover();
  scheduleGc(Duration::zero());
  if (agentId_.empty()) {
    logger().info("registering with the master at {} as a new agent", options_.master);
  } else {
    logger().info("reregistering with the master at {} as agent '{}'", options_.master, agentId_);
  }
  subscribe();
}

void Agent::stop(bool killTasks) {
  if (stopped_) return;
  stopped_ = true;
  registered_ = false;
  link_->stop();
  if (reconnectTimer_) loop_.cancel(*reconnectTimer_);
  if (updateTimer_) loop_.cancel(*updateTimer_);
  if (gcTimer_) loop_.cancel(*gcTimer_);
  reconnectTimer_.reset();
  updateTimer_.reset();
  gcTimer_.reset();
  Duration grace = options_.defaultGracePeriod;
  for (const auto& [key, t] : tasks_) {
    if (!t.terminal) grace = std::max(grace, t.grace);
  }
  if (checkpoint_->dirty()) {
    if (auto r = checkpoint_->commit(); !r) logger().error("cannot write the checkpoint: {}", r.error().message);
  }
  if (killTasks) {
    launcher_->shutdown(grace);
  } else {
    launcher_->detach(grace);
  }
}

Json Agent::subscribeCall() const {
  Json info = {{"hostname", options_.hostname},
               {"port", port_},
               {"resources", options_.resources.toJson()},
               {"attributes", options_.attributes}};
  if (!agentId_.empty()) info["id"] = idJson(agentId_);
  Json tasks = Json::array();
  for (const auto& [key, t] : tasks_) {
    Json entry = {{"framework_id", idJson(t.frameworkId)}, {"task", t.task}};
    if (!t.frameworkInfo.is_null()) entry["framework_info"] = t.frameworkInfo;
    if (!t.status.is_null()) entry["status"] = t.status;
    tasks.push_back(std::move(entry));
  }
  return {{"type", "SUBSCRIBE"}, {"subscribe", {{"agent_info", info}, {"tasks", tasks}}}};
}

void Agent::subscribe() {
  reconnectTimer_.reset();
  if (stopped_) return;
  // A dead master or a cut network shows as silence: a few missed pings end the stream.
  Duration idle = std::max<Duration>(pingInterval_ * 3, std::chrono::seconds(1));
  link_->subscribe(subscribeCall(), idle);
}

void Agent::handleClosed(const Error& why, int status) {
  bool wasRegistered = registered_;
  registered_ = false;
  if (stopped_) return;
  if (status == 403) {
    std::string message = "the master removed this agent" + (agentId_.empty() ? "" : " ('" + agentId_ + "')") +
                          " from the cluster: " + why.message + ". To join again as a new agent, stop it, remove '" +
                          options_.workDir + "/agent_id' (or clear the whole work_dir '" + options_.workDir +
                          "') and start it again";
    logger().error("{}", message);
    if (onRemoved_) onRemoved_(message);
    return;
  }
  if (status == 401) {
    // Retrying cannot help: the operator has to give the right token.
    std::string message = "the master at " + options_.master + " refused the join token: " + why.message +
                          "; get it with `dcos master token` on the master and pass it with --token (or DCOS_TOKEN)";
    logger().error("{}", message);
    if (onRemoved_) onRemoved_(message);
    return;
  }
  Duration delay = withJitter(reconnectDelay_, random01());
  reconnectDelay_ = std::min(reconnectDelay_ * 2, options_.maxReconnectDelay);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(delay).count();
  if (wasRegistered) {
    logger().warn("lost the master at {}: {}; reconnecting in {} ms", options_.master, why.message, ms);
  } else {
    logger().info("cannot subscribe to the master at {}: {}; retrying in {} ms", options_.master, why.message, ms);
  }
  scheduleReconnect(delay);
}

void Agent::scheduleReconnect(Duration delay) {
  if (reconnectTimer_) loop_.cancel(*reconnectTimer_);
  reconnectTimer_ = loop_.schedule(delay, [this] { subscribe(); });
}

void Agent::handleEvent(const Json& event) {
  if (stopped_) return;
  std::string type = event.value("type", "");
  try {
    dispatch(type, event);
  } catch (const Json::exception& e) {
    // The master validates what it sends; a malformed event is a bug there, not a reason to die.
    logger().error("ignoring a malformed {} event from the master: {}", type, e.what());
  }
}

void Agent::dispatch(const std::string& type, const Json& event) {
  auto section = [&](const char* name) { return event.value(name, Json::object()); };
  if (type == "SUBSCRIBED") {
    handleSubscribed(section("subscribed"));
  } else if (type == "RUN_TASK") {
    Json run = section("run_task");
    runTask(run.value("framework_id", Json()), run.value("framework_info", Json()), run.value("task", Json()));
  } else if (type == "RUN_TASK_GROUP") {
    runTaskGroup(section("run_task_group"));
  } else if (type == "KILL_TASK") {
    Json kill = section("kill_task");
    killTask(idValue(kill, "framework_id"), idValue(kill, "task_id"), kill.value("kill_policy", Json()));
  } else if (type == "SHUTDOWN_FRAMEWORK") {
    shutdownFramework(idValue(section("shutdown_framework"), "framework_id"));
  } else if (type == "ACKNOWLEDGE") {
    Json ack = section("acknowledge");
    acknowledge(idValue(ack, "framework_id"), idValue(ack, "task_id"), ack.value("uuid", ""));
  } else if (type == "PING") {
    if (!agentId_.empty()) link_->call({{"type", "PONG"}, {"agent_id", idJson(agentId_)}});
  } else if (type == "HEARTBEAT") {
    // Only keeps the stream's idle timeout from firing.
  } else if (type == "MESSAGE") {
    deliverMessage(section("message"));
  } else {
    logger().debug("ignoring an event of unknown type '{}'", type);
  }
}

void Agent::handleSubscribed(const Json& subscribed) {
  std::string id = idValue(subscribed, "agent_id");
  if (id.empty()) {
    logger().error("the master's SUBSCRIBED event has no agent_id; waiting for the next connection");
    return;
  }
  bool first = agentId_.empty();
  if (id != agentId_) {
    if (!first) logger().warn("the master assigned a new id '{}' (was '{}')", id, agentId_);
    agentId_ = id;
    if (auto r = writeAgentId(options_.workDir, id); !r) {
      logger().error("cannot store the agent id: {}; a restart will register as a new agent", r.error().message);
    }
  }
  double ping = subscribed.value("ping_interval_seconds", 0.0);
  if (ping > 0) pingInterval_ = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(ping));
  registered_ = true;
  reconnectDelay_ = options_.minReconnectDelay;
  logger().info("{} with the master at {} as agent '{}' ({} task(s), {} pending update(s))",
                first ? "registered" : "reregistered", options_.master, agentId_, tasks_.size(), updates_.size());
  updates_.resetBackoff();
  flushUpdates();
}

}  // namespace dcos::kernel
