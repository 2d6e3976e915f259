// Garbage collection of finished sandboxes: every diskWatchInterval, the blocking pool lists the
// sandboxes on disk and the disk usage, the loop decides with what it knows of the tasks
// (gc.hpp: live ones are never removed), and the blocking pool deletes what was chosen.
#include "kernel/agent/agent.hpp"

#include "common/log.hpp"
#include "kernel/agent/gc.hpp"

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("agent"); }

std::string parentOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

}  // namespace

void Agent::scheduleGc(Duration delay) {
  if (stopped_) return;
  if (gcTimer_) loop_.cancel(*gcTimer_);
  gcTimer_ = loop_.schedule(delay, [this] {
    gcTimer_.reset();
    collectGarbage();
  });
}

void Agent::collectGarbage() {
  struct Found {
    SandboxScan scan;
    Result<double> usage = 0.0;
  };
  auto found = std::make_shared<Found>();
  TimePoint scannedAt = clock_.now();
  loop_.runBlocking(
      [found, workDir = options_.workDir] {
        found->scan = scanSandboxes(workDir + "/sandboxes");
        found->usage = diskUsage(workDir);
      },
      [this, alive = std::weak_ptr<bool>(alive_), found, scannedAt] {
        if (alive.expired() || stopped_) return;
        double usage = 0.0;
        if (found->usage) {
          usage = *found->usage;
        } else {
          logger().warn("{}; collecting sandboxes by age alone", found->usage.error().message);
        }
        removeOldSandboxes(std::move(found->scan), usage, scannedAt);
      });
}

// On the loop: every task whose sandbox may exist is in tasks_ (its entry comes before the
// directory), so a sandbox found on disk is live exactly when a non-terminal task owns it.
void Agent::removeOldSandboxes(SandboxScan scan, double usage, TimePoint scannedAt) {
  std::set<std::string> live;
  for (const auto& [key, t] : tasks_) {
    if (!t.terminal) live.insert(t.sandbox);
  }
  std::set<std::string> onDisk;
  for (auto& entry : scan.sandboxes) {
    onDisk.insert(entry.path);
    entry.live = live.count(entry.path) > 0;
    if (auto it = finishedSandboxes_.find(entry.path); it != finishedSandboxes_.end()) entry.finishedAt = it->second;
  }
  // A task that ended before the scan and whose sandbox was not found never had one (it was
  // invalid, or its launch failed): nothing would remove its entry otherwise.
  std::erase_if(finishedSandboxes_,
                [&](const auto& item) { return item.second < scannedAt && !onDisk.count(item.first); });

  GcOptions gc{options_.gcDelay, options_.gcDiskHeadroom};
  auto doomed = sandboxesToRemove(scan.sandboxes, usage, gc, clock_.now());
  if (doomed.empty()) {
    sandboxesRemoved({}, scan.emptyDirs);
    return;
  }
  logger().info("removing {} finished sandbox(es) older than {} ms (disk {:.0f}% used)", doomed.size(),
                std::chrono::duration_cast<std::chrono::milliseconds>(gcMaxAge(gc, usage)).count(), usage * 100);
  auto removed = std::make_shared<std::vector<std::string>>();
  loop_.runBlocking(
      [doomed = std::move(doomed), removed] {
        for (const auto& path : doomed) {
          if (auto r = removeSandbox(path); !r) {
            logger().warn("{}", r.error().message);
            continue;
          }
          removed->push_back(path);
        }
      },
      [this, alive = std::weak_ptr<bool>(alive_), removed, emptyDirs = std::move(scan.emptyDirs)] {
        if (alive.expired()) return;
        sandboxesRemoved(*removed, emptyDirs);
      });
}

// Empty task and framework directories go too, on the loop: a task being launched is in tasks_
// before its launcher creates the directories, so checking tasks_ here cannot race with it.
void Agent::sandboxesRemoved(const std::vector<std::string>& removed, const std::vector<std::string>& emptyDirs) {
  std::set<std::string> inUse;
  for (const auto& [key, t] : tasks_) {
    inUse.insert(parentOf(t.sandbox));
    inUse.insert(parentOf(parentOf(t.sandbox)));
  }
  std::string root = options_.workDir + "/sandboxes";
  // Removes `dir` when empty and unused, then its parent the same way, up to the root.
  auto prune = [&](std::string dir) {
    while (dir.size() > root.size() && !inUse.count(dir) && removeIfEmpty(dir)) dir = parentOf(dir);
  };
  for (const auto& path : removed) {
    logger().debug("removed the sandbox '{}'", path);
    finishedSandboxes_.erase(path);
    prune(parentOf(path));
  }
  for (const auto& dir : emptyDirs) prune(dir);
  if (!stopped_) scheduleGc(options_.diskWatchInterval);
}

}  // namespace dcos::kernel
