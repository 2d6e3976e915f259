#include "universe/repository.hpp"

#include "tests/support/local_server.hpp"
#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using namespace dcos;
using dcos::universe::builtinCatalogFiles;
using dcos::universe::builtinRepository;
using dcos::universe::PackageDefinition;
using dcos::universe::Repository;

namespace {

using Files = std::map<std::string, std::string>;

std::string packageJson(const std::string& name, const std::string& version, const std::string& description,
                        const std::string& tags = R"(["demo"])") {
  return R"({"packagingVersion": "3.0", "name": ")" + name + R"(", "version": ")" + version +
         R"(", "maintainer": "m@example.com", "description": ")" + description + R"(", "tags": )" + tags + "}";
}

// Three packages; "kafka" in two versions over three releases.
Files tree() {
  return {
      {"README.md", "not a package"},
      {"packages/K/kafka/0/package.json", packageJson("kafka", "3.6.0", "Apache Kafka brokers", R"(["message-queue"])")},
      {"packages/K/kafka/1/package.json", packageJson("kafka", "3.7.0", "Apache Kafka brokers", R"(["message-queue"])")},
      {"packages/K/kafka/2/marathon.json.mustache", R"({"id": "kafka"})"},
      {"packages/K/kafka/2/package.json", packageJson("kafka", "3.7.0", "Apache Kafka brokers (fixed)", R"(["message-queue"])")},
      {"packages/R/redis/0/package.json", packageJson("redis", "7.0", "In-memory store", R"(["cache", "NoSQL"])")},
      {"packages/R/redis/0/.keep", ""},
      {"packages/S/spark/10/package.json", packageJson("spark", "3.5.1", "Spark dispatcher", R"(["analytics"])")},
  };
}

std::vector<std::string> names(const std::vector<const PackageDefinition*>& found) {
  std::vector<std::string> out;
  for (const auto* p : found) out.push_back(p->name);
  return out;
}

std::set<std::string> problemPaths(const Result<Repository>& r) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  std::set<std::string> out;
  for (const auto& d : r.error().details) out.insert(d.path);
  return out;
}

// The index document of a repository: every release as describeJson gives it.
Json indexOf(const Repository& repo) {
  Json packages = Json::array();
  for (const auto& p : repo.packages()) packages.push_back(universe::describeJson(p));
  return {{"packages", packages}};
}

void writeTree(const std::string& root, const Files& files) {
  for (const auto& [path, content] : files) {
    std::filesystem::create_directories(std::filesystem::path(root + "/" + path).parent_path());
    test::writeFile(root + "/" + path, content);
  }
}

}  // namespace

TEST_CASE("a directory tree gives every release, newest first, and files outside packages/ are ignored") {
  auto repo = Repository::fromTree("local", "file:///x", tree());
  REQUIRE_MESSAGE(repo.ok(), repo.error().message);
  CHECK(repo->name() == "local");
  CHECK(repo->uri() == "file:///x");
  REQUIRE(repo->packages().size() == 5);
  CHECK(repo->versions("kafka") == std::vector<std::string>{"3.7.0", "3.6.0"});
  CHECK(repo->versions("spark") == std::vector<std::string>{"3.5.1"});
  CHECK(repo->versions("nope").empty());
  CHECK(repo->packages()[0].releaseVersion == 2);
  CHECK(repo->packages().back().releaseVersion == 10);
}

TEST_CASE("find gives the newest release, or the newest of a version, with Cosmos' messages otherwise") {
  auto repo = Repository::fromTree("local", "file:///x", tree());
  REQUIRE(repo.ok());
  auto newest = repo->find("kafka");
  REQUIRE(newest.ok());
  CHECK((*newest)->releaseVersion == 2);
  CHECK((*newest)->description == "Apache Kafka brokers (fixed)");
  auto old = repo->find("kafka", "3.6.0");
  REQUIRE(old.ok());
  CHECK((*old)->releaseVersion == 0);
  auto missing = repo->find("kafkaa");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().message == "Package [kafkaa] not found");
  auto noVersion = repo->find("kafka", "9.9");
  REQUIRE_FALSE(noVersion.ok());
  CHECK(noVersion.error().code == ErrorCode::kNotFound);
  CHECK(noVersion.error().message == "Version [9.9] of package [kafka] not found");
}

