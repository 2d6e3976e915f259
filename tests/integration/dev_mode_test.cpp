// `dcos dev` as a user meets it: up at once with the line to attach the CLI; Ctrl-C (SIGTERM)
// stops every task it started; started again on the same work dir it brings the apps back; after
// a kill -9 the tasks it left running are recovered, not launched again.
#include "tests/support/marathon.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

using namespace dcos::test;
using nlohmann::json;

namespace {

std::unique_ptr<MasterProcess> startDev(const TempDir& dir, int port = 0) { return startDevCluster(dir, {}, port); }

}  // namespace

TEST_CASE("dcos dev: SIGTERM stops its tasks; a restart on the same work dir brings the app back") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("launches"));
  auto dev = startDev(dir);
  int port = dev->port();
  CHECK(waitFor([&] { return dev->process().stdoutText().find("dcos cluster setup http://127.0.0.1:" +
                                                              std::to_string(port)) != std::string::npos; }, 5s));
  REQUIRE(mPost(port, "/v2/apps", appDef("/keep", sleeperCmd(dir, "keep"), 2)).status == 201);
  REQUIRE(waitForRunning(port, "/keep", 2, 20s));
  auto first = launchedPids(dir, "keep");
  REQUIRE(first.size() == 2);

  auto stopping = std::chrono::steady_clock::now();
  dev->process().signal(SIGTERM);
  CHECK(dev->process().wait(20s) == 0);
  CHECK(alivePids(dir, "keep") == 0);  // every task it started is gone
  MESSAGE("dcos dev stopped with 2 tasks in ", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::steady_clock::now() - stopping).count(), " ms");

  // Back with the same app; its old tasks are found ended (after a backoff) and launched anew.
  auto before = taskIds(appTasks(port, "/keep"));
  dev = startDev(dir, port);
  CHECK(mGet(port, "/v2/apps/keep").status == 200);
  CHECK_MESSAGE(waitFor([&] { return alivePids(dir, "keep") == 2 && launchedPids(dir, "keep").size() == 4; }, 30s),
                dev->process().stderrText());
  CHECK_MESSAGE(waitFor([&] {
    auto now = appTasks(port, "/keep");
    if (countRunning(now) != 2) return false;
    for (const auto& id : taskIds(now)) {
      if (before.count(id)) return false;
    }
    return true;
  }, 20s), appTasks(port, "/keep").dump());
}

TEST_CASE("dcos dev: after kill -9 the restarted cluster recovers the running tasks instead of relaunching") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("launches"));
  auto dev = startDev(dir);
  int port = dev->port();
  REQUIRE(mPost(port, "/v2/apps", appDef("/stay", sleeperCmd(dir, "stay"), 2)).status == 201);
  REQUIRE(waitForRunning(port, "/stay", 2, 20s));
  REQUIRE(waitForNoDeployments(port, 10s));
  auto ids = taskIds(appTasks(port, "/stay"));

  dev->process().signal(SIGKILL);
  dev->process().wait(5s);
  CHECK(alivePids(dir, "stay") == 2);  // the executors keep the tasks alive

  dev = startDev(dir, port);
  CHECK_MESSAGE(waitForRunning(port, "/stay", 2, 20s), appTasks(port, "/stay").dump());
  CHECK(taskIds(appTasks(port, "/stay")) == ids);
  CHECK(launchedPids(dir, "stay").size() == 2);
  CHECK(alivePids(dir, "stay") == 2);
}
