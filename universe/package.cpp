#include "universe/package.hpp"

#include "universe/json_schema.hpp"
#include "universe/mustache.hpp"

#include <cstdint>
#include <cstring>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace dcos::universe {
namespace {

// Keys of an index entry that PackageDefinition holds apart from packageJson.
const char* const kSeparateKeys[] = {"marathon", "resource", "config", "command", "releaseVersion"};

// Problems found so far, each at "<file>#<pointer>" (or just the file).
struct Problems {
  std::vector<ErrorDetail> details;
  void add(const std::string& path, std::string error) {
    for (auto& d : details) {
      if (d.path == path) return d.errors.push_back(std::move(error));
    }
    details.push_back({path, {std::move(error)}});
  }
  Error toError() const {
    std::string message = "invalid package: ";
    for (size_t i = 0; i < details.size(); ++i) {
      if (i > 0) message += "; ";
      message += details[i].path + ": ";
      for (size_t k = 0; k < details[i].errors.size(); ++k) {
        message += (k > 0 ? ", " : "") + details[i].errors[k];
      }
    }
    return Error(ErrorCode::kInvalidArgument, message, details);
  }
};

// Where a problem is: `base` is "<file>#<pointer>" ("package.json#", "#/licenses/0" for an index
// entry), `pointer` what follows; the root itself is "<file>#/".
std::string at(const std::string& base, const std::string& pointer) {
  if (pointer.empty() && base.back() == '#') return base + "/";
  return base + pointer;
}

bool validName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c == 0x7f || c == '/' || c == '\\') return false;
  }
  return true;
}

// A string field: required or optional; stored in `out` when valid.
void stringField(const Json& obj, const char* key, bool required, const std::string& base,
                 Problems& problems, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) problems.add(at(base, std::string("/") + key), "is required");
    return;
  }
  if (!it->is_string()) return problems.add(at(base, std::string("/") + key), "must be a string");
  if (out) *out = it->get<std::string>();
}

void boolField(const Json& obj, const char* key, const std::string& base, Problems& problems,
               bool* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return;
  if (!it->is_boolean()) return problems.add(at(base, std::string("/") + key), "must be a boolean");
  *out = it->get<bool>();
}

void stringListField(const Json& obj, const char* key, bool required, bool noSpaces,
                     const std::string& base, Problems& problems, std::vector<std::string>* out) {
  const std::string pointer = std::string("/") + key;
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) problems.add(at(base, pointer), "is required");
    return;
  }
  if (!it->is_array()) return problems.add(at(base, pointer), "must be an array of strings");
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& item = (*it)[i];
    const std::string itemPath = at(base, pointer + "/" + std::to_string(i));
    if (!item.is_string()) {
      problems.add(itemPath, "must be a string");
    } else if (noSpaces && (item.get<std::string>().empty() ||
                            item.get<std::string>().find_first_of(" \t\r\n") != std::string::npos)) {
      problems.add(itemPath, "must be non-empty and contain no whitespace");
    } else if (out) {
      out->push_back(item.get<std::string>());
    }
  }
}

// package.json's metadata (also an index entry's): fills `p` and reports problems under `base`.
void checkMetadata(const Json& meta, const std::string& base, Problems& problems,
                   PackageDefinition& p) {
  stringField(meta, "packagingVersion", true, base, problems, &p.packagingVersion);
  if (meta.contains("packagingVersion") && meta["packagingVersion"].is_string() &&
      p.packagingVersion != "2.0" && p.packagingVersion != "3.0" && p.packagingVersion != "4.0") {
    problems.add(at(base, "/packagingVersion"), "must be one of \"2.0\", \"3.0\", \"4.0\"");
  }
  stringField(meta, "name", true, base, problems, &p.name);
  if (meta.contains("name") && meta["name"].is_string() && !validName(p.name)) {
    problems.add(at(base, "/name"), "must be non-empty, without whitespace, '/' or control characters");
  }
  stringField(meta, "version", true, base, problems, &p.version);
  static const std::regex kVersion("^[-a-zA-Z0-9.]+$");
  if (meta.contains("version") && meta["version"].is_string() &&
      (p.version.empty() || (p.packagingVersion != "2.0" && !std::regex_match(p.version, kVersion)))) {
    problems.add(at(base, "/version"), "must match ^[-a-zA-Z0-9.]+$");
  }
  stringField(meta, "maintainer", true, base, problems, &p.maintainer);
  stringField(meta, "description", true, base, problems, &p.description);
  stringListField(meta, "tags", true, true, base, problems, &p.tags);
  for (const char* key : {"scm", "website", "minDcosReleaseVersion"}) {
    stringField(meta, key, false, base, problems, nullptr);
  }
  stringField(meta, "preInstallNotes", false, base, problems, &p.preInstallNotes);
  stringField(meta, "postInstallNotes", false, base, problems, &p.postInstallNotes);
  stringField(meta, "postUninstallNotes", false, base, problems, &p.postUninstallNotes);
  boolField(meta, "framework", base, problems, &p.framework);
  boolField(meta, "selected", base, problems, &p.selected);
  if (auto it = meta.find("licenses"); it != meta.end()) {
    if (!it->is_array()) {
      problems.add(at(base, "/licenses"), "must be an array of {name, url} objects");
    } else {
      for (size_t i = 0; i < it->size(); ++i) {
        const Json& l = (*it)[i];
        const std::string path = "/licenses/" + std::to_string(i);
        if (!l.is_object()) {
          problems.add(at(base, path), "must be an object with name and url");
          continue;
        }
        stringField(l, "name", true, base + path, problems, nullptr);
        stringField(l, "url", true, base + path, problems, nullptr);
      }
    }
  }
  for (const char* key : {"upgradesFrom", "downgradesTo"}) {
    if (meta.contains(key) && p.packagingVersion != "4.0") {
      problems.add(at(base, std::string("/") + key), "is only allowed with packagingVersion 4.0");
    }
    stringListField(meta, key, false, false, base, problems, nullptr);
  }
  p.packageJson = meta;
  for (const char* key : kSeparateKeys) p.packageJson.erase(key);
}

