// The ICMP message (RFC 792): types and codes, the fixed part as a repr and as a wire view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "stack/core/bytes.hpp"
#include "stack/core/packet.hpp"

namespace tapir::icmp {

inline constexpr std::size_t header_len = 8;

enum class Type : std::uint8_t {
  echo_reply = 0,
  dest_unreachable = 3,
  source_quench = 4,
  redirect = 5,
  echo_request = 8,
  time_exceeded = 11,
  parameter_problem = 12,
  timestamp = 13,
  timestamp_reply = 14,
  address_mask_request = 17,
  address_mask_reply = 18,
};

namespace unreachable {  // RFC 792 / RFC 1122 §3.2.2.1 codes
inline constexpr std::uint8_t net = 0;
inline constexpr std::uint8_t host = 1;
inline constexpr std::uint8_t protocol = 2;
inline constexpr std::uint8_t port = 3;
inline constexpr std::uint8_t fragmentation_needed = 4;
}  // namespace unreachable

namespace time_exceeded {
inline constexpr std::uint8_t ttl = 0;
inline constexpr std::uint8_t reassembly = 1;
}  // namespace time_exceeded

inline constexpr std::uint8_t redirect_host = 1;

// An ICMP message's fixed part; `rest` is the 4 bytes after the checksum (id/seq, pointer,
// gateway, next-hop MTU, ...).
struct Repr {
  Type type = Type::echo_reply;
  std::uint8_t code = 0;
  std::uint32_t rest = 0;

  static bool is_error(Type type);
};

// Named fields over the 8-byte fixed part (the caller checks the length first); Byte is
// const for a message being read.
template <typename Byte>
class BasicView {
 public:
  explicit BasicView(std::span<Byte> bytes) : p_(bytes.data()) {}

  Type type() const { return static_cast<Type>(p_[0]); }
  std::uint8_t code() const { return p_[1]; }
  std::uint16_t checksum() const { return load16(p_ + 2); }
  std::uint32_t rest() const { return load32(p_ + 4); }
  // The first 16-bit word, type and code together (what an incremental checksum update
  // patches when the type changes, RFC 1624).
  std::uint16_t type_code_word() const { return load16(p_); }
  Repr repr() const { return Repr{type(), code(), rest()}; }

  void set_type(Type t) requires(!std::is_const_v<Byte>) { p_[0] = static_cast<std::uint8_t>(t); }
  void set_code(std::uint8_t c) requires(!std::is_const_v<Byte>) { p_[1] = c; }
  void set_checksum(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 2, v); }
  void set_rest(std::uint32_t v) requires(!std::is_const_v<Byte>) { store32(p_ + 4, v); }

 private:
  Byte* p_;
};

using View = BasicView<std::uint8_t>;
using ConstView = BasicView<const std::uint8_t>;

// Writes `repr`'s fixed part and `body` into a new message, checksum filled in.
Packet build(const Repr& repr, std::span<const std::uint8_t> body);

}  // namespace tapir::icmp
