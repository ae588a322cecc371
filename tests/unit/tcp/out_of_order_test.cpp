// Tests of the out-of-order queue: the window bound, merging, take() and the 2^32 wrap.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "stack/tcp/out_of_order.hpp"

using tapir::tcp::ByteRing;
using tapir::tcp::OutOfOrderQueue;
using tapir::tcp::SackBlock;
using tapir::tcp::SeqNum;

namespace {

using Bytes = std::vector<std::uint8_t>;

// Byte i of the stream (by sequence number) is a function of i, so any copy can be checked.
Bytes stream(SeqNum from, std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<std::uint8_t>((from + static_cast<std::uint32_t>(i)).value() * 7 + 3);
  }
  return out;
}

Bytes drain(ByteRing& ring) {
  Bytes out(ring.size());
  ring.read(out);
  return out;
}

SackBlock block(std::uint32_t left, std::uint32_t right) {
  return SackBlock{SeqNum{left}, SeqNum{right}};
}

constexpr std::uint32_t kWindow = 1000;

}  // namespace

TEST_CASE("Data ahead of RCV.NXT is held until the gap fills", "[tcp][ooo]") {
  OutOfOrderQueue q;
  const SeqNum next{1000};
  q.insert(next, kWindow, SeqNum{1100}, stream(SeqNum{1100}, 50));
  CHECK(q.bytes() == 50);
  CHECK(q.ranges() == std::vector{block(1100, 1150)});
  ByteRing ring(4096);
  CHECK(q.take(next, ring) == 0);  // the gap [1000, 1100) is still open
  CHECK(q.take(SeqNum{1100}, ring) == 50);
  CHECK(drain(ring) == stream(SeqNum{1100}, 50));
  CHECK(q.empty());
  CHECK(q.bytes() == 0);
}

TEST_CASE("Bytes beyond the receive window are not kept (RFC 9293 §3.10.7.4)", "[tcp][ooo]") {
  OutOfOrderQueue q;
  const SeqNum next{1000};
  q.insert(next, 100, SeqNum{1050}, stream(SeqNum{1050}, 100));
  CHECK(q.ranges() == std::vector{block(1050, 1100)});
  q.insert(next, 100, SeqNum{1100}, stream(SeqNum{1100}, 10));  // wholly past the window
  q.insert(next, 0, SeqNum{1000}, stream(SeqNum{1000}, 10));    // zero window
  CHECK(q.bytes() == 50);
}

TEST_CASE("Bytes before RCV.NXT are not kept", "[tcp][ooo]") {
  OutOfOrderQueue q;
  const SeqNum next{1000};
  q.insert(next, kWindow, SeqNum{900}, stream(SeqNum{900}, 50));  // all old
  CHECK(q.empty());
  q.insert(next, kWindow, SeqNum{990}, stream(SeqNum{990}, 30));  // the tail is new
  CHECK(q.ranges() == std::vector{block(1000, 1020)});
  ByteRing ring(100);
  CHECK(q.take(next, ring) == 20);
  CHECK(drain(ring) == stream(next, 20));
}

TEST_CASE("Overlapping segments merge into one range", "[tcp][ooo]") {
  OutOfOrderQueue q;
  const SeqNum next{0};
  q.insert(next, kWindow, SeqNum{100}, stream(SeqNum{100}, 50));
  q.insert(next, kWindow, SeqNum{130}, stream(SeqNum{130}, 50));  // overlaps the end
  q.insert(next, kWindow, SeqNum{80}, stream(SeqNum{80}, 30));    // overlaps the start
  CHECK(q.ranges() == std::vector{block(80, 180)});
  CHECK(q.bytes() == 100);
  ByteRing ring(1000);
  q.insert(next, kWindow, SeqNum{0}, stream(SeqNum{0}, 80));  // touching: merges too
  CHECK(q.ranges() == std::vector{block(0, 180)});
  CHECK(q.take(next, ring) == 180);
  CHECK(drain(ring) == stream(next, 180));
}

