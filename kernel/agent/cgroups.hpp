#pragma once
// Per-task cgroups (issue 4, "Isolation"): cpu shares (and optionally a CFS quota) and a memory
// limit for each container, OOM detection when it ends, usage for /monitor/statistics.
// Works with cgroup v2 (a cgroup2 mount at /sys/fs/cgroup offering cpu and memory) or else the
// cgroup v1 cpu, cpuacct and memory hierarchies; containers live in `<root>/dcos/<container id>`.
// Thread-safe: the launcher calls it from its pool and waiter threads, the agent from the loop.

#include "common/json.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace dcos::kernel {

struct CgroupLimits {
  double cpus = 0;       // 0: no cpu limit (default shares)
  uint64_t memBytes = 0;  // 0: no memory limit
};

class Cgroups {
 public:
  // Probes by creating and removing a test cgroup under `dcos`. nullptr (with `why`) when
  // neither version is usable. `enableCfs` adds a hard CFS quota of `cpus` cores per task.
  static std::shared_ptr<Cgroups> detect(bool enableCfs, std::string* why);

  int version() const { return v2_ ? 2 : 1; }
  bool cfs() const { return cfs_; }
  // "cgroups/cpu", "cgroups/mem".
  std::vector<std::string> isolators() const { return {"cgroups/cpu", "cgroups/mem"}; }

  // Creates the container's cgroups and applies the limits (memory at least 32 MB, as in Mesos).
  // Returns the `cgroup.procs` files the child must write "0" to before exec.
  Result<std::vector<std::string>> create(const std::string& id, CgroupLimits limits);
  // When the memory controller killed a process of the container: "Memory limit exceeded: ...".
  std::optional<std::string> memoryLimitation(const std::string& id) const;
  // Kills whatever is left in the container's cgroups and removes them. Blocks (briefly).
  void destroy(const std::string& id);
  // Mesos ResourceStatistics of a container (null when unknown).
  Json statistics(const std::string& id) const;
  // The ids of the containers with a cgroup under `dcos` in any hierarchy, sorted: also those of
  // another agent on this host or left behind by a killed one (detect()'s probes are not listed).
  std::vector<std::string> containers() const;
  // The container's directory in the memory controller (for tests and logs).
  std::string memoryDir(const std::string& id) const;

 private:
  Cgroups(bool v2, bool cfs, std::vector<std::string> roots) : v2_(v2), cfs_(cfs), roots_(std::move(roots)) {}
  std::string dir(const std::string& root, const std::string& id) const { return root + "/dcos/" + id; }
  std::string cpuRoot() const { return roots_[0]; }
  std::string cpuacctRoot() const { return v2_ ? roots_[0] : roots_[1]; }
  std::string memoryRoot() const { return v2_ ? roots_[0] : roots_[2]; }
  std::vector<std::string> distinctRoots() const;

  bool v2_, cfs_;
  std::vector<std::string> roots_;  // v2: {root}; v1: {cpu, cpuacct, memory}
  mutable std::mutex mu_;
  std::map<std::string, CgroupLimits> limits_;
};

}  // namespace dcos::kernel
