#include "kernel/agent/gc.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace dcos::kernel {
namespace fs = std::filesystem;

Duration gcMaxAge(const GcOptions& options, double usage) {
  usage = std::clamp(usage, 0.0, 1.0);
  double factor = std::max(0.0, 1.0 - options.diskHeadroom - usage);
  return std::chrono::round<Duration>(options.delay * factor);
}

std::vector<std::string> sandboxesToRemove(const std::vector<SandboxEntry>& sandboxes, double usage,
                                           const GcOptions& options, TimePoint now) {
  Duration maxAge = gcMaxAge(options, usage);
  std::vector<std::string> out;
  for (const auto& s : sandboxes) {
    if (!s.live && now - s.finishedAt >= maxAge) out.push_back(s.path);
  }
  return out;
}

namespace {

// The sub-directories of `dir` (not following symlinks), by name; none when it cannot be read.
std::vector<std::string> subdirectories(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code typeError;
    if (it->is_directory(typeError) && !it->is_symlink(typeError)) out.push_back(it->path().filename().string());
  }
  return out;
}

TimePoint mtimeOf(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return TimePoint();  // unknown age: old enough to go
  return TimePoint(std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec));
}

}  // namespace

SandboxScan scanSandboxes(const std::string& sandboxesDir) {
  SandboxScan out;
  std::vector<std::string> emptyFrameworks;
  for (const auto& framework : subdirectories(sandboxesDir)) {
    std::string frameworkDir = sandboxesDir + "/" + framework;
    auto tasks = subdirectories(frameworkDir);
    if (tasks.empty()) emptyFrameworks.push_back(frameworkDir);
    for (const auto& task : tasks) {
      std::string taskDir = frameworkDir + "/" + task;
      auto runs = subdirectories(taskDir);
      if (runs.empty()) out.emptyDirs.push_back(taskDir);
      for (const auto& run : runs) {
        std::string path = taskDir + "/" + run;
        out.sandboxes.push_back({path, mtimeOf(path), false});
      }
    }
  }
  out.emptyDirs.insert(out.emptyDirs.end(), emptyFrameworks.begin(), emptyFrameworks.end());
  return out;
}

Result<double> diskUsage(const std::string& path) {
  struct statvfs fs {};
  if (::statvfs(path.c_str(), &fs) != 0) {
    return Error(ErrorCode::kIo, "cannot read the disk usage of '" + path + "': " + std::strerror(errno));
  }
  if (fs.f_blocks == 0) return 0.0;  // a pseudo file system: nothing to free
  return static_cast<double>(fs.f_blocks - fs.f_bfree) / static_cast<double>(fs.f_blocks);
}

Result<void> removeSandbox(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot remove the sandbox '" + path + "': " + ec.message());
  return success();
}

bool removeIfEmpty(const std::string& dir) { return ::rmdir(dir.c_str()) == 0; }

}  // namespace dcos::kernel
