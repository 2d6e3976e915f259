#include "universe/package_service.hpp"

#include "universe/package_service_impl.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace dcos::universe {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

const std::string kVendorPrefix = "application/vnd.dcos.package.";

Json repositoriesJson(const std::vector<RepositoryEntry>& entries) {
  Json list = Json::array();
  for (const auto& e : entries) list.push_back({{"name", e.name}, {"uri", e.uri}});
  return {{"repositories", list}};
}

// URIs Repository::load can read, with something after the scheme.
bool uriSyntaxOk(const std::string& uri) {
  for (const char* scheme : {"http://", "https://", "file://"}) {
    std::string s = scheme;
    if (uri.rfind(s, 0) == 0 && uri.size() > s.size() && uri.find_first_of(" \t\r\n") == std::string::npos) return true;
  }
  return false;
}

}  // namespace

void Reply::ok(const Json& body) const {
  auto response = http::Response::json(200, body);
  if (vendor_) response.headers["Content-Type"] = kVendorPrefix + op_ + "-response+json;charset=utf-8;version=v1";
  responder_.send(std::move(response));
}

void Reply::fail(const ApiError& error) const {
  Json details = Json::array();
  for (const auto& d : error.details) details.push_back({{"path", d.path}, {"errors", d.errors}});
  Json body = {{"type", error.type}, {"message", error.message}, {"details", details}, {"data", error.data}};
  auto response = http::Response::json(error.status, body);
  if (vendor_) response.headers["Content-Type"] = kVendorPrefix + "error+json;charset=utf-8;version=v1";
  log::get("universe").debug("refused a package {} request: {} {}", op_, error.type, error.message);
  responder_.send(std::move(response));
}

void routeOperation(http::Router& router, const std::string& path, const std::string& op,
                    std::function<void(const Json& body, Reply reply)> fn) {
  router.routeAsync("POST", "/package/" + path, [op, fn](http::Request& req, http::Responder responder) {
    std::string accept = lower(req.header("Accept"));
    bool vendor = accept.find(kVendorPrefix + op + "-response+json") != std::string::npos;
    Reply reply(std::move(responder), op, vendor);
    std::string type = lower(req.header("Content-Type"));
    if (!type.empty() && type.rfind("application/json", 0) != 0 &&
        type.rfind(kVendorPrefix + op + "-request+json", 0) != 0) {
      reply.fail({415, "UnsupportedContentType",
                  "Unsupported Content-Type '" + req.header("Content-Type") + "': send application/json or " +
                      kVendorPrefix + op + "-request+json;charset=utf-8;version=v1"});
      return;
    }
    Json body = Json::object();
    if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
      auto parsed = parseJson(req.body);
      if (!parsed) {
        reply.fail({400, "MalformedRequest", "The request body is not JSON: " + parsed.error().message});
        return;
      }
      body = std::move(*parsed);
    }
    if (!body.is_object()) {
      reply.fail({400, "MalformedRequest", "The request body must be a JSON object", {{"/", {"must be an object"}}}});
      return;
    }
    fn(body, std::move(reply));
  });
}

Field stringField(const Json& body, const char* name, bool required) {
  Field f;
  if (!body.contains(name) || body[name].is_null()) {
    if (required) {
      f.error = ApiError{400, "MalformedRequest", std::string("The request needs '") + name + "'",
                         {{std::string("/") + name, {"is required"}}}};
    }
    return f;
  }
  if (!body[name].is_string() || (required && body[name].get<std::string>().empty())) {
    f.error = ApiError{400, "MalformedRequest", std::string("'") + name + "' must be a non-empty string",
                       {{std::string("/") + name, {"must be a non-empty string"}}}};
    return f;
  }
  f.value = body[name].get<std::string>();
  return f;
}

ApiError repositoryLoadError(const Error& error, const std::string& name, const std::string& uri) {
  ApiError e{400, "RepositoryUriConnection", error.message, error.details, {{"name", name}, {"uri", uri}}};
  if (error.code == ErrorCode::kNotFound || error.message.find(" 404") != std::string::npos) {
    e.type = "IndexNotFound";
  } else if (error.code == ErrorCode::kInvalidArgument || error.code == ErrorCode::kPayloadTooLarge) {
    e.type = "RepositoryIndexInvalid";
  }
  return e;
}

