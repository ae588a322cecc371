// The IPv4 header (RFC 791 §3.1): parse with every validity check, emit with checksum.
#include "stack/ip/ipv4_header.hpp"

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"

namespace tapir::ip {

namespace {

// RFC 791 §3.1 "Options" / RFC 1122 §3.2.1.8: walk the list so a malformed length can never
// read past the header; unknown options are skipped by their length. Returns the offset of
// the bad octet (from the header start), or 0 when the list is well formed.
std::size_t check_options(std::span<const std::uint8_t> header) {
  std::size_t i = min_header_len;
  while (i < header.size()) {
    const std::uint8_t type = header[i];
    if (type == option::end) return 0;
    if (type == option::nop) {
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

// Every field of the fixed header, unchecked.
Repr fields_of(const ConstView& h) {
  Repr r;
  r.tos = h.tos();
  r.total_len = h.total_len();
  r.id = h.id();
  r.dont_fragment = h.dont_fragment();
  r.more_fragments = h.more_fragments();
  r.fragment_offset = h.fragment_offset();
  r.ttl = h.ttl();
  r.protocol = h.protocol();
  r.checksum = h.checksum();
  r.src = h.src();
  r.dst = h.dst();
  r.header_len = static_cast<std::uint8_t>(h.header_len());
  return r;
}

}  // namespace

std::optional<Repr> peek(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < min_header_len) return std::nullopt;
  const ConstView h(bytes);
  if (h.version() != 4 || h.header_len() < min_header_len || h.header_len() > bytes.size()) {
    return std::nullopt;
  }
  return fields_of(h);
}

std::variant<Repr, HeaderError> Repr::parse(std::span<const std::uint8_t> bytes, Repr* partial) {
  if (bytes.size() < min_header_len) return HeaderError::truncated;
  const ConstView h(bytes);
  Repr r = fields_of(h);
  if (partial) *partial = r;

  if (h.version() != 4) return HeaderError::bad_version;
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
  View h(out);
  h.set_version_and_header_len(header_len);
  h.set_tos(tos);
  h.set_total_len(total_len);
  h.set_id(id);
  h.set_flags_offset(static_cast<std::uint16_t>((dont_fragment ? flags::dont_fragment : 0) |
                                                (more_fragments ? flags::more_fragments : 0) |
                                                ((fragment_offset / 8) & flags::offset_mask)));
  h.set_ttl(ttl);
  h.set_protocol(protocol);
  h.set_checksum(0);
  h.set_src(src);
  h.set_dst(dst);
  if (router_alert) {
    // RFC 2113 §2.1: the option, length 4, value 0 ("every router examines the packet").
    std::uint8_t* o = out.data() + min_header_len;
    o[0] = option::router_alert;
    o[1] = 4;
    store16(o + 2, 0);
  }
  checksum = internet_checksum(out.first(header_len));
  h.set_checksum(checksum);
}

void fill_checksum(std::span<std::uint8_t> header) {
  View h(header);
  h.set_checksum(0);
  h.set_checksum(internet_checksum(header.first(h.header_len())));
}

}  // namespace tapir::ip
