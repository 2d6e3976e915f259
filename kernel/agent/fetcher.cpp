#include "kernel/agent/fetcher.hpp"

#include "common/http/client.hpp"
#include "common/log.hpp"
#include "kernel/agent/archive.hpp"
#include "kernel/agent/paths.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace dcos::kernel {
namespace fs = std::filesystem;
namespace {


bool isHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool hasDotDot(const std::string& path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (path.compare(start, end - start, "..") == 0 && end - start == 2) return true;
    start = end + 1;
  }
  return false;
}

// The file name a URI lands under: its last path component without query or fragment.
std::string baseName(const std::string& uri) {
  std::string path = uri.substr(0, uri.find_first_of("?#"));
  size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return name.empty() || name == "." || name == ".." ? "download" : name;
}

bool startsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Appends a Mesos-fetcher-like line to the sandbox's stderr.
class FetchLog {
 public:
  explicit FetchLog(const std::string& sandbox) : out_(sandbox + "/stderr", std::ios::app) {}
  void line(const std::string& text) {
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", std::gmtime(&now));
    out_ << "I" << stamp << " fetcher] " << text << "\n";
    out_.flush();
  }

 private:
  std::ofstream out_;
};

class FetcherImpl : public Fetcher {
 public:
  explicit FetcherImpl(FetcherOptions options)
      : options_(std::move(options)), cache_(options_.cacheDir, options_.cacheBytes) {}

  Result<void> fetch(const std::vector<FetchUri>& uris, const std::string& sandbox) override {
    std::error_code ec;
    fs::create_directories(sandbox, ec);
    if (ec) return Error(ErrorCode::kIo, "cannot create the sandbox '" + sandbox + "': " + ec.message());
    FetchLog log(sandbox);
    for (const auto& uri : uris) {
      log.line("Fetching '" + uri.value + "'");
      auto ok = fetchOne(uri, sandbox, log);
      if (!ok) {
        Error e = ok.error().wrap("fetching '" + uri.value + "'");
        log.line("Failed: " + e.message);
        return e;
      }
    }
    log.line("Fetched " + std::to_string(uris.size()) + " URI(s)");
    return {};
  }

 private:
  Result<void> fetchOne(const FetchUri& uri, const std::string& sandbox, FetchLog& log) {
    std::string tmp = sandbox + "/.fetch-" + newRunId();
    auto ok = obtain(uri, tmp, log);
    if (ok) ok = place(uri, tmp, sandbox, log);
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return ok;
  }

  // Gets the URI's bytes into `tmp`, verified, from the cache or the source.
  Result<void> obtain(const FetchUri& uri, const std::string& tmp, FetchLog& log) {
    std::string key = FetcherCache::key(uri.value, uri.checksum);
    if (uri.cache) {
      auto hit = cache_.copyOut(key, tmp);
      if (!hit) return hit.error();
      if (*hit) {
        log.line("Using the cached copy of '" + uri.value + "'");
        return verify(uri, tmp);
      }
    }
    auto got = download(uri.value, tmp);
    if (got) got = verify(uri, tmp);
    if (!got) return got;
    if (uri.cache) {
      // A cache that cannot be written only costs the next task a download.
      if (auto added = cache_.add(key, tmp); !added) log.line("Not cached: " + added.error().message);
    }
    return {};
  }

  Result<void> verify(const FetchUri& uri, const std::string& file) {
    if (uri.checksum.empty()) return {};
    auto sum = sha256File(file);
    if (!sum) return sum.error();
    if (*sum != uri.checksum) {
      return Error(ErrorCode::kUnprocessable, "checksum mismatch: expected sha256:" + uri.checksum + ", got sha256:" + *sum);
    }
    return {};
  }

  Result<void> download(const std::string& value, const std::string& tmp) {
    if (startsWith(value, "http://") || startsWith(value, "https://")) return downloadHttp(value, tmp);
    std::string path = startsWith(value, "file://") ? value.substr(7) : value;
    if (path.empty() || path.front() != '/') {
      return Error(ErrorCode::kInvalidArgument, "unsupported URI: use http://, https://, file:// or an absolute path");
    }
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return Error(ErrorCode::kNotFound, "no such file '" + path + "'");
    fs::copy_file(path, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) return Error(ErrorCode::kIo, "copying '" + path + "': " + ec.message());
    return {};
  }

