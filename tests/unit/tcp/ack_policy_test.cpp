// When the receiver ACKs, as a packet trace: delayed ACKs, every second full segment, SACK.
#include <catch2/catch.hpp>

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

}  // namespace

TEST_CASE("A single small segment is ACKed after the 40 ms delayed-ACK time (RFC 1122 §4.2.3.2)",
          "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  peer.open();
  peer.data(pattern(100));
  CHECK(peer.take().empty());
  peer.run(ms(40) - us(1));
  CHECK(peer.take().empty());
  peer.run(us(1));
  const auto acks = peer.take();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].flags == ACK);
  CHECK(acks[0].ack == peer.peer_seq(100));
  CHECK(acks[0].seq == peer.host_seq(0));
  CHECK(h.stats().tcpDelayedAcks == 1);
}

TEST_CASE("Every second full-sized segment is ACKed at once (RFC 1122 §4.2.3.2)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  peer.open();  // the stack advertised MSS 1460
  peer.data(pattern(1460));
  CHECK(peer.take().empty());
  peer.data(pattern(1460));
  const auto acks = peer.take();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].ack == peer.peer_seq(2920));
  peer.run(ms(100));
  CHECK(peer.take().empty());  // nothing more is owed
  CHECK(h.stats().tcpDelayedAcks == 0);
}

TEST_CASE("Within one receive batch the ACKs owed go out once at its end, as for a GRO segment",
          "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  peer.open();
  h.stack().begin_batch();
  for (int i = 0; i < 6; ++i) peer.data(pattern(1460));
  CHECK(peer.take().empty());  // six full segments, no ACK yet
  h.stack().end_batch();
  const auto acks = peer.take();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].ack == peer.peer_seq(6 * 1460));
  h.stack().begin_batch();
  h.stack().end_batch();
  CHECK(peer.take().empty());  // an empty batch owes nothing
}

TEST_CASE("An out-of-order segment gets an immediate duplicate ACK with a SACK block (RFC 2018 §4)",
          "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  PeerSyn syn;
  syn.sack = true;
  peer.open(syn);
  // Bytes [0, 100) are lost; [100, 200) arrive.
  peer.send(ACK, peer.peer_seq(100), peer.host_seq(0), pattern(100, 100));
  const auto dup = peer.take();
  REQUIRE(dup.size() == 1);
  CHECK(dup[0].flags == ACK);
  CHECK(dup[0].ack == peer.peer_seq(0));
  REQUIRE(dup[0].sack.size() == 1);
  CHECK(dup[0].sack[0].first == peer.peer_seq(100));
  CHECK(dup[0].sack[0].second == peer.peer_seq(200));
}

TEST_CASE(
    "Out-of-order data without SACK negotiated gets a duplicate ACK and no SACK option "
    "(RFC 5681 §4.2)",
    "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  peer.open();
  peer.send(ACK, peer.peer_seq(100), peer.host_seq(0), pattern(100, 100));
  const auto dup = peer.take();
  REQUIRE(dup.size() == 1);
  CHECK(dup[0].ack == peer.peer_seq(0));
  CHECK(dup[0].sack.empty());
}

TEST_CASE("The newest out-of-order block is listed first in the SACK option (RFC 2018 §4)",
          "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  PeerSyn syn;
  syn.sack = true;
  peer.open(syn);
  peer.send(ACK, peer.peer_seq(300), peer.host_seq(0), pattern(100, 44));
  peer.take();
  peer.send(ACK, peer.peer_seq(100), peer.host_seq(0), pattern(100, 100));
  const auto dup = peer.take();
  REQUIRE(dup.size() == 1);
  REQUIRE(dup[0].sack.size() == 2);
  CHECK(dup[0].sack[0] == std::pair{peer.peer_seq(100), peer.peer_seq(200)});
  CHECK(dup[0].sack[1] == std::pair{peer.peer_seq(300), peer.peer_seq(400)});
}

TEST_CASE("A segment that fills a gap is ACKed at once (RFC 5681 §4.2)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  PeerSyn syn;
  syn.sack = true;
  const int fd = peer.open(syn);
  peer.send(ACK, peer.peer_seq(100), peer.host_seq(0), pattern(100, 100));
  REQUIRE(peer.take().size() == 1);
  peer.send(ACK, peer.peer_seq(0), peer.host_seq(0), pattern(100, 0));
  const auto acks = peer.take();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].ack == peer.peer_seq(200));
  CHECK(acks[0].sack.empty());  // nothing is out of order any more
  Bytes got;
  CHECK(peer.read(fd, got) == 200);
  CHECK(got == pattern(200));
}

TEST_CASE("Data sent by the application carries the pending ACK (RFC 1122 §4.2.3.2)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  peer.data(pattern(100));
  peer.run(ms(10));
  REQUIRE(peer.write(fd, pattern(20)) == 20);
  const auto segs = peer.take();
  REQUIRE(segs.size() == 1);
  CHECK(segs[0].len() == 20);
  CHECK(segs[0].ack == peer.peer_seq(100));
  peer.run(ms(40));
  CHECK(peer.take().empty());  // the delayed ACK went with the data
}
