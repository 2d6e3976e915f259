#include "discovery/dns_message.hpp"

#include <algorithm>
#include <cstring>

namespace dcos::discovery::dns {
namespace {

// A legal name has at most 127 labels; a legal encoder follows at most one pointer after each
// label, plus one at the start. Strictly backward pointers already rule out loops; the limit
// bounds the work a packet of pointer-to-pointer chains can cause.
constexpr size_t kMaxPointerHops = 128;
constexpr size_t kMinQuestion = 5;  // root name, type, class
constexpr size_t kMinRecord = 11;   // root name, type, class, ttl, rdlength
constexpr size_t kOptSize = 11;     // the OPT record we write: no options
constexpr size_t kMaxPointerOffset = 0x3FFF;

// Why a packet or a name is refused; nullptr when all is well. Static strings keep the hot path
// free of allocations; the public functions turn them into an Error.
using Reason = const char*;

Error invalid(Reason why) { return Error(ErrorCode::kInvalidArgument, why); }

char fold(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

Header decodeHeader(const uint8_t* p) {
  Header h;
  h.id = static_cast<uint16_t>(p[0] << 8 | p[1]);
  h.qr = p[2] & 0x80;
  h.opcode = (p[2] >> 3) & 0x0F;
  h.aa = p[2] & 0x04;
  h.tc = p[2] & 0x02;
  h.rd = p[2] & 0x01;
  h.ra = p[3] & 0x80;
  h.rcode = static_cast<Rcode>(p[3] & 0x0F);
  return h;
}

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}

  size_t left() const { return data_.size() - pos_; }
  bool has(size_t n) const { return left() >= n; }
  void skip(size_t n) { pos_ += n; }

