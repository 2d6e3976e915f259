#pragma once
// Network namespaces for tests that need several "hosts": N namespaces, each with one veth whose
// other end is plugged into a Linux bridge in the host namespace, all in one private /24 (the
// bridge holds .254, so the test process reaches every namespace directly). Names and the subnet
// derive from the test's pid, so test executables running side by side do not collide. The
// guard deletes everything it made (after killing whatever still runs inside the namespaces),
// also when the test fails half-way. Plus an HTTP/1.1 exchange with any IPv4 address (the
// support library's talks to 127.0.0.1 only).
#include "tests/support/support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace dcos::test {

struct CommandResult {
  int exitCode = -1;
  std::string out, err;
};

// Runs `command` with /bin/sh (deadline 10 s), output captured.
inline CommandResult runCommand(const std::string& command) {
  TempDir out;
  CommandResult r;
  Process p({"/bin/sh", "-c", command}, out.path());
  r.exitCode = p.wait(10s);
  r.out = p.stdoutText();
  r.err = p.stderrText();
  return r;
}

// The absolute path of `program` on $PATH or in the sbin directories ("" when absent).
inline std::string findProgram(const std::string& program) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::istringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// N network namespaces on one bridge. Construct, then setUp(); the destructor undoes whatever
// setUp() got done.
class BridgedNamespaces {
 public:
  explicit BridgedNamespaces(int count) : count_(count), tag_(std::to_string(::getpid())) {
    ip_ = findProgram("ip");
    bridge_ = "dmb" + tag_;  // at most 3 + 7 characters (pid_max is 2^22): within IFNAMSIZ
  }
  ~BridgedNamespaces() { tearDown(); }
  BridgedNamespaces(const BridgedNamespaces&) = delete;
  BridgedNamespaces& operator=(const BridgedNamespaces&) = delete;

  // "" when every namespace is up and reachable, else why not (the environment cannot do it:
  // not root, no `ip`, no netns support).
  std::string setUp() {
    if (::geteuid() != 0) return "not running as root (network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)";
    if (ip_.empty()) return "the `ip` command (iproute2) is not installed";
    subnet_ = pickSubnet();
    if (subnet_.empty()) return "no free private /24 found for the test network";
    tearDown();  // leftovers of an earlier run that had this pid and died hard
    std::vector<std::string> steps = {
        ip_ + " link add " + bridge_ + " type bridge",
        ip_ + " addr add " + hostAddress() + "/24 dev " + bridge_,
        ip_ + " link set " + bridge_ + " up",
    };
    for (int i = 0; i < count_; ++i) {
      std::string ns = name(i), host = hostVeth(i), peer = peerVeth(i);
      steps.push_back(ip_ + " netns add " + ns);
      steps.push_back(ip_ + " link add " + host + " type veth peer name " + peer + " netns " + ns);
      steps.push_back(ip_ + " link set " + host + " master " + bridge_ + " up");
      steps.push_back(ip_ + " -n " + ns + " addr add " + address(i) + "/24 dev " + peer);
      steps.push_back(ip_ + " -n " + ns + " link set " + peer + " up");
      steps.push_back(ip_ + " -n " + ns + " link set lo up");
    }
    for (const auto& step : steps) {
      CommandResult r = runCommand(step);
      if (r.exitCode != 0) return "`" + step + "` failed (exit " + std::to_string(r.exitCode) + "): " + r.err;
    }
    return "";
  }

  int count() const { return count_; }
  // The namespace of "host" i (0-based), its address, and the host namespace's address.
  std::string name(int i) const { return "dcos-mh-" + tag_ + "-" + std::to_string(i); }
  std::string address(int i) const { return subnet_ + "." + std::to_string(i + 1); }
  std::string hostAddress() const { return subnet_ + ".254"; }
  std::string subnet() const { return subnet_ + ".0/24"; }
  // argv prefix that runs a program inside namespace i.
  std::vector<std::string> exec(int i) const { return {ip_, "netns", "exec", name(i)}; }

