#include "kernel/master/master.hpp"

#include "common/log.hpp"
#include "common/version.hpp"

#include <fmt/format.h>

#include <random>

namespace dcos::kernel {
namespace {

const log::Logger& logger() { return log::get("master"); }

std::vector<store::Migration> migrations() {
  return {
      {1, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"},
  };
}

}  // namespace

std::string newUuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                     b >> 48, b & 0xffffffffffffULL);
}

Master::Master(std::unique_ptr<store::Database> db, const Clock& clock)
    : db_(std::move(db)), clock_(clock), startedAt_(clock.now()), masterId_(newUuid()) {}

Result<std::unique_ptr<Master>> Master::open(const std::string& workDir, const Clock& clock) {
  auto db = store::Database::open(workDir + "/master.db", {.synchronousFull = true});
  if (!db) return db.error();
  if (auto r = (*db)->migrate(migrations()); !r) return r.error();
  std::unique_ptr<Master> m(new Master(std::move(*db), clock));
  if (auto r = m->loadIdentity(); !r) return r.error();
  logger().info("master '{}' of cluster '{}' started", m->masterId_, m->clusterId_);
  return m;
}

Result<void> Master::loadIdentity() {
  return db_->transaction([&]() -> Result<void> {
    auto get = db_->prepare("SELECT value FROM meta WHERE key = 'cluster_id'");
    if (!get) return get.error();
    auto row = get->step();
    if (!row) return row.error();
    if (*row) {
      clusterId_ = get->columnText(0);
      return success();
    }
    clusterId_ = newUuid();
    auto put = db_->prepare("INSERT INTO meta (key, value) VALUES ('cluster_id', ?), ('created_at', ?)");
    if (!put) return put.error();
    put->bind(1, clusterId_).bind(2, toIso8601(clock_.now()));
    return put->run();
  });
}

void Master::registerRoutes(http::Router& router) {
  router.route("GET", "/health", [this](const http::Request&) {
    double uptime = std::chrono::duration<double>(clock_.now() - startedAt_).count();
    return http::Response::json(200, {{"healthy", true},
                                      {"role", "master"},
                                      {"master_id", masterId_},
                                      {"cluster_id", clusterId_},
                                      {"uptime_seconds", uptime}});
  });
  router.route("GET", "/version", [](const http::Request&) {
    Json libs = Json::object();
    for (const auto& [name, v] : version::libraries()) libs[name] = v;
    // Mesos' /version fields, plus the libraries linked in.
    return http::Response::json(200, {{"version", version::version()},
                                      {"git_sha", version::gitCommit()},
                                      {"build_date", version::buildDate()},
                                      {"libraries", libs}});
  });
}

}  // namespace dcos::kernel
