#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace dcos::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/dcos-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  killProcessesUsing(path_);
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

// A /proc file read with plain syscalls: "" when it cannot be read. (A process that exits while
// its file is read makes the read fail with ESRCH, which an ifstream turns into an exception —
// fatal in a destructor such as TempDir's.)
std::string readProcFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return n < 0 ? "" : out;
}

}  // namespace

bool processAlive(int pid) {
  std::string text = readProcFile("/proc/" + std::to_string(pid) + "/stat");
  auto close = text.rfind(')');
  return close != std::string::npos && text.size() > close + 2 && text[close + 2] != 'Z';
}

std::vector<int> processesUsing(const std::string& dir) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    int pid = std::stoi(name);
    if (pid == ::getpid() || !processAlive(pid)) continue;
    std::string cmdline = readProcFile(entry.path() / "cmdline");
    std::string cwd = fs::read_symlink(entry.path() / "cwd", ec).string();
    if (cmdline.find(dir + "/") != std::string::npos || cwd == dir || cwd.rfind(dir + "/", 0) == 0) out.push_back(pid);
  }
  return out;
}

void killProcessesUsing(const std::string& dir) {
  for (int round = 0; round < 50; ++round) {
    auto pids = processesUsing(dir);
    if (pids.empty()) return;
    for (int pid : pids) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, WNOHANG);  // our own children (executors of an in-process agent)
    }
    std::this_thread::sleep_for(20ms);
    for (int pid : pids) ::waitpid(pid, nullptr, WNOHANG);
  }
}

bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string dcosBinary() {
  const char* bin = std::getenv("DCOS_BIN");
  if (!bin || !*bin) throw std::runtime_error("DCOS_BIN is not set (run the tests through meson test)");
  return bin;
}

namespace {

// Ports of the masters this test process started, and their work dirs.
std::mutex gMastersMu;
std::map<int, std::string> gMasterDirs;

void rememberMaster(int port, const std::string& workDir) {
  std::lock_guard lock(gMastersMu);
  gMasterDirs[port] = workDir;
}

// argv with `--token=...` added when it starts an agent of a master we know (see support.hpp).
std::vector<std::string> withJoinToken(std::vector<std::string> argv, const std::map<std::string, std::string>& env) {
  if (argv.size() < 2 || argv[1] != "agent" || env.count("DCOS_TOKEN")) return argv;
  static const std::regex local(R"(--master[= ](?:127\.0\.0\.1|localhost):([0-9]+))");
  int port = 0;
  for (size_t i = 2; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--token", 0) == 0) return argv;
    std::string joined = a == "--master" && i + 1 < argv.size() ? a + " " + argv[i + 1] : a;
    std::smatch m;
    if (std::regex_match(joined, m, local)) port = std::stoi(m[1]);
  }
  std::string dir;
  {
    std::lock_guard lock(gMastersMu);
    auto it = gMasterDirs.find(port);
    if (it == gMasterDirs.end()) return argv;
    dir = it->second;
  }
  std::string token = joinToken(dir);
  if (!token.empty()) argv.push_back("--token=" + token);
  return argv;
}

}  // namespace

std::string joinToken(const std::string& masterWorkDir) {
  std::string token = readFile(masterWorkDir + "/join-token");
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  return token;
}

Process::Process(const std::vector<std::string>& originalArgv, const std::string& outputDir,
                 const std::map<std::string, std::string>& extraEnv) {
  std::vector<std::string> argv = withJoinToken(originalArgv, extraEnv);
  static int counter = 0;
  std::string stem = outputDir + "/proc-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
  stdoutPath_ = stem + ".out";
  stderrPath_ = stem + ".err";
  std::vector<std::string> envStrings;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    std::string name = kv.substr(0, kv.find('='));
    if (!extraEnv.count(name)) envStrings.push_back(kv);
  }
  for (const auto& [k, v] : extraEnv) envStrings.push_back(k + "=" + v);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : envStrings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int out = open(stdoutPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(stderrPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out, 1);
    dup2(err, 2);
    setpgid(0, 0);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
}

