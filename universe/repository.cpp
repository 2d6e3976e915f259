#include "universe/repository.hpp"

#include "common/http/client.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

namespace dcos::universe {
namespace {

namespace fs = std::filesystem;

// A repository read from disk is held in memory whole; this bounds what one may take.
constexpr uintmax_t kMaxTreeBytes = 64 * 1024 * 1024;

// Universe servers pick the index format by media type; v4 and v3 are the ones we read.
constexpr const char* kIndexAccept =
    "application/vnd.dcos.universe.repo+json;charset=utf-8;version=v4,"
    "application/vnd.dcos.universe.repo+json;charset=utf-8;version=v3;q=0.9,"
    "application/json;q=0.5";

std::string context(const std::string& name, const std::string& uri) {
  return "repository '" + name + "' (" + uri + ")";
}

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream in(path);
  for (std::string part; std::getline(in, part, '/');) parts.push_back(part);
  return parts;
}

bool allDigits(const std::string& s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Glob with '*' only, over already lower-cased text.
bool wildcardMatch(const std::string& pattern, const std::string& text) {
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] != '*' && pattern[p] == text[t]) {
      ++p, ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++, mark = t;
    } else if (star != std::string::npos) {
      p = star + 1, t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool fieldMatches(const std::string& query, const std::string& field) {
  const std::string f = lower(field);
  return query.find('*') != std::string::npos ? wildcardMatch(query, f) : f.find(query) != std::string::npos;
}

// Adds `error`'s details (or its message) under `prefix`.
void collect(const Error& error, const std::string& prefix, std::vector<ErrorDetail>& out) {
  if (error.details.empty()) return out.push_back({prefix, {error.message}});
  for (const auto& d : error.details) out.push_back({prefix + d.path, d.errors});
}

Error malformed(const std::string& name, const std::string& uri, std::vector<ErrorDetail> details) {
  std::string message = context(name, uri) + ": invalid repository: ";
  for (size_t i = 0; i < details.size(); ++i) {
    message += (i > 0 ? "; " : "") + details[i].path + ": ";
    for (size_t k = 0; k < details[i].errors.size(); ++k) message += (k > 0 ? ", " : "") + details[i].errors[k];
  }
  return Error(ErrorCode::kInvalidArgument, message, std::move(details));
}

Result<std::string> readWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kIo, "cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return Error(ErrorCode::kIo, "cannot read " + path.string());
  return out.str();
}

// The files under `root`/packages, keyed relative to `root`.
Result<std::map<std::string, std::string>> readTree(const fs::path& root) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  if (!fs::is_directory(root / "packages", ec)) {
    return Error(ErrorCode::kInvalidArgument, "directory has no packages/ subdirectory");
  }
  uintmax_t total = 0;
  for (auto it = fs::recursive_directory_iterator(root / "packages", ec); !ec && it != fs::end(it); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    total += it->file_size(ec);
    if (total > kMaxTreeBytes) return Error(ErrorCode::kPayloadTooLarge, "the tree holds more than 64 MiB");
    auto content = readWhole(it->path());
    if (!content) return content.error();
    files[fs::relative(it->path(), root, ec).generic_string()] = std::move(*content);
  }
  if (ec) return Error(ErrorCode::kIo, "cannot list " + (root / "packages").string() + ": " + ec.message());
  return files;
}

Result<Repository> loadFile(std::string name, std::string uri) {
  const std::string path = uri.substr(std::string("file://").size());
  if (path.empty() || path[0] != '/') {
    return Error(ErrorCode::kInvalidArgument, context(name, uri) + ": a file URI needs an absolute path (file:///...)");
  }
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (!fs::exists(status)) return Error(ErrorCode::kNotFound, context(name, uri) + ": " + path + " does not exist");
  if (fs::is_directory(status)) {
    auto files = readTree(path);
    if (!files) return files.error().wrap(context(name, uri));
    return Repository::fromTree(std::move(name), std::move(uri), *files);
  }
  if (fs::file_size(path, ec) > kMaxTreeBytes) {
    return Error(ErrorCode::kPayloadTooLarge, context(name, uri) + ": the index is larger than 64 MiB");
  }
  auto text = readWhole(path);
  if (!text) return text.error().wrap(context(name, uri));
  auto index = parseJson(*text);
  if (!index) return Error(ErrorCode::kInvalidArgument, context(name, uri) + ": the index is not valid JSON: " + index.error().message);
  return Repository::fromIndex(std::move(name), std::move(uri), *index);
}

