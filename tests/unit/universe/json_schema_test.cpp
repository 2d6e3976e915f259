#include "universe/json_schema.hpp"

#include "tests/support/support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

using namespace dcos;
using dcos::universe::checkSchema;
using dcos::universe::resolveOptions;
using dcos::universe::schemaDefaults;
using dcos::universe::validateOptions;

namespace {

Json j(const char* text) { return Json::parse(text); }

using Violations = std::map<std::string, std::vector<std::string>>;

// The violations validateOptions reports, keyed by instance path; empty when the options pass.
Violations violations(const Json& schema, const Json& options) {
  auto result = validateOptions(schema, options);
  Violations out;
  if (result) return out;
  REQUIRE(result.error().code == ErrorCode::kUnprocessable);
  CHECK(result.error().message == "Options do not match the package's config schema");
  for (const auto& d : result.error().details) {
    CHECK_MESSAGE(out.count(d.path) == 0, "path reported twice: " << d.path);
    out[d.path] = d.errors;
  }
  return out;
}

// Schema paths checkSchema complains about; empty when the schema is accepted.
std::vector<std::string> schemaProblems(const Json& schema) {
  auto result = checkSchema(schema);
  std::vector<std::string> paths;
  if (result) return paths;
  REQUIRE(result.error().code == ErrorCode::kInvalidArgument);
  for (const auto& d : result.error().details) paths.push_back(d.path);
  return paths;
}

struct KeywordCase {
  const char* name;
  const char* schema;   // the schema of property "v"
  const char* value;    // the value of "v"
  const char* error;    // expected error at "/v", or "" when the value must be accepted
};

const KeywordCase kKeywordCases[] = {
    {"integer accepts an integer", R"({"type":"integer"})", "3", ""},
    {"integer rejects a fraction", R"({"type":"integer"})", "3.5", "must be an integer"},
    {"integer rejects 5.0 (draft-04: no fraction part)", R"({"type":"integer"})", "5.0", "must be an integer"},
    {"integer rejects a string", R"({"type":"integer"})", R"("3")", "must be an integer"},
    {"number accepts an integer", R"({"type":"number"})", "3", ""},
    {"number accepts a fraction", R"({"type":"number"})", "0.5", ""},
    {"number rejects a boolean", R"({"type":"number"})", "true", "must be a number"},
    {"string rejects a number", R"({"type":"string"})", "1", "must be a string"},
    {"boolean rejects a string", R"({"type":"boolean"})", R"("true")", "must be a boolean"},
    {"object rejects an array", R"({"type":"object"})", "[]", "must be an object"},
    {"array rejects an object", R"({"type":"array"})", "{}", "must be an array"},
    {"null rejects zero", R"({"type":"null"})", "0", "must be null"},
    {"type array accepts its second type", R"({"type":["string","null"]})", "null", ""},
    {"type array rejects other types", R"({"type":["string","null"]})", "1", "must be a string or null"},
    {"minimum accepts the boundary", R"({"type":"integer","minimum":1})", "1", ""},
    {"minimum rejects below", R"({"type":"integer","minimum":1})", "0", "must be >= 1"},
    {"exclusiveMinimum rejects the boundary", R"({"minimum":1,"exclusiveMinimum":true})", "1", "must be > 1"},
    {"exclusiveMinimum accepts above", R"({"minimum":1,"exclusiveMinimum":true})", "1.01", ""},
    {"maximum accepts the boundary", R"({"maximum":0.5})", "0.5", ""},
    {"maximum rejects above", R"({"maximum":0.5})", "0.51", "must be <= 0.5"},
    {"exclusiveMaximum rejects the boundary", R"({"maximum":10,"exclusiveMaximum":true})", "10", "must be < 10"},
    {"minimum compares big integers exactly", R"({"minimum":9007199254740993})", "9007199254740992", "must be >= 9007199254740993"},
    {"multipleOf accepts a multiple", R"({"multipleOf":0.1})", "0.3", ""},
    {"multipleOf rejects others", R"({"multipleOf":5})", "12", "must be a multiple of 5"},
    {"minLength accepts the boundary", R"({"minLength":2})", R"("ab")", ""},
    {"minLength rejects shorter", R"({"minLength":2})", R"("a")", "must be at least 2 characters long"},
    {"maxLength counts characters, not bytes", R"({"maxLength":2})", R"("é\u00e9")", ""},
    {"maxLength rejects longer", R"({"maxLength":2})", R"("abc")", "must be at most 2 characters long"},
    {"pattern accepts a match", R"({"pattern":"^[a-z]+$"})", R"("kafka")", ""},
    {"pattern rejects a mismatch", R"({"pattern":"^[a-z]+$"})", R"("Kafka")", "does not match pattern '^[a-z]+$'"},
    {"pattern is unanchored (search)", R"({"pattern":"[0-9]"})", R"("broker-1")", ""},
    {"pattern ignores non-strings", R"({"pattern":"^a$"})", "7", ""},
    {"enum accepts a member", R"({"enum":["a","b"]})", R"("b")", ""},
    {"enum rejects others", R"({"enum":["a","b"]})", R"("c")", R"(must be one of ["a", "b"])"},
    {"enum compares numbers by value", R"({"enum":[1,2]})", "1.0", ""},
    {"enum compares objects deeply", R"({"enum":[{"a":[1]}]})", R"({"a":[2]})", R"(must be one of [{"a":[1]}])"},
    {"minItems accepts the boundary", R"({"minItems":1})", "[1]", ""},
    {"minItems rejects fewer", R"({"minItems":1})", "[]", "must have at least 1 items"},
    {"maxItems rejects more", R"({"maxItems":1})", "[1,2]", "must have at most 1 items"},
    {"uniqueItems accepts distinct", R"({"uniqueItems":true})", R"([1,"1",[1]])", ""},
    {"uniqueItems rejects duplicates", R"({"uniqueItems":true})", "[1,2,1.0]", "must not contain duplicates (item 2 repeats item 0)"},
    {"minProperties rejects fewer", R"({"minProperties":1})", "{}", "must have at least 1 properties"},
    {"annotations and unknown names are ignored", R"({"type":"string","description":"d","title":"t","format":"uri","media":{"type":"x"},"desription":"typo"})", R"("x")", ""},
};

}  // namespace

