#include "discovery/dns_message.hpp"

#include <doctest/doctest.h>

#include <random>
#include <sstream>

using namespace dcos::discovery::dns;

namespace {

using Bytes = std::vector<uint8_t>;

// A header with the given counts followed by `body`.
Bytes packet(uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar, const Bytes& body) {
  Bytes p = {0x12, 0x34, 0x01, 0x00, uint8_t(qd >> 8), uint8_t(qd), uint8_t(an >> 8), uint8_t(an),
             uint8_t(ns >> 8), uint8_t(ns), uint8_t(ar >> 8), uint8_t(ar)};
  p.insert(p.end(), body.begin(), body.end());
  return p;
}

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes label(const std::string& text) {
  Bytes b;
  b.reserve(text.size() + 1);
  b.push_back(uint8_t(text.size()));
  for (char c : text) b.push_back(uint8_t(c));
  return b;
}

Bytes pointer(size_t offset) { return {uint8_t(0xC0 | offset >> 8), uint8_t(offset)}; }

const Bytes kTypeClassA = {0, 1, 0, 1};
const Bytes kRoot = {0};

// Everything a Message holds, in one comparable string.
std::string describe(const Message& m) {
  std::ostringstream s;
  const Header& h = m.header;
  s << h.id << ' ' << h.qr << int(h.opcode) << h.aa << h.tc << h.rd << h.ra << int(h.rcode) << '\n';
  for (const Question& q : m.questions) s << "Q " << q.name << ' ' << q.type << ' ' << q.klass << '\n';
  for (const auto* section : {&m.answers, &m.authority, &m.additional}) {
    for (const Record& r : *section) {
      s << "R " << r.name << ' ' << r.type << ' ' << r.klass << ' ' << r.ttl << ' ';
      if (r.type == type::kA) s << int(r.a[0]) << '.' << int(r.a[1]) << '.' << int(r.a[2]) << '.' << int(r.a[3]);
      if (r.type == type::kSRV) s << r.srv.priority << ' ' << r.srv.weight << ' ' << r.srv.port << ' ' << r.srv.target;
      if (r.type == type::kSOA) {
        s << r.soa.mname << ' ' << r.soa.rname << ' ' << r.soa.serial << ' ' << r.soa.refresh << ' '
          << r.soa.retry << ' ' << r.soa.expire << ' ' << r.soa.minimum;
      }
      if (r.type == type::kNS || r.type == type::kCNAME || r.type == type::kPTR) s << r.target;
      if (r.type != type::kA && r.type != type::kSRV && r.type != type::kSOA && r.type != type::kNS &&
          r.type != type::kCNAME && r.type != type::kPTR) {
        s << "raw:" << r.rdata;
      }
      s << '\n';
    }
    s << "--\n";
  }
  s << "edns " << (m.ednsUdpSize ? int(*m.ednsUdpSize) : -1) << '\n';
  return s.str();
}

Record aRecord(const std::string& name, uint8_t last) {
  Record r;
  r.name = name;
  r.type = type::kA;
  r.ttl = 60;
  r.a = {10, 0, 0, last};
  return r;
}

Record srvRecord(const std::string& name, const std::string& target, uint16_t port) {
  Record r;
  r.name = name;
  r.type = type::kSRV;
  r.ttl = 60;
  r.srv = {0, 1, port, target};
  return r;
}

Message richMessage() {
  Message m;
  m.header = {0xBEEF, true, 2, true, false, true, true, Rcode::kNxDomain};
  m.questions.push_back({"_web._tcp.marathon.mesos", type::kSRV, kClassIN});
  m.answers.push_back(srvRecord("_web._tcp.marathon.mesos", "web-1a2b.marathon.agentip.mesos", 31000));
  m.answers.push_back(aRecord("web.marathon.mesos", 7));
  Record cname;
  cname.name = "www.mesos";
  cname.type = type::kCNAME;
  cname.target = "web.marathon.mesos";
  m.answers.push_back(cname);
  Record soa;
  soa.name = "mesos";
  soa.type = type::kSOA;
  soa.ttl = 5;
  soa.soa = {"ns1.mesos", "root.ns1.mesos", 2024, 60, 30, 86400, 1};
  m.authority.push_back(soa);
  Record ns;
  ns.name = "mesos";
  ns.type = type::kNS;
  ns.target = "ns1.mesos";
  m.authority.push_back(ns);
  Record txt;
  txt.name = "info.mesos";
  txt.type = type::kTXT;
  txt.rdata = std::string("\x05hello\x00\xff", 8);
  m.additional.push_back(txt);
  Record unknown;
  unknown.name = "x.mesos";
  unknown.type = 65280;
  unknown.klass = 3;
  m.additional.push_back(unknown);
  m.additional.push_back(aRecord("web-1a2b.marathon.agentip.mesos", 9));
  m.ednsUdpSize = 1232;
  return m;
}

Message parsed(const Bytes& wire) {
  auto result = parse(wire);
  REQUIRE_MESSAGE(result.ok(), result.error().message);
  return std::move(result).value();
}

Bytes encoded(const Message& m, size_t limit = 65535) {
  auto result = encode(m, limit);
  REQUIRE_MESSAGE(result.ok(), result.error().message);
  return std::move(result).value();
}

uint16_t count(const Bytes& wire, size_t at) { return uint16_t(wire[at] << 8 | wire[at + 1]); }

}  // namespace

