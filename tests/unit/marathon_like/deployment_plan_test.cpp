#include "marathon_like/deployment_plan.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

using namespace dcos;
using namespace dcos::marathon;

namespace {

AppDefinition app(const std::string& id, int64_t instances = 1,
                  std::vector<std::string> deps = {}) {
  AppDefinition a;
  a.id = id;
  a.cmd = "sleep 1000";
  a.instances = instances;
  a.dependencies = std::move(deps);
  return a;
}

std::map<std::string, AppDefinition> apps(std::vector<AppDefinition> list) {
  std::map<std::string, AppDefinition> m;
  for (auto& a : list) m[a.id] = a;
  return m;
}

DeploymentAction start(const std::string& id) { return {ActionType::kStart, id}; }
DeploymentAction scale(const std::string& id) { return {ActionType::kScale, id}; }
DeploymentAction restart(const std::string& id) { return {ActionType::kRestart, id}; }
DeploymentAction stop(const std::string& id) { return {ActionType::kStop, id}; }

std::vector<DeploymentStep> steps(std::vector<std::vector<DeploymentAction>> s) {
  std::vector<DeploymentStep> out;
  for (auto& acts : s) out.push_back(DeploymentStep{std::move(acts)});
  return out;
}

std::vector<DeploymentStep> plan(const std::map<std::string, AppDefinition>& from,
                                 const std::map<std::string, AppDefinition>& to) {
  auto p = planDeployment(from, to, "plan-1");
  REQUIRE(p.ok());
  return p->steps;
}

}  // namespace

TEST_CASE("deployment plan: new app is started then scaled") {
  CHECK(plan({}, apps({app("/a", 3)})) == steps({{start("/a")}, {scale("/a")}}));
  // No instances: nothing to scale.
  CHECK(plan({}, apps({app("/a", 0)})) == steps({{start("/a")}}));
}

TEST_CASE("deployment plan: removed app is stopped") {
  CHECK(plan(apps({app("/a"), app("/b")}), apps({app("/b")})) == steps({{stop("/a")}}));
}

TEST_CASE("deployment plan: only instances changed scales") {
  CHECK(plan(apps({app("/a", 1)}), apps({app("/a", 5)})) == steps({{scale("/a")}}));
  CHECK(plan(apps({app("/a", 5)}), apps({app("/a", 0)})) == steps({{scale("/a")}}));
}

TEST_CASE("deployment plan: changed definition restarts, also when instances change too") {
  auto changed = app("/a", 4);
  changed.cmd = "sleep 2000";
  CHECK(plan(apps({app("/a", 1)}), apps({changed})) == steps({{restart("/a")}}));
  auto strategy = app("/a");
  strategy.upgradeStrategy.minimumHealthCapacity = 0.5;
  CHECK(plan(apps({app("/a")}), apps({strategy})) == steps({{restart("/a")}}));
}

TEST_CASE("deployment plan: unchanged apps produce nothing, version alone is no change") {
  auto v1 = app("/a");
  v1.version = "2020-01-01T00:00:00.000Z";
  auto v2 = app("/a");
  v2.version = "2021-01-01T00:00:00.000Z";
  CHECK(plan(apps({v1, app("/b")}), apps({v2, app("/b")})).empty());
  CHECK(plan({}, {}).empty());
  auto p = planDeployment(apps({app("/a")}), apps({app("/a")}), "p");
  REQUIRE(p.ok());
  CHECK(p->affectedAppIds.empty());
  CHECK(planToJson(*p)["totalSteps"] == 0);
}

TEST_CASE("deployment plan: dependencies order starts in levels, stops reversed") {
  // /c depends on /b, /b depends on /a; /x is independent.
  auto chain = apps({app("/a", 1), app("/b", 2, {"/a"}), app("/c", 3, {"/b"}), app("/x", 1)});
  CHECK(plan({}, chain) == steps({{start("/a"), start("/b"), start("/c"), start("/x")},
                                  {scale("/a"), scale("/x")},
                                  {scale("/b")},
                                  {scale("/c")}}));
  CHECK(plan(chain, {}) == steps({{stop("/c")}, {stop("/b")}, {stop("/a"), stop("/x")}}));

  // Scales and restarts follow the same order; an unchanged app in the chain still separates.
  auto changed = chain;
  changed["/a"].instances = 4;
  changed["/c"].cmd = "new";
  CHECK(plan(chain, changed) == steps({{scale("/a")}, {restart("/c")}}));

  // A diamond: /d depends on /b and /c, both depend on /a: the longest chain decides.
  auto diamond = apps({app("/a"), app("/b", 1, {"/a"}), app("/c", 1, {"/a", "/b"}),
                       app("/d", 1, {"/c", "/b"})});
  CHECK(plan({}, diamond) == steps({{start("/a"), start("/b"), start("/c"), start("/d")},
                                    {scale("/a")},
                                    {scale("/b")},
                                    {scale("/c")},
                                    {scale("/d")}}));

  // Dependencies on apps not in the graph are ignored.
  CHECK(plan({}, apps({app("/a", 1, {"/elsewhere"})})) == steps({{start("/a")}, {scale("/a")}}));
}