TEST_CASE("json schema: each keyword rejects what it must and accepts its boundary") {
  for (const auto& c : kKeywordCases) {
    CAPTURE(c.name);
    Json schema = Json::object({{"type", "object"}, {"properties", {{"v", j(c.schema)}}}});
    REQUIRE(checkSchema(schema).ok());
    Json options = Json::object({{"v", j(c.value)}});
    Violations found = violations(schema, options);
    if (std::string(c.error).empty()) {
      CHECK(found.empty());
    } else {
      REQUIRE(found.size() == 1);
      CHECK(found.begin()->first == "/v");
      CHECK(found.begin()->second == std::vector<std::string>{c.error});
    }
  }
}

TEST_CASE("json schema: required, additionalProperties and items report at the right paths") {
  const Json schema = j(R"({
    "type": "object", "additionalProperties": false, "required": ["service"],
    "properties": {
      "service": {"type": "object", "required": ["name", "user"], "additionalProperties": false,
                  "properties": {"name": {"type": "string"}, "user": {"type": "string"}}},
      "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 3}},
      "ports": {"type": "array", "items": {"type": "integer", "minimum": 1025}},
      "a/b~c": {"type": "integer"}
    }})");
  REQUIRE(checkSchema(schema).ok());

  SUBCASE("a missing required property is reported at its own path") {
    CHECK(violations(schema, j("{}")) == Violations{{"/service", {"is required"}}});
    CHECK(violations(schema, j(R"({"service":{}})")) ==
          Violations{{"/service/name", {"is required"}}, {"/service/user", {"is required"}}});
  }
  SUBCASE("additionalProperties false names every extra property at the parent's path") {
    auto found = violations(schema, j(R"({"service":{"name":"k","user":"u","x":1,"y":2},"z":0})"));
    CHECK(found == Violations{{"/", {"additional property 'z' is not allowed"}},
                              {"/service", {"additional property 'x' is not allowed", "additional property 'y' is not allowed"}}});
  }
  SUBCASE("additionalProperties as a schema validates each extra property") {
    auto found = violations(schema, j(R"({"service":{"name":"k","user":"u"},"labels":{"ok":"abc","bad":"abcd","num":1}})"));
    CHECK(found == Violations{{"/labels/bad", {"must be at most 3 characters long"}}, {"/labels/num", {"must be a string"}}});
  }
  SUBCASE("items validates each element at its index") {
    auto found = violations(schema, j(R"({"service":{"name":"k","user":"u"},"ports":[8080,80,"x"]})"));
    CHECK(found == Violations{{"/ports/1", {"must be >= 1025"}}, {"/ports/2", {"must be an integer"}}});
  }
  SUBCASE("property names are escaped as JSON pointer tokens") {
    auto found = violations(schema, j(R"({"service":{"name":"k","user":"u"},"a/b~c":"x"})"));
    CHECK(found == Violations{{"/a~1b~0c", {"must be an integer"}}});
  }
  SUBCASE("a root of the wrong type is reported at /") {
    CHECK(violations(schema, j("[]")) == Violations{{"/", {"must be an object"}}});
  }
}

