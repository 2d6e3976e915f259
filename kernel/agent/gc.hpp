#pragma once
// Garbage collection of task sandboxes (<work_dir>/sandboxes/<framework>/<task>/<run>), as
// Mesos' agent does it: a finished sandbox goes once it is older than --gc_delay, sooner as the
// disk holding the work_dir fills up. The decision is a pure function over plain data; the
// scan and the deletion are the agent's edges (kernel/agent/agent_gc.cpp).

#include "common/clock.hpp"
#include "common/result.hpp"

#include <string>
#include <vector>

namespace dcos::kernel {

struct GcOptions {
  Duration delay = std::chrono::hours(24 * 7);  // --gc_delay: the longest a finished sandbox stays
  double diskHeadroom = 0.1;                    // --gc_disk_headroom, in [0, 1]
};

struct SandboxEntry {
  std::string path;     // the run directory
  TimePoint finishedAt;  // when its task ended; for sandboxes found on disk, the directory's mtime
  bool live = false;     // its task has not ended: never removed
};

// Mesos' rule: a finished sandbox may be `delay * max(0, 1 - headroom - usage)` old, so the
// allowed age shrinks as the disk fills and is zero once usage reaches 1 - headroom.
// `diskUsage` is the used fraction of the file system, clamped to [0, 1].
Duration gcMaxAge(const GcOptions& options, double diskUsage);

// The paths of the entries to remove now: not live, and finished at least gcMaxAge ago.
// Returned in the order of `sandboxes`.
std::vector<std::string> sandboxesToRemove(const std::vector<SandboxEntry>& sandboxes, double diskUsage,
                                           const GcOptions& options, TimePoint now);

// Edges, for the blocking pool.

struct SandboxScan {
  // Every run directory <sandboxesDir>/<framework>/<task>/<run>, with its mtime as finishedAt
  // and live = false.
  std::vector<SandboxEntry> sandboxes;
  // Task directories without runs, then framework directories without tasks.
  std::vector<std::string> emptyDirs;
};

// Lists <sandboxesDir>; a missing one holds no sandboxes, unreadable entries are skipped.
SandboxScan scanSandboxes(const std::string& sandboxesDir);

// The used fraction of the file system holding `path` (statvfs); kIo when it cannot be read.
Result<double> diskUsage(const std::string& path);

// Removes a sandbox and everything in it; kIo naming the path when that fails.
Result<void> removeSandbox(const std::string& path);

// Removes `dir` when it is empty (rmdir); false when it is not, or cannot be removed.
bool removeIfEmpty(const std::string& dir);

}  // namespace dcos::kernel