TEST_CASE("search matches name, description and tags case-insensitively, once per package") {
  auto repo = Repository::fromTree("local", "file:///x", tree());
  REQUIRE(repo.ok());
  CHECK(names(repo->search("")) == std::vector<std::string>{"kafka", "redis", "spark"});
  CHECK(names(repo->search("KAF")) == std::vector<std::string>{"kafka"});
  CHECK(names(repo->search("in-memory")) == std::vector<std::string>{"redis"});
  CHECK(names(repo->search("nosql")) == std::vector<std::string>{"redis"});
  CHECK(names(repo->search("s*k")) == std::vector<std::string>{"spark"});
  CHECK(names(repo->search("*a*")) == std::vector<std::string>{"kafka", "redis", "spark"});
  CHECK(repo->search("cassandra").empty());
  CHECK(repo->search("fixed").front()->releaseVersion == 2);

  Json entry = repo->searchEntryJson(*repo->search("kafka").front());
  CHECK(entry["currentVersion"] == "3.7.0");
  CHECK(entry["versions"] == Json({{"3.7.0", "2"}, {"3.6.0", "0"}}));
  CHECK(entry["tags"] == Json({"message-queue"}));
}

TEST_CASE("a malformed tree is refused with every problem named, and the repository too") {
  Files files = tree();
  files["packages/K/kafka/latest/package.json"] = packageJson("kafka", "1", "x");
  files["packages/K/kafka/3/package.json"] = packageJson("kafka-x", "1", "x");
  files["packages/X/zoo/0/package.json"] = packageJson("zoo", "1", "x");
  files["packages/R/redis/1/package.json"] = R"({"packagingVersion": "3.0"})";
  files["packages/R/redis/package.json"] = "{}";
  auto repo = Repository::fromTree("mine", "file:///srv/repo", files);
  auto paths = problemPaths(repo);
  CHECK(paths.count("packages/K/kafka/latest") == 1);
  CHECK(paths.count("packages/K/kafka/3/package.json#/name") == 1);
  CHECK(paths.count("packages/X/zoo/0") == 1);
  CHECK(paths.count("packages/R/redis/1/package.json#/tags") == 1);
  CHECK(paths.count("packages/R/redis/package.json") == 1);
  CHECK(repo.error().message.rfind("repository 'mine' (file:///srv/repo): invalid repository: ", 0) == 0);
}

TEST_CASE("an index gives the same repository; malformed and duplicate entries are refused") {
  auto fromTree = Repository::fromTree("a", "file:///x", tree());
  REQUIRE(fromTree.ok());
  Json index = indexOf(*fromTree);
  auto repo = Repository::fromIndex("b", "https://example.com/repo", index);
  REQUIRE_MESSAGE(repo.ok(), repo.error().message);
  CHECK(repo->packages().size() == 5);
  CHECK(repo->versions("kafka") == std::vector<std::string>{"3.7.0", "3.6.0"});
  CHECK((*repo->find("kafka", "3.7.0"))->marathonTemplate == R"({"id": "kafka"})");
  CHECK((*repo->find("kafka", "3.6.0"))->marathonTemplate.empty());

  index["packages"].push_back(index["packages"][0]);
  index["packages"][1]["tags"] = "message-queue";
  CHECK(problemPaths(Repository::fromIndex("b", "u", index)) ==
        std::set<std::string>{"#/packages/1/tags", "#/packages/5"});
  CHECK(problemPaths(Repository::fromIndex("b", "u", Json::array())) == std::set<std::string>{"#/packages"});
  CHECK(problemPaths(Repository::fromIndex("b", "u", {{"packages", {{"k", 1}}}})) ==
        std::set<std::string>{"#/packages"});
}

TEST_CASE("load reads a file:// directory tree and a file:// index") {
  test::TempDir dir;
  writeTree(dir.file("tree"), tree());
  auto fromDir = Repository::load("dir", "file://" + dir.file("tree"));
  REQUIRE_MESSAGE(fromDir.ok(), fromDir.error().message);
  CHECK(fromDir->versions("kafka") == std::vector<std::string>{"3.7.0", "3.6.0"});
  CHECK((*fromDir->find("kafka", "3.7.0"))->marathonTemplate == R"({"id": "kafka"})");

  test::writeFile(dir.file("index.json"), indexOf(*fromDir).dump());
  auto fromFile = Repository::load("idx", "file://" + dir.file("index.json"));
  REQUIRE_MESSAGE(fromFile.ok(), fromFile.error().message);
  CHECK(fromFile->name() == "idx");
  CHECK(names(fromFile->search("")) == std::vector<std::string>{"kafka", "redis", "spark"});
  CHECK((*fromFile->find("kafka"))->marathonTemplate == R"({"id": "kafka"})");
}

