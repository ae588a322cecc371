// Tests of tcp::Receiver alone: acceptability, text, the advertised window, SACK, urgent data.
#include <catch2/catch.hpp>

#include <vector>

#include "stack/tcp/receiver.hpp"

using namespace tapir;
using namespace tapir::tcp;

namespace {

const SeqNum kIrs{7000};

std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t value = 0x61) {
  return std::vector<std::uint8_t>(n, value);
}

// A receiver that heard the peer's SYN (IRS 7000), with a 10000-byte buffer, MSS 1000, no
// scaling, and advertised its window once.
Receiver open_receiver(std::size_t rcvbuf = 10000) {
  Receiver r(rcvbuf);
  r.open(kIrs);
  r.set_mss(1000);
  r.syn_window(true);
  return r;
}

}  // namespace

TEST_CASE("acceptability follows RFC 9293 §3.10.7.4's four cases", "[tcp][receiver]") {
  Receiver r = open_receiver();
  const SeqNum nxt = kIrs + 1;
  CHECK(r.acceptable(nxt, 0));
  CHECK(r.acceptable(nxt + 9999, 0));
  CHECK_FALSE(r.acceptable(nxt + 10000, 0));
  CHECK(r.acceptable(nxt - 10, 20));  // its end is in the window
  CHECK_FALSE(r.acceptable(nxt - 10, 10));
  CHECK_FALSE(r.acceptable(nxt + 10000, 1));
}

TEST_CASE("a zero window accepts only an empty segment at RCV.NXT", "[tcp][receiver]") {
  Receiver r(1000);
  r.open(kIrs);
  r.set_mss(1000);
  r.syn_window(true);
  r.text(kIrs + 1, bytes(1000), false);
  REQUIRE(r.window() == 0);
  CHECK(r.acceptable(r.nxt(), 0));
  CHECK_FALSE(r.acceptable(r.nxt() + 1, 0));
  CHECK_FALSE(r.acceptable(r.nxt(), 1));
}

TEST_CASE("in-order text moves RCV.NXT; text beyond the buffer is dropped and counted",
          "[tcp][receiver]") {
  Receiver r = open_receiver(1500);
  const TextResult a = r.text(kIrs + 1, bytes(1000), false);
  CHECK(a.in_order);
  CHECK(a.accepted == 1000);
  const TextResult b = r.text(kIrs + 1001, bytes(1000), false);
  CHECK(b.accepted == 500);
  CHECK(b.dropped == 500);
  CHECK(r.nxt() == kIrs + 1501);
  CHECK(r.unread() == 1500);
}

TEST_CASE("an old duplicate asks for an ACK at once and changes nothing", "[tcp][receiver]") {
  Receiver r = open_receiver();
  r.text(kIrs + 1, bytes(100), false);
  r.ack_sent();
  const TextResult t = r.text(kIrs + 1, bytes(100), false);
  CHECK_FALSE(t.in_order);
  CHECK(r.ack_due());
  CHECK(r.unread() == 100);
}

TEST_CASE(
    "data ahead of a gap is kept, SACKed latest first, and delivered when the gap fills "
    "(RFC 2018 §4)",
    "[tcp][receiver]") {
  Receiver r = open_receiver();
  const SeqNum nxt = kIrs + 1;
  CHECK(r.text(nxt + 1000, bytes(500), false).queued_out_of_order);
  CHECK(r.ack_due());
  r.ack_sent();
  r.text(nxt + 3000, bytes(500), false);
  SackBlock blocks[4];
  REQUIRE(r.sack_blocks(blocks, 3) == 2);
  CHECK(blocks[0] == SackBlock{nxt + 3000, nxt + 3500});  // the latest arrival first
  CHECK(blocks[1] == SackBlock{nxt + 1000, nxt + 1500});
  const TextResult fill = r.text(nxt, bytes(1000), false);
  CHECK(fill.filled_gap);
  CHECK(r.nxt() == nxt + 1500);
  CHECK(r.ack_due());  // RFC 5681 §4.2: a gap filled is ACKed at once
  REQUIRE(r.sack_blocks(blocks, 3) == 1);
  CHECK(blocks[0] == SackBlock{nxt + 3000, nxt + 3500});
}

TEST_CASE(
    "every second full-sized segment is ACKed at once, a single one may wait "
    "(RFC 1122 §4.2.3.2)",
    "[tcp][receiver]") {
  Receiver r = open_receiver();
  CHECK_FALSE(r.data_arrived(true));
  CHECK(r.ack_pending());
  CHECK(r.data_arrived(true));
  r.ack_sent();
  CHECK_FALSE(r.ack_pending());
  CHECK_FALSE(r.data_arrived(false));
  CHECK_FALSE(r.data_arrived(false));  // small segments wait for the delayed-ACK timer
}