  // Kills every process in the namespaces, deletes them, their veths and the bridge. Idempotent;
  // tolerates parts that were never made.
  void tearDown() {
    if (ip_.empty()) return;
    for (int i = 0; i < count_; ++i) killAllIn(name(i));
    for (int i = 0; i < count_; ++i) {
      runCommand(ip_ + " netns delete " + name(i) + " 2>/dev/null");
      // A namespace lives on while a process holds it; deleting the host end of the pair takes
      // the other end (and the route into the namespace) with it anyway.
      runCommand(ip_ + " link delete " + hostVeth(i) + " 2>/dev/null");
    }
    runCommand(ip_ + " link delete " + bridge_ + " 2>/dev/null");
  }

  // What is left of this topology on the host (for the test's cleanup check): names of links
  // and namespaces that still exist.
  std::vector<std::string> leftovers() const {
    std::vector<std::string> out;
    std::string links = runCommand(ip_ + " -o link show").out;
    std::string namespaces = runCommand(ip_ + " netns list").out;
    for (int i = 0; i < count_; ++i) {
      if (links.find(hostVeth(i) + "@") != std::string::npos || links.find(hostVeth(i) + ":") != std::string::npos) {
        out.push_back(hostVeth(i));
      }
      if (namespaces.find(name(i) + " ") != std::string::npos || namespaces.find(name(i) + "\n") != std::string::npos) {
        out.push_back(name(i));
      }
    }
    if (links.find(" " + bridge_ + ":") != std::string::npos) out.push_back(bridge_);
    return out;
  }

 private:
  std::string hostVeth(int i) const { return "dmh" + tag_ + "x" + std::to_string(i); }  // ≤ 12 chars
  std::string peerVeth(int i) const { return "dmp" + tag_ + "x" + std::to_string(i); }

  void killAllIn(const std::string& ns) const {
    for (int round = 0; round < 50; ++round) {
      CommandResult r = runCommand(ip_ + " netns pids " + ns + " 2>/dev/null");
      std::istringstream in(r.out);
      bool any = false;
      for (int pid = 0; in >> pid;) {
        if (pid > 0 && pid != ::getpid() && processAlive(pid)) {
          ::kill(pid, SIGKILL);
          any = true;
        }
      }
      if (!any) return;
      waitFor([] { return false; }, 20ms);
    }
  }

  // "10.A.B" for a /24 in 10.200.0.0–10.249.255.0 that starts from the pid and is not routed
  // on this host yet (another test's bridge, or a real network).
  std::string pickSubnet() const {
    std::string routes = runCommand(ip_ + " -4 route show").out + runCommand(ip_ + " -4 addr show").out;
    const int slots = 50 * 256;
    for (int k = 0; k < slots; ++k) {
      int c = (::getpid() + k * 7919) % slots;
      std::string s = "10." + std::to_string(200 + c / 256) + "." + std::to_string(c % 256);
      if (routes.find(s + ".") == std::string::npos) return s;
    }
    return "";
  }

  int count_;
  std::string tag_, ip_, bridge_, subnet_;
};

// One HTTP/1.1 exchange (Connection: close) with ip:port, within `timeout` overall. status 0 and
// the reason in `body` when it could not connect or got no parseable reply.
inline HttpReply httpTo(const std::string& ip, int port, const std::string& method, const std::string& target,
                        const std::string& body = "", std::chrono::milliseconds timeout = 5s) {
  HttpReply failed;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    return static_cast<int>(std::max<int64_t>(ms, 0));
  };
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (fd < 0 || ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
    if (fd >= 0) ::close(fd);
    failed.body = "bad address " + ip;
    return failed;
  }
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int err = ETIMEDOUT;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, left()) == 1) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    rc = err == 0 ? 0 : -1;
    errno = err;
  }
  if (rc != 0) {
    failed.body = "connect to " + ip + ":" + std::to_string(port) + " failed: " + std::strerror(errno);
    ::close(fd);
    return failed;
  }
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: " + ip + ":" + std::to_string(port) +
                    "\r\nConnection: close\r\nAccept: application/json\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    raw += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  raw += "\r\n" + body;
  size_t sent = 0;
  while (sent < raw.size() && left() > 0) {
    ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN) break;
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, left());
  }
  std::string in;
  char buf[65536];
  while (left() > 0) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, left()) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  HttpReply reply = parseReply(in);
  if (reply.status == 0) reply.body = "no HTTP reply from " + ip + ":" + std::to_string(port) + " (got '" + in.substr(0, 200) + "')";
  return reply;
}

}  // namespace dcos::test
