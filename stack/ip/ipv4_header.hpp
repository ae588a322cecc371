// The IPv4 header (RFC 791 §3.1): a validated representation, parsed and emitted symmetrically.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <variant>

#include "stack/core/address.hpp"
#include "stack/core/bytes.hpp"

namespace tapir::ip {

inline constexpr std::size_t min_header_len = 20;
inline constexpr std::size_t max_header_len = 60;
inline constexpr std::size_t max_datagram_len = 65535;

// The flags and fragment offset word (RFC 791 §3.1).
namespace flags {
inline constexpr std::uint16_t reserved = 0x8000;
inline constexpr std::uint16_t dont_fragment = 0x4000;
inline constexpr std::uint16_t more_fragments = 0x2000;
inline constexpr std::uint16_t offset_mask = 0x1fff;  // in 8-octet blocks
}  // namespace flags

// Option types (RFC 791 §3.1): the copied flag, and the ones tapir writes or walks past.
namespace option {
inline constexpr std::uint8_t end = 0;
inline constexpr std::uint8_t nop = 1;
inline constexpr std::uint8_t copied = 0x80;        // copied into every fragment
inline constexpr std::uint8_t router_alert = 0x94;  // RFC 2113 §2.1: copied, class 0, number 20
}  // namespace option

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

// Named fields over the fixed 20 bytes of a header (the caller checks the length first);
// Byte is const for a header being read. All byte-order work is in load/store.
template <typename Byte>
class BasicView {
 public:
  explicit BasicView(std::span<Byte> bytes) : p_(bytes.data()) {}

  std::uint8_t version() const { return p_[0] >> 4; }
  std::size_t header_len() const { return std::size_t{p_[0] & 0x0fU} * 4; }  // in bytes
  std::uint8_t tos() const { return p_[1]; }
  std::uint16_t total_len() const { return load16(p_ + 2); }
  std::uint16_t id() const { return load16(p_ + 4); }
  std::uint16_t flags_offset() const { return load16(p_ + 6); }
  bool dont_fragment() const { return (flags_offset() & flags::dont_fragment) != 0; }
  bool more_fragments() const { return (flags_offset() & flags::more_fragments) != 0; }
  std::uint16_t fragment_offset() const {  // in bytes
    return static_cast<std::uint16_t>((flags_offset() & flags::offset_mask) * 8);
  }
  std::uint8_t ttl() const { return p_[8]; }
  std::uint8_t protocol() const { return p_[9]; }
  std::uint16_t checksum() const { return load16(p_ + 10); }
  Ipv4Address src() const { return Ipv4Address{load32(p_ + 12)}; }
  Ipv4Address dst() const { return Ipv4Address{load32(p_ + 16)}; }

  void set_version_and_header_len(std::size_t bytes) requires(!std::is_const_v<Byte>) {
    p_[0] = static_cast<std::uint8_t>(0x40 | (bytes / 4));
  }
  void set_tos(std::uint8_t v) requires(!std::is_const_v<Byte>) { p_[1] = v; }
  void set_total_len(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 2, v); }
  void set_id(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 4, v); }
  void set_flags_offset(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 6, v); }
  void set_ttl(std::uint8_t v) requires(!std::is_const_v<Byte>) { p_[8] = v; }
  void set_protocol(std::uint8_t v) requires(!std::is_const_v<Byte>) { p_[9] = v; }
  void set_checksum(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 10, v); }
  void set_src(Ipv4Address a) requires(!std::is_const_v<Byte>) { store32(p_ + 12, a.value()); }
  void set_dst(Ipv4Address a) requires(!std::is_const_v<Byte>) { store32(p_ + 16, a.value()); }

 private:
  Byte* p_;
};

using View = BasicView<std::uint8_t>;
using ConstView = BasicView<const std::uint8_t>;

// The header of a datagram quoted in an ICMP error: routers may truncate or alter it, so only
// the version and IHL are checked (no checksum, no total length); nullopt if even they fail.
std::optional<Repr> peek(std::span<const std::uint8_t> bytes);

// Sets the header checksum of the header at `header` (IHL taken from the header itself).
void fill_checksum(std::span<std::uint8_t> header);

}  // namespace tapir::ip
