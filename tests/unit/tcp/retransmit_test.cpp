// Retransmission as a packet trace: RFC 6298's timer, Karn's rule, giving up, fast retransmit.
#include <netinet/tcp.h>

#include <catch2/catch.hpp>

#include <cerrno>

#include "support/tcp_peer.hpp"

using namespace tapir;
using namespace tapir::test;
using namespace tapir::test::tcpf;

namespace {

constexpr Duration ms(std::int64_t n) {
  return Duration{n * 1000};
}
constexpr Duration us(std::int64_t n) {
  return Duration{n};
}

// Waits `d` less a microsecond, checks the stack stayed silent, then one more microsecond and
// returns what it sent at exactly `d`.
std::vector<Segment> after_exactly(TcpPeer& peer, Duration d) {
  peer.run(d - us(1));
  CHECK(peer.take().empty());
  peer.run(us(1));
  return peer.take();
}

}  // namespace

TEST_CASE("The first SYN is retransmitted after 1 s then 2 s then 4 s (RFC 6298 §5.5)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  peer.start();
  const auto syn = peer.take();
  REQUIRE(syn.size() == 1);
  for (const std::int64_t seconds : {1, 2, 4, 8, 16, 32}) {
    INFO("after " << seconds << " s");
    const auto again = after_exactly(peer, Duration{seconds * 1'000'000});
    REQUIRE(again.size() == 1);
    CHECK(again[0].flags == SYN);
    CHECK(again[0].seq == syn[0].seq);
  }
  CHECK(h.stats().tcpTimeouts == 6);
  CHECK(h.stats().tcpRetransSegs == 6);
}

TEST_CASE("The data RTO is at least 200 ms however small the RTT (RFC 6298 §2.4)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();  // the SYN-ACK comes back at once: RTT 0
  REQUIRE(peer.write(fd, pattern(100)) == 100);
  const auto first = peer.take();
  REQUIRE(first.size() == 1);
  CHECK(first[0].seq == peer.host_seq(0));
  const auto again = after_exactly(peer, ms(200));
  REQUIRE(again.size() == 1);
  CHECK(again[0].seq == peer.host_seq(0));
  CHECK(again[0].payload == pattern(100));
  CHECK(h.stats().tcpTimeouts == 1);
  CHECK(h.stats().tcpRetransSegs == 1);
}

TEST_CASE("The data RTO is SRTT plus four RTTVAR from the measured RTT (RFC 6298 §2.2)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.start();
  peer.run(ms(300));  // the SYN-ACK takes 300 ms: SRTT 300 ms, RTTVAR 150 ms, RTO 900 ms
  peer.answer_syn(fd);
  REQUIRE(peer.write(fd, pattern(100)) == 100);
  REQUIRE(peer.take().size() == 1);
  const auto again = after_exactly(peer, ms(900));
  REQUIRE(again.size() == 1);
  CHECK(again[0].seq == peer.host_seq(0));
}

TEST_CASE("The RTO doubles on each expiry up to 60 s (RFC 6298 §5.5 and §2.5)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  REQUIRE(peer.write(fd, pattern(10)) == 10);
  REQUIRE(peer.take().size() == 1);
  const std::int64_t expected_ms[] = {200,   400,   800,   1600,  3200,  6400,
                                      12800, 25600, 51200, 60000, 60000, 60000};
  for (const std::int64_t wait : expected_ms) {
    INFO("waiting " << wait << " ms");
    const auto again = after_exactly(peer, ms(wait));
    REQUIRE(again.size() == 1);
    CHECK(again[0].seq == peer.host_seq(0));
    CHECK(again[0].len() == 10);
  }
}

TEST_CASE("No RTT sample is taken from a retransmitted segment (Karn RFC 6298 §3)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();  // RTO 200 ms
  REQUIRE(peer.write(fd, pattern(100)) == 100);
  REQUIRE(peer.take().size() == 1);
  REQUIRE(after_exactly(peer, ms(200)).size() == 1);
  // The ACK 210 ms after the first send: timing the retransmission would make the RTO 250 ms.
  peer.run(ms(10));
  peer.ack(100);
  REQUIRE(peer.write(fd, pattern(100)) == 100);
  const auto next = peer.take();
  REQUIRE(next.size() == 1);
  CHECK(next[0].seq == peer.host_seq(100));
  const auto again = after_exactly(peer, ms(200));
  REQUIRE(again.size() == 1);
  CHECK(again[0].seq == peer.host_seq(100));
}

