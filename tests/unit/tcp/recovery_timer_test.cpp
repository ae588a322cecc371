// The retransmission timer during NewReno recovery, as a packet trace (RFC 6582 §3.2 step 5).
#include <netinet/tcp.h>

#include <catch2/catch.hpp>

#include <cstring>

#include "support/tcp_peer.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

constexpr Duration ms(std::int64_t n) {
  return Duration{n * 1000};
}

}  // namespace

// Restarting the timer on every partial ACK (RFC 6298 §5.3's general rule, the "Slow-but-Steady"
// variant) would let a window with N losses take N round trips to repair with the timer never
// ending it; the Impatient variant lets the timer fire and slow start take the rest.
TEST_CASE(
    "NewReno restarts the retransmission timer on the first partial ACK only (RFC 6582 §3.2 "
    "step 5)",
    "[newreno-timer]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open({}, [&peer](int s) {
    const char name[] = "newreno";
    peer.api().setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, name, sizeof name - 1);
  });
  constexpr std::uint32_t mss = 1460;
  REQUIRE(peer.write(fd, pattern(10 * mss)) == 10 * mss);
  REQUIRE(peer.take().size() == 10);
  // Segments 1, 3 and 5 are lost: segment 0 is acknowledged, then 2, 4 and 6 repeat that ACK.
  peer.ack(mss);
  for (int i = 0; i < 3; ++i) peer.ack(mss);
  auto resent = peer.take();
  REQUIRE(!resent.empty());
  CHECK(resent[0].seq == peer.host_seq(mss));
  // The timer runs from the new ACK at 0 ms (200 ms, the minimum RTO).
  peer.run(ms(150));
  peer.ack(3 * mss);  // the first partial ACK: segment 3 goes again, the timer restarts
  resent = peer.take();
  REQUIRE(!resent.empty());
  CHECK(resent[0].seq == peer.host_seq(3 * mss));
  peer.run(ms(150));
  peer.ack(5 * mss);  // a later partial ACK: segment 5 goes again, the deadline stays
  resent = peer.take();
  REQUIRE(!resent.empty());
  CHECK(resent[0].seq == peer.host_seq(5 * mss));
  CHECK(h.stats().tcpTimeouts == 0);
  // 200 ms after the first partial ACK the timer expires (at 350 ms), though the ACKs keep
  // coming: the rest of the window goes again in slow start rather than a hole per round trip.
  peer.run(ms(60));
  CHECK(h.stats().tcpTimeouts == 1);
}
