#include "kernel/agent/cgroups.hpp"
#include "kernel/executor/spawn.hpp"

#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

using namespace dcos;
using namespace dcos::kernel;
using namespace dcos::test;
using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

// A `sh -c script` in `dir` with stdout to `dir`/out.
SpawnSpec shell(const TempDir& dir, const std::string& script, bool pidNamespace, int stdoutFd = -1) {
  SpawnSpec spec;
  spec.program = "sh";
  spec.argv = {"sh", "-c", script};
  spec.environment = {"PATH=/usr/local/bin:/usr/bin:/bin"};
  spec.workDir = dir.path();
  spec.stdoutFd = stdoutFd;
  spec.newProcessGroup = true;
  spec.dieWithParent = true;
  spec.newPidNamespace = pidNamespace;
  return spec;
}

// waitpid with a deadline: the wait status, or -1 when `pid` did not end in time.
int waitEnd(int pid, std::chrono::milliseconds timeout = 10s) {
  int status = -1;
  bool ended = waitFor([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  return ended ? status : -1;
}

// Runs `script` to its end and returns its stdout and the program's wait status.
std::pair<std::string, int> run(const TempDir& dir, const std::string& script, bool pidNamespace, SpawnedProcess* out = nullptr) {
  std::string path = dir.path() + "/out";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  auto process = spawn(shell(dir, script, pidNamespace, fd));
  ::close(fd);
  REQUIRE_MESSAGE(process.ok(), (process.ok() ? "" : process.error().message));
  int status = waitEnd(process->pid);
  REQUIRE(status != -1);
  int taskStatus = taskWaitStatus(*process, status);
  if (out) *out = std::move(*process);
  return {readFile(path), taskStatus};
}

// Live processes running `sleep <seconds>` with their working directory in `dir`.
int sleepers(const TempDir& dir, const std::string& seconds) {
  int count = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    if (!processAlive(std::stoi(name))) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::error_code cwdError;
    if (cmdline == std::string("sleep\0", 6) + seconds + std::string(1, '\0') &&
        fs::read_symlink(entry.path() / "cwd", cwdError).string() == dir.path()) {
      ++count;
    }
  }
  return count;
}

}  // namespace

TEST_CASE("spawn: the program runs as PID 2 under its own init in a new PID namespace") {
  TempDir dir;
  SpawnedProcess process;
  auto [out, status] = run(dir, "echo $$ $PPID", true, &process);
  CHECK(process.pidNamespace);
  CHECK(out == "2 1\n");
  CHECK(process.pid != 2);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("spawn: without the option the program is the process started") {
  TempDir dir;
  SpawnedProcess process;
  auto [out, status] = run(dir, "echo $$; exit 7", false, &process);
  CHECK_FALSE(process.pidNamespace);
  CHECK(process.statusFd == -1);
  CHECK(out == std::to_string(process.pid) + "\n");
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 7);
}

TEST_CASE("spawn: the program's exit code comes through init") {
  TempDir dir;
  auto process = spawn(shell(dir, "exit 7", true));
  REQUIRE(process.ok());
  int status = waitEnd(process->pid);
  REQUIRE(status != -1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 7);  // init's own status mirrors it
  int task = taskWaitStatus(*process, status);
  CHECK(WIFEXITED(task));
  CHECK(WEXITSTATUS(task) == 7);
  CHECK(process->statusFd == -1);
}

TEST_CASE("spawn: a program killed by SIGTERM through the process group is reported as signaled") {
  TempDir dir;
  auto process = spawn(shell(dir, "exec sleep 30", true));
  REQUIRE(process.ok());
  REQUIRE(waitFor([&] { return sleepers(dir, "30") == 1; }, 10s));
  REQUIRE(::kill(-process->pid, SIGTERM) == 0);
  int status = waitEnd(process->pid);  // init ignores SIGTERM but ends with the program
  REQUIRE(status != -1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 128 + SIGTERM);
  int task = taskWaitStatus(*process, status);
  REQUIRE(WIFSIGNALED(task));
  CHECK(signalName(WTERMSIG(task)) == "SIGTERM");
}

TEST_CASE("spawn: SIGTERM then SIGKILL to the process group leaves nothing of the namespace") {
  TempDir dir;
  auto process = spawn(shell(dir, "sleep 30 & sleep 30 & wait", true));
  REQUIRE(process.ok());
  REQUIRE(waitFor([&] { return sleepers(dir, "30") == 2; }, 10s));
  ::kill(-process->pid, SIGTERM);
  ::kill(-process->pid, SIGKILL);
  int status = waitEnd(process->pid);
  REQUIRE(status != -1);
  int task = taskWaitStatus(*process, status);
  CHECK(WIFSIGNALED(task));
  CHECK(waitFor([&] { return sleepers(dir, "30") == 0; }, 5s));
}

TEST_CASE("spawn: SIGKILL to init kills the whole namespace") {
  TempDir dir;
  auto process = spawn(shell(dir, "sleep 30 & exec sleep 31", true));
  REQUIRE(process.ok());
  REQUIRE(waitFor([&] { return sleepers(dir, "30") == 1 && sleepers(dir, "31") == 1; }, 10s));
  REQUIRE(::kill(process->pid, SIGKILL) == 0);  // init alone
  int status = waitEnd(process->pid);
  REQUIRE(status != -1);
  int task = taskWaitStatus(*process, status);
  REQUIRE(WIFSIGNALED(task));
  CHECK(WTERMSIG(task) == SIGKILL);
  CHECK(waitFor([&] { return sleepers(dir, "30") == 0 && sleepers(dir, "31") == 0; }, 5s));
}

