#include "universe/mustache.hpp"
#include "universe/json_schema.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using dcos::ErrorCode;
using dcos::Json;
using dcos::universe::deepMerge;
using dcos::universe::renderMarathonTemplate;
using dcos::universe::renderMustache;

namespace {

struct Case {
  const char* name;
  std::string tmpl;
  const char* data;  // JSON text
  std::string expected;
};

void runTable(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CAPTURE(c.tmpl);
    auto out = renderMustache(c.tmpl, Json::parse(c.data));
    REQUIRE_MESSAGE(out.ok(), out.error().message);
    CHECK(*out == c.expected);
  }
}

std::string render(const std::string& tmpl, const char* data) {
  auto out = renderMustache(tmpl, Json::parse(data));
  REQUIRE_MESSAGE(out.ok(), out.error().message);
  return *out;
}

std::string renderError(const std::string& tmpl) {
  auto out = renderMustache(tmpl, Json::object());
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().code == ErrorCode::kUnprocessable);
  return out.error().message;
}

}  // namespace

// Our own table of the mustache specification's cases (specs/interpolation.yml), minus HTML
// escaping, which Cosmos turns off.
TEST_CASE("mustache spec: interpolation") {
  runTable({
      {"no interpolation", "Hello from {Mustache}!\n", "{}", "Hello from {Mustache}!\n"},
      {"basic", "Hello, {{subject}}!\n", R"({"subject":"world"})", "Hello, world!\n"},
      {"integer", "\"{{mph}} miles an hour!\"", R"({"mph":85})", "\"85 miles an hour!\""},
      {"decimal", "\"{{power}} jiggawatts!\"", R"({"power":1.210})", "\"1.21 jiggawatts!\""},
      {"null", "I ({{cannot}}) be seen!", R"({"cannot":null})", "I () be seen!"},
      {"context miss", "I ({{cannot}}) be seen!", "{}", "I () be seen!"},
      {"dotted names", "{{person.name}} == {{#person}}{{name}}{{/person}}",
       R"({"person":{"name":"Joe"}})", "Joe == Joe"},
      {"dotted arbitrary depth", "{{a.b.c.d.e.name}}",
       R"({"a":{"b":{"c":{"d":{"e":{"name":"Phil"}}}}}})", "Phil"},
      {"dotted broken chains", "{{a.b.c}} ==", R"({"a":{}})", " =="},
      {"dotted broken chain resolution", "{{a.b.c.name}} ==",
       R"({"a":{"b":{}},"c":{"name":"Jim"}})", " =="},
      {"dotted initial resolution", "{{#a}}{{b.c.d.e.name}}{{/a}}",
       R"({"a":{"b":{"c":{"d":{"e":{"name":"Phil"}}}}},"b":{"c":{"d":{"e":{"name":"Wrong"}}}}})",
       "Phil"},
      {"dotted context precedence", "{{#a}}{{b.c}}{{/a}}", R"({"a":{"b":{}},"b":{"c":"ERROR"}})", ""},
      {"implicit iterator", "Hello, {{.}}!\n", R"("world")", "Hello, world!\n"},
      {"surrounding whitespace", "| {{string}} |", R"({"string":"---"})", "| --- |"},
      {"standalone", "  {{string}}\n", R"({"string":"---"})", "  ---\n"},
      {"with padding", "|{{ string }}|", R"({"string":"---"})", "|---|"},
      {"triple mustache padding", "|{{{ string }}}|{{& string }}|", R"({"string":"---"})", "|---|---|"},
  });
}

