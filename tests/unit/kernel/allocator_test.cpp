#include "kernel/allocator/allocator.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>

using namespace dcos;
using namespace dcos::kernel;
using namespace std::chrono_literals;

namespace {

Resources res(const std::string& text) {
  auto r = Resources::parse(text);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return *r;
}

std::map<std::string, int> offersPerFramework(const std::vector<OfferGrant>& grants) {
  std::map<std::string, int> out;
  for (const auto& g : grants) ++out[g.frameworkId];
  return out;
}

void declineAll(Allocator& allocator, const std::vector<OfferGrant>& grants, std::optional<Duration> refuse) {
  for (const auto& g : grants) allocator.recoverResources(g.frameworkId, g.agentId, g.resources, refuse);
}

}  // namespace

TEST_CASE("a single framework is offered every agent, and nothing more until resources return") {
  FakeClock clock;
  Allocator allocator(clock);
  for (int i = 0; i < 3; ++i) allocator.addAgent("a" + std::to_string(i), res("cpus:4;mem:4096;ports:[31000-31009]"));
  allocator.addFramework("f1", {"web"});

  auto grants = allocator.allocate();
  REQUIRE(grants.size() == 3);
  for (const auto& g : grants) {
    CHECK(g.frameworkId == "f1");
    CHECK(g.role == "web");
    CHECK(g.resources == res("cpus:4;mem:4096;ports:[31000-31009]").allocate("web"));
  }
  CHECK(allocator.allocatedTo("f1") == allocator.totalResources().allocate("web"));
  CHECK(allocator.dominantShare("f1") == doctest::Approx(1.0));
  CHECK(allocator.allocate().empty());

  allocator.recoverResources("f1", "a1", res("cpus:1;ports:[31005-31009]").allocate("web"));
  auto again = allocator.allocate();
  REQUIRE(again.size() == 1);
  CHECK(again[0].agentId == "a1");
  CHECK(again[0].resources == res("cpus:1;ports:[31005-31009]").allocate("web"));
}

TEST_CASE("two frameworks in one role split identical agents evenly within one round") {
  FakeClock clock;
  Allocator allocator(clock);
  for (int i = 0; i < 10; ++i) allocator.addAgent("a" + std::to_string(i), res("cpus:2;mem:1024"));
  allocator.addFramework("f1", {"web"});
  allocator.addFramework("f2", {"web"});
  auto counts = offersPerFramework(allocator.allocate());
  CHECK(counts["f1"] == 5);
  CHECK(counts["f2"] == 5);
  CHECK(allocator.dominantShare("f1") == doctest::Approx(0.5));
}

TEST_CASE("used resources given at addAgent count in shares, and the lowest dominant share is offered first") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addFramework("cpu-heavy", {"web"});
  allocator.addFramework("mem-heavy", {"web"});
  // Cluster: 20 cpus, 2000 mem. cpu-heavy: max(8/20, 400/2000) = 0.4; mem-heavy: max(2/20, 600/2000) = 0.3.
  allocator.addAgent("busy", res("cpus:10;mem:1000"),
                     {{"cpu-heavy", res("cpus:8;mem:400").allocate("web")},
                      {"mem-heavy", res("cpus:2;mem:600").allocate("web")}});
  allocator.addAgent("free", res("cpus:10;mem:1000"));
  CHECK(allocator.dominantShare("cpu-heavy") == doctest::Approx(0.4));
  CHECK(allocator.dominantShare("mem-heavy") == doctest::Approx(0.3));

  auto grants = allocator.allocate();
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].agentId == "free");
  CHECK(grants[0].frameworkId == "mem-heavy");  // lower share wins over the smaller id
}

TEST_CASE("running tasks of a framework that has not re-subscribed yet weigh on its role") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addAgent("busy", res("cpus:4;mem:1024"), {{"old", res("cpus:4;mem:1024").allocate("a")}});
  allocator.addAgent("free", res("cpus:4;mem:1024"));
  allocator.addFramework("newcomer", {"b"});
  CHECK(allocator.dominantShare("old") == doctest::Approx(0.5));
  CHECK(allocator.allocatedByRole()["a"] == res("cpus:4;mem:1024").allocate("a"));

  allocator.addFramework("old", {"a"});
  auto grants = allocator.allocate();
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].frameworkId == "newcomer");  // role b (share 0) goes before role a (share 0.5)
}

