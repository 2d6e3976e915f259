#pragma once
// A Mustache renderer with the semantics Cosmos gives Universe's marathon.json.mustache, so real
// Universe packages render to the same Marathon JSON here as on DC/OS. Pure functions: no I/O.
//
// What a value prints as ({{x}}, {{{x}}} and {{&x}} are the same: nothing is HTML-escaped):
//   string  -> JSON-escaped without its surrounding quotes, so `"cmd": "{{service.cmd}}"` stays
//              valid JSON whatever the string holds;
//   number  -> integral values as integers (3, never 3.0), others as the shortest round-trip form;
//   boolean -> true / false;  null or missing -> nothing;
//   array   -> JSON with ", " between elements (`["a", "b"]`, `[]`), strings keeping their quotes;
//   object  -> JSON in the same style (`{"k": 1, "l": "v"}`).
// Names are dotted paths through objects (`{{resource.assets.uris.kafka-tgz}}`, hyphens allowed);
// `{{.}}` is the current item. Sections iterate non-empty arrays and render once for any other
// truthy value, pushing it on the context stack; false, null, "", [] and missing are falsy (the
// empty string too, as in mustache.java, which Cosmos uses). Comments, set-delimiter tags and the
// spec's standalone-line rules are supported; partials render nothing.
// Lambda: `{{#asJson}}service.constraints{{/asJson}}` prints the named value as complete JSON
// (strings with their quotes, missing as null), unless the scope itself defines "asJson".

#include "common/json.hpp"
#include "common/result.hpp"

#include <string>

namespace dcos::universe {

// Renders `tmpl` against `scope`. Fails with kUnprocessable naming the line for an unclosed tag,
// an unclosed section, a closing tag that does not match, or a malformed set-delimiter tag.
Result<std::string> renderMustache(const std::string& tmpl, const Json& scope);

// The Cosmos pipeline: scope = deepMerge(options (json_schema.hpp), {"resource": resource}) (`options` already has
// the schema defaults filled in; a null `resource` adds nothing), render, then parse the output
// as one JSON object. A result that is not a JSON object fails with kUnprocessable
// "rendered template is not a JSON object: ..." giving the parse error's line, column and a
// snippet of the rendered text around it.
Result<Json> renderMarathonTemplate(const std::string& tmpl, const Json& options,
                                    const Json& resource);

}  // namespace dcos::universe
