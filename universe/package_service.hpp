#pragma once
// The package manager on the master: Cosmos' /package/* API over the repositories the operator
// configured (the built-in catalog first), installing packages as Marathon apps or groups through
// the service scheduler in the same process.
//
// Routes (all POST, JSON bodies; application/json or Cosmos'
// application/vnd.dcos.package.<op>-request+json;charset=utf-8;version=v1; answered with
// ...<op>-response+json;charset=utf-8;version=v1 when Accept asks for it, else application/json):
//   /package/search        {query?}                                -> {"packages": [entry...]}
//   /package/describe      {packageName, packageVersion?}          -> {"package": {...}}
//   /package/list-versions {packageName, includePackageVersions}   -> {"results": {version: "rel"}}
//   /package/render        {packageName, packageVersion?, options?, appId?} -> {"marathonJson"}
//   /package/install       same                                    -> {"packageName",
//                          "packageVersion", "appId", "postInstallNotes"?}
//   /package/uninstall     {packageName, appId?, all?}             -> {"results": [{packageName,
//                          appId, packageVersion, postUninstallNotes?}]}
//   /package/list          {packageName?, appId?}                  -> {"packages": [{appId,
//                          packageInformation: {packageDefinition}}]}
//   /package/repository/add    {name, uri, index?}  -> {"repositories": [{name, uri}...]}
//   /package/repository/list   {}                   -> same
//   /package/repository/delete {name? | uri?}       -> same
// Errors: {"type", "message", "details": [{path, errors}], "data": {...}} with a 4xx/5xx status
// (PackageNotFound, VersionNotFound, JsonSchemaMismatch, PackageAlreadyInstalled,
// MarathonBadResponse, RepositoryUriSyntax, RepositoryUriConnection, RepositoryNotPresent, ...).
//
// Repositories: kept in <work_dir>/universe.db in their search order; "Universe (built-in)"
// (builtin:) is first on a new master and cannot be deleted, so the catalog is never lost; `index`
// on add places a repository before it. Each is loaded (Repository::load, on the loop's blocking
// pool) when first needed, requests waiting for that first load only; then cached and reloaded in
// the background every kRefreshInterval (the last good copy serving meanwhile). One that fails
// its first load is skipped with a logged error and tried again, in the background, after
// kRetryAfterFailure. Adding one loads it first: nothing is saved unless it loads.
// Search, describe and install look through the repositories in order; the first match wins.
//
// Everything runs on the master's event loop.

#include "common/event_loop.hpp"
#include "common/http/router.hpp"
#include "common/result.hpp"

#include <memory>
#include <string>

namespace dcos::marathon {
class Service;
}

namespace dcos::universe {

class PackageService {
 public:
  // Opens <workDir>/universe.db. The service must outlive nothing: destroy it before `marathon`.
  static Result<std::unique_ptr<PackageService>> open(EventLoop& loop, const std::string& workDir,
                                                      marathon::Service& marathon);
  ~PackageService();

  void registerRoutes(http::Router& router);

  struct Impl;

 private:
  explicit PackageService(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace dcos::universe
