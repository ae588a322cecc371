// Tests of SACK-based recovery alone, rule by rule: the scoreboard (RFC 2018, RFC 6675 §3),
// RACK's loss marking (RFC 8985 §6), PRR (RFC 6937), NextSeg (RFC 6675 §4), tail loss probes
// (RFC 8985 §7), D-SACK undo (RFC 2883, RFC 3708) and F-RTO (RFC 5682).
#include <catch2/catch.hpp>

#include <vector>

#include "stack/tcp/scoreboard.hpp"
#include "stack/tcp/sender.hpp"

using namespace tapir;
using namespace tapir::tcp;

namespace {

constexpr std::uint16_t kMss = 1000;
const SeqNum kIss{1000};
const SeqNum kData = kIss + 1;  // the first data byte
const Instant t0 = Instant::from_micros(1'000'000);

std::vector<std::uint8_t> bytes(std::size_t n) {
  return std::vector<std::uint8_t>(n, 0x61);
}

// A SACK sender, SYN acknowledged 50 ms after it went (so SRTT is 50 ms), MSS 1000, a large
// peer window, running `cc`.
Sender sack_sender(std::unique_ptr<CongestionControl> cc = make_newreno()) {
  Sender s(RtoConfig{}, 256 * 1024, std::move(cc));
  s.open(kIss);
  s.syn_sent(t0);
  s.set_mss(kMss, 10);
  s.enable_sack();
  s.syn_acknowledged(kData, t0 + 50ms);
  s.set_window(200'000, SeqNum{9000}, kData);
  return s;
}

// Sends everything next() offers at `now`; returns the segments.
std::vector<Outgoing> drain(Sender& s, Instant now) {
  std::vector<Outgoing> out;
  while (auto seg = s.next(true)) {
    s.sent(*seg, now);
    out.push_back(*seg);
  }
  return out;
}

// Segment i (from 0) covers [kData + 1000 i, kData + 1000 (i + 1)).
SeqNum at(int i) {
  return kData + static_cast<std::uint32_t>(i) * kMss;
}

SackBlock block(int from, int to) {  // segments [from, to)
  return SackBlock{at(from), at(to)};
}

AckResult ack(Sender& s, SeqNum cum, std::vector<SackBlock> blocks, Instant now) {
  return s.on_ack(cum, 200'000, blocks.empty(), blocks, now);
}

}  // namespace

TEST_CASE(
    "the scoreboard counts SACKed bytes out of pipe and splits a partly SACKed segment "
    "(RFC 6675 §3)",
    "[tcp][sack]") {
  Scoreboard b;
  for (int i = 0; i < 4; ++i) b.sent(at(i), at(i + 1), false, t0);
  CHECK(b.pipe() == 4000);
  std::vector<SackBlock> blocks{SackBlock{at(2) + 500, at(3)}};
  const Delivery d = b.acknowledge(at(0), blocks, t0 + 50ms);
  CHECK(d.sacked == 500);
  CHECK(b.pipe() == 3500);
  CHECK(b.segments() == 5);  // segment 2 became [2, 2.5) and [2.5, 3)
  const Delivery c = b.acknowledge(at(2), {}, t0 + 60ms);
  CHECK(c.acked == 2000);
  CHECK(b.pipe() == 1500);
  CHECK(b.sacked_bytes() == 500);
}

TEST_CASE(
    "a first SACK block below the cumulative ACK, or inside the second, is a D-SACK "
    "(RFC 2883 §4)",
    "[tcp][sack]") {
  Scoreboard b;
  for (int i = 0; i < 4; ++i) b.sent(at(i), at(i + 1), false, t0);
  std::vector<SackBlock> below{block(0, 1)};
  CHECK(b.acknowledge(at(2), below, t0 + 50ms).dsack);
  std::vector<SackBlock> plain{block(3, 4)};
  CHECK_FALSE(b.acknowledge(at(2), plain, t0 + 55ms).dsack);
  // Segment 3 arrives again: reported first, inside the block already SACKed.
  std::vector<SackBlock> inside{block(3, 4), block(3, 4)};
  const Delivery d = b.acknowledge(at(2), inside, t0 + 60ms);
  CHECK(d.dsack);
  CHECK(d.sacked == 0);
}

TEST_CASE(
    "a never-retransmitted segment delivered below one delivered before means "
    "reordering (RFC 8985 §6.2 step 3)",
    "[tcp][sack]") {
  Scoreboard b;
  for (int i = 0; i < 4; ++i) b.sent(at(i), at(i + 1), false, t0);
  std::vector<SackBlock> high{block(3, 4)};
  CHECK_FALSE(b.acknowledge(at(0), high, t0 + 50ms).reordered);
  std::vector<SackBlock> low{block(1, 2), block(3, 4)};
  CHECK(b.acknowledge(at(0), low, t0 + 52ms).reordered);
}

TEST_CASE(
    "RACK marks lost what was sent before a delivered segment and is overdue by an RTT; "
    "recovery begins and the hole goes first (RFC 8985 §6.2, RFC 6675 §4 rule 1)",
    "[tcp][sack]") {
  Sender s = sack_sender();
  s.write(bytes(10'000), false);
  REQUIRE(drain(s, t0 + 60ms).size() == 10);
  // Segment 0 is lost; 1..9 are SACKed 50 ms later: more than DupThresh SACKed, no reordering
  // seen, so the reordering window is 0 and segment 0 is overdue at once.
  const AckResult r = ack(s, kData, {block(1, 10)}, t0 + 110ms);
  CHECK(r.fast_retransmit);
  CHECK(s.state() == CaState::recovery);
  CHECK(s.scoreboard().lost_bytes() == 1000);
  const auto next = s.next(true);
  REQUIRE(next);
  CHECK(next->retransmit);
  CHECK(next->seq == at(0));
  CHECK(next->len == 1000);
}

TEST_CASE(
    "with one segment SACKed RACK waits a quarter of min_RTT before deeming the hole "
    "lost, and its timer then does (RFC 8985 §6.2 step 4, §6.3)",
    "[tcp][sack]") {
  Sender s = sack_sender();
  s.write(bytes(3000), false);
  drain(s, t0 + 60ms);
  // The first delivery: segment 1 SACKed 40 ms after it went (min_RTT 40 ms).
  const AckResult r = ack(s, kData, {block(1, 2)}, t0 + 100ms);
  CHECK_FALSE(r.fast_retransmit);
  CHECK(s.state() == CaState::disorder);
  REQUIRE(r.reorder_timeout);
  // Segment 0 went at the same time: it waits until sent + RTT + 10 ms (40 / 4).
  CHECK(*r.reorder_timeout == 10ms);
  const AckResult later = s.reorder_timeout(t0 + 110ms);
  CHECK(later.fast_retransmit);
  CHECK(s.scoreboard().lost_bytes() == 1000);
}

TEST_CASE(
    "PRR sends in proportion to what is delivered while pipe exceeds ssthresh "
    "(RFC 6937 §3)",
    "[tcp][sack]") {
  Sender s = sack_sender(make_newreno());
  s.write(bytes(20'000), false);
  REQUIRE(drain(s, t0 + 60ms).size() == 10);  // the initial window
  // Segment 0 lost, 1..3 SACKed (DupThresh): recovery, RecoverFS 10000, ssthresh 5000,
  // pipe 6000. ceil(3000 · 5000 / 10000) = 1500 may go: the retransmission (the last 500
  // would be a runt, held by Nagle-like sender SWS avoidance).
  ack(s, kData, {block(1, 4)}, t0 + 110ms);
  REQUIRE(s.state() == CaState::recovery);
  CHECK(s.congestion().ssthresh() == 5000);
  auto sent = drain(s, t0 + 110ms);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].retransmit);
  CHECK(sent[0].seq == at(0));
  // One more SACKed: prr_delivered 4000, ceil(4000 · 5000 / 10000) - 1000 = 1000: one new
  // segment.
  ack(s, kData, {block(1, 5)}, t0 + 120ms);
  sent = drain(s, t0 + 120ms);
  REQUIRE(sent.size() == 1);
  CHECK_FALSE(sent[0].retransmit);
  CHECK(sent[0].seq == at(10));
}

TEST_CASE(
    "PRR's slow-start reduction bound: with pipe at or below ssthresh, at most one "
    "segment beyond what was delivered (RFC 6937 §3, PRR-SSRB)",
    "[tcp][sack]") {
  Sender s = sack_sender(make_newreno());
  s.write(bytes(20'000), false);
  drain(s, t0 + 60ms);
  // 1..4 SACKed: pipe 5000 = ssthresh, so sndcnt = min(ssthresh - pipe, ...) = 0, but the
  // fast retransmit itself always goes.
  ack(s, kData, {block(1, 5)}, t0 + 110ms);
  const auto sent = drain(s, t0 + 110ms);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].retransmit);
}

TEST_CASE(
    "recovery ends when the recovery point is acknowledged, with cwnd = ssthresh "
    "(RFC 6675 §5, RFC 6937)",
    "[tcp][sack]") {
  Sender s = sack_sender(make_newreno());
  s.write(bytes(10'000), false);
  drain(s, t0 + 60ms);
  ack(s, kData, {block(1, 10)}, t0 + 110ms);
  drain(s, t0 + 110ms);
  REQUIRE(s.state() == CaState::recovery);
  ack(s, at(10), {}, t0 + 160ms);
  CHECK(s.state() == CaState::open);
  CHECK(s.congestion().cwnd() == s.congestion().ssthresh());
}

TEST_CASE(
    "a reduction is undone when a D-SACK shows its one retransmission needless "
    "(RFC 2883, RFC 3708)",
    "[tcp][sack]") {
  Sender s = sack_sender(make_newreno());
  s.write(bytes(10'000), false);
  drain(s, t0 + 60ms);
  const std::uint32_t before = s.congestion().cwnd();
  ack(s, kData, {block(1, 10)}, t0 + 110ms);
  drain(s, t0 + 110ms);  // segment 0 retransmitted
  REQUIRE(s.congestion().ssthresh() < before);
  // Segment 0 had only been delayed: it fills the hole (everything is acknowledged), and then
  // the retransmission arrives as a duplicate, which the peer reports.
  ack(s, at(10), {}, t0 + 160ms);
  const AckResult r = ack(s, at(10), {block(0, 1)}, t0 + 170ms);
  CHECK(r.dsack);
  CHECK(r.undone);
  CHECK(s.congestion().cwnd() >= before);
}

TEST_CASE(
    "the rescue retransmission resends the highest unSACKed segment once when nothing "
    "else may go (RFC 6675 §4 rule 4)",
    "[tcp][sack]") {
  Sender s = sack_sender(make_newreno());
  s.write(bytes(10'000), false);
  drain(s, t0 + 60ms);
  // Segments 0 and 9 lost: 1..8 SACKed marks 0 lost, not 9 (sent after the RACK segment).
  ack(s, kData, {block(1, 9)}, t0 + 110ms);
  REQUIRE(s.scoreboard().lost_bytes() == 1000);
  // NextSeg: rule 1 gives 0; then, no new data waiting, rule 4 rescues the tail, 9.
  const auto sent = drain(s, t0 + 110ms);
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].seq == at(0));
  CHECK(sent[1].retransmit);
  CHECK(sent[1].seq == at(9));
  ack(s, at(9), {}, t0 + 160ms);
  CHECK(drain(s, t0 + 161ms).empty());  // once per recovery
}

TEST_CASE(
    "a tail loss probe waits 2·SRTT (plus a delayed ACK for a lone segment), sends new "
    "data if it can, else the last segment again (RFC 8985 §7.2-7.3)",
    "[tcp][sack]") {
  Sender s = sack_sender();
  s.write(bytes(1000), false);
  drain(s, t0 + 60ms);
  REQUIRE(s.probe_allowed());
  CHECK(s.probe_timeout() == 2 * 50ms + 200ms);
  auto probe = s.probe();
  REQUIRE(probe);
  CHECK(probe->retransmit);  // nothing new to send: the last segment again
  CHECK(probe->seq == at(0));
  s.write(bytes(3000), false);  // now new data waits
  probe = s.probe();
  REQUIRE(probe);
  CHECK_FALSE(probe->retransmit);
  s.probe_sent(*probe, t0 + 360ms);
  CHECK_FALSE(s.probe_allowed());  // one probe at a time
}

TEST_CASE(
    "a probe that resent data and was acknowledged without a D-SACK repaired a loss: the "
    "window is reduced (RFC 8985 §7.4)",
    "[tcp][sack]") {
  Sender s = sack_sender(make_newreno());
  s.write(bytes(4000), false);
  drain(s, t0 + 60ms);
  const std::uint32_t before = s.congestion().cwnd();
  const auto probe = s.probe();
  REQUIRE(probe);
  s.probe_sent(*probe, t0 + 160ms);
  const AckResult r = ack(s, at(4), {}, t0 + 210ms);
  CHECK(r.probe_repaired);
  CHECK(s.congestion().cwnd() < before);
}

TEST_CASE(
    "after a timeout every unSACKed segment is lost, SACKed ones are not resent "
    "(RFC 6675 §5.1)",
    "[tcp][sack]") {
  Sender s = sack_sender(make_newreno());
  s.write(bytes(4000), false);
  drain(s, t0 + 60ms);
  ack(s, kData, {block(2, 3)}, t0 + 70ms);  // before RACK would judge 0 and 1
  s.backoff();
  s.on_timeout(t0 + 1s);
  CHECK(s.state() == CaState::loss);
  CHECK(s.congestion().cwnd() == kMss);
  CHECK(s.scoreboard().lost_bytes() == 3000);
  const auto first = s.next(true);
  REQUIRE(first);
  CHECK(first->seq == at(0));
}

TEST_CASE(
    "F-RTO: after a timeout, an ACK of new data lets two new segments go, and a second "
    "such ACK shows the timeout spurious (RFC 5682 §2.1)",
    "[tcp][sack]") {
  Sender s = sack_sender(make_newreno());
  s.write(bytes(20'000), false);
  REQUIRE(drain(s, t0 + 60ms).size() == 10);
  const std::uint32_t before = s.congestion().cwnd();
  s.backoff();
  s.on_timeout(t0 + 1s);
  auto sent = drain(s, t0 + 1s);
  REQUIRE(sent.size() == 1);  // only the first segment, until an ACK comes
  CHECK(sent[0].seq == at(0));
  // The originals were only delayed: their ACKs arrive.
  ack(s, at(3), {}, t0 + 1010ms);
  sent = drain(s, t0 + 1010ms);
  REQUIRE(sent.size() == 2);  // two new segments (step 2b)
  CHECK_FALSE(sent[0].retransmit);
  CHECK(sent[0].seq == at(10));
  const AckResult r = ack(s, at(6), {}, t0 + 1020ms);
  CHECK(r.spurious_rto);
  CHECK(s.state() == CaState::open);
  CHECK(s.congestion().cwnd() >= before);
}

TEST_CASE("F-RTO: a duplicate ACK after the new segments shows the timeout real", "[tcp][sack]") {
  Sender s = sack_sender(make_newreno());
  s.write(bytes(20'000), false);
  drain(s, t0 + 60ms);
  s.backoff();
  s.on_timeout(t0 + 1s);
  drain(s, t0 + 1s);
  ack(s, at(3), {}, t0 + 1010ms);
  drain(s, t0 + 1010ms);
  const AckResult r = ack(s, at(3), {block(10, 11)}, t0 + 1020ms);
  CHECK_FALSE(r.spurious_rto);
  CHECK(s.state() == CaState::loss);
  // Conventional recovery from here: the segments deemed lost go again, in order.
  const auto next = s.next(true);
  REQUIRE(next);
  CHECK(next->retransmit);
  CHECK(next->seq == at(3));
}