TEST_CASE("A segment that spans several held ranges fills the gaps and joins them", "[tcp][ooo]") {
  OutOfOrderQueue q;
  const SeqNum next{0};
  q.insert(next, kWindow, SeqNum{10}, stream(SeqNum{10}, 10));
  q.insert(next, kWindow, SeqNum{30}, stream(SeqNum{30}, 10));
  q.insert(next, kWindow, SeqNum{50}, stream(SeqNum{50}, 10));
  CHECK(q.ranges() == std::vector{block(10, 20), block(30, 40), block(50, 60)});
  q.insert(next, kWindow, SeqNum{5}, stream(SeqNum{5}, 50));  // 5..55
  CHECK(q.ranges() == std::vector{block(5, 60)});
  CHECK(q.bytes() == 55);
  ByteRing ring(1000);
  CHECK(q.take(SeqNum{5}, ring) == 55);
  CHECK(drain(ring) == stream(SeqNum{5}, 55));
}

TEST_CASE("Where copies overlap the earlier one is kept", "[tcp][ooo]") {
  OutOfOrderQueue q;
  const SeqNum next{0};
  q.insert(next, kWindow, SeqNum{10}, Bytes(10, 0xAA));
  q.insert(next, kWindow, SeqNum{5}, Bytes(20, 0xBB));
  ByteRing ring(100);
  CHECK(q.take(SeqNum{5}, ring) == 20);
  Bytes expected(20, 0xBB);
  std::fill(expected.begin() + 5, expected.begin() + 15, 0xAA);
  CHECK(drain(ring) == expected);
}

TEST_CASE("A duplicate of held data changes nothing", "[tcp][ooo]") {
  OutOfOrderQueue q;
  const SeqNum next{0};
  q.insert(next, kWindow, SeqNum{10}, stream(SeqNum{10}, 20));
  q.insert(next, kWindow, SeqNum{10}, stream(SeqNum{10}, 20));
  q.insert(next, kWindow, SeqNum{15}, stream(SeqNum{15}, 5));
  CHECK(q.ranges() == std::vector{block(10, 30)});
  CHECK(q.bytes() == 20);
}

TEST_CASE("take moves only the run at RCV.NXT and leaves later ranges", "[tcp][ooo]") {
  OutOfOrderQueue q;
  const SeqNum next{0};
  q.insert(next, kWindow, SeqNum{0}, stream(SeqNum{0}, 10));
  q.insert(next, kWindow, SeqNum{20}, stream(SeqNum{20}, 10));
  ByteRing ring(100);
  CHECK(q.take(next, ring) == 10);
  CHECK(q.ranges() == std::vector{block(20, 30)});
  CHECK(q.bytes() == 10);
}

TEST_CASE("take moves no more than the ring has room for and keeps the rest", "[tcp][ooo]") {
  OutOfOrderQueue q;
  const SeqNum next{500};
  q.insert(next, kWindow, next, stream(next, 100));
  ByteRing ring(30);
  CHECK(q.take(next, ring) == 30);
  CHECK(q.ranges() == std::vector{block(530, 600)});
  CHECK(q.bytes() == 70);
  CHECK(drain(ring) == stream(next, 30));
  CHECK(q.take(SeqNum{530}, ring) == 30);
  CHECK(drain(ring) == stream(SeqNum{530}, 30));
  CHECK(q.take(SeqNum{560}, ring) == 30);
  CHECK(q.take(SeqNum{590}, ring) == 0);  // the ring is full again
  CHECK(drain(ring) == stream(SeqNum{560}, 30));
  CHECK(q.take(SeqNum{590}, ring) == 10);
  CHECK(drain(ring) == stream(SeqNum{590}, 10));
  CHECK(q.empty());
}

TEST_CASE("take forgets held bytes that RCV.NXT has passed", "[tcp][ooo]") {
  OutOfOrderQueue q;
  q.insert(SeqNum{0}, kWindow, SeqNum{10}, stream(SeqNum{10}, 10));
  q.insert(SeqNum{0}, kWindow, SeqNum{30}, stream(SeqNum{30}, 20));
  // The connection received 0..35 in order by itself (a retransmission covered everything).
  ByteRing ring(100);
  CHECK(q.take(SeqNum{35}, ring) == 15);
  CHECK(drain(ring) == stream(SeqNum{35}, 15));
  CHECK(q.empty());
  CHECK(q.bytes() == 0);
}