TEST_CASE("deployment plan: mixed change stops, then starts, then updates") {
  auto from = apps({app("/db"), app("/old", 1, {"/db"}), app("/web", 2, {"/db"})});
  auto to = apps({app("/db", 3), app("/web", 2, {"/db"}), app("/cache", 1, {"/db"})});
  CHECK(plan(from, to) == steps({{stop("/old")},
                                 {start("/cache")},
                                 {scale("/db")},
                                 {scale("/cache")}}));
  auto p = planDeployment(from, to, "dep-7");
  REQUIRE(p.ok());
  CHECK(p->id == "dep-7");
  CHECK(p->originalAppIds == std::vector<std::string>{"/db", "/old", "/web"});
  CHECK(p->targetAppIds == std::vector<std::string>{"/cache", "/db", "/web"});
  CHECK(p->affectedAppIds == std::vector<std::string>{"/cache", "/db", "/old"});
}

TEST_CASE("deployment plan: a dependency cycle is rejected naming it") {
  auto cyclic = apps({app("/a", 1, {"/c"}), app("/b", 1, {"/a"}), app("/c", 1, {"/b"}),
                      app("/z")});
  auto p = planDeployment({}, cyclic, "p");
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().code == ErrorCode::kUnprocessable);
  CHECK(p.error().message == "dependency cycle: /a -> /c -> /b -> /a");

  auto self = planDeployment({}, apps({app("/s", 1, {"/s"})}), "p");
  REQUIRE_FALSE(self.ok());
  CHECK(self.error().message == "dependency cycle: /s -> /s");

  // A cycle among removed apps too.
  auto stopCycle = planDeployment(apps({app("/a", 1, {"/b"}), app("/b", 1, {"/a"})}), {}, "p");
  REQUIRE_FALSE(stopCycle.ok());
  CHECK(stopCycle.error().code == ErrorCode::kUnprocessable);
}

TEST_CASE("deployment plan: JSON in Marathon's /v2/deployments shape") {
  auto p = planDeployment(apps({app("/gone")}), apps({app("/a", 2)}), "abc");
  REQUIRE(p.ok());
  const Json expected = Json::parse(R"({
    "id": "abc",
    "affectedApps": ["/a", "/gone"],
    "affectedPods": [],
    "steps": [
      {"actions": [{"action": "StopApplication", "app": "/gone"}]},
      {"actions": [{"action": "StartApplication", "app": "/a"}]},
      {"actions": [{"action": "ScaleApplication", "app": "/a"}]}
    ],
    "totalSteps": 3
  })");
  CHECK(planToJson(*p) == expected);
  CHECK(std::string(actionName(ActionType::kRestart)) == "RestartApplication");
}

// ---- Rolling restart ----

namespace {

struct SimResult {
  bool done = false;
  bool blocked = false;
  int steps = 0;
};

// Simulates a restart from n old instances: each step applies the decision (kills, then starts);
// instances started in one step are still unhealthy at the next decision and healthy after it.
SimResult simulate(int n, double m, double o) {
  const int minHealthy = minimumHealthyInstances(n, m);
  const int maxTotal = maximumTotalInstances(n, o);
  RestartState s{n, 0, 0};
  int pending = 0;   // started, becoming healthy after the next decision
  int starting = 0;  // started in this step
  SimResult r;
  for (r.steps = 0; r.steps <= 4 * n + 4; ++r.steps) {
    CAPTURE(r.steps);
    CAPTURE(s.oldRunning);
    CAPTURE(s.newStarted);
    CAPTURE(s.newHealthy);
    const auto d = nextRestartMove(n, m, o, s);
    if (d.done) {
      CHECK(s.oldRunning == 0);
      CHECK(s.newHealthy == n);
      CHECK(d.killOld == 0);
      CHECK(d.startNew == 0);
      r.done = true;
      return r;
    }
    CHECK(d.killOld >= 0);
    CHECK(d.startNew >= 0);
    CHECK(d.killOld <= s.oldRunning);
    if (d.blocked) {
      CHECK(d.killOld == 0);
      CHECK(d.startNew == 0);
      r.blocked = true;
      return r;
    }
    s.oldRunning -= d.killOld;
    // Only healthy new instances count; old ones are healthy.
    CHECK(s.oldRunning + s.newHealthy >= minHealthy);
    starting = d.startNew;
    s.newStarted += d.startNew;
    CHECK(s.newStarted <= n);
    CHECK(s.oldRunning + s.newStarted <= maxTotal);
    // Time passes: last step's starts become healthy.
    s.newHealthy += pending;
    pending = starting;
    CHECK(s.oldRunning + s.newHealthy >= minHealthy);
  }
  return r;
}

}  // namespace

