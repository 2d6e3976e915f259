#include "kernel/kernel.hpp"

#include "common/log.hpp"
#include "kernel/daemon.hpp"
#include "kernel/master/master.hpp"
#include "web/web.hpp"

#include <iostream>

namespace dcos::kernel {
namespace {

void masterFlags(flags::FlagSet& f) { addDaemonFlags(f, 5050, ""); }

int runMaster(const flags::FlagSet& f) {
  std::unique_ptr<Master> master;
  return runDaemon("master", f, [&](DaemonContext& ctx) -> Result<void> {
    auto m = Master::open(ctx.workDir, SystemClock::instance());
    if (!m) return m.error();
    master = std::move(*m);
    master->registerRoutes(ctx.router);
    web::registerRoutes(ctx.router);
    return success();
  });
}

void agentFlags(flags::FlagSet& f) {
  addDaemonFlags(f, 5051, "");
  f.add({.name = "master", .help = "The master to register with, as HOST:PORT", .required = true});
}

int runAgent(const flags::FlagSet& f) {
  return runDaemon("agent", f, [&](DaemonContext& ctx) -> Result<void> {
    ctx.router.route("GET", "/health", [](const http::Request&) {
      return http::Response::json(200, {{"healthy", true}, {"role", "agent"}});
    });
    log::get("agent").warn("this build does not register with the master yet ('{}'); it only serves /health",
                           ctx.flags.getString("master"));
    return success();
  });
}

void devFlags(flags::FlagSet& f) { addDaemonFlags(f, 5050, ".dcos-dev"); }

int runDev(const flags::FlagSet& f) {
  std::unique_ptr<Master> master;
  return runDaemon(
      "dev", f,
      [&](DaemonContext& ctx) -> Result<void> {
        auto m = Master::open(ctx.workDir, SystemClock::instance());
        if (!m) return m.error();
        master = std::move(*m);
        master->registerRoutes(ctx.router);
        web::registerRoutes(ctx.router);
        return success();
      },
      [](uint16_t port) {
        std::cout << "dcos dev cluster is up\n"
                  << "  API and dashboard: http://127.0.0.1:" << port << "/\n"
                  << "  stop it with Ctrl-C\n"
                  << std::flush;
      });
}

}  // namespace

const Mode& masterMode() {
  static const Mode m{"master", "Run a master: the cluster's registry, scheduler APIs and dashboard.",
                      masterFlags, runMaster};
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

}  // namespace dcos::kernel