Repositories PackageService::Impl::collect() const {
  Repositories out;
  for (const auto& e : store->list()) {
    auto it = cache.find(e.uri);
    if (it != cache.end() && it->second.repository) out.push_back(it->second.repository);
  }
  return out;
}

bool PackageService::Impl::settled() const {
  for (const auto& e : store->list()) {
    auto it = cache.find(e.uri);
    if (it == cache.end() || (!it->second.repository && !it->second.failed)) return false;
  }
  return true;
}

void PackageService::Impl::startLoads() {
  auto now = std::chrono::steady_clock::now();
  for (const auto& e : store->list()) {
    Cached& c = cache[e.uri];
    if (c.loading) continue;
    // The built-in catalog never changes while the process runs.
    if (c.repository && (e.uri == kBuiltinRepositoryUri || now - c.loadedAt < kRefreshInterval)) continue;
    if (!c.repository && c.failed && now - c.failedAt < kRetryAfterFailure) continue;
    c.loading = true;
    auto result = std::make_shared<std::optional<Result<Repository>>>();
    loop.runBlocking([result, e] { result->emplace(Repository::load(e.name, e.uri)); },
                     [weak = weak_from_this(), result, e] {
                       if (auto self = weak.lock()) self->loaded(e, std::move(**result));
                     });
  }
}

void PackageService::Impl::loaded(const RepositoryEntry& entry, Result<Repository> result) {
  auto it = cache.find(entry.uri);
  if (it != cache.end()) {  // else deleted meanwhile
    Cached& c = it->second;
    c.loading = false;
    if (result) {
      c.repository = std::make_shared<const Repository>(std::move(*result));
      c.loadedAt = std::chrono::steady_clock::now();
      c.failed = false;
      logger.info("loaded package repository '{}' ({}): {} releases", entry.name, entry.uri,
                  c.repository->packages().size());
    } else if (c.repository) {
      // A refresh failed: the last good copy serves until the next one succeeds.
      c.loadedAt = std::chrono::steady_clock::now();
      logger.error("cannot refresh package repository '{}', keeping its last copy: {}", entry.name,
                   result.error().message);
    } else {
      c.failed = true;
      c.failedAt = std::chrono::steady_clock::now();
      logger.error("skipping package repository '{}': {}", entry.name, result.error().message);
    }
  }
  if (!settled()) return;
  auto waiting = std::move(waiters_);
  waiters_.clear();
  for (auto& fn : waiting) fn(collect());
}

void PackageService::Impl::withRepositories(std::function<void(Repositories)> fn) {
  startLoads();
  if (settled()) return fn(collect());
  waiters_.push_back(std::move(fn));
}

void PackageService::Impl::addRepository(const Json& body, const Reply& reply) {
  auto name = stringField(body, "name", true);
  auto uri = stringField(body, "uri", true);
  if (name.error || uri.error) return reply.fail(name.error ? *name.error : *uri.error);
  std::optional<size_t> index;
  if (body.contains("index") && !body["index"].is_null()) {
    if (!body["index"].is_number_integer() || body["index"].get<int64_t>() < 0) {
      return reply.fail({400, "MalformedRequest", "'index' must be a non-negative integer", {{"/index", {"must be a non-negative integer"}}}});
    }
    index = body["index"].get<size_t>();
  }
  if (!uriSyntaxOk(uri.value)) {
    return reply.fail({400, "RepositoryUriSyntax", "The URI '" + uri.value + "' of repository '" + name.value +
                           "' is not an http://, https:// or file:// URI", {{"/uri", {"unsupported or malformed URI"}}},
                       {{"name", name.value}, {"uri", uri.value}}});
  }
  // Checked before and after loading: another add may have finished in between.
  auto conflict = [this, index](const std::string& n, const std::string& u) -> std::optional<ApiError> {
    auto entries = store->list();
    for (const auto& e : entries) {
      if (e.name == n || e.uri == u) {
        return ApiError{409, "RepositoryAlreadyPresent",
                        "Repository '" + e.name + "' (" + e.uri + ") is already present", {}, {{"name", n}, {"uri", u}}};
      }
    }
    if (index && *index > entries.size()) {
      return ApiError{400, "RepositoryAddIndexOutOfBounds", "Index " + std::to_string(*index) +
                      " is out of range: there are " + std::to_string(entries.size()) + " repositories",
                      {{"/index", {"must be <= " + std::to_string(entries.size())}}}, {{"max", entries.size()}}};
    }
    return std::nullopt;
  };
  if (auto c = conflict(name.value, uri.value)) return reply.fail(*c);
  auto loaded = std::make_shared<std::optional<Result<Repository>>>();
  loop.runBlocking([loaded, n = name.value, u = uri.value] { loaded->emplace(Repository::load(n, u)); },
                   [weak = weak_from_this(), loaded, n = name.value, u = uri.value, index, conflict, reply] {
                     auto self = weak.lock();
                     if (!self) return;
                     auto& r = **loaded;
                     if (!r) return reply.fail(repositoryLoadError(r.error(), n, u));
                     if (auto c = conflict(n, u)) return reply.fail(*c);
                     auto entries = self->store->list();
                     entries.insert(entries.begin() + static_cast<long>(index.value_or(entries.size())), {n, u});
                     if (auto saved = self->store->save(entries); !saved) {
                       return reply.fail({500, "RepositoryStoreFailure", saved.error().message});
                     }
                     Cached& c = self->cache[u];
                     c.repository = std::make_shared<const Repository>(std::move(*r));
                     c.loadedAt = std::chrono::steady_clock::now();
                     c.failed = false;
                     self->logger.info("added package repository '{}' ({})", n, u);
                     reply.ok(repositoriesJson(self->store->list()));
                   });
}

