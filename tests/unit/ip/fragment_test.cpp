// Tests of IPv4 fragmentation (RFC 791 §3.2), each fragment decoded by libtins.
#include <tins/tins.h>
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "stack/ip/fragment.hpp"

using namespace tapir;
using tapir::ip::fragment;

namespace {

std::vector<std::uint8_t> pattern(std::size_t n, std::size_t start = 0) {
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>((start + i) * 7 + 3);
  return out;
}

// A datagram built by libtins: 10.0.0.1 -> 10.0.0.2, UDP, ID 0xbeef, TTL 33, TOS 0x10.
std::vector<std::uint8_t> datagram(std::size_t payload_len, unsigned flags = 0,
                                   std::uint16_t offset = 0) {
  Tins::IP ip(Tins::IPv4Address("10.0.0.2"), Tins::IPv4Address("10.0.0.1"));  // (dst, src)
  ip.id(0xbeef);
  ip.ttl(33);
  ip.tos(0x10);
  ip.protocol(17);
  ip.flags(static_cast<Tins::IP::Flags>(flags));
  ip.fragment_offset(offset / 8);
  ip /= Tins::RawPDU(pattern(payload_len, offset));
  return ip.serialize();
}

// A datagram with `options` (brought here to a 32-bit boundary with NOPs and an EOL, as
// libtins refuses zero padding after an EOL), built by hand.
std::vector<std::uint8_t> datagram_with_options(std::vector<std::uint8_t> options,
                                                std::size_t payload_len) {
  if (options.size() % 4 != 0) {
    options.resize(options.size() + 3 - options.size() % 4, 0x01);
    options.push_back(0x00);
  }
  std::vector<std::uint8_t> d = {0x45, 0x10, 0,  0, 0xbe, 0xef, 0,  0, 33, 17,
                                 0,    0,    10, 0, 0,    1,    10, 0, 0,  2};
  d.insert(d.end(), options.begin(), options.end());
  const std::size_t header_len = d.size();
  d[0] = static_cast<std::uint8_t>(0x40 | (header_len / 4));
  const auto payload = pattern(payload_len);
  d.insert(d.end(), payload.begin(), payload.end());
  store16(d.data() + 2, static_cast<std::uint16_t>(d.size()));
  store16(d.data() + 10, internet_checksum({d.data(), header_len}));
  return d;
}

struct Piece {
  Tins::IP ip;
  std::size_t header_len;
  std::size_t offset;  // bytes
  bool more;
  std::vector<std::uint8_t> payload;
  std::vector<std::uint8_t> header;
};

// Decodes a fragment with libtins and checks what every fragment must satisfy.
Piece decode(const Packet& p) {
  Tins::IP ip(p.data(), static_cast<std::uint32_t>(p.size()));
  const std::size_t header_len = ip.head_len() * 4U;
  CHECK(ip.tot_len() == p.size());
  CHECK(internet_checksum({p.data(), header_len}) == 0);
  CHECK(ip.id() == 0xbeef);
  CHECK(ip.ttl() == 33);
  CHECK(ip.tos() == 0x10);
  CHECK(ip.protocol() == 17);
  CHECK(ip.src_addr() == Tins::IPv4Address("10.0.0.1"));
  CHECK(ip.dst_addr() == Tins::IPv4Address("10.0.0.2"));
  CHECK((ip.flags() & Tins::IP::DONT_FRAGMENT) == 0);
  return Piece{ip,
               header_len,
               ip.fragment_offset() * 8U,
               (ip.flags() & Tins::IP::MORE_FRAGMENTS) != 0,
               {p.data() + header_len, p.data() + p.size()},
               {p.data(), p.data() + header_len}};
}

std::vector<Piece> decode_all(const std::vector<Packet>& packets) {
  std::vector<Piece> out;
  for (const Packet& p : packets) out.push_back(decode(p));
  return out;
}

std::vector<std::size_t> payload_sizes(const std::vector<Piece>& pieces) {
  std::vector<std::size_t> out;
  for (const Piece& p : pieces) out.push_back(p.payload.size());
  return out;
}

// The pieces cover [base, base + payload) in order, without gaps; their bytes are the original's.
void check_covers(const std::vector<Piece>& pieces, const std::vector<std::uint8_t>& payload,
                  std::size_t base = 0) {
  std::vector<std::uint8_t> joined;
  for (const Piece& p : pieces) {
    CHECK(p.offset == base + joined.size());
    joined.insert(joined.end(), p.payload.begin(), p.payload.end());
  }
  CHECK(joined == payload);
}

}  // namespace

TEST_CASE("a 4028-byte payload at MTU 1500 goes as 1480, 1480 and 1068 bytes", "[fragment]") {
  const auto input = datagram(4028);
  const auto pieces = decode_all(fragment(input, 1500));
  REQUIRE(pieces.size() == 3);
  CHECK(payload_sizes(pieces) == std::vector<std::size_t>{1480, 1480, 1068});
  CHECK(pieces[0].ip.tot_len() == 1500);
  CHECK(pieces[1].ip.tot_len() == 1500);
  CHECK(pieces[2].ip.tot_len() == 1088);
  CHECK(pieces[0].ip.fragment_offset() == 0);
  CHECK(pieces[1].ip.fragment_offset() == 185);
  CHECK(pieces[2].ip.fragment_offset() == 370);
  CHECK(pieces[0].more);
  CHECK(pieces[1].more);
  CHECK_FALSE(pieces[2].more);
  for (const Piece& p : pieces) CHECK(p.header_len == 20);
  check_covers(pieces, pattern(4028));
}

