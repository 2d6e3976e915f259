#pragma once
// Helpers for integration tests that run a real master and agents (processes of the built
// binary) with a TestFramework: the master's view, starting agents, and tasks the test holds.
#include "tests/support/support.hpp"
#include "tests/support/test_framework.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace dcos::test {

inline nlohmann::json masterState(int port) { return nlohmann::json::parse(httpRequest(port, "GET", "/master/state").body); }

// The frameworks of a /master/state or GET_FRAMEWORKS list without the ones the master hosts
// itself (the service scheduler, "marathon"), so kernel tests see only their own.
inline nlohmann::json ownFrameworks(const nlohmann::json& frameworks) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : frameworks) {
    const nlohmann::json& info = f.contains("framework_info") ? f["framework_info"] : f;
    if (info.value("name", "") != "marathon") out.push_back(f);
  }
  return out;
}

inline int activeAgents(int port) {
  int n = 0;
  nlohmann::json state = masterState(port);
  for (const auto& s : state["slaves"]) n += s["active"].get<bool>();
  return n;
}

// `dcos agent` with its work dir at dir/<name>, registered with the master on `masterPort`.
inline std::unique_ptr<MasterProcess> startAgent(const TempDir& dir, const std::string& name, int masterPort,
                                                 const std::string& resources = "cpus:2;mem:1024;disk:1024") {
  return std::make_unique<MasterProcess>(
      dir.file(name), std::vector<std::string>{"--master=127.0.0.1:" + std::to_string(masterPort), "--resources=" + resources},
      "agent");
}

// A task that records each launch (its shell's pid, one line per launch, in dir/launches/<id>)
// and runs until the test creates dir/release.
inline TestFramework::TaskSpec heldTask(const TempDir& dir, const std::string& id) {
  std::string launches = dir.file("launches");
  std::string release = dir.file("release");
  return {id, "echo $$ >> " + launches + "/" + id + "; while [ ! -e " + release + " ]; do sleep 0.05; done"};
}

inline int lines(const std::string& path) {
  std::string text = readFile(path);
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace dcos::test