TEST_CASE("Ranges and take are right across the 2^32 wrap", "[tcp][ooo]") {
  OutOfOrderQueue q;
  const SeqNum next{0xFFFFFF00U};
  // 0xFFFFFF80..0x00000080 straddles the wrap; 0x100..0x110 is past it.
  q.insert(next, 0x1000, SeqNum{0x100}, stream(SeqNum{0x100}, 0x10));
  q.insert(next, 0x1000, SeqNum{0xFFFFFF80U}, stream(SeqNum{0xFFFFFF80U}, 0x100));
  CHECK(q.ranges() == std::vector{block(0xFFFFFF80U, 0x80), block(0x100, 0x110)});
  ByteRing ring(0x1000);
  CHECK(q.take(next, ring) == 0);
  q.insert(next, 0x1000, next, stream(next, 0x80));  // fills the gap, touching the range
  CHECK(q.ranges() == std::vector{block(0xFFFFFF00U, 0x80), block(0x100, 0x110)});
  CHECK(q.take(next, ring) == 0x180);
  CHECK(drain(ring) == stream(next, 0x180));
  q.insert(SeqNum{0x80}, 0x1000, SeqNum{0x80}, stream(SeqNum{0x80}, 0x80));
  CHECK(q.take(SeqNum{0x80}, ring) == 0x90);
  CHECK(drain(ring) == stream(SeqNum{0x80}, 0x90));
  CHECK(q.empty());
}

TEST_CASE("The window bound holds across the 2^32 wrap", "[tcp][ooo]") {
  OutOfOrderQueue q;
  const SeqNum next{0xFFFFFFF0U};
  q.insert(next, 0x20, SeqNum{0xFFFFFFE0U}, stream(SeqNum{0xFFFFFFE0U}, 0x100));
  CHECK(q.ranges() == std::vector{block(0xFFFFFFF0U, 0x10)});
  CHECK(q.bytes() == 0x20);
}

TEST_CASE("The queue keeps working after RCV.NXT has advanced by more than 2^32", "[tcp][ooo]") {
  OutOfOrderQueue q;
  ByteRing ring(1 << 16);
  SeqNum next{0xFFFFFF00U};
  // A permanent island ahead of RCV.NXT: the queue never empties, so its base must move.
  const std::uint32_t step = 1 << 28;
  for (int round = 0; round < 40; ++round) {
    q.insert(next, 1 << 29, next + step + 100, stream(next + step + 100, 10));
    REQUIRE(q.take(next, ring) == 0);
    REQUIRE(q.ranges().back() == block((next + step + 100).value(), (next + step + 110).value()));
    next += step;  // the connection took `step` bytes in order by itself
  }
  // The island from the last round is at next + 100 now.
  q.insert(next, 1 << 29, next, stream(next, 100));
  CHECK(q.take(next, ring) == 110);
  CHECK(drain(ring) == stream(next, 110));
  CHECK(q.empty());
}

TEST_CASE("clear forgets everything", "[tcp][ooo]") {
  OutOfOrderQueue q;
  q.insert(SeqNum{0}, kWindow, SeqNum{10}, stream(SeqNum{10}, 10));
  q.clear();
  CHECK(q.empty());
  CHECK(q.bytes() == 0);
  CHECK(q.ranges().empty());
  q.insert(SeqNum{0x80000000U}, kWindow, SeqNum{0x80000010U}, stream(SeqNum{0x80000010U}, 5));
  CHECK(q.ranges() == std::vector{block(0x80000010U, 0x80000015U)});
}

TEST_CASE("Segments in random order reassemble the stream exactly", "[tcp][ooo]") {
  std::mt19937 rng(42);
  for (std::uint32_t start : {0U, 0xFFFFFF00U, 0x7FFFFFF0U}) {
    OutOfOrderQueue q;
    ByteRing ring(1 << 16);
    const SeqNum isn{start};
    const std::size_t total = 3000;
    SeqNum next = isn;
    for (int i = 0; i < 400 && next - isn < static_cast<std::int32_t>(total); ++i) {
      // Random pieces, some old, some duplicates, some beyond the window.
      const std::uint32_t from = static_cast<std::uint32_t>(rng() % total);
      const std::size_t len = 1 + rng() % 200;
      const SeqNum seq = isn + from;
      const std::size_t n = std::min(len, total - from);
      q.insert(next, 800, seq, stream(seq, n));
      next += static_cast<std::uint32_t>(q.take(next, ring));
      std::size_t held = 0;
      for (const SackBlock& b : q.ranges()) {
        REQUIRE(b.left > next);
        REQUIRE(b.right - next <= 800);
        held += static_cast<std::size_t>(b.right - b.left);
      }
      REQUIRE(held == q.bytes());
    }
    const auto got = static_cast<std::uint32_t>(next - isn);
    CHECK(drain(ring) == stream(isn, got));
  }
}
