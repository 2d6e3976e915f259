#pragma once
// The agent's files API over its task sandboxes, in Apache Mesos' shapes: GET /files/browse,
// GET /files/read and GET /files/download, each taking `path=` (an absolute path as /state shows
// it in tasks[].sandbox or executors[].directory).
//
// Only paths that resolve — after realpath, symlinks included — strictly below the sandboxes
// root are served (the root itself would list every framework's tasks). Anything else is 403 when it lies (or would lie) outside the root and 404 when
// it does not exist inside it; a file is re-checked after it is opened, so a symlink swapped in
// between the check and the open is refused too. Errors are the usual JSON error body.

#include "common/event_loop.hpp"
#include "common/http/router.hpp"
#include "common/json.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace dcos::kernel {

// Largest `length` a read returns, whatever was asked.
inline constexpr int64_t kMaxFileReadBytes = 1 << 20;

// The real path of `requested` if it lies strictly below `root` (which need not exist yet).
// kInvalidArgument for an empty or relative path, kForbidden outside the root, kNotFound for
// a path inside it that does not exist.
Result<std::string> resolveSandboxPath(const std::string& root, const std::string& requested);

// /files/browse: an array of {path, nlink, size, mtime, mode, uid, gid}; the entries of a
// directory (sorted by name, symlinks described, not followed), or the one entry of a file.
// Paths are `requested` joined with the entry's name.
Result<Json> browseSandbox(const std::string& root, const std::string& requested);

// /files/read: {"data", "offset"}. No offset (or -1) answers the file's size with empty data,
// so a tail -f client can find the end; otherwise up to min(length, kMaxFileReadBytes) bytes
// from `offset` (an offset past the end answers the size). kInvalidArgument for a directory
// or a negative offset/length other than offset -1.
Result<Json> readSandboxFile(const std::string& root, const std::string& requested, std::optional<int64_t> offset,
                             std::optional<int64_t> length);

// Registers the three routes, serving files under `root`. Handlers run on `loop`'s thread:
// browse and read are bounded (one directory, at most kMaxFileReadBytes) and must not wait for
// the blocking pool, which in `dcos dev` may be busy with the master proxying to this very
// router; downloads are streamed a piece per loop turn.
void registerSandboxFileRoutes(http::Router& router, EventLoop& loop, std::string root);

}  // namespace dcos::kernel
