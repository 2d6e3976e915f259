#pragma once
// DNS messages in RFC 1035 wire format: a parser that refuses hostile packets (truncation, label
// pointer loops, forward pointers, oversized labels and names) with a reason, and an encoder
// with name compression that truncates to a size limit the way a UDP answer must (TC bit).
// Pure code: no sockets, no clock; the server (dns_server.cpp) and the zone (zone.hpp) use it.

#include "common/result.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dcos::discovery::dns {

// Record types and classes this server knows by name; any other value passes through as a number.
namespace type {
constexpr uint16_t kA = 1, kNS = 2, kCNAME = 5, kSOA = 6, kPTR = 12, kMX = 15, kTXT = 16, kAAAA = 28,
                   kSRV = 33, kOPT = 41, kIXFR = 251, kAXFR = 252, kANY = 255;
}
constexpr uint16_t kClassIN = 1;
constexpr uint16_t kClassANY = 255;

enum class Rcode : uint8_t { kNoError = 0, kFormErr = 1, kServFail = 2, kNxDomain = 3, kNotImp = 4, kRefused = 5 };

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxLabel = 63;   // bytes in one label
constexpr size_t kMaxName = 255;   // bytes of a name in wire form, length octets included
constexpr size_t kUdpLimit = 512;  // an answer over UDP without EDNS0

struct Header {
  uint16_t id = 0;
  bool qr = false;  // a response
  uint8_t opcode = 0;
  bool aa = false, tc = false, rd = false, ra = false;
  Rcode rcode = Rcode::kNoError;
};

// Names are in presentation form without the final dot: "web.marathon.mesos"; the root is "".
// A '.' or '\' inside a label is escaped as "\." / "\\"; other bytes are kept as they are.
// Case is kept as received (compare with equalNames or lowercase first).
struct Question {
  std::string name;
  uint16_t type = 0;
  uint16_t klass = kClassIN;
};

struct Soa {
  std::string mname, rname;
  uint32_t serial = 0, refresh = 0, retry = 0, expire = 0, minimum = 0;
};

struct Srv {
  uint16_t priority = 0, weight = 0, port = 0;
  std::string target;
};

// One resource record. Which member holds the data depends on `type`: kA -> a, kSRV -> srv,
// kSOA -> soa, kNS/kCNAME/kPTR -> target, anything else -> rdata (the raw bytes).
struct Record {
  std::string name;
  uint16_t type = type::kA;
  uint16_t klass = kClassIN;
  uint32_t ttl = 0;
  std::array<uint8_t, 4> a{};
  Srv srv;
  Soa soa;
  std::string target;
  std::string rdata;
};

struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<Record> answers, authority, additional;  // `additional` never holds the OPT record
  // EDNS0: the requestor's UDP payload size from its OPT record (a parsed message), or the size
  // this side announces (a message to encode; adds an OPT record at the end). nullopt: no EDNS0.
  std::optional<uint16_t> ednsUdpSize;
};

// The header alone, when at least kHeaderSize bytes arrived (to answer FORMERR with the id).
std::optional<Header> parseHeader(std::span<const uint8_t> packet);

// The whole message. Fails (kInvalidArgument, with a reason) on anything malformed: truncated
// header, question or record; a compression pointer that points at or after itself or loops;
// a label over 63 bytes; a name over 255 bytes; label types 0x40/0x80; rdata whose length does
// not match its type's layout; more than one OPT record; bytes left over after the last record.
Result<Message> parse(std::span<const uint8_t> packet);

// Wire form with compression of owner names and of the names inside NS/CNAME/PTR/SOA/SRV data.
// When the message does not fit `limit` bytes: the additional section is left out first (no TC);
// if it still does not fit, only as many whole answer and authority records as fit are kept and TC
// is set. The OPT record (when ednsUdpSize is set) is always kept. Names that cannot be encoded
// (a label over 63 bytes, a name over 255) fail with kInvalidArgument.
Result<std::vector<uint8_t>> encode(const Message& message, size_t limit = 65535);

// Case-insensitive comparison of two names in presentation form (ASCII letters only fold).
bool equalNames(std::string_view a, std::string_view b);
// ASCII lowercase copy of a name.
std::string lowerName(std::string_view name);

}  // namespace dcos::discovery::dns
