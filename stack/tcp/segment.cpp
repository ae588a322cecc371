// The TCP header and its options: parse() validates and reads one, emit() writes one.
#include "stack/tcp/segment.hpp"

#include <algorithm>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "stack/ip/ipv4_header.hpp"

namespace tapir::tcp {

namespace {

namespace kind {
constexpr std::uint8_t eol = 0;
constexpr std::uint8_t nop = 1;
constexpr std::uint8_t mss = 2;
constexpr std::uint8_t window_scale = 3;
constexpr std::uint8_t sack_permitted = 4;
constexpr std::uint8_t sack = 5;
constexpr std::uint8_t timestamps = 8;
}  // namespace kind

// Each option's length, its kind and length bytes included.
constexpr std::size_t mss_len = 4;
constexpr std::size_t window_scale_len = 3;
constexpr std::size_t sack_permitted_len = 2;
constexpr std::size_t timestamps_len = 10;
constexpr std::size_t sack_block_len = 8;
constexpr std::size_t max_sack_blocks = 4;
constexpr std::size_t max_options_len = max_header_len - header_len;

// The word-aligned space each option takes in Linux's layout (tcp_options_write), padding
// included; every part is a multiple of four, so the whole needs no further padding.
struct Layout {
  std::size_t mss = 0;          // MSS
  std::size_t ts_sackok = 0;    // 04 02 08 0a + TS, NOP NOP + TS, or NOP NOP + SACK-permitted
  std::size_t wscale = 0;       // NOP + window scale
  std::size_t sack_blocks = 0;  // how many SACK blocks fit (NOP NOP 05 len + 8 each)

