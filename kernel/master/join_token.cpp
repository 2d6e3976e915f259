#include "kernel/master/join_token.hpp"

#include "common/log.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace dcos::kernel {
namespace {

constexpr size_t kTokenBytes = 16;  // 128 bits, 32 hex characters
constexpr const char* kBearer = "Bearer ";

const log::Logger& logger() { return log::get("master"); }

std::string tokenPath(const std::string& workDir) { return workDir + "/" + kJoinTokenFile; }

bool isToken(const std::string& text) {
  if (text.size() < 16 || text.size() > 256) return false;
  for (char c : text) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

Result<std::string> randomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(ErrorCode::kIo, std::string("cannot read random bytes: ") + std::strerror(errno));
    got += static_cast<size_t>(n);
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

// Writes `token` to a temporary file (0600 from the start: never readable by others), syncs it
// and renames it into place, so a crash leaves either no token or a whole one.
Result<void> writeToken(const std::string& path, const std::string& token) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error(ErrorCode::kIo, "cannot create '" + tmp + "': " + std::strerror(errno));
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  std::string why = std::strerror(errno);
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Error(ErrorCode::kIo, "cannot write '" + path + "': " + why);
  }
  return success();
}

// "10.0.0.5:41234" -> "10.0.0.5": agents reconnect from new ports.
std::string hostOf(const std::string& address) {
  auto colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

}  // namespace

Result<std::string> readJoinToken(const std::string& workDir) {
  std::string path = tokenPath(workDir);
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
    return Error(ErrorCode::kNotFound, "no join token in '" + workDir + "'");
  }
  std::ifstream in(path);
  if (!in) return Error(ErrorCode::kIo, "cannot read '" + path + "': " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (!isToken(text)) {
    return Error(ErrorCode::kInvalidArgument,
                 "'" + path + "' does not hold a join token (16 to 256 printable characters); remove it to make a new one");
  }
  return text;
}

Result<JoinToken> loadOrCreateJoinToken(const std::string& workDir) {
  auto existing = readJoinToken(workDir);
  if (existing) {
    // Tighten a file someone copied in with looser permissions.
    ::chmod(tokenPath(workDir).c_str(), 0600);
    return JoinToken{*existing, false};
  }
  if (existing.error().code != ErrorCode::kNotFound) return existing.error();
  auto token = randomHex(kTokenBytes);
  if (!token) return token.error();
  if (auto r = writeToken(tokenPath(workDir), *token); !r) return r.error();
  return JoinToken{*token, true};
}

bool joinTokenMatches(std::string_view expected, std::string_view given) {
  // Every byte of `expected` is looked at whatever `given` holds; only the lengths leak, and
  // every token the master makes has the same length.
  unsigned diff = expected.size() == given.size() ? 0u : 1u;
  for (size_t i = 0; i < expected.size(); ++i) {
    unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0u;
    diff |= static_cast<unsigned char>(expected[i]) ^ g;
  }
  return diff == 0;
}

std::string joinTokenHeader(const std::string& token) { return kBearer + token; }

std::string tokenFromHeader(std::string_view authorization) {
  std::string_view prefix = kBearer;
  if (authorization.size() < prefix.size()) return "";
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return "";
    }
  }
  std::string_view token = authorization.substr(prefix.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return std::string(token);
}

JoinTokenCheck::JoinTokenCheck(std::string token, const Clock& clock) : token_(std::move(token)), clock_(clock) {}

std::optional<http::Response> JoinTokenCheck::refusal(const http::Request& request) {
  if (token_.empty()) return std::nullopt;
  std::string given = tokenFromHeader(request.header("Authorization"));
  if (!given.empty() && joinTokenMatches(token_, given)) return std::nullopt;
  const char* what = given.empty() ? "missing" : "wrong";
  std::string key = hostOf(request.remoteAddress) + " " + what;
  TimePoint now = clock_.now();
  if (logged_.size() > 1000) std::erase_if(logged_, [&](const auto& e) { return now - e.second.at >= kLogInterval; });
  auto it = logged_.find(key);
  if (it != logged_.end() && now - it->second.at < kLogInterval) {
    ++it->second.suppressed;
  } else {
    uint64_t before = it == logged_.end() ? 0 : it->second.suppressed;
    logger().warn("refused agent {}: {} join token{}", request.remoteAddress, what,
                  before ? fmt::format(" ({} more like it from that host not logged)", before) : std::string());
    logged_[key] = Logged{now, 0};
  }
  std::string message = given.empty() ? "no join token: agents must send this master's join token as "
                                        "'Authorization: Bearer <token>'"
                                      : "wrong join token: it is not this master's";
  auto response = http::Response::error(401, message, {{"/headers/Authorization", {std::string(what) + " join token"}}});
  response.headers["WWW-Authenticate"] = "Bearer realm=\"dcos agents\"";
  return response;
}

}  // namespace dcos::kernel
