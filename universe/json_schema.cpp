#include "universe/json_schema.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace dcos::universe {
namespace {

// Patterns are compiled by std::regex, whose compiler recurses over the pattern and expands
// counted repetitions into states; these bounds keep a hostile schema from exhausting either.
constexpr size_t kMaxPatternLength = 512;
constexpr double kMaxRepetitionProduct = 100000;
// libstdc++'s backtracking matcher recurses once per input character; its polynomial (Thompson)
// matcher does not, and cannot blow up exponentially, so patterns (which draft-04 forbids from
// using back-references anyway) are compiled for it.
#if defined(__GLIBCXX__)
constexpr auto kRegexFlags = std::regex::ECMAScript | std::regex_constants::__polynomial;
#else
constexpr auto kRegexFlags = std::regex::ECMAScript;
#endif

const std::set<std::string> kTypeNames = {"array", "boolean", "integer", "null",
                                          "number", "object", "string"};
const std::set<std::string> kUnsupported = {"$ref", "allOf", "anyOf", "oneOf", "not",
                                            "patternProperties", "dependencies", "additionalItems"};
const char* const kCountKeywords[] = {"minLength", "maxLength", "minItems",
                                      "maxItems", "minProperties", "maxProperties"};

// Appends one reference token to a JSON pointer, escaped as RFC 6901 says.
std::string childPath(const std::string& path, const std::string& token) {
  std::string out = path + "/";
  for (char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

// Collects messages per path, in the order paths are first seen.
class Report {
 public:
  void add(const std::string& path, std::string message) {
    const std::string shown = path.empty() ? "/" : path;
    auto [it, inserted] = index_.try_emplace(shown, details_.size());
    if (inserted) details_.push_back({shown, {}});
    details_[it->second].errors.push_back(std::move(message));
  }
  bool empty() const { return details_.empty(); }
  std::vector<ErrorDetail> take() { return std::move(details_); }

 private:
  std::vector<ErrorDetail> details_;
  std::map<std::string, size_t> index_;
};

// Nesting depth of a JSON value, computed without recursion so any input is safe to measure.
int jsonDepth(const Json& value) {
  int deepest = 0;
  std::vector<std::pair<const Json*, int>> stack{{&value, 1}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, depth);
    if (depth > kMaxSchemaDepth) return depth;
    if (node->is_structured()) {
      for (const auto& child : *node) stack.emplace_back(&child, depth + 1);
    }
  }
  return deepest;
}

bool isNonNegativeInteger(const Json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
}

// A rough upper bound on the states std::regex creates for counted repetitions ("{n,m}").
double repetitionProduct(const std::string& pattern) {
  double product = 1;
  static const std::regex kCounted(R"(\{(\d+)(,(\d*))?\})");
  for (auto it = std::sregex_iterator(pattern.begin(), pattern.end(), kCounted);
       it != std::sregex_iterator(); ++it) {
    const std::string bound = (*it)[3].matched && (*it)[3].length() > 0 ? (*it)[3].str() : (*it)[1].str();
    product *= std::max(1.0, bound.size() > 9 ? 1e9 : std::stod(bound));
  }
  return product;
}

std::string checkPattern(const Json& pattern) {
  if (!pattern.is_string()) return "must be a string";
  const auto& text = pattern.get_ref<const std::string&>();
  if (text.size() > kMaxPatternLength) {
    return "is longer than " + std::to_string(kMaxPatternLength) + " characters";
  }
  if (repetitionProduct(text) > kMaxRepetitionProduct) return "has too many counted repetitions";
  try {
    std::regex compiled(text, kRegexFlags);
  } catch (const std::exception& e) {
    return std::string("is not a valid ECMAScript regular expression: ") + e.what();
  }
  return {};
}

void checkNode(const Json& schema, const std::string& path, int depth, Report& report);

void checkTypeKeyword(const Json& type, const std::string& path, Report& report) {
  auto known = [](const Json& t) { return t.is_string() && kTypeNames.count(t.get<std::string>()) > 0; };
  if (type.is_array()) {
    std::set<std::string> seen;
    for (const auto& t : type) {
      if (!known(t) || !seen.insert(t.get<std::string>()).second) {
        report.add(path, "must be an array of distinct type names");
        return;
      }
    }
    if (type.empty()) report.add(path, "must not be empty");
  } else if (!known(type)) {
    report.add(path, "must be one of array, boolean, integer, null, number, object, string");
  }
}

// Checks the keywords that take plain values (no sub-schemas).
void checkValueKeywords(const Json& schema, const std::string& path, Report& report) {
  if (auto it = schema.find("type"); it != schema.end()) checkTypeKeyword(*it, childPath(path, "type"), report);
  if (auto it = schema.find("required"); it != schema.end()) {
    const bool ok = it->is_array() && std::all_of(it->begin(), it->end(), [](const Json& r) { return r.is_string(); });
    if (!ok) report.add(childPath(path, "required"), "must be an array of property names");
  }
  if (auto it = schema.find("enum"); it != schema.end() && (!it->is_array() || it->empty())) {
    report.add(childPath(path, "enum"), "must be a non-empty array");
  }
  for (const char* key : {"minimum", "maximum", "multipleOf"}) {
    if (auto it = schema.find(key); it != schema.end() && !it->is_number()) report.add(childPath(path, key), "must be a number");
  }
  if (auto it = schema.find("multipleOf"); it != schema.end() && it->is_number() && !(it->get<double>() > 0)) {
    report.add(childPath(path, "multipleOf"), "must be greater than 0");
  }
  for (const auto& [flag, bound] : {std::pair{"exclusiveMinimum", "minimum"}, std::pair{"exclusiveMaximum", "maximum"}}) {
    auto it = schema.find(flag);
    if (it == schema.end()) continue;
    if (!it->is_boolean()) report.add(childPath(path, flag), "must be a boolean (draft-04)");
    else if (!schema.contains(bound)) report.add(childPath(path, flag), std::string("requires ") + bound);
  }
  for (const char* key : kCountKeywords) {
    if (auto it = schema.find(key); it != schema.end() && !isNonNegativeInteger(*it)) {
      report.add(childPath(path, key), "must be a non-negative integer");
    }
  }
  if (auto it = schema.find("uniqueItems"); it != schema.end() && !it->is_boolean()) {
    report.add(childPath(path, "uniqueItems"), "must be a boolean");
  }
  if (auto it = schema.find("pattern"); it != schema.end()) {
    if (auto problem = checkPattern(*it); !problem.empty()) report.add(childPath(path, "pattern"), problem);
  }
  for (const char* key : {"default", "enum"}) {
    if (auto it = schema.find(key); it != schema.end() && jsonDepth(*it) > kMaxSchemaDepth) {
      report.add(childPath(path, key), "is nested deeper than " + std::to_string(kMaxSchemaDepth) + " levels");
    }
  }
}

void checkNode(const Json& schema, const std::string& path, int depth, Report& report) {
  if (depth > kMaxSchemaDepth) {
    report.add(path, "schema is nested deeper than " + std::to_string(kMaxSchemaDepth) + " levels");
    return;
  }
  if (!schema.is_object()) {
    report.add(path, "must be a schema (a JSON object)");
    return;
  }
  for (const auto& key : kUnsupported) {
    if (schema.contains(key)) report.add(childPath(path, key), "keyword '" + key + "' is not supported");
  }
  checkValueKeywords(schema, path, report);
  if (auto it = schema.find("properties"); it != schema.end()) {
    const std::string propertiesPath = childPath(path, "properties");
    if (!it->is_object()) report.add(propertiesPath, "must be an object of schemas");
    else for (const auto& [name, sub] : it->items()) checkNode(sub, childPath(propertiesPath, name), depth + 1, report);
  }
  if (auto it = schema.find("items"); it != schema.end()) {
    if (it->is_array()) report.add(childPath(path, "items"), "an array of schemas (tuple form) is not supported");
    else checkNode(*it, childPath(path, "items"), depth + 1, report);
  }
  if (auto it = schema.find("additionalProperties"); it != schema.end() && !it->is_boolean()) {
    checkNode(*it, childPath(path, "additionalProperties"), depth + 1, report);
  }
}

// Numbers are compared as long double, which holds every int64, uint64 and double exactly.
long double numberOf(const Json& v) {
  if (v.is_number_unsigned()) return static_cast<long double>(v.get<uint64_t>());
  if (v.is_number_integer()) return static_cast<long double>(v.get<int64_t>());
  return static_cast<long double>(v.get<double>());
}

bool isMultiple(const Json& value, const Json& divisor) {
  const long double x = numberOf(value);
  const long double d = numberOf(divisor);
  if (value.is_number_integer() && divisor.is_number_integer()) return std::fmod(x, d) == 0;
  // Decimal divisors such as 0.1 have no exact binary form, so allow rounding noise.
  const long double q = x / d;
  return std::isfinite(static_cast<double>(q)) && std::fabs(q - std::round(q)) <= 1e-9L * std::max(1.0L, std::fabs(q));
}

bool hasType(const Json& value, const std::string& type) {
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  return value.is_null();
}

std::string withArticle(const std::string& type) {
  if (type == "null") return "null";
  return (type == "integer" || type == "object" || type == "array" ? "an " : "a ") + type;
}

size_t codePoints(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string joinValues(const Json& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + values[i].dump();
  return out + "]";
}

class Validator {
 public:
  explicit Validator(Report& report) : report_(report) {}

  void validate(const Json& schema, const Json& value, const std::string& path) {
    if (!checkType(schema, value, path)) return;  // the other keywords would only repeat it
    if (auto it = schema.find("enum"); it != schema.end() && std::find(it->begin(), it->end(), value) == it->end()) {
      report_.add(path, "must be one of " + joinValues(*it));
    }
    if (value.is_number()) checkNumber(schema, value, path);
    else if (value.is_string()) checkString(schema, value.get_ref<const std::string&>(), path);
    else if (value.is_array()) checkArray(schema, value, path);
    else if (value.is_object()) checkObject(schema, value, path);
  }

 private:
  bool checkType(const Json& schema, const Json& value, const std::string& path) {
    auto it = schema.find("type");
    if (it == schema.end()) return true;
    std::vector<std::string> types = it->is_array() ? it->get<std::vector<std::string>>()
                                                    : std::vector<std::string>{it->get<std::string>()};
    if (std::any_of(types.begin(), types.end(), [&](const std::string& t) { return hasType(value, t); })) return true;
    std::string message = "must be ";
    for (size_t i = 0; i < types.size(); ++i) message += (i ? " or " : "") + withArticle(types[i]);
    report_.add(path, message);
    return false;
  }

  void checkNumber(const Json& schema, const Json& value, const std::string& path) {
    const long double x = numberOf(value);
    if (auto it = schema.find("minimum"); it != schema.end()) {
      const bool exclusive = schema.value("exclusiveMinimum", false);
      const long double bound = numberOf(*it);
      if (exclusive ? x <= bound : x < bound) report_.add(path, (exclusive ? "must be > " : "must be >= ") + it->dump());
    }
    if (auto it = schema.find("maximum"); it != schema.end()) {
      const bool exclusive = schema.value("exclusiveMaximum", false);
      const long double bound = numberOf(*it);
      if (exclusive ? x >= bound : x > bound) report_.add(path, (exclusive ? "must be < " : "must be <= ") + it->dump());
    }
    if (auto it = schema.find("multipleOf"); it != schema.end() && !isMultiple(value, *it)) {
      report_.add(path, "must be a multiple of " + it->dump());
    }
  }

  void checkString(const Json& schema, const std::string& s, const std::string& path) {
    const size_t length = codePoints(s);
    if (auto it = schema.find("minLength"); it != schema.end() && length < it->get<uint64_t>()) {
      report_.add(path, "must be at least " + it->dump() + " characters long");
    }
    if (auto it = schema.find("maxLength"); it != schema.end() && length > it->get<uint64_t>()) {
      report_.add(path, "must be at most " + it->dump() + " characters long");
    }
    if (auto it = schema.find("pattern"); it != schema.end()) {
      const auto& pattern = it->get_ref<const std::string&>();
      bool matched = false;
      try {
        matched = std::regex_search(s, regexFor(pattern));
      } catch (const std::exception&) {
        matched = false;  // a matcher giving up counts as no match, reported below
      }
      if (!matched) report_.add(path, "does not match pattern '" + pattern + "'");
    }
  }

  void checkArray(const Json& schema, const Json& array, const std::string& path) {
    if (auto it = schema.find("minItems"); it != schema.end() && array.size() < it->get<uint64_t>()) {
      report_.add(path, "must have at least " + it->dump() + " items");
    }
    if (auto it = schema.find("maxItems"); it != schema.end() && array.size() > it->get<uint64_t>()) {
      report_.add(path, "must have at most " + it->dump() + " items");
    }
    if (schema.value("uniqueItems", false)) {
      for (size_t i = 1; i < array.size(); ++i) {
        auto first = std::find(array.begin(), array.begin() + static_cast<std::ptrdiff_t>(i), array[i]);
        if (first != array.begin() + static_cast<std::ptrdiff_t>(i)) {
          report_.add(path, "must not contain duplicates (item " + std::to_string(i) + " repeats item " +
                                std::to_string(first - array.begin()) + ")");
          break;
        }
      }
    }
    if (auto it = schema.find("items"); it != schema.end()) {
      for (size_t i = 0; i < array.size(); ++i) validate(*it, array[i], childPath(path, std::to_string(i)));
    }
  }

  void checkObject(const Json& schema, const Json& object, const std::string& path) {
    const Json empty = Json::object();
    auto propsIt = schema.find("properties");
    const Json& properties = propsIt != schema.end() ? *propsIt : empty;
    if (auto it = schema.find("required"); it != schema.end()) {
      for (const auto& name : *it) {
        if (!object.contains(name.get<std::string>())) report_.add(childPath(path, name.get<std::string>()), "is required");
      }
    }
    if (auto it = schema.find("minProperties"); it != schema.end() && object.size() < it->get<uint64_t>()) {
      report_.add(path, "must have at least " + it->dump() + " properties");
    }
    if (auto it = schema.find("maxProperties"); it != schema.end() && object.size() > it->get<uint64_t>()) {
      report_.add(path, "must have at most " + it->dump() + " properties");
    }
    auto additional = schema.find("additionalProperties");
    for (const auto& [name, child] : object.items()) {
      if (auto sub = properties.find(name); sub != properties.end()) {
        validate(*sub, child, childPath(path, name));
      } else if (additional != schema.end() && additional->is_object()) {
        validate(*additional, child, childPath(path, name));
      } else if (additional != schema.end() && *additional == false) {
        report_.add(path, "additional property '" + name + "' is not allowed");
      }
    }
  }

  const std::regex& regexFor(const std::string& pattern) {
    auto& slot = regexes_[pattern];
    if (!slot) slot = std::make_unique<std::regex>(pattern, kRegexFlags);
    return *slot;
  }

  Report& report_;
  std::map<std::string, std::unique_ptr<std::regex>> regexes_;
};

Json defaultsOf(const Json& schema, int depth) {
  Json out = Json::object();
  auto props = schema.find("properties");
  if (depth > kMaxSchemaDepth || props == schema.end() || !props->is_object()) return out;
  for (const auto& [name, sub] : props->items()) {
    if (!sub.is_object()) continue;
    if (auto it = sub.find("default"); it != sub.end()) out[name] = *it;
    else if (sub.contains("properties")) out[name] = defaultsOf(sub, depth + 1);
  }
  return out;
}

Error mismatch(std::vector<ErrorDetail> details) {
  return Error(ErrorCode::kUnprocessable, "Options do not match the package's config schema", std::move(details));
}

}  // namespace

Result<void> checkSchema(const Json& schema) {
  Report report;
  checkNode(schema, "", 1, report);
  if (report.empty()) return success();
  auto details = report.take();
  std::string message = "Invalid config schema: " + details.front().path + ": " + details.front().errors.front();
  return Error(ErrorCode::kInvalidArgument, std::move(message), std::move(details));
}

Result<void> validateOptions(const Json& schema, const Json& options) {
  if (auto checked = checkSchema(schema); !checked) return std::move(checked).error();
  Report report;
  if (jsonDepth(options) > kMaxSchemaDepth) {
    report.add("", "is nested deeper than " + std::to_string(kMaxSchemaDepth) + " levels");
    return mismatch(report.take());
  }
  Validator(report).validate(schema, options, "");
  if (report.empty()) return success();
  return mismatch(report.take());
}

Json schemaDefaults(const Json& schema) {
  if (!schema.is_object()) return Json::object();
  return defaultsOf(schema, 1);
}

Json deepMerge(Json base, const Json& overlay) {
  if (!base.is_object() || !overlay.is_object()) return overlay;
  for (auto it = overlay.begin(); it != overlay.end(); ++it) {
    auto existing = base.find(it.key());
    if (existing != base.end()) {
      *existing = deepMerge(std::move(*existing), *it);
    } else {
      base[it.key()] = *it;
    }
  }
  return base;
}

Result<Json> resolveOptions(const Json& schema, const Json& userOptions) {
  if (auto checked = checkSchema(schema); !checked) return std::move(checked).error();
  if (!userOptions.is_null() && !userOptions.is_object()) return mismatch({{"/", {"must be an object"}}});
  if (jsonDepth(userOptions) > kMaxSchemaDepth) {
    return mismatch({{"/", {"is nested deeper than " + std::to_string(kMaxSchemaDepth) + " levels"}}});
  }
  Json merged = deepMerge(schemaDefaults(schema), userOptions.is_null() ? Json::object() : userOptions);
  if (auto valid = validateOptions(schema, merged); !valid) return std::move(valid).error();
  return merged;
}

}  // namespace dcos::universe