TEST_CASE("mustache spec: sections") {
  runTable({
      {"truthy", "{{#boolean}}This should be rendered.{{/boolean}}", R"({"boolean":true})",
       "This should be rendered."},
      {"falsey", "{{#boolean}}This should not be rendered.{{/boolean}}", R"({"boolean":false})", ""},
      {"null is falsey", "{{#null}}no{{/null}}", R"({"null":null})", ""},
      {"context", "{{#context}}Hi {{name}}.{{/context}}", R"({"context":{"name":"Joe"}})", "Hi Joe."},
      {"parent contexts", "{{#sec}}{{a}}, {{b}}, {{c.d}}{{/sec}}",
       R"({"a":"foo","b":"wrong","sec":{"b":"bar"},"c":{"d":"baz"}})", "foo, bar, baz"},
      {"variable test", "{{#foo}}{{.}} is {{foo}}{{/foo}}", R"({"foo":"bar"})", "bar is bar"},
      {"list", "{{#list}}{{item}}{{/list}}", R"({"list":[{"item":1},{"item":2},{"item":3}]})", "123"},
      {"empty list", "{{#list}}Yay lists!{{/list}}", R"({"list":[]})", ""},
      {"doubled", "{{#bool}}\n* first\n{{/bool}}\n* {{two}}\n{{#bool}}\n* third\n{{/bool}}\n",
       R"({"bool":true,"two":"second"})", "* first\n* second\n* third\n"},
      {"nested truthy", "| A {{#bool}}B {{#bool}}C{{/bool}} D{{/bool}} E |", R"({"bool":true})",
       "| A B C D E |"},
      {"nested falsey", "| A {{#bool}}B {{#bool}}C{{/bool}} D{{/bool}} E |", R"({"bool":false})",
       "| A  E |"},
      {"implicit iterator string", "\"{{#list}}({{.}}){{/list}}\"", R"({"list":["a","b","c"]})",
       "\"(a)(b)(c)\""},
      {"implicit iterator integer", "\"{{#list}}({{.}}){{/list}}\"", R"({"list":[1,2,3]})",
       "\"(1)(2)(3)\""},
      {"implicit iterator decimal", "\"{{#list}}({{.}}){{/list}}\"", R"({"list":[1.10,2.20]})",
       "\"(1.1)(2.2)\""},
      {"implicit iterator array", "\"{{#list}}({{#.}}{{.}}{{/.}}){{/list}}\"",
       R"({"list":[[1,2,3],["a","b","c"]]})", "\"(123)(abc)\""},
      {"dotted names truthy", "{{#a.b.c}}Here{{/a.b.c}} == Here", R"({"a":{"b":{"c":true}}})",
       "Here == Here"},
      {"dotted names broken chains", "{{#a.b.c}}Here{{/a.b.c}} == ", R"({"a":{}})", " == "},
      {"surrounding whitespace", " | {{#boolean}}\t|\t{{/boolean}} | \n", R"({"boolean":true})",
       " | \t|\t | \n"},
      {"internal whitespace", " | {{#boolean}} {{! Important Whitespace }}\n {{/boolean}} | \n",
       R"({"boolean":true})", " |  \n  | \n"},
      {"indented inline", " {{#boolean}}YES{{/boolean}}\n {{#boolean}}GOOD{{/boolean}}\n",
       R"({"boolean":true})", " YES\n GOOD\n"},
      {"standalone lines", "| This Is\n{{#boolean}}\n|\n{{/boolean}}\n| A Line\n",
       R"({"boolean":true})", "| This Is\n|\n| A Line\n"},
      {"indented standalone lines", "| This Is\n  {{#boolean}}\n|\n  {{/boolean}}\n| A Line\n",
       R"({"boolean":true})", "| This Is\n|\n| A Line\n"},
      {"standalone line endings", "|\r\n{{#boolean}}\r\n{{/boolean}}\r\n|", R"({"boolean":true})",
       "|\r\n|"},
      {"standalone without previous line", "  {{#boolean}}\n#{{/boolean}}\n/",
       R"({"boolean":true})", "#\n/"},
      {"standalone without newline", "#{{#boolean}}\n/\n  {{/boolean}}", R"({"boolean":true})",
       "#\n/\n"},
      {"padding", "|{{# boolean }}={{/ boolean }}|", R"({"boolean":true})", "|=|"},
  });
}

TEST_CASE("mustache spec: inverted sections") {
  runTable({
      {"falsey", "\"{{^boolean}}This should be rendered.{{/boolean}}\"", R"({"boolean":false})",
       "\"This should be rendered.\""},
      {"truthy", "\"{{^boolean}}no{{/boolean}}\"", R"({"boolean":true})", "\"\""},
      {"null is falsey", "\"{{^null}}yes{{/null}}\"", R"({"null":null})", "\"yes\""},
      {"context", "\"{{^context}}Hi {{name}}.{{/context}}\"", R"({"context":{"name":"Joe"}})", "\"\""},
      {"list", "\"{{^list}}{{n}}{{/list}}\"", R"({"list":[{"n":1}]})", "\"\""},
      {"empty list", "\"{{^list}}Yay lists!{{/list}}\"", R"({"list":[]})", "\"Yay lists!\""},
      {"missing", "[{{^missing}}found key 'missing'{{/missing}}]", "{}", "[found key 'missing']"},
      {"dotted names falsey", "\"{{^a.b.c}}Not Here{{/a.b.c}}\" == \"Not Here\"",
       R"({"a":{"b":{"c":false}}})", "\"Not Here\" == \"Not Here\""},
      {"standalone lines", "| This Is\n{{^boolean}}\n|\n{{/boolean}}\n| A Line\n",
       R"({"boolean":false})", "| This Is\n|\n| A Line\n"},
  });
}

