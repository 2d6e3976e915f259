#pragma once
// Safe extraction of the archives the fetcher downloads (tar, tar.gz/tgz, tar.xz, tar.bz2, zip,
// and Debian packages) with libarchive. Blocking file I/O: call from a worker thread, never the event loop.

#include "common/result.hpp"

#include <string>

namespace dcos::kernel {

// True when `name` ends with a suffix extractArchive() understands (.tar, .tar.gz, .tgz,
// .tar.xz, .txz, .tar.bz2, .tbz2, .zip, .deb), case-insensitively.
bool isArchiveName(const std::string& name);

// Extracts `archive` into `destDir` (which must exist) all or nothing: entries go to a hidden
// staging directory inside destDir first and are moved into place only when the whole archive
// was read without error; on failure the staging directory is removed and destDir is as before.
// Refused (kUnprocessable, naming the entry): absolute paths, ".." components, and symbolic or
// hard links whose target is absolute or climbs out of the tree. A corrupt or unreadable archive
// is kUnprocessable; a file system failure kIo. Existing files in destDir are replaced.
// A Debian package (recognised by its ar magic, not its name) extracts its data.tar member
// (uncompressed, .gz, .xz, .bz2 or .zst), streamed out of the ar archive and checked like any
// other tarball; control.tar.* is ignored. A package without data.tar.*, or whose data.tar uses
// another compression ("unsupported compression"), is kUnprocessable.
Result<void> extractArchive(const std::string& archive, const std::string& destDir);

}  // namespace dcos::kernel