TEST_CASE("a message with A, SRV, SOA, NS, CNAME, unknown types and EDNS survives a round trip") {
  Message m = richMessage();
  Bytes wire = encoded(m);
  Message back = parsed(wire);
  CHECK(describe(back) == describe(m));
  CHECK(count(wire, 10) == 4);  // three additional records and the OPT record
  CHECK(encoded(back) == wire);
}

TEST_CASE("the header's flags, opcode and rcode are written and read bit for bit") {
  Message m;
  m.header = {0xA5A5, true, 5, true, true, false, true, Rcode::kRefused};
  Bytes wire = encoded(m);
  REQUIRE(wire.size() == kHeaderSize);
  CHECK(wire[2] == (0x80 | 5 << 3 | 0x04 | 0x02));
  CHECK(wire[3] == (0x80 | 5));
  CHECK(describe(parsed(wire)) == describe(m));
}

TEST_CASE("parseHeader needs twelve bytes and reads the id from them") {
  Bytes wire = encoded(richMessage());
  CHECK_FALSE(parseHeader({}).has_value());
  CHECK_FALSE(parseHeader(std::span(wire).first(11)).has_value());
  auto header = parseHeader(std::span(wire).first(12));
  REQUIRE(header.has_value());
  CHECK(header->id == 0xBEEF);
  CHECK(header->rcode == Rcode::kNxDomain);
}

TEST_CASE("repeated names are compressed to pointers and parse back whole") {
  Message m;
  m.questions.push_back({"web.marathon.mesos", type::kA, kClassIN});
  for (uint8_t i = 0; i < 10; ++i) m.answers.push_back(aRecord("web.marathon.mesos", i));
  Bytes wire = encoded(m);
  const size_t name = 20;  // wire length of web.marathon.mesos
  const size_t uncompressed = kHeaderSize + name + 4 + 10 * (name + 10 + 4);
  CHECK(wire.size() == uncompressed - 10 * (name - 2));
  CHECK(wire[kHeaderSize + name + 4] == 0xC0);
  CHECK(wire[kHeaderSize + name + 5] == kHeaderSize);
  Message back = parsed(wire);
  REQUIRE(back.answers.size() == 10);
  for (const Record& r : back.answers) CHECK(r.name == "web.marathon.mesos");
}