TEST_CASE("fragment headers differ from the original only in length, flags and checksum",
          "[fragment]") {
  const auto input = datagram(3000);
  const auto packets = fragment(input, 1000);
  REQUIRE(packets.size() == 4);
  for (const Packet& p : packets) {
    std::vector<std::uint8_t> header(p.data(), p.data() + 20);
    for (std::size_t at : {2, 3, 6, 7, 10, 11}) header[at] = input[at];
    CHECK(header == std::vector<std::uint8_t>(input.begin(), input.begin() + 20));
  }
}

TEST_CASE("at odd MTUs every fragment fits and all but the last carry multiples of 8",
          "[fragment]") {
  const auto payload = pattern(3001);
  const auto input = datagram(3001);
  for (std::size_t mtu : {28, 29, 35, 68, 69, 75, 576, 577, 1006, 1499, 1501, 3020}) {
    INFO("MTU " << mtu);
    const auto pieces = decode_all(fragment(input, mtu));
    REQUIRE(!pieces.empty());
    const std::size_t per_piece = (mtu - 20) / 8 * 8;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      CHECK(pieces[i].ip.tot_len() <= mtu);
      if (i + 1 < pieces.size()) {
        CHECK(pieces[i].payload.size() == per_piece);
        CHECK(pieces[i].more);
      } else {
        CHECK(pieces[i].payload.size() <= per_piece);
        CHECK_FALSE(pieces[i].more);
      }
    }
    CHECK(pieces.size() == (3001 + per_piece - 1) / per_piece);
    check_covers(pieces, payload);
  }
}

TEST_CASE("copied options go into every fragment, the others only into the first", "[fragment]") {
  const std::vector<std::uint8_t> lsrr = {0x83, 7, 4, 1, 2, 3, 4};  // copied (RFC 791)
  const std::vector<std::uint8_t> rr = {0x07, 7, 4, 0, 0, 0, 0};    // not copied
  const std::vector<std::uint8_t> alert = {0x94, 4, 0, 0};          // copied (RFC 2113)
  std::vector<std::uint8_t> options = lsrr;
  options.push_back(0x01);  // NOP: not copied
  options.insert(options.end(), rr.begin(), rr.end());
  options.insert(options.end(), alert.begin(), alert.end());
  const auto input = datagram_with_options(options, 500);  // 19 option bytes -> 40-byte header
  REQUIRE(Tins::IP(input.data(), static_cast<std::uint32_t>(input.size())).head_len() == 10);

  const auto pieces = decode_all(fragment(input, 200));
  REQUIRE(pieces.size() == 4);
  // The first keeps the whole 40-byte header; the rest carry 20 + 7 + 4 = 31 -> 32 bytes, so
  // room for (200 - 40) / 8 * 8 = 160 and then (200 - 32) / 8 * 8 = 168 payload bytes.
  CHECK(payload_sizes(pieces) == std::vector<std::size_t>{160, 168, 168, 4});
  CHECK(pieces[0].header_len == 40);
  std::vector<std::uint8_t> first_options(pieces[0].header.begin() + 20, pieces[0].header.end());
  CHECK(first_options == std::vector<std::uint8_t>(input.begin() + 20, input.begin() + 40));

  std::vector<std::uint8_t> later_options = lsrr;
  later_options.insert(later_options.end(), alert.begin(), alert.end());
  later_options.push_back(0);  // EOL padding to a 32-bit boundary
  for (std::size_t i = 1; i < pieces.size(); ++i) {
    INFO("fragment " << i);
    CHECK(pieces[i].header_len == 32);
    CHECK(std::vector<std::uint8_t>(pieces[i].header.begin() + 20, pieces[i].header.end()) ==
          later_options);
    std::vector<std::uint8_t> numbers;
    for (const auto& option : pieces[i].ip.options()) {
      CHECK(option.option().copied == 1);
      numbers.push_back(option.option().number);
    }
    CHECK(numbers == std::vector<std::uint8_t>{3, 20});  // LSRR, router alert
  }
  check_covers(pieces, pattern(500));
}

TEST_CASE("later headers are brought to a 32-bit boundary with NOPs and an EOL", "[fragment]") {
  const std::vector<std::uint8_t> experiment = {0x9e, 6, 1, 2, 3, 4};  // copied (RFC 4727)
  std::vector<std::uint8_t> options = experiment;
  options.insert(options.end(), {0x07, 7, 4, 0, 0, 0, 0});  // record route: not copied
  const auto input = datagram_with_options(options, 300);
  const auto pieces = decode_all(fragment(input, 100));
  REQUIRE(pieces.size() == 5);
  CHECK(pieces[0].header_len == 36);
  CHECK(payload_sizes(pieces) == std::vector<std::size_t>{64, 72, 72, 72, 20});
  std::vector<std::uint8_t> later = experiment;
  later.insert(later.end(), {0x01, 0x00});  // 26 -> 28 bytes
  for (std::size_t i = 1; i < pieces.size(); ++i) {
    CHECK(pieces[i].header_len == 28);
    CHECK(std::vector<std::uint8_t>(pieces[i].header.begin() + 20, pieces[i].header.end()) ==
          later);
  }
  check_covers(pieces, pattern(300));
}

