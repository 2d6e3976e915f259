// Per-task cgroups end to end: a real master and agent (the built binary) and a framework over
// the v1 scheduler API. Skipped, with a message, where the agent found no usable cgroups.
#include "tests/support/support.hpp"
#include "tests/support/test_framework.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace dcos;
using namespace dcos::test;
using nlohmann::json;

TEST_CASE("a task over its mem fails with a memory limitation and a running one shows its usage") {
  TempDir dir;
  MasterProcess master(dir.file("master"), {"--allocation_interval=100ms"});
  MasterProcess agent(dir.file("agent"),
                      {"--master=127.0.0.1:" + std::to_string(master.port()), "--resources=cpus:2;mem:1024;disk:1024",
                       "--cgroups_enable_cfs"},
                      "agent");
  json isolation = json::parse(httpRequest(agent.port(), "GET", "/state").body)["isolation"];
  if (!isolation.value("cgroups", false)) {
    MESSAGE("skipped: the agent runs without cgroups: " << isolation.dump());
    return;
  }
  CHECK(isolation["isolators"] == json::array({"cgroups/cpu", "cgroups/mem", "posix/rlimits"}));
  CHECK(isolation["cgroups_enable_cfs"] == true);

  TestFramework fw;
  fw.addTasks({{"hog", "head -c 300m /dev/zero | tail > /dev/null", "cpus:0.1;mem:32"},
               {"idle", "exec sleep 60", "cpus:0.5;mem:64"}});
  auto driver = kernel::makeHttpDriver("127.0.0.1:" + std::to_string(master.port()), testFrameworkInfo("isolation"), fw);
  fw.setDriver(driver.get());
  driver->start();
  REQUIRE(waitFor([&] { return fw.state("hog") == "TASK_FAILED" && fw.state("idle") == "TASK_RUNNING"; }, 30s));
  Json failed = fw.lastStatus("hog");
  CHECK(failed["reason"] == "REASON_CONTAINER_LIMITATION_MEMORY");
  CHECK(failed["message"].get<std::string>().rfind("Memory limit exceeded", 0) == 0);

  auto reply = httpRequest(agent.port(), "GET", "/monitor/statistics");
  REQUIRE(reply.status == 200);
  json stats = json::parse(reply.body);
  INFO(stats.dump());
  REQUIRE(stats.size() == 1);
  CHECK(stats[0]["executor_id"] == "idle");
  CHECK(stats[0]["framework_id"] == fw.frameworkId());
  CHECK(stats[0]["statistics"]["cpus_limit"].get<double>() == doctest::Approx(0.5));
  CHECK(stats[0]["statistics"]["mem_limit_bytes"] == 64ull << 20);
  CHECK(stats[0]["statistics"]["mem_rss_bytes"].get<uint64_t>() > 0);

  // The same through the agent's v1 operator API.
  auto containers = httpRequest(agent.port(), "POST", "/api/v1", R"({"type":"GET_CONTAINERS"})",
                                {{"Content-Type", "application/json"}});
  REQUIRE(containers.status == 200);
  json list = json::parse(containers.body)["get_containers"]["containers"];
  REQUIRE(list.size() == 1);
  CHECK(list[0]["executor_id"]["value"] == "idle");
  CHECK(list[0]["resource_statistics"]["mem_limit_bytes"] == 64ull << 20);
  CHECK(httpRequest(agent.port(), "POST", "/api/v1", R"({"type":"NOPE"})", {{"Content-Type", "application/json"}}).status == 400);
  driver->stop();
}
