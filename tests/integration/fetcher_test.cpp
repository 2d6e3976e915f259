// The fetcher end to end: a `dcos dev` cluster (master + agent) runs tasks whose command.uris
// point at an HTTP server in this test process.
#include "common/event_loop.hpp"
#include "common/http/router.hpp"
#include "common/http/server.hpp"
#include "kernel/driver/scheduler_driver.hpp"
#include "tests/support/local_server.hpp"
#include "tests/support/support.hpp"
#include "tests/support/test_framework.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

using namespace dcos;
using namespace dcos::test;
using nlohmann::json;

namespace {

// Serves one file at /app.tar.gz, counting requests; everything else is 404.
struct ArtifactServer : LocalServer {
  std::atomic<int> requests{0};
  explicit ArtifactServer(std::string body) {
    router.route("GET", "/app.tar.gz", [this, body](const http::Request&) {
      ++requests;
      return http::Response::text(200, body, "application/gzip");
    });
    start();
  }
};

int activeAgents(int port) {
  int n = 0;
  json state = json::parse(httpRequest(port, "GET", "/master/state").body);
  for (const auto& s : state["slaves"]) n += s["active"].get<bool>();
  return n;
}

}  // namespace

TEST_CASE("a task runs a script fetched over HTTP, and a bad URI fails the task with REASON_FETCHER_FAILED") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("src/app"));
  writeFile(dir.file("src/app/run.sh"), "#!/bin/sh\necho fetched-and-ran\n");
  std::filesystem::permissions(dir.file("src/app/run.sh"), std::filesystem::perms(0755));
  REQUIRE(std::system(("tar czf '" + dir.file("app.tar.gz") + "' -C '" + dir.file("src") + "' app").c_str()) == 0);
  ArtifactServer artifacts(readFile(dir.file("app.tar.gz")));

  MasterProcess dev(dir.file("dev"), {"--allocation_interval=100ms", "--resources=cpus:1;mem:256;disk:64"}, "dev");
  REQUIRE(waitFor([&] { return activeAgents(dev.port()) == 1; }, 10s));
  TestFramework fw;
  std::string result = dir.file("result");
  TestFramework::TaskSpec good{"fetching", "./app/run.sh > " + result};
  good.uris = json::array({{{"value", artifacts.url("/app.tar.gz")}, {"cache", true}}});
  TestFramework::TaskSpec bad{"bad-uri", "true"};
  bad.uris = json::array({{{"value", artifacts.url("/missing.sh")}}});
  fw.addTasks({good, bad});
  auto driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(dev.port()), testFrameworkInfo("fetch"), fw);
  fw.setDriver(driver.get());
  driver->start();

  waitFor([&] { return fw.state("fetching") == "TASK_FINISHED"; }, 20s);
  INFO(fw.lastStatus("fetching").dump());
  REQUIRE(fw.state("fetching") == "TASK_FINISHED");
  CHECK(readFile(result) == "fetched-and-ran\n");
  CHECK(artifacts.requests == 1);

  REQUIRE(waitFor([&] { return fw.state("bad-uri") == "TASK_FAILED"; }, 20s));
  json status = fw.lastStatus("bad-uri");
  CHECK(status.value("reason", "") == "REASON_FETCHER_FAILED");
  CHECK(status.value("message", "").find(artifacts.url("/missing.sh")) != std::string::npos);
  CHECK(status.value("message", "").find("404") != std::string::npos);
  driver->stop();
}