TEST_CASE("fragments after the first have a 20-byte header when no option is copied",
          "[fragment]") {
  const auto input = datagram_with_options({0x07, 7, 4, 0, 0, 0, 0}, 100);  // RR only
  const auto pieces = decode_all(fragment(input, 60));
  REQUIRE(pieces.size() == 3);
  CHECK(pieces[0].header_len == 28);
  CHECK(pieces[1].header_len == 20);
  CHECK(pieces[2].header_len == 20);
  CHECK(pieces[1].ip.head_len() == 5);
  // (60 - 28) / 8 * 8 = 32, then (60 - 20) / 8 * 8 = 40.
  CHECK(payload_sizes(pieces) == std::vector<std::size_t>{32, 40, 28});
  check_covers(pieces, pattern(100));
}

TEST_CASE("a datagram with DF set yields no fragment", "[fragment]") {
  const auto input = datagram(4028, Tins::IP::DONT_FRAGMENT);
  CHECK(fragment(input, 1500).empty());
  CHECK(fragment(input, 576).empty());
}

TEST_CASE("an MTU that cannot hold the header and 8 bytes yields no fragment", "[fragment]") {
  const auto input = datagram(100);
  CHECK(fragment(input, 27).empty());
  CHECK(fragment(input, 0).empty());
  const auto pieces = decode_all(fragment(input, 28));
  CHECK(pieces.size() == 13);  // 12 x 8 + 4
  check_covers(pieces, pattern(100));

  const auto with_options = datagram_with_options({0x94, 4, 0, 0}, 100);  // 24-byte header
  CHECK(fragment(with_options, 31).empty());
  CHECK(fragment(with_options, 32).size() == 13);
}

TEST_CASE("a datagram that fits the MTU comes back as one unchanged copy", "[fragment]") {
  const auto input = datagram(1480);
  const auto out = fragment(input, 1500);
  REQUIRE(out.size() == 1);
  CHECK(std::vector<std::uint8_t>(out[0].bytes().begin(), out[0].bytes().end()) == input);
  // DF forbids fragmenting, not sending.
  const auto df = datagram(100, Tins::IP::DONT_FRAGMENT);
  REQUIRE(fragment(df, 1500).size() == 1);
  // Room in front for the link header.
  CHECK(out[0].headroom() >= 14);
}

TEST_CASE("re-fragmenting a middle fragment keeps its offset and MF on every piece", "[fragment]") {
  // A router meets fragment 2 of 3 (offset 1480, MF) and a 576-byte MTU.
  const auto input = datagram(1480, Tins::IP::MORE_FRAGMENTS, 1480);
  const auto pieces = decode_all(fragment(input, 576));
  REQUIRE(pieces.size() == 3);
  CHECK(payload_sizes(pieces) == std::vector<std::size_t>{552, 552, 376});
  CHECK(pieces[0].offset == 1480);
  CHECK(pieces[1].offset == 2032);
  CHECK(pieces[2].offset == 2584);
  for (const Piece& p : pieces) CHECK(p.more);  // more of the original follows every one
  check_covers(pieces, pattern(1480, 1480), 1480);
}

TEST_CASE("re-fragmenting the last fragment clears MF on the last piece only", "[fragment]") {
  const auto input = datagram(1068, 0, 2960);
  const auto pieces = decode_all(fragment(input, 576));
  REQUIRE(pieces.size() == 2);
  CHECK(payload_sizes(pieces) == std::vector<std::size_t>{552, 516});
  CHECK(pieces[0].more);
  CHECK_FALSE(pieces[1].more);
  CHECK(pieces[1].offset == 2960 + 552);
}

TEST_CASE("bytes past the total length (link padding) are not fragmented", "[fragment]") {
  auto input = datagram(200);
  input.insert(input.end(), 30, 0xee);
  const auto pieces = decode_all(fragment(input, 100));
  REQUIRE(pieces.size() == 3);
  check_covers(pieces, pattern(200));
}

TEST_CASE("a malformed header yields no fragment", "[fragment]") {
  const auto good = datagram(200);
  CHECK(fragment(std::span(good).first(19), 100).empty());  // shorter than a header
  auto bad_ihl = good;
  bad_ihl[0] = 0x44;  // IHL 4
  CHECK(fragment(bad_ihl, 100).empty());
  auto short_total = good;
  store16(short_total.data() + 2, 19);  // total length below the header length
  CHECK(fragment(short_total, 100).empty());
  CHECK(fragment(std::span(good).first(good.size() - 1), 100).empty());  // truncated
}