TEST_CASE("json schema: every violation is reported at once, several per path when they apply") {
  const Json schema = j(R"({"type":"object","properties":{
      "name": {"type":"string","minLength":3,"pattern":"^[a-z]+$"},
      "count": {"type":"integer","minimum":1},
      "mode": {"enum":["fast","safe"]}}, "required":["id"]})");
  auto found = violations(schema, j(R"({"name":"X","count":0,"mode":"slow"})"));
  CHECK(found == Violations{{"/name", {"must be at least 3 characters long", "does not match pattern '^[a-z]+$'"}},
                            {"/count", {"must be >= 1"}},
                            {"/mode", {R"(must be one of ["fast", "safe"])"}},
                            {"/id", {"is required"}}});
}

TEST_CASE("json schema: defaults are collected recursively") {
  const Json schema = j(R"({"type":"object","properties":{
      "service": {"type":"object","properties":{
          "name": {"type":"string","default":"kafka"},
          "placement": {"type":"object","properties":{"zone":{"type":"string","default":"a"}}},
          "secret": {"type":"string"}}},
      "brokers": {"type":"object","default":{"count":3},"properties":{"count":{"default":1},"heap":{"default":512}}},
      "empty": {"type":"object","properties":{"x":{"type":"string"}}},
      "flag": {"type":"boolean","default":false},
      "list": {"type":"array","default":[]}}})");
  // A declared default wins over the children's; an object without defaults below still appears.
  CHECK(schemaDefaults(schema) == j(R"({"service":{"name":"kafka","placement":{"zone":"a"}},
      "brokers":{"count":3},"empty":{},"flag":false,"list":[]})"));
  CHECK(schemaDefaults(j("{}")) == Json::object());
  CHECK(schemaDefaults(j("[1]")) == Json::object());
}

