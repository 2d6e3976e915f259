#pragma once
// What the server does with one query packet: answer it from the zone, refuse it, forward it to
// the upstream resolvers, or drop it. Pure code, so every rule is unit tested without sockets.

#include "discovery/zone.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace dcos::discovery {

struct Reply {
  enum class Action { kAnswer, kForward, kDrop } action = Action::kDrop;
  std::vector<uint8_t> bytes;  // the answer (kAnswer)
};

struct QueryContext {
  bool overUdp = true;     // answers over UDP are cut to 512 bytes or the client's EDNS0 size
  bool recurse = true;     // names outside the domain are forwarded (else REFUSED)
  uint32_t rotation = 0;   // turns multi-record answers, for load spreading
};

// Rules: fewer than 12 bytes or a response (QR set) -> dropped (no reflection); malformed ->
// FORMERR; opcode other than QUERY -> NOTIMP; not exactly one question -> FORMERR; a zone
// transfer or a class other than IN/ANY -> REFUSED; in the domain -> the zone's answer; outside
// it -> kForward when recursing, else REFUSED.
Reply answerQuery(std::span<const uint8_t> packet, const Zone& zone, const QueryContext& context);

// The answer a server gives when it cannot get one from upstream: SERVFAIL for this query.
std::vector<uint8_t> serverFailure(std::span<const uint8_t> query);

}  // namespace dcos::discovery
