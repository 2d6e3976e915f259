#include "kernel/executor/channel.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dcos::kernel {
namespace {

std::string errnoText() { return std::strerror(errno); }

// Calls fn with a sockaddr_un for `path`; a long path goes through an O_PATH descriptor of its
// directory, kept open during the call.
template <typename Fn>
int withAddress(const std::string& path, Fn fn) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  int dirFd = -1;
  std::string name = path;
  if (path.size() >= sizeof addr.sun_path) {
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    dirFd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirFd < 0) return -1;
    name = "/proc/self/fd/" + std::to_string(dirFd) + "/" + path.substr(slash + 1);
    if (name.size() >= sizeof addr.sun_path) {
      ::close(dirFd);
      errno = ENAMETOOLONG;
      return -1;
    }
  }
  std::memcpy(addr.sun_path, name.c_str(), name.size() + 1);
  int rc = fn(reinterpret_cast<sockaddr*>(&addr), static_cast<socklen_t>(sizeof addr));
  int saved = errno;
  if (dirFd >= 0) ::close(dirFd);
  errno = saved;
  return rc;
}

}  // namespace

std::string executorSocketPath(const std::string& runDir) { return runDir + "/executor.sock"; }

Result<int> listenUnix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(ErrorCode::kIo, "socket: " + errnoText());
  ::unlink(path.c_str());
  if (withAddress(path, [&](sockaddr* a, socklen_t n) { return ::bind(fd, a, n); }) != 0 || ::listen(fd, 16) != 0) {
    std::string why = errnoText();
    ::close(fd);
    return Error(ErrorCode::kIo, "cannot listen on " + path + ": " + why);
  }
  return fd;
}

Result<int> connectUnix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(ErrorCode::kIo, "socket: " + errnoText());
  int rc;
  do {
    rc = withAddress(path, [&](sockaddr* a, socklen_t n) { return ::connect(fd, a, n); });
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    std::string why = errnoText();
    ::close(fd);
    return Error(ErrorCode::kUnavailable, "cannot connect to " + path + ": " + why);
  }
  return fd;
}

bool writeLine(int fd, const Json& message) {
  std::string line = message.dump() + "\n";
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::send(fd, line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

Result<std::vector<Json>> LineReader::feed(const char* data, size_t n) {
  buffer_.append(data, n);
  std::vector<Json> out;
  size_t start = 0;
  for (size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto parsed = Json::parse(buffer_.begin() + static_cast<std::ptrdiff_t>(start),
                              buffer_.begin() + static_cast<std::ptrdiff_t>(nl), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return Error(ErrorCode::kInvalidArgument, "the peer sent a line that is not a JSON object");
    }
    out.push_back(std::move(parsed));
  }
  buffer_.erase(0, start);
  if (buffer_.size() > maxLine_) return Error(ErrorCode::kInvalidArgument, "the peer sent a line longer than the limit");
  return out;
}

}  // namespace dcos::kernel