// checkSchema reports pointers inside the schema; `pointer` is where the schema sits.
void checkConfig(const Json& config, const std::string& base, const std::string& pointer,
                 Problems& problems) {
  if (!config.is_object()) return problems.add(at(base, pointer), "must be a JSON object (a JSON Schema)");
  auto checked = checkSchema(config);
  if (checked) return;
  if (checked.error().details.empty()) return problems.add(at(base, pointer), checked.error().message);
  for (const auto& d : checked.error().details) {
    for (const auto& e : d.errors) problems.add(at(base, pointer + (d.path == "/" ? "" : d.path)), e);
  }
}

// An object of strings at `pointer` inside resource.json, if present.
void checkStringMap(const Json& obj, const std::string& base, const std::string& pointer,
                    Problems& problems) {
  if (!obj.is_object()) return problems.add(at(base, pointer), "must be an object");
  for (const auto& [key, value] : obj.items()) {
    if (!value.is_string()) problems.add(at(base, pointer + "/" + key), "must be a string");
  }
}

void checkResource(const Json& resource, const std::string& base, const std::string& pointer,
                   Problems& problems) {
  if (!resource.is_object()) return problems.add(at(base, pointer), "must be a JSON object");
  if (auto assets = resource.find("assets"); assets != resource.end()) {
    if (!assets->is_object()) return problems.add(at(base, pointer + "/assets"), "must be an object");
    if (assets->contains("uris")) checkStringMap((*assets)["uris"], base, pointer + "/assets/uris", problems);
    if (auto c = assets->find("container"); c != assets->end()) {
      if (!c->is_object()) {
        problems.add(at(base, pointer + "/assets/container"), "must be an object");
      } else if (c->contains("docker")) {
        checkStringMap((*c)["docker"], base, pointer + "/assets/container/docker", problems);
      }
    }
  }
  if (auto images = resource.find("images"); images != resource.end()) {
    if (!images->is_object()) return problems.add(at(base, pointer + "/images"), "must be an object");
    for (const auto& [key, value] : images->items()) {
      if (key == "screenshots") {
        stringListField(*images, "screenshots", false, false, base + pointer + "/images", problems, nullptr);
      } else if (!value.is_string()) {
        problems.add(at(base, pointer + "/images/" + key), "must be a string");
      }
    }
  }
  if (resource.contains("cli") && !resource["cli"].is_object()) {
    problems.add(at(base, pointer + "/cli"), "must be an object");
  }
}

void checkCommand(const Json& command, const std::string& base, const std::string& pointer,
                  const PackageDefinition& p, Problems& problems) {
  const std::string& where = pointer;
  if (p.packagingVersion == "4.0") return problems.add(at(base, where), "is not allowed with packagingVersion 4.0");
  if (!command.is_object()) return problems.add(at(base, where), "must be an object with \"pip\"");
  stringListField(command, "pip", true, false, base + pointer, problems, nullptr);
}

// Template syntax errors (unclosed tags or sections) show without any options.
void checkTemplate(const std::string& tmpl, const std::string& where, Problems& problems) {
  auto rendered = renderMustache(tmpl, Json::object());
  if (!rendered) problems.add(where, rendered.error().message);
}

Result<Json> parseFile(const std::string& name, const std::string& text, Problems& problems) {
  auto json = parseJson(text);
  if (!json) {
    problems.add(name, "not valid JSON: " + json.error().message);
    return json;
  }
  return json;
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string base64Encode(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kBase64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kBase64[n & 63] : '=';
  }
  return out;
}

