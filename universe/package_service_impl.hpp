#pragma once
// Private to universe/: the PackageService's state and the helpers its route files share.

#include "common/event_loop.hpp"
#include "common/http/router.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "universe/package_service.hpp"
#include "universe/repository.hpp"
#include "universe/repository_store.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dcos::universe {

// A repository that failed to load is tried again this long after; a loaded one is reloaded in
// the background this long after (its last copy serving meanwhile, and when the reload fails).
inline constexpr std::chrono::seconds kRetryAfterFailure{10};
inline constexpr std::chrono::minutes kRefreshInterval{5};

// An error as the API answers it.
struct ApiError {
  int status = 400;
  std::string type, message;
  std::vector<ErrorDetail> details;
  Json data = Json::object();
};

// Answers one request, in the media type the client asked for.
class Reply {
 public:
  Reply(http::Responder responder, std::string op, bool vendorTypes)
      : responder_(std::move(responder)), op_(std::move(op)), vendor_(vendorTypes) {}
  void ok(const Json& body) const;
  void fail(const ApiError& error) const;

 private:
  http::Responder responder_;
  std::string op_;
  bool vendor_;
};

using Repositories = std::vector<std::shared_ptr<const Repository>>;

struct PackageService::Impl : std::enable_shared_from_this<Impl> {
  Impl(EventLoop& l, marathon::Service& m, std::unique_ptr<RepositoryStore> s)
      : loop(l), marathon(m), store(std::move(s)) {}

  EventLoop& loop;
  marathon::Service& marathon;
  std::unique_ptr<RepositoryStore> store;
  const log::Logger& logger = log::get("universe");

  struct Cached {
    std::shared_ptr<const Repository> repository;  // the last good copy
    std::chrono::steady_clock::time_point loadedAt{}, failedAt{};
    bool failed = false;   // the last load failed and there is no good copy
    bool loading = false;  // a load is on the blocking pool
  };
  std::map<std::string, Cached> cache;  // by URI
  std::vector<std::function<void(Repositories)>> waiters_;  // requests waiting for first loads

  // Calls fn with the loaded repositories in search order, once every configured one has been
  // tried at least once (loaded off the loop); those that failed are left out. Retries and
  // refreshes due are started, but not waited for. On the loop.
  void withRepositories(std::function<void(Repositories)> fn);
  void startLoads();
  void loaded(const RepositoryEntry& entry, Result<Repository> result);
  bool settled() const;
  Repositories collect() const;

  void registerRepositoryRoutes(http::Router& router);
  void registerPackageRoutes(http::Router& router);
  void addRepository(const Json& body, const Reply& reply);
  void deleteRepository(const Json& body, const Reply& reply);
  void install(const Json& body, const Reply& reply);
  void listInstalled(const Json& body, const Reply& reply);
  void uninstall(const Json& body, const Reply& reply);
};

// Registers POST /package/<path> for the Cosmos operation `op` ("install", "repository.add"):
// checks the media types and parses the body (an object; empty means {}), then calls fn.
void routeOperation(http::Router& router, const std::string& path, const std::string& op,
                    std::function<void(const Json& body, Reply reply)> fn);

// A required string field, or a MalformedRequest error naming it.
struct Field {
  std::string value;
  std::optional<ApiError> error;
};
Field stringField(const Json& body, const char* name, bool required);

// The error of a failed Repository::load or find, typed as Cosmos types it.
ApiError repositoryLoadError(const Error& error, const std::string& name, const std::string& uri);

}  // namespace dcos::universe
