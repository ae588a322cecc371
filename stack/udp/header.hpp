// The UDP header (RFC 768): a wire view with named fields, and its parsed representation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "stack/core/bytes.hpp"

namespace tapir::udp {

inline constexpr std::size_t header_len = 8;
// 65535 less the IPv4 and UDP headers: the largest payload one datagram can carry.
inline constexpr std::size_t max_payload = 65507;

struct Repr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t length = 0;
  std::uint16_t checksum = 0;
};

// Named fields over at least header_len bytes (the caller checks the length first); Byte is
// std::uint8_t for a header being written, const std::uint8_t for one being read.
template <typename Byte>
class BasicView {
 public:
  explicit BasicView(std::span<Byte> bytes) : p_(bytes.data()) {}

  std::uint16_t src_port() const { return load16(p_); }
  std::uint16_t dst_port() const { return load16(p_ + 2); }
  std::uint16_t length() const { return load16(p_ + 4); }
  std::uint16_t checksum() const { return load16(p_ + 6); }
  Repr repr() const { return Repr{src_port(), dst_port(), length(), checksum()}; }

  void set_src_port(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_, v); }
  void set_dst_port(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 2, v); }
  void set_length(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 4, v); }
  void set_checksum(std::uint16_t v) requires(!std::is_const_v<Byte>) { store16(p_ + 6, v); }

 private:
  Byte* p_;
};

using View = BasicView<std::uint8_t>;
using ConstView = BasicView<const std::uint8_t>;

}  // namespace tapir::udp
