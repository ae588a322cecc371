// Tests of tcp::Sender alone: what it chooses to send, and what ACKs and timeouts do to it.
#include <catch2/catch.hpp>

#include <vector>

#include "stack/tcp/sender.hpp"

using namespace tapir;
using namespace tapir::tcp;

namespace {

constexpr std::uint16_t kMss = 1000;
const SeqNum kIss{1000};
const Instant t0 = Instant::from_micros(1'000'000);

// A sender whose SYN was sent and acknowledged at t0 + 10 ms, with a peer window of `window`
// and an MSS of 1000 (initial window 10 segments), running NewReno.
Sender open_sender(std::uint32_t window = 65535, std::size_t sndbuf = 64 * 1024,
                   std::unique_ptr<CongestionControl> cc = make_newreno()) {
  Sender s(RtoConfig{}, sndbuf, std::move(cc));
  s.open(kIss);
  s.syn_sent(t0);
  s.set_mss(kMss, 10);
  s.syn_acknowledged(kIss + 1, t0 + 10ms);
  s.set_window(window, SeqNum{5000}, kIss + 1);
  return s;
}

std::vector<std::uint8_t> bytes(std::size_t n) {
  return std::vector<std::uint8_t>(n, 0x61);
}

// Sends everything next() offers; returns the segments.
std::vector<Outgoing> drain(Sender& s, Instant now, bool nodelay = false) {
  std::vector<Outgoing> out;
  while (auto seg = s.next(nodelay)) {
    s.sent(*seg, now);
    out.push_back(*seg);
    if (seg->fin) break;
  }
  return out;
}

}  // namespace

TEST_CASE("the acknowledged SYN gives the first RTT sample and moves the data start",
          "[tcp][sender]") {
  const Sender s = open_sender();
  CHECK(s.una() == kIss + 1);
  CHECK(s.data_start() == kIss + 1);
  CHECK(s.rto().srtt() == 10ms);
  CHECK(s.congestion().cwnd() == 10 * kMss);  // RFC 6928: min(10 MSS, max(2 MSS, 14600))
}

TEST_CASE("data goes out in MSS-sized segments, PSH on the one that empties the buffer",
          "[tcp][sender]") {
  Sender s = open_sender();
  REQUIRE(s.write(bytes(2500), false) == 2500);
  const auto segs = drain(s, t0 + 20ms, true);
  REQUIRE(segs.size() == 3);
  CHECK(segs[0].seq == kIss + 1);
  CHECK(segs[0].len == 1000);
  CHECK_FALSE(segs[0].psh);
  CHECK(segs[1].offset == 1000);
  CHECK(segs[2].len == 500);
  CHECK(segs[2].psh);
  CHECK(s.flight() == 2500);
  CHECK(s.unsent() == 0);
}

TEST_CASE(
    "Nagle holds a small segment while data is unacknowledged, TCP_NODELAY does not "
    "(RFC 896)",
    "[tcp][sender]") {
  Sender s = open_sender();
  s.write(bytes(100), false);
  REQUIRE(drain(s, t0 + 20ms).size() == 1);  // nothing in flight: it goes
  s.write(bytes(100), false);
  CHECK_FALSE(s.next(false));  // RFC 896: wait for the ACK
  CHECK(s.next(true));         // TCP_NODELAY
}

TEST_CASE("the usable window is the smaller of the peer's window and cwnd", "[tcp][sender]") {
  Sender s = open_sender(3000);
  s.write(bytes(20000), false);
  const auto segs = drain(s, t0 + 20ms);
  CHECK(segs.size() == 3);  // the peer's 3000 bytes, not cwnd's 10000
  CHECK(s.flight() == 3000);
}

TEST_CASE("the FIN goes with the last byte of data", "[tcp][sender]") {
  Sender s = open_sender();
  s.write(bytes(1500), false);
  s.queue_fin();
  const auto segs = drain(s, t0 + 20ms);
  REQUIRE(segs.size() == 2);
  CHECK_FALSE(segs[0].fin);
  CHECK(segs[1].fin);
  CHECK(s.nxt() == kIss + 1 + 1500 + 1);
}

TEST_CASE("the urgent pointer is the byte after the urgent data (RFC 6093 §4)", "[tcp][sender]") {
  Sender s = open_sender();
  s.write(bytes(10), false);
  s.write(bytes(1), true);
  CHECK(s.urgent_pointer(kIss + 1) == 11);
  CHECK_FALSE(s.urgent_pointer(kIss + 12));
}

