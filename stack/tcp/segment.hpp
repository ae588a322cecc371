// The TCP header (RFC 9293 §3.1) and its options: a validated Repr, parse() and emit().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

#include "stack/core/address.hpp"
#include "stack/core/bytes.hpp"
#include "stack/core/packet.hpp"
#include "stack/tcp/seq.hpp"

namespace tapir::tcp {

inline constexpr std::size_t header_len = 20;
inline constexpr std::size_t max_header_len = 60;
// RFC 9293 §3.7.1 / RFC 1122 §4.2.2.6: the MSS a peer that sends no MSS option accepts.
inline constexpr std::uint16_t default_mss = 536;
// RFC 7323 §2.3: a shift above 14 is taken as 14.
inline constexpr std::uint8_t max_window_scale = 14;

namespace flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
inline constexpr std::uint8_t ece = 0x40;
inline constexpr std::uint8_t cwr = 0x80;
}  // namespace flag

// RFC 7323 §3: TSval and TSecr.
struct Timestamps {
  std::uint32_t value = 0;
  std::uint32_t echo = 0;
  friend bool operator==(const Timestamps&, const Timestamps&) = default;
};

// RFC 2018 §3: one block of received data, [left, right).
struct SackBlock {
  SeqNum left;
  SeqNum right;
  friend bool operator==(const SackBlock&, const SackBlock&) = default;
};

struct Options {
  std::optional<std::uint16_t> mss;          // kind 2 (RFC 9293 §3.2)
  std::optional<std::uint8_t> window_scale;  // kind 3 (RFC 7323 §2), already capped at 14
  bool sack_permitted = false;               // kind 4 (RFC 2018 §2)
  std::optional<Timestamps> timestamps;      // kind 8 (RFC 7323 §3)
  std::array<SackBlock, 4> sack{};           // kind 5 (RFC 2018 §3), first sack_count used
  std::uint8_t sack_count = 0;
  // The option list was cut short by a bad length; what came before it is kept (as Linux's
  // tcp_parse_options, which stops at the first silly length rather than drop the segment).
  bool malformed = false;
  friend bool operator==(const Options&, const Options&) = default;
};

// Named fields of the fixed header (RFC 9293 §3.1) over at least header_len bytes (the caller
// checks the length); Byte is const for a header being read. Options are Repr's business.
template <typename Byte>
class BasicView {
 public:
  explicit BasicView(std::span<Byte> bytes) : p_(bytes.data()) {}

  std::uint16_t src_port() const { return load16(p_); }
  std::uint16_t dst_port() const { return load16(p_ + 2); }
  SeqNum seq() const { return SeqNum{load32(p_ + 4)}; }
  SeqNum ack() const { return SeqNum{load32(p_ + 8)}; }
  std::size_t data_offset() const { return std::size_t{p_[12]} / 16 * 4; }  // in bytes
  std::uint8_t flags() const { return p_[13]; }
  std::uint16_t window() const { return load16(p_ + 14); }
  std::uint16_t checksum() const { return load16(p_ + 16); }
  std::uint16_t urgent() const { return load16(p_ + 18); }

  void set_src_port(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_, v); }
  void set_dst_port(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 2, v); }
  void set_seq(SeqNum v) requires(!std::is_const_v<Byte>) { store32(p_ + 4, v.value()); }
  void set_ack(SeqNum v) requires(!std::is_const_v<Byte>) { store32(p_ + 8, v.value()); }
  void set_data_offset(std::size_t bytes) requires(!std::is_const_v<Byte>) {
    p_[12] = static_cast<std::uint8_t>((bytes / 4) << 4);
  }
  void set_flags(std::uint8_t v) requires(!std::is_const_v<Byte>) { p_[13] = v; }
  void set_window(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 14, v); }
  void set_checksum(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 16, v); }
  void set_urgent(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 18, v); }

 private:
  Byte* p_;
};

using View = BasicView<std::uint8_t>;
using ConstView = BasicView<const std::uint8_t>;

struct Repr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  SeqNum seq;
  SeqNum ack;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;  // as on the wire, before any scaling
  std::uint16_t urgent = 0;
  Options options;

  bool has(std::uint8_t f) const { return (flags & f) != 0; }
  // The header's length with these options, padded to a multiple of four (20..60).
  std::size_t header_length() const;
};

enum class ParseError : std::uint8_t {
  truncated,     // shorter than 20 bytes
  bad_offset,    // data offset < 5 or beyond the segment
  bad_checksum,  // RFC 9293 §3.1: the pseudo-header sum does not check
};

struct Parsed {
  Repr repr;
  std::size_t payload_offset = 0;  // where the data starts (the data offset in bytes)
};

// Validates `segment` (the IP payload) from `src` to `dst` and reads its header and options.
// Option rules: MSS and window scale count only on a SYN (RFC 9293 §3.2, RFC 7323 §2.2) and
// are left empty otherwise; an MSS of 0 is ignored (as Linux); a window scale above 14 becomes
// 14; an option of the wrong length for its kind is ignored; unknown kinds are skipped by their
// length; a length below 2 or past the header ends the walk with `malformed` set.
struct ParseResult {
  std::optional<Parsed> parsed;
  ParseError error = ParseError::truncated;  // meaningful when !parsed
};
ParseResult parse(std::span<const std::uint8_t> segment, Ipv4Address src, Ipv4Address dst);

// Prepends the header for `repr` (with its options, NOP-padded to a multiple of four, in
// Linux's order: MSS, SACK-permitted + timestamps packed as Linux packs them, window scale,
// SACK blocks) in front of `packet`, which holds the payload, and fills in the checksum over
// the pseudo-header from `src` to `dst`. Every option set in `repr` is written, SYN or not (the
// caller decides what a segment carries); SACK blocks that do not fit in the 40 option bytes
// (the fourth, when timestamps are on) are left out, and header_length() counts the same.
void emit(const Repr& repr, Packet& packet, Ipv4Address src, Ipv4Address dst);

// The flags as trace lines show them, tcpdump's letters: "S.", "P.", "F.", "R", ... ("none").
std::string flags_text(std::uint8_t flags);

}  // namespace tapir::tcp
