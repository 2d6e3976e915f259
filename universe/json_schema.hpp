#pragma once
// The JSON Schema (draft-04) subset Universe packages use in config.json to describe their
// install options, and Cosmos' way of turning a user's options into the final ones: the schema's
// defaults deep-merged with the user's options, then validated. Pure functions over JSON.
//
// Supported keywords: type (one name or an array of names), properties, required, default, enum,
// minimum/maximum with the draft-04 boolean exclusiveMinimum/exclusiveMaximum, multipleOf,
// minLength/maxLength, pattern (ECMAScript, unanchored search), items (one schema), minItems,
// maxItems, uniqueItems, additionalProperties (boolean or schema), minProperties/maxProperties.
// Annotations (title, description, $schema, id, format, media, definitions) and names that are no
// keyword at all are ignored, as Cosmos does. Keywords we cannot honour ($ref, allOf, anyOf,
// oneOf, not, patternProperties, dependencies, additionalItems, items as an array) make the schema
// invalid, so no option is ever accepted because a constraint was silently skipped.
//
// As draft-04 says, "integer" means a JSON number written without fraction or exponent: 5 is an
// integer, 5.0 is a number only. enum and uniqueItems compare numbers by value (1 equals 1.0).

#include "common/json.hpp"
#include "common/result.hpp"

namespace dcos::universe {

// Schemas nested deeper than this, and option or default values nested deeper, are refused.
inline constexpr int kMaxSchemaDepth = 64;

// Checks the package's options schema once. A malformed keyword, an unsupported one, an
// over-complex pattern or nesting beyond kMaxSchemaDepth is kInvalidArgument with one ErrorDetail
// per JSON pointer inside the schema ("/properties/brokers/properties/count/minimum").
Result<void> checkSchema(const Json& schema);

// Validates `options` against `schema`, reporting every violation: kUnprocessable
// "Options do not match the package's config schema" with one ErrorDetail per instance path
// ("/service/name", "/" for the root) listing its errors ("must be >= 1", "is required",
// "must be one of [\"a\", \"b\"]", "does not match pattern '^[a-z]+$'",
// "additional property 'x' is not allowed", "must be an integer"). An invalid schema gives
// checkSchema's error instead.
Result<void> validateOptions(const Json& schema, const Json& options);

// The defaults the schema declares, as an object: each property's "default"; a property without
// one but with "properties" of its own gets the object of its children's defaults (possibly
// empty), recursively, as Cosmos does. Never fails; a non-object schema yields {}.
Json schemaDefaults(const Json& schema);

// Cosmos' merge: `overlay` deep-merged onto `base`; objects merge key by key, anything else
// (arrays included) is replaced by the overlay's value.
Json deepMerge(Json base, const Json& overlay);

// The final options of an install: schemaDefaults(schema) deep-merged with `userOptions` (user
// wins; null means none), then validated. Returns them, or checkSchema's or validateOptions' error;
// options that are not an object are kUnprocessable with path "/".
Result<Json> resolveOptions(const Json& schema, const Json& userOptions);

}  // namespace dcos::universe