Result<Repository> loadHttp(std::string name, std::string uri) {
  http::ClientRequest request;
  request.url = uri;
  request.headers["Accept"] = kIndexAccept;
  request.timeout = std::chrono::seconds(60);
  request.maxBodyBytes = kMaxTreeBytes;
  auto response = http::fetch(request);
  if (!response) return response.error().wrap(context(name, uri));
  if (response->status != 200) {
    return Error(ErrorCode::kUnavailable, context(name, uri) + ": the server answered HTTP " + std::to_string(response->status));
  }
  auto index = parseJson(response->body);
  if (!index) return Error(ErrorCode::kInvalidArgument, context(name, uri) + ": the index is not valid JSON: " + index.error().message);
  return Repository::fromIndex(std::move(name), std::move(uri), *index);
}

}  // namespace

Repository::Repository(std::string name, std::string uri, std::vector<PackageDefinition> packages)
    : name_(std::move(name)), uri_(std::move(uri)), packages_(std::move(packages)) {
  std::stable_sort(packages_.begin(), packages_.end(), [](const auto& a, const auto& b) {
    return a.name != b.name ? a.name < b.name : a.releaseVersion > b.releaseVersion;
  });
}

Result<Repository> Repository::fromTree(std::string name, std::string uri,
                                        const std::map<std::string, std::string>& files) {
  std::vector<ErrorDetail> problems;
  // packages/<L>/<name>/<rev> -> file name -> content
  std::map<std::string, std::map<std::string, std::string>> dirs;
  for (const auto& [path, content] : files) {
    auto parts = splitPath(path);
    if (parts.empty() || parts[0] != "packages" || parts.back().empty() || parts.back()[0] == '.') continue;
    if (parts.size() != 5) {
      problems.push_back({path, {"is not at packages/<L>/<name>/<rev>/<file>"}});
      continue;
    }
    dirs[parts[0] + "/" + parts[1] + "/" + parts[2] + "/" + parts[3]][parts[4]] = content;
  }
  std::vector<std::pair<std::string, PackageDefinition>> found;
  for (const auto& [dir, dirFiles] : dirs) {
    auto parts = splitPath(dir);
    const std::string& letter = parts[1];
    const std::string& pkgName = parts[2];
    if (!allDigits(parts[3])) {
      problems.push_back({dir, {"the release directory must be a non-negative integer"}});
      continue;
    }
    auto p = parsePackageFiles(dirFiles, std::stoll(parts[3]));
    if (!p) {
      collect(p.error(), dir + "/", problems);
      continue;
    }
    if (p->name != pkgName) {
      problems.push_back({dir + "/package.json#/name", {"is '" + p->name + "', but the directory is '" + pkgName + "'"}});
    } else if (letter.size() != 1 || std::tolower(static_cast<unsigned char>(letter[0])) !=
                                         std::tolower(static_cast<unsigned char>(pkgName[0]))) {
      problems.push_back({dir, {"the letter directory must be the first letter of '" + pkgName + "'"}});
    } else {
      found.emplace_back(dir, std::move(*p));
    }
  }
  return assemble(std::move(name), std::move(uri), std::move(found), std::move(problems));
}

Result<Repository> Repository::fromIndex(std::string name, std::string uri, const Json& index) {
  if (!index.is_object() || !index.contains("packages") || !index["packages"].is_array()) {
    return malformed(name, uri, {{"#/packages", {"the index must be an object with a \"packages\" array"}}});
  }
  std::vector<ErrorDetail> problems;
  std::vector<std::pair<std::string, PackageDefinition>> found;
  const Json& entries = index["packages"];
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string where = "#/packages/" + std::to_string(i);
    auto p = parseIndexEntry(entries[i]);
    if (!p) {
      // "#/name" from the entry becomes "#/packages/3/name".
      for (auto d : p.error().details) {
        d.path = where + d.path.substr(1);
        problems.push_back(std::move(d));
      }
      continue;
    }
    found.emplace_back(where, std::move(*p));
  }
  return assemble(std::move(name), std::move(uri), std::move(found), std::move(problems));
}

