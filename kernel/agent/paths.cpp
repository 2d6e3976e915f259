#include "kernel/agent/paths.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace dcos::kernel {
namespace {

Error ioError(const std::string& what, const std::string& path) {
  return Error(ErrorCode::kIo, what + " '" + path + "': " + std::strerror(errno));
}

Result<void> fsyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ioError("cannot open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ioError("cannot fsync", path);
  return success();
}

}  // namespace

Result<std::string> readAgentId(const std::string& workDir) {
  std::string path = workDir + "/agent_id";
  if (::access(path.c_str(), F_OK) != 0) return std::string();
  std::ifstream in(path);
  if (!in) return ioError("cannot read", path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string id = ss.str();
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  if (id.empty() || id.find_first_of(" \t\n/") != std::string::npos) {
    return Error(ErrorCode::kIo, "'" + path + "' does not hold an agent id; remove it to register as a new agent");
  }
  return id;
}

Result<void> writeAgentId(const std::string& workDir, const std::string& id) {
  return writeFileAtomically(workDir + "/agent_id", id + "\n");
}

Result<void> writeFileAtomically(const std::string& path, const std::string& content) {
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ioError("cannot create", temp);
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto err = ioError("cannot write", temp);
      ::close(fd);
      return err;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto err = ioError("cannot fsync", temp);
    ::close(fd);
    return err;
  }
  ::close(fd);
  if (std::rename(temp.c_str(), path.c_str()) != 0) return ioError("cannot rename onto", path);
  auto slash = path.rfind('/');
  return fsyncPath(slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash), O_RDONLY | O_DIRECTORY);
}

std::string pathComponent(const std::string& id) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : id) {
    bool safe = std::isalnum(c) || c == '.' || c == '_' || c == '-';
    if (safe) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  // Escaping never yields these from other ids, because '.' alone is never escaped.
  if (out.empty()) out = "%";
  if (out == ".") out = "%2E";
  if (out == "..") out = "%2E%2E";
  if (out.size() > 200) out.resize(200);
  return out;
}

std::string sandboxPath(const std::string& workDir, const std::string& frameworkId, const std::string& taskId,
                        const std::string& runId) {
  return workDir + "/sandboxes/" + pathComponent(frameworkId) + "/" + pathComponent(taskId) + "/" +
         pathComponent(runId);
}

std::string randomBytes(size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out;
  while (out.size() < n) {
    uint64_t v = rng();
    for (int i = 0; i < 8 && out.size() < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  return out;
}

std::string newRunId() {
  std::string b = randomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);  // variant 10
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[(static_cast<unsigned char>(b[i]) >> 4) & 15];
    out += hex[static_cast<unsigned char>(b[i]) & 15];
  }
  return out;
}

std::string base64Encode(const std::string& bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

SandboxOutput::~SandboxOutput() {
  if (out >= 0) ::close(out);
  if (err >= 0) ::close(err);
}

Result<SandboxOutput> openSandboxOutput(const std::string& sandbox) {
  SandboxOutput o;
  o.out = ::open((sandbox + "/stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (o.out >= 0) o.err = ::open((sandbox + "/stderr").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (o.out < 0 || o.err < 0) {
    return Error(ErrorCode::kIo, "cannot open the sandbox's stdout/stderr files: " + std::string(std::strerror(errno)));
  }
  return o;
}

}  // namespace dcos::kernel
