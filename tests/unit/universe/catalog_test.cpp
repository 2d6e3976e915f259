// The built-in catalog (universe/catalog/packages/<L>/<name>/<rev>/), read from the source tree:
// every package's options schema is valid, and its template renders, with the defaults and with
// custom options, to an app or group the service scheduler accepts.
#include "marathon_like/app.hpp"
#include "marathon_like/group.hpp"
#include "universe/json_schema.hpp"
#include "universe/mustache.hpp"

#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace dcos;
using dcos::test::readFile;
using dcos::universe::checkSchema;
using dcos::universe::renderMarathonTemplate;
using dcos::universe::resolveOptions;

namespace fs = std::filesystem;

namespace {

const char* const kMirror = "http://mirror.example.test:8080/apache";

struct CatalogPackage {
  std::string dir;
  std::string letter, name, revision;
  Json package, config, resource;  // resource is null when the package has none
  std::string tmpl;
};

std::string catalogRoot() {
  const char* tests = std::getenv("DCOS_TESTS_DIR");
  REQUIRE_MESSAGE(tests != nullptr, "DCOS_TESTS_DIR must point at tests/");
  return std::string(tests) + "/../universe/catalog/packages";
}

Json readJson(const std::string& path) {
  auto parsed = parseJson(readFile(path));
  REQUIRE_MESSAGE(parsed.ok(), path << ": " << parsed.error().message);
  return *parsed;
}

std::vector<CatalogPackage> loadCatalog() {
  std::vector<CatalogPackage> out;
  for (const auto& letter : fs::directory_iterator(catalogRoot())) {
    for (const auto& name : fs::directory_iterator(letter.path())) {
      for (const auto& rev : fs::directory_iterator(name.path())) {
        CatalogPackage p;
        p.dir = rev.path().string();
        p.letter = letter.path().filename().string();
        p.name = name.path().filename().string();
        p.revision = rev.path().filename().string();
        p.package = readJson(p.dir + "/package.json");
        p.config = readJson(p.dir + "/config.json");
        if (fs::exists(p.dir + "/resource.json")) p.resource = readJson(p.dir + "/resource.json");
        p.tmpl = readFile(p.dir + "/marathon.json.mustache");
        out.push_back(std::move(p));
      }
    }
  }
  return out;
}

// The apps a rendered package asks for, by id, as the service scheduler parses them.
std::map<std::string, marathon::AppDefinition> acceptedApps(const Json& rendered) {
  if (rendered.contains("apps") || rendered.contains("groups")) {
    auto group = marathon::parseGroup(rendered);
    if (!group.ok()) {
      for (const auto& d : group.error().details) {
        for (const auto& e : d.errors) MESSAGE(d.path << ": " << e);
      }
    }
    REQUIRE_MESSAGE(group.ok(), "group refused: " << group.error().message);
    return marathon::flattenApps(*group);
  }
  auto app = marathon::parseApp(rendered);
  if (!app.ok()) {
    for (const auto& d : app.error().details) {
      for (const auto& e : d.errors) MESSAGE(d.path << ": " << e);
    }
  }
  REQUIRE_MESSAGE(app.ok(), "app refused: " << app.error().message);
  return {{app->id, *app}};
}

struct Rendered {
  Json options;
  std::map<std::string, marathon::AppDefinition> apps;
};

Rendered renderAccepted(const CatalogPackage& p, const Json& userOptions) {
  auto options = resolveOptions(p.config, userOptions);
  REQUIRE_MESSAGE(options.ok(), p.name << ": options refused: " << options.error().message);
  auto rendered = renderMarathonTemplate(p.tmpl, *options, p.resource);
  REQUIRE_MESSAGE(rendered.ok(), p.name << ": " << rendered.error().message);
  return {*options, acceptedApps(*rendered)};
}

// Per package: custom options changing counts and other values, and the instances expected of
// each app (by id relative to the service) under those options.
struct Custom {
  Json options;
  std::map<std::string, int64_t> instances;
};

std::map<std::string, Custom> customOptions() {
  return {
      {"hello-world", {Json::parse(R"({"service": {"instances": 3, "mem": 96},
                                        "greeting": "Hi \"there\"\n$(rm -rf /) {{x}} <b>"})"),
                       {{"", 3}}}},
      {"redis", {Json::parse(R"({"service": {"instances": 2},
                                  "redis": {"password": "p'a\"ss", "appendonly": true}})"),
                 {{"", 2}}}},
      {"nginx", {Json::parse(R"({"service": {"instances": 4}, "nginx": {"worker_processes": 2}})"),
                 {{"", 4}}}},
      {"zookeeper", {Json::parse(R"({"zookeeper": {"heap_mb": 512}, "java": {"java_home": "/opt/jre"}})"),
                     {{"", 1}}}},
      {"kafka", {Json::parse(R"({"brokers": {"count": 5, "port": 9092, "unique_hosts": true},
                                  "controller": {"hostname": "agent-1", "address": "10.0.0.1"}})"),
                 {{"/controller", 1}, {"/brokers", 5}}}},
      {"spark", {Json::parse(R"({"workers": {"count": 7}, "master": {"hostname": "agent-2"}})"),
                 {{"/master", 1}, {"/workers", 7}}}},
      {"cassandra", {Json::parse(R"({"nodes": {"count": 5, "seeds": "10.0.0.1,10.0.0.2"}})"),
                     {{"", 5}}}},
      {"hdfs", {Json::parse(R"({"journal_node": {"count": 5}, "data_node": {"count": 9},
                                 "name_node": {"hostname": "agent-3"}})"),
                {{"/journal", 5}, {"/name", 1}, {"/data", 9}}}},
  };
}

