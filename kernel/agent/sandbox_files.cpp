#include "kernel/agent/sandbox_files.hpp"

#include "common/log.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <vector>

namespace dcos::kernel {
namespace {

namespace fs = std::filesystem;

const log::Logger& logger() { return log::get("agent"); }

constexpr int64_t kWholeDownloadBytes = 4 << 20;  // smaller files go out as one response
constexpr size_t kDownloadPieceBytes = 64 << 10;

bool within(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 && path[root.size()] == '/');
}

std::string lexical(const std::string& path) {
  std::string s = fs::path(path).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// realpath(3) and its errno.
std::pair<std::optional<std::string>, int> realPath(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (!resolved) return {std::nullopt, errno};
  std::string s(resolved);
  std::free(resolved);
  return {std::move(s), 0};
}

Error forbidden(const std::string& path) {
  return Error(ErrorCode::kForbidden, "'" + path + "' is outside the task sandboxes of this agent");
}
Error notFound(const std::string& path) { return Error(ErrorCode::kNotFound, "'" + path + "' does not exist"); }
Error ioError(const std::string& what, const std::string& path, int err) {
  return Error(ErrorCode::kIo, what + " '" + path + "': " + std::strerror(err));
}

// An open file or directory that was checked to lie under the sandboxes root.
struct OpenFile {
  int fd = -1;
  struct stat st {};
  OpenFile() = default;
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  OpenFile(OpenFile&& o) noexcept : fd(std::exchange(o.fd, -1)), st(o.st) {}
  OpenFile& operator=(OpenFile&&) = delete;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

Result<OpenFile> openChecked(const std::string& root, const std::string& requested) {
  auto real = resolveSandboxPath(root, requested);
  if (!real) return real.error();
  OpenFile f;
  // O_NONBLOCK: a FIFO a task left in its sandbox must not hang the agent; O_NOFOLLOW: the last
  // component was no symlink when resolved, so one there now was swapped in since.
  f.fd = ::open(real->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (f.fd < 0) {
    int err = errno;
    if (err == ENOENT) return notFound(requested);
    if (err == ELOOP || err == EACCES) return forbidden(requested);
    if (err == ENXIO) return Error(ErrorCode::kInvalidArgument, "'" + requested + "' is not a file or directory");
    return ioError("cannot open", requested, err);
  }
  // An intermediate directory may have been swapped for a symlink after realpath: check where the
  // descriptor really points before serving anything from it.
  auto [opened, err] = realPath("/proc/self/fd/" + std::to_string(f.fd));
  auto [realRoot, rootErr] = realPath(root);
  if (!opened || !realRoot || *opened == *realRoot || !within(*opened, *realRoot)) return forbidden(requested);
  if (::fstat(f.fd, &f.st) != 0) return ioError("cannot stat", requested, errno);
  return f;
}

// uid or gid -> name, from /etc/passwd or /etc/group (no NSS: the binary is static).
std::map<unsigned, std::string> idNames(const char* file) {
  std::map<unsigned, std::string> names;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    size_t c = b == std::string::npos ? b : line.find(':', b + 1);
    if (c == std::string::npos) continue;
    unsigned id = 0;
    auto [p, ec] = std::from_chars(line.data() + b + 1, line.data() + c, id);
    if (ec == std::errc() && p == line.data() + c) names.emplace(id, line.substr(0, a));
  }
  return names;
}

std::string modeString(mode_t m) {
  char type = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : S_ISFIFO(m) ? 'p'
            : S_ISSOCK(m) ? 's' : '-';
  std::string s(1, type);
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (m & (1u << (8 - i))) ? rwx[i] : '-';
  if (m & S_ISUID) s[3] = (m & S_IXUSR) ? 's' : 'S';
  if (m & S_ISGID) s[6] = (m & S_IXGRP) ? 's' : 'S';
  if (m & S_ISVTX) s[9] = (m & S_IXOTH) ? 't' : 'T';
  return s;
}

struct Owners {
  std::map<unsigned, std::string> users = idNames("/etc/passwd"), groups = idNames("/etc/group");
  std::string user(unsigned id) const {
    auto it = users.find(id);
    return it == users.end() ? std::to_string(id) : it->second;
  }
  std::string group(unsigned id) const {
    auto it = groups.find(id);
    return it == groups.end() ? std::to_string(id) : it->second;
  }
};

Json fileInfo(const std::string& path, const struct stat& st, const Owners& owners) {
  return {{"path", path},
          {"nlink", static_cast<uint64_t>(st.st_nlink)},
          {"size", static_cast<int64_t>(st.st_size)},
          {"mtime", static_cast<int64_t>(st.st_mtime)},
          {"mode", modeString(st.st_mode)},
          {"uid", owners.user(st.st_uid)},
          {"gid", owners.group(st.st_gid)}};
}

Result<OpenFile> openRegular(const std::string& root, const std::string& requested) {
  auto f = openChecked(root, requested);
  if (!f) return f.error();
  if (S_ISDIR(f->st.st_mode)) return Error(ErrorCode::kInvalidArgument, "Cannot read a directory: '" + requested + "'");
  if (!S_ISREG(f->st.st_mode)) return Error(ErrorCode::kInvalidArgument, "'" + requested + "' is not a regular file");
  return f;
}

// Reads up to `n` bytes at `offset`; fewer at the end of the file.
Result<std::string> readAt(int fd, int64_t offset, size_t n, const std::string& path) {
  std::string data(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, data.data() + got, n - got, static_cast<off_t>(offset + static_cast<int64_t>(got)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ioError("cannot read", path, errno);
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  data.resize(got);
  return data;
}

Result<std::optional<int64_t>> intParam(const http::Request& req, const char* name) {
  auto text = req.queryParam(name);
  if (!text || text->empty()) return std::optional<int64_t>();
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || p != text->data() + text->size()) {
    return Error(ErrorCode::kInvalidArgument, std::string("Failed to parse '") + name + "'",
                 {{std::string("/") + name, {"'" + *text + "' is not an integer"}}});
  }
  return std::optional<int64_t>(v);
}

http::Response answer(const http::Request& req, const Result<Json>& r) {
  if (r) return http::Response::json(200, *r);
  logger().debug("refused {} from {}: {}", req.target, req.remoteAddress, r.error().message);
  return http::Response::error(r.error());
}

// Sends the rest of the file a piece per loop turn, so other work interleaves with a big download.
void pump(EventLoop* loop, std::shared_ptr<http::ResponseStream> stream, std::shared_ptr<OpenFile> file,
          int64_t offset, std::string path) {
  auto piece = readAt(file->fd, offset, kDownloadPieceBytes, path);
  if (!piece || piece->empty()) {
    if (!piece) logger().warn("download of '{}' cut short: {}", path, piece.error().message);
    stream->close();
    return;
  }
  int64_t next = offset + static_cast<int64_t>(piece->size());
  if (!stream->write(std::move(*piece))) return;
  loop->post([loop, stream, file, next, path] { pump(loop, stream, file, next, path); });
}

void download(EventLoop* loop, const std::string& root, const http::Request& req, const http::Responder& responder) {
  std::string path = req.queryParam("path").value_or("");
  auto f = openRegular(root, path);
  if (!f) {
    logger().debug("refused {} from {}: {}", req.target, req.remoteAddress, f.error().message);
    return responder.send(http::Response::error(f.error()));
  }
  std::string name = fs::path(path).filename().string();
  std::replace_if(name.begin(), name.end(), [](char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; }, '_');
  http::Headers headers{{"Content-Type", "application/octet-stream"},
                        {"Content-Disposition", "attachment; filename=\"" + name + "\""}};
  int64_t size = f->st.st_size;
  if (size <= kWholeDownloadBytes) {
    auto data = readAt(f->fd, 0, static_cast<size_t>(size), path);
    if (!data) return responder.send(http::Response::error(data.error()));
    return responder.send(http::Response{200, std::move(headers), std::move(*data)});
  }
  auto stream = responder.stream(200, std::move(headers));
  pump(loop, std::move(stream), std::make_shared<OpenFile>(std::move(*f)), 0, path);
}

}  // namespace

Result<std::string> resolveSandboxPath(const std::string& root, const std::string& requested) {
  if (requested.empty()) {
    return Error(ErrorCode::kInvalidArgument, "Expecting 'path' in query", {{"/path", {"missing"}}});
  }
  if (requested.find('\0') != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "'path' must not contain NUL", {{"/path", {"contains NUL"}}});
  }
  if (requested.front() != '/') {
    return Error(ErrorCode::kInvalidArgument, "'path' must be absolute", {{"/path", {"not an absolute path"}}});
  }
  auto [realRoot, rootErr] = realPath(root);
  std::string lexicalPath = lexical(requested);
  bool lexicallyInside = within(lexicalPath, lexical(root)) || (realRoot && within(lexicalPath, *realRoot));
  auto [real, err] = realPath(requested);
  if (!real) {
    // Whether a path outside the sandboxes exists is none of the caller's business.
    if (!lexicallyInside) return forbidden(requested);
    if (err == ENOENT || err == ENOTDIR) return notFound(requested);
    if (err == EACCES || err == ELOOP) return forbidden(requested);
    return ioError("cannot resolve", requested, err);
  }
  // The root itself is refused too: listing it would show every framework's tasks.
  if (!realRoot || *real == *realRoot || !within(*real, *realRoot)) return forbidden(requested);
  return *real;
}

Result<Json> browseSandbox(const std::string& root, const std::string& requested) {
  auto f = openChecked(root, requested);
  if (!f) return f.error();
  Owners owners;
  std::string base = requested;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  Json out = Json::array();
  if (!S_ISDIR(f->st.st_mode)) {
    out.push_back(fileInfo(base, f->st, owners));
    return out;
  }
  int dirFd = ::dup(f->fd);
  DIR* dir = dirFd < 0 ? nullptr : ::fdopendir(dirFd);
  if (!dir) {
    int err = errno;
    if (dirFd >= 0) ::close(dirFd);
    return ioError("cannot list", requested, err);
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    struct stat st {};
    // Not followed: a symlink is listed as one, and says nothing about what it points at.
    if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // removed meanwhile
    out.push_back(fileInfo((base == "/" ? "" : base) + "/" + name, st, owners));
  }
  ::closedir(dir);
  return out;
}

Result<Json> readSandboxFile(const std::string& root, const std::string& requested, std::optional<int64_t> offset,
                             std::optional<int64_t> length) {
  if (offset && *offset < -1) {
    return Error(ErrorCode::kInvalidArgument, "Negative offset provided", {{"/offset", {"must be -1 or more"}}});
  }
  if (length && *length < 0) {
    return Error(ErrorCode::kInvalidArgument, "Negative length provided", {{"/length", {"must be 0 or more"}}});
  }
  auto f = openRegular(root, requested);
  if (!f) return f.error();
  int64_t size = f->st.st_size;
  if (!offset || *offset == -1 || *offset >= size) return Json{{"data", ""}, {"offset", size}};
  int64_t n = std::min({length.value_or(kMaxFileReadBytes), kMaxFileReadBytes, size - *offset});
  auto data = readAt(f->fd, *offset, static_cast<size_t>(n), requested);
  if (!data) return data.error();
  return Json{{"data", std::move(*data)}, {"offset", *offset}};
}

void registerSandboxFileRoutes(http::Router& router, EventLoop& loop, std::string root) {
  router.route("GET", "/files/browse", [root](const http::Request& req) {
    return answer(req, browseSandbox(root, req.queryParam("path").value_or("")));
  });
  router.route("GET", "/files/read", [root](const http::Request& req) {
    auto offset = intParam(req, "offset");
    if (!offset) return answer(req, offset.error());
    auto length = intParam(req, "length");
    if (!length) return answer(req, length.error());
    return answer(req, readSandboxFile(root, req.queryParam("path").value_or(""), *offset, *length));
  });
  router.routeAsync("GET", "/files/download", [root, loop = &loop](http::Request& req, http::Responder responder) {
    download(loop, root, req, responder);
  });
}

}  // namespace dcos::kernel
