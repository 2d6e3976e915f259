#pragma once
// The master. For now it owns the registry database and answers health and version; agents,
// frameworks, offers and the Mesos v1 APIs arrive on top of this with the kernel issue.

#include "common/clock.hpp"
#include "common/http/router.hpp"
#include "common/result.hpp"
#include "common/store/sqlite.hpp"

#include <memory>
#include <string>

namespace dcos::kernel {

class Master {
 public:
  // Opens (or creates) <workDir>/master.db and brings its schema up to date.
  static Result<std::unique_ptr<Master>> open(const std::string& workDir, const Clock& clock);

  void registerRoutes(http::Router& router);

  const std::string& clusterId() const { return clusterId_; }
  const std::string& masterId() const { return masterId_; }

 private:
  Master(std::unique_ptr<store::Database> db, const Clock& clock);
  Result<void> loadIdentity();

  std::unique_ptr<store::Database> db_;
  const Clock& clock_;
  TimePoint startedAt_;
  std::string clusterId_;  // stable across restarts
  std::string masterId_;   // new for each run, as Mesos does
};

// A random RFC 4122 version 4 UUID string.
std::string newUuid();

}  // namespace dcos::kernel
