// IPv4 fragmentation: splits a datagram to fit an MTU (RFC 791 §3.2; Xinu's ipfsend).
#include "stack/ip/fragment.hpp"

#include <algorithm>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "stack/ip/ipv4_header.hpp"

namespace tapir::ip {

namespace {

// The header every fragment after the first carries: the fixed 20 bytes and only the options
// whose copied flag is set (RFC 791 §3.1 "Options": "the copy flag indicates that this option
// is copied into all fragments on fragmentation"), brought to a 32-bit boundary with NOPs and
// a final EOL. RFC 791 would also allow EOL then zero padding, but some decoders (libtins 4.0)
// refuse bytes after an EOL, and NOP filler is what Linux's ip_options_fragment leaves too.
std::vector<std::uint8_t> later_fragment_header(std::span<const std::uint8_t> header) {
  std::vector<std::uint8_t> out(header.begin(), header.begin() + min_header_len);
  std::size_t i = min_header_len;
  while (i < header.size()) {
    const std::uint8_t type = header[i];
    if (type == option::end) break;
    if (type == option::nop) {
      ++i;
      continue;
    }
    // A length that runs past the header ends the walk: the caller's datagram was validated,
    // so this only guards against a caller that skipped validation.
    if (i + 1 >= header.size() || header[i + 1] < 2 || i + header[i + 1] > header.size()) break;
    const std::size_t len = header[i + 1];
    if ((type & option::copied) != 0) {
      out.insert(out.end(), header.begin() + static_cast<std::ptrdiff_t>(i),
                 header.begin() + static_cast<std::ptrdiff_t>(i + len));
    }
    i += len;
  }
  if (out.size() % 4 != 0) {
    out.resize(out.size() + 3 - out.size() % 4, option::nop);
    out.push_back(option::end);
  }
  View(std::span<std::uint8_t>(out)).set_version_and_header_len(out.size());
  return out;
}

// One fragment: `header` (its IHL already right) followed by `payload`, with total length,
// flags, offset and checksum set.
Packet make_fragment(std::span<const std::uint8_t> header, std::span<const std::uint8_t> payload,
                     std::uint16_t high_flags, std::size_t offset, bool more) {
  Packet p(header.size() + payload.size());
  std::copy(header.begin(), header.end(), p.data());
  std::copy(payload.begin(), payload.end(), p.data() + header.size());
  View h(p.bytes());
  h.set_total_len(static_cast<std::uint16_t>(p.size()));
  h.set_flags_offset(
      static_cast<std::uint16_t>(high_flags | (more ? flags::more_fragments : 0) | (offset / 8)));
  h.set_checksum(0);
  h.set_checksum(internet_checksum(p.bytes().first(header.size())));
  return p;
}

}  // namespace

std::vector<Packet> fragment(std::span<const std::uint8_t> datagram, std::size_t mtu) {
  if (datagram.size() < min_header_len) return {};
  const ConstView in(datagram);
  const std::size_t header_len = in.header_len();
  const std::size_t total_len = in.total_len();
  if (header_len < min_header_len || total_len < header_len || total_len > datagram.size())
    return {};
  datagram = datagram.first(total_len);  // link padding is not part of the datagram

  // Nothing to split: DF only forbids fragmenting, so a datagram that fits goes as it is.
  if (total_len <= mtu) return {Packet::copy_of(datagram)};

  // RFC 791 §3.2: "If the Don't Fragment flag is set, then internet fragmentation of this
  // datagram is NOT permitted"; the caller sends ICMP fragmentation needed (RFC 1191).
  if (in.dont_fragment()) return {};
  // RFC 791 §3.2: every fragment but the last carries a multiple of 8 octets, so the first
  // (which carries every option) must hold its header and at least 8 octets.
  if (mtu < header_len + 8) return {};

  // A router re-fragmenting a fragment (RFC 791 §3.2): offsets continue from the input's own
  // offset, and the last piece keeps the input's MF, since more of the original follows it.
  const std::size_t base_offset = in.fragment_offset();
  const bool input_more = in.more_fragments();
  // The reserved bit (RFC 791 "Bit 0: reserved") is copied as it was; DF is known to be clear.
  const auto high_flags = static_cast<std::uint16_t>(in.flags_offset() & flags::reserved);

  const auto first_header = datagram.first(header_len);
  const auto payload = datagram.subspan(header_len);
  const std::vector<std::uint8_t> rest_header = later_fragment_header(first_header);

  std::vector<Packet> out;
  std::size_t pos = 0;
  while (pos < payload.size()) {
    const std::span<const std::uint8_t> header =
        pos == 0 ? first_header : std::span<const std::uint8_t>(rest_header);
    // RFC 791 §3.2: NFB = (MTU - IHL*4) / 8, recomputed with each piece's own IHL, since the
    // later fragments may carry fewer options than the first.
    const std::size_t room = (mtu - header.size()) / 8 * 8;
    const std::size_t take = std::min(room, payload.size() - pos);
    const bool last = pos + take == payload.size();
    out.push_back(make_fragment(header, payload.subspan(pos, take), high_flags, base_offset + pos,
                                !last || input_more));
    pos += take;
  }
  return out;
}

}  // namespace tapir::ip