TEST_CASE("a role with weight 2 holds about twice the dominant share of a weight-1 role") {
  FakeClock clock;
  Allocator allocator(clock, {.seed = 7});
  for (int i = 0; i < 90; ++i) allocator.addAgent("a" + std::to_string(i), res("cpus:1;mem:1024"));
  REQUIRE(allocator.setWeight("heavy", 2.0).ok());
  CHECK(allocator.weight("heavy") == 2.0);
  CHECK(allocator.weight("light") == 1.0);
  allocator.addFramework("h", {"heavy"});
  allocator.addFramework("l", {"light"});

  // Greedy frameworks keep every offer as a task; each task finishes with probability 1/5 per round.
  std::mt19937 rng(42);
  std::vector<OfferGrant> running;
  double ratioSum = 0;
  int samples = 0;
  for (int round = 0; round < 200; ++round) {
    for (auto& g : allocator.allocate()) running.push_back(std::move(g));
    if (round >= 100) {
      ratioSum += allocator.dominantShare("h") / allocator.dominantShare("l");
      ++samples;
    }
    std::vector<OfferGrant> still;
    for (auto& g : running) {
      if (rng() % 5 == 0) {
        allocator.recoverResources(g.frameworkId, g.agentId, g.resources);
      } else {
        still.push_back(std::move(g));
      }
    }
    running = std::move(still);
  }
  CHECK(ratioSum / samples == doctest::Approx(2.0).epsilon(0.1));
}

TEST_CASE("setWeight refuses weights that are not positive and finite") {
  FakeClock clock;
  Allocator allocator(clock);
  CHECK_FALSE(allocator.setWeight("web", 0).ok());
  CHECK_FALSE(allocator.setWeight("web", -1).ok());
  CHECK_FALSE(allocator.setWeight("web", std::numeric_limits<double>::infinity()).ok());
  CHECK_FALSE(allocator.setWeight("bad role", 1).ok());
  CHECK(allocator.setWeight("web", 0.5).ok());
  CHECK(allocator.weight("web") == 0.5);
}

TEST_CASE("reserved resources go only to frameworks of their role") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addAgent("reserved", res("cpus(zeta):4;mem(zeta):1024"));
  allocator.addFramework("other", {"alpha"});
  CHECK(allocator.allocate().empty());

  allocator.addFramework("owner", {"zeta"});
  auto grants = allocator.allocate();
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].frameworkId == "owner");
  CHECK(grants[0].role == "zeta");
  CHECK(grants[0].resources == res("cpus(zeta):4;mem(zeta):1024").allocate("zeta"));
}

TEST_CASE("on a mixed agent the unreserved part goes to one framework and each reservation to its role") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addAgent("mixed", res("cpus:2;mem:512;cpus(zeta):2;mem(zeta):512"));
  allocator.addFramework("f-alpha", {"alpha"});
  allocator.addFramework("f-zeta", {"zeta"});
  // Both roles have share 0; "alpha" sorts first and takes the unreserved part.
  auto grants = allocator.allocate();
  REQUIRE(grants.size() == 2);
  std::map<std::string, Resources> byFramework;
  for (const auto& g : grants) byFramework[g.frameworkId] = g.resources;
  CHECK(byFramework["f-alpha"] == res("cpus:2;mem:512").allocate("alpha"));
  CHECK(byFramework["f-zeta"] == res("cpus(zeta):2;mem(zeta):512").allocate("zeta"));
}

TEST_CASE("a declined agent goes to other frameworks until the decliner's filter expires") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addAgent("a1", res("cpus:4;mem:4096"));
  allocator.addFramework("f1", {"web"});
  allocator.addFramework("f2", {"web"});

  auto first = allocator.allocate();
  REQUIRE(first.size() == 1);
  CHECK(first[0].frameworkId == "f1");  // equal shares: smaller id first
  allocator.decline("f1", "a1", first[0].resources, 10s);

  for (int step = 0; step < 2; ++step) {  // at +0 s and +5 s f1 is still filtered
    auto grants = allocator.allocate();
    REQUIRE(grants.size() == 1);
    CHECK(grants[0].frameworkId == "f2");
    allocator.recoverResources("f2", "a1", grants[0].resources);  // no filter
    clock.advance(5s);
  }
  clock.advance(1s);  // +11 s: expired
  auto later = allocator.allocate();
  REQUIRE(later.size() == 1);
  CHECK(later[0].frameworkId == "f1");
}

