#pragma once
// A `dcos dev` cluster for the CLI tests, with the environment CLI runs need (its own config dir
// and DCOS_URL); startDevCluster gives it task ports of this test process's own, so CLI test
// executables running side by side never hand out the same ports.
#include "tests/support/marathon.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace dcos::test {

struct CliDev {
  TempDir dir;
  std::unique_ptr<MasterProcess> cluster = startDevCluster(dir);
  MasterProcess& master = *cluster;
  std::string url = "http://127.0.0.1:" + std::to_string(master.port());
  std::map<std::string, std::string> env{{"DCOS_DIR", dir.file("cli")}, {"DCOS_URL", url}};

  CliDev() { REQUIRE(waitFor([&] { return activeAgents(master.port()) == 1; }, 10s)); }
  int port() const { return master.port(); }

  // The binary with `args`; what it printed is attached to the assertions that follow.
  RunResult dcos(const std::vector<std::string>& args) {
    auto r = runDcos(args, env);
    INFO("dcos ", args.empty() ? std::string() : args[0], " ... exited ", r.exitCode, "\nstdout: ", r.out,
         "\nstderr: ", r.err);
    return r;
  }
  // The binary with `input` on its stdin (runDcos gives /dev/null), waiting up to `timeout`.
  RunResult dcosWithInput(const std::vector<std::string>& args, const std::string& input,
                          std::chrono::milliseconds timeout = 30s) {
    writeFile(dir.file("stdin"), input);
    std::vector<std::string> argv{"/bin/sh", "-c", "exec \"$0\" \"$@\" < \"$STDIN_FILE\"", dcosBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto withInput = env;
    withInput["STDIN_FILE"] = dir.file("stdin");
    RunResult r;
    Process p(argv, dir.path(), withInput);
    r.exitCode = p.wait(timeout);
    r.out = p.stdoutText();
    r.err = p.stderrText();
    return r;
  }
  // A file in the cluster's directory (an options or app file for the CLI); returns its path.
  std::string file(const std::string& name, const std::string& content) {
    writeFile(dir.file(name), content);
    return dir.file(name);
  }
  std::string jsonFile(const std::string& name, const nlohmann::json& content) { return file(name, content.dump()); }
  nlohmann::json app(const std::string& id) { return mGet(port(), "/v2/apps" + id).json.value("app", nlohmann::json()); }
};

}  // namespace dcos::test
