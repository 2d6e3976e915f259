// The binary's command line: help, version, and the exit code and one-line message for each
// kind of bad invocation.
#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

using namespace dcos::test;

namespace {
int lineCount(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
}  // namespace

TEST_CASE("dcos --help lists the modes") {
  auto r = runDcos({"--help"});
  CHECK(r.exitCode == 0);
  for (const char* mode : {"master", "agent", "dev"}) CHECK(r.out.find(mode) != std::string::npos);
}

TEST_CASE("dcos --version names the version, commit, build date and libraries") {
  auto r = runDcos({"--version"});
  CHECK(r.exitCode == 0);
  CHECK(r.out.rfind("dcos ", 0) == 0);
  CHECK(r.out.find("commit: ") != std::string::npos);
  CHECK(r.out.find("built: ") != std::string::npos);
  for (const char* lib : {"boost", "sqlite", "openssl", "nlohmann_json"}) CHECK(r.out.find(lib) != std::string::npos);
}

TEST_CASE("each mode's --help lists every flag with its default") {
  for (const char* mode : {"master", "agent", "dev"}) {
    auto r = runDcos({mode, "--help"});
    CHECK(r.exitCode == 0);
    CHECK(r.out.find("--port=INT") != std::string::npos);
    CHECK(r.out.find("--work_dir") != std::string::npos);
    CHECK(r.out.find("--log_level") != std::string::npos);
    CHECK(r.out.find("default") != std::string::npos);
  }
  CHECK(runDcos({"agent", "--help"}).out.find("--master") != std::string::npos);
  for (const char* mode : {"agent", "dev"}) {
    auto help = runDcos({mode, "--help"}).out;
    CHECK(help.find("--gc_delay=DURATION") != std::string::npos);
    CHECK(help.find("(default: 7days)") != std::string::npos);
    CHECK(help.find("--gc_disk_headroom") != std::string::npos);
    CHECK(help.find("--disk_watch_interval") != std::string::npos);
  }
  CHECK(runDcos({"master", "--help"}).out.find("(default: 5050)") != std::string::npos);
}

TEST_CASE("bad invocations exit 2 with one line naming the problem") {
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string mustMention;
  };
  TempDir dir;
  std::vector<Case> cases = {
      {{"frobnicate"}, {}, "unknown mode 'frobnicate'"},
      {{"master", "--work_dir=" + dir.path(), "--frob=1"}, {}, "--frob"},
      {{"master", "--work_dir=" + dir.path(), "--port=http"}, {}, "--port"},
      {{"master", "--work_dir=" + dir.path(), "--port=99999"}, {}, "--port"},
      {{"master"}, {}, "--work_dir"},
      {{"agent", "--work_dir=" + dir.path()}, {}, "--master"},
      {{"agent", "--work_dir=" + dir.path(), "--master=127.0.0.1:1", "--fetcher_cache_size=-1"}, {}, "--fetcher_cache_size"},
      {{"agent", "--work_dir=" + dir.path(), "--master=127.0.0.1:1", "--gc_disk_headroom=2"}, {}, "--gc_disk_headroom"},
      {{"dev", "--work_dir=" + dir.path(), "--gc_delay=soon"}, {}, "--gc_delay"},
      {{"master", "--work_dir=" + dir.path()}, {{"DCOS_LOG_LEVEL", "chatty"}}, "DCOS_LOG_LEVEL"},
      {{"master", "--work_dir=" + dir.path(), "--config=" + dir.file("missing.conf")}, {}, "missing.conf"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.mustMention);
    auto r = runDcos(c.args, c.env);
    CHECK(r.exitCode == 2);
    CHECK(lineCount(r.err) == 1);
    CHECK(r.err.find(c.mustMention) != std::string::npos);
  }
}

TEST_CASE("a port that is taken ends the master with exit 1 and a clear message") {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(fd, 1) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  TempDir dir;
  auto r = runDcos({"master", "--work_dir=" + dir.path(), "--address=127.0.0.1", "--port=" + std::to_string(port)});
  close(fd);
  CHECK(r.exitCode == 1);
  CHECK(r.err.find("already in use") != std::string::npos);
  CHECK(r.err.find(std::to_string(port)) != std::string::npos);
}

TEST_CASE("a work_dir that cannot be written ends the master with exit 1") {
  TempDir dir;
  writeFile(dir.file("a-file"), "not a directory");
  auto r = runDcos({"master", "--work_dir=" + dir.file("a-file") + "/state", "--port=0"});
  CHECK(r.exitCode == 1);
  CHECK(r.err.find("work_dir") != std::string::npos);
  CHECK(r.err.find(dir.file("a-file")) != std::string::npos);
}

TEST_CASE("flags come from a config file, the environment and the command line, in that precedence") {
  TempDir dir;
  writeFile(dir.file("master.conf"), "log_level = warn\nhttp_max_body_bytes = 100\n");
  // The environment's info beats the file's warn, so the "listening" line MasterProcess waits for
  // is printed; the command line's 50-byte body limit beats the file's 100.
  MasterProcess m(dir.file("state"), {"--config=" + dir.file("master.conf"), "--http_max_body_bytes=50"},
                  "master", {{"DCOS_LOG_LEVEL", "info"}});
  CHECK(httpRequest(m.port(), "POST", "/health", std::string(60, 'x')).status == 413);
  CHECK(httpRequest(m.port(), "POST", "/health", std::string(40, 'x')).status == 405);
}