Process::~Process() {
  if (!running()) return;
  signal(SIGTERM);
  if (wait(2000ms) < 0) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    wait(5000ms);
  }
}

void Process::signal(int sig) const {
  if (pid_ > 0) kill(pid_, sig);
}

bool Process::running() {
  if (reaped_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    exitCode_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return r == 0;
}

int Process::wait(std::chrono::milliseconds timeout) {
  waitFor([&] { return !running(); }, timeout);
  return reaped_ ? exitCode_ : -1;
}

RunResult runDcos(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  TempDir out;
  std::vector<std::string> argv{dcosBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r;
  {
    Process p(argv, out.path(), env);
    r.exitCode = p.wait(30s);
    r.out = p.stdoutText();
    r.err = p.stderrText();
  }
  return r;
}

MasterProcess::MasterProcess(const std::string& workDir, std::vector<std::string> extraArgs,
                             const std::string& mode, const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv{dcosBinary(), mode, "--work_dir=" + workDir, "--address=127.0.0.1"};
  bool portGiven = std::any_of(extraArgs.begin(), extraArgs.end(), [](const std::string& a) { return a.rfind("--port", 0) == 0; });
  if (!portGiven) argv.push_back("--port=0");
  // A free DNS port too, also when a test restarts a master on a fixed HTTP port.
  bool dnsPortGiven = std::any_of(extraArgs.begin(), extraArgs.end(), [](const std::string& a) { return a.rfind("--dns_port", 0) == 0; });
  if ((mode == "master" || mode == "dev") && !dnsPortGiven) argv.push_back("--dns_port=0");
  argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
  process_ = std::make_unique<Process>(argv, workDir.substr(0, workDir.rfind('/')), env);
  static const std::regex listening(R"(listening on http://[0-9.]+:([0-9]+))");
  bool up = waitFor(
      [&] {
        std::smatch m;
        std::string err = process_->stderrText();
        if (std::regex_search(err, m, listening)) {
          port_ = std::stoi(m[1]);
          return true;
        }
        return !process_->running();
      },
      10s);
  if (!up || port_ == 0) {
    throw std::runtime_error("master did not start: " + process_->stderrText());
  }
  if (mode == "master" || mode == "dev") rememberMaster(port_, workDir);
}

namespace {

int connectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("connect to port " + std::to_string(port) + " failed: " + strerror(errno));
  }
  return fd;
}

}  // namespace

std::string rawExchange(int port, const std::string& raw, std::chrono::milliseconds timeout) {
  int fd = connectTo(port);
  size_t sent = 0;
  while (sent < raw.size()) {
    ssize_t n = send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may cut us off early (e.g. 413); read what it said
    sent += static_cast<size_t>(n);
  }
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) <= 0) break;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

HttpReply parseReply(const std::string& raw) {
  HttpReply r;
  auto headEnd = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || headEnd == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  std::istringstream head(raw.substr(0, headEnd));
  std::string line;
  std::getline(head, line);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    r.headers[name] = value;
  }
  r.body = raw.substr(headEnd + 4);
  if (r.headers.count("content-length")) r.body = r.body.substr(0, std::stoul(r.headers["content-length"]));
  return r;
}

HttpReply httpRequest(int port, const std::string& method, const std::string& target,
                      const std::string& body, const std::map<std::string, std::string>& headers) {
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) raw += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  raw += "\r\n" + body;
  return parseReply(rawExchange(port, raw));
}

bool runShell(const std::string& dir, const std::string& command) {
  Process p({"/bin/sh", "-c", "cd '" + dir + "' && " + command}, dir);
  int code = p.wait(30s);
  if (code != 0) MESSAGE(command << " exited with " << code << ": " << p.stderrText());
  return code == 0;
}

bool haveCommand(const std::string& program) {
  TempDir dir;
  return runShell(dir.path(), "command -v '" + program + "' >/dev/null");
}

std::string commandOutput(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

}  // namespace dcos::test
