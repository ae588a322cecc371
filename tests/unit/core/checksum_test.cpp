// Tests of the Internet checksum (RFC 1071) and its incremental update (RFC 1624).
#include <tins/tins.h>
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"

using namespace tapir;

namespace {

std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffffU) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

}  // namespace

TEST_CASE("the RFC 1071 example bytes sum to 0xddf2 and checksum to 0x220d", "[checksum]") {
  // RFC 1071 §3, "Numerical Examples": 00 01 f2 03 f4 f5 f6 f7.
  const std::vector<std::uint8_t> bytes = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  CHECK(fold(checksum_add(bytes)) == 0xddf2);
  CHECK(internet_checksum(bytes) == 0x220d);
}

TEST_CASE("a sum may be built from even-length pieces in any split", "[checksum]") {
  const std::vector<std::uint8_t> bytes = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  const std::span<const std::uint8_t> all(bytes);
  for (std::size_t split = 0; split <= bytes.size(); split += 2) {
    const auto sum = checksum_add(all.subspan(split), checksum_add(all.first(split)));
    CHECK(checksum_finish(sum) == 0x220d);
  }
}

TEST_CASE("an odd-length span is padded with one zero byte", "[checksum]") {
  const std::vector<std::uint8_t> odd = {0x01, 0x02, 0x03};
  const std::vector<std::uint8_t> padded = {0x01, 0x02, 0x03, 0x00};
  // 0x0102 + 0x0300 = 0x0402.
  CHECK(fold(checksum_add(odd)) == 0x0402);
  CHECK(internet_checksum(odd) == 0xfbfd);
  CHECK(internet_checksum(odd) == internet_checksum(padded));
  const std::vector<std::uint8_t> one = {0xab};
  CHECK(internet_checksum(one) == static_cast<std::uint16_t>(~0xab00));
}

TEST_CASE("all-zero and empty data checksum to 0xffff", "[checksum]") {
  CHECK(internet_checksum(std::vector<std::uint8_t>(20, 0)) == 0xffff);
  CHECK(internet_checksum(std::vector<std::uint8_t>(7, 0)) == 0xffff);
  CHECK(internet_checksum({}) == 0xffff);
}

TEST_CASE("carries out of bit 15 wrap around, also over long data", "[checksum]") {
  // 0xffff * n sums to n * 0xffff, which folds to 0xffff: the checksum is 0.
  CHECK(internet_checksum(std::vector<std::uint8_t>(2, 0xff)) == 0x0000);
  CHECK(internet_checksum(std::vector<std::uint8_t>(65536, 0xff)) == 0x0000);
  // 0x8000 + 0x8000 = 0x1_0000 -> 0x0001 -> checksum 0xfffe.
  CHECK(internet_checksum(std::vector<std::uint8_t>{0x80, 0x00, 0x80, 0x00}) == 0xfffe);
}

TEST_CASE("a real IPv4 header checksums to its wire value and then verifies to zero",
          "[checksum]") {
  // A captured header: 192.168.0.1 -> 192.168.0.199, UDP, DF, checksum 0xb861.
  std::vector<std::uint8_t> header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                      0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  CHECK(internet_checksum(header) == 0xb861);
  store16(header.data() + 10, 0xb861);
  CHECK(internet_checksum(header) == 0x0000);
}

TEST_CASE("headers libtins builds verify to zero", "[checksum]") {
  std::mt19937 rng(1071);
  for (int i = 0; i < 50; ++i) {
    Tins::IP ip(Tins::IPv4Address(static_cast<std::uint32_t>(rng())),
                Tins::IPv4Address(static_cast<std::uint32_t>(rng())));
    ip.id(static_cast<std::uint16_t>(rng()));
    ip.ttl(static_cast<std::uint8_t>(rng()));
    ip.tos(static_cast<std::uint8_t>(rng()));
    ip.protocol(17);
    ip /= Tins::RawPDU(std::vector<std::uint8_t>(rng() % 100, 0x5a));
    const auto bytes = ip.serialize();
    const std::span<const std::uint8_t> header(bytes.data(), 20);
    CHECK(internet_checksum(header) == 0);
    std::vector<std::uint8_t> zeroed(header.begin(), header.end());
    store16(zeroed.data() + 10, 0);
    CHECK(internet_checksum(zeroed) == ip.checksum());
  }
}

TEST_CASE("an incremental update equals recomputation for random fields (RFC 1624)", "[checksum]") {
  std::mt19937 rng(1624);
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> header(20);
    for (auto& b : header) b = static_cast<std::uint8_t>(rng());
    store16(header.data() + 10, 0);
    const std::uint16_t before = internet_checksum(header);
    store16(header.data() + 10, before);

    std::size_t field = 2 * (rng() % 10);
    if (field == 10) field = 8;  // never the checksum field itself
    const std::uint16_t old_value = load16(header.data() + field);
    const auto new_value = static_cast<std::uint16_t>(rng());
    store16(header.data() + field, new_value);
    const std::uint16_t updated = checksum_update(before, old_value, new_value);

    store16(header.data() + 10, 0);
    INFO("iteration " << i << " field " << field);
    CHECK(updated == internet_checksum(header));
    store16(header.data() + 10, updated);
    CHECK(internet_checksum(header) == 0);
  }
}

TEST_CASE("an incremental update gives +0, not -0, in RFC 1624's example", "[checksum]") {
  // RFC 1624 §4: other octets sum to 0xcd7a; m = 0x5555 becomes m' = 0x3285. HC = 0xdd2f,
  // recomputation gives 0x0000; RFC 1141's eqn. 2 gave 0xffff (-0), eqn. 3 gives 0x0000.
  std::vector<std::uint8_t> header = {0xcd, 0x7a, 0x55, 0x55};
  CHECK(internet_checksum(header) == 0xdd2f);
  store16(header.data() + 2, 0x3285);
  CHECK(internet_checksum(header) == 0x0000);
  CHECK(checksum_update(0xdd2f, 0x5555, 0x3285) == 0x0000);
}

TEST_CASE("a TTL decrement updates the checksum as a router does", "[checksum]") {
  std::vector<std::uint8_t> header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                      0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  const std::uint16_t old_word = load16(header.data() + 8);  // TTL 64, protocol 17
  header[8] = 63;
  const std::uint16_t updated = checksum_update(0xb861, old_word, load16(header.data() + 8));
  CHECK(updated == 0xb961);
  store16(header.data() + 10, updated);
  CHECK(internet_checksum(header) == 0);
}
