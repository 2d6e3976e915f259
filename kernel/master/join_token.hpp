#pragma once
// The join token: the shared secret an agent presents to join a cluster. `dcos master` (and
// `dcos dev`) make one on first start in <work_dir>/join-token and reuse it afterwards; `dcos
// master token` prints it; `dcos agent --token` sends it on every agent API call as
// `Authorization: Bearer <token>`. The master checks it at the HTTP layer of /api/v1/agents only
// (schedulers, the operator API and /v2 stay open), so in-process agents (benchmarks calling
// Master::subscribeAgent) need none.

#include "common/clock.hpp"
#include "common/http/http.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dcos::kernel {

inline constexpr const char* kJoinTokenFile = "join-token";

struct JoinToken {
  std::string value;
  bool created = false;  // made by this call (first start of the master)
};

// Reads <workDir>/join-token, or creates it: 32 hex characters from /dev/urandom, written to a
// temporary file with mode 0600 and renamed into place. kIo when it cannot be read or written,
// kInvalidArgument when the file holds something that is not a token.
Result<JoinToken> loadOrCreateJoinToken(const std::string& workDir);

// Reads <workDir>/join-token. kNotFound when there is none, kIo when it cannot be read (e.g. not
// root), kInvalidArgument when it is not a token.
Result<std::string> readJoinToken(const std::string& workDir);

// Whether `given` equals `expected`, in time that depends only on their lengths.
bool joinTokenMatches(std::string_view expected, std::string_view given);

// The Authorization header value carrying `token`, and the token in such a value ("" if none).
std::string joinTokenHeader(const std::string& token);
std::string tokenFromHeader(std::string_view authorization);

// Admits agent API requests that carry the token. Refusals are logged at warn, at most once per
// kLogInterval per remote IP and kind (missing or wrong; an agent restarted by systemd retries),
// counting the ones not logged. Loop thread only.
class JoinTokenCheck {
 public:
  static constexpr std::chrono::seconds kLogInterval{10};

  // An empty `token` admits everything (in-process masters of tests have none).
  JoinTokenCheck(std::string token, const Clock& clock);

  // Nothing when `request` carries the token, else the 401 to answer with.
  std::optional<http::Response> refusal(const http::Request& request);

 private:
  struct Logged {
    TimePoint at;
    uint64_t suppressed = 0;
  };
  std::string token_;
  const Clock& clock_;
  std::map<std::string, Logged> logged_;  // by "<remote IP> <missing|wrong>"
};

}  // namespace dcos::kernel
