#pragma once
// JSON is nlohmann::json everywhere; parsing from untrusted input goes through parseJson so a
// malformed body becomes an Error naming where it broke, never an exception.

#include "common/result.hpp"

#include <nlohmann/json.hpp>

#include <string_view>

namespace dcos {

using Json = nlohmann::json;

// Parses `text` as JSON. On failure the error is kInvalidArgument with the byte offset.
Result<Json> parseJson(std::string_view text);

}  // namespace dcos