  // Callers check has() first; these only read what is there.
  uint16_t u16() {
    uint16_t v = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  uint32_t u32() {
    uint32_t hi = u16();
    return hi << 16 | u16();
  }

  Reason name(std::string& out);
  Reason rdata(Record& rec, size_t rdlength);

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

void appendEscaped(std::string& out, const uint8_t* label, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    char c = static_cast<char>(label[i]);
    if (c == '.' || c == '\\') out += '\\';
    out += c;
  }
}

Reason Reader::name(std::string& out) {
  out.clear();
  size_t at = pos_;
  // Every pointer must land strictly before the run of labels it ends, so jumps only go
  // backwards and a chain of them always terminates.
  size_t runStart = pos_;
  size_t wire = 1;  // the root's zero octet
  size_t hops = 0;
  bool jumped = false;
  for (;;) {
    if (at >= data_.size()) return "truncated name";
    uint8_t len = data_[at];
    if ((len & 0xC0) == 0xC0) {
      if (at + 1 >= data_.size()) return "truncated compression pointer";
      size_t target = static_cast<size_t>(len & 0x3F) << 8 | data_[at + 1];
      if (target > at) return "forward compression pointer";
      if (target >= runStart) return "compression pointer loop";
      if (++hops > kMaxPointerHops) return "too many compression pointers";
      if (!jumped) pos_ = at + 2;
      jumped = true;
      at = runStart = target;
      continue;
    }
    // 0x40 is also what a 64-byte label's length octet looks like: the wire cannot tell them apart.
    if (len & 0x40) return "label type 0x40 (or a label over 63 bytes)";
    if (len & 0x80) return "label type 0x80";
    ++at;
    if (len == 0) break;
    if (data_.size() - at < len) return "truncated label";
    wire += len + 1;
    if (wire > kMaxName) return "name longer than 255 bytes";
    if (!out.empty()) out += '.';
    appendEscaped(out, data_.data() + at, len);
    at += len;
  }
  if (!jumped) pos_ = at;
  return nullptr;
}

Reason Reader::rdata(Record& rec, size_t rdlength) {
  const size_t end = pos_ + rdlength;  // the caller checked it lies inside the packet
  Reason why = nullptr;
  switch (rec.type) {
    case type::kA:
      if (rdlength != 4) return "A record data is not 4 bytes";
      std::memcpy(rec.a.data(), data_.data() + pos_, 4);
      pos_ = end;
      return nullptr;
    case type::kNS:
    case type::kCNAME:
    case type::kPTR:
      why = name(rec.target);
      break;
    case type::kSOA:
      if (!(why = name(rec.soa.mname)) && !(why = name(rec.soa.rname))) {
        if (!has(20)) return "truncated SOA record";
        for (uint32_t* v : {&rec.soa.serial, &rec.soa.refresh, &rec.soa.retry, &rec.soa.expire, &rec.soa.minimum}) {
          *v = u32();
        }
      }
      break;
    case type::kSRV:
      if (rdlength < 7) return "SRV record data too short";
      for (uint16_t* v : {&rec.srv.priority, &rec.srv.weight, &rec.srv.port}) *v = u16();
      why = name(rec.srv.target);
      break;
    default:
      rec.rdata.assign(reinterpret_cast<const char*>(data_.data() + pos_), rdlength);
      pos_ = end;
      return nullptr;
  }
  // Names may run past rdlength into the next record; the exact match catches that too.
  if (why) return why;
  return pos_ == end ? nullptr : "rdata length does not match its contents";
}

Reason readQuestions(Reader& r, size_t count, std::vector<Question>& out) {
  out.reserve(std::min(count, r.left() / kMinQuestion));  // counts are attacker-chosen
  for (size_t i = 0; i < count; ++i) {
    if (!r.has(kMinQuestion)) return "truncated question";
    Question& q = out.emplace_back();
    if (Reason why = r.name(q.name)) return why;
    if (!r.has(4)) return "truncated question";
    q.type = r.u16();
    q.klass = r.u16();
  }
  return nullptr;
}

// Reads `count` records into `out`; `edns` is non-null for the additional section only, where
// an OPT record sets it instead of becoming a record.
Reason readRecords(Reader& r, size_t count, std::vector<Record>& out,
                   std::optional<uint16_t>* edns) {
  out.reserve(std::min(count, r.left() / kMinRecord));
  for (size_t i = 0; i < count; ++i) {
    if (!r.has(kMinRecord)) return "truncated record";
    Record& rec = out.emplace_back();
    if (Reason why = r.name(rec.name)) return why;
    if (!r.has(10)) return "truncated record";
    rec.type = r.u16();
    rec.klass = r.u16();
    rec.ttl = r.u32();
    const size_t rdlength = r.u16();
    if (!r.has(rdlength)) return "truncated record data";
    if (edns && rec.type == type::kOPT) {
      if (!rec.name.empty()) return "OPT record with a non-root owner name";
      if (edns->has_value()) return "more than one OPT record";
      // RFC 6891 6.2.3: values below 512 are treated as 512. Options are not used here.
      *edns = std::max<uint16_t>(rec.klass, kUdpLimit);
      r.skip(rdlength);
      out.pop_back();
      continue;
    }
    if (Reason why = r.rdata(rec, rdlength)) return why;
  }
  return nullptr;
}

// Builds the wire form and keeps the compression table: each suffix written at an offset a
// pointer can reach, as its lowercased wire form in one arena (no allocation per entry).
class Writer {
 public:
  explicit Writer(size_t reserve) {
    out_.reserve(reserve);
    arena_.reserve(256);
    table_.reserve(64);
  }

  struct Mark {
    size_t bytes = 0, entries = 0, arena = 0;
  };
  Mark mark() const { return {out_.size(), table_.size(), arena_.size()}; }
  // Later names only point at earlier suffixes, so cutting at a mark leaves the rest valid.
  void rollback(const Mark& m) {
    out_.resize(m.bytes);
    table_.resize(m.entries);
    arena_.resize(m.arena);
  }

