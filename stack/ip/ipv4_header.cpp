// The IPv4 header (RFC 791 §3.1): parse with every validity check, emit with checksum.
#include "stack/ip/ipv4_header.hpp"

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"

namespace tapir::ip {

namespace {

constexpr std::uint8_t option_end = 0;
constexpr std::uint8_t option_nop = 1;

// RFC 791 §3.1 "Options" / RFC 1122 §3.2.1.8: walk the list so a malformed length can never
// read past the header; unknown options are skipped by their length. Returns the offset of
// the bad octet (from the header start), or 0 when the list is well formed.
std::size_t check_options(std::span<const std::uint8_t> header) {
  std::size_t i = min_header_len;
  while (i < header.size()) {
    const std::uint8_t type = header[i];
    if (type == option_end) return 0;
    if (type == option_nop) {
      ++i;
      continue;
    }
    if (i + 1 >= header.size()) return i;
    const std::uint8_t len = header[i + 1];
    if (len < 2 || i + len > header.size()) return i + 1;
    i += len;
  }
  return 0;
}

}  // namespace

std::variant<Repr, HeaderError> Repr::parse(std::span<const std::uint8_t> bytes, Repr* partial) {
  if (bytes.size() < min_header_len) return HeaderError::truncated;
  const std::uint8_t* p = bytes.data();
  Repr r;
  r.tos = p[1];
  r.total_len = load16(p + 2);
  r.id = load16(p + 4);
  const std::uint16_t flags_offset = load16(p + 6);
  r.dont_fragment = (flags_offset & 0x4000) != 0;
  r.more_fragments = (flags_offset & 0x2000) != 0;
  r.fragment_offset = static_cast<std::uint16_t>((flags_offset & 0x1fff) * 8);
  r.ttl = p[8];
  r.protocol = p[9];
  r.checksum = load16(p + 10);
  r.src = Ipv4Address{load32(p + 12)};
  r.dst = Ipv4Address{load32(p + 16)};
  r.header_len = static_cast<std::uint8_t>((p[0] & 0x0f) * 4);
  if (partial) *partial = r;

  if ((p[0] >> 4) != 4) return HeaderError::bad_version;
  if (r.header_len < min_header_len || r.header_len > bytes.size()) {
    return HeaderError::bad_header_len;
  }
  if (r.total_len < r.header_len) return HeaderError::bad_total_len;
  // RFC 1122 §3.2.1.1 allows link padding after the datagram, never less than it.
  if (r.total_len > bytes.size()) return HeaderError::truncated;
  if (internet_checksum(bytes.first(r.header_len)) != 0) return HeaderError::bad_checksum;
  if (std::size_t bad = check_options(bytes.first(r.header_len)); bad != 0) {
    r.bad_option_pointer = static_cast<std::uint8_t>(bad);
    if (partial) *partial = r;
    return HeaderError::bad_options;
  }
  return r;
}

void Repr::emit(std::span<std::uint8_t> out) {
  header_len = static_cast<std::uint8_t>(emitted_len());
  std::uint8_t* p = out.data();
  p[0] = static_cast<std::uint8_t>(0x40 | (header_len / 4));
  p[1] = tos;
  store16(p + 2, total_len);
  store16(p + 4, id);
  const auto flags =
      static_cast<std::uint16_t>((dont_fragment ? 0x4000 : 0) | (more_fragments ? 0x2000 : 0) |
                                 ((fragment_offset / 8) & 0x1fff));
  store16(p + 6, flags);
  p[8] = ttl;
  p[9] = protocol;
  store16(p + 10, 0);
  store32(p + 12, src.value());
  store32(p + 16, dst.value());
  if (router_alert) {
    // RFC 2113 §2.1: type 148 (copied, class 0, number 20), length 4, value 0.
    p[20] = 0x94;
    p[21] = 4;
    store16(p + 22, 0);
  }
  checksum = internet_checksum(out.first(header_len));
  store16(p + 10, checksum);
}

void fill_checksum(std::span<std::uint8_t> header) {
  const std::size_t len = static_cast<std::size_t>(header[0] & 0x0f) * 4;
  store16(header.data() + 10, 0);
  store16(header.data() + 10, internet_checksum(header.first(len)));
}

}  // namespace tapir::ip