TEST_CASE("shared suffixes and names inside record data are compressed too") {
  Message m;
  m.questions.push_back({"marathon.mesos", type::kNS, kClassIN});
  Record ns;
  ns.name = "marathon.mesos";
  ns.type = type::kNS;
  ns.target = "ns1.marathon.mesos";  // "ns1" then a pointer to the question
  m.answers.push_back(ns);
  Bytes wire = encoded(m);
  CHECK(wire.size() == kHeaderSize + 16 + 4 + (2 + 10 + 6));
  CHECK(describe(parsed(wire)) == describe(m));
}

TEST_CASE("compression matches names case-insensitively; the first spelling is what is read back") {
  Message m;
  m.questions.push_back({"Web.Marathon.MESOS", type::kA, kClassIN});
  m.answers.push_back(aRecord("web.marathon.mesos", 1));
  Bytes wire = encoded(m);
  CHECK(wire.size() == kHeaderSize + 20 + 4 + 2 + 14);
  Message back = parsed(wire);
  CHECK(back.answers[0].name == "Web.Marathon.MESOS");
  CHECK(equalNames(back.answers[0].name, m.answers[0].name));
}

TEST_CASE("SRV targets are written whole but later names may point into them") {
  Message m;
  m.answers.push_back(srvRecord("_web._tcp.mesos", "web.agent.mesos", 80));
  m.answers.push_back(aRecord("web.agent.mesos", 2));
  Bytes wire = encoded(m);
  // "_web._tcp.mesos" (17 bytes) + fields, then the target written as 5 + "agent" pointer-free:
  // the target shares "mesos" with the owner but is not compressed.
  const size_t srv = 17 + 10 + 6 + 17;
  CHECK(wire.size() == kHeaderSize + srv + 2 + 10 + 4);
  CHECK(describe(parsed(wire)) == describe(m));
}

TEST_CASE("dots and backslashes inside labels are escaped and survive a round trip") {
  Message m;
  m.questions.push_back({"my\\.app.back\\\\slash.mesos", type::kA, kClassIN});
  m.answers.push_back(aRecord("my\\.app.back\\\\slash.mesos", 3));
  Bytes wire = encoded(m);
  CHECK(wire[kHeaderSize] == 6);  // "my.app" is one label
  CHECK(wire[kHeaderSize + 7] == 10);  // "back\slash" too
  Message back = parsed(wire);
  CHECK(back.questions[0].name == "my\\.app.back\\\\slash.mesos");
  CHECK(back.answers[0].name == "my\\.app.back\\\\slash.mesos");
}

TEST_CASE("names that cannot be encoded are refused") {
  auto refuse = [](const std::string& name, const char* reason) {
    Message m;
    m.answers.push_back(aRecord(name, 1));
    auto result = encode(m);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == dcos::ErrorCode::kInvalidArgument);
    CHECK_MESSAGE(result.error().message.find(reason) != std::string::npos, result.error().message);
  };
  refuse(std::string(64, 'x') + ".mesos", "label longer than 63 bytes");
  refuse(std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." + std::string(63, 'd'),
         "name longer than 255 bytes");
  refuse("a..mesos", "empty label");
  refuse(".mesos", "empty label");
  refuse("mesos\\", "lone backslash");
  // The longest legal name: 253 characters, 255 wire bytes.
  Message ok;
  ok.answers.push_back(aRecord(std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                                   std::string(61, 'd'), 1));
  CHECK(encode(ok).ok());
}

TEST_CASE("the root name and an absolute name with a final dot encode as expected") {
  Message m;
  m.questions.push_back({"", type::kNS, kClassIN});
  m.answers.push_back(aRecord("web.mesos.", 1));
  Message back = parsed(encoded(m));
  CHECK(back.questions[0].name == "");
  CHECK(back.answers[0].name == "web.mesos");
}

