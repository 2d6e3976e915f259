#include "discovery/answer_cache.hpp"

#include <algorithm>

namespace dcos::discovery {
namespace {

uint16_t u16(std::span<const uint8_t> p, size_t at) { return static_cast<uint16_t>(p[at] << 8 | p[at + 1]); }

// The question of a plain query: its name's wire length (from offset 12) and the key the answer
// depends on (lowercase name, type, class, size limit, EDNS). False: not plain, take the slow path.
bool plainQuery(std::span<const uint8_t> p, bool overUdp, size_t& nameLength, std::string& key) {
  if (p.size() < dns::kHeaderSize + 5) return false;
  if ((p[2] & 0xf8) != 0) return false;  // QR set or an opcode other than QUERY
  if (u16(p, 4) != 1 || u16(p, 6) != 0 || u16(p, 8) != 0 || u16(p, 10) > 1) return false;
  size_t pos = dns::kHeaderSize;
  key.clear();
  while (true) {
    if (pos >= p.size()) return false;
    uint8_t len = p[pos];
    if (len == 0) break;
    if (len > dns::kMaxLabel || pos + 1 + len >= p.size()) return false;  // pointers (0xc0) too
    key.push_back(static_cast<char>(len));
    for (size_t i = pos + 1; i <= pos + len; ++i) {
      uint8_t c = p[i];
      key.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    }
    pos += 1 + len;
    if (pos - dns::kHeaderSize > dns::kMaxName - 1) return false;
  }
  nameLength = pos + 1 - dns::kHeaderSize;
  pos += 1;
  if (pos + 4 > p.size()) return false;
  key.append(reinterpret_cast<const char*>(&p[pos]), 4);  // type and class
  pos += 4;
  size_t limit = overUdp ? dns::kUdpLimit : 65535;
  bool edns = u16(p, 10) == 1;
  if (edns) {
    // An OPT record: root owner, type 41, class = the UDP size, version 0, its options skipped.
    if (pos + 11 > p.size() || p[pos] != 0 || u16(p, pos + 1) != dns::type::kOPT || p[pos + 6] != 0) return false;
    if (pos + 11 + u16(p, pos + 9) != p.size()) return false;
    if (overUdp) limit = std::clamp<size_t>(u16(p, pos + 3), dns::kUdpLimit, 4096);
  } else if (pos != p.size()) {
    return false;
  }
  key.push_back(edns ? 'e' : '-');
  key.push_back(static_cast<char>(limit >> 8));
  key.push_back(static_cast<char>(limit & 0xff));
  return true;
}

}  // namespace

Reply AnswerCache::answer(std::span<const uint8_t> packet, const Zone& zone, const QueryContext& context) {
  if (&zone != zone_ || zone.serial() != serial_ || entries_.size() >= kMaxEntries) {
    entries_.clear();
    zone_ = &zone;
    serial_ = zone.serial();
  }
  size_t nameLength = 0;
  if (!plainQuery(packet, context.overUdp, nameLength, key_)) return answerQuery(packet, zone, context);
  Entry& entry = entries_[key_];
  size_t rotation = entry.rotations ? context.rotation % entry.rotations : 0;
  if (entry.rotations && !entry.variants[rotation].empty()) {
    ++hits_;
    Reply reply{Reply::Action::kAnswer, entry.variants[rotation]};
    auto& out = reply.bytes;
    out[0] = packet[0];
    out[1] = packet[1];
    out[2] = static_cast<uint8_t>((out[2] & ~0x01) | (packet[2] & 0x01));  // RD as asked
    std::copy_n(packet.begin() + dns::kHeaderSize, nameLength, out.begin() + dns::kHeaderSize);
    return reply;
  }
  QueryContext c = context;
  c.rotation = static_cast<uint32_t>(rotation);
  Reply reply = answerQuery(packet, zone, c);
  if (reply.action != Reply::Action::kAnswer || reply.bytes.size() < dns::kHeaderSize + nameLength) {
    entries_.erase(key_);  // a forward (or a drop): never cached
    return reply;
  }
  if (!entry.rotations) {
    size_t answers = u16(reply.bytes, 6);
    entry.rotations = std::clamp<size_t>(answers, 1, kRotations);
    entry.variants.resize(entry.rotations);
  }
  entry.variants[rotation] = reply.bytes;
  return reply;
}

}  // namespace dcos::discovery