  size_t size() const { return out_.size(); }
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) {
    out_.push_back(static_cast<uint8_t>(v >> 8));
    out_.push_back(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  void bytes(const void* p, size_t n) {
    auto b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  void patch16(size_t at, uint16_t v) {
    out_[at] = static_cast<uint8_t>(v >> 8);
    out_[at + 1] = static_cast<uint8_t>(v);
  }
  std::vector<uint8_t> take() { return std::move(out_); }

  Reason name(std::string_view name, bool compress);

 private:
  struct Suffix {
    uint16_t offset;  // in the message
    uint16_t length;  // wire bytes, without the final zero octet
    uint32_t at;      // in arena_
  };
  Reason toWire(std::string_view name);
  size_t find(size_t at, size_t len) const;

  std::vector<uint8_t> out_;
  std::vector<Suffix> table_;
  std::string arena_;
  std::string wire_;  // the name being written, labels without the final zero
  std::array<uint8_t, kMaxName> starts_{};  // where each label of wire_ begins
  size_t labels_ = 0;
};

// Presentation form to wire_ and starts_; "\." and "\\" stand for a byte of the label.
Reason Writer::toWire(std::string_view name) {
  wire_.clear();
  labels_ = 0;
  if (name == ".") return nullptr;  // the root written absolutely
  size_t i = 0;
  while (i < name.size()) {
    const size_t lenAt = wire_.size();
    starts_[labels_++] = static_cast<uint8_t>(lenAt);
    wire_ += '\0';
    for (; i < name.size() && name[i] != '.'; ++i) {
      if (name[i] == '\\' && ++i == name.size()) return "name ends in a lone backslash";
      wire_ += name[i];
    }
    const size_t len = wire_.size() - lenAt - 1;
    if (len == 0) return "empty label";
    if (len > kMaxLabel) return "label longer than 63 bytes";
    if (wire_.size() + 1 > kMaxName) return "name longer than 255 bytes";
    wire_[lenAt] = static_cast<char>(len);
    ++i;  // the dot; a single final dot ("web.mesos.") is accepted as the absolute form
  }
  return nullptr;
}

// The compression table entry equal to the lowercased suffix at arena_[at, at + len), or SIZE_MAX.
size_t Writer::find(size_t at, size_t len) const {
  for (size_t e = 0; e < table_.size(); ++e) {
    const Suffix& s = table_[e];
    if (s.length == len && std::memcmp(arena_.data() + s.at, arena_.data() + at, len) == 0) return e;
  }
  return SIZE_MAX;
}

Reason Writer::name(std::string_view name, bool compress) {
  if (Reason why = toWire(name)) return why;
  // Length octets are at most 63, below 'A', so lowercasing the whole wire form is safe.
  const size_t base = arena_.size();
  for (char c : wire_) arena_ += fold(c);
  size_t first = labels_, pointer = 0;  // labels from `first` on are replaced by a pointer
  for (size_t l = 0; compress && l < labels_; ++l) {
    if (size_t e = find(base + starts_[l], wire_.size() - starts_[l]); e != SIZE_MAX) {
      first = l;
      pointer = table_[e].offset;
      break;
    }
  }
  for (size_t l = 0; l < first && out_.size() + starts_[l] <= kMaxPointerOffset; ++l) {
    table_.push_back({static_cast<uint16_t>(out_.size() + starts_[l]),
                      static_cast<uint16_t>(wire_.size() - starts_[l]), static_cast<uint32_t>(base + starts_[l])});
  }
  if (first == 0) arena_.resize(base);  // nothing of this name became a table entry
  if (first == labels_) {
    bytes(wire_.data(), wire_.size());
    u8(0);
  } else {
    bytes(wire_.data(), starts_[first]);
    u16(static_cast<uint16_t>(0xC000 | pointer));
  }
  return nullptr;
}

Reason writeRecord(Writer& w, const Record& rec) {
  if (Reason why = w.name(rec.name, true)) return why;
  w.u16(rec.type);
  w.u16(rec.klass);
  w.u32(rec.ttl);
  const size_t lengthAt = w.size();
  w.u16(0);
  Reason why = nullptr;
  switch (rec.type) {
    case type::kA: w.bytes(rec.a.data(), 4); break;
    case type::kNS:
    case type::kCNAME:
    case type::kPTR: why = w.name(rec.target, true); break;
    case type::kSOA:
      if (!(why = w.name(rec.soa.mname, true)) && !(why = w.name(rec.soa.rname, true))) {
        for (uint32_t v : {rec.soa.serial, rec.soa.refresh, rec.soa.retry, rec.soa.expire, rec.soa.minimum}) w.u32(v);
      }
      break;
    case type::kSRV:
      w.u16(rec.srv.priority);
      w.u16(rec.srv.weight);
      w.u16(rec.srv.port);
      // RFC 2782: the target is not compressed, but later names may point into it.
      why = w.name(rec.srv.target, false);
      break;
    default:
      if (rec.rdata.size() > 0xFFFF) return "record data longer than 65535 bytes";
      w.bytes(rec.rdata.data(), rec.rdata.size());
  }
  if (why) return why;
  w.patch16(lengthAt, static_cast<uint16_t>(w.size() - lengthAt - 2));
  return nullptr;
}

// Appends the OPT record when EDNS0 is on and fills in the header, with counts of what was kept.
void finish(Writer& w, const Message& m, bool tc, std::array<size_t, 4> counts) {
  if (m.ednsUdpSize) {
    w.u8(0);  // the root
    w.u16(type::kOPT);
    w.u16(*m.ednsUdpSize);
    w.u32(0);  // extended rcode, version 0, no DO bit
    w.u16(0);
  }
  const Header& h = m.header;
  w.patch16(0, h.id);
  w.patch16(2, static_cast<uint16_t>(h.qr << 15 | (h.opcode & 0x0F) << 11 | h.aa << 10 | tc << 9 | h.rd << 8 |
                                     h.ra << 7 | (static_cast<uint8_t>(h.rcode) & 0x0F)));
  for (size_t i = 0; i < counts.size(); ++i) w.patch16(4 + 2 * i, static_cast<uint16_t>(counts[i]));
}

}  // namespace

std::optional<Header> parseHeader(std::span<const uint8_t> packet) {
  if (packet.size() < kHeaderSize) return std::nullopt;
  return decodeHeader(packet.data());
}

Result<Message> parse(std::span<const uint8_t> packet) {
  if (packet.size() < kHeaderSize) return invalid("truncated header");
  Message m;
  m.header = decodeHeader(packet.data());
  Reader r(packet);
  r.skip(4);
  const size_t qd = r.u16(), an = r.u16(), ns = r.u16(), ar = r.u16();
  Reason why = readQuestions(r, qd, m.questions);
  if (!why) why = readRecords(r, an, m.answers, nullptr);
  if (!why) why = readRecords(r, ns, m.authority, nullptr);
  if (!why) why = readRecords(r, ar, m.additional, &m.ednsUdpSize);
  if (!why && r.left() != 0) why = "trailing bytes after the last record";
  if (why) return invalid(why);
  return m;
}

Result<std::vector<uint8_t>> encode(const Message& m, size_t limit) {
  if (m.questions.size() > 0xFFFF || m.answers.size() > 0xFFFF || m.authority.size() > 0xFFFF ||
      m.additional.size() + (m.ednsUdpSize ? 1 : 0) > 0xFFFF) {
    return invalid("more than 65535 entries in a section");
  }
  const size_t records = m.answers.size() + m.authority.size();
  Writer w(std::min<size_t>(limit, 4096));
  w.bytes(std::array<uint8_t, kHeaderSize>{}.data(), kHeaderSize);  // filled in at the end
  auto fail = [](Reason why, const std::string& name) {
    return Error(ErrorCode::kInvalidArgument, std::string(why) + " in '" + name + "'");
  };
  for (const Question& q : m.questions) {
    if (Reason why = w.name(q.name, true)) return fail(why, q.name);
    w.u16(q.type);
    w.u16(q.klass);
  }
  const Writer::Mark afterQuestions = w.mark();
  std::vector<Writer::Mark> ends;  // after each answer, then each authority record
  ends.reserve(records);
  for (const auto* section : {&m.answers, &m.authority, &m.additional}) {
    for (const Record& rec : *section) {
      if (Reason why = writeRecord(w, rec)) return fail(why, rec.name);
      if (section != &m.additional) ends.push_back(w.mark());
    }
  }
  const size_t opt = m.ednsUdpSize ? kOptSize : 0;
  size_t kept = records, arCount = m.additional.size();
  bool tc = m.header.tc;
  if (w.size() + opt > limit) {
    arCount = 0;
    w.rollback(ends.empty() ? afterQuestions : ends.back());
    if (w.size() + opt > limit) {
      tc = true;
      while (kept > 0 && ends[kept - 1].bytes + opt > limit) --kept;
      w.rollback(kept > 0 ? ends[kept - 1] : afterQuestions);
    }
  }
  if (m.ednsUdpSize) ++arCount;
  const size_t anCount = std::min(kept, m.answers.size());
  finish(w, m, tc, {m.questions.size(), anCount, kept - anCount, arCount});
  return w.take();
}

bool equalNames(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (fold(a[i]) != fold(b[i])) return false;
  }
  return true;
}

std::string lowerName(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = fold(c);
  return out;
}

}  // namespace dcos::discovery::dns
