#pragma once
// What an agent offers and how it describes itself: the machine's resources (detected, then
// overridden by --resources), its attributes (--attributes) and its host name. Detection reads
// /proc and the file system; the parsing and override rules are pure functions.

#include "common/json.hpp"
#include "common/result.hpp"
#include "kernel/resources/resources.hpp"

#include <cstdint>
#include <string>

namespace dcos::kernel {

// Raw machine facts, in bytes and CPUs, before any reserve is taken off.
struct MachineFacts {
  double cpus = 0;
  uint64_t memTotalBytes = 0;
  uint64_t diskTotalBytes = 0;
};

// Reads the facts: CPUs this process may run on (sched_getaffinity, else online CPUs),
// MemTotal from /proc/meminfo, free space of the file system holding `workDir` (statvfs).
// Fails with kIo when /proc/meminfo or statvfs cannot be read.
Result<MachineFacts> readMachineFacts(const std::string& workDir);

// Mesos' default agent resources from the facts: cpus as is; mem in MB minus min(1 GB, half);
// disk in MB minus min(5 GB, half); ports [31000-32000]. All unreserved.
Resources defaultResources(const MachineFacts& facts);

// Applies the --resources flag: Mesos text syntax ("cpus:4;mem:2048;cpus(ads):2") or a JSON
// array of v1 Resource objects. Every resource name that appears in `flag` replaces all of the
// detected entries with that name (with their roles); names not mentioned keep the detected
// value. An empty flag returns `detected` unchanged. Errors are kInvalidArgument naming --resources.
Result<Resources> applyResourcesFlag(const Resources& detected, const std::string& flag);

// Parses --attributes ("rack:r1;zone:a;level:3;ports:[1-5]") into a JSON array of Mesos v1
// Attribute objects: numbers become SCALAR, "[a-b,c-d]" RANGES, anything else TEXT. Sets
// ("{a,b}"), empty names or values and repeated names are kInvalidArgument errors.
Result<Json> parseAttributes(const std::string& flag);

// --hostname when given, else gethostname().
std::string agentHostname(const std::string& flag);

}  // namespace dcos::kernel