TEST_CASE("load names the repository and URI when a file:// repository is missing or malformed") {
  test::TempDir dir;
  auto missing = Repository::load("gone", "file://" + dir.file("nothing.json"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().message.rfind("repository 'gone' (file://" + dir.file("nothing.json") + "): ", 0) == 0);

  test::writeFile(dir.file("bad.json"), "{\"packages\": [");
  auto bad = Repository::load("bad", "file://" + dir.file("bad.json"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
  CHECK(bad.error().message.find("repository 'bad' (file://") == 0);
  CHECK(bad.error().message.find("not valid JSON") != std::string::npos);

  auto noPackages = Repository::load("empty", "file://" + dir.path());
  REQUIRE_FALSE(noPackages.ok());
  CHECK(noPackages.error().message.find("repository 'empty'") == 0);

  auto relative = Repository::load("rel", "file://relative/index.json");
  REQUIRE_FALSE(relative.ok());
  CHECK(relative.error().code == ErrorCode::kInvalidArgument);
  auto scheme = Repository::load("ftp", "ftp://example.com/repo");
  REQUIRE_FALSE(scheme.ok());
  CHECK(scheme.error().code == ErrorCode::kInvalidArgument);
  CHECK(scheme.error().message.find("repository 'ftp' (ftp://example.com/repo): unsupported URI") == 0);
}

TEST_CASE("load fetches an index over HTTP asking for Universe's media types") {
  auto source = Repository::fromTree("a", "file:///x", tree());
  REQUIRE(source.ok());
  const std::string body = indexOf(*source).dump();
  std::mutex mu;
  std::string accept;
  test::LocalServer server;
  server.router.route("GET", "/repo", [&](const http::Request& r) {
    std::lock_guard lock(mu);
    accept = r.header("Accept");
    return http::Response::text(200, body, "application/vnd.dcos.universe.repo+json;charset=utf-8;version=v4");
  });
  server.router.route("GET", "/garbage", [](const http::Request&) { return http::Response::text(200, "<html>"); });
  server.start();

  auto repo = Repository::load("remote", server.url("/repo"));
  REQUIRE_MESSAGE(repo.ok(), repo.error().message);
  CHECK(repo->uri() == server.url("/repo"));
  CHECK(repo->versions("kafka") == std::vector<std::string>{"3.7.0", "3.6.0"});
  {
    std::lock_guard lock(mu);
    CHECK(accept.find("application/vnd.dcos.universe.repo+json;charset=utf-8;version=v4") != std::string::npos);
  }

  auto notFound = Repository::load("remote", server.url("/nope"));
  REQUIRE_FALSE(notFound.ok());
  CHECK(notFound.error().code == ErrorCode::kUnavailable);
  CHECK(notFound.error().message == "repository 'remote' (" + server.url("/nope") + "): the server answered HTTP 404");

  auto garbage = Repository::load("junk", server.url("/garbage"));
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().code == ErrorCode::kInvalidArgument);
  CHECK(garbage.error().message.find("repository 'junk' (" + server.url("/garbage") + "): the index is not valid JSON") == 0);
}

TEST_CASE("an unreachable repository is an error naming it") {
  const std::string uri = "http://127.0.0.1:" + std::to_string(test::unusedPort()) + "/repo";
  auto repo = Repository::load("offline", uri);
  REQUIRE_FALSE(repo.ok());
  CHECK(repo.error().code == ErrorCode::kUnavailable);
  CHECK(repo.error().message.find("repository 'offline' (" + uri + "): ") == 0);
}

TEST_CASE("the built-in catalog is compiled in and every package in it is valid") {
  const auto& files = builtinCatalogFiles();
  // The catalog's source, when the tests know where it is: what is compiled in must match it.
  if (const char* testsDir = std::getenv("DCOS_TESTS_DIR")) {
    const std::filesystem::path catalog = std::filesystem::path(testsDir) / ".." / "universe" / "catalog";
    std::set<std::string> onDisk, embedded;
    if (std::filesystem::exists(catalog)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(catalog)) {
        auto rel = std::filesystem::relative(e.path(), catalog).generic_string();
        if (e.is_regular_file() && rel.find("/.") == std::string::npos && rel[0] != '.') onDisk.insert(rel);
      }
    }
    for (const auto& [path, _] : files) embedded.insert(path);
    CHECK(embedded == onDisk);
  }
  REQUIRE_FALSE(files.empty());
  for (const char* name : {"redis", "nginx", "zookeeper", "hello-world", "spark", "kafka", "cassandra", "hdfs"}) {
    const std::string dir = std::string("packages/") + static_cast<char>(std::toupper(name[0])) + "/" + name + "/0/";
    CHECK_MESSAGE(files.count(dir + "package.json") == 1, name);
  }
  auto repo = builtinRepository();
  REQUIRE_MESSAGE(repo.ok(), repo.error().message);
  CHECK(repo->name() == "Universe (built-in)");
  CHECK(repo->uri() == "builtin:");
  CHECK(repo->search("").size() >= 8);
  for (const auto* p : repo->search("")) CHECK_MESSAGE(!p->marathonTemplate.empty(), p->name);

  auto viaLoad = Repository::load("local copy", "builtin:");
  REQUIRE(viaLoad.ok());
  CHECK(viaLoad->name() == "local copy");
  CHECK(viaLoad->packages().size() == repo->packages().size());
}
