#pragma once
// What this binary is: version, the commit it was built from, when, and the library versions
// linked into it. `dcos --version`, GET /version and GET_VERSION all report these.

#include <string>
#include <utility>
#include <vector>

namespace dcos::version {

const char* version();    // "0.1.0"
const char* gitCommit();  // "1a2b3c4d5e6f" or "1a2b3c4d5e6f-dirty"
const char* buildDate();  // "2026-11-25T12:00:00Z"

// ("boost", "1.74.0"), ("sqlite", "3.40.1"), ...
std::vector<std::pair<std::string, std::string>> libraries();

// The multi-line text of `dcos --version`.
std::string text();

}  // namespace dcos::version