  std::size_t sack_len() const { return sack_blocks == 0 ? 0 : 4 + sack_block_len * sack_blocks; }
  std::size_t total() const { return mss + ts_sackok + wscale + sack_len(); }
};

Layout layout_of(const Options& o) {
  Layout l;
  if (o.mss) l.mss = mss_len;
  if (o.timestamps) {
    l.ts_sackok = 2 + timestamps_len;  // SACK-permitted, when sent too, fills the two NOPs
  } else if (o.sack_permitted) {
    l.ts_sackok = 2 + sack_permitted_len;
  }
  if (o.window_scale) l.wscale = 1 + window_scale_len;
  // RFC 2018 §3: with timestamps only three blocks fit in the 40 option bytes; send the
  // first ones (the caller puts the most recent block first) and drop the rest.
  const std::size_t used = l.total();
  const std::size_t wanted = std::min<std::size_t>(o.sack_count, max_sack_blocks);
  if (wanted > 0 && used + 4 + sack_block_len <= max_options_len) {
    l.sack_blocks = std::min(wanted, (max_options_len - used - 4) / sack_block_len);
  }
  return l;
}

// Reads the option list (RFC 9293 §3.2) as Linux's tcp_parse_options does.
Options parse_options(std::span<const std::uint8_t> list, bool syn) {
  Options o;
  std::size_t i = 0;
  while (i < list.size()) {
    const std::uint8_t k = list[i];
    if (k == kind::eol) break;
    if (k == kind::nop) {
      ++i;
      continue;
    }
    // RFC 9293 §3.2: every other option has a length octet covering kind and length; one
    // below 2 would loop for ever and one past the header would read the data, so the walk
    // stops there (Linux's "silly options").
    if (list.size() - i < 2 || list[i + 1] < 2 || list[i + 1] > list.size() - i) {
      o.malformed = true;
      break;
    }
    const std::size_t len = list[i + 1];
    const std::uint8_t* v = list.data() + i + 2;
    switch (k) {
      case kind::mss:
        // RFC 9293 §3.2: MSS only in a SYN. A zero MSS is ignored (as Linux), so a peer
        // cannot make the sender divide by zero or send empty segments for ever.
        if (len == mss_len && syn && load16(v) != 0) o.mss = load16(v);
        break;
      case kind::window_scale:
        // RFC 7323 §2.2: only in a SYN; §2.3: a shift above 14 is used as 14.
        if (len == window_scale_len && syn) o.window_scale = std::min(v[0], max_window_scale);
        break;
      case kind::sack_permitted:
        if (len == sack_permitted_len) o.sack_permitted = true;
        break;
      case kind::timestamps:
        if (len == timestamps_len) o.timestamps = Timestamps{load32(v), load32(v + 4)};
        break;
      case kind::sack:
        // RFC 2018 §3: 2 + 8n octets. A later SACK option replaces an earlier one.
        if (len >= 2 + sack_block_len && (len - 2) % sack_block_len == 0) {
          o.sack_count = static_cast<std::uint8_t>(
              std::min<std::size_t>((len - 2) / sack_block_len, max_sack_blocks));
          for (std::size_t b = 0; b < o.sack_count; ++b) {
            const std::uint8_t* block = v + b * sack_block_len;
            o.sack[b] = SackBlock{SeqNum{load32(block)}, SeqNum{load32(block + 4)}};
          }
        }
        break;
      default:
        break;  // RFC 9293 §3.2 / RFC 1122 §4.2.2.5: unknown options are skipped by length
    }
    i += len;
  }
  return o;
}

std::uint8_t* write_options(const Options& o, const Layout& l, std::uint8_t* p) {
  if (l.mss) {
    p[0] = kind::mss;
    p[1] = mss_len;
    store16(p + 2, *o.mss);
    p += mss_len;
  }
  if (o.timestamps) {
    // Linux packs SACK-permitted into the two bytes that would otherwise be NOPs in front of
    // the timestamps, so a SYN carrying both spends 12 bytes, not 16.
    p[0] = o.sack_permitted ? kind::sack_permitted : kind::nop;
    p[1] = o.sack_permitted ? sack_permitted_len : kind::nop;
    p[2] = kind::timestamps;
    p[3] = timestamps_len;
    store32(p + 4, o.timestamps->value);
    store32(p + 8, o.timestamps->echo);
    p += 2 + timestamps_len;
  } else if (o.sack_permitted) {
    p[0] = kind::nop;
    p[1] = kind::nop;
    p[2] = kind::sack_permitted;
    p[3] = sack_permitted_len;
    p += 2 + sack_permitted_len;
  }
  if (l.wscale) {
    p[0] = kind::nop;
    p[1] = kind::window_scale;
    p[2] = window_scale_len;
    p[3] = std::min(*o.window_scale, max_window_scale);  // RFC 7323 §2.3
    p += 1 + window_scale_len;
  }
  if (l.sack_blocks) {
    p[0] = kind::nop;
    p[1] = kind::nop;
    p[2] = kind::sack;
    p[3] = static_cast<std::uint8_t>(2 + sack_block_len * l.sack_blocks);
    p += 4;
    for (std::size_t b = 0; b < l.sack_blocks; ++b) {
      store32(p, o.sack[b].left.value());
      store32(p + 4, o.sack[b].right.value());
      p += sack_block_len;
    }
  }
  return p;
}

}  // namespace

std::size_t Repr::header_length() const {
  return header_len + layout_of(options).total();
}

ParseResult parse(std::span<const std::uint8_t> segment, Ipv4Address src, Ipv4Address dst) {
  ParseResult result;
  if (segment.size() < header_len) {
    result.error = ParseError::truncated;
    return result;
  }
  const ConstView h(segment);
  const std::size_t offset = h.data_offset();
  if (offset < header_len || offset > segment.size()) {
    result.error = ParseError::bad_offset;
    return result;
  }
  // RFC 9293 §3.1: the sum over the pseudo-header, header and data, the checksum field
  // included, is zero when the segment is intact.
  if (transport_checksum(src, dst, ip::protocol::tcp, segment) != 0) {
    result.error = ParseError::bad_checksum;
    return result;
  }
  Parsed& parsed = result.parsed.emplace();
  Repr& r = parsed.repr;
  r.src_port = h.src_port();
  r.dst_port = h.dst_port();
  r.seq = h.seq();
  r.ack = h.ack();
  r.flags = h.flags();
  r.window = h.window();
  r.urgent = h.urgent();
  r.options = parse_options(segment.subspan(header_len, offset - header_len), r.has(flag::syn));
  parsed.payload_offset = offset;
  return result;
}

void emit(const Repr& repr, Packet& packet, Ipv4Address src, Ipv4Address dst) {
  const Layout l = layout_of(repr.options);
  const std::size_t length = header_len + l.total();
  const std::span<std::uint8_t> header = packet.prepend(length);
  View h(header);
  h.set_src_port(repr.src_port);
  h.set_dst_port(repr.dst_port);
  h.set_seq(repr.seq);
  h.set_ack(repr.ack);
  h.set_data_offset(length);
  h.set_flags(repr.flags);
  h.set_window(repr.window);
  h.set_checksum(0);
  h.set_urgent(repr.urgent);
  write_options(repr.options, l, header.data() + header_len);
  h.set_checksum(transport_checksum(src, dst, ip::protocol::tcp, packet.bytes()));
}

std::string flags_text(std::uint8_t flags) {
  std::string s;
  if (flags & flag::syn) s += 'S';
  if (flags & flag::fin) s += 'F';
  if (flags & flag::rst) s += 'R';
  if (flags & flag::psh) s += 'P';
  if (flags & flag::ack) s += '.';
  if (flags & flag::urg) s += 'U';
  return s.empty() ? "none" : s;
}

}  // namespace tapir::tcp
