#include "kernel/agent/launcher.hpp"

#include "tests/support/support.hpp"
#include "tests/unit/kernel/launcher_harness.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

using namespace dcos;
using namespace dcos::kernel;
using namespace std::chrono_literals;

namespace {

using Outcome = test::LaunchOutcome;

// The launcher fixture with a shell task builder; sandboxes as the agent lays them out.
class Fixture : public test::LauncherFixture {
 public:
  LaunchSpec shell(const std::string& name, const std::string& script) {
    LaunchSpec spec;
    spec.containerId = name;
    spec.sandbox = dir.path() + "/sandboxes/fw/" + name + "/run";
    spec.program = "/bin/sh";
    spec.argv = {"sh", "-c", script};
    spec.environment = {"PATH=/usr/bin:/bin", "MARK=" + name};
    return spec;
  }
};

bool processGone(int pid) {
  if (::kill(pid, 0) != 0) return true;
  // An orphan reparented to an init that has not reaped it yet is dead too.
  std::string stat = test::readFile("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close == std::string::npos || stat.substr(close + 2, 1) == "Z";
}

}  // namespace

TEST_SUITE("agent launcher") {

TEST_CASE("a task's output lands in its sandbox and a failing exit is reported with its status") {
  Fixture f;
  auto spec = f.shell("t1", "echo hi; echo err >&2; exit 3");
  auto o = f.launch(spec);
  auto t = f.waitTerminated(*o);
  CHECK(o->pid() > 0);
  CHECK_FALSE(t.signaled);
  CHECK(t.code == 3);
  CHECK(t.message == "Command exited with status 3");
  CHECK_FALSE(t.succeeded());
  CHECK(test::readFile(spec.sandbox + "/stdout") == "hi\n");
  CHECK(test::readFile(spec.sandbox + "/stderr") == "err\n");
}

TEST_CASE("a task runs in its sandbox with exactly the spec's environment and no inherited descriptors") {
  Fixture f;
  ::setenv("DCOS_AGENT_TEST_SECRET", "leak", 1);
  int leaked = ::open("/dev/null", O_RDONLY);  // without O_CLOEXEC, as a careless library would
  REQUIRE(leaked > 2);
  auto spec = f.shell("t2", "pwd; echo \"mark=$MARK secret=${DCOS_AGENT_TEST_SECRET:-none}\"; "
                            "if [ -e /proc/$$/fd/" + std::to_string(leaked) + " ]; then echo leaked; else echo clean; fi; "
                            "read line; echo \"stdin=${line:-eof}\"");
  auto t = f.waitTerminated(*f.launch(spec));
  ::close(leaked);
  ::unsetenv("DCOS_AGENT_TEST_SECRET");
  CHECK(t.succeeded());
  CHECK(test::readFile(spec.sandbox + "/stdout") == spec.sandbox + "\nmark=t2 secret=none\nclean\nstdin=eof\n");
}

TEST_CASE("a task leads a session and process group of its own") {
  Fixture f;
  auto spec = f.shell("t3", "echo ready; exec sleep 30");
  auto o = f.launch(spec);
  REQUIRE(test::waitFor([&] { return test::readFile(spec.sandbox + "/stdout") == "ready\n"; }, 10s));
  // /proc/<pid>/stat: "pid (comm) state ppid pgrp session ..."
  std::istringstream stat(test::readFile("/proc/" + std::to_string(o->pid()) + "/stat"));
  std::string pid, comm, state, ppid, pgrp, session;
  stat >> pid >> comm >> state >> ppid >> pgrp >> session;
  CHECK(pgrp == pid);
  CHECK(session == pid);
  f.kill("t3", 0s);
  CHECK(f.waitTerminated(*o).message == "Command terminated by signal SIGKILL");
}

TEST_CASE("killing a task sends SIGTERM to its process group") {
  Fixture f;
  auto spec = f.shell("t4", "echo ready; exec sleep 30");
  auto o = f.launch(spec);
  REQUIRE(test::waitFor([&] { return test::readFile(spec.sandbox + "/stdout") == "ready\n"; }, 10s));
  auto start = std::chrono::steady_clock::now();
  f.kill("t4", 10s);
  auto t = f.waitTerminated(*o);
  CHECK(t.signaled);
  CHECK(t.message == "Command terminated by signal SIGTERM");
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("a task that ignores SIGTERM gets SIGKILL after the grace period") {
  Fixture f;
  auto spec = f.shell("t5", "trap '' TERM; echo ready; while :; do sleep 0.05; done");
  auto o = f.launch(spec);
  REQUIRE(test::waitFor([&] { return test::readFile(spec.sandbox + "/stdout") == "ready\n"; }, 10s));
  auto start = std::chrono::steady_clock::now();
  f.kill("t5", 300ms);
  auto t = f.waitTerminated(*o);
  CHECK(std::chrono::steady_clock::now() - start >= 300ms);
  CHECK(t.message == "Command terminated by signal SIGKILL");
}

TEST_CASE("a missing binary is an exec failure, not a task that ran") {
  Fixture f;
  auto spec = f.shell("t6", "");
  spec.program = "/nonexistent/dcos-test-binary";
  spec.argv = {"dcos-test-binary"};
  auto o = f.launch(spec);
  REQUIRE(test::waitFor([&] { return o->hasStarted(); }, 10s));
  std::lock_guard lock(o->mu);
  REQUIRE_FALSE(o->started->ok());
  CHECK(o->started->error().message == "exec failed: '/nonexistent/dcos-test-binary': No such file or directory");
  CHECK_FALSE(o->terminated.has_value());
}

TEST_CASE("a program name without a slash is looked up in the task's PATH") {
  Fixture f;
  auto spec = f.shell("t7", "");
  spec.program = "echo";
  spec.argv = {"echo", "from", "path"};
  auto t = f.waitTerminated(*f.launch(spec));
  CHECK(t.succeeded());
  CHECK(test::readFile(spec.sandbox + "/stdout") == "from path\n");

  auto missing = f.shell("t8", "");
  missing.program = "dcos-no-such-program";
  auto o = f.launch(missing);
  REQUIRE(test::waitFor([&] { return o->hasStarted(); }, 10s));
  std::lock_guard lock(o->mu);
  CHECK(o->started->error().message == "exec failed: 'dcos-no-such-program': No such file or directory");
}

TEST_CASE("processes a task leaves behind in its group die with it") {
  Fixture f;
  auto spec = f.shell("t9", "sleep 30 & echo $! > child.pid; exit 0");
  auto t = f.waitTerminated(*f.launch(spec));
  CHECK(t.succeeded());
  int child = std::stoi(test::readFile(spec.sandbox + "/child.pid"));
  CHECK(test::waitFor([&] { return processGone(child); }, 5s));
}

TEST_CASE("shutdown stops every running task and waits for them") {
  Fixture f;
  auto a = f.launch(f.shell("ta", "exec sleep 30"));
  auto b = f.launch(f.shell("tb", "trap '' TERM; while :; do sleep 0.05; done"));
  REQUIRE(test::waitFor([&] { return a->pid() > 0 && b->pid() > 0; }, 10s));
  auto start = std::chrono::steady_clock::now();
  f.shutdownNow(200ms);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(::kill(a->pid(), 0) != 0);
  CHECK(::kill(b->pid(), 0) != 0);
  CHECK_FALSE(a->hasTerminated());  // no callbacks after shutdown
}

TEST_CASE("the launcher never reaps children it did not start") {
  Fixture f;
  pid_t mine = ::fork();
  REQUIRE(mine >= 0);
  if (mine == 0) ::_exit(7);
  auto t = f.waitTerminated(*f.launch(f.shell("t10", "exit 0")));
  CHECK(t.succeeded());
  int status = 0;
  REQUIRE(::waitpid(mine, &status, 0) == mine);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 7);
}

TEST_CASE("signal names are spelled as Mesos does") {
  CHECK(signalName(SIGTERM) == "SIGTERM");
  CHECK(signalName(SIGKILL) == "SIGKILL");
  CHECK(signalName(SIGSEGV) == "SIGSEGV");
}

}
