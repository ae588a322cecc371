// Tests of ByteRing: FIFO order, wrap-around, capacity changes and lazy storage.
#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "stack/tcp/byte_ring.hpp"

using tapir::tcp::ByteRing;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes pattern(std::size_t n, std::size_t start = 0) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(start + i);
  return out;
}

Bytes read_n(ByteRing& ring, std::size_t n) {
  Bytes out(n);
  out.resize(ring.read(out));
  return out;
}

}  // namespace

TEST_CASE("A new ring is empty and has all its capacity free", "[tcp][byte_ring]") {
  const ByteRing ring(8);
  CHECK(ring.empty());
  CHECK(ring.size() == 0);
  CHECK(ring.capacity() == 8);
  CHECK(ring.free() == 8);
}

TEST_CASE("Bytes come out in the order they went in", "[tcp][byte_ring]") {
  ByteRing ring(16);
  CHECK(ring.write(pattern(5)) == 5);
  CHECK(ring.write(pattern(3, 5)) == 3);
  CHECK(ring.size() == 8);
  CHECK(read_n(ring, 8) == pattern(8));
  CHECK(ring.empty());
}

TEST_CASE("A write takes only as much as fits", "[tcp][byte_ring]") {
  ByteRing ring(4);
  CHECK(ring.write(pattern(6)) == 4);
  CHECK(ring.free() == 0);
  CHECK(ring.write(pattern(1)) == 0);
  CHECK(read_n(ring, 10) == pattern(4));
}

TEST_CASE("Data that wraps past the end of the storage reads back whole", "[tcp][byte_ring]") {
  ByteRing ring(8);
  REQUIRE(ring.write(pattern(6)) == 6);
  CHECK(read_n(ring, 5) == pattern(5));
  // The head is at 5: these 7 bytes go to 6..7 and then 0..4.
  CHECK(ring.write(pattern(7, 100)) == 7);
  Bytes expected = pattern(1, 5);
  const Bytes tail = pattern(7, 100);
  expected.insert(expected.end(), tail.begin(), tail.end());
  CHECK(read_n(ring, 8) == expected);
}

TEST_CASE("peek copies from an offset without removing anything", "[tcp][byte_ring]") {
  ByteRing ring(8);
  ring.write(pattern(6));
  ring.discard(4);
  ring.write(pattern(5, 6));  // bytes 4..10, wrapping
  Bytes out(4);
  CHECK(ring.peek(2, out) == 4);
  CHECK(out == pattern(4, 6));
  CHECK(ring.size() == 7);
  CHECK(ring.peek(7, out) == 0);  // offset at the end
  CHECK(ring.peek(100, out) == 0);
  Bytes big(20);
  CHECK(ring.peek(5, big) == 2);
  CHECK(Bytes(big.begin(), big.begin() + 2) == pattern(2, 9));
}

TEST_CASE("discard removes from the front and no more than is held", "[tcp][byte_ring]") {
  ByteRing ring(8);
  ring.write(pattern(5));
  CHECK(ring.discard(2) == 2);
  CHECK(read_n(ring, 1) == pattern(1, 2));
  CHECK(ring.discard(10) == 2);
  CHECK(ring.empty());
  CHECK(ring.discard(1) == 0);
}

TEST_CASE("No storage is allocated before the first write", "[tcp][byte_ring]") {
  ByteRing ring(1 << 20);
  Bytes out(4);
  CHECK(ring.read(out) == 0);
  CHECK(ring.peek(0, out) == 0);
  CHECK(ring.discard(3) == 0);
  CHECK(ring.write({}) == 0);
  CHECK(ring.empty());
  CHECK(ring.write(pattern(3)) == 3);
  CHECK(read_n(ring, 3) == pattern(3));
}

TEST_CASE("A ring of zero capacity takes nothing", "[tcp][byte_ring]") {
  ByteRing ring;
  CHECK(ring.write(pattern(3)) == 0);
  CHECK(ring.empty());
}

TEST_CASE("Growing the capacity keeps the bytes in order even when they wrapped",
          "[tcp][byte_ring]") {
  ByteRing ring(8);
  ring.write(pattern(8));
  ring.discard(6);
  ring.write(pattern(4, 8));  // bytes 6..11 wrap
  ring.set_capacity(16);
  CHECK(ring.capacity() == 16);
  CHECK(ring.free() == 10);
  CHECK(ring.write(pattern(10, 12)) == 10);
  CHECK(read_n(ring, 16) == pattern(16, 6));
}

TEST_CASE("The capacity never shrinks below what is held", "[tcp][byte_ring]") {
  ByteRing ring(8);
  ring.write(pattern(6));
  ring.set_capacity(2);
  CHECK(ring.capacity() == 6);
  CHECK(ring.free() == 0);
  CHECK(read_n(ring, 6) == pattern(6));
  ring.set_capacity(2);
  CHECK(ring.capacity() == 2);
  CHECK(ring.write(pattern(5)) == 2);
}

TEST_CASE("Setting the capacity before any write only changes the limit", "[tcp][byte_ring]") {
  ByteRing ring(4);
  ring.set_capacity(10);
  CHECK(ring.write(pattern(12)) == 10);
  CHECK(read_n(ring, 12) == pattern(10));
}

TEST_CASE("clear empties the ring and it can be written again", "[tcp][byte_ring]") {
  ByteRing ring(8);
  ring.write(pattern(7));
  ring.discard(3);
  ring.clear();
  CHECK(ring.empty());
  CHECK(ring.capacity() == 8);
  CHECK(ring.write(pattern(8, 50)) == 8);
  CHECK(read_n(ring, 8) == pattern(8, 50));
}

TEST_CASE("Random writes, peeks and reads agree with a simple queue", "[tcp][byte_ring]") {
  std::mt19937 rng(7);
  ByteRing ring(37);
  std::deque<std::uint8_t> model;
  std::uint8_t next = 0;
  for (int step = 0; step < 5000; ++step) {
    const std::size_t n = rng() % 20;
    switch (rng() % 4) {
      case 0: {
        Bytes in(n);
        for (auto& b : in) b = next++;
        const std::size_t took = ring.write(in);
        REQUIRE(took == std::min(n, 37 - model.size()));
        model.insert(model.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(took));
        next = static_cast<std::uint8_t>(next - (n - took));
        break;
      }
      case 1: {
        Bytes out(n);
        const std::size_t got = ring.read(out);
        REQUIRE(got == std::min(n, model.size()));
        for (std::size_t i = 0; i < got; ++i) {
          REQUIRE(out[i] == model.front());
          model.pop_front();
        }
        break;
      }
      case 2: {
        Bytes out(n);
        const std::size_t offset = rng() % 40;
        const std::size_t got = ring.peek(offset, out);
        REQUIRE(got == (offset >= model.size() ? 0 : std::min(n, model.size() - offset)));
        for (std::size_t i = 0; i < got; ++i) REQUIRE(out[i] == model[offset + i]);
        break;
      }
      default: {
        const std::size_t gone = ring.discard(n);
        REQUIRE(gone == std::min(n, model.size()));
        model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(gone));
        break;
      }
    }
    REQUIRE(ring.size() == model.size());
  }
}
