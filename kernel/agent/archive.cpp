#include "kernel/agent/archive.hpp"

#include "kernel/agent/paths.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

namespace dcos::kernel {
namespace fs = std::filesystem;
namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Whether a relative path stays inside the tree it is relative to, with `depth` components of
// its own directory already below the root (for link targets, which resolve from their directory).
bool staysInside(const std::string& path, int depth) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "..") {
      if (--depth < 0) return false;
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    start = end + 1;
  }
  return true;
}

// The number of directories above an entry inside the tree ("a/b/c" → 2).
int parentDepth(const std::string& path) {
  int depth = -1;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (!part.empty() && part != ".") ++depth;
    start = end + 1;
  }
  return std::max(depth, 0);
}

Error unsafe(const std::string& entry, const std::string& why) {
  return Error(ErrorCode::kUnprocessable, "archive entry '" + entry + "' " + why);
}

// Checks one entry before it is written: its own path and, for links, where they point.
Result<void> checkEntry(archive_entry* entry) {
  const char* p = archive_entry_pathname(entry);
  std::string path = p ? p : "";
  if (path.empty()) return unsafe(path, "has no name");
  if (path.front() == '/') return unsafe(path, "has an absolute path");
  if (!staysInside(path, 0)) return unsafe(path, "escapes the sandbox");
  for (const char* target : {archive_entry_symlink(entry), archive_entry_hardlink(entry)}) {
    if (!target) continue;
    std::string t = target;
    if (t.front() == '/') return unsafe(path, "links to the absolute path '" + t + "'");
    // Hard link targets are archive paths (from the root); symlinks resolve from their directory.
    bool hard = target == archive_entry_hardlink(entry);
    if (!staysInside(t, hard ? 0 : parentDepth(path))) return unsafe(path, "links outside the sandbox to '" + t + "'");
  }
  return {};
}

using ReadPtr = std::unique_ptr<archive, decltype(&archive_read_free)>;
using WritePtr = std::unique_ptr<archive, decltype(&archive_write_free)>;

Result<void> copyData(archive* in, archive* out, const std::string& entry) {
  const void* buf;
  size_t size;
  la_int64_t offset;
  for (;;) {
    int r = archive_read_data_block(in, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) return {};
    if (r < ARCHIVE_WARN) return unsafe(entry, std::string("cannot be read: ") + archive_error_string(in));
    if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN) {
      return Error(ErrorCode::kIo, "writing '" + entry + "': " + archive_error_string(out));
    }
  }
}

// Opens a plain archive (tar, tar.gz/xz/bz2/zst, zip) for reading.
Result<ReadPtr> openPlain(const std::string& archivePath) {
  ReadPtr in(archive_read_new(), archive_read_free);
  // Only the formats the fetcher promises: format_all would pull in the xar reader, whose
  // libxml2 needs ICU in a static link.
  archive_read_support_format_tar(in.get());
  archive_read_support_format_gnutar(in.get());
  archive_read_support_format_zip(in.get());
  archive_read_support_filter_all(in.get());
  if (archive_read_open_filename(in.get(), archivePath.c_str(), 64 * 1024) != ARCHIVE_OK) {
    return Error(ErrorCode::kUnprocessable, std::string("not a readable archive: ") + archive_error_string(in.get()));
  }
  return in;
}

// Whether the file starts with the ar magic a Debian package has (the fetcher hands over a
// temporary file, so the name cannot tell).
bool isArFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char magic[8];
  bool ar = std::fread(magic, 1, sizeof magic, f) == sizeof magic && std::memcmp(magic, "!<arch>\n", 8) == 0;
  std::fclose(f);
  return ar;
}

// A Debian package: the ar archive and the data.tar.* member being streamed out of it. The
// inner tar reader pulls its bytes straight from the current ar entry, nothing is staged.
struct DebSource {
  ReadPtr outer{nullptr, archive_read_free};
  std::vector<char> buffer = std::vector<char>(64 * 1024);
  std::string member;
};

la_ssize_t readMember(archive* inner, void* client, const void** buf) {
  auto* src = static_cast<DebSource*>(client);
  la_ssize_t n = archive_read_data(src->outer.get(), src->buffer.data(), src->buffer.size());
  if (n < 0) {
    archive_set_error(inner, EIO, "reading '%s' from the package: %s", src->member.c_str(),
                      archive_error_string(src->outer.get()));
    return -1;
  }
  *buf = src->buffer.data();
  return n;
}