TEST_CASE(
    "an ACK frees the buffer and samples the RTT; a full window grows in slow start "
    "by the bytes acknowledged, at most 2 SMSS (RFC 3465)",
    "[tcp][sender]") {
  Sender s = open_sender();
  s.write(bytes(10'000), false);
  drain(s, t0 + 20ms);  // the whole initial window
  const AckResult r = s.on_ack(kIss + 1 + 3000, 65535, false, {}, t0 + 70ms);
  CHECK(r.advanced);
  CHECK_FALSE(r.resend);
  CHECK(s.buffered() == 7000);
  CHECK(s.rto().srtt() < 20ms);  // 10 ms, then the 50 ms sample smoothed in
  CHECK(s.congestion().cwnd() == 12 * kMss);
}

TEST_CASE("a window the application never filled does not grow (RFC 7661 §4.3)", "[tcp][sender]") {
  Sender s = open_sender();
  s.write(bytes(2000), false);
  drain(s, t0 + 20ms);  // 2 of 10 segments' worth: application-limited
  CHECK_FALSE(s.cwnd_limited());
  s.on_ack(kIss + 1 + 2000, 65535, false, {}, t0 + 70ms);
  CHECK(s.congestion().cwnd() == 10 * kMss);
}

TEST_CASE(
    "the third duplicate ACK resends SND.UNA and sets ssthresh to half the flight "
    "(RFC 5681 §3.2)",
    "[tcp][sender]") {
  Sender s = open_sender();
  s.write(bytes(8000), false);
  REQUIRE(drain(s, t0 + 20ms).size() == 8);
  const SeqNum una = s.una();
  CHECK_FALSE(s.on_ack(una, 65535, true, {}, t0 + 30ms).resend);
  CHECK_FALSE(s.on_ack(una, 65535, true, {}, t0 + 31ms).resend);
  const AckResult third = s.on_ack(una, 65535, true, {}, t0 + 32ms);
  CHECK(third.fast_retransmit);
  REQUIRE(third.resend);
  CHECK(third.resend->seq == una);
  CHECK(third.resend->len == kMss);
  CHECK(s.congestion().ssthresh() == 4000);
  CHECK(s.congestion().cwnd() == 4000 + 3 * kMss);  // inflated by the three that left
  CHECK(s.in_recovery());
  // A fourth duplicate inflates by one more segment.
  s.on_ack(una, 65535, true, {}, t0 + 33ms);
  CHECK(s.congestion().cwnd() == 4000 + 4 * kMss);
}

TEST_CASE(
    "limited transmit: the first and second duplicate ACK each let one new segment go, cwnd "
    "unchanged (RFC 3042 §2)",
    "[tcp][sender]") {
  Sender s = open_sender();
  s.write(bytes(20000), false);
  REQUIRE(drain(s, t0 + 20ms).size() == 10);  // the initial window
  const SeqNum una = s.una();
  CHECK(drain(s, t0 + 21ms).empty());
  s.on_ack(una, 65535, true, {}, t0 + 30ms);
  auto first = drain(s, t0 + 30ms);
  REQUIRE(first.size() == 1);
  CHECK(first[0].seq == una + 10 * kMss);
  CHECK_FALSE(first[0].retransmit);
  CHECK(s.congestion().cwnd() == 10 * kMss);
  s.on_ack(una, 65535, true, {}, t0 + 31ms);
  auto second = drain(s, t0 + 31ms);
  REQUIRE(second.size() == 1);
  CHECK(second[0].seq == una + 11 * kMss);
  CHECK(s.flight() == 12 * kMss);  // cwnd + 2·SMSS, no more
  // The third duplicate starts recovery as ever; the window is now NewReno's.
  CHECK(s.on_ack(una, 65535, true, {}, t0 + 32ms).fast_retransmit);
  CHECK(s.in_recovery());
}

TEST_CASE("limited transmit sends nothing the peer's window does not allow (RFC 3042 §2)",
          "[tcp][sender]") {
  Sender s = open_sender(4000);
  s.write(bytes(20000), false);
  REQUIRE(drain(s, t0 + 20ms).size() == 4);
  s.on_ack(s.una(), 4000, true, {}, t0 + 30ms);
  CHECK(drain(s, t0 + 30ms).empty());
}

TEST_CASE("an ACK that changes the window, or carries data, is no duplicate", "[tcp][sender]") {
  Sender s = open_sender();
  s.write(bytes(5000), false);
  drain(s, t0 + 20ms);
  const SeqNum una = s.una();
  for (int i = 0; i < 3; ++i) s.on_ack(una, 65535, false, {}, t0 + 30ms);  // carried data
  CHECK_FALSE(s.in_recovery());
  for (int i = 0; i < 3; ++i)
    s.on_ack(una, 60000 + static_cast<std::uint32_t>(i), true, {}, t0 + 30ms);
  CHECK_FALSE(s.in_recovery());
}

TEST_CASE(
    "a partial ACK in recovery resends the next hole; the full ACK deflates the window "
    "(RFC 6582 §3.2)",
    "[tcp][sender]") {
  Sender s = open_sender();
  s.write(bytes(8000), false);
  drain(s, t0 + 20ms);
  const SeqNum una = s.una();
  for (int i = 0; i < 3; ++i) s.on_ack(una, 65535, true, {}, t0 + 30ms);
  REQUIRE(s.in_recovery());
  const AckResult partial = s.on_ack(una + 1000, 65535, false, {}, t0 + 40ms);
  REQUIRE(partial.resend);
  CHECK(partial.resend->seq == una + 1000);
  CHECK(s.in_recovery());
  const AckResult full = s.on_ack(una + 8000, 65535, false, {}, t0 + 50ms);
  CHECK_FALSE(full.resend);
  CHECK_FALSE(s.in_recovery());
  // min(ssthresh, max(FlightSize, SMSS) + SMSS), with nothing left in flight: 2 SMSS.
  CHECK(s.congestion().cwnd() == 2 * kMss);
}

TEST_CASE("Karn: after a retransmission no RTT sample is taken (RFC 6298 §3)", "[tcp][sender]") {
  Sender s = open_sender();
  s.write(bytes(1000), false);
  drain(s, t0 + 20ms);
  const auto srtt = s.rto().srtt();
  s.backoff();
  s.on_timeout(t0 + 1s);
  drain(s, t0 + 1s);
  s.on_ack(kIss + 1 + 1000, 65535, false, {}, t0 + 5s);
  CHECK(s.rto().srtt() == srtt);  // the 4.98 s "sample" was not taken
}

TEST_CASE(
    "a timeout leaves one segment of window and half the flight as ssthresh, and goes "
    "back to SND.UNA (RFC 5681 §3.1)",
    "[tcp][sender]") {
  Sender s = open_sender();
  s.write(bytes(6000), false);
  drain(s, t0 + 20ms);
  s.backoff();
  s.on_timeout(t0 + 300ms);
  CHECK(s.congestion().cwnd() == kMss);
  CHECK(s.congestion().ssthresh() == 3000);
  CHECK(s.nxt() == s.una());
  const auto resent = drain(s, t0 + 300ms);
  REQUIRE(resent.size() == 1);
  CHECK(resent[0].seq == kIss + 1);
}

TEST_CASE(
    "the window comes from the newest segment by SND.WL1/SND.WL2; a reopened zero "
    "window is reported",
    "[tcp][sender]") {
  Sender s = open_sender();
  CHECK_FALSE(s.update_window(SeqNum{5001}, kIss + 1, 0));
  CHECK(s.window() == 0);
  CHECK_FALSE(s.update_window(SeqNum{4000}, kIss + 1, 9999));  // older: ignored
  CHECK(s.window() == 0);
  CHECK(s.update_window(SeqNum{5002}, kIss + 1, 8000));
  CHECK(s.window() == 8000);
  CHECK(s.max_window() == 65535);
}

TEST_CASE("the persist override sends what fits a window too small for SWS avoidance",
          "[tcp][sender]") {
  Sender s = open_sender(65535);
  s.update_window(SeqNum{5001}, kIss + 1, 300);
  s.write(bytes(2000), false);
  CHECK_FALSE(s.next(false));  // 300 bytes is below half the largest window seen
  const Outgoing o = s.override_segment();
  CHECK(o.len == 300);
  CHECK_FALSE(o.psh);
}

TEST_CASE("a smaller MSS from ICMP fragmentation needed resends from SND.UNA (RFC 1191)",
          "[tcp][sender]") {
  Sender s = open_sender();
  s.write(bytes(3000), false);
  drain(s, t0 + 20ms);
  s.lower_mss(500);
  CHECK(s.nxt() == s.una());
  const auto segs = drain(s, t0 + 30ms);
  REQUIRE_FALSE(segs.empty());
  CHECK(segs[0].len == 500);
}

TEST_CASE(
    "plain Reno ends recovery at the first ACK of new data, partial or not "
    "(RFC 5681 §3.2)",
    "[tcp][sender]") {
  Sender s = open_sender(65535, 64 * 1024, make_reno());
  s.write(bytes(8000), false);
  drain(s, t0 + 20ms);
  const SeqNum una = s.una();
  for (int i = 0; i < 3; ++i) s.on_ack(una, 65535, true, {}, t0 + 30ms);
  REQUIRE(s.in_recovery());
  const AckResult partial = s.on_ack(una + 1000, 65535, false, {}, t0 + 40ms);
  CHECK_FALSE(partial.resend);  // NewReno would resend the next hole here
  CHECK_FALSE(s.in_recovery());
  CHECK(s.congestion().cwnd() == s.congestion().ssthresh());
}

TEST_CASE("TCP_CONGESTION on a live connection keeps the window it had", "[tcp][sender]") {
  Sender s = open_sender();
  s.set_congestion(make_cubic());
  CHECK(s.congestion().name() == "cubic");
  CHECK(s.congestion().cwnd() == 10 * kMss);
}
