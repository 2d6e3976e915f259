#pragma once
// The agent's files under its work_dir: the agent id it was given by the master, and the task
// sandboxes (<work_dir>/sandboxes/<framework_id>/<task_id>/<run>).

#include "common/result.hpp"

#include <string>

namespace dcos::kernel {

// The id in <workDir>/agent_id: an empty string when the agent has never registered; kIo when
// the file exists but cannot be read or holds no usable id.
Result<std::string> readAgentId(const std::string& workDir);

// Stores the id durably: written to a temporary file, fsync'd, renamed over agent_id, and the
// directory fsync'd, so a crash leaves either the old or the new id, never a torn one.
Result<void> writeAgentId(const std::string& workDir, const std::string& id);

// Same durability for any small file.
Result<void> writeFileAtomically(const std::string& path, const std::string& content);

// An id (task, framework) as one safe path component: letters, digits, '.', '_' and '-' stay,
// every other byte becomes %XX (so distinct ids stay distinct), "." and ".." are escaped, and
// the result is cut to 200 bytes.
std::string pathComponent(const std::string& id);

std::string sandboxPath(const std::string& workDir, const std::string& frameworkId, const std::string& taskId,
                        const std::string& runId);

// A sandbox's `stdout` (truncated) and `stderr` (appended to: the fetcher's log comes first),
// opened for a started process to inherit; closed when this goes.
struct SandboxOutput {
  int out = -1, err = -1;
  SandboxOutput() = default;
  SandboxOutput(SandboxOutput&& o) noexcept : out(o.out), err(o.err) { o.out = o.err = -1; }
  SandboxOutput& operator=(SandboxOutput&&) = delete;
  ~SandboxOutput();
};
Result<SandboxOutput> openSandboxOutput(const std::string& sandbox);

// A random 16-byte id: as RFC 4122 text ("9f1c...-...") and as the raw bytes.
std::string newRunId();
std::string randomBytes(size_t n);
// Standard base64 with padding, as protobuf's JSON mapping writes `bytes` fields.
std::string base64Encode(const std::string& bytes);

}  // namespace dcos::kernel
