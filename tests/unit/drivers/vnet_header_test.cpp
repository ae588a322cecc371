// The vnet header: exact bytes out, every flag and GSO type in, bad headers dropped and counted.
#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <vector>

#include "drivers/vnet_header.hpp"

using namespace tapir;

namespace {

// A header (host byte order, as a legacy TAP device uses) followed by `payload` zero bytes.
std::vector<std::uint8_t> frame(std::uint8_t flags, std::uint8_t gso_type, std::uint16_t hdr_len,
                                std::uint16_t gso_size, std::uint16_t csum_start,
                                std::uint16_t csum_offset, std::size_t payload) {
  std::vector<std::uint8_t> f(vnet_header_size + payload, 0);
  f[0] = flags;
  f[1] = gso_type;
  const std::uint16_t fields[] = {hdr_len, gso_size, csum_start, csum_offset};
  std::memcpy(f.data() + 2, fields, sizeof fields);
  return f;
}

}  // namespace

TEST_CASE("A plain header parses with no flags", "[drivers][vnet]") {
  VnetCounters c;
  const auto h = parse_vnet_header(frame(0, 0, 0, 0, 0, 0, 60), c);
  REQUIRE(h);
  CHECK_FALSE(h->needs_csum);
  CHECK_FALSE(h->data_valid);
  CHECK(h->gso == GsoType::none);
  CHECK(c.gso_frames == 0);
}

TEST_CASE("DATA_VALID and NEEDS_CSUM are read", "[drivers][vnet]") {
  VnetCounters c;
  const auto valid = parse_vnet_header(frame(2, 0, 0, 0, 0, 0, 60), c);
  REQUIRE(valid);
  CHECK(valid->data_valid);
  const auto partial = parse_vnet_header(frame(1, 0, 0, 0, 34, 16, 60), c);
  REQUIRE(partial);
  CHECK(partial->needs_csum);
  CHECK(partial->csum_start == 34);
  CHECK(partial->csum_offset == 16);
}

TEST_CASE("Every GSO type parses, with ECN", "[drivers][vnet]") {
  VnetCounters c;
  const std::pair<std::uint8_t, GsoType> types[] = {
      {1, GsoType::tcpv4}, {3, GsoType::udp}, {4, GsoType::tcpv6}};
  for (const auto& [raw, type] : types) {
    const auto h = parse_vnet_header(frame(1, raw | 0x80, 54, 1448, 34, 16, 3000), c);
    REQUIRE(h);
    CHECK(h->gso == type);
    CHECK(h->ecn);
    CHECK(h->hdr_len == 54);
    CHECK(h->gso_size == 1448);
  }
  CHECK(c.gso_frames == 3);
}

TEST_CASE("Bad vnet headers are dropped and counted", "[drivers][vnet]") {
  VnetCounters c;
  CHECK_FALSE(parse_vnet_header(std::vector<std::uint8_t>(9, 0), c));
  CHECK(c.short_frame == 1);
  CHECK_FALSE(parse_vnet_header(frame(4, 0, 0, 0, 0, 0, 60), c));
  CHECK(c.bad_flags == 1);
  CHECK_FALSE(parse_vnet_header(frame(1, 2, 54, 1448, 34, 16, 3000), c));
  CHECK_FALSE(parse_vnet_header(frame(0, 0x80, 0, 0, 0, 0, 60), c));
  CHECK(c.bad_gso_type == 2);
  CHECK_FALSE(parse_vnet_header(frame(1, 1, 54, 0, 34, 16, 3000), c));
  CHECK_FALSE(parse_vnet_header(frame(1, 1, 54, 2947, 34, 16, 3000), c));
  CHECK(c.bad_gso_size == 2);
  CHECK_FALSE(parse_vnet_header(frame(1, 1, 0, 1448, 34, 16, 3000), c));
  CHECK_FALSE(parse_vnet_header(frame(1, 1, 3001, 1448, 34, 16, 3000), c));
  CHECK(c.bad_hdr_len == 2);
  // The checksum field must lie inside the packet; GSO without NEEDS_CSUM is refused.
  CHECK_FALSE(parse_vnet_header(frame(1, 0, 0, 0, 50, 9, 60), c));
  CHECK_FALSE(parse_vnet_header(frame(0, 1, 54, 1448, 0, 0, 3000), c));
  CHECK(c.bad_csum == 2);
  CHECK(c.gso_frames == 0);
}

TEST_CASE("A TSO header is emitted byte for byte", "[drivers][vnet]") {
  VnetHeader h;
  h.needs_csum = true;
  h.gso = GsoType::tcpv4;
  h.hdr_len = 54;
  h.gso_size = 1448;
  h.csum_start = 34;
  h.csum_offset = 16;
  std::array<std::uint8_t, vnet_header_size> out{};
  emit_vnet_header(h, out);
  CHECK(out == std::array<std::uint8_t, vnet_header_size>{1, 1, 54, 0, 0xa8, 0x05, 34, 0, 16, 0});
  VnetCounters c;
  std::vector<std::uint8_t> f(out.begin(), out.end());
  f.resize(vnet_header_size + 3000);
  const auto back = parse_vnet_header(f, c);
  REQUIRE(back);
  CHECK(back->gso_size == 1448);
}