TEST_CASE(
    "the advertised edge moves by at least min(buffer/2, MSS) and never left "
    "(RFC 1122 §4.2.3.3, RFC 9293 §3.8.6)",
    "[tcp][receiver]") {
  Receiver r = open_receiver();
  CHECK(r.window() == 10000);
  r.text(kIrs + 1, bytes(4000), false);
  // 6000 free, the edge unchanged at 10000 past the old RCV.NXT: the window shown shrinks
  // only by what arrived.
  CHECK(r.window() == 6000);
  std::vector<std::uint8_t> out(500);
  r.read(out, false);  // 500 freed: less than one MSS, not worth moving the edge
  CHECK_FALSE(r.window_update_due());
  CHECK(r.window() == 6000);
  out.resize(600);
  r.read(out, false);  // 1100 freed in all
  CHECK(r.window_update_due());
  CHECK(r.window() == 7100);
}

TEST_CASE("a scaled window is rounded up rather than let the edge move left", "[tcp][receiver]") {
  Receiver r = open_receiver();
  r.set_scale(7);
  r.set_buffer(10000, true);
  const std::uint16_t w = r.window();
  CHECK((std::uint32_t{w} << 7) >= 10000);
  r.text(kIrs + 1, bytes(100), false);
  CHECK((std::uint32_t{r.window()} << 7) >= 9900);
}

TEST_CASE("the urgent byte leaves the stream and a read stops at its mark (RFC 6093)",
          "[tcp][receiver]") {
  Receiver r = open_receiver();
  r.note_urgent(kIrs + 1, 4);  // the urgent byte is the 4th
  std::vector<std::uint8_t> data{'a', 'b', 'c', '!', 'd', 'e'};
  r.text(kIrs + 1, data, false);
  CHECK(r.has_urgent());
  CHECK(r.read_urgent(true) == std::uint8_t{'!'});
  std::vector<std::uint8_t> out(10);
  CHECK(r.read(out, false) == 3);  // "abc": up to the mark
  CHECK(r.read(out, false) == 2);  // "de"
  CHECK(r.read_urgent(false) == std::uint8_t{'!'});
  CHECK_FALSE(r.has_urgent());
}

TEST_CASE("with SO_OOBINLINE the urgent byte stays in the stream", "[tcp][receiver]") {
  Receiver r = open_receiver();
  r.note_urgent(kIrs + 1, 2);
  r.text(kIrs + 1, std::vector<std::uint8_t>{'x', '!', 'y'}, true);
  CHECK_FALSE(r.has_urgent());
  CHECK(r.unread() == 3);
}

TEST_CASE("a FIN ahead of a gap is kept and taken when the gap fills", "[tcp][receiver]") {
  Receiver r = open_receiver();
  const SeqNum nxt = kIrs + 1;
  r.text(nxt + 100, bytes(50), false);
  CHECK_FALSE(r.fin(nxt + 150));
  CHECK_FALSE(r.fin_received());
  r.text(nxt, bytes(100), false);
  CHECK(r.fin(std::nullopt));
  CHECK(r.fin_received());
  CHECK(r.nxt() == nxt + 151);
}

TEST_CASE("a duplicate is reported once in a D-SACK block, first (RFC 2883 §4)",
          "[tcp][receiver]") {
  Receiver r = open_receiver();
  const SeqNum nxt = kIrs + 1;
  r.text(nxt, bytes(1000), false);
  r.ack_sent();
  // The peer resends bytes 500..1000 (it missed our ACK): below RCV.NXT.
  r.text(nxt + 500, bytes(500), false);
  SackBlock blocks[4];
  REQUIRE(r.sack_blocks(blocks, 3) == 1);
  CHECK(blocks[0] == SackBlock{nxt + 500, nxt + 1000});
  r.ack_sent();
  CHECK(r.sack_blocks(blocks, 3) == 0);  // reported in one ACK only
  // A duplicate of data held out of order: the D-SACK block, then that data's block.
  r.text(nxt + 2000, bytes(500), false);
  r.ack_sent();
  r.text(nxt + 2000, bytes(500), false);
  REQUIRE(r.sack_blocks(blocks, 3) == 2);
  CHECK(blocks[0] == SackBlock{nxt + 2000, nxt + 2500});
  CHECK(blocks[1] == SackBlock{nxt + 2000, nxt + 2500});
}