std::string serviceId(const Json& options) {
  return marathon::normalizeAppId(options["service"]["name"].get<std::string>(), "/");
}

void checkIdsAndLabels(const std::string& name, const Rendered& r) {
  const std::string root = serviceId(r.options);
  for (const auto& [id, app] : r.apps) {
    CAPTURE(id);
    CHECK((id == root || id.rfind(root + "/", 0) == 0));
    // The install pipeline adds the DC/OS package labels; templates must not.
    for (const auto& [key, value] : app.labels) CHECK_MESSAGE(key.rfind("DCOS_", 0) != 0, name << " sets " << key);
    CHECK_FALSE(app.needsDocker());
    CHECK((app.cmd.has_value() && !app.cmd->empty()));
    CHECK(app.healthChecks.size() == 1);
  }
}

std::vector<std::string> fetchUris(const Rendered& r) {
  std::vector<std::string> out;
  for (const auto& [id, app] : r.apps) {
    for (const auto& f : app.fetch) out.push_back(f.uri);
  }
  return out;
}

}  // namespace

TEST_CASE("catalog: the built-in packages are all there, laid out as a Universe directory") {
  auto catalog = loadCatalog();
  std::set<std::string> names;
  for (const auto& p : catalog) {
    CAPTURE(p.dir);
    names.insert(p.name);
    CHECK(p.letter == std::string(1, static_cast<char>(std::toupper(p.name[0]))));
    CHECK(p.revision == "0");
    CHECK(p.package["packagingVersion"] == "4.0");
    CHECK(p.package["name"] == p.name);
    CHECK(p.package["version"].is_string());
    CHECK(p.package["description"].is_string());
    CHECK(p.package["maintainer"].is_string());
    CHECK(p.package["tags"].is_array());
    CHECK(!p.package.value("preInstallNotes", std::string()).empty());
    CHECK(!p.package.value("postInstallNotes", std::string()).empty());
    CHECK(p.config["type"] == "object");
    CHECK(p.config["properties"]["service"]["properties"]["name"]["default"] == p.name);
  }
  CHECK(names == std::set<std::string>{"cassandra", "hdfs", "hello-world", "kafka", "nginx", "redis",
                                       "spark", "zookeeper"});
}

TEST_CASE("catalog: every package's config.json is a schema we can enforce") {
  for (const auto& p : loadCatalog()) {
    CAPTURE(p.name);
    auto checked = checkSchema(p.config);
    if (!checked.ok()) {
      for (const auto& d : checked.error().details) MESSAGE(d.path << ": " << d.errors.front());
    }
    CHECK(checked.ok());
  }
}