TEST_CASE("EDNS: a small announced size counts as 512 and the OPT record must be unique and at the root") {
  Bytes opt = kRoot + Bytes{0, 41, 0x01, 0x00, 0, 0, 0, 0, 0, 0};  // class 256
  CHECK(*parsed(packet(0, 0, 0, 1, opt)).ednsUdpSize == 512);
  Bytes optWithData = kRoot + Bytes{0, 41, 0x10, 0x00, 0, 0, 0x80, 0, 0, 4, 0, 10, 0, 0};
  Message m = parsed(packet(0, 0, 0, 2, optWithData + kRoot + Bytes{0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4}));
  CHECK(*m.ednsUdpSize == 4096);
  CHECK(m.additional.size() == 1);
}

TEST_CASE("a big SRV answer under 512 bytes keeps whole records, counts them and sets TC") {
  Message m;
  m.questions.push_back({"_web._tcp.marathon.mesos", type::kSRV, kClassIN});
  for (uint16_t i = 0; i < 40; ++i) {
    std::string target = "web-" + std::to_string(i) + "-abcdef.agent-" + std::to_string(i) + ".marathon.mesos";
    m.answers.push_back(srvRecord("_web._tcp.marathon.mesos", target, uint16_t(31000 + i)));
    m.additional.push_back(aRecord(target, uint8_t(i)));
  }
  for (std::optional<uint16_t> edns : {std::optional<uint16_t>(), std::optional<uint16_t>(1232)}) {
    m.ednsUdpSize = edns;
    Bytes wire = encoded(m, kUdpLimit);
    CHECK(wire.size() <= kUdpLimit);
    Message back = parsed(wire);
    CHECK(back.header.tc);
    CHECK(back.ednsUdpSize == edns);
    CHECK(back.additional.empty());
    CHECK(count(wire, 10) == (edns ? 1 : 0));
    const size_t kept = back.answers.size();
    REQUIRE(kept > 0);
    REQUIRE(kept < m.answers.size());
    CHECK(count(wire, 6) == kept);
    for (size_t i = 0; i < kept; ++i) CHECK(back.answers[i].srv.target == m.answers[i].srv.target);
    // One more record would not have fitted.
    Message more = m;
    more.answers.resize(kept + 1);
    more.additional.clear();
    CHECK(encoded(more).size() > kUdpLimit);
  }
}

TEST_CASE("authority records are kept after answers, in order, while they fit") {
  Message m;
  for (uint8_t i = 0; i < 5; ++i) m.answers.push_back(aRecord("a.mesos", i));
  Record ns;
  ns.name = "mesos";
  ns.type = type::kNS;
  for (int i = 0; i < 5; ++i) {
    ns.target = "ns" + std::to_string(i) + ".example.org";
    m.authority.push_back(ns);
  }
  const size_t full = encoded(m).size();
  Bytes wire = encoded(m, full - 1);
  Message back = parsed(wire);
  CHECK(back.header.tc);
  CHECK(back.answers.size() == 5);
  CHECK(back.authority.size() == 4);
  CHECK(count(wire, 8) == 4);
}

TEST_CASE("when only the additional section does not fit it is left out without TC; OPT stays") {
  Message m = richMessage();
  m.header.tc = false;
  Message without = m;
  without.additional.clear();
  const size_t needed = encoded(without).size();
  Bytes wire = encoded(m, needed);
  CHECK(wire.size() == needed);
  Message back = parsed(wire);
  CHECK_FALSE(back.header.tc);
  CHECK(back.answers.size() == m.answers.size());
  CHECK(back.authority.size() == m.authority.size());
  CHECK(back.additional.empty());
  CHECK(back.ednsUdpSize == 1232);
  CHECK(count(wire, 10) == 1);
  CHECK(encoded(m, needed - 1).size() < needed);
  CHECK(parsed(encoded(m, needed - 1)).header.tc);
}