TEST_CASE("mustache spec: comments") {
  runTable({
      {"inline", "12345{{! Comment Block! }}67890", "{}", "1234567890"},
      {"multiline", "12345{{!\n  This is a\n  multi-line comment...\n}}67890\n", "{}", "1234567890\n"},
      {"standalone", "Begin.\n{{! Comment Block! }}\nEnd.\n", "{}", "Begin.\nEnd.\n"},
      {"indented standalone", "Begin.\n  {{! Indented Comment Block! }}\nEnd.\n", "{}",
       "Begin.\nEnd.\n"},
      {"standalone line endings", "|\r\n{{! Standalone Comment }}\r\n|", "{}", "|\r\n|"},
      {"standalone without previous line", "  {{! I'm Still Standalone }}\n!", "{}", "!"},
      {"standalone without newline", "!\n  {{! I'm Still Standalone }}", "{}", "!\n"},
      {"multiline standalone", "Begin.\n{{!\nSomething's going on here...\n}}\nEnd.\n", "{}",
       "Begin.\nEnd.\n"},
      {"indented inline", "  12 {{! 34 }}\n", "{}", "  12 \n"},
      {"surrounding whitespace", "12345 {{! Comment Block! }} 67890", "{}", "12345  67890"},
  });
}

TEST_CASE("mustache spec: set delimiters") {
  runTable({
      {"pair behavior", "{{=<% %>=}}(<%text%>)", R"({"text":"Hey!"})", "(Hey!)"},
      {"special characters", "({{=[ ]=}}[text])", R"({"text":"It worked!"})", "(It worked!)"},
      {"sections",
       "[\n{{#section}}\n  {{data}}\n  |data|\n{{/section}}\n\n{{= | | =}}\n|#section|\n"
       "  {{data}}\n  |data|\n|/section|\n]\n",
       R"({"section":true,"data":"I got interpolated."})",
       "[\n  I got interpolated.\n  |data|\n\n  {{data}}\n  I got interpolated.\n]\n"},
      {"inverted sections",
       "[\n{{^section}}\n  {{data}}\n  |data|\n{{/section}}\n\n{{= | | =}}\n|^section|\n"
       "  {{data}}\n  |data|\n|/section|\n]\n",
       R"({"section":false,"data":"I got interpolated."})",
       "[\n  I got interpolated.\n  |data|\n\n  {{data}}\n  I got interpolated.\n]\n"},
      {"surrounding whitespace", "| {{=@ @=}} |", "{}", "|  |"},
      {"outlying whitespace inline", " | {{=@ @=}}\n", "{}", " | \n"},
      {"standalone tag", "Begin.\n{{=@ @=}}\nEnd.\n", "{}", "Begin.\nEnd.\n"},
      {"indented standalone tag", "Begin.\n  {{=@ @=}}\nEnd.\n", "{}", "Begin.\nEnd.\n"},
      {"standalone line endings", "|\r\n{{= @ @ =}}\r\n|", "{}", "|\r\n|"},
      {"standalone without previous line", "  {{=@ @=}}\n=", "{}", "="},
      {"standalone without newline", "=\n  {{=@ @=}}", "{}", "=\n"},
      {"pair with padding", "|{{= @   @ =}}|", "{}", "||"},
  });
}

TEST_CASE("mustache values are inserted raw: nothing is HTML-escaped") {
  const char* data = R"({"x":"a & b < c > d"})";
  CHECK(render("{{x}}|{{{x}}}|{{&x}}", data) == "a & b < c > d|a & b < c > d|a & b < c > d");
}

