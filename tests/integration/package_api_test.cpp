// The package manager's Cosmos-style API (/package/*) on a real `dcos dev` cluster: the built-in
// catalog searched, described and rendered; hello-world installed with changed options, running
// healthy and serving its greeting; installs told apart by appId; list and uninstall from the
// apps' DC/OS labels; a Universe index served over HTTP added as a repository, kept across
// restarts, and never hiding the built-in catalog when it becomes unreachable.
#include "tests/support/local_server.hpp"
#include "tests/support/marathon.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

using namespace dcos::test;
using nlohmann::json;

namespace {

std::unique_ptr<MasterProcess> startDev(const TempDir& dir, int port = 0) { return startDevCluster(dir, {}, port); }

// Stops a dev cluster the way Ctrl-C does, so a restart finds its state closed cleanly.
void stopDev(std::unique_ptr<MasterProcess>& dev) {
  dev->process().signal(SIGTERM);
  int code = dev->process().wait(20s);
  CHECK_MESSAGE(code == 0, "exit ", code, ":\n", dev->process().stderrText().substr(0, 20000));
  dev.reset();
}

JsonReply pkg(int port, const std::string& op, const json& body) { return mPost(port, "/package/" + op, body); }

std::string base64(const std::string& in) {
  static const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += chars[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += chars[(v >> 18) & 63];
    out += chars[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += chars[(v >> 18) & 63];
    out += chars[(v >> 12) & 63];
    out += chars[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// A Universe repository index with one package, "sleepy", whose app sleeps.
json sleepyIndex() {
  std::string tmpl = R"({"id": "{{service.name}}", "cmd": "sleep {{seconds}}", "cpus": 0.1, "mem": 32, "instances": 1})";
  json config = {{"type", "object"},
                 {"properties",
                  {{"service", {{"type", "object"}, {"properties", {{"name", {{"type", "string"}, {"default", "sleepy"}}}}}}},
                   {"seconds", {{"type", "integer"}, {"default", 1000}, {"minimum", 1}}}}}};
  json entry = {{"packagingVersion", "4.0"}, {"name", "sleepy"}, {"version", "2.0.1"}, {"releaseVersion", 3},
                {"maintainer", "tests <t@localhost>"}, {"description", "A sleeper served by the test"},
                {"tags", {"test", "sleep"}}, {"framework", false}, {"selected", false},
                {"postInstallNotes", "sleepy sleeps"}, {"config", config},
                {"marathon", {{"v2AppMustacheTemplate", base64(tmpl)}}}};
  // A package installed as a Marathon group of two apps.
  std::string groupTmpl = R"({"id": "{{service.name}}", "apps": [)"
                          R"({"id": "one", "cmd": "sleep 1000", "cpus": 0.1, "mem": 32, "instances": 1},)"
                          R"({"id": "two", "cmd": "sleep 1000", "cpus": 0.1, "mem": 32, "instances": 1}]})";
  json groupConfig = {{"type", "object"},
                      {"properties", {{"service", {{"type", "object"}, {"properties", {{"name", {{"type", "string"}, {"default", "pair"}}}}}}}}}};
  json group = {{"packagingVersion", "3.0"}, {"name", "sleepy-pair"}, {"version", "1.0"}, {"releaseVersion", 0},
                {"maintainer", "tests <t@localhost>"}, {"description", "Two sleepers in a group"},
                {"tags", {"test"}}, {"config", groupConfig}, {"postUninstallNotes", "the pair is gone"},
                {"marathon", {{"v2AppMustacheTemplate", base64(groupTmpl)}}}};
  return {{"packages", {entry, group}}};
}

std::set<std::string> names(const json& searchReply) {
  std::set<std::string> out;
  for (const auto& p : searchReply.value("packages", json::array())) out.insert(p.value("name", ""));
  return out;
}

}  // namespace

TEST_CASE("package search, describe, list-versions and render over the built-in catalog") {
  TempDir dir;
  auto dev = startDev(dir);
  int port = dev->port();

  auto all = pkg(port, "search", json::object());
  REQUIRE_MESSAGE(all.status == 200, all.text());
  for (const char* name : {"kafka", "spark", "redis", "hello-world", "cassandra", "hdfs"}) {
    CHECK_MESSAGE(names(all.json).count(name) == 1, name);
  }
  auto redis = pkg(port, "search", {{"query", "redis"}});
  CHECK(names(redis.json) == std::set<std::string>{"redis"});

  // Cosmos' media types in and out.
  auto vendor = toJsonReply(httpRequest(port, "POST", "/package/search", R"({"query": "kafka"})",
                                        {{"Content-Type", "application/vnd.dcos.package.search-request+json;charset=utf-8;version=v1"},
                                         {"Accept", "application/vnd.dcos.package.search-response+json;charset=utf-8;version=v1"}}));
  CHECK(vendor.status == 200);
  CHECK(vendor.headers["content-type"] == "application/vnd.dcos.package.search-response+json;charset=utf-8;version=v1");
  CHECK(names(vendor.json).count("kafka") == 1);
  auto badType = toJsonReply(httpRequest(port, "POST", "/package/search", "{}", {{"Content-Type", "text/plain"}}));
  CHECK(badType.status == 415);

  auto describe = pkg(port, "describe", {{"packageName", "hello-world"}});
  REQUIRE_MESSAGE(describe.status == 200, describe.text());
  CHECK(describe.json["package"]["name"] == "hello-world");
  CHECK(describe.json["package"]["config"]["properties"].contains("greeting"));
  CHECK(describe.json["package"]["marathon"].contains("v2AppMustacheTemplate"));
  auto missing = pkg(port, "describe", {{"packageName", "no-such-package"}});
  CHECK(missing.status == 400);
  CHECK(missing.json["type"] == "PackageNotFound");
  auto badVersion = pkg(port, "describe", {{"packageName", "hello-world"}, {"packageVersion", "9.9.9"}});
  CHECK(badVersion.json["type"] == "VersionNotFound");
  auto noName = pkg(port, "describe", json::object());
  CHECK(noName.status == 400);
  CHECK(noName.json["type"] == "MalformedRequest");

  auto versions = pkg(port, "list-versions", {{"packageName", "hello-world"}, {"includePackageVersions", true}});
  REQUIRE_MESSAGE(versions.status == 200, versions.text());
  CHECK(versions.json["results"] == json{{"1.0.0", "0"}});

  auto defaults = pkg(port, "render", {{"packageName", "hello-world"}});
  REQUIRE_MESSAGE(defaults.status == 200, defaults.text());
  json app = defaults.json["marathonJson"];
  CHECK(app["id"] == "/hello-world");
  CHECK(app["env"]["GREETING"] == "Hello from DC/OS!");
  CHECK(app["labels"]["DCOS_PACKAGE_NAME"] == "hello-world");
  CHECK(app["labels"]["DCOS_PACKAGE_VERSION"] == "1.0.0");
  CHECK(app["labels"]["DCOS_SERVICE_NAME"] == "hello-world");
  CHECK(app["labels"].contains("DCOS_PACKAGE_METADATA"));
  CHECK(app["labels"].contains("DCOS_PACKAGE_OPTIONS"));

  auto custom = pkg(port, "render", {{"packageName", "hello-world"}, {"appId", "/team/hi"},
                                     {"options", {{"greeting", "Hi \"there\""}, {"service", {{"instances", 2}}}}}});
  REQUIRE_MESSAGE(custom.status == 200, custom.text());
  CHECK(custom.json["marathonJson"]["id"] == "/team/hi");
  CHECK(custom.json["marathonJson"]["env"]["GREETING"] == "Hi \"there\"");
  CHECK(custom.json["marathonJson"]["instances"] == 2);

  auto bad = pkg(port, "render", {{"packageName", "hello-world"}, {"options", {{"service", {{"instances", -1}}}, {"color", "red"}}}});
  CHECK(bad.status == 400);
  CHECK(bad.json["type"] == "JsonSchemaMismatch");
  std::set<std::string> paths;
  for (const auto& d : bad.json["details"]) paths.insert(d.value("path", ""));
  CHECK_MESSAGE(paths.count("/service/instances") == 1, bad.text());
  CHECK_MESSAGE(paths.count("/") == 1, bad.text());  // the additional property "color"
}

TEST_CASE("package install runs hello-world healthy with its greeting; installs need distinct app ids; list and uninstall") {
  TempDir dir;
  auto dev = startDev(dir);
  int port = dev->port();

  auto bad = pkg(port, "install", {{"packageName", "hello-world"}, {"options", {{"greeting", ""}}}});
  CHECK(bad.status == 400);
  CHECK(bad.json["type"] == "JsonSchemaMismatch");
  CHECK(mGet(port, "/v2/apps/hello-world").status == 404);  // nothing installed

  auto install = pkg(port, "install", {{"packageName", "hello-world"}, {"options", {{"greeting", "Howdy from the package test"}}}});
  REQUIRE_MESSAGE(install.status == 200, install.text());
  CHECK(install.json["packageName"] == "hello-world");
  CHECK(install.json["packageVersion"] == "1.0.0");
  CHECK(install.json["appId"] == "/hello-world");
  CHECK(install.json.contains("postInstallNotes"));

  REQUIRE_MESSAGE(waitForHealthy(port, "/hello-world", 1, 60s), appTasks(port, "/hello-world").dump());
  auto app = mGet(port, "/v2/apps/hello-world");
  REQUIRE(app.status == 200);
  CHECK(app.json["app"]["labels"]["DCOS_PACKAGE_NAME"] == "hello-world");
  auto tasks = appTasks(port, "/hello-world");
  REQUIRE(tasks.size() == 1);
  int taskPort = tasks[0]["ports"][0];
  auto page = httpRequest(taskPort, "GET", "/");
  CHECK(page.status == 200);
  CHECK_MESSAGE(page.body.find("Howdy from the package test") != std::string::npos, page.body);

  auto again = pkg(port, "install", {{"packageName", "hello-world"}});
  CHECK(again.status == 409);
  CHECK(again.json["type"] == "PackageAlreadyInstalled");
  auto second = pkg(port, "install", {{"packageName", "hello-world"}, {"appId", "hello-two"}});
  REQUIRE_MESSAGE(second.status == 200, second.text());
  CHECK(second.json["appId"] == "/hello-two");

  // The service scheduler validates what was rendered; its field paths come back.
  auto refused = pkg(port, "install", {{"packageName", "hello-world"}, {"appId", "Not_A_Valid_Id!"}});
  CHECK(refused.status == 400);
  CHECK_MESSAGE(refused.json["type"] == "MarathonBadResponse", refused.text());
  CHECK_MESSAGE(refused.json["details"].size() >= 1, refused.text());

  auto list = pkg(port, "list", json::object());
  REQUIRE_MESSAGE(list.status == 200, list.text());
  std::set<std::string> ids;
  for (const auto& p : list.json["packages"]) {
    ids.insert(p.value("appId", ""));
    CHECK(p["packageInformation"]["packageDefinition"]["name"] == "hello-world");
  }
  CHECK(ids == std::set<std::string>{"/hello-world", "/hello-two"});
  CHECK(pkg(port, "list", {{"appId", "/hello-two"}}).json["packages"].size() == 1);
  CHECK(pkg(port, "list", {{"packageName", "redis"}}).json["packages"].empty());

  auto ambiguous = pkg(port, "uninstall", {{"packageName", "hello-world"}});
  CHECK(ambiguous.status == 400);
  CHECK(ambiguous.json["type"] == "AmbiguousAppId");
  auto removed = pkg(port, "uninstall", {{"packageName", "hello-world"}, {"appId", "hello-two"}});
  REQUIRE_MESSAGE(removed.status == 200, removed.text());
  REQUIRE(removed.json["results"].size() == 1);
  CHECK(removed.json["results"][0]["appId"] == "/hello-two");
  CHECK(removed.json["results"][0].contains("postUninstallNotes"));
  CHECK(waitFor([&] { return mGet(port, "/v2/apps/hello-two").status == 404; }, 20s));
  CHECK(mGet(port, "/v2/apps/hello-world").status == 200);
  auto after = pkg(port, "list", json::object());
  REQUIRE(after.json["packages"].size() == 1);
  CHECK(after.json["packages"][0]["appId"] == "/hello-world");
  auto notInstalled = pkg(port, "uninstall", {{"packageName", "redis"}});
  CHECK(notInstalled.json["type"] == "PackageNotInstalled");
}

TEST_CASE("a Universe index served over HTTP as a repository: search, describe, install; kept across restarts; "
          "the built-in catalog survives it going away") {
  TempDir dir;
  auto repoServer = std::make_unique<LocalServer>();
  json index = sleepyIndex();
  repoServer->router.route("GET", "/repo.json", [index](const dcos::http::Request&) {
    return dcos::http::Response::json(200, index);
  });
  // A repository with its own hello-world, to show the first match wins.
  json shadow = {{"packages", {{{"packagingVersion", "4.0"}, {"name", "hello-world"}, {"version", "9.0"},
                                {"releaseVersion", 0}, {"maintainer", "tests"}, {"description", "a newer one"},
                                {"tags", json::array()},
                                {"marathon", {{"v2AppMustacheTemplate", base64(R"({"id": "hw9", "cmd": "sleep 9"})")}}}}}}};
  repoServer->router.route("GET", "/shadow.json", [shadow](const dcos::http::Request&) {
    return dcos::http::Response::json(200, shadow);
  });
  repoServer->start();
  std::string uri = repoServer->url("/repo.json");

  auto dev = startDev(dir);
  int port = dev->port();

  auto initial = pkg(port, "repository/list", json::object());
  REQUIRE(initial.status == 200);
  REQUIRE(initial.json["repositories"].size() == 1);
  CHECK(initial.json["repositories"][0]["uri"] == "builtin:");

  // Refused, naming the repository, and nothing saved.
  std::string deadUri = "http://127.0.0.1:" + std::to_string(unusedPort()) + "/repo.json";
  auto unreachable = pkg(port, "repository/add", {{"name", "dead"}, {"uri", deadUri}});
  CHECK(unreachable.status == 400);
  CHECK_MESSAGE(unreachable.json.value("message", "").find("dead") != std::string::npos, unreachable.text());
  auto syntax = pkg(port, "repository/add", {{"name", "odd"}, {"uri", "gopher://x"}});
  CHECK(syntax.status == 400);
  CHECK(syntax.json["type"] == "RepositoryUriSyntax");
  CHECK_MESSAGE(syntax.json.value("message", "").find("gopher://x") != std::string::npos, syntax.text());
  auto notFound = pkg(port, "repository/add", {{"name", "missing"}, {"uri", repoServer->url("/nothing.json")}});
  CHECK(notFound.status == 400);
  CHECK(pkg(port, "repository/list", json::object()).json["repositories"].size() == 1);

  auto added = pkg(port, "repository/add", {{"name", "test-repo"}, {"uri", uri}});
  REQUIRE_MESSAGE(added.status == 200, added.text());
  REQUIRE(added.json["repositories"].size() == 2);
  CHECK(added.json["repositories"][1] == json{{"name", "test-repo"}, {"uri", uri}});
  CHECK(pkg(port, "repository/add", {{"name", "test-repo"}, {"uri", uri}}).json["type"] == "RepositoryAlreadyPresent");
  CHECK(pkg(port, "repository/delete", {{"name", "Universe (built-in)"}}).status == 400);
  CHECK(pkg(port, "repository/delete", {{"name", "nope"}}).json["type"] == "RepositoryNotPresent");

  // Placed first, its hello-world wins; placed last (or gone), the built-in one is back.
  auto first = pkg(port, "repository/add", {{"name", "shadow"}, {"uri", repoServer->url("/shadow.json")}, {"index", 0}});
  REQUIRE_MESSAGE(first.status == 200, first.text());
  CHECK(first.json["repositories"][0]["name"] == "shadow");
  CHECK(pkg(port, "describe", {{"packageName", "hello-world"}}).json["package"]["version"] == "9.0");
  CHECK(pkg(port, "describe", {{"packageName", "hello-world"}, {"packageVersion", "1.0.0"}}).status == 200);
  CHECK(pkg(port, "repository/add", {{"name", "far"}, {"uri", repoServer->url("/other.json")}, {"index", 7}}).json["type"] ==
        "RepositoryAddIndexOutOfBounds");
  REQUIRE(pkg(port, "repository/delete", {{"uri", repoServer->url("/shadow.json")}}).status == 200);
  CHECK(pkg(port, "describe", {{"packageName", "hello-world"}}).json["package"]["version"] == "1.0.0");

  CHECK(names(pkg(port, "search", {{"query", "sleep"}}).json) == std::set<std::string>{"sleepy", "sleepy-pair"});
  CHECK(names(pkg(port, "search", json::object()).json).count("hello-world") == 1);
  auto describe = pkg(port, "describe", {{"packageName", "sleepy"}});
  REQUIRE_MESSAGE(describe.status == 200, describe.text());
  CHECK(describe.json["package"]["version"] == "2.0.1");
  CHECK(pkg(port, "list-versions", {{"packageName", "sleepy"}}).json["results"] == json{{"2.0.1", "3"}});
  auto install = pkg(port, "install", {{"packageName", "sleepy"}, {"options", {{"seconds", 500}}}});
  REQUIRE_MESSAGE(install.status == 200, install.text());
  CHECK(install.json["appId"] == "/sleepy");
  CHECK(install.json["postInstallNotes"] == "sleepy sleeps");
  CHECK_MESSAGE(waitForRunning(port, "/sleepy", 1, 30s), appTasks(port, "/sleepy").dump());
  auto app = mGet(port, "/v2/apps/sleepy");
  CHECK(app.json["app"]["cmd"] == "sleep 500");
  CHECK(app.json["app"]["labels"]["DCOS_PACKAGE_RELEASE"] == "3");

  // A group install is one install: labels on each app, listed and uninstalled by the group's id.
  auto pair = pkg(port, "install", {{"packageName", "sleepy-pair"}, {"appId", "/pairs/a"}});
  REQUIRE_MESSAGE(pair.status == 200, pair.text());
  CHECK(pair.json["appId"] == "/pairs/a");
  CHECK_MESSAGE(waitForRunning(port, "/pairs/a/one", 1, 30s), appTasks(port, "/pairs/a/one").dump());
  CHECK(mGet(port, "/v2/apps/pairs/a/two").json["app"]["labels"]["DCOS_PACKAGE_NAME"] == "sleepy-pair");
  auto pairs = pkg(port, "list", {{"packageName", "sleepy-pair"}});
  REQUIRE(pairs.json["packages"].size() == 1);
  CHECK(pairs.json["packages"][0]["appId"] == "/pairs/a");
  auto pairGone = pkg(port, "uninstall", {{"packageName", "sleepy-pair"}});
  REQUIRE_MESSAGE(pairGone.status == 200, pairGone.text());
  CHECK(pairGone.json["results"][0]["postUninstallNotes"] == "the pair is gone");
  CHECK(waitFor([&] { return mGet(port, "/v2/apps/pairs/a/one").status == 404 && mGet(port, "/v2/apps/pairs/a/two").status == 404; }, 20s));

  // Kept across a restart, loaded again from its URI.
  stopDev(dev);
  dev = startDev(dir, port);
  auto kept = pkg(port, "repository/list", json::object());
  REQUIRE(kept.json["repositories"].size() == 2);
  CHECK(kept.json["repositories"][1]["name"] == "test-repo");
  auto describeAgain = pkg(port, "describe", {{"packageName", "sleepy"}});
  CHECK_MESSAGE(describeAgain.status == 200, describeAgain.text());

  // Gone: the repository is skipped and the built-in catalog still answers.
  repoServer->stop();
  stopDev(dev);
  dev = startDev(dir, port);
  auto search = pkg(port, "search", json::object());
  REQUIRE_MESSAGE(search.status == 200, search.text());
  CHECK(names(search.json).count("hello-world") == 1);
  CHECK(names(search.json).count("sleepy") == 0);
  CHECK(pkg(port, "render", {{"packageName", "redis"}}).status == 200);
  CHECK(pkg(port, "describe", {{"packageName", "sleepy"}}).json["type"] == "PackageNotFound");
  CHECK(pkg(port, "repository/list", json::object()).json["repositories"].size() == 2);  // still configured
  CHECK(pkg(port, "list", json::object()).json["packages"].size() == 1);  // the install is still there

  auto deleted = pkg(port, "repository/delete", {{"name", "test-repo"}});
  REQUIRE_MESSAGE(deleted.status == 200, deleted.text());
  CHECK(deleted.json["repositories"].size() == 1);
}
