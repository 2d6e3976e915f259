#pragma once
// A package repository: a name, the URI it came from, and the releases of the packages it holds.
// Three sources, as Universe and Cosmos have them:
//   - a directory tree packages/<L>/<name>/<rev>/{package.json, config.json, resource.json,
//     marathon.json.mustache, command.json} (the built-in catalog; a file:// directory);
//   - a Universe repository index: {"packages": [<entry>, ...]} with templates base64-encoded
//     (served over http(s):// or read from a file:// .json file);
//   - "builtin:", the catalog compiled into the binary from universe/catalog/.
// A Repository is immutable once built; reading it from several threads is safe.

#include "common/json.hpp"
#include "common/result.hpp"
#include "universe/package.hpp"

#include <map>
#include <string>
#include <vector>

namespace dcos::universe {

inline constexpr const char* kBuiltinRepositoryName = "Universe (built-in)";
inline constexpr const char* kBuiltinRepositoryUri = "builtin:";

class Repository {
 public:
  // From a directory tree given as path -> content, paths relative to the repository root
  // ("packages/S/spark/0/package.json"). Files outside packages/ are ignored, and so are hidden
  // ones (".keep"). Refused (kInvalidArgument "repository 'NAME' (URI): ..." with one ErrorDetail
  // per problem, its path "packages/S/spark/0/package.json#/tags"): a file at another depth under
  // packages/, a <rev> that is not a non-negative integer, a <name> directory that differs from
  // package.json's name or whose <L> is not its first letter (case-insensitive), a package that
  // parsePackageFiles refuses, two releases with the same name and releaseVersion.
  static Result<Repository> fromTree(std::string name, std::string uri,
                                     const std::map<std::string, std::string>& files);

  // From a Universe index document. Refused like fromTree when `index` is not an object with a
  // "packages" array, when any entry is refused by parseIndexEntry (details at
  // "#/packages/<i>/...") or repeats a name and releaseVersion: one bad entry fails the whole
  // repository, as in Cosmos, so a broken repository is noticed rather than half-used.
  static Result<Repository> fromIndex(std::string name, std::string uri, const Json& index);

  // Loads a repository. Blocks (network and file I/O): call it off the event loop.
  //   http://, https://  GET with Accept for Universe repo v4/v3 media types and JSON; the body
  //                      (200 only) is an index;
  //   file:///path       an index file (.json), or a directory holding packages/;
  //   builtin:           builtinRepository(), under `name`.
  // Every error message starts with "repository 'NAME' (URI): ": kInvalidArgument for a URI of
  // another scheme or a malformed one, or a malformed repository; kUnavailable/kTimeout when
  // unreachable or answering with another status than 200; kNotFound when the file is missing;
  // kIo when it cannot be read.
  static Result<Repository> load(std::string name, std::string uri);

  const std::string& name() const { return name_; }
  const std::string& uri() const { return uri_; }
  // Every release, ordered by name, then newest releaseVersion first.
  const std::vector<PackageDefinition>& packages() const { return packages_; }

  // The newest release of each package whose name, description or one of whose tags contains
  // `query`, case-insensitively; a query with '*' is a wildcard pattern over the same fields
  // ("sp*k"). "" matches everything. Ordered by name. Pointers live as long as the Repository.
  std::vector<const PackageDefinition*> search(const std::string& query) const;

  // The release of `name` with `version` (the newest releaseVersion with that version), or the
  // newest release when `version` is empty. kNotFound with Cosmos' wording:
  // "Package [NAME] not found" or "Version [V] of package [NAME] not found".
  Result<const PackageDefinition*> find(const std::string& name,
                                        const std::string& version = "") const;

  // The versions of `name`, newest releaseVersion first, each once; empty when unknown.
  std::vector<std::string> versions(const std::string& name) const;

  // Cosmos' search entry for the package `newest` (its newest release): name, currentVersion,
  // versions {version: "releaseVersion"}, description, framework, tags, selected, images.
  Json searchEntryJson(const PackageDefinition& newest) const;

 private:
  Repository(std::string name, std::string uri, std::vector<PackageDefinition> packages);
  // The repository of the packages found (each with where it was found), or every problem:
  // those already met and two releases with one name and releaseVersion (find() would be ambiguous).
  static Result<Repository> assemble(std::string name, std::string uri,
                                     std::vector<std::pair<std::string, PackageDefinition>> found,
                                     std::vector<ErrorDetail> problems);

  std::string name_, uri_;
  std::vector<PackageDefinition> packages_;
};

// The files of universe/catalog/ compiled into the binary (by embed_catalog.py), keyed by path
// relative to universe/catalog ("packages/R/redis/0/package.json"). Empty when the catalog was.
const std::map<std::string, std::string>& builtinCatalogFiles();

// The built-in catalog as a repository named kBuiltinRepositoryName with URI "builtin:".
// Fails only if the catalog compiled in is broken, which its tests exist to prevent.
Result<Repository> builtinRepository();

}  // namespace dcos::universe
