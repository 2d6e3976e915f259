#include "universe/package.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>

using namespace dcos;
using namespace std::string_literals;
using dcos::universe::base64Decode;
using dcos::universe::base64Encode;
using dcos::universe::describeJson;
using dcos::universe::PackageDefinition;
using dcos::universe::parseIndexEntry;
using dcos::universe::parsePackageFiles;

namespace {

using Files = std::map<std::string, std::string>;

const char* const kPackageV3 = R"({
  "packagingVersion": "3.0", "name": "hello", "version": "1.2.3-beta.1",
  "maintainer": "ops@example.com", "description": "Says hello over HTTP",
  "tags": ["web", "demo"], "framework": false, "selected": true,
  "preInstallNotes": "Installing hello.", "postInstallNotes": "Hello is up.",
  "postUninstallNotes": "Hello is gone.", "website": "https://example.com",
  "licenses": [{"name": "Apache License Version 2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"}]
})";

const char* const kConfig = R"({"type": "object", "properties": {"service": {"type": "object",
  "properties": {"name": {"type": "string", "default": "hello"}, "port": {"type": "integer", "minimum": 1}}}}})";
const char* const kResource = R"({"assets": {"uris": {"hello-tgz": "https://example.com/hello.tgz"}},
  "images": {"icon-small": "https://example.com/s.png", "screenshots": ["https://example.com/1.png"]}})";
const char* const kTemplate = R"({"id": "{{service.name}}", "cmd": "serve --port {{service.port}}"})";

Files v3Files() {
  return {{"package.json", kPackageV3}, {"config.json", kConfig}, {"resource.json", kResource},
          {"marathon.json.mustache", kTemplate}, {"command.json", R"({"pip": ["hello-cli==1.0"]})"}};
}

// The problem paths of a refused package.
std::set<std::string> problemPaths(const Result<PackageDefinition>& result) {
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kInvalidArgument);
  CHECK(result.error().message.rfind("invalid package: ", 0) == 0);
  std::set<std::string> paths;
  for (const auto& d : result.error().details) paths.insert(d.path);
  return paths;
}

Files withPackageJson(const std::string& json) {
  Files files = v3Files();
  files["package.json"] = json;
  return files;
}

}  // namespace

TEST_CASE("a packagingVersion 3.0 package is read from its directory's files") {
  auto p = parsePackageFiles(v3Files(), 7);
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  CHECK(p->packagingVersion == "3.0");
  CHECK(p->name == "hello");
  CHECK(p->version == "1.2.3-beta.1");
  CHECK(p->releaseVersion == 7);
  CHECK(p->maintainer == "ops@example.com");
  CHECK(p->description == "Says hello over HTTP");
  CHECK(p->tags == std::vector<std::string>{"web", "demo"});
  CHECK(p->selected);
  CHECK_FALSE(p->framework);
  CHECK(p->preInstallNotes == "Installing hello.");
  CHECK(p->postInstallNotes == "Hello is up.");
  CHECK(p->postUninstallNotes == "Hello is gone.");
  CHECK(p->config == Json::parse(kConfig));
  CHECK(p->resource == Json::parse(kResource));
  CHECK(p->marathonTemplate == kTemplate);
  CHECK(p->command == Json::parse(R"({"pip": ["hello-cli==1.0"]})"));
  CHECK(p->packageJson["website"] == "https://example.com");
  CHECK(p->packageJson["licenses"].size() == 1);
  CHECK(p->images()["icon-small"] == "https://example.com/s.png");
}

TEST_CASE("only package.json is required; the rest default to empty") {
  auto p = parsePackageFiles({{"package.json", kPackageV3}}, 0);
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  CHECK(p->config == Json::object());
  CHECK(p->resource == Json::object());
  CHECK(p->marathonTemplate.empty());
  CHECK(p->command.is_null());
  CHECK(p->images().is_null());
}

TEST_CASE("a packagingVersion 4.0 package takes upgradesFrom and refuses command.json") {
  Json meta = Json::parse(kPackageV3);
  meta["packagingVersion"] = "4.0";
  meta["upgradesFrom"] = {"1.0.0", "*"};
  meta["downgradesTo"] = Json::array();
  Files files = v3Files();
  files.erase("command.json");
  files["package.json"] = meta.dump();
  auto p = parsePackageFiles(files, 1);
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  CHECK(p->packagingVersion == "4.0");
  CHECK(p->packageJson["upgradesFrom"] == Json({"1.0.0", "*"}));

  files["command.json"] = R"({"pip": ["x"]})";
  CHECK(problemPaths(parsePackageFiles(files, 1)) == std::set<std::string>{"command.json#/"});

  meta["packagingVersion"] = "3.0";
  CHECK(problemPaths(parsePackageFiles(withPackageJson(meta.dump()), 1)) ==
        std::set<std::string>{"package.json#/upgradesFrom", "package.json#/downgradesTo"});
}

TEST_CASE("every missing or invalid package.json field is named with its file and JSON path") {
  CHECK(problemPaths(parsePackageFiles(withPackageJson(R"({"packagingVersion": "3.0"})"), 0)) ==
        std::set<std::string>{"package.json#/name", "package.json#/version", "package.json#/maintainer",
                              "package.json#/description", "package.json#/tags"});
  auto bad = parsePackageFiles(withPackageJson(R"({
    "packagingVersion": "5.0", "name": "has space", "version": "1.0 final", "maintainer": 3,
    "description": "d", "tags": ["ok", "not ok", 7], "framework": "yes", "selected": null,
    "licenses": [{"name": "MIT"}], "releaseVersion": 2})"), 0);
  CHECK(problemPaths(bad) ==
        std::set<std::string>{"package.json#/packagingVersion", "package.json#/name", "package.json#/version",
                              "package.json#/maintainer", "package.json#/tags/1", "package.json#/tags/2",
                              "package.json#/framework", "package.json#/selected",
                              "package.json#/licenses/0/url", "package.json#/releaseVersion"});
  CHECK(bad.error().message.find("package.json#/tags/1: must be non-empty and contain no whitespace") != std::string::npos);
}

