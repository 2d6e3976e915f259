#pragma once
// Answers already encoded, so a repeated question costs a lookup and a copy: the server keeps one
// per thread. A query takes the fast path when it is plain — QUERY opcode, one question with an
// uncompressed name, at most an EDNS0 OPT record (version 0) — and its answer came from the zone
// (forwards are never cached). A hit is the cached answer with the client's id, RD bit and
// question bytes (so its spelling of the name, e.g. 0x20 case randomization, comes back as sent;
// answer names point at the question). Every other query goes through answerQuery unchanged.
// Multi-record answers are kept in up to kRotations rotations, handed out in turn.

#include "discovery/dns_answer.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace dcos::discovery {

class AnswerCache {
 public:
  static constexpr size_t kRotations = 16;
  static constexpr size_t kMaxEntries = 20000;  // beyond: emptied (a flood of distinct names)

  // The reply to `packet`, from the cache or from answerQuery. `zoneSerial` identifies `zone`;
  // a new one empties the cache.
  Reply answer(std::span<const uint8_t> packet, const Zone& zone, const QueryContext& context);

  size_t size() const { return entries_.size(); }
  uint64_t hits() const { return hits_; }

 private:
  struct Entry {
    size_t rotations = 0;  // 0 until the first answer says how many records rotate
    std::vector<std::vector<uint8_t>> variants;  // by rotation; empty when not built yet
  };
  std::unordered_map<std::string, Entry> entries_;
  const Zone* zone_ = nullptr;
  uint32_t serial_ = 0;
  uint64_t hits_ = 0;
  std::string key_;  // reused
};

}  // namespace dcos::discovery
