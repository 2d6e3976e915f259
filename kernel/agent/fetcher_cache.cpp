#include "kernel/agent/fetcher_cache.hpp"

#include "kernel/agent/paths.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

namespace dcos::kernel {
namespace fs = std::filesystem;
namespace {

using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

std::string hex(const unsigned char* bytes, unsigned n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

std::string finish(EVP_MD_CTX* ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx, md, &n);
  return hex(md, n);
}

}  // namespace

std::string sha256Hex(const std::string& data) {
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx.get(), data.data(), data.size());
  return finish(ctx.get());
}

Result<std::string> sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kIo, "cannot read '" + path + "'");
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(64 * 1024);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return Error(ErrorCode::kIo, "cannot read '" + path + "'");
  return finish(ctx.get());
}

std::string FetcherCache::key(const std::string& uri, const std::string& checksum) {
  return sha256Hex(uri + "\n" + checksum);
}

Result<bool> FetcherCache::copyOut(const std::string& key, const std::string& dest) {
  std::lock_guard lock(mu_);
  fs::path file = fs::path(dir_) / key;
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return false;
  fs::copy_file(file, dest, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(dest, ignored);
    return Error(ErrorCode::kIo, "copying from the fetcher cache: " + ec.message());
  }
  fs::last_write_time(file, fs::file_time_type::clock::now(), ec);  // marks it recently used
  return true;
}

Result<void> FetcherCache::add(const std::string& key, const std::string& file) {
  std::lock_guard lock(mu_);
  std::error_code ec;
  uintmax_t size = fs::file_size(file, ec);
  if (ec) return Error(ErrorCode::kIo, "adding to the fetcher cache: " + ec.message());
  if (size > maxBytes_) return {};
  fs::create_directories(dir_, ec);
  fs::path tmp = fs::path(dir_) / (".tmp-" + newRunId());
  fs::copy_file(file, tmp, ec);
  if (!ec) fs::rename(tmp, fs::path(dir_) / key, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return Error(ErrorCode::kIo, "adding to the fetcher cache: " + ec.message());
  }
  evictLocked(key);
  return {};
}

uint64_t FetcherCache::sizeBytes() const {
  std::lock_guard lock(mu_);
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

void FetcherCache::evictLocked(const std::string& keep) {
  struct Entry {
    fs::path path;
    fs::file_time_type used;
    uintmax_t size;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (!e.is_regular_file(ec) || e.path().filename().string().rfind(".tmp-", 0) == 0) continue;
    Entry entry{e.path(), e.last_write_time(ec), e.file_size(ec)};
    total += entry.size;
    if (e.path().filename() != keep) entries.push_back(entry);
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  for (const auto& e : entries) {
    if (total <= maxBytes_) break;
    if (fs::remove(e.path, ec)) total -= e.size;
  }
}

}  // namespace dcos::kernel