TEST_CASE("files that are not JSON, unknown files and a missing package.json are refused") {
  Files files = v3Files();
  files["resource.json"] = "{\"assets\": ";
  files["marathon.json"] = "{}";
  files.erase("package.json");
  CHECK(problemPaths(parsePackageFiles(files, 0)) ==
        std::set<std::string>{"package.json", "resource.json", "marathon.json"});
  CHECK(problemPaths(parsePackageFiles(withPackageJson("[1]"), 0)) == std::set<std::string>{"package.json#/"});
}

TEST_CASE("resource.json is checked where its shape matters") {
  Files files = v3Files();
  files["resource.json"] = R"({"assets": {"uris": {"a": 1}, "container": {"docker": {"img": true}}},
                               "images": {"icon-small": 5, "screenshots": "x"}, "cli": []})";
  CHECK(problemPaths(parsePackageFiles(files, 0)) ==
        std::set<std::string>{"resource.json#/assets/uris/a", "resource.json#/assets/container/docker/img",
                              "resource.json#/images/icon-small", "resource.json#/images/screenshots",
                              "resource.json#/cli"});
}

TEST_CASE("an invalid options schema in config.json is refused at its path") {
  Files files = v3Files();
  files["config.json"] = R"({"type": "object", "properties": {"port": {"type": "integer", "minimum": "one"},
                             "name": {"$ref": "#/definitions/name"}}})";
  auto paths = problemPaths(parsePackageFiles(files, 0));
  CHECK(paths == std::set<std::string>{"config.json#/properties/port/minimum", "config.json#/properties/name/$ref"});
  files["config.json"] = "[]";
  CHECK(problemPaths(parsePackageFiles(files, 0)) == std::set<std::string>{"config.json#/"});
}

TEST_CASE("a template with a syntax error is refused naming marathon.json.mustache") {
  Files files = v3Files();
  files["marathon.json.mustache"] = "{\"id\": \"{{#service}}{{name}}\"}";
  CHECK(problemPaths(parsePackageFiles(files, 0)) == std::set<std::string>{"marathon.json.mustache"});
}

TEST_CASE("base64 round-trips and refuses what is not canonical base64") {
  CHECK(base64Encode("") == "");
  CHECK(base64Encode("f") == "Zg==");
  CHECK(base64Encode("fo") == "Zm8=");
  CHECK(base64Encode("foo") == "Zm9v");
  CHECK(base64Encode("\xff\xfe\x00"s) == "//4A");
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) CHECK(*base64Decode(base64Encode(s)) == s);
  CHECK(*base64Decode("//4A") == "\xff\xfe\x00"s);
  for (const char* bad : {"Zg=", "Z===", "Zg==Zg==", "Zm9v\n", "Zm-v", "=Zg="}) {
    CHECK_MESSAGE(!base64Decode(bad).ok(), bad);
  }
}

TEST_CASE("an index entry carries releaseVersion, its parts inline and the template in base64") {
  Json entry = Json::parse(kPackageV3);
  entry["releaseVersion"] = 4;
  entry["config"] = Json::parse(kConfig);
  entry["resource"] = Json::parse(kResource);
  // base64 of {"id": "{{service.name}}"}
  entry["marathon"] = {{"v2AppMustacheTemplate", "eyJpZCI6ICJ7e3NlcnZpY2UubmFtZX19In0="}};
  auto p = parseIndexEntry(entry);
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  CHECK(p->releaseVersion == 4);
  CHECK(p->marathonTemplate == R"({"id": "{{service.name}}"})");
  CHECK(p->config == Json::parse(kConfig));
  CHECK_FALSE(p->packageJson.contains("marathon"));
  CHECK_FALSE(p->packageJson.contains("releaseVersion"));

  SUBCASE("describeJson gives the same entry back") {
    Json described = describeJson(*p);
    CHECK(described["marathon"]["v2AppMustacheTemplate"] == entry["marathon"]["v2AppMustacheTemplate"]);
    CHECK(described["releaseVersion"] == 4);
    CHECK(described["website"] == "https://example.com");
    auto again = parseIndexEntry(described);
    REQUIRE(again.ok());
    CHECK(describeJson(*again) == described);
  }
  SUBCASE("problems are at the entry's JSON paths") {
    entry.erase("releaseVersion");
    entry["marathon"]["v2AppMustacheTemplate"] = "not base64!";
    entry["config"]["properties"]["service"]["type"] = "thing";
    entry["name"] = 5;
    CHECK(problemPaths(parseIndexEntry(entry)) ==
          std::set<std::string>{"#/releaseVersion", "#/marathon/v2AppMustacheTemplate",
                                "#/config/properties/service/type", "#/name"});
    CHECK(problemPaths(parseIndexEntry(Json::array())) == std::set<std::string>{"#/"});
    entry = Json::parse(kPackageV3);
    entry["releaseVersion"] = -1;
    entry["marathon"] = {{"template", "e30="}};
    CHECK(problemPaths(parseIndexEntry(entry)) ==
          std::set<std::string>{"#/releaseVersion", "#/marathon/v2AppMustacheTemplate"});
  }
}