TEST_CASE("mustache strings are JSON-escaped without their quotes") {
  const char* data = R"({"service":{"cmd":"echo \"hi\" \\ done\n\tnext"}})";
  CHECK(render("{{service.cmd}}", data) == R"(echo \"hi\" \\ done\n\tnext)");
  auto out = renderMustache(R"({"cmd": "{{service.cmd}}"})", Json::parse(data));
  REQUIRE(out.ok());
  CHECK(Json::parse(*out)["cmd"] == "echo \"hi\" \\ done\n\tnext");
  CHECK(render("{{s}}", R"({"s":"caf\u00e9 \u0001"})") == "café \\u0001");
}

TEST_CASE("mustache numbers: integral values print as integers, others shortest") {
  CHECK(render("{{a}} {{b}} {{c}} {{d}} {{e}}", R"({"a":3,"b":3.0,"c":0.1,"d":-2.5,"e":1024.0})") ==
        "3 3 0.1 -2.5 1024");
  CHECK(render("{{big}}", R"({"big":10000000000})") == "10000000000");
}

TEST_CASE("mustache booleans, null and missing values") {
  CHECK(render("{{t}} {{f}} [{{n}}] [{{missing}}] [{{a.missing.deeper}}]",
               R"({"t":true,"f":false,"n":null,"a":{}})") == "true false [] [] []");
}

TEST_CASE("mustache arrays and objects print as JSON") {
  CHECK(render("{{a}}", R"({"a":["a","b"]})") == R"(["a", "b"])");
  CHECK(render("{{a}}", R"({"a":[]})") == "[]");
  CHECK(render("{{a}}", R"({"a":[["hostname","UNIQUE"],["rack","LIKE","r\"1"]]})") ==
        R"([["hostname", "UNIQUE"], ["rack", "LIKE", "r\"1"]])");
  CHECK(render("{{a}}", R"({"a":[1,2.5,true,null,{"k":"v"}]})") ==
        R"([1, 2.5, true, null, {"k": "v"}])");
  CHECK(render("{{o}}", R"({"o":{"a":1,"b":"x"}})") == R"({"a": 1, "b": "x"})");
  auto out = renderMustache(R"({"constraints": {{service.constraints}}})",
                            Json::parse(R"({"service":{"constraints":[["hostname","UNIQUE"]]}})"));
  REQUIRE(out.ok());
  CHECK(Json::parse(*out)["constraints"] == Json::parse(R"([["hostname","UNIQUE"]])"));
}

TEST_CASE("mustache names may contain hyphens") {
  CHECK(render("{{resource.assets.uris.kafka-tgz}}",
               R"({"resource":{"assets":{"uris":{"kafka-tgz":"https://x/kafka.tgz"}}}})") ==
        "https://x/kafka.tgz");
}

TEST_CASE("mustache empty strings are falsy in sections, as in mustache.java") {
  const char* data = R"({"service":{"user":"","role":"slave_public"}})";
  CHECK(render(R"({{#service.user}}"user": "{{service.user}}", {{/service.user}}x)", data) == "x");
  CHECK(render(R"({{^service.user}}none{{/service.user}})", data) == "none");
  CHECK(render(R"({{#service.role}}"role": "{{.}}"{{/service.role}})", data) ==
        R"("role": "slave_public")");
}

TEST_CASE("mustache asJson lambda prints a value as complete JSON") {
  const char* data = R"({"service":{"name":"k\"1","constraints":[["a","b"]],"n":2}})";
  CHECK(render("{{#asJson}}service.name{{/asJson}}", data) == R"("k\"1")");
  CHECK(render("{{#asJson}} service.constraints {{/asJson}}", data) == R"([["a", "b"]])");
  CHECK(render("{{#asJson}}service.n{{/asJson}}", data) == "2");
  CHECK(render("{{#asJson}}service.nope{{/asJson}}", data) == "null");
  // A scope that defines asJson itself wins over the built-in lambda.
  CHECK(render("{{#asJson}}x{{/asJson}}", R"({"asJson":false})") == "");
}

TEST_CASE("mustache syntax errors name the line") {
  CHECK(renderError("a\n{{#x}}\nb") == "unclosed section \"x\" opened on line 2");
  CHECK(renderError("{{#x}}\n\n{{/y}}") ==
        "closing tag \"y\" on line 3 does not match section \"x\" opened on line 1");
  CHECK(renderError("ok\n{{/y}}") == "closing tag \"y\" on line 2 has no open section");
  CHECK(renderError("a\nb\n{{name") == "unclosed tag \"{{\" on line 3");
  CHECK(renderError("{{=<%>=}}").find("malformed set-delimiter tag on line 1") == 0);
}

