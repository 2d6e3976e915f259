#include "kernel/agent/detect.hpp"

#include <sched.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace dcos::kernel {
namespace {

constexpr uint64_t kMB = 1024 * 1024;
constexpr uint64_t kGB = 1024 * kMB;

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

Error badAttributes(const std::string& message) {
  return Error(ErrorCode::kInvalidArgument, "invalid --attributes: " + message, {{"/attributes", {message}}});
}

double countCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<double>(online) : 1.0;
}

Result<uint64_t> readMemTotal() {
  std::ifstream in("/proc/meminfo");
  if (!in) return Error(ErrorCode::kIo, "cannot read /proc/meminfo: " + std::string(std::strerror(errno)));
  std::string line;
  while (std::getline(in, line)) {
    // "MemTotal:       16318480 kB"
    if (line.rfind("MemTotal:", 0) != 0) continue;
    std::istringstream fields(line.substr(9));
    uint64_t kb = 0;
    if (fields >> kb) return kb * 1024;
  }
  return Error(ErrorCode::kIo, "no MemTotal line in /proc/meminfo");
}

// "3", "-2", "0.5": what Mesos reads as a SCALAR attribute (text such as "12.04lts" stays TEXT).
bool isNumber(const std::string& text) {
  size_t i = text.size() > 1 && text[0] == '-' ? 1 : 0;
  size_t digits = 0, dots = 0;
  for (; i < text.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++digits;
    } else if (text[i] == '.' && digits > 0 && dots == 0 && i + 1 < text.size()) {
      ++dots;
    } else {
      return false;
    }
  }
  return digits > 0;
}

Json scalarAttribute(const std::string& name, double value) {
  return {{"name", name}, {"type", "SCALAR"}, {"scalar", {{"value", value}}}};
}

Result<Json> rangesAttribute(const std::string& name, const std::string& value) {
  auto parsed = Resources::parse(name + ":" + value);
  if (!parsed || parsed->items().size() != 1 || parsed->items()[0].type != ValueType::kRanges) {
    return badAttributes("'" + value + "' for " + name + " is not a list of ranges like [1-5,8-9]");
  }
  Json ranges = Json::array();
  for (const auto& r : parsed->items()[0].ranges.ranges()) ranges.push_back({{"begin", r.begin}, {"end", r.end}});
  return Json{{"name", name}, {"type", "RANGES"}, {"ranges", {{"range", ranges}}}};
}

}  // namespace

Result<MachineFacts> readMachineFacts(const std::string& workDir) {
  MachineFacts facts;
  facts.cpus = countCpus();
  auto mem = readMemTotal();
  if (!mem) return mem.error();
  facts.memTotalBytes = *mem;
  struct statvfs fs {};
  if (statvfs(workDir.c_str(), &fs) != 0) {
    return Error(ErrorCode::kIo, "cannot stat the file system of '" + workDir + "': " + std::strerror(errno));
  }
  facts.diskTotalBytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;  // the size, as Mesos: free space changes between runs
  return facts;
}

Resources defaultResources(const MachineFacts& facts) {
  // Mesos leaves room for the agent and the OS: 1 GB of memory and 5 GB of disk, or half of
  // each on small machines.
  uint64_t mem = facts.memTotalBytes - std::min(kGB, facts.memTotalBytes / 2);
  uint64_t disk = facts.diskTotalBytes - std::min(5 * kGB, facts.diskTotalBytes / 2);
  Resources out;
  auto scalar = [&](const char* name, double value) {
    Resource r;
    r.name = name;
    r.scalar = Scalar::fromDouble(value);
    out.add(r);
  };
  scalar("cpus", facts.cpus);
  scalar("mem", static_cast<double>(mem / kMB));
  scalar("disk", static_cast<double>(disk / kMB));
  Resource ports;
  ports.name = "ports";
  ports.type = ValueType::kRanges;
  ports.ranges = Ranges({{31000, 32000}});
  out.add(ports);
  return out;
}

Result<Resources> applyResourcesFlag(const Resources& detected, const std::string& flag) {
  std::string text = trim(flag);
  if (text.empty()) return detected;
  Result<Resources> given = Error();
  if (text.front() == '[') {
    auto json = parseJson(text);
    if (!json) return Error(ErrorCode::kInvalidArgument, "invalid --resources: " + json.error().message);
    given = Resources::fromJson(*json);
  } else {
    given = Resources::parse(text);
  }
  if (!given) return Error(ErrorCode::kInvalidArgument, "invalid --resources '" + text + "': " + given.error().message);
  std::set<std::string> names;
  for (const auto& r : given->items()) names.insert(r.name);
  Resources out;
  for (const auto& r : detected.items()) {
    if (!names.count(r.name)) out.add(r);
  }
  return out + *given;
}

Result<Json> parseAttributes(const std::string& flag) {
  Json out = Json::array();
  std::set<std::string> seen;
  std::stringstream ss(flag);
  std::string token;
  while (std::getline(ss, token, ';')) {
    token = trim(token);
    if (token.empty()) continue;
    auto colon = token.find(':');
    if (colon == std::string::npos) return badAttributes("'" + token + "' is not name:value");
    std::string name = trim(token.substr(0, colon));
    std::string value = trim(token.substr(colon + 1));
    if (name.empty()) return badAttributes("'" + token + "' has no name");
    if (value.empty()) return badAttributes("'" + name + "' has no value");
    if (!seen.insert(name).second) return badAttributes("'" + name + "' is given twice");
    if (value.front() == '{') return badAttributes("'" + name + "': set values are not supported for attributes");
    if (value.front() == '[') {
      auto ranges = rangesAttribute(name, value);
      if (!ranges) return ranges.error();
      out.push_back(std::move(*ranges));
    } else if (isNumber(value)) {
      out.push_back(scalarAttribute(name, std::stod(value)));
    } else {
      out.push_back({{"name", name}, {"type", "TEXT"}, {"text", {{"value", value}}}});
    }
  }
  return out;
}

std::string agentHostname(const std::string& flag) {
  if (!trim(flag).empty()) return trim(flag);
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

}  // namespace dcos::kernel
