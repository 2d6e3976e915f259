// One contract, two scheduler drivers: the same scenarios run through the HTTP driver and the
// in-process driver against a master hosted in this test process (its event loop on a thread)
// and a real agent process.
#include "kernel/daemon.hpp"
#include "kernel/master/master.hpp"
#include "tests/support/local_server.hpp"
#include "tests/support/support.hpp"
#include "tests/support/test_framework.hpp"

#include <doctest/doctest.h>

#include <future>

using namespace dcos;
using namespace dcos::test;

namespace {

// A master in this process, serving HTTP on an ephemeral port.
struct LocalMaster {
  LocalServer http;
  EventLoop& loop = http.loop;
  std::unique_ptr<kernel::Master> master;
  int port = 0;

  explicit LocalMaster(const std::string& workDir) {
    kernel::MasterOptions o;
    o.allocationInterval = std::chrono::milliseconds(100);
    o.hostname = "localhost";
    REQUIRE(kernel::prepareWorkDir(workDir).ok());
    auto m = kernel::Master::open(loop, SystemClock::instance(), workDir, o);
    REQUIRE(m.ok());
    master = std::move(*m);
    master->registerRoutes(http.router);
    master->start();
    http.start({.address = "127.0.0.1"});
    port = http.port;
  }
  // The loop stops before the master goes.
  ~LocalMaster() { http.stop(); }
  // Runs fn on the master's loop and waits for it.
  template <typename F>
  auto onLoop(F fn) {
    std::promise<decltype(fn())> done;
    loop.post([&] {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        done.set_value();
      } else {
        done.set_value(fn());
      }
    });
    return done.get_future().get();
  }
};

enum class Kind { kHttp, kInProcess };

// The driver under test; the in-process one lives on the master's loop.
struct Harness {
  LocalMaster& local;
  Kind kind;
  TestFramework framework;
  std::unique_ptr<kernel::SchedulerDriver> driver;

  Harness(LocalMaster& l, Kind k, const Json& info) : local(l), kind(k) {
    if (kind == Kind::kHttp) {
      driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(local.port), info, framework);
      framework.setDriver(driver.get());
      driver->start();
    } else {
      local.onLoop([&] {
        driver = kernel::makeInProcessDriver(local.loop, *local.master, info, framework);
        framework.setDriver(driver.get());
        driver->start();
      });
    }
  }
  ~Harness() {
    if (kind == Kind::kHttp) {
      driver->stop();
    } else {
      local.onLoop([&] { driver.reset(); });
    }
  }
  Result<void> send(const Json& call) {
    if (kind == Kind::kHttp) return driver->send(call);
    return local.onLoop([&] { return driver->send(call); });
  }
};

void contract(Kind kind) {
  TempDir dir;
  LocalMaster local(dir.file("master"));
  MasterProcess agent(dir.file("agent"), {"--master=127.0.0.1:" + std::to_string(local.port), "--resources=cpus:2;mem:512"},
                      "agent");
  REQUIRE(waitFor([&] { return local.onLoop([&] { return local.master->agents().size(); }) == 1; }, 10s));

  Harness h(local, kind, testFrameworkInfo("contract"));
  REQUIRE(waitFor([&] { return h.framework.subscriptions() == 1; }, 10s));
  CHECK_FALSE(h.framework.frameworkId().empty());

  SUBCASE("tasks run to completion and every update is acknowledged") {
    h.framework.addTasks({{"ok-1", "exit 0"}, {"ok-2", "true"}, {"bad", "exit 3"}});
    CHECK(waitFor([&] { return h.framework.countInState("TASK_FINISHED") == 2; }, 20s));
    CHECK(waitFor([&] { return h.framework.state("bad") == "TASK_FAILED"; }, 20s));
    auto history = h.framework.history("ok-1");
    CHECK(std::find(history.begin(), history.end(), "TASK_RUNNING") != history.end());
    // Acknowledged terminal tasks leave the master's active set.
    CHECK(waitFor([&] { return local.onLoop([&] { return local.master->tasks().size(); }) == 0; }, 10s));
  }

  SUBCASE("a killed task reports TASK_KILLED") {
    h.framework.addTasks({{"long", "sleep 60"}});
    REQUIRE(waitFor([&] { return h.framework.state("long") == "TASK_RUNNING"; }, 20s));
    REQUIRE(h.send({{"type", "KILL"}, {"kill", {{"task_id", {{"value", "long"}}}}}}).ok());
    CHECK(waitFor([&] { return h.framework.state("long") == "TASK_KILLED"; }, 20s));
  }

  SUBCASE("reconciling an unknown task answers that it is unknown") {
    REQUIRE(h.send({{"type", "RECONCILE"}, {"reconcile", {{"tasks", {{{"task_id", {{"value", "ghost"}}}}}}}}}).ok());
    CHECK(waitFor([&] { return h.framework.state("ghost") == "TASK_UNKNOWN"; }, 10s));
  }

  SUBCASE("a malformed call is refused with the field named") {
    auto r = h.send({{"type", "KILL"}, {"kill", {{"task_id", 5}}}});
    REQUIRE_FALSE(r.ok());
    REQUIRE_FALSE(r.error().details.empty());
    CHECK(r.error().details[0].path == "/kill/task_id/value");
    auto unknown = h.send({{"type", "FROBNICATE"}});
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message.find("FROBNICATE") != std::string::npos);
  }
}

}  // namespace

TEST_CASE("the HTTP scheduler driver keeps the contract") { contract(Kind::kHttp); }
TEST_CASE("the in-process scheduler driver keeps the contract") { contract(Kind::kInProcess); }
