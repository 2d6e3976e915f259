#pragma once
// Helpers for tests: temporary directories, child processes that are always cleaned up, waiting
// for a condition with a deadline, and a raw HTTP/1.1 exchange over a real socket.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dcos::test {

using namespace std::chrono_literals;

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// True while the process exists and is not a zombie.
bool processAlive(int pid);

// Processes (other than this one) whose command line names something under `dir` or whose
// working directory is in it: executors, tasks and their children that a test's cluster left.
std::vector<int> processesUsing(const std::string& dir);
// SIGKILLs them until none is left (TempDir does this before removing itself).
void killProcessesUsing(const std::string& dir);

// Polls `condition` every few milliseconds until it holds or `timeout` passes.
bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

std::string readFile(const std::string& path);
void writeFile(const std::string& path, const std::string& content);

// The dcos binary under test (from $DCOS_BIN, set by meson test).
std::string dcosBinary();

// The join token of the master whose work dir is `masterWorkDir` ("" when it has none yet).
std::string joinToken(const std::string& masterWorkDir);

// A child process with stdout and stderr captured to files. Destruction sends SIGTERM, then
// SIGKILL after a second, and reaps it, so no test leaves a process behind.
// `dcos agent` with `--master=127.0.0.1:<port>` (or localhost) of a master a MasterProcess of
// this test process started, and neither `--token` nor DCOS_TOKEN in `extraEnv`, gets
// `--token=<that master's join token>` appended: tests join their agents without thinking about
// it, and test refusals by passing a token (or an empty DCOS_TOKEN) themselves.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::string& outputDir,
          const std::map<std::string, std::string>& extraEnv = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  int pid() const { return pid_; }
  std::string stdoutText() const { return readFile(stdoutPath_); }
  std::string stderrText() const { return readFile(stderrPath_); }
  void signal(int sig) const;
  // Waits for the exit; returns the exit code (128+N for signal N), or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  int pid_ = -1;
  int exitCode_ = -1;
  bool reaped_ = false;
  std::string stdoutPath_, stderrPath_;
};

// Runs the binary to completion (deadline 30 s); exit code and output.
struct RunResult {
  int exitCode = -1;
  std::string out, err;
};
RunResult runDcos(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {});

// Runs `command` with /bin/sh in `dir` (deadline 30 s); true when it exits 0, else a doctest
// MESSAGE with its stderr.
bool runShell(const std::string& dir, const std::string& command);
// Whether `program` is on the PATH (tests that need e.g. openssl skip without it).
bool haveCommand(const std::string& program);
// What `command` (run by /bin/sh) prints on stdout; stderr goes to the test's stderr.
std::string commandOutput(const std::string& command);

// A `dcos master` (or `dcos dev`) on an ephemeral port in its own work dir. Masters and dev
// clusters are remembered by port (see Process) for agents to get their join token.
class MasterProcess {
 public:
  explicit MasterProcess(const std::string& workDir, std::vector<std::string> extraArgs = {},
                         const std::string& mode = "master",
                         const std::map<std::string, std::string>& env = {});
  int port() const { return port_; }
  Process& process() { return *process_; }

 private:
  std::unique_ptr<Process> process_;
  int port_ = 0;
};

// One HTTP exchange on a fresh connection: sends `raw` bytes, reads until the server closes or
// `timeout` passes. Returns everything received.
std::string rawExchange(int port, const std::string& raw, std::chrono::milliseconds timeout = 5s);

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};
// A simple request (Connection: close); parses status, headers and a Content-Length body.
HttpReply httpRequest(int port, const std::string& method, const std::string& target,
                      const std::string& body = "", const std::map<std::string, std::string>& headers = {});
HttpReply parseReply(const std::string& raw);

}  // namespace dcos::test
