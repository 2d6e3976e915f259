#pragma once
// The fetcher: puts a task's `command.uris` into its sandbox before the task starts, as Mesos'
// fetcher does. Each URI (Mesos CommandInfo.URI: value, executable, extract (default true),
// cache, output_file, plus our `checksum` "sha256:<hex>") is downloaded over http(s), or copied
// from a file:// URL or an absolute path, into a temporary file that is verified and then
// renamed into place (or, for archives with `extract`, extracted into the sandbox and not kept),
// so a failure leaves no partial file behind.
// Progress and failures are appended to the sandbox's `stderr` file.

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/result.hpp"
#include "kernel/agent/fetcher_cache.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dcos::kernel {

struct FetchUri {
  std::string value;
  bool executable = false;
  bool extract = true;
  bool cache = false;
  std::string outputFile;
  std::string checksum;  // lower-case hex SHA-256 without the "sha256:" prefix; empty = none
};

// Parses `command.uris`. kInvalidArgument naming the entry: no value, a checksum that is not
// "sha256:<64 hex>", an output_file that is absolute or has ".." components.
Result<std::vector<FetchUri>> parseFetchUris(const Json& uris);

struct FetcherOptions {
  std::string cacheDir;                           // <work_dir>/fetcher-cache
  uint64_t cacheBytes = 2ull << 30;               // the cache's bound
  Duration timeout = std::chrono::seconds(60);    // connecting + response head; and each body gap
  uint64_t maxDownloadBytes = 8ull << 30;         // per URI
  std::string caFile;                             // see http::ClientRequest::caFile
};

// Contract: fetch() blocks (network and file I/O) and must run on a worker thread, never on the
// event loop; it may run for several tasks at once. It fails on the first URI that fails, with
// a message naming that URI and what went wrong:
//   kNotFound        a local file that does not exist
//   kUnavailable     the server answered with a status other than 200, or could not be reached
//   kTimeout         the server stalled
//   kPayloadTooLarge the download exceeds maxDownloadBytes
//   kUnprocessable   checksum mismatch, a corrupt archive, or an entry escaping the sandbox
//   kInvalidArgument an unsupported URI scheme
//   kIo              a file system failure
class Fetcher {
 public:
  virtual ~Fetcher() = default;
  virtual Result<void> fetch(const std::vector<FetchUri>& uris, const std::string& sandbox) = 0;
};

std::unique_ptr<Fetcher> makeFetcher(FetcherOptions options);

}  // namespace dcos::kernel