Result<std::string> base64Decode(const std::string& text) {
  auto invalid = [] { return Error(ErrorCode::kInvalidArgument, "not valid base64"); };
  if (text.size() % 4 != 0) return invalid();
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t n = 0;
    int padding = 0;
    for (size_t k = 0; k < 4; ++k) {
      char c = text[i + k];
      const char* pos = c == '\0' ? nullptr : std::strchr(kBase64, c);
      // '=' only ends the last group, at most twice, and nothing but '=' may follow it.
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        ++padding;
      } else if (pos == nullptr || padding > 0) {
        return invalid();
      } else {
        n |= static_cast<uint32_t>(pos - kBase64) << (18 - 6 * k);
      }
    }
    out += static_cast<char>((n >> 16) & 0xff);
    if (padding < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

Json PackageDefinition::images() const {
  if (resource.is_object() && resource.contains("images")) return resource["images"];
  return nullptr;
}

Result<PackageDefinition> parsePackageFiles(const std::map<std::string, std::string>& files,
                                            int64_t releaseVersion) {
  Problems problems;
  PackageDefinition p;
  p.releaseVersion = releaseVersion;
  for (const auto& [name, _] : files) {
    bool known = false;
    for (const char* k : kPackageFileNames) known = known || name == k;
    if (!known) problems.add(name, "is not a file a package may hold (package.json, config.json, resource.json, marathon.json.mustache, command.json)");
  }
  auto pkg = files.find("package.json");
  if (pkg == files.end()) {
    problems.add("package.json", "is missing");
  } else if (auto meta = parseFile("package.json", pkg->second, problems); meta) {
    if (!meta->is_object()) {
      problems.add("package.json#/", "must be a JSON object");
    } else {
      checkMetadata(*meta, "package.json#", problems, p);
      auto rv = meta->find("releaseVersion");
      if (rv != meta->end() && !(rv->is_number_integer() && rv->get<int64_t>() == releaseVersion)) {
        problems.add("package.json#/releaseVersion", "must be " + std::to_string(releaseVersion) + ", the release directory");
      }
    }
  }
  if (auto f = files.find("config.json"); f != files.end()) {
    if (auto c = parseFile("config.json", f->second, problems); c) {
      checkConfig(*c, "config.json#", "", problems);
      p.config = std::move(*c);
    }
  }
  if (auto f = files.find("resource.json"); f != files.end()) {
    if (auto r = parseFile("resource.json", f->second, problems); r) {
      checkResource(*r, "resource.json#", "", problems);
      p.resource = std::move(*r);
    }
  }
  if (auto f = files.find("command.json"); f != files.end()) {
    if (auto c = parseFile("command.json", f->second, problems); c) {
      checkCommand(*c, "command.json#", "", p, problems);
      p.command = std::move(*c);
    }
  }
  if (auto f = files.find("marathon.json.mustache"); f != files.end()) {
    p.marathonTemplate = f->second;
    checkTemplate(p.marathonTemplate, "marathon.json.mustache", problems);
  }
  if (!problems.details.empty()) return problems.toError();
  return p;
}

Result<PackageDefinition> parseIndexEntry(const Json& entry) {
  Problems problems;
  PackageDefinition p;
  if (!entry.is_object()) {
    problems.add("#/", "must be a JSON object");
    return problems.toError();
  }
  checkMetadata(entry, "#", problems, p);
  auto rv = entry.find("releaseVersion");
  if (rv == entry.end()) {
    problems.add("#/releaseVersion", "is required");
  } else if (!rv->is_number_integer() || rv->get<int64_t>() < 0) {
    problems.add("#/releaseVersion", "must be an integer >= 0");
  } else {
    p.releaseVersion = rv->get<int64_t>();
  }
  if (auto c = entry.find("config"); c != entry.end()) {
    checkConfig(*c, "#", "/config", problems);
    p.config = *c;
  }
  if (auto r = entry.find("resource"); r != entry.end()) {
    checkResource(*r, "#", "/resource", problems);
    p.resource = *r;
  }
  if (auto c = entry.find("command"); c != entry.end()) {
    checkCommand(*c, "#", "/command", p, problems);
    p.command = *c;
  }
  if (auto m = entry.find("marathon"); m != entry.end()) {
    auto t = m->is_object() ? m->find("v2AppMustacheTemplate") : m->end();
    if (!m->is_object() || t == m->end() || !t->is_string()) {
      problems.add("#/marathon/v2AppMustacheTemplate", "is required (a base64 string)");
    } else if (auto decoded = base64Decode(t->get<std::string>()); !decoded) {
      problems.add("#/marathon/v2AppMustacheTemplate", decoded.error().message);
    } else {
      p.marathonTemplate = std::move(*decoded);
      checkTemplate(p.marathonTemplate, "#/marathon/v2AppMustacheTemplate", problems);
    }
  }
  if (!problems.details.empty()) return problems.toError();
  return p;
}

Json describeJson(const PackageDefinition& p) {
  Json out = p.packageJson.is_object() ? p.packageJson : Json::object();
  out["packagingVersion"] = p.packagingVersion;
  out["name"] = p.name;
  out["version"] = p.version;
  out["releaseVersion"] = p.releaseVersion;
  out["framework"] = p.framework;
  out["selected"] = p.selected;
  out["config"] = p.config;
  out["resource"] = p.resource;
  if (!p.command.is_null()) out["command"] = p.command;
  if (!p.marathonTemplate.empty()) {
    out["marathon"] = {{"v2AppMustacheTemplate", base64Encode(p.marathonTemplate)}};
  }
  return out;
}

}  // namespace dcos::universe
