// Keepalive as a packet trace: SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT.
#include <netinet/tcp.h>

#include <catch2/catch.hpp>

#include <cerrno>

#include "support/tcp_peer.hpp"

using namespace tapir;
using namespace tapir::test;
using namespace tapir::test::tcpf;

namespace {

constexpr Duration seconds(std::int64_t n) {
  return Duration{n * 1'000'000};
}
constexpr Duration us(std::int64_t n) {
  return Duration{n};
}

// Keepalive after 10 s idle, probes 2 s apart, three of them.
void keepalive_10_2_3(TcpPeer& peer, int fd) {
  peer.set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  peer.set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, 10);
  peer.set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, 2);
  peer.set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, 3);
}

void check_probe(TcpPeer& peer, const std::vector<Segment>& segs) {
  REQUIRE(segs.size() == 1);
  CHECK(segs[0].flags == ACK);
  CHECK(segs[0].seq == peer.host_seq(0) - 1);  // SND.NXT - 1, so the peer must answer
  CHECK(segs[0].len() == 0);
  CHECK(segs[0].ack == peer.peer_seq(0));
}

}  // namespace

TEST_CASE("A keepalive probe is sent after TCP_KEEPIDLE of silence (RFC 1122 §4.2.3.6)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  peer.open({}, [&](int fd) { keepalive_10_2_3(peer, fd); });
  peer.run(seconds(10) - us(1));
  CHECK(peer.take().empty());
  peer.run(us(1));
  check_probe(peer, peer.take());
  CHECK(h.stats().tcpKeepaliveProbes == 1);
}

TEST_CASE(
    "Unanswered keepalive probes repeat every TCP_KEEPINTVL then fail with ETIMEDOUT "
    "(RFC 1122 §4.2.3.6)",
    "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  keepalive_10_2_3(peer, fd);  // set on the established connection
  peer.run(seconds(10));
  check_probe(peer, peer.take());
  for (int i = 0; i < 2; ++i) {
    peer.run(seconds(2) - us(1));
    CHECK(peer.take().empty());
    peer.run(us(1));
    check_probe(peer, peer.take());
  }
  peer.run(seconds(2) - us(1));
  CHECK(peer.take().empty());
  CHECK((peer.poll(fd) & POLLERR) == 0);
  peer.run(us(1));  // three probes unanswered for an interval each: the peer is gone
  CHECK((peer.poll(fd) & POLLERR) != 0);
  Bytes got;
  CHECK(peer.read(fd, got) == -ETIMEDOUT);
  CHECK(h.stats().tcpKeepaliveProbes == 3);
  CHECK(h.stats().tcpAbortOnTimeout == 1);
}

TEST_CASE("An answered keepalive probe keeps the connection alive (RFC 1122 §4.2.3.6)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open({}, [&](int s) { keepalive_10_2_3(peer, s); });
  peer.run(seconds(10));
  check_probe(peer, peer.take());
  for (int round = 0; round < 5; ++round) {
    INFO("round " << round);
    peer.run(seconds(1));
    peer.ack(0);  // the answer: the next probe comes a whole idle time later
    peer.run(seconds(10) - us(1));
    CHECK(peer.take().empty());
    peer.run(us(1));
    check_probe(peer, peer.take());
  }
  CHECK(peer.api().connect_status(fd) == 0);
  CHECK(h.stats().tcpAbortOnTimeout == 0);
}

TEST_CASE("No keepalive probes are sent without SO_KEEPALIVE (RFC 1122 §4.2.3.6)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open({}, [&](int s) {
    peer.set_int(s, IPPROTO_TCP, TCP_KEEPIDLE, 10);  // without SO_KEEPALIVE these do nothing
    peer.set_int(s, IPPROTO_TCP, TCP_KEEPCNT, 1);
  });
  for (int hour = 0; hour < 5; ++hour) peer.run(seconds(3600));
  CHECK(peer.take().empty());
  CHECK(h.stats().tcpKeepaliveProbes == 0);
  CHECK(peer.api().connect_status(fd) == 0);
}

TEST_CASE("Traffic from the peer postpones the keepalive probe (RFC 1122 §4.2.3.6)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  peer.open({}, [&](int s) { keepalive_10_2_3(peer, s); });
  peer.run(seconds(8));
  peer.data(pattern(10));
  peer.run(seconds(1));
  CHECK(peer.take().size() == 1);  // the delayed ACK of the data, no probe
  peer.run(seconds(9) - us(1));    // idle since the data: 10 s after it
  CHECK(peer.take().empty());
  peer.run(us(1));
  const auto probe = peer.take();
  REQUIRE(probe.size() == 1);
  CHECK(probe[0].seq == peer.host_seq(0) - 1);
  CHECK(probe[0].ack == peer.peer_seq(10));
}
