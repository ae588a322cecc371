// The IPv4 header (RFC 791 §3.1): a validated representation, parsed and emitted symmetrically.
#pragma once

#include <cstdint>
#include <span>
#include <variant>

#include "stack/core/address.hpp"

namespace tapir::ip {

inline constexpr std::size_t min_header_len = 20;
inline constexpr std::size_t max_header_len = 60;
inline constexpr std::size_t max_datagram_len = 65535;

namespace protocol {
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t igmp = 2;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
}  // namespace protocol

// Why a datagram was refused; each maps to one counter.
// (ip::Layer::report_bad_header indexes a table by this order.)
enum class HeaderError : std::uint8_t {
  truncated,       // shorter than 20 bytes or than its own total length
  bad_version,     // version != 4
  bad_header_len,  // IHL < 5 or beyond the bytes
  bad_total_len,   // total length < IHL*4
  bad_checksum,
  bad_options,  // an option's length runs past the header or is < 2
};

struct Repr {
  Ipv4Address src;
  Ipv4Address dst;
  std::uint8_t protocol = 0;
  std::uint8_t ttl = 64;
  std::uint8_t tos = 0;
  std::uint16_t id = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint16_t fragment_offset = 0;  // in bytes (a multiple of 8)
  std::uint8_t header_len = min_header_len;
  std::uint16_t total_len = min_header_len;
  std::uint16_t checksum = 0;  // as received (parse) / as emitted (emit)
  // Offset of the first malformed option octet from the header start, for ICMP parameter
  // problem (RFC 1122 §3.2.2.5); only meaningful with HeaderError::bad_options.
  std::uint8_t bad_option_pointer = 0;
  // emit() adds the Router Alert option (RFC 2113), making a 24-byte header.
  bool router_alert = false;

  std::uint16_t payload_len() const { return static_cast<std::uint16_t>(total_len - header_len); }
  bool is_fragment() const { return more_fragments || fragment_offset != 0; }

  // Checks version, IHL, total length against `bytes`, the checksum and the option list.
  // Options are walked (RFC 791 §3.1: EOL, NOP, then type-length-value) and otherwise ignored.
  static std::variant<Repr, HeaderError> parse(std::span<const std::uint8_t> bytes,
                                               Repr* partial = nullptr);
  // The header emit() writes: 20 bytes, 24 with Router Alert.
  std::size_t emitted_len() const { return router_alert ? min_header_len + 4 : min_header_len; }
  // Writes the header (no options but Router Alert) with its checksum into `out`
  // (out.size() >= emitted_len()). total_len must already count the header.
  void emit(std::span<std::uint8_t> out);
};

// Sets the header checksum of the header at `header` (IHL taken from the header itself).
void fill_checksum(std::span<std::uint8_t> header);

}  // namespace tapir::ip
