// Address types: Ipv4Address, MacAddress and Ipv4Cidr (an address with a prefix length).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tapir {

class Ipv4Address {
 public:
  constexpr Ipv4Address() = default;
  constexpr explicit Ipv4Address(std::uint32_t host_order) : value_(host_order) {}
  constexpr Ipv4Address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
      : value_((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d) {}

  // Dotted quad only ("10.0.0.2"); nullopt for anything else.
  static std::optional<Ipv4Address> parse(std::string_view text);
  static constexpr Ipv4Address any() { return Ipv4Address{}; }
  static constexpr Ipv4Address broadcast() { return Ipv4Address{0xffffffffU}; }

  constexpr std::uint32_t value() const { return value_; }
  constexpr bool is_unspecified() const { return value_ == 0; }
  constexpr bool is_broadcast() const { return value_ == 0xffffffffU; }
  constexpr bool is_multicast() const { return (value_ >> 28) == 0xe; }  // 224.0.0.0/4
  constexpr bool is_loopback() const { return (value_ >> 24) == 127; }   // 127.0.0.0/8
  // RFC 1122 §3.2.1.3: class E (240/4) and 0/8 are never valid sources.
  constexpr bool is_class_e() const { return (value_ >> 28) == 0xf && !is_broadcast(); }
  std::string to_string() const;

  friend constexpr auto operator<=>(Ipv4Address, Ipv4Address) = default;

 private:
  std::uint32_t value_ = 0;
};

class MacAddress {
 public:
  using Bytes = std::array<std::uint8_t, 6>;
  constexpr MacAddress() = default;
  constexpr explicit MacAddress(const Bytes& bytes) : bytes_(bytes) {}
  static MacAddress from(const std::uint8_t* six_bytes);

  // "02:00:00:00:00:01" (colons or dashes); nullopt for anything else.
  static std::optional<MacAddress> parse(std::string_view text);
  static constexpr MacAddress broadcast() {
    return MacAddress{Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  }
  // RFC 1112 §6.4: 01:00:5e followed by the low 23 bits of the group address.
  static MacAddress multicast_for(Ipv4Address group);

  constexpr const Bytes& bytes() const { return bytes_; }
  void copy_to(std::uint8_t* out) const;
  constexpr bool is_broadcast() const { return *this == broadcast(); }
  constexpr bool is_multicast() const { return (bytes_[0] & 1) != 0; }  // includes broadcast
  constexpr bool is_zero() const { return *this == MacAddress{}; }
  std::string to_string() const;

  friend constexpr bool operator==(const MacAddress&, const MacAddress&) = default;

 private:
  Bytes bytes_{};
};

// An interface address with its prefix, or a route's destination network.
struct Ipv4Cidr {
  Ipv4Address address;
  std::uint8_t prefix_len = 0;

  // "10.0.0.2/24"; nullopt for anything else (prefix 0..32 required).
  static std::optional<Ipv4Cidr> parse(std::string_view text);
  static constexpr std::uint32_t mask_of(std::uint8_t len) {
    return len == 0 ? 0 : ~std::uint32_t{0} << (32 - len);
  }
  constexpr std::uint32_t mask() const { return mask_of(prefix_len); }
  constexpr Ipv4Address network() const { return Ipv4Address{address.value() & mask()}; }
  constexpr Ipv4Address directed_broadcast() const {
    return Ipv4Address{address.value() | ~mask()};
  }
  constexpr bool contains(Ipv4Address a) const {
    return (a.value() & mask()) == (address.value() & mask());
  }
  std::string to_string() const;
  friend constexpr bool operator==(const Ipv4Cidr&, const Ipv4Cidr&) = default;
};

}  // namespace tapir

template <>
struct std::hash<tapir::Ipv4Address> {
  std::size_t operator()(tapir::Ipv4Address a) const noexcept {
    // Multiplicative mix: neighbours (10.0.0.1, 10.0.0.2, ...) land far apart.
    return static_cast<std::size_t>(std::uint32_t{a.value() * 0x9E3779B1U});
  }
};
