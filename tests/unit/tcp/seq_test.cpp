// Tests of SeqNum: modulo-2^32 arithmetic and comparisons across the wrap (RFC 9293 §3.4).
#include <catch2/catch.hpp>

#include "stack/tcp/seq.hpp"

using tapir::tcp::in_window;
using tapir::tcp::seq_max;
using tapir::tcp::seq_min;
using tapir::tcp::SeqNum;

TEST_CASE("Adding to a sequence number wraps modulo 2^32", "[tcp][seq]") {
  CHECK((SeqNum{0xFFFFFFF0U} + 0x20).value() == 0x10);
  CHECK((SeqNum{0x10} - 0x20).value() == 0xFFFFFFF0U);
  SeqNum s{0xFFFFFFFFU};
  s += 1;
  CHECK(s.value() == 0);
}

TEST_CASE("The difference of two sequence numbers is their signed distance across the wrap",
          "[tcp][seq]") {
  CHECK(SeqNum{0x10} - SeqNum{0xFFFFFFF0U} == 0x20);
  CHECK(SeqNum{0xFFFFFFF0U} - SeqNum{0x10} == -0x20);
  CHECK(SeqNum{1000} - SeqNum{1000} == 0);
}

TEST_CASE("A number just past the wrap is greater than one just before it", "[tcp][seq]") {
  const SeqNum before{0xFFFFFF00U};
  const SeqNum after{0x00000100U};
  CHECK(before < after);
  CHECK(before <= after);
  CHECK(after > before);
  CHECK(after >= before);
  CHECK_FALSE(after < before);
  CHECK_FALSE(before > after);
  CHECK(before != after);
  CHECK(before <= before);
  CHECK(before >= before);
  CHECK_FALSE(before < before);
}

TEST_CASE("Numbers less than 2^31 apart compare by distance, not by value", "[tcp][seq]") {
  CHECK(SeqNum{0} < SeqNum{0x7FFFFFFFU});
  // 2^31 + 1 ahead by value is 2^31 - 1 behind modulo 2^32.
  CHECK(SeqNum{0x80000001U} < SeqNum{0});
}

TEST_CASE("seq_max and seq_min choose across the wrap", "[tcp][seq]") {
  const SeqNum before{0xFFFFFFFEU};
  const SeqNum after{3};
  CHECK(seq_max(before, after) == after);
  CHECK(seq_max(after, before) == after);
  CHECK(seq_min(before, after) == before);
  CHECK(seq_min(after, before) == before);
}

TEST_CASE("in_window holds from the first number up to but excluding first plus length",
          "[tcp][seq]") {
  const SeqNum first{0xFFFFFFF0U};
  CHECK(in_window(first, first, 0x20));
  CHECK(in_window(SeqNum{0xFFFFFFFFU}, first, 0x20));
  CHECK(in_window(SeqNum{0}, first, 0x20));
  CHECK(in_window(SeqNum{0x0F}, first, 0x20));
  CHECK_FALSE(in_window(SeqNum{0x10}, first, 0x20));
  CHECK_FALSE(in_window(first - 1, first, 0x20));
}

TEST_CASE("An empty window holds no sequence number", "[tcp][seq]") {
  CHECK_FALSE(in_window(SeqNum{5}, SeqNum{5}, 0));
}

TEST_CASE("SeqNum arithmetic is usable at compile time", "[tcp][seq]") {
  static_assert((SeqNum{0xFFFFFFFFU} + 2).value() == 1);
  static_assert(SeqNum{0xFFFFFFFFU} < SeqNum{1});
  static_assert(in_window(SeqNum{2}, SeqNum{0xFFFFFFFFU}, 4));
  SUCCEED();
}
