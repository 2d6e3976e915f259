#pragma once
// The Marathon-like service scheduler: a framework hosted by the master (in-process driver) that
// keeps long-running apps at their declared shape, with Marathon's v2 REST API and event stream.
//
// Everything runs on the master's event loop. State lives in <work_dir>/marathon.db
// (MarathonStore): apps and their versions, groups, deployments and one record per launched task
// (written before the launch goes out, so a restart neither loses nor duplicates instances).
//
// How the shape is kept (see docs/ARCHITECTURE.md, "Service scheduler"):
//  * Each app wants `instances` active tasks. An app whose definition changed in more than
//    `instances` gets a new config version; a rolling restart (a deployment's RestartApplication)
//    replaces old-config tasks by new ones within upgradeStrategy's bounds; otherwise every active
//    task counts, missing ones are launched (after the app's backoff) and surplus ones killed in
//    killSelection order.
//  * Demand → REVIVE; offers are matched by offer_match (constraints, roles, resources, ports);
//    unused offers are declined with --decline_offer_duration; no demand → SUPPRESS. Every
//    refusal is counted per app and reason for /v2/queue.
//  * Deployments advance one step at a time when every action of the step is complete
//    (instances healthy, surplus gone); they survive restarts.

#include "common/clock.hpp"
#include "common/event_loop.hpp"
#include "common/http/router.hpp"
#include "common/result.hpp"

#include <memory>
#include <string>

namespace dcos::kernel {
class Master;
}

namespace dcos::marathon {

struct ServiceOptions {
  std::string workDir;  // marathon.db goes here
  std::string frameworkName = "marathon";
  std::string hostname;        // the master's, for /v2/info and /v2/leader
  uint16_t port = 0;           // the master's bound HTTP port (set by start())
  Duration declineOfferDuration = std::chrono::seconds(120);
  Duration eventHeartbeat = std::chrono::seconds(15);
  Duration reconciliationInterval = std::chrono::minutes(10);
  std::string dnsDomain = "mesos";  // MESOS_DNS_DOMAIN in every task's environment
};

class Service {
 public:
  // Opens marathon.db and loads the state; start() subscribes to the master.
  static Result<std::unique_ptr<Service>> open(EventLoop& loop, const Clock& clock, kernel::Master& master,
                                               ServiceOptions options);
  ~Service();

  // Serves /v2/* and /marathon/v2/*, /ping, /metrics. Before start().
  void registerRoutes(http::Router& router);
  // Subscribes as framework `frameworkName` (the same framework id across restarts), announcing
  // `port` (the master's bound HTTP port) in /v2/info and the framework's webui_url.
  void start(uint16_t port);
  // Unsubscribes and closes event streams; tasks keep running. On the loop.
  void stop();

  // For components of the same process (the package manager): one /v2 request answered by the
  // service's own routes, as over HTTP but without a socket. `target` is a path with its query
  // ("/v2/apps?force=true"). On the loop.
  http::Response request(const std::string& method, const std::string& target, const std::string& body = "");

  struct Impl;

 private:
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dcos::marathon
