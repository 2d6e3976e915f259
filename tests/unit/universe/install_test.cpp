// The pure install pipeline: options → rendered app or group with its id and DC/OS labels, and
// back from Marathon's apps to the installed packages.
#include "universe/install.hpp"

#include "marathon_like/app.hpp"
#include "marathon_like/group.hpp"

#include <doctest/doctest.h>

using namespace dcos;
using namespace dcos::universe;

namespace {

PackageDefinition makePackage(const std::string& tmpl, const Json& config) {
  std::map<std::string, std::string> files = {
      {"package.json", Json{{"packagingVersion", "4.0"}, {"name", "demo"}, {"version", "1.2.3"},
                            {"maintainer", "dev@example.com"}, {"description", "A demo"}, {"tags", {"demo"}},
                            {"framework", false}}.dump()},
      {"config.json", config.dump()},
      {"marathon.json.mustache", tmpl}};
  auto p = parsePackageFiles(files, 7);
  if (!p.ok()) FAIL(p.error().message);
  return *p;
}

const Json kConfig = Json::parse(R"({
  "type": "object",
  "properties": {
    "service": {"type": "object", "properties": {
      "name": {"type": "string", "default": "demo"},
      "instances": {"type": "integer", "default": 1, "minimum": 0}}}}
})");

std::string labelOf(const Json& app, const char* label) { return app["labels"].value(label, ""); }

}  // namespace

TEST_CASE("install: an app gets its id and the DC/OS labels, and the scheduler accepts it") {
  auto p = makePackage(R"({"id": "{{service.name}}", "cmd": "sleep 60", "instances": {{service.instances}}})", kConfig);
  auto prepared = prepareInstall(p, Json{{"service", {{"instances", 2}}}}, "");
  REQUIRE(prepared.ok());
  CHECK_FALSE(prepared->group);
  CHECK(prepared->id == "/demo");
  const Json& app = prepared->marathonJson;
  CHECK(app["instances"] == 2);
  CHECK(labelOf(app, kLabelPackageName) == "demo");
  CHECK(labelOf(app, kLabelPackageVersion) == "1.2.3");
  CHECK(labelOf(app, kLabelPackageRelease) == "7");
  CHECK(labelOf(app, kLabelServiceName) == "demo");
  auto options = Json::parse(base64Decode(labelOf(app, kLabelPackageOptions)).value());
  CHECK(options["service"]["instances"] == 2);
  CHECK(options["service"]["name"] == "demo");  // the resolved options, defaults included
  auto metadata = Json::parse(base64Decode(labelOf(app, kLabelPackageMetadata)).value());
  CHECK(metadata["name"] == "demo");
  CHECK(marathon::parseApp(app).ok());

  // An app id replaces the rendered one.
  auto renamed = prepareInstall(p, nullptr, "team/demo-2");
  REQUIRE(renamed.ok());
  CHECK(renamed->id == "/team/demo-2");
  CHECK(renamed->marathonJson["id"] == "/team/demo-2");
}

TEST_CASE("install: options that do not match the schema are refused with their paths") {
  auto p = makePackage(R"({"id": "{{service.name}}", "cmd": "sleep 60", "instances": {{service.instances}}})", kConfig);
  auto refused = prepareInstall(p, Json{{"service", {{"instances", -1}}}}, "");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kUnprocessable);
  REQUIRE_FALSE(refused.error().details.empty());
  CHECK(refused.error().details[0].path == "/service/instances");
}

TEST_CASE("install: a group install is rebased under the app id and labels every app; installs read back") {
  auto p = makePackage(R"({"id": "{{service.name}}", "apps": [
      {"id": "db", "cmd": "sleep 60"},
      {"id": "web", "cmd": "sleep 60", "dependencies": ["db"]}]})", kConfig);
  auto prepared = prepareInstall(p, nullptr, "/shop");
  REQUIRE(prepared.ok());
  CHECK(prepared->group);
  CHECK(prepared->id == "/shop");
  auto group = marathon::parseGroup(prepared->marathonJson);
  REQUIRE_MESSAGE(group.ok(), prepared->marathonJson.dump());
  auto apps = marathon::flattenApps(*group);
  REQUIRE(apps.size() == 2);
  CHECK(apps.count("/shop/db"));
  CHECK(apps.at("/shop/web").dependencies == std::vector<std::string>{"/shop/db"});

  // Marathon's view of those apps (plus one that is not a package) reads back as one install.
  Json listed = Json::array();
  for (const auto& [id, app] : apps) {
    Json j = marathon::appToJson(app);
    listed.push_back(j);
  }
  listed.push_back({{"id", "/other"}, {"labels", Json::object()}});
  auto installs = installedPackages(listed);
  REQUIRE(installs.size() == 1);
  CHECK(installs[0].appId == "/shop");
  CHECK(installs[0].group);
  CHECK(installs[0].packageName == "demo");
  CHECK(installs[0].packageVersion == "1.2.3");
  CHECK(installs[0].metadata["name"] == "demo");
}