TEST_CASE("catalog: with default options every package renders to apps the scheduler accepts") {
  for (const auto& p : loadCatalog()) {
    CAPTURE(p.name);
    Rendered r = renderAccepted(p, Json::object());
    CHECK(serviceId(r.options) == "/" + p.name);
    checkIdsAndLabels(p.name, r);
    // Packages with artifacts fetch exactly the upstream URLs resource.json names.
    std::set<std::string> assets;
    if (p.resource.is_object()) {
      for (const auto& [key, uri] : p.resource["assets"]["uris"].items()) assets.insert(uri.get<std::string>());
    }
    std::set<std::string> fetched;
    for (const auto& uri : fetchUris(r)) fetched.insert(uri);
    CHECK(fetched == assets);
    if (r.options.contains("artifact_base_url")) {
      CHECK(r.options["artifact_base_url"] == "https://archive.apache.org/dist");
      CHECK_FALSE(assets.empty());
      for (const auto& uri : assets) CHECK(uri.rfind("https://archive.apache.org/dist/", 0) == 0);
    }
  }
}

TEST_CASE("catalog: custom options change ids, counts and fetch URIs and still render to accepted apps") {
  auto custom = customOptions();
  for (const auto& p : loadCatalog()) {
    CAPTURE(p.name);
    REQUIRE_MESSAGE(custom.count(p.name), "no custom options for " << p.name);
    Json options = custom[p.name].options;
    const std::string serviceName = "/dev/" + p.name + "-2";
    options["service"]["name"] = serviceName;
    const bool hasArtifacts = p.config["properties"].contains("artifact_base_url");
    if (hasArtifacts) options["artifact_base_url"] = kMirror;

    Rendered defaults = renderAccepted(p, Json::object());
    Rendered r = renderAccepted(p, options);
    checkIdsAndLabels(p.name, r);
    CHECK(serviceId(r.options) == serviceName);
    for (const auto& [suffix, count] : custom[p.name].instances) {
      CAPTURE(suffix);
      auto it = r.apps.find(serviceName + suffix);
      REQUIRE(it != r.apps.end());
      CHECK(it->second.instances == count);
    }
    CHECK(r.apps.size() == custom[p.name].instances.size());

    // The mirror replaces the upstream base and keeps the Apache archive's layout below it.
    auto before = fetchUris(defaults), after = fetchUris(r);
    REQUIRE(before.size() == after.size());
    for (size_t i = 0; i < after.size(); ++i) {
      CAPTURE(after[i]);
      CHECK(after[i].rfind(std::string(kMirror) + "/", 0) == 0);
      CHECK(after[i].substr(std::string(kMirror).size()) ==
            before[i].substr(std::string("https://archive.apache.org/dist").size()));
    }
    if (!hasArtifacts) CHECK(after.empty());
  }
}

TEST_CASE("catalog: user strings reach the apps as environment values, not as shell text") {
  for (const auto& p : loadCatalog()) {
    if (p.name != "hello-world" && p.name != "redis") continue;
    CAPTURE(p.name);
    Rendered r = renderAccepted(p, customOptions()[p.name].options);
    const auto& app = r.apps.begin()->second;
    if (p.name == "hello-world") {
      CHECK(app.env.at("GREETING") == "Hi \"there\"\n$(rm -rf /) {{x}} <b>");
      CHECK(app.cmd->find("rm -rf") == std::string::npos);
    } else {
      CHECK(app.env.at("REDIS_PASSWORD") == "p'a\"ss");
      CHECK(app.env.at("REDIS_APPENDONLY") == "yes");
    }
  }
}

TEST_CASE("catalog: options outside a package's schema are refused before rendering") {
  for (const auto& p : loadCatalog()) {
    CAPTURE(p.name);
    auto badName = resolveOptions(p.config, Json::parse(R"({"service": {"name": "Not A Valid/Id"}})"));
    CHECK_FALSE(badName.ok());
    auto unknown = resolveOptions(p.config, Json::parse(R"({"no_such_option": 1})"));
    CHECK_FALSE(unknown.ok());
    if (p.config["properties"].contains("artifact_base_url")) {
      auto trailingSlash = resolveOptions(p.config, Json::parse(R"({"artifact_base_url": "http://m/"})"));
      CHECK_FALSE(trailingSlash.ok());
    }
  }
}