TEST_CASE("rolling restart: bounds") {
  CHECK(minimumHealthyInstances(5, 0.5) == 3);
  CHECK(minimumHealthyInstances(10, 0.8) == 8);
  CHECK(minimumHealthyInstances(5, 1) == 5);
  CHECK(minimumHealthyInstances(3, 0) == 0);
  CHECK(maximumTotalInstances(10, 0.2) == 12);
  CHECK(maximumTotalInstances(5, 0.5) == 7);
  CHECK(maximumTotalInstances(1, 0.5) == 1);
  CHECK(maximumTotalInstances(5, 1) == 10);
}

TEST_CASE("rolling restart: table of strategies keeps the invariants and terminates") {
  struct Case {
    int n;
    double m, o;
    bool blocked;
  };
  const std::vector<Case> cases = {
      {5, 1, 0, true},       // no kill and no start keeps both bounds
      {5, 0.5, 0, false},    {5, 1, 1, false},  {10, 0.8, 0.2, false},
      {3, 0, 0, false},      {1, 1, 0.5, true},  // floor(0.5) == 0: as m=1, o=0
      {1, 1, 1, false},      {1, 0, 0, false},  {7, 0.3, 0.1, false},
      {0, 1, 0, false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.n);
    CAPTURE(c.m);
    CAPTURE(c.o);
    const auto r = simulate(c.n, c.m, c.o);
    CHECK(r.blocked == c.blocked);
    CHECK(r.done == !c.blocked);
    if (r.done) CHECK(r.steps <= 4 * c.n);
  }
}

TEST_CASE("rolling restart: every strategy on a grid either finishes within 4n steps or is "
          "blocked from the start because ceil(n*m) == n and floor(n*o) == 0") {
  for (int n = 1; n <= 12; ++n) {
    for (int mi = 0; mi <= 10; ++mi) {
      for (int oi = 0; oi <= 10; ++oi) {
        const double m = mi / 10.0, o = oi / 10.0;
        CAPTURE(n);
        CAPTURE(m);
        CAPTURE(o);
        const auto r = simulate(n, m, o);
        const bool stuck = minimumHealthyInstances(n, m) == n && maximumTotalInstances(n, o) == n;
        CHECK(r.blocked == stuck);
        if (stuck) CHECK(r.steps == 0);
        if (!stuck) {
          CHECK(r.done);
          CHECK(r.steps <= 4 * n);
        }
      }
    }
  }
}

TEST_CASE("rolling restart: single decisions") {
  // m=0.5, o=0, n=5: kill 2 (5 -> 3 healthy), start 2 (back to 5 total).
  CHECK(nextRestartMove(5, 0.5, 0, {5, 0, 0}) == RestartDecision{2, 2, false, false});
  // Waiting for new instances to become healthy is not blocked.
  CHECK(nextRestartMove(5, 0.5, 0, {3, 2, 0}) == RestartDecision{0, 0, false, false});
  // m=1, o=1: start all new first, then kill all old once they are healthy.
  CHECK(nextRestartMove(5, 1, 1, {5, 0, 0}) == RestartDecision{0, 5, false, false});
  CHECK(nextRestartMove(5, 1, 1, {5, 5, 5}) == RestartDecision{5, 0, false, false});
  CHECK(nextRestartMove(5, 1, 1, {0, 5, 5}) == RestartDecision{0, 0, true, false});
  CHECK(nextRestartMove(5, 1, 0, {5, 0, 0}) == RestartDecision{0, 0, false, true});
}