TEST_CASE("json schema: checkSchema refuses malformed and unsupported keywords, naming the schema path") {
  struct Case { const char* name; const char* schema; std::vector<std::string> paths; };
  const Case cases[] = {
      {"unknown type name", R"({"type":"text"})", {"/type"}},
      {"empty type array", R"({"type":[]})", {"/type"}},
      {"minimum not a number", R"({"properties":{"n":{"minimum":"1"}}})", {"/properties/n/minimum"}},
      {"draft-06 numeric exclusiveMinimum", R"({"minimum":1,"exclusiveMinimum":1})", {"/exclusiveMinimum"}},
      {"exclusiveMaximum without maximum", R"({"exclusiveMaximum":true})", {"/exclusiveMaximum"}},
      {"negative minLength", R"({"minLength":-1})", {"/minLength"}},
      {"fractional maxItems", R"({"maxItems":1.5})", {"/maxItems"}},
      {"required as a draft-03 boolean", R"({"properties":{"a":{"required":true}}})", {"/properties/a/required"}},
      {"enum not an array", R"({"enum":"a"})", {"/enum"}},
      {"bad regex", R"({"pattern":"([a-z"})", {"/pattern"}},
      {"oversized regex", nullptr, {"/pattern"}},
      {"regex with huge counted repetitions", R"({"pattern":"(a{1000}){1000}"})", {"/pattern"}},
      {"additionalProperties not a schema", R"({"additionalProperties":"no"})", {"/additionalProperties"}},
      {"properties not an object", R"({"properties":[]})", {"/properties"}},
      {"property schema not an object", R"({"properties":{"a":1}})", {"/properties/a"}},
      {"$ref unsupported", R"({"properties":{"a":{"$ref":"#/definitions/x"}}})", {"/properties/a/$ref"}},
      {"anyOf unsupported", R"({"items":{"anyOf":[{}]}})", {"/items/anyOf"}},
      {"tuple items unsupported", R"({"items":[{}]})", {"/items"}},
      {"several problems at once", R"({"type":"x","properties":{"a":{"maximum":true}}})", {"/type", "/properties/a/maximum"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Json schema = c.schema ? j(c.schema) : Json{{"pattern", std::string(600, 'a')}};
    CHECK(schemaProblems(schema) == c.paths);
    // Validation refuses to run on a schema it cannot honour.
    auto result = validateOptions(schema, Json::object());
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kInvalidArgument);
  }
  auto result = checkSchema(j(R"({"type":"text"})"));
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message.find("/type") != std::string::npos);
}

TEST_CASE("json schema: hostile schemas and options are refused without crashing") {
  SUBCASE("deep schema nesting") {
    Json schema = {{"type", "object"}};
    for (int i = 0; i < 2000; ++i) schema = Json{{"type", "object"}, {"properties", {{"a", std::move(schema)}}}};
    auto result = checkSchema(schema);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().message.find("deeper than 64") != std::string::npos);
    CHECK(schemaDefaults(schema).is_object());
  }
  SUBCASE("deeply nested default and options values") {
    Json deep = Json::array();
    for (int i = 0; i < 5000; ++i) deep = Json::array({std::move(deep)});
    CHECK(schemaProblems(Json{{"default", deep}}) == std::vector<std::string>{"/default"});
    auto found = violations(j(R"({"properties":{"a":{"uniqueItems":true}}})"), Json{{"a", Json::array({deep, deep})}});
    CHECK(found == Violations{{"/", {"is nested deeper than 64 levels"}}});
  }
  SUBCASE("a backtracking-prone pattern on a long string finishes quickly") {
    const Json schema = j(R"({"properties":{"s":{"pattern":"^(a+)+$"}}})");
    const auto start = std::chrono::steady_clock::now();
    CHECK(violations(schema, Json{{"s", std::string(5000, 'a') + "b"}}).size() == 1);
    CHECK(violations(schema, Json{{"s", std::string(100000, 'a')}}).empty());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  }
}

TEST_CASE("json schema: a kafka-like Universe config.json resolves user options as Cosmos does") {
  const Json schema = j(R"({
    "$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
    "properties": {
      "service": {"type": "object", "description": "DC/OS service configuration", "properties": {
        "name": {"type": "string", "default": "kafka", "pattern": "^[a-z][a-z0-9-]*$"},
        "user": {"type": "string", "default": "nobody"},
        "placement_constraint": {"type": "array", "default": [], "items": {"type": "array", "items": {"type": "string"}}},
        "virtual_network_enabled": {"type": "boolean", "default": false}},
        "required": ["name", "user"], "additionalProperties": false},
      "brokers": {"type": "object", "properties": {
        "count": {"type": "integer", "default": 3, "minimum": 1},
        "cpus": {"type": "number", "default": 1, "minimum": 0.1, "exclusiveMinimum": false},
        "mem": {"type": "integer", "default": 2048, "minimum": 512},
        "heap": {"type": "object", "properties": {"size": {"type": "integer", "default": 1024, "minimum": 256}}},
        "disk_type": {"type": "string", "enum": ["ROOT", "MOUNT"], "default": "ROOT"},
        "port": {"type": "integer", "default": 9092, "minimum": 0, "maximum": 65535}},
        "required": ["count", "cpus", "mem"]},
      "kafka": {"type": "object", "properties": {
        "artifact_base_url": {"type": "string", "format": "uri", "media": {"type": "application/x-tar"},
                              "default": "https://downloads.apache.org/kafka/3.7.0"},
        "log_retention_hours": {"type": "integer", "default": 168, "minimum": 1},
        "extra_args": {"type": ["string", "null"], "default": null}}}
    }, "required": ["service", "brokers"]})");
  REQUIRE(checkSchema(schema).ok());

  SUBCASE("defaults alone are valid") {
    auto resolved = resolveOptions(schema, Json());
    REQUIRE(resolved.ok());
    CHECK((*resolved)["brokers"] == j(R"({"count":3,"cpus":1,"mem":2048,"heap":{"size":1024},"disk_type":"ROOT","port":9092})"));
    CHECK((*resolved)["service"]["name"] == "kafka");
    CHECK((*resolved)["kafka"]["extra_args"].is_null());
  }
  SUBCASE("user options are deep-merged over the defaults, user winning, arrays replaced") {
    auto resolved = resolveOptions(schema, j(R"({"service":{"name":"kafka-prod","placement_constraint":[["hostname","UNIQUE"]]},
        "brokers":{"count":5,"heap":{"size":4096}},"kafka":{"artifact_base_url":"http://mirror.local/kafka"}})"));
    REQUIRE(resolved.ok());
    CHECK((*resolved)["service"] == j(R"({"name":"kafka-prod","user":"nobody","placement_constraint":[["hostname","UNIQUE"]],
        "virtual_network_enabled":false})"));
    CHECK((*resolved)["brokers"]["count"] == 5);
    CHECK((*resolved)["brokers"]["mem"] == 2048);
    CHECK((*resolved)["brokers"]["heap"]["size"] == 4096);
    CHECK((*resolved)["kafka"]["artifact_base_url"] == "http://mirror.local/kafka");
    CHECK((*resolved)["kafka"]["log_retention_hours"] == 168);
  }
  SUBCASE("bad user options: every violation with its path, nothing resolved") {
    auto resolved = resolveOptions(schema, j(R"({"service":{"name":"Kafka_1","usr":"root"},
        "brokers":{"count":0,"cpus":"2","disk_type":"SSD","port":70000,"heap":{"size":1.5}},
        "kafka":{"extra_args":7}})"));
    REQUIRE_FALSE(resolved.ok());
    CHECK(resolved.error().code == ErrorCode::kUnprocessable);
    Violations found;
    for (const auto& d : resolved.error().details) found[d.path] = d.errors;
    CHECK(found == Violations{
        {"/service", {"additional property 'usr' is not allowed"}},
        {"/service/name", {"does not match pattern '^[a-z][a-z0-9-]*$'"}},
        {"/brokers/count", {"must be >= 1"}},
        {"/brokers/cpus", {"must be a number"}},
        {"/brokers/disk_type", {R"(must be one of ["ROOT", "MOUNT"])"}},
        {"/brokers/port", {"must be <= 65535"}},
        {"/brokers/heap/size", {"must be an integer"}},
        {"/kafka/extra_args", {"must be a string or null"}}});
  }
  SUBCASE("options that are not an object are refused") {
    auto resolved = resolveOptions(schema, j("[1]"));
    REQUIRE_FALSE(resolved.ok());
    CHECK(resolved.error().details.front().path == "/");
  }
}
