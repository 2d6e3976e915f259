#include "discovery/dns_answer.hpp"

#include <algorithm>

namespace dcos::discovery {
namespace {

constexpr uint16_t kOurUdpSize = 1232;  // the EDNS0 size we announce (the DNS Flag Day 2020 value)

// A reply carrying only a header (and the question when there is one): errors and refusals.
std::vector<uint8_t> errorReply(const dns::Header& query, dns::Rcode rcode, const std::vector<dns::Question>& questions,
                                bool recurse) {
  dns::Message m;
  m.header.id = query.id;
  m.header.qr = true;
  m.header.opcode = query.opcode;
  m.header.rd = query.rd;
  m.header.ra = recurse;
  m.header.rcode = rcode;
  m.questions = questions;
  auto bytes = dns::encode(m);
  if (bytes) return std::move(*bytes);
  // The question itself cannot be encoded back (it parsed, so this is unexpected): header only.
  m.questions.clear();
  return dns::encode(m).value();
}

}  // namespace

Reply answerQuery(std::span<const uint8_t> packet, const Zone& zone, const QueryContext& context) {
  Reply reply;
  auto header = dns::parseHeader(packet);
  if (!header || header->qr) return reply;
  reply.action = Reply::Action::kAnswer;
  auto refuse = [&](dns::Rcode rcode, const std::vector<dns::Question>& questions = {}) {
    reply.bytes = errorReply(*header, rcode, questions, context.recurse);
    return reply;
  };
  auto query = dns::parse(packet);
  if (!query) return refuse(dns::Rcode::kFormErr);
  if (header->opcode != 0) return refuse(dns::Rcode::kNotImp);
  if (query->questions.size() != 1) return refuse(dns::Rcode::kFormErr);
  const dns::Question& q = query->questions[0];
  if (q.type == dns::type::kOPT) return refuse(dns::Rcode::kFormErr, query->questions);
  std::string name = dns::lowerName(q.name);
  if (!zone.inDomain(name)) {
    if (!context.recurse) return refuse(dns::Rcode::kRefused, query->questions);
    reply.action = Reply::Action::kForward;
    return reply;
  }
  if (q.type == dns::type::kAXFR || q.type == dns::type::kIXFR ||
      (q.klass != dns::kClassIN && q.klass != dns::kClassANY)) {
    return refuse(dns::Rcode::kRefused, query->questions);
  }

  dns::Message m;
  m.header.id = header->id;
  m.header.qr = true;
  m.header.rd = header->rd;
  m.header.ra = context.recurse;
  m.questions = query->questions;
  zone.answer(q, m, context.rotation);
  size_t limit = 65535;
  if (query->ednsUdpSize) m.ednsUdpSize = kOurUdpSize;
  if (context.overUdp) limit = query->ednsUdpSize ? std::clamp<size_t>(*query->ednsUdpSize, 512, 4096) : dns::kUdpLimit;
  auto bytes = dns::encode(m, limit);
  if (!bytes) return refuse(dns::Rcode::kServFail, query->questions);
  reply.bytes = std::move(*bytes);
  return reply;
}

std::vector<uint8_t> serverFailure(std::span<const uint8_t> packet) {
  auto header = dns::parseHeader(packet);
  if (!header) return {};
  auto query = dns::parse(packet);
  return errorReply(*header, dns::Rcode::kServFail, query ? query->questions : std::vector<dns::Question>{}, true);
}

}  // namespace dcos::discovery
