// IGMP wire format: parsing queries and reports, building v1/v2/v3 messages.
#include "stack/igmp/message.hpp"

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"

namespace tapir::igmp {
namespace {

constexpr std::size_t v1v2_len = 8;
constexpr std::size_t v3_query_min_len = 12;
constexpr std::size_t v3_report_header_len = 8;
constexpr std::size_t record_header_len = 8;

Duration tenths(std::uint32_t n) {
  return Duration{std::int64_t{n} * 100'000};
}

Query parse_query(std::span<const std::uint8_t> b) {
  const ConstView m(b);
  Query q;
  q.group = m.group();
  if (b.size() == v1v2_len) {
    // RFC 2236 §4 / RFC 3376 §7.1: a v1 query has Max Resp Time 0, to be read as 10 s.
    q.version = m.max_resp_code() == 0 ? 1 : 2;
    q.max_resp_time = q.version == 1 ? tenths(100) : tenths(m.max_resp_code());
    return q;
  }
  q.version = 3;
  q.max_resp_time = decode_max_resp_code(m.max_resp_code());
  for (std::size_t i = 0; i < m.source_count(); ++i) q.sources.push_back(m.source(i));
  return q;
}

void emit_record(std::vector<std::uint8_t>& out, RecordType type, Ipv4Address group,
                 const std::vector<Ipv4Address>& sources) {
  const std::size_t at = out.size();
  out.resize(at + record_header_len + 4 * sources.size());
  std::uint8_t* p = out.data() + at;
  p[0] = static_cast<std::uint8_t>(type);
  p[1] = 0;  // Aux Data Len: none (RFC 3376 §4.2.6)
  store16(p + 2, static_cast<std::uint16_t>(sources.size()));
  store32(p + 4, group.value());
  for (std::size_t i = 0; i < sources.size(); ++i) store32(p + 8 + 4 * i, sources[i].value());
}

Packet finish_v3_report(std::vector<std::uint8_t>& body, std::uint16_t record_count) {
  Packet p(v3_report_header_len + body.size());
  View m(p.bytes());
  m.set_type(type::v3_membership_report);
  m.set_record_count(record_count);
  std::copy(body.begin(), body.end(), p.data() + v3_report_header_len);
  m.set_checksum(internet_checksum(p.bytes()));
  body.clear();
  return p;
}

bool is_exclude_type(RecordType t) {
  return t == RecordType::mode_is_exclude || t == RecordType::change_to_exclude;
}

}  // namespace

Duration decode_max_resp_code(std::uint8_t code) {
  if (code < 128) return tenths(code);
  const std::uint32_t mant = code & 0x0fU;
  const std::uint32_t exp = (code >> 4) & 0x07U;
  return tenths((mant | 0x10U) << (exp + 3));
}

Message parse(std::span<const std::uint8_t> b) {
  if (b.size() < v1v2_len) return ParseError::too_short;
  if (internet_checksum(b) != 0) return ParseError::bad_checksum;
  const ConstView m(b);
  switch (m.type()) {
    case type::membership_query:
      // RFC 3376 §7.1: lengths 9-11 are no query of any version.
      if (b.size() != v1v2_len && b.size() < v3_query_min_len) return ParseError::bad_length;
      if (b.size() >= v3_query_min_len &&
          b.size() < v3_query_min_len + 4 * std::size_t{m.source_count()}) {
        return ParseError::bad_length;
      }
      return parse_query(b);
    case type::v1_membership_report:
    case type::v2_membership_report:
    case type::v2_leave_group:
      return MembershipMessage{m.type(), m.group()};
    case type::v3_membership_report:
      return V3Report{};
    default:
      return UnknownType{m.type()};
  }
}

std::vector<Packet> build_v3_reports(const std::vector<GroupRecord>& records, std::size_t max_len) {
  std::vector<Packet> out;
  std::vector<std::uint8_t> body;
  std::uint16_t count = 0;
  const std::size_t room = max_len - v3_report_header_len;
  const std::size_t max_sources = (room - record_header_len) / 4;
  for (const GroupRecord& r : records) {
    std::vector<Ipv4Address> all(r.sources.begin(), r.sources.end());
    // RFC 3376 §4.2.16: an EXCLUDE list too long for one report is truncated; other lists
    // are split over several records.
    if (is_exclude_type(r.type) && all.size() > max_sources) all.resize(max_sources);
    std::size_t next = 0;
    do {
      const std::size_t n = std::min(all.size() - next, max_sources);
      if (body.size() + record_header_len + 4 * n > room) {
        out.push_back(finish_v3_report(body, count));
        count = 0;
      }
      std::vector<Ipv4Address> chunk(all.begin() + static_cast<std::ptrdiff_t>(next),
                                     all.begin() + static_cast<std::ptrdiff_t>(next + n));
      emit_record(body, r.type, r.group, chunk);
      ++count;
      next += n;
    } while (next < all.size());
  }
  if (count > 0) out.push_back(finish_v3_report(body, count));
  return out;
}

Packet build_v1v2(std::uint8_t message_type, Ipv4Address group) {
  Packet p(v1v2_len);
  View m(p.bytes());
  m.set_type(message_type);
  m.set_group(group);
  m.set_checksum(internet_checksum(p.bytes()));
  return p;
}

}  // namespace tapir::igmp
