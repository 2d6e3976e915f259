#pragma once
// The agent's shared download cache (<work_dir>/fetcher-cache): one file per URI + checksum,
// bounded in bytes, evicting the least recently used files first. Thread-safe: the fetcher uses
// it from the blocking pool. Access time is the file's mtime, set on every hit, so it works on
// file systems mounted noatime.

#include "common/result.hpp"

#include <cstdint>
#include <mutex>
#include <string>

namespace dcos::kernel {

class FetcherCache {
 public:
  FetcherCache(std::string dir, uint64_t maxBytes) : dir_(std::move(dir)), maxBytes_(maxBytes) {}

  // The file name for a URI and its optional checksum: the hex SHA-256 of both.
  static std::string key(const std::string& uri, const std::string& checksum);

  // Copies the cached file for `key` to `dest` and marks it used: true on a hit, false on a miss.
  // kIo when the copy failed (dest is then removed).
  Result<bool> copyOut(const std::string& key, const std::string& dest);

  // Adds a copy of `file` under `key` (atomically: temp file + rename), then evicts least recently
  // used entries until the cache fits its bound. A file larger than the bound is not cached.
  Result<void> add(const std::string& key, const std::string& file);

  uint64_t sizeBytes() const;
  const std::string& dir() const { return dir_; }

 private:
  void evictLocked(const std::string& keep);

  std::string dir_;
  uint64_t maxBytes_;
  mutable std::mutex mu_;
};

// The lower-case hex SHA-256 of a file's content (OpenSSL EVP); kIo when it cannot be read.
Result<std::string> sha256File(const std::string& path);
std::string sha256Hex(const std::string& data);

}  // namespace dcos::kernel