  Result<void> downloadHttp(const std::string& url, const std::string& tmp) {
    std::FILE* out = std::fopen(tmp.c_str(), "wb");
    if (!out) return Error(ErrorCode::kIo, "cannot create '" + tmp + "'");
    http::ClientRequest request;
    request.url = url;
    request.timeout = options_.timeout;
    request.caFile = options_.caFile;
    uint64_t received = 0;
    bool tooLarge = false, writeFailed = false;
    int status = 0;
    auto response = http::fetchStream(
        request,
        [&](std::string_view piece) {
          if (status != 200) return false;
          received += piece.size();
          if (received > options_.maxDownloadBytes) return !(tooLarge = true);
          if (std::fwrite(piece.data(), 1, piece.size(), out) != piece.size()) return !(writeFailed = true);
          return true;
        },
        options_.timeout, [&](const http::ClientResponse& head) { status = head.status; });
    bool closed = std::fclose(out) == 0;
    if (!response) return response.error();
    if (response->status != 200) {
      return Error(ErrorCode::kUnavailable, "the server answered HTTP " + std::to_string(response->status));
    }
    if (tooLarge) {
      return Error(ErrorCode::kPayloadTooLarge,
                   "the download exceeds " + std::to_string(options_.maxDownloadBytes) + " bytes");
    }
    if (writeFailed || !closed) return Error(ErrorCode::kIo, "writing '" + tmp + "' failed");
    return {};
  }

  // Extracts the verified file, or renames it into place.
  Result<void> place(const FetchUri& uri, const std::string& tmp, const std::string& sandbox, FetchLog& log) {
    std::string name = uri.outputFile.empty() ? baseName(uri.value) : uri.outputFile;
    if (uri.extract && isArchiveName(name)) {
      if (auto ok = extractArchive(tmp, sandbox); !ok) return ok;
      log.line("Extracted '" + name + "' into '" + sandbox + "'");
      return {};
    }
    fs::path target = fs::path(sandbox) / name;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (!ec) fs::permissions(tmp, uri.executable ? fs::perms(0755) : fs::perms(0644), ec);
    if (!ec) fs::rename(tmp, target, ec);
    if (ec) return Error(ErrorCode::kIo, "moving into '" + target.string() + "': " + ec.message());
    log.line("Fetched to '" + target.string() + "'" + (uri.executable ? " (executable)" : ""));
    return {};
  }

  FetcherOptions options_;
  FetcherCache cache_;
};

}  // namespace

Result<std::vector<FetchUri>> parseFetchUris(const Json& uris) {
  std::vector<FetchUri> out;
  if (uris.is_null()) return out;
  if (!uris.is_array()) return Error(ErrorCode::kInvalidArgument, "command.uris must be an array");
  for (size_t i = 0; i < uris.size(); ++i) {
    const Json& u = uris[i];
    std::string where = "command.uris[" + std::to_string(i) + "]";
    if (!u.is_object() || !u.contains("value") || !u["value"].is_string() || u["value"].get<std::string>().empty()) {
      return Error(ErrorCode::kInvalidArgument, where + " has no value");
    }
    FetchUri f;
    f.value = u["value"].get<std::string>();
    try {
      f.executable = u.value("executable", false);
      f.extract = u.value("extract", true);
      f.cache = u.value("cache", false);
      f.outputFile = u.value("output_file", "");
      std::string checksum = u.value("checksum", "");
      if (!checksum.empty()) {
        if (!startsWith(checksum, "sha256:") || !isHex64(checksum.substr(7))) {
          return Error(ErrorCode::kInvalidArgument, where + ": checksum must be \"sha256:<64 hex digits>\"");
        }
        for (char c : checksum.substr(7)) f.checksum += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    } catch (const Json::exception&) {
      return Error(ErrorCode::kInvalidArgument, where + " has a field of the wrong type");
    }
    if (!f.outputFile.empty() && (f.outputFile.front() == '/' || hasDotDot(f.outputFile))) {
      return Error(ErrorCode::kInvalidArgument, where + ": output_file must stay inside the sandbox");
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::unique_ptr<Fetcher> makeFetcher(FetcherOptions options) {
  return std::make_unique<FetcherImpl>(std::move(options));
}

}  // namespace dcos::kernel
