#include "kernel/agent/cgroups.hpp"

#include <signal.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace dcos::kernel {
namespace {

namespace fs = std::filesystem;
constexpr long kCgroup2Magic = 0x63677270;
constexpr uint64_t kCfsPeriodUs = 100000;
constexpr uint64_t kMinMemoryBytes = 32ull << 20;  // as Mesos: less cannot even exec a shell

bool readFile(const std::string& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

Result<void> writeFile(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  if (out) out << value;
  if (out) out.flush();
  if (!out) return Error(ErrorCode::kIo, "cannot write '" + value + "' to " + path + ": " + std::strerror(errno));
  return success();
}

// The value of `key` in a "key value" per line file (memory.stat, cpu.stat, memory.events, ...).
std::optional<uint64_t> keyed(const std::string& path, const std::string& key) {
  std::string text;
  if (!readFile(path, text)) return std::nullopt;
  std::istringstream in(text);
  std::string k;
  uint64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::optional<uint64_t> number(const std::string& path) {
  std::string text;
  if (!readFile(path, text)) return std::nullopt;
  try {
    return std::stoull(text);
  } catch (...) {
    return std::nullopt;
  }
}

bool isCgroup2(const std::string& path) {
  struct statfs s {};
  return ::statfs(path.c_str(), &s) == 0 && static_cast<long>(s.f_type) == kCgroup2Magic;
}

std::string probeName() {
  static std::atomic<int> counter{0};
  return "probe-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

}  // namespace

std::vector<std::string> Cgroups::distinctRoots() const {
  std::vector<std::string> out;
  for (const auto& r : roots_) {
    std::error_code ec;
    auto canonical = fs::canonical(r, ec).string();
    if (ec) canonical = r;
    if (std::find(out.begin(), out.end(), canonical) == out.end()) out.push_back(canonical);
  }
  return out;
}

std::shared_ptr<Cgroups> Cgroups::detect(bool enableCfs, std::string* why) {
  std::string reasons;
  auto tryOne = [&](std::shared_ptr<Cgroups> c) -> std::shared_ptr<Cgroups> {
    std::string probe = probeName();
    auto made = c->create(probe, {0.5, 64ull << 20});
    c->destroy(probe);
    if (made) return c;
    reasons += (reasons.empty() ? "" : "; ") + std::string(c->v2_ ? "v2: " : "v1: ") + made.error().message;
    return nullptr;
  };
  const std::string base = "/sys/fs/cgroup";
  std::string controllers;
  if (isCgroup2(base) && readFile(base + "/cgroup.controllers", controllers)) {
    std::istringstream in(controllers);
    std::string c;
    bool cpu = false, mem = false;
    while (in >> c) {
      cpu |= c == "cpu";
      mem |= c == "memory";
    }
    if (cpu && mem) {
      (void)writeFile(base + "/cgroup.subtree_control", "+cpu +memory");  // may already be on
      std::error_code ec;
      fs::create_directories(base + "/dcos", ec);
      (void)writeFile(base + "/dcos/cgroup.subtree_control", "+cpu +memory");
      if (auto c = tryOne(std::shared_ptr<Cgroups>(new Cgroups(true, enableCfs, {base})))) return c;
    } else {
      reasons = "v2: " + base + "/cgroup.controllers lacks cpu or memory";
    }
  }
  std::vector<std::string> v1 = {base + "/cpu", base + "/cpuacct", base + "/memory"};
  bool present = std::all_of(v1.begin(), v1.end(), [](const std::string& p) { return fs::exists(p + "/tasks"); });
  if (present) {
    if (auto c = tryOne(std::shared_ptr<Cgroups>(new Cgroups(false, enableCfs, v1)))) return c;
  } else {
    reasons += (reasons.empty() ? "" : "; ") + std::string("v1: no cpu, cpuacct and memory hierarchies under ") + base;
  }
  if (why) *why = reasons;
  return nullptr;
}

Result<std::vector<std::string>> Cgroups::create(const std::string& id, CgroupLimits limits) {
  if (limits.memBytes > 0) limits.memBytes = std::max(limits.memBytes, kMinMemoryBytes);
  std::vector<std::string> procs;
  for (const auto& root : distinctRoots()) {
    std::error_code ec;
    fs::create_directories(dir(root, id), ec);
    if (ec) return Error(ErrorCode::kIo, "cannot create cgroup " + dir(root, id) + ": " + ec.message());
    procs.push_back(dir(root, id) + "/cgroup.procs");
  }
  std::string cpu = dir(cpuRoot(), id), mem = dir(memoryRoot(), id);
  Result<void> r = success();
  auto set = [&](const std::string& path, const std::string& value) {
    if (r) r = writeFile(path, value);
  };
  if (limits.cpus > 0) {
    if (v2_) {
      set(cpu + "/cpu.weight", std::to_string(std::clamp<long>(std::lround(limits.cpus * 100), 1, 10000)));
      if (cfs_) set(cpu + "/cpu.max", std::to_string(std::llround(limits.cpus * kCfsPeriodUs)) + " " + std::to_string(kCfsPeriodUs));
    } else {
      set(cpu + "/cpu.shares", std::to_string(std::max<long>(2, std::lround(limits.cpus * 1024))));
      if (cfs_) {
        set(cpu + "/cpu.cfs_period_us", std::to_string(kCfsPeriodUs));
        set(cpu + "/cpu.cfs_quota_us", std::to_string(std::max<long long>(1000, std::llround(limits.cpus * kCfsPeriodUs))));
      }
    }
  }
  if (limits.memBytes > 0) {
    if (v2_) {
      set(mem + "/memory.max", std::to_string(limits.memBytes));
      if (fs::exists(mem + "/memory.swap.max")) set(mem + "/memory.swap.max", "0");
    } else {
      set(mem + "/memory.limit_in_bytes", std::to_string(limits.memBytes));
      // With swap the task would page out instead of hitting its limit.
      if (fs::exists(mem + "/memory.memsw.limit_in_bytes")) set(mem + "/memory.memsw.limit_in_bytes", std::to_string(limits.memBytes));
    }
  }
  if (!r) {
    destroy(id);
    return r.error();
  }
  std::lock_guard lock(mu_);
  limits_[id] = limits;
  return procs;
}

std::optional<std::string> Cgroups::memoryLimitation(const std::string& id) const {
  std::string mem = dir(memoryRoot(), id);
  auto kills = v2_ ? keyed(mem + "/memory.events", "oom_kill") : keyed(mem + "/memory.oom_control", "oom_kill");
  if (!kills || *kills == 0) return std::nullopt;
  CgroupLimits limits;
  {
    std::lock_guard lock(mu_);
    if (auto it = limits_.find(id); it != limits_.end()) limits = it->second;
  }
  auto peak = number(mem + (v2_ ? "/memory.peak" : "/memory.max_usage_in_bytes"));
  std::string msg = "Memory limit exceeded: Requested: " + std::to_string(limits.memBytes >> 20) + "MB";
  if (peak) msg += " Maximum Used: " + std::to_string(*peak >> 20) + "MB";
  return msg;
}

void Cgroups::destroy(const std::string& id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (const auto& root : distinctRoots()) {
    std::string d = dir(root, id);
    if (!fs::exists(d)) continue;
    while (::rmdir(d.c_str()) != 0 && errno == EBUSY && std::chrono::steady_clock::now() < deadline) {
      std::string pids;
      readFile(d + "/cgroup.procs", pids);
      std::istringstream in(pids);
      for (pid_t pid; in >> pid;) ::kill(pid, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  std::lock_guard lock(mu_);
  limits_.erase(id);
}

Json Cgroups::statistics(const std::string& id) const {
  CgroupLimits limits;
  {
    std::lock_guard lock(mu_);
    auto it = limits_.find(id);
    if (it == limits_.end()) return Json();
    limits = it->second;
  }
  Json s = Json::object();
  std::string cpu = dir(cpuacctRoot(), id), mem = dir(memoryRoot(), id);
  if (v2_) {
    if (auto u = keyed(cpu + "/cpu.stat", "user_usec")) s["cpus_user_time_secs"] = static_cast<double>(*u) / 1e6;
    if (auto u = keyed(cpu + "/cpu.stat", "system_usec")) s["cpus_system_time_secs"] = static_cast<double>(*u) / 1e6;
    if (auto v = keyed(mem + "/memory.stat", "anon")) s["mem_rss_bytes"] = *v;
    if (auto v = number(mem + "/memory.current")) s["mem_total_bytes"] = *v;
  } else {
    double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
    if (auto u = keyed(cpu + "/cpuacct.stat", "user")) s["cpus_user_time_secs"] = static_cast<double>(*u) / hz;
    if (auto u = keyed(cpu + "/cpuacct.stat", "system")) s["cpus_system_time_secs"] = static_cast<double>(*u) / hz;
    auto rss = keyed(mem + "/memory.stat", "total_rss");
    if (!rss) rss = keyed(mem + "/memory.stat", "rss");
    if (rss) s["mem_rss_bytes"] = *rss;
    if (auto v = number(mem + "/memory.usage_in_bytes")) s["mem_total_bytes"] = *v;
  }
  if (limits.cpus > 0) s["cpus_limit"] = limits.cpus;
  if (limits.memBytes > 0) s["mem_limit_bytes"] = limits.memBytes;
  s["timestamp"] = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return s;
}

std::vector<std::string> Cgroups::containers() const {
  std::vector<std::string> ids;
  for (const auto& root : distinctRoots()) {
    std::error_code ec;
    for (fs::directory_iterator it(root + "/dcos", ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (it->is_directory(ec) && name.rfind("probe-", 0) != 0) ids.push_back(name);
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::string Cgroups::memoryDir(const std::string& id) const { return dir(memoryRoot(), id); }

}  // namespace dcos::kernel