Result<Repository> Repository::assemble(std::string name, std::string uri,
                                       std::vector<std::pair<std::string, PackageDefinition>> found,
                                       std::vector<ErrorDetail> problems) {
  std::set<std::pair<std::string, int64_t>> seen;
  for (const auto& [where, p] : found) {
    if (!seen.insert({p.name, p.releaseVersion}).second) {
      problems.push_back({where, {"repeats package '" + p.name + "' releaseVersion " + std::to_string(p.releaseVersion)}});
    }
  }
  if (!problems.empty()) return malformed(name, uri, std::move(problems));
  std::vector<PackageDefinition> packages;
  for (auto& [_, p] : found) packages.push_back(std::move(p));
  return Repository(std::move(name), std::move(uri), std::move(packages));
}

Result<Repository> Repository::load(std::string name, std::string uri) {
  if (uri.rfind("http://", 0) == 0 || uri.rfind("https://", 0) == 0) return loadHttp(std::move(name), std::move(uri));
  if (uri.rfind("file://", 0) == 0) return loadFile(std::move(name), std::move(uri));
  if (uri == kBuiltinRepositoryUri) {
    auto builtin = builtinRepository();
    if (!builtin) return builtin.error().wrap(context(name, uri));
    return Repository(std::move(name), std::move(uri), builtin->packages_);
  }
  return Error(ErrorCode::kInvalidArgument,
               context(name, uri) + ": unsupported URI; expected http://, https://, file:// or builtin:");
}

std::vector<const PackageDefinition*> Repository::search(const std::string& query) const {
  const std::string q = lower(query);
  std::vector<const PackageDefinition*> out;
  for (size_t i = 0; i < packages_.size(); ++i) {
    // The first release of each name is its newest.
    if (i > 0 && packages_[i - 1].name == packages_[i].name) continue;
    const auto& p = packages_[i];
    bool match = q.empty() || fieldMatches(q, p.name) || fieldMatches(q, p.description) ||
                 std::any_of(p.tags.begin(), p.tags.end(), [&](const auto& t) { return fieldMatches(q, t); });
    if (match) out.push_back(&p);
  }
  return out;
}

Result<const PackageDefinition*> Repository::find(const std::string& name, const std::string& version) const {
  bool known = false;
  for (const auto& p : packages_) {
    if (p.name != name) continue;
    known = true;
    if (version.empty() || p.version == version) return &p;
  }
  if (!known) return Error(ErrorCode::kNotFound, "Package [" + name + "] not found");
  return Error(ErrorCode::kNotFound, "Version [" + version + "] of package [" + name + "] not found");
}

std::vector<std::string> Repository::versions(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& p : packages_) {
    if (p.name == name && std::find(out.begin(), out.end(), p.version) == out.end()) out.push_back(p.version);
  }
  return out;
}

Json Repository::searchEntryJson(const PackageDefinition& newest) const {
  Json versionMap = Json::object();
  for (const auto& p : packages_) {
    if (p.name == newest.name && !versionMap.contains(p.version)) versionMap[p.version] = std::to_string(p.releaseVersion);
  }
  Json entry = {{"name", newest.name},         {"currentVersion", newest.version},
                {"versions", versionMap},      {"description", newest.description},
                {"framework", newest.framework}, {"tags", newest.tags},
                {"selected", newest.selected}};
  if (auto images = newest.images(); !images.is_null()) entry["images"] = images;
  return entry;
}

Result<Repository> builtinRepository() {
  return Repository::fromTree(kBuiltinRepositoryName, kBuiltinRepositoryUri, builtinCatalogFiles());
}

}  // namespace dcos::universe
