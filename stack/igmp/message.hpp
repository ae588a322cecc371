// IGMP wire format (RFC 1112 App. I, RFC 2236 §2, RFC 3376 §4): parse what a host hears, build
// what it sends.
#pragma once

#include <cstdint>
#include <span>
#include <type_traits>
#include <variant>
#include <vector>

#include "stack/core/address.hpp"
#include "stack/core/bytes.hpp"
#include "stack/core/packet.hpp"
#include "stack/core/time.hpp"
#include "stack/igmp/filter.hpp"

namespace tapir::igmp {

namespace type {
inline constexpr std::uint8_t membership_query = 0x11;
inline constexpr std::uint8_t v1_membership_report = 0x12;
inline constexpr std::uint8_t v2_membership_report = 0x16;
inline constexpr std::uint8_t v2_leave_group = 0x17;
inline constexpr std::uint8_t v3_membership_report = 0x22;
}  // namespace type

inline constexpr Ipv4Address all_systems{224, 0, 0, 1};      // RFC 1112 §4
inline constexpr Ipv4Address all_routers{224, 0, 0, 2};      // RFC 2236 §3: leaves go here
inline constexpr Ipv4Address all_v3_routers{224, 0, 0, 22};  // RFC 3376 §4.2.14

// Named fields over the 8 bytes every IGMP message starts with, and the fields of a v3 query
// and a v3 report that follow (RFC 3376 §4.1, §4.2); the caller checks the length first.
template <typename Byte>
class BasicView {
 public:
  explicit BasicView(std::span<Byte> bytes) : p_(bytes.data()) {}

  std::uint8_t type() const { return p_[0]; }
  std::uint8_t max_resp_code() const { return p_[1]; }  // v1: unused (0); v3 reports: reserved
  std::uint16_t checksum() const { return load16(p_ + 2); }
  Ipv4Address group() const { return Ipv4Address{load32(p_ + 4)}; }
  // v3 query (12 bytes and more): the number of sources, and the i-th of them.
  std::uint16_t source_count() const { return load16(p_ + 10); }
  Ipv4Address source(std::size_t i) const { return Ipv4Address{load32(p_ + 12 + 4 * i)}; }

  void set_type(std::uint8_t v) requires(!std::is_const_v<Byte>) { p_[0] = v; }
  void set_checksum(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 2, v); }
  void set_group(Ipv4Address a) requires(!std::is_const_v<Byte>) { store32(p_ + 4, a.value()); }
  // v3 report: the number of group records (bytes 6-7).
  void set_record_count(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 6, v); }

 private:
  Byte* p_;
};

using View = BasicView<std::uint8_t>;
using ConstView = BasicView<const std::uint8_t>;

// RFC 3376 §4.2.12: Group Record Types.
enum class RecordType : std::uint8_t {
  mode_is_include = 1,
  mode_is_exclude = 2,
  change_to_include = 3,
  change_to_exclude = 4,
  allow_new_sources = 5,
  block_old_sources = 6,
};

// A Membership Query of any version. RFC 3376 §7.1: 8 bytes with Max Resp Code 0 is v1,
// 8 bytes otherwise v2, 12 bytes or more v3.
struct Query {
  int version = 3;
  Ipv4Address group;  // 0.0.0.0: a General Query
  Duration max_resp_time{};
  std::vector<Ipv4Address> sources;  // v3 group-and-source-specific
};

// A v1/v2 Membership Report or a Leave Group: what another host said about a group.
struct MembershipMessage {
  std::uint8_t type = 0;
  Ipv4Address group;
};

// A v3 Membership Report (routers' business; a host only counts it, RFC 3376 §5).
struct V3Report {};

// Types a host does not know are silently ignored (RFC 3376 §4, RFC 2236 §2.1).
struct UnknownType {
  std::uint8_t type = 0;
};

enum class ParseError : std::uint8_t { too_short, bad_checksum, bad_length };

using Message = std::variant<Query, MembershipMessage, V3Report, UnknownType, ParseError>;

// Checks length and checksum (RFC 3376 §4, RFC 2236 §2.3) before reading any field.
Message parse(std::span<const std::uint8_t> bytes);

// RFC 3376 §4.1.1: Max Resp Code < 128 is tenths of a second; above, a float
// (mant | 0x10) << (exp + 3) tenths.
Duration decode_max_resp_code(std::uint8_t code);

struct GroupRecord {
  RecordType type = RecordType::mode_is_include;
  Ipv4Address group;
  SourceSet sources;
};

// Builds the v3 Membership Report(s) carrying `records` (RFC 3376 §4.2); records that do not
// fit in `max_len` bytes of IGMP go into further reports, and a record with too many sources
// is split, or for the EXCLUDE types truncated (§4.2.16).
std::vector<Packet> build_v3_reports(const std::vector<GroupRecord>& records, std::size_t max_len);

// A v1/v2 Membership Report or a v2 Leave Group (RFC 2236 §2): 8 bytes, Max Resp Time 0.
Packet build_v1v2(std::uint8_t message_type, Ipv4Address group);

}  // namespace tapir::igmp
