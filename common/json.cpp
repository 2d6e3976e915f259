#include "common/json.hpp"

namespace dcos {

Result<Json> parseJson(std::string_view text) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] "; the rest is readable.
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    return Error(ErrorCode::kInvalidArgument, "Invalid JSON: " + what,
                 {{"/", {"malformed JSON at byte " + std::to_string(e.byte)}}});
  }
}

}  // namespace dcos