TEST_CASE("malformed packets are refused with a reason") {
  Bytes question = label("web") + label("mesos") + kRoot + kTypeClassA;
  Bytes ttl = {0, 0, 0, 60};
  Bytes chain = packet(130, 0, 0, 0, {});
  chain = chain + label("a") + kRoot + kTypeClassA;
  for (size_t i = 1, previous = kHeaderSize; i < 130; ++i) {
    size_t here = chain.size();
    chain = chain + pointer(previous) + kTypeClassA;
    previous = here;
  }
  Bytes label63 = label(std::string(63, 'x'));
  Bytes srvData = {0, 1, 0, 2, 0, 80};
  struct Case {
    const char* what;
    Bytes wire;
    const char* reason;
  };
  const Case cases[] = {
      {"empty", {}, "truncated header"},
      {"11-byte header", Bytes(11, 0), "truncated header"},
      {"more questions counted than present", packet(2, 0, 0, 0, question), "truncated question"},
      {"name without its end", packet(1, 0, 0, 0, label("web") + label("com")), "truncated name"},
      {"label length past the end", packet(1, 0, 0, 0, Bytes{10, 'a', 'b', 'c', 'd', 'e'}), "truncated label"},
      {"pointer to itself", packet(1, 0, 0, 0, pointer(12) + kTypeClassA), "compression pointer loop"},
      {"pointer back into its own name", packet(1, 0, 0, 0, label("a") + pointer(12) + kTypeClassA),
       "compression pointer loop"},
      // A loop A -> B -> A always needs one pointer that jumps forward; that one is refused.
      {"pointer loop between two names",
       packet(2, 0, 0, 0, label("a") + pointer(20) + kTypeClassA + label("b") + pointer(12) + kTypeClassA),
       "forward compression pointer"},
      {"forward pointer", packet(1, 0, 0, 0, pointer(18) + kTypeClassA + kRoot), "forward compression pointer"},
      {"pointer chain longer than allowed", chain, "too many compression pointers"},
      {"truncated pointer", packet(1, 0, 0, 0, label("abcd") + Bytes{0xC0}), "truncated compression pointer"},
      {"label of 64 bytes", packet(1, 0, 0, 0, label(std::string(64, 'x')) + kRoot + kTypeClassA), "label type 0x40"},
      {"name over 255 bytes", packet(1, 0, 0, 0, label63 + label63 + label63 + label63 + kRoot + kTypeClassA),
       "name longer than 255 bytes"},
      {"label type 0x40", packet(1, 0, 0, 0, Bytes{0x41, 'x', 0} + kTypeClassA), "label type 0x40"},
      {"label type 0x80", packet(1, 0, 0, 0, Bytes{0x81, 'x', 0} + kTypeClassA), "label type 0x80"},
      {"A data of 3 bytes", packet(0, 1, 0, 0, kRoot + kTypeClassA + ttl + Bytes{0, 3, 1, 2, 3}), "not 4 bytes"},
      {"SRV data longer than its contents",
       packet(0, 1, 0, 0, kRoot + Bytes{0, 33, 0, 1} + ttl + Bytes{0, 10} + srvData + kRoot + Bytes{0, 0, 0}),
       "rdata length does not match"},
      {"SRV data shorter than its contents",
       packet(0, 1, 0, 0, kRoot + Bytes{0, 33, 0, 1} + ttl + Bytes{0, 7} + srvData + label("a") + kRoot),
       "rdata length does not match"},
      {"SRV data too short for its fields", packet(0, 1, 0, 0, kRoot + Bytes{0, 33, 0, 1} + ttl + Bytes{0, 3, 0, 0, 0}),
       "SRV record data too short"},
      {"CNAME target past its data",
       packet(0, 1, 0, 0, kRoot + Bytes{0, 5, 0, 1} + ttl + Bytes{0, 2} + label("ab") + kRoot),
       "rdata length does not match"},
      {"SOA without its numbers",
       packet(0, 1, 0, 0, kRoot + Bytes{0, 6, 0, 1} + ttl + Bytes{0, 6} + kRoot + kRoot + Bytes{0, 0, 0, 0}),
       "truncated SOA record"},
      {"record data past the end", packet(0, 1, 0, 0, kRoot + kTypeClassA + ttl + Bytes{0, 100, 1, 2, 3, 4}),
       "truncated record data"},
      {"record without its fields", packet(0, 1, 0, 0, label("a") + kRoot + kTypeClassA + Bytes{0, 0, 0, 0}),
       "truncated record"},
      {"two OPT records",
       packet(0, 0, 0, 2, kRoot + Bytes{0, 41, 2, 0} + ttl + Bytes{0, 0} + kRoot + Bytes{0, 41, 2, 0} + ttl + Bytes{0, 0}),
       "more than one OPT record"},
      {"OPT with an owner name", packet(0, 0, 0, 1, label("a") + kRoot + Bytes{0, 41, 2, 0} + ttl + Bytes{0, 0}),
       "non-root owner"},
      {"trailing garbage", packet(1, 0, 0, 0, question + Bytes{0xFF}), "trailing bytes"},
      {"65535 questions in a tiny packet", packet(65535, 0, 0, 0, question), "truncated question"},
      {"65535 answers in a tiny packet", packet(0, 65535, 0, 0, question), "truncated record"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    auto result = parse(c.wire);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == dcos::ErrorCode::kInvalidArgument);
    CHECK_MESSAGE(result.error().message.find(c.reason) != std::string::npos, result.error().message);
  }
}