// Positions `src->outer` on the package's data.tar.* member and opens a tar reader on it with
// exactly the decompression its name announces.
Result<ReadPtr> openDeb(const std::string& archivePath, DebSource& src) {
  src.outer.reset(archive_read_new());
  archive_read_support_format_ar(src.outer.get());
  if (archive_read_open_filename(src.outer.get(), archivePath.c_str(), 64 * 1024) != ARCHIVE_OK) {
    return Error(ErrorCode::kUnprocessable,
                 std::string("not a readable Debian package: ") + archive_error_string(src.outer.get()));
  }
  archive_entry* entry;
  for (;;) {
    int r = archive_read_next_header(src.outer.get(), &entry);
    if (r == ARCHIVE_EOF) {
      return Error(ErrorCode::kUnprocessable, "Debian package has no data.tar member (data.tar, data.tar.gz, "
                                              "data.tar.xz, data.tar.bz2 or data.tar.zst)");
    }
    if (r < ARCHIVE_WARN) {
      return Error(ErrorCode::kUnprocessable,
                   std::string("corrupt Debian package: ") + archive_error_string(src.outer.get()));
    }
    const char* p = archive_entry_pathname(entry);
    std::string name = p ? p : "";
    if (name == "data.tar" || name.rfind("data.tar.", 0) == 0) {
      src.member = name;
      break;
    }
  }
  ReadPtr in(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(in.get());
  archive_read_support_format_gnutar(in.get());
  std::string compression = src.member.substr(std::string("data.tar").size());
  int supported = ARCHIVE_OK;
  if (compression == ".gz") supported = archive_read_support_filter_gzip(in.get());
  else if (compression == ".xz") supported = archive_read_support_filter_xz(in.get());
  else if (compression == ".bz2") supported = archive_read_support_filter_bzip2(in.get());
  // Linked against libzstd, so never the external-program fallback (which answers WARN).
  else if (compression == ".zst") supported = archive_read_support_filter_zstd(in.get());
  else if (!compression.empty()) supported = ARCHIVE_FATAL;
  if (supported != ARCHIVE_OK) {
    return Error(ErrorCode::kUnprocessable, "Debian package member '" + src.member + "' uses an unsupported compression");
  }
  if (archive_read_open(in.get(), &src, nullptr, readMember, nullptr) != ARCHIVE_OK) {
    return Error(ErrorCode::kUnprocessable, "Debian package member '" + src.member +
                                                "' is not a readable tar archive: " + archive_error_string(in.get()));
  }
  return in;
}

// Extracts every entry below `staging` (the process's working directory is never changed:
// entry paths are rewritten to absolute ones under staging after they were checked). A Debian
// package contributes its data.tar.* member, checked exactly like any other tarball.
Result<void> extractInto(const std::string& archivePath, const std::string& staging) {
  DebSource deb;
  auto opened = isArFile(archivePath) ? openDeb(archivePath, deb) : openPlain(archivePath);
  if (!opened) return opened.error();
  ReadPtr in = std::move(*opened);
  WritePtr out(archive_write_disk_new(), archive_write_free);
  // Entry names were checked to be relative and are then prefixed with the (canonical) staging
  // directory, so libarchive's NOABSOLUTEPATHS cannot be used; its other guards stay on.
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                               ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  archive_write_disk_set_standard_lookup(out.get());
  archive_entry* entry;
  for (;;) {
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return Error(ErrorCode::kUnprocessable, std::string("corrupt archive: ") + archive_error_string(in.get()));
    }
    if (auto ok = checkEntry(entry); !ok) return ok;
    std::string name = archive_entry_pathname(entry);
    archive_entry_set_pathname(entry, (staging + "/" + name).c_str());
    if (const char* hard = archive_entry_hardlink(entry)) {
      archive_entry_set_hardlink(entry, (staging + "/" + std::string(hard)).c_str());
    }
    // Never let an archive make set-id programs or files the task cannot read.
    archive_entry_set_perm(entry, (archive_entry_perm(entry) & 0777) | 0600);
    if (archive_write_header(out.get(), entry) < ARCHIVE_WARN) {
      return unsafe(name, std::string("cannot be written: ") + archive_error_string(out.get()));
    }
    if (archive_entry_size(entry) > 0) {
      if (auto ok = copyData(in.get(), out.get(), name); !ok) return ok;
    }
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN) {
      return unsafe(name, std::string("cannot be written: ") + archive_error_string(out.get()));
    }
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) {
    return Error(ErrorCode::kIo, std::string("finishing extraction: ") + archive_error_string(out.get()));
  }
  return {};
}

}  // namespace

bool isArchiveName(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* suffix : {".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".zip", ".deb"}) {
    if (endsWith(lower, suffix)) return true;
  }
  return false;
}

Result<void> extractArchive(const std::string& archivePath, const std::string& destDir) {
  std::string staging = destDir + "/.extract-" + newRunId();
  std::error_code ec;
  fs::create_directory(staging, ec);
  if (ec) return Error(ErrorCode::kIo, "creating '" + staging + "': " + ec.message());
  // Without symbolic links on the way, SECURE_SYMLINKS only ever objects to the archive's own.
  std::string canonical = fs::canonical(staging, ec).string();
  auto ok = ec ? Result<void>(Error(ErrorCode::kIo, "resolving '" + staging + "': " + ec.message()))
               : extractInto(archivePath, canonical);
  if (ok) {
    // Every entry was checked and written: move the top level into place.
    for (const auto& e : fs::directory_iterator(staging, ec)) {
      fs::path target = fs::path(destDir) / e.path().filename();
      if (fs::is_directory(target) && !fs::is_symlink(target) && e.is_directory() && !e.is_symlink()) {
        // Merge into an existing directory entry by entry.
        for (const auto& sub : fs::recursive_directory_iterator(e.path(), ec)) {
          fs::path rel = sub.path().lexically_relative(e.path());
          if (sub.is_directory() && !sub.is_symlink()) fs::create_directories(target / rel, ec);
          else fs::rename(sub.path(), target / rel, ec);
          if (ec) break;
        }
      } else {
        if (fs::exists(fs::symlink_status(target))) fs::remove_all(target, ec);
        fs::rename(e.path(), target, ec);
      }
      if (ec) break;
    }
    if (ec) ok = Error(ErrorCode::kIo, "moving extracted files into '" + destDir + "': " + ec.message());
  }
  std::error_code ignored;
  fs::remove_all(staging, ignored);
  return ok;
}

}  // namespace dcos::kernel
