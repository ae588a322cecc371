// Tests of Packet: a byte buffer with headroom for the headers each layer prepends.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "stack/core/packet.hpp"

using namespace tapir;

namespace {

std::vector<std::uint8_t> bytes_of(const Packet& p) {
  return {p.bytes().begin(), p.bytes().end()};
}

}  // namespace

TEST_CASE("a default packet is empty", "[packet]") {
  Packet p;
  CHECK(p.empty());
  CHECK(p.size() == 0);
  CHECK(p.headroom() == 0);
}

TEST_CASE("a new packet holds zeroed bytes behind the headroom asked for", "[packet]") {
  Packet p(10);
  CHECK(p.size() == 10);
  CHECK(p.headroom() == Packet::default_headroom);
  CHECK(bytes_of(p) == std::vector<std::uint8_t>(10, 0));

  Packet q(3, 0);
  CHECK(q.headroom() == 0);
  CHECK(bytes_of(q) == std::vector<std::uint8_t>{0, 0, 0});
}

TEST_CASE("copy_of copies the bytes behind the headroom", "[packet]") {
  const std::vector<std::uint8_t> bytes = {1, 2, 3, 4, 5};
  Packet p = Packet::copy_of(bytes);
  CHECK(bytes_of(p) == bytes);
  CHECK(p.headroom() == Packet::default_headroom);
  CHECK(Packet::copy_of(bytes, 7).headroom() == 7);
}

TEST_CASE("prepend within the headroom leaves the payload where it is", "[packet]") {
  Packet p = Packet::copy_of(std::vector<std::uint8_t>{0xaa, 0xbb});
  const std::uint8_t* payload = p.data();
  auto header = p.prepend(14);
  REQUIRE(header.size() == 14);
  CHECK(header.data() == p.data());
  CHECK(p.data() + 14 == payload);  // not moved, not copied
  CHECK(p.headroom() == Packet::default_headroom - 14);
  CHECK(p.size() == 16);
  for (std::size_t i = 0; i < header.size(); ++i) header[i] = static_cast<std::uint8_t>(i);
  CHECK(p.data()[0] == 0);
  CHECK(p.data()[13] == 13);
  CHECK(p.data()[14] == 0xaa);
  CHECK(p.data()[15] == 0xbb);
}

TEST_CASE("prepend exactly the headroom leaves none", "[packet]") {
  Packet p = Packet::copy_of(std::vector<std::uint8_t>{9}, 8);
  p.prepend(8);
  CHECK(p.headroom() == 0);
  CHECK(p.size() == 9);
  CHECK(p.data()[8] == 9);
}

TEST_CASE("prepend beyond the headroom keeps the bytes and restores a default headroom",
          "[packet]") {
  Packet p = Packet::copy_of(std::vector<std::uint8_t>{1, 2, 3}, 4);
  auto header = p.prepend(10);
  REQUIRE(header.size() == 10);
  std::fill(header.begin(), header.end(), std::uint8_t{0xee});
  CHECK(p.size() == 13);
  CHECK(p.headroom() == Packet::default_headroom);
  std::vector<std::uint8_t> expected(10, 0xee);
  expected.insert(expected.end(), {1, 2, 3});
  CHECK(bytes_of(p) == expected);
  // And the next header fits without another move.
  const std::uint8_t* before = p.data();
  p.prepend(20);
  CHECK(p.data() + 20 == before);
}

TEST_CASE("consume strips a header from the front", "[packet]") {
  Packet p = Packet::copy_of(std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6}, 2);
  p.consume(4);
  CHECK(bytes_of(p) == std::vector<std::uint8_t>{5, 6});
  CHECK(p.headroom() == 6);
  // The stripped header is still there to reclaim (a layer that re-sends in place).
  p.prepend(4);
  CHECK(bytes_of(p) == std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6});
  p.consume(6);
  CHECK(p.empty());
}

TEST_CASE("truncate keeps only the first bytes (link padding goes)", "[packet]") {
  Packet p = Packet::copy_of(std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6});
  p.truncate(6);
  CHECK(p.size() == 6);
  p.truncate(2);
  CHECK(bytes_of(p) == std::vector<std::uint8_t>{1, 2});
  p.truncate(0);
  CHECK(p.empty());
}

TEST_CASE("append grows the back with zeroed bytes, even over truncated ones", "[packet]") {
  Packet p = Packet::copy_of(std::vector<std::uint8_t>{1, 2, 3, 4});
  p.truncate(2);
  auto tail = p.append(3);
  REQUIRE(tail.size() == 3);
  CHECK(tail.data() == p.data() + 2);
  CHECK(bytes_of(p) == std::vector<std::uint8_t>{1, 2, 0, 0, 0});
  tail[2] = 7;
  auto more = p.append(1000);
  CHECK(more.size() == 1000);
  CHECK(p.size() == 1005);
  CHECK(p.data()[4] == 7);
  CHECK(p.data()[1004] == 0);
}

TEST_CASE("headers prepended layer by layer read in wire order", "[packet]") {
  Packet p = Packet::copy_of(std::vector<std::uint8_t>{'d', 'a', 't', 'a'});
  p.prepend(8)[0] = 'U';   // UDP
  p.prepend(20)[0] = 'I';  // IPv4
  p.prepend(14)[0] = 'E';  // Ethernet
  CHECK(p.size() == 46);
  CHECK(p.data()[0] == 'E');
  CHECK(p.data()[14] == 'I');
  CHECK(p.data()[34] == 'U');
  CHECK(p.data()[42] == 'd');
  CHECK(p.headroom() == Packet::default_headroom - 42);
}