void PackageService::Impl::deleteRepository(const Json& body, const Reply& reply) {
  auto name = stringField(body, "name", false);
  auto uri = stringField(body, "uri", false);
  if (name.error || uri.error) return reply.fail(name.error ? *name.error : *uri.error);
  if (name.value.empty() && uri.value.empty()) {
    return reply.fail({400, "MalformedRequest", "Name the repository to delete by 'name' or 'uri'", {{"/name", {"is required"}}}});
  }
  auto entries = store->list();
  auto it = std::find_if(entries.begin(), entries.end(), [&](const RepositoryEntry& e) {
    return (name.value.empty() || e.name == name.value) && (uri.value.empty() || e.uri == uri.value);
  });
  if (it == entries.end()) {
    std::string what = !name.value.empty() ? "named '" + name.value + "'" : "with URI '" + uri.value + "'";
    return reply.fail({404, "RepositoryNotPresent", "There is no repository " + what, {},
                       {{"name", name.value}, {"uri", uri.value}}});
  }
  if (it->uri == kBuiltinRepositoryUri) {
    return reply.fail({400, "RepositoryNotDeletable", std::string("The built-in catalog '") + kBuiltinRepositoryName +
                           "' cannot be deleted (add repositories before it with 'index' to take precedence)"});
  }
  RepositoryEntry removed = *it;
  entries.erase(it);
  if (auto saved = store->save(entries); !saved) return reply.fail({500, "RepositoryStoreFailure", saved.error().message});
  cache.erase(removed.uri);
  logger.info("deleted package repository '{}' ({})", removed.name, removed.uri);
  reply.ok(repositoriesJson(store->list()));
}

void PackageService::Impl::registerRepositoryRoutes(http::Router& router) {
  routeOperation(router, "repository/list", "repository.list",
                 [this](const Json&, Reply reply) { reply.ok(repositoriesJson(store->list())); });

  routeOperation(router, "repository/add", "repository.add", [this](const Json& body, Reply reply) { addRepository(body, reply); });

  routeOperation(router, "repository/delete", "repository.delete", [this](const Json& body, Reply reply) { deleteRepository(body, reply); });
}

Result<std::unique_ptr<PackageService>> PackageService::open(EventLoop& loop, const std::string& workDir,
                                                             marathon::Service& marathon) {
  auto store = RepositoryStore::open(workDir + "/universe.db");
  if (!store) return store.error();
  auto impl = std::make_shared<Impl>(loop, marathon, std::move(*store));
  return std::unique_ptr<PackageService>(new PackageService(std::move(impl)));
}

PackageService::PackageService(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
PackageService::~PackageService() = default;

void PackageService::registerRoutes(http::Router& router) {
  impl_->registerRepositoryRoutes(router);
  impl_->registerPackageRoutes(router);
}

}  // namespace dcos::universe