TEST_CASE("a decline without refuse_seconds filters for the default 5 seconds") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addAgent("a1", res("cpus:4;mem:4096"));
  allocator.addFramework("f1", {"web"});
  auto grants = allocator.allocate();
  REQUIRE(grants.size() == 1);
  allocator.decline("f1", "a1", grants[0].resources);
  clock.advance(4999ms);
  CHECK(allocator.allocate().empty());
  clock.advance(1ms);
  CHECK(allocator.allocate().size() == 1);
}

TEST_CASE("REVIVE clears a framework's filters immediately") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addAgent("a1", res("cpus:4;mem:4096"));
  allocator.addFramework("f1", {"web"});
  auto grants = allocator.allocate();
  REQUIRE(grants.size() == 1);
  allocator.decline("f1", "a1", grants[0].resources, 1h);
  CHECK(allocator.allocate().empty());
  allocator.revive("f1");
  CHECK(allocator.allocate().size() == 1);
}

TEST_CASE("a filter does not hide an offer larger than what was refused") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addAgent("a1", res("cpus:4;mem:4096"));
  allocator.addFramework("f1", {"web"});
  auto grants = allocator.allocate();
  REQUIRE(grants.size() == 1);
  // Launch a task on cpus:1;mem:1024 and refuse the rest for an hour.
  allocator.decline("f1", "a1", res("cpus:3;mem:3072").allocate("web"), 1h);
  CHECK(allocator.allocate().empty());
  allocator.recoverResources("f1", "a1", res("cpus:1;mem:1024").allocate("web"));  // the task finished
  auto again = allocator.allocate();
  REQUIRE(again.size() == 1);
  CHECK(again[0].resources == res("cpus:4;mem:4096").allocate("web"));
}

TEST_CASE("SUPPRESS stops offers in the suppressed roles only, and REVIVE restores them") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addAgent("for-a", res("cpus(a):1;mem(a):64"));
  allocator.addAgent("for-b", res("cpus(b):1;mem(b):64"));
  allocator.addFramework("f", {"a", "b"});
  allocator.suppress("f", {"a"});
  auto grants = allocator.allocate();
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].agentId == "for-b");
  CHECK(grants[0].role == "b");

  allocator.revive("f", {"a"});
  grants = allocator.allocate();
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].agentId == "for-a");

  declineAll(allocator, grants, std::nullopt);
  allocator.suppress("f");  // all roles
  CHECK(allocator.allocate().empty());
  allocator.revive("f");
  CHECK(allocator.allocate().size() == 1);
}

TEST_CASE("inactive frameworks and agents get no offers but keep their allocations") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addAgent("a1", res("cpus:4;mem:4096"));
  allocator.addAgent("a2", res("cpus:4;mem:4096"));
  allocator.addFramework("f1", {"web"}, /*active=*/false);
  CHECK(allocator.allocate().empty());
  allocator.activateFramework("f1");
  allocator.deactivateAgent("a2");
  auto grants = allocator.allocate();
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].agentId == "a1");

  allocator.deactivateFramework("f1");
  CHECK(allocator.allocatedTo("f1") == res("cpus:4;mem:4096").allocate("web"));
  allocator.activateAgent("a2");
  CHECK(allocator.allocate().empty());
  allocator.activateFramework("f1");
  grants = allocator.allocate();
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].agentId == "a2");
}

TEST_CASE("removing a framework frees its allocations for others") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addAgent("a1", res("cpus:4;mem:4096"));
  allocator.addFramework("f1", {"web"});
  REQUIRE(allocator.allocate().size() == 1);
  allocator.addFramework("f2", {"batch"});
  CHECK(allocator.allocate().empty());
  allocator.removeFramework("f1");
  CHECK(allocator.allocatedByRole().count("web") == 0);
  CHECK(allocator.dominantShare("f1") == 0.0);
  auto grants = allocator.allocate();
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].frameworkId == "f2");
}

