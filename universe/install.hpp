#pragma once
// The pure half of a package install: from a package release and the user's options to the
// Marathon app or group to create (options resolved against config.json, template rendered, id
// set, DC/OS labels added), and back from Marathon's apps to the installed packages. No I/O.

#include "common/json.hpp"
#include "common/result.hpp"
#include "universe/package.hpp"

#include <string>
#include <vector>

namespace dcos::universe {

// The labels Cosmos puts on every app it installs, which `package list` and `uninstall` read.
inline constexpr const char* kLabelPackageName = "DCOS_PACKAGE_NAME";
inline constexpr const char* kLabelPackageVersion = "DCOS_PACKAGE_VERSION";
inline constexpr const char* kLabelPackageRelease = "DCOS_PACKAGE_RELEASE";
inline constexpr const char* kLabelPackageMetadata = "DCOS_PACKAGE_METADATA";  // base64 JSON
inline constexpr const char* kLabelPackageOptions = "DCOS_PACKAGE_OPTIONS";    // base64 JSON
inline constexpr const char* kLabelServiceName = "DCOS_SERVICE_NAME";
inline constexpr const char* kLabelFrameworkName = "DCOS_PACKAGE_FRAMEWORK_NAME";
inline constexpr const char* kLabelIsFramework = "DCOS_PACKAGE_IS_FRAMEWORK";
// Ours: on every app of a package installed as a Marathon group, the group's id, so list and
// uninstall treat the group as one install.
inline constexpr const char* kLabelPackageGroup = "DCOS_PACKAGE_GROUP";

struct PreparedInstall {
  Json marathonJson;   // the app or group, with its id and labels
  bool group = false;  // POST to /v2/groups rather than /v2/apps
  std::string id;      // the app's or group's absolute id ("/hello-world")
  Json options;        // the resolved options
};

// "/" + id without leading or trailing slashes ("a/b/" -> "/a/b"); "" stays "".
std::string absoluteId(const std::string& id);

// The package metadata Cosmos stores in DCOS_PACKAGE_METADATA: package.json's keys with
// framework, selected and images (when any).
Json packageMetadata(const PackageDefinition& p);

// Resolves `userOptions` (null = none) against p.config, renders p's template and prepares it.
// `appId` ("" = keep the rendered id, else the package name) replaces the app's id or the
// group's top id. Errors: a package without a template is kInvalidArgument; options that do not
// match the schema are resolveOptions' error (kUnprocessable, one detail per path); a template
// that renders to no JSON object is kUnprocessable "rendered template ...".
Result<PreparedInstall> prepareInstall(const PackageDefinition& p, const Json& userOptions,
                                       const std::string& appId);

struct InstalledPackage {
  std::string appId;  // the app's id, or the group's for a group install
  std::string packageName, packageVersion;
  bool group = false;
  Json metadata;  // decoded DCOS_PACKAGE_METADATA, or null
};

// The installs among Marathon's apps (the "apps" array of GET /v2/apps): apps with a
// DCOS_PACKAGE_NAME label, one entry per app, or per group for group installs; ordered by id.
std::vector<InstalledPackage> installedPackages(const Json& apps);

}  // namespace dcos::universe
