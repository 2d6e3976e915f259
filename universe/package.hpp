#pragma once
// One release of a Universe package: its metadata (package.json), options schema (config.json),
// Marathon template (marathon.json.mustache), resources (resource.json) and optional CLI command
// (command.json). Pure functions over JSON and text: no I/O.
//
// Accepted packagingVersions are "2.0", "3.0" and "4.0" (2.0 because real Universe indexes still
// carry such entries; its shape is a subset of 3.0). Checked as Universe's package schema says:
// packagingVersion, name, version, maintainer, description and tags are required; version matches
// ^[-a-zA-Z0-9.]+$ (3.0 and 4.0); tags contain no whitespace; framework and selected are booleans;
// licenses are {name, url} objects; upgradesFrom/downgradesTo (4.0 only) are lists of strings;
// command.json ({"pip": [...]}) is refused with 4.0, which dropped it. Names are non-empty and free
// of whitespace, '/' and control characters (they become paths and app ids). Other package.json
// keys are kept as given (packageJson) and passed through by describeJson.
//
// Errors are kInvalidArgument "invalid package: ..." with one ErrorDetail per problem, its path
// naming the file and the JSON pointer inside it: "package.json#/tags/1",
// "config.json#/properties/port/minimum", "marathon.json.mustache" (for template syntax errors),
// or for an index entry the pointer inside the entry ("#/marathon/v2AppMustacheTemplate").

#include "common/json.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dcos::universe {

struct PackageDefinition {
  std::string packagingVersion;  // "2.0", "3.0" or "4.0"
  std::string name, version, description, maintainer;
  int64_t releaseVersion = 0;  // the <rev> directory, or the index entry's releaseVersion
  std::vector<std::string> tags;
  std::string preInstallNotes, postInstallNotes, postUninstallNotes;
  bool framework = false, selected = false;
  // package.json's object as given, without the parts held below (marathon, resource, config,
  // command, releaseVersion): scm, website, licenses, minDcosReleaseVersion, upgradesFrom... too.
  Json packageJson = Json::object();
  Json config = Json::object();    // the options schema (accepted by checkSchema); {} when absent
  Json resource = Json::object();  // resource.json; {} when absent
  std::string marathonTemplate;    // marathon.json.mustache ("" when the package has none)
  Json command;                    // command.json, or null

  // resource.images ({"icon-small": ..., "screenshots": [...]}), or null when it has none.
  Json images() const;
};

// The files a package directory may hold; any other name is refused by parsePackageFiles.
inline const char* const kPackageFileNames[] = {"package.json", "config.json", "resource.json",
                                                "marathon.json.mustache", "command.json"};

// From a package directory's files (file name -> content, e.g. {"package.json": "{...}"});
// package.json is required, the others optional. `releaseVersion` is the <rev> directory; a
// releaseVersion inside package.json must agree with it. Reports every problem, not the first.
Result<PackageDefinition> parsePackageFiles(const std::map<std::string, std::string>& files,
                                            int64_t releaseVersion);

// From one entry of a Universe repository index ({"packagingVersion": "3.0", "name": ...,
// "releaseVersion": 0, "marathon": {"v2AppMustacheTemplate": <base64>}, "config": {...},
// "resource": {...}, "command": {...}}): releaseVersion (an integer >= 0) is required; the
// template is base64-decoded.
Result<PackageDefinition> parseIndexEntry(const Json& entry);

// The package as Cosmos describes it (the "package" of a describe response, also the shape of an
// index entry): packageJson's keys plus releaseVersion, framework, selected, config, resource,
// command (when present) and marathon.v2AppMustacheTemplate base64-encoded (when there is a
// template). parseIndexEntry(describeJson(p)) gives p back.
Json describeJson(const PackageDefinition& p);

// Standard base64 with padding, as Universe indexes carry templates. Decoding accepts no
// whitespace and fails with kInvalidArgument on anything else that is not canonical base64.
std::string base64Encode(const std::string& bytes);
Result<std::string> base64Decode(const std::string& text);

}  // namespace dcos::universe