TEST_CASE("removing an agent drops its allocations from the shares") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addAgent("a1", res("cpus:4;mem:4096"));
  allocator.addAgent("a2", res("cpus:4;mem:4096"));
  allocator.addFramework("f1", {"web"});
  allocator.addFramework("f2", {"web"});
  auto grants = allocator.allocate();
  REQUIRE(grants.size() == 2);
  std::string f2Agent = grants[0].frameworkId == "f2" ? grants[0].agentId : grants[1].agentId;
  allocator.removeAgent(f2Agent);
  CHECK(allocator.allocatedTo("f2").empty());
  CHECK(allocator.dominantShare("f2") == 0.0);
  CHECK(allocator.dominantShare("f1") == doctest::Approx(1.0));
  CHECK(allocator.totalResources() == res("cpus:4;mem:4096"));
  allocator.recoverResources("f2", f2Agent, grants[0].resources);  // late: ignored
  CHECK(allocator.allocate().empty());
}

TEST_CASE("an agent with only crumbs left (0.001 cpus, 1 MB) is not offered") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addAgent("a1", res("cpus:1;mem:1024;disk:100"));
  allocator.addFramework("f1", {"web"});
  REQUIRE(allocator.allocate().size() == 1);
  allocator.recoverResources("f1", "a1", res("cpus:0.001;mem:1;disk:100").allocate("web"));
  CHECK(allocator.allocate().empty());
  allocator.recoverResources("f1", "a1", res("cpus:0.009").allocate("web"));  // 0.01 cpus: enough
  auto grants = allocator.allocate();
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].resources == res("cpus:0.01;mem:1;disk:100").allocate("web"));
}

TEST_CASE("event-driven allocation offers only the named agents") {
  FakeClock clock;
  Allocator allocator(clock);
  allocator.addAgent("a1", res("cpus:4;mem:4096"));
  allocator.addAgent("a2", res("cpus:4;mem:4096"));
  allocator.addFramework("f1", {"web"});
  allocator.addFramework("f2", {"web"});
  auto grants = allocator.allocate({"a2", "a2", "unknown"});
  REQUIRE(grants.size() == 1);  // a duplicate id does not hand a2 to a second framework
  CHECK(grants[0].agentId == "a2");
}

TEST_CASE("three greedy frameworks with different task shapes hold equal dominant shares over time") {
  FakeClock clock;
  Allocator allocator(clock, {.seed = 3});
  for (int i = 0; i < 20; ++i) allocator.addAgent("a" + std::to_string(i), res("cpus:8;mem:16384"));
  // Cluster: 160 cpus, 327680 mem. Task shapes: cpu-bound, memory-bound and balanced.
  const std::map<std::string, Resources> task = {
      {"cpu", res("cpus:1;mem:512")}, {"mem", res("cpus:0.25;mem:4096")}, {"both", res("cpus:0.5;mem:1024")}};
  for (const auto& [fw, shape] : task) allocator.addFramework(fw, {"web"});

  struct Running {
    std::string framework, agent;
    Resources resources;
  };
  std::vector<Running> running;
  std::mt19937 rng(1);
  std::map<std::string, double> shareSum;
  for (int round = 0; round < 400; ++round) {
    for (const auto& g : allocator.allocate()) {
      // Greedy: launch every task that fits, decline the rest for 5 s so others can use it.
      Resources left = g.resources;
      Resources shape = task.at(g.frameworkId).allocate("web");
      while (left.contains(shape)) {
        left -= shape;
        running.push_back({g.frameworkId, g.agentId, shape});
      }
      allocator.decline(g.frameworkId, g.agentId, left, 5s);
    }
    std::vector<Running> still;
    for (auto& t : running) {
      if (rng() % 10 == 0) {
        allocator.recoverResources(t.framework, t.agent, t.resources);  // the task finished
      } else {
        still.push_back(std::move(t));
      }
    }
    running = std::move(still);
    clock.advance(1s);
    if (round >= 200) {
      for (const auto& [fw, shape] : task) shareSum[fw] += allocator.dominantShare(fw) / 200;
    }
  }
  double cpu = shareSum["cpu"], mem = shareSum["mem"], both = shareSum["both"];
  CAPTURE(cpu);
  CAPTURE(mem);
  CAPTURE(both);
  CHECK(cpu > 0.25);  // the cluster is contended, not idle
  CHECK(std::max({cpu, mem, both}) - std::min({cpu, mem, both}) < 0.05);
}