TEST_CASE("After a retransmitted SYN the RTO is 3 s when data starts (RFC 6298 §5.7)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.start();
  peer.run(ms(1000));  // the SYN is sent again: no RTT sample from the handshake
  peer.answer_syn(fd);
  REQUIRE(peer.write(fd, pattern(100)) == 100);
  REQUIRE(peer.take().size() == 1);
  const auto again = after_exactly(peer, ms(3000));
  REQUIRE(again.size() == 1);
  CHECK(again[0].seq == peer.host_seq(0));
}

TEST_CASE("Connect fails with ETIMEDOUT after syn_retries unanswered SYNs (RFC 1122 §4.2.3.5)",
          "[tcp]") {
  Harness h;  // syn_retries 6: SYNs at 0 1 3 7 15 31 63 s, then the RTO's 60 s cap: 123 s
  TcpPeer peer(h);
  const int fd = peer.start();
  peer.run(ms(123'000) - us(1));
  CHECK(peer.api().connect_status(fd) == -EAGAIN);
  CHECK(peer.take().size() == 7);
  peer.run(us(1));
  CHECK(peer.take().empty());  // no RST: nobody answered
  CHECK(peer.api().connect_status(fd) == -ETIMEDOUT);
  CHECK(h.stats().tcpAttemptFails == 1);
  CHECK(h.stats().tcpAbortOnTimeout == 1);
}

TEST_CASE("An established connection fails with ETIMEDOUT after data_retries (RFC 1122 §4.2.3.5)",
          "[tcp]") {
  StackConfig config;
  config.tcp.data_retries = 3;
  Harness h(config);
  TcpPeer peer(h);
  const int fd = peer.open();
  REQUIRE(peer.write(fd, pattern(10)) == 10);
  REQUIRE(peer.take().size() == 1);
  // Three retransmissions at 200, 600 and 1400 ms; the fourth expiry, at 3 s, gives up.
  peer.run(ms(3000) - us(1));
  CHECK(peer.take().size() == 3);
  CHECK((peer.poll(fd) & POLLERR) == 0);
  peer.run(us(1));
  CHECK(peer.take().empty());
  CHECK((peer.poll(fd) & POLLERR) != 0);
  CHECK(h.stats().tcpAbortOnTimeout == 1);
  Bytes got;
  SECTION("recv reports it once") {
    CHECK(peer.read(fd, got) == -ETIMEDOUT);
    CHECK(peer.read(fd, got) == 0);
  }
  SECTION("SO_ERROR reports it once") {
    CHECK(peer.get_int(fd, SOL_SOCKET, SO_ERROR) == ETIMEDOUT);
    CHECK(peer.get_int(fd, SOL_SOCKET, SO_ERROR) == 0);
  }
}

TEST_CASE("Three duplicate ACKs retransmit the missing segment at once (RFC 5681 §3.2)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  REQUIRE(peer.write(fd, pattern(5 * 1460)) == 5 * 1460);
  const auto flight = peer.take();
  REQUIRE(flight.size() == 5);
  peer.ack(1460);  // the first arrived, the second was lost
  CHECK(peer.take().empty());
  peer.ack(1460);
  peer.ack(1460);
  CHECK(peer.take().empty());  // two duplicates are not enough (reordering)
  peer.ack(1460);
  const auto resent = peer.take();
  REQUIRE(resent.size() == 1);
  CHECK(resent[0].seq == peer.host_seq(1460));
  CHECK(resent[0].payload == flight[1].payload);
  CHECK(h.stats().tcpFastRetrans == 1);
  CHECK(h.stats().tcpRetransSegs == 1);
  CHECK(h.stats().tcpTimeouts == 0);
}

TEST_CASE("A timeout resends only the first unacknowledged segment (RFC 5681 §3.1)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  REQUIRE(peer.write(fd, pattern(3 * 1460)) == 3 * 1460);
  REQUIRE(peer.take().size() == 3);
  // The loss window is one segment (cwnd = 1 SMSS): the rest waits for the ACK.
  const auto resent = after_exactly(peer, ms(200));
  REQUIRE(resent.size() == 1);
  CHECK(resent[0].seq == peer.host_seq(0));
  CHECK(resent[0].len() == 1460);
  peer.ack(1460);
  const auto next = peer.take();
  REQUIRE(next.size() == 2);
  CHECK(next[0].seq == peer.host_seq(1460));
  CHECK(next[1].seq == peer.host_seq(2920));
  CHECK(h.stats().tcpTimeouts == 1);
  CHECK(h.stats().tcpRetransSegs == 3);
}