TEST_CASE("a chain of pointers up to the limit is still read") {
  Bytes chain = packet(128, 0, 0, 0, label("a") + kRoot + kTypeClassA);
  for (size_t i = 1, previous = kHeaderSize; i < 128; ++i) {
    size_t here = chain.size();
    chain = chain + pointer(previous) + kTypeClassA;
    previous = here;
  }
  Message m = parsed(chain);
  CHECK(m.questions.back().name == "a");
}

TEST_CASE("randomly damaged packets never crash the parser and every accepted one re-encodes") {
  Message withoutEdns = richMessage();
  withoutEdns.ednsUdpSize.reset();
  Message compressed;
  compressed.questions.push_back({"web.marathon.mesos", type::kA, kClassIN});
  for (uint8_t i = 0; i < 6; ++i) compressed.answers.push_back(aRecord("web.marathon.mesos", i));
  const std::vector<Bytes> seeds = {encoded(richMessage()), encoded(withoutEdns), encoded(compressed)};
  std::mt19937 rng(20240601);
  size_t accepted = 0;
  for (int i = 0; i < 30000; ++i) {
    Bytes wire = seeds[rng() % seeds.size()];
    for (int flips = 1 + int(rng() % 4); flips > 0 && !wire.empty(); --flips) {
      const size_t at = rng() % wire.size();
      switch (rng() % 4) {
        case 0: wire[at] ^= uint8_t(1u << (rng() % 8)); break;
        case 1: wire[at] = uint8_t(rng()); break;
        case 2: wire.resize(at); break;
        default: wire.insert(wire.begin() + long(at), uint8_t(rng())); break;
      }
    }
    auto result = parse(wire);
    if (!result.ok()) {
      CHECK_FALSE(result.error().message.empty());
      continue;
    }
    ++accepted;
    auto again = encode(*result);
    REQUIRE_MESSAGE(again.ok(), again.error().message);
    // Compression may fold the case of a later name into an earlier spelling.
    CHECK(lowerName(describe(parsed(*again))) == lowerName(describe(*result)));
  }
  CHECK(accepted > 100);  // the mutations also reach the success path
}

TEST_CASE("names compare and lowercase with ASCII folding only") {
  CHECK(equalNames("Web.Marathon.MESOS", "web.marathon.mesos"));
  CHECK_FALSE(equalNames("web.mesos", "web.mesos2"));
  CHECK_FALSE(equalNames("\xc3\x89", "\xc3\xa9"));  // É and é differ: no Unicode folding
  CHECK(lowerName("A-Z.\xc3\x89@[`{") == "a-z.\xc3\x89@[`{");
}
