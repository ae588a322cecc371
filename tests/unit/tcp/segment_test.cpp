// Tests of the TCP header: exact bytes out of emit(), libtins as the independent decoder and
// encoder, the option rules, and malformed segments.
#include <tins/tins.h>
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "stack/core/bytes.hpp"
#include "stack/tcp/segment.hpp"

using namespace tapir;
using tapir::tcp::Options;
using tapir::tcp::ParseError;
using tapir::tcp::ParseResult;
using tapir::tcp::Repr;
using tapir::tcp::SackBlock;
using tapir::tcp::SeqNum;
using tapir::tcp::Timestamps;
using tapir::tcp::flag::ack;
using tapir::tcp::flag::fin;
using tapir::tcp::flag::psh;
using tapir::tcp::flag::syn;

namespace {

using Bytes = std::vector<std::uint8_t>;

const Ipv4Address kSrc{10, 0, 0, 1};
const Ipv4Address kDst{10, 0, 0, 2};

// The TCP checksum (RFC 9293 §3.1) with a plain one's-complement loop, independent of the
// stack's code. Over a segment whose checksum field is right it returns 0.
std::uint16_t reference_checksum(const Bytes& segment, Ipv4Address src = kSrc,
                                 Ipv4Address dst = kDst) {
  std::uint32_t sum = (src.value() >> 16) + (src.value() & 0xffff) + (dst.value() >> 16) +
                      (dst.value() & 0xffff) + 6 + static_cast<std::uint32_t>(segment.size());
  for (std::size_t i = 0; i < segment.size(); i += 2) {
    sum += std::uint32_t{segment[i]} << 8;
    if (i + 1 < segment.size()) sum += segment[i + 1];
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// `segment` with its checksum field filled in by the reference loop.
Bytes checksummed(Bytes segment) {
  store16(segment.data() + 16, 0);
  store16(segment.data() + 16, reference_checksum(segment));
  return segment;
}

Bytes emitted(const Repr& r, const Bytes& payload = {}) {
  Packet p = Packet::copy_of(payload);
  tcp::emit(r, p, kSrc, kDst);
  return Bytes(p.bytes().begin(), p.bytes().end());
}

// Parses from a heap copy of exactly the segment's size, so ASan catches any read past it.
ParseResult parsed(const Bytes& segment) {
  const Bytes exact(segment);
  return tcp::parse(exact, kSrc, kDst);
}

Options parsed_options(const Bytes& segment) {
  const ParseResult r = parsed(segment);
  REQUIRE(r.parsed);
  return r.parsed->repr.options;
}

// A 20-byte header followed by `options` (padded with EOLs to a multiple of 4), checksummed.
Bytes with_options(std::uint8_t flags, Bytes options, const Bytes& payload = {}) {
  while (options.size() % 4 != 0) options.push_back(0);
  Bytes s(20 + options.size());
  store16(s.data(), 40000);
  store16(s.data() + 2, 80);
  store32(s.data() + 4, 1000);
  store32(s.data() + 8, (flags & ack) != 0 ? 2000 : 0);
  s[12] = static_cast<std::uint8_t>(s.size() / 4 << 4);
  s[13] = flags;
  store16(s.data() + 14, 8192);
  std::copy(options.begin(), options.end(), s.begin() + 20);
  s.insert(s.end(), payload.begin(), payload.end());
  return checksummed(s);
}

Repr syn_repr() {
  Repr r;
  r.src_port = 40000;
  r.dst_port = 80;
  r.seq = SeqNum{0x01020304};
  r.flags = syn;
  r.window = 65535;
  r.options.mss = 1460;
  r.options.sack_permitted = true;
  r.options.timestamps = Timestamps{0x11223344, 0};
  r.options.window_scale = 7;
  return r;
}

Repr ack_repr() {
  Repr r;
  r.src_port = 80;
  r.dst_port = 40000;
  r.seq = SeqNum{0xFFFFFFF0U};
  r.ack = SeqNum{0x01020305};
  r.flags = ack | psh;
  r.window = 501;
  return r;
}

// The segment libtins builds for `tcp` (with `payload`) inside an IPv4 header from kSrc to
// kDst, without that IPv4 header.
Bytes tins_segment(Tins::TCP tcp, const Bytes& payload = {}) {
  Tins::IP ip =
      Tins::IP(Tins::IPv4Address(kDst.to_string()), Tins::IPv4Address(kSrc.to_string())) / tcp;
  if (!payload.empty()) ip /= Tins::RawPDU(payload);
  const Bytes datagram = ip.serialize();
  return Bytes(datagram.begin() + 20, datagram.end());
}

}  // namespace

TEST_CASE("A SYN carries MSS, SACK-permitted packed with timestamps, and window scale as Linux",
          "[tcp][segment]") {
  const Repr r = syn_repr();
  const Bytes expected = checksummed({
      0x9c, 0x40, 0x00, 0x50,  // ports 40000 > 80
      0x01, 0x02, 0x03, 0x04,  // seq
      0x00, 0x00, 0x00, 0x00,  // ack
      0xa0, 0x02, 0xff, 0xff,  // data offset 10, SYN, window
      0x00, 0x00, 0x00, 0x00,  // checksum, urgent
      0x02, 0x04, 0x05, 0xb4,  // MSS 1460
      0x04, 0x02, 0x08, 0x0a,  // SACK-permitted, timestamps
      0x11, 0x22, 0x33, 0x44, 0x00, 0x00,
      0x00, 0x00, 0x01, 0x03, 0x03, 0x07,  // NOP, window scale 7
  });
  CHECK(r.header_length() == 40);
  CHECK(emitted(r) == expected);
}

TEST_CASE("A SYN with timestamps but no SACK-permitted pads them with two NOPs", "[tcp][segment]") {
  Repr r = syn_repr();
  r.options.sack_permitted = false;
  const Bytes out = emitted(r);
  REQUIRE(out.size() == 40);
  CHECK(Bytes(out.begin() + 20, out.end()) == Bytes{0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x08,
                                                    0x0a, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00,
                                                    0x00, 0x00, 0x01, 0x03, 0x03, 0x07});
}

TEST_CASE("A SYN with SACK-permitted but no timestamps pads it with two NOPs", "[tcp][segment]") {
  Repr r = syn_repr();
  r.options.timestamps.reset();
  CHECK(r.header_length() == 32);
  const Bytes out = emitted(r);
  REQUIRE(out.size() == 32);
  CHECK(Bytes(out.begin() + 20, out.end()) ==
        Bytes{0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x07});
}

TEST_CASE("An ACK carries NOP NOP timestamps and then NOP NOP SACK blocks", "[tcp][segment]") {
  Repr r = ack_repr();
  r.options.timestamps = Timestamps{7, 0x11223344};
  r.options.sack[0] = {SeqNum{0x1000}, SeqNum{0x2000}};
  r.options.sack[1] = {SeqNum{0xFFFFFF00U}, SeqNum{0x10}};
  r.options.sack_count = 2;
  const Bytes expected = checksummed({
      0x00, 0x50, 0x9c, 0x40, 0xff, 0xff, 0xff, 0xf0, 0x01, 0x02, 0x03, 0x05,
      0xd0, 0x18, 0x01, 0xf5, 0x00, 0x00, 0x00, 0x00,  // offset 13, ACK|PSH, window 501
      0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x07, 0x11, 0x22, 0x33, 0x44,  // timestamps
      0x01, 0x01, 0x05, 0x12,                                                  // SACK, 2 blocks
      0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00,                          //
      0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x10,                          //
  });
  CHECK(r.header_length() == 52);
  CHECK(emitted(r) == expected);
}

TEST_CASE("A header without options is 20 bytes with data offset 5", "[tcp][segment]") {
  const Repr r = ack_repr();
  CHECK(r.header_length() == 20);
  const Bytes out = emitted(r);
  REQUIRE(out.size() == 20);
  CHECK(out[12] == 0x50);
  CHECK(reference_checksum(out) == 0);
}

TEST_CASE("With timestamps only three SACK blocks fit in the 40 option bytes (RFC 2018 §3)",
          "[tcp][segment]") {
  Repr r = ack_repr();
  for (std::uint32_t i = 0; i < 4; ++i) r.options.sack[i] = {SeqNum{i * 100}, SeqNum{i * 100 + 50}};
  r.options.sack_count = 4;
  CHECK(r.header_length() == 20 + 4 + 32);
  CHECK(emitted(r).size() == 56);
  r.options.timestamps = Timestamps{1, 2};
  CHECK(r.header_length() == 60);
  const Bytes out = emitted(r);
  REQUIRE(out.size() == 60);
  CHECK(out[12 + 20 + 3] == 2 + 3 * 8);
  const Options back = parsed_options(out);
  CHECK(back.sack_count == 3);
  CHECK(back.sack[2] == SackBlock{SeqNum{200}, SeqNum{250}});
}

TEST_CASE("header_length equals what emit writes for every combination of options",
          "[tcp][segment]") {
  for (unsigned mask = 0; mask < 64; ++mask) {
    for (std::uint8_t blocks = 0; blocks <= 4; ++blocks) {
      Repr r = ack_repr();
      if (mask & 1) r.flags |= syn;
      if (mask & 2) r.options.mss = 1400;
      if (mask & 4) r.options.sack_permitted = true;
      if (mask & 8) r.options.timestamps = Timestamps{5, 6};
      if (mask & 16) r.options.window_scale = 3;
      r.options.sack_count = (mask & 32) ? blocks : 0;
      const Bytes payload{1, 2, 3};
      const Bytes out = emitted(r, payload);
      INFO("mask " << mask << " blocks " << int{blocks});
      REQUIRE(out.size() == r.header_length() + payload.size());
      CHECK(r.header_length() % 4 == 0);
      CHECK(r.header_length() <= 60);
      CHECK(std::size_t{out[12]} >> 4 == r.header_length() / 4);
      CHECK(reference_checksum(out) == 0);
    }
  }
}

TEST_CASE("emit puts the header in front of the payload and the checksum covers both",
          "[tcp][segment]") {
  const Bytes payload{'h', 'e', 'l', 'l', 'o'};
  Repr r = ack_repr();
  r.options.timestamps = Timestamps{1, 2};
  const Bytes out = emitted(r, payload);
  REQUIRE(out.size() == 32 + payload.size());
  CHECK(Bytes(out.begin() + 32, out.end()) == payload);
  CHECK(reference_checksum(out) == 0);
  Bytes corrupted = out;
  corrupted.back() ^= 1;
  CHECK(reference_checksum(corrupted) != 0);
}

TEST_CASE("libtins decodes the SYN emit writes", "[tcp][segment]") {
  const Bytes out = emitted(syn_repr());
  const Tins::TCP t(out.data(), static_cast<std::uint32_t>(out.size()));
  CHECK(t.sport() == 40000);
  CHECK(t.dport() == 80);
  CHECK(t.seq() == 0x01020304);
  CHECK(t.ack_seq() == 0);
  CHECK(t.flags() == Tins::TCP::SYN);
  CHECK(t.window() == 65535);
  CHECK(t.mss() == 1460);
  CHECK(t.winscale() == 7);
  CHECK(t.has_sack_permitted());
  CHECK(t.timestamp() == std::make_pair(std::uint32_t{0x11223344}, std::uint32_t{0}));
}

TEST_CASE("libtins decodes the ACK with SACK blocks emit writes", "[tcp][segment]") {
  Repr r = ack_repr();
  r.flags = ack | fin;
  r.urgent = 0;
  r.options.timestamps = Timestamps{0xdeadbeef, 42};
  r.options.sack[0] = {SeqNum{10}, SeqNum{20}};
  r.options.sack[1] = {SeqNum{30}, SeqNum{40}};
  r.options.sack[2] = {SeqNum{50}, SeqNum{60}};
  r.options.sack_count = 3;
  const Bytes payload{9, 8, 7};
  const Bytes out = emitted(r, payload);
  const Tins::TCP t(out.data(), static_cast<std::uint32_t>(out.size()));
  CHECK(t.sport() == 80);
  CHECK(t.dport() == 40000);
  CHECK(t.seq() == 0xFFFFFFF0U);
  CHECK(t.ack_seq() == 0x01020305);
  CHECK(t.flags() == (Tins::TCP::ACK | Tins::TCP::FIN));
  CHECK(t.window() == 501);
  CHECK(t.timestamp() == std::make_pair(std::uint32_t{0xdeadbeef}, std::uint32_t{42}));
  CHECK(t.sack() == Tins::TCP::sack_type{10, 20, 30, 40, 50, 60});
  CHECK_FALSE(t.has_sack_permitted());
  CHECK_THROWS_AS(t.mss(), Tins::option_not_found);
  const auto* raw = t.find_pdu<Tins::RawPDU>();
  REQUIRE(raw);
  CHECK(raw->payload() == payload);
}

TEST_CASE("A SYN built by libtins parses with all its options", "[tcp][segment]") {
  Tins::TCP t(80, 40000);
  t.seq(0xFFFFFF00U);
  t.flags(Tins::TCP::SYN | Tins::TCP::ACK);
  t.ack_seq(12345);
  t.window(29200);
  t.mss(1400);
  t.sack_permitted();
  t.timestamp(0xaabbccdd, 0x01020304);
  t.winscale(9);
  const Bytes seg = tins_segment(t);
  const ParseResult r = parsed(seg);
  REQUIRE(r.parsed);
  const Repr& repr = r.parsed->repr;
  CHECK(repr.src_port == 40000);
  CHECK(repr.dst_port == 80);
  CHECK(repr.seq == SeqNum{0xFFFFFF00U});
  CHECK(repr.ack == SeqNum{12345});
  CHECK(repr.flags == (syn | ack));
  CHECK(repr.window == 29200);
  CHECK(repr.options.mss == 1400);
  CHECK(repr.options.sack_permitted);
  CHECK(repr.options.timestamps == Timestamps{0xaabbccdd, 0x01020304});
  CHECK(repr.options.window_scale == 9);
  CHECK_FALSE(repr.options.malformed);
  CHECK(r.parsed->payload_offset == seg.size());
}

TEST_CASE("A data segment built by libtins parses with its SACK blocks and payload offset",
          "[tcp][segment]") {
  Tins::TCP t(443, 50000);
  t.seq(7);
  t.ack_seq(9);
  t.flags(Tins::TCP::ACK | Tins::TCP::PSH);
  t.window(1024);
  t.urg_ptr(3);
  t.timestamp(100, 200);
  t.sack({1000, 2000, 3000, 4000});
  const Bytes payload{1, 2, 3, 4, 5, 6, 7};
  const Bytes seg = tins_segment(t, payload);
  const ParseResult r = parsed(seg);
  REQUIRE(r.parsed);
  const Repr& repr = r.parsed->repr;
  CHECK(repr.src_port == 50000);
  CHECK(repr.dst_port == 443);
  CHECK(repr.flags == (ack | psh));
  CHECK(repr.urgent == 3);
  CHECK(repr.options.timestamps == Timestamps{100, 200});
  REQUIRE(repr.options.sack_count == 2);
  CHECK(repr.options.sack[0] == SackBlock{SeqNum{1000}, SeqNum{2000}});
  CHECK(repr.options.sack[1] == SackBlock{SeqNum{3000}, SeqNum{4000}});
  CHECK(Bytes(seg.begin() + static_cast<std::ptrdiff_t>(r.parsed->payload_offset), seg.end()) ==
        payload);
}

TEST_CASE("What emit writes parses back to the same Repr", "[tcp][segment]") {
  Repr with_sack = ack_repr();
  with_sack.options.timestamps = Timestamps{3, 4};
  with_sack.options.sack[0] = {SeqNum{1}, SeqNum{2}};
  with_sack.options.sack_count = 1;
  Repr all_flags = ack_repr();
  all_flags.flags = 0xff;
  all_flags.urgent = 0xbeef;
  for (const Repr& r : {syn_repr(), ack_repr(), with_sack, all_flags}) {
    const Bytes out = emitted(r, {0x55});
    const ParseResult back = parsed(out);
    REQUIRE(back.parsed);
    CHECK(back.parsed->repr.options == r.options);
    CHECK(back.parsed->repr.flags == r.flags);
    CHECK(back.parsed->repr.seq == r.seq);
    CHECK(back.parsed->repr.ack == r.ack);
    CHECK(back.parsed->repr.window == r.window);
    CHECK(back.parsed->repr.urgent == r.urgent);
    CHECK(back.parsed->payload_offset == r.header_length());
  }
}

TEST_CASE("A window scale above 14 is taken as 14 (RFC 7323 §2.3)", "[tcp][segment]") {
  CHECK(parsed_options(with_options(syn, {3, 3, 15})).window_scale == 14);
  CHECK(parsed_options(with_options(syn, {3, 3, 255})).window_scale == 14);
  CHECK(parsed_options(with_options(syn, {3, 3, 14})).window_scale == 14);
  CHECK(parsed_options(with_options(syn, {3, 3, 0})).window_scale == 0);
  Repr r = syn_repr();
  r.options.window_scale = 20;
  CHECK(emitted(r)[39] == 14);
}

TEST_CASE("MSS and window scale count only on a SYN (RFC 9293 §3.2, RFC 7323 §2.2)",
          "[tcp][segment]") {
  const Bytes opts{2, 4, 0x05, 0xb4, 1, 3, 3, 7, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
  const Options on_syn = parsed_options(with_options(syn, opts));
  CHECK(on_syn.mss == 1460);
  CHECK(on_syn.window_scale == 7);
  const Options on_ack = parsed_options(with_options(ack, opts));
  CHECK_FALSE(on_ack.mss);
  CHECK_FALSE(on_ack.window_scale);
  CHECK(on_ack.timestamps == Timestamps{1, 2});  // the option after them is still read
  CHECK_FALSE(on_ack.malformed);
}

TEST_CASE("An MSS of zero is ignored", "[tcp][segment]") {
  CHECK_FALSE(parsed_options(with_options(syn, {2, 4, 0, 0})).mss);
}

TEST_CASE("An option of the wrong length for its kind is skipped by its length", "[tcp][segment]") {
  const Options o = parsed_options(with_options(syn, {
                                                         2, 6, 0x05, 0xb4, 0, 0,  // MSS, length 6
                                                         3, 4, 7,    0,           // WS, length 4
                                                         4, 3, 0,                 // SACKOK, 3
                                                         8, 6, 0,    0,    0, 1,  // TS, length 6
                                                         5, 7, 0,    0,    0, 0, 0,  // SACK, 7
                                                         2, 4, 0x02, 0x18,           // MSS 536
                                                     }));
  CHECK(o.mss == 536);
  CHECK_FALSE(o.window_scale);
  CHECK_FALSE(o.sack_permitted);
  CHECK_FALSE(o.timestamps);
  CHECK(o.sack_count == 0);
  CHECK_FALSE(o.malformed);
}

TEST_CASE("Unknown options are skipped by their length", "[tcp][segment]") {
  const Options o =
      parsed_options(with_options(syn, {30, 6, 1, 2, 3, 4, 254, 2, 2, 4, 0x05, 0xb4, 4, 2}));
  CHECK(o.mss == 1460);
  CHECK(o.sack_permitted);
  CHECK_FALSE(o.malformed);
}

TEST_CASE("End of option list stops the walk without marking it malformed", "[tcp][segment]") {
  const Options o = parsed_options(with_options(syn, {2, 4, 0x05, 0xb4, 0, 0, 3, 3, 7, 0}));
  CHECK(o.mss == 1460);
  CHECK_FALSE(o.window_scale);
  CHECK_FALSE(o.malformed);
}

TEST_CASE("An option length of 0 or 1 stops the walk and keeps what came before",
          "[tcp][segment]") {
  for (const std::uint8_t len : {std::uint8_t{0}, std::uint8_t{1}}) {
    const Options o = parsed_options(with_options(syn, {2, 4, 0x05, 0xb4, 99, len, 3, 3, 7}));
    CHECK(o.mss == 1460);
    CHECK_FALSE(o.window_scale);
    CHECK(o.malformed);
  }
}

TEST_CASE("An option running past the header stops the walk as malformed", "[tcp][segment]") {
  // Timestamps claiming 10 bytes with only 6 left in the header; the payload follows.
  const Options o = parsed_options(
      with_options(syn, {2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 1}, {0, 0, 0, 2, 0, 0, 0, 3}));
  CHECK(o.mss == 1460);
  CHECK_FALSE(o.timestamps);
  CHECK(o.malformed);
}

TEST_CASE("A kind with no room left for its length byte is malformed", "[tcp][segment]") {
  const Options o = parsed_options(with_options(syn, {4, 2, 1, 3}));
  CHECK(o.sack_permitted);
  CHECK(o.malformed);
}

TEST_CASE("A segment shorter than 20 bytes is truncated", "[tcp][segment]") {
  const Bytes whole = emitted(ack_repr());
  for (std::size_t n = 0; n < 20; ++n) {
    const ParseResult r =
        parsed(Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n)));
    CHECK_FALSE(r.parsed);
    CHECK(r.error == ParseError::truncated);
  }
}

TEST_CASE("A data offset below 5 words is refused", "[tcp][segment]") {
  for (std::uint8_t words = 0; words < 5; ++words) {
    Bytes s = emitted(ack_repr(), {1, 2, 3, 4, 5, 6, 7, 8});
    s[12] = static_cast<std::uint8_t>(words << 4);
    const ParseResult r = parsed(checksummed(s));
    CHECK_FALSE(r.parsed);
    CHECK(r.error == ParseError::bad_offset);
  }
}

TEST_CASE("A data offset past the end of the segment is refused", "[tcp][segment]") {
  Bytes s = emitted(ack_repr(), {1, 2, 3});  // 23 bytes
  s[12] = 0x60;                              // 24 bytes of header
  const ParseResult r = parsed(checksummed(s));
  CHECK_FALSE(r.parsed);
  CHECK(r.error == ParseError::bad_offset);
  s[12] = 0xf0;
  CHECK(parsed(checksummed(s)).error == ParseError::bad_offset);
}

TEST_CASE("A data offset equal to the segment's length leaves an empty payload", "[tcp][segment]") {
  Repr r = ack_repr();
  r.options.timestamps = Timestamps{1, 1};
  const ParseResult p = parsed(emitted(r));
  REQUIRE(p.parsed);
  CHECK(p.parsed->payload_offset == 32);
}

TEST_CASE("A segment whose checksum does not verify is refused (RFC 9293 §3.1)", "[tcp][segment]") {
  const Bytes good = emitted(syn_repr(), {1, 2, 3});
  REQUIRE(parsed(good).parsed);
  for (std::size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= 0x40;
    const ParseResult r = parsed(bad);
    // Flipping the offset's bits may make the offset itself wrong first.
    if (i == 12) continue;
    CHECK_FALSE(r.parsed);
    CHECK(r.error == ParseError::bad_checksum);
  }
  // The pseudo-header counts: the same bytes between other addresses fail.
  CHECK(tcp::parse(good, kSrc, Ipv4Address{10, 0, 0, 3}).error == ParseError::bad_checksum);
}

TEST_CASE("The reserved bits beside the data offset are ignored", "[tcp][segment]") {
  Bytes s = emitted(ack_repr());
  s[12] |= 0x0f;  // reserved bits and the old NS bit
  const ParseResult r = parsed(checksummed(s));
  REQUIRE(r.parsed);
  CHECK(r.parsed->repr.flags == (ack | psh));
  CHECK(r.parsed->payload_offset == 20);
}

TEST_CASE("Every prefix of a segment parses without reading past its end", "[tcp][segment]") {
  Repr r = syn_repr();
  const Bytes whole = emitted(r, {1, 2, 3, 4});
  for (std::size_t n = 0; n <= whole.size(); ++n) {
    Bytes prefix(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
    if (n >= 20) prefix = checksummed(prefix);
    const ParseResult p = parsed(prefix);
    CHECK(p.parsed.has_value() == (n >= 40));
  }
}

TEST_CASE("Random option bytes never make parse read out of bounds", "[tcp][segment]") {
  std::mt19937 rng(1234);
  for (int i = 0; i < 20000; ++i) {
    const std::size_t words = 5 + rng() % 11;
    Bytes s(words * 4 + rng() % 8);
    for (auto& b : s) b = static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() % 10 : rng());
    s[12] = static_cast<std::uint8_t>(words << 4);
    s[13] = static_cast<std::uint8_t>(rng() % 2 ? syn : ack);
    const ParseResult p = parsed(checksummed(s));
    REQUIRE(p.parsed);
    const Options& o = p.parsed->repr.options;
    CHECK(o.sack_count <= 4);
    if (o.window_scale) CHECK(*o.window_scale <= 14);
  }
}
