// Parsing and printing of addresses.
#include "stack/core/address.hpp"

#include <charconv>
#include <cstdio>

namespace tapir {

namespace {

// Parses a decimal number in [0, max] that fills `text` exactly.
// Leading zeros are refused: inet_aton(3) would read "010" as octal 8, inet_pton(3) refuses
// it, and an address that means two things to two tools is a trap.
std::optional<unsigned> parse_decimal(std::string_view text, unsigned max) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || ptr != text.data() + text.size() || v > max) return std::nullopt;
  return v;
}

std::optional<unsigned> parse_hex_byte(std::string_view text) {
  if (text.empty() || text.size() > 2) return std::nullopt;
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    auto dot = text.find('.');
    if ((i < 3) == (dot == std::string_view::npos)) return std::nullopt;
    auto part = parse_decimal(text.substr(0, dot), 255);
    if (!part) return std::nullopt;
    value = (value << 8) | *part;
    text = i < 3 ? text.substr(dot + 1) : std::string_view{};
  }
  return Ipv4Address{value};
}

std::string Ipv4Address::to_string() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", value_ >> 24, (value_ >> 16) & 0xff,
                (value_ >> 8) & 0xff, value_ & 0xff);
  return buf;
}

MacAddress MacAddress::from(const std::uint8_t* six_bytes) {
  Bytes b;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = six_bytes[i];
  return MacAddress{b};
}

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
  Bytes b;
  for (std::size_t i = 0; i < b.size(); ++i) {
    auto sep = text.find_first_of(":-");
    if ((i < 5) == (sep == std::string_view::npos)) return std::nullopt;
    auto part = parse_hex_byte(text.substr(0, sep));
    if (!part) return std::nullopt;
    b[i] = static_cast<std::uint8_t>(*part);
    text = i < 5 ? text.substr(sep + 1) : std::string_view{};
  }
  return MacAddress{b};
}

MacAddress MacAddress::multicast_for(Ipv4Address group) {
  const std::uint32_t g = group.value();
  return MacAddress{Bytes{0x01, 0x00, 0x5e, static_cast<std::uint8_t>((g >> 16) & 0x7f),
                          static_cast<std::uint8_t>(g >> 8), static_cast<std::uint8_t>(g)}};
}

void MacAddress::copy_to(std::uint8_t* out) const {
  for (std::size_t i = 0; i < bytes_.size(); ++i) out[i] = bytes_[i];
}

std::string MacAddress::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes_[0], bytes_[1], bytes_[2],
                bytes_[3], bytes_[4], bytes_[5]);
  return buf;
}

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto addr = Ipv4Address::parse(text.substr(0, slash));
  auto len = parse_decimal(text.substr(slash + 1), 32);
  if (!addr || !len) return std::nullopt;
  return Ipv4Cidr{*addr, static_cast<std::uint8_t>(*len)};
}

std::string Ipv4Cidr::to_string() const {
  return address.to_string() + "/" + std::to_string(prefix_len);
}

}  // namespace tapir