TEST_CASE("the same seed and the same calls give the same offers") {
  auto run = [](uint64_t seed) {
    FakeClock clock;
    Allocator allocator(clock, {.seed = seed});
    for (int i = 0; i < 50; ++i) allocator.addAgent("a" + std::to_string(i), res("cpus:1;mem:128"));
    for (int i = 0; i < 7; ++i) allocator.addFramework("f" + std::to_string(i), {"r" + std::to_string(i % 3)});
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& g : allocator.allocate()) out.emplace_back(g.frameworkId, g.agentId);
    return out;
  };
  CHECK(run(5) == run(5));
  CHECK(run(5) != run(6));
}

TEST_CASE("random operations never lose or duplicate resources") {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    CAPTURE(seed);
    FakeClock clock;
    Allocator allocator(clock, {.minAllocatableCpus = Scalar(), .minAllocatableMem = Scalar(), .seed = seed});
    std::mt19937 rng(static_cast<unsigned>(seed));
    const std::vector<std::string> roles = {"a", "b", "c"};
    std::vector<OfferGrant> held;  // what the frameworks hold, as the master would track it
    auto forget = [&](auto pred) { held.erase(std::remove_if(held.begin(), held.end(), pred), held.end()); };
    for (int step = 0; step < 1500; ++step) {
      std::string agent = "ag" + std::to_string(rng() % 8), fw = "fw" + std::to_string(rng() % 5);
      std::string role = roles[rng() % 3];
      auto onAgent = [&](const OfferGrant& g) { return g.agentId == agent; };
      switch (rng() % 12) {
        case 0:
          allocator.addAgent(agent, res("cpus:4;mem:1024;ports:[1-10];cpus(" + role + "):1"));
          forget(onAgent);
          break;
        case 1: allocator.removeAgent(agent); forget(onAgent); break;
        case 2: allocator.addFramework(fw, {role, roles[rng() % 3]}, rng() % 4 != 0); break;
        case 3: allocator.removeFramework(fw); forget([&](const OfferGrant& g) { return g.frameworkId == fw; }); break;
        case 4: allocator.suppress(fw, {role}); break;
        case 5: allocator.revive(fw); break;
        case 6: allocator.deactivateFramework(fw); break;
        case 7: allocator.activateFramework(fw); break;
        case 8: rng() % 2 ? allocator.deactivateAgent(agent) : allocator.activateAgent(agent); break;
        case 9: for (auto& g : allocator.allocate()) held.push_back(std::move(g)); break;
        case 10:
          if (!held.empty()) {
            auto it = held.begin() + static_cast<std::ptrdiff_t>(rng() % held.size());
            OfferGrant g = std::move(*it);
            held.erase(it);
            allocator.decline(g.frameworkId, g.agentId, g.resources, std::chrono::seconds(rng() % 3));
          }
          break;
        case 11: clock.advance(1s); allocator.updateFrameworkRoles(fw, {role}); break;
      }
      Resources allocated, expected;
      for (const auto& [r, x] : allocator.allocatedByRole()) allocated += x;
      for (const auto& g : held) expected += g.resources;
      REQUIRE(allocated == expected);
      REQUIRE(allocator.totalResources().contains(allocated.unallocated()));
    }
    // Nothing is stranded: once everyone leaves, a newcomer is offered the whole cluster.
    for (int i = 0; i < 8; ++i) allocator.activateAgent("ag" + std::to_string(i));
    for (int i = 0; i < 5; ++i) allocator.removeFramework("fw" + std::to_string(i));
    allocator.addFramework("newcomer", {"a", "b", "c"});
    Resources offered;
    for (const auto& g : allocator.allocate()) offered += g.resources.unallocated();
    CHECK(offered == allocator.totalResources());
  }
}