TEST_CASE("mustache scope: deepMerge merges objects recursively and replaces everything else") {
  Json base = Json::parse(R"({"a":{"b":1,"c":[1,2]},"d":"x"})");
  Json overlay = Json::parse(R"({"a":{"c":[3],"e":true},"d":{"k":1}})");
  CHECK(deepMerge(base, overlay) == Json::parse(R"({"a":{"b":1,"c":[3],"e":true},"d":{"k":1}})"));
  CHECK(deepMerge(base, Json::object()) == base);
}

namespace {
const char* kMarathonTemplate = R"({
  "id": "{{service.name}}",
  "cpus": {{service.cpus}},
  "mem": {{service.mem}},
  "instances": {{brokers.count}},
  "cmd": "{{service.cmd}}",
  {{#service.user}}
  "user": "{{service.user}}",
  {{/service.user}}
  "constraints": {{service.constraints}},
  "env": {
    "KAFKA_HEAP_OPTS": "-Xmx{{brokers.heap}}M",
    "VERBOSE": "{{service.verbose}}"
  },
  "fetch": [
    {{#resource.assets.uris}}
    { "uri": "{{kafka-tgz}}", "extract": true }
    {{/resource.assets.uris}}
  ],
  "labels": {
    "DCOS_SERVICE_NAME": "{{service.name}}"{{#service.virtual_network}},
    "NETWORK": "on"{{/service.virtual_network}}
  }
}
)";
}  // namespace

TEST_CASE("a realistic marathon.json.mustache renders into a JSON object") {
  Json options = Json::parse(R"({
    "service": {"name": "kafka", "cpus": 1.0, "mem": 2048, "cmd": "bin/start \"$X\"\n",
                "user": "", "constraints": [["hostname", "UNIQUE"]], "verbose": false,
                "virtual_network": false},
    "brokers": {"count": 3, "heap": 512}
  })");
  Json resource = Json::parse(R"({"assets": {"uris": {"kafka-tgz": "https://downloads/kafka.tgz"}}})");
  auto app = renderMarathonTemplate(kMarathonTemplate, options, resource);
  REQUIRE_MESSAGE(app.ok(), app.error().message);
  CHECK((*app)["id"] == "kafka");
  CHECK((*app)["cpus"] == 1);
  CHECK((*app)["mem"] == 2048);
  CHECK((*app)["instances"] == 3);
  CHECK((*app)["cmd"] == "bin/start \"$X\"\n");
  CHECK_FALSE(app->contains("user"));
  CHECK((*app)["constraints"] == Json::parse(R"([["hostname","UNIQUE"]])"));
  CHECK((*app)["env"]["KAFKA_HEAP_OPTS"] == "-Xmx512M");
  CHECK((*app)["env"]["VERBOSE"] == "false");
  CHECK((*app)["fetch"][0]["uri"] == "https://downloads/kafka.tgz");
  CHECK((*app)["labels"] == Json::parse(R"({"DCOS_SERVICE_NAME":"kafka"})"));

  // User options override the defaults; "resource" always comes from resource.json.
  options["service"]["user"] = "nobody";
  options["resource"] = "ignored";
  app = renderMarathonTemplate(kMarathonTemplate, options, resource);
  REQUIRE_MESSAGE(app.ok(), app.error().message);
  CHECK((*app)["user"] == "nobody");
}

TEST_CASE("mustache: a rendered template that is not a JSON object is an error") {
  auto bad = renderMarathonTemplate("{\n  \"cpus\": {{cpus}},\n  \"mem\": 1\n}", Json::object(),
                                    nullptr);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kUnprocessable);
  const std::string& msg = bad.error().message;
  CHECK(msg.rfind("rendered template is not a JSON object: ", 0) == 0);
  CHECK(msg.find("line 2, column 11") != std::string::npos);
  CHECK(msg.find("\"cpus\": ,") != std::string::npos);

  auto array = renderMarathonTemplate("[{{n}}]", Json::parse(R"({"n":1})"), nullptr);
  REQUIRE_FALSE(array.ok());
  CHECK(array.error().message == "rendered template is not a JSON object: it is a JSON array");

  auto syntax = renderMarathonTemplate("{{#x}}", Json::object(), nullptr);
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.error().message.find("unclosed section") != std::string::npos);
}