TEST_CASE("spawn: what the program leaves behind (even in another session) dies when it ends") {
  TempDir dir;
  SUBCASE("in a PID namespace") {
    auto process = spawn(shell(dir, "setsid sleep 30 & exec sleep 31", true));
    REQUIRE(process.ok());
    REQUIRE(waitFor([&] { return sleepers(dir, "30") == 1 && sleepers(dir, "31") == 1; }, 10s));
    REQUIRE(::kill(-process->pid, SIGTERM) == 0);  // does not reach the other session's sleep
    int status = waitEnd(process->pid);
    REQUIRE(status != -1);
    int task = taskWaitStatus(*process, status);
    REQUIRE(WIFSIGNALED(task));
    CHECK(WTERMSIG(task) == SIGTERM);
    CHECK(waitFor([&] { return sleepers(dir, "30") == 0 && sleepers(dir, "31") == 0; }, 5s));
  }
  SUBCASE("without (for contrast: the other session's sleep survives)") {
    auto process = spawn(shell(dir, "setsid sleep 30 & exec sleep 31", false));
    REQUIRE(process.ok());
    REQUIRE(waitFor([&] { return sleepers(dir, "30") == 1 && sleepers(dir, "31") == 1; }, 10s));
    REQUIRE(::kill(-process->pid, SIGTERM) == 0);
    REQUIRE(waitEnd(process->pid) != -1);
    CHECK(sleepers(dir, "30") == 1);
    killProcessesUsing(dir.path());
    CHECK(waitFor([&] { return sleepers(dir, "30") == 0; }, 5s));
  }
}

TEST_CASE("spawn: a missing program fails the same way with or without a PID namespace") {
  TempDir dir;
  SpawnSpec spec = shell(dir, "", false);
  spec.program = "/nonexistent/program";
  spec.argv = {"program"};
  auto plain = spawnProcess(spec);
  spec.newPidNamespace = true;
  auto namespaced = spawn(spec);
  REQUIRE_FALSE(plain.ok());
  REQUIRE_FALSE(namespaced.ok());
  CHECK(plain.error().message == "exec failed: '/nonexistent/program': No such file or directory");
  CHECK(namespaced.error().message == plain.error().message);
  spec.workDir = dir.path() + "/missing";
  auto noSandbox = spawn(spec);
  REQUIRE_FALSE(noSandbox.ok());
  CHECK(noSandbox.error().message.rfind("exec failed: cannot enter the sandbox '" + spec.workDir + "'", 0) == 0);
}

TEST_CASE("spawn: init keeps none of the caller's descriptors") {
  TempDir dir;
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  auto process = spawn(shell(dir, "exec sleep 30", true));
  REQUIRE(process.ok());
  ::close(fds[1]);
  pollfd pfd{fds[0], POLLIN, 0};
  CHECK(::poll(&pfd, 1, 5000) == 1);  // EOF: no other writer is left (init would hold one)
  char c;
  CHECK(::read(fds[0], &c, 1) == 0);
  ::close(fds[0]);
  ::kill(-process->pid, SIGKILL);
  CHECK(waitEnd(process->pid) != -1);
}

TEST_CASE("spawn: spawnProcess with a PID namespace gives init's pid and a mirrored exit code") {
  TempDir dir;
  auto pid = spawnProcess(shell(dir, "kill -TERM $$", true));
  REQUIRE(pid.ok());
  int status = waitEnd(*pid);
  REQUIRE(status != -1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 128 + SIGTERM);
}

TEST_CASE("spawn: the namespace dies with the spawning process when asked to") {
  TempDir dir;
  pid_t parent = ::fork();
  REQUIRE(parent >= 0);
  if (parent == 0) {  // the spawning process: starts the program, then dies
    auto process = spawn(shell(dir, "sleep 30 & exec sleep 31", true));
    bool started = process.ok() && process->pidNamespace &&
                   waitFor([&] { return sleepers(dir, "30") == 1 && sleepers(dir, "31") == 1; }, 10s);
    ::_exit(started ? 0 : 1);
  }
  int status = waitEnd(parent);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(waitFor([&] { return sleepers(dir, "30") == 0 && sleepers(dir, "31") == 0; }, 5s));
}

TEST_CASE("spawn: without the right to make a PID namespace the program runs without one") {
  TempDir dir;
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // drops CAP_SYS_ADMIN, then spawns as usual
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) != 0) ::_exit(10);
    data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
    if (::syscall(SYS_capset, &header, data) != 0) ::_exit(11);
    std::string path = dir.path() + "/out";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    auto process = spawn(shell(dir, "echo $$; exit 7", true, fd));
    if (!process.ok()) ::_exit(12);
    if (process->pidNamespace) ::_exit(13);
    int status = waitEnd(process->pid);
    if (!WIFEXITED(status) || WEXITSTATUS(taskWaitStatus(*process, status)) != 7) ::_exit(14);
    ::_exit(readFile(path) == std::to_string(process->pid) + "\n" ? 0 : 15);
  }
  int status = waitEnd(child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("cgroups: containers() lists the containers that have a cgroup") {
  std::string why;
  auto cgroups = Cgroups::detect(false, &why);
  if (!cgroups) {
    MESSAGE("skipped: no usable cgroups: " << why);
    return;
  }
  std::string id = "spawn-test-" + std::to_string(::getpid());
  auto made = cgroups->create(id, {});
  REQUIRE_MESSAGE(made.ok(), (made.ok() ? "" : made.error().message));
  auto listed = cgroups->containers();
  CHECK(std::count(listed.begin(), listed.end(), id) == 1);
  cgroups->destroy(id);
  listed = cgroups->containers();
  CHECK(std::count(listed.begin(), listed.end(), id) == 0);
}
