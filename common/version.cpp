#include "common/version.hpp"

#include "build_date.hpp"
#include "build_version.hpp"

#include <archive.h>
#include <boost/version.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <spdlog/version.h>
#include <sqlite3.h>

namespace dcos::version {

#ifndef DCOS_VERSION
#define DCOS_VERSION "0.0.0"
#endif

const char* version() { return DCOS_VERSION; }
const char* gitCommit() { return DCOS_GIT_COMMIT; }
const char* buildDate() { return DCOS_BUILD_DATE; }

std::vector<std::pair<std::string, std::string>> libraries() {
  return {
      {"boost", fmt::format("{}.{}.{}", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100)},
      {"sqlite", sqlite3_libversion()},
      {"libarchive", ARCHIVE_VERSION_ONLY_STRING},
      {"openssl", OpenSSL_version(OPENSSL_VERSION)},
      {"nlohmann_json", fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
                                    NLOHMANN_JSON_VERSION_PATCH)},
      {"spdlog", fmt::format("{}.{}.{}", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH)},
      {"fmt", fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100)},
  };
}

std::string text() {
  std::string out = fmt::format("dcos {}\ncommit: {}\nbuilt: {}\nlibraries:\n", version(), gitCommit(), buildDate());
  for (const auto& [name, v] : libraries()) out += fmt::format("  {} {}\n", name, v);
  return out;
}

}  // namespace dcos::version
