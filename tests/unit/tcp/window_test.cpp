// Flow control as a packet trace: the peer's window, zero-window probes, our window, SWS, Nagle.
#include <netinet/tcp.h>

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

std::vector<std::size_t> lengths(const std::vector<Segment>& segs) {
  std::vector<std::size_t> out;
  for (const Segment& s : segs) out.push_back(s.len());
  return out;
}

using Sizes = std::vector<std::size_t>;

}  // namespace

TEST_CASE("The sender never sends beyond the peer's scaled window (RFC 7323 §2.3)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  PeerSyn syn;
  syn.wscale = 2;
  const int fd = peer.open(syn);
  peer.ack(0, 1095);  // 1095 << 2 = 4380 bytes: three segments
  REQUIRE(peer.write(fd, pattern(10000)) == 10000);
  const auto first = peer.take();
  CHECK(lengths(first) == Sizes{1460, 1460, 1460});
  CHECK(first.back().seq + first.back().len() == peer.host_seq(4380));
  peer.ack(4380);
  const auto second = peer.take();
  CHECK(lengths(second) == Sizes{1460, 1460, 1460});
  CHECK(second.front().seq == peer.host_seq(4380));
}

TEST_CASE(
    "A zero window is probed by the persist timer with exponential backoff "
    "(RFC 1122 §4.2.2.17)",
    "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();  // RTO 200 ms
  peer.ack(0, 0);
  REQUIRE(peer.write(fd, pattern(100)) == 100);
  CHECK(peer.take().empty());
  // The peer answers every probe with its window, still zero: the probes go on, further apart.
  for (const std::int64_t wait : {200, 400, 800, 1600, 3200}) {
    INFO("waiting " << wait << " ms");
    peer.run(ms(wait) - us(1));
    CHECK(peer.take().empty());
    peer.run(us(1));
    const auto probe = peer.take();
    REQUIRE(probe.size() == 1);
    CHECK(probe[0].flags == ACK);
    CHECK(probe[0].seq == peer.host_seq(0) - 1);  // SND.UNA - 1: the peer must answer it
    CHECK(probe[0].len() == 0);
    peer.ack(0, 0);
  }
  CHECK(h.stats().tcpZeroWindowProbes == 5);
  CHECK(peer.api().connect_status(fd) == 0);  // answered probes never time the connection out
}

TEST_CASE("Data goes as soon as the zero window opens (RFC 9293 §3.8.6.1)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  peer.ack(0, 0);
  REQUIRE(peer.write(fd, pattern(100)) == 100);
  peer.run(ms(200));
  REQUIRE(peer.take().size() == 1);  // a probe
  peer.ack(0, 1000);
  const auto data = peer.take();
  REQUIRE(data.size() == 1);
  CHECK(data[0].seq == peer.host_seq(0));
  CHECK(data[0].payload == pattern(100));
}

TEST_CASE("The receive window is advertised from SO_RCVBUF (RFC 9293 §3.8.6)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  PeerSyn syn;
  syn.wscale = 0;  // the peer does not scale its own window but lets the stack scale its one
  // SO_RCVBUF 8192 is doubled, as Linux does, to 16384 bytes.
  const int fd = peer.open(syn, [&](int s) { peer.set_int(s, SOL_SOCKET, SO_RCVBUF, 8192); });
  CHECK(peer.get_int(fd, SOL_SOCKET, SO_RCVBUF) == 16384);
  CHECK(peer.host_syn.window == 16384);  // RFC 7323 §2.2: a SYN's window is never scaled
  REQUIRE(peer.host_syn.wscale.has_value());
  const unsigned scale = *peer.host_syn.wscale;
  CHECK((std::uint32_t{peer.host_ack.window} << scale) == 16384);
}

TEST_CASE("The receive window shrinks as unread data is buffered (RFC 9293 §3.8.6)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  peer.open({}, [&](int s) { peer.set_int(s, SOL_SOCKET, SO_RCVBUF, 8192); });
  peer.data(pattern(1000));
  peer.run(ms(40));
  auto acks = peer.take();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].window == 16384 - 1000);
  peer.data(pattern(1000));
  peer.run(ms(40));
  acks = peer.take();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].window == 16384 - 2000);
}

TEST_CASE("The right edge of the receive window never moves left (RFC 9293 §3.8.6)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  PeerSyn syn;
  syn.wscale = 0;
  peer.open(syn, [&](int s) { peer.set_int(s, SOL_SOCKET, SO_RCVBUF, 8192); });
  const unsigned scale = peer.host_syn.wscale.value_or(0);
  REQUIRE(scale > 0);  // windows are in units of 2^scale: rounding must not pull the edge back
  std::uint32_t edge = peer.host_ack.ack + (std::uint32_t{peer.host_ack.window} << scale);
  for (int i = 0; i < 20; ++i) {
    peer.data(pattern(300));  // never read
    peer.run(ms(40));
    for (const Segment& ack : peer.take()) {
      const std::uint32_t right = ack.ack + (std::uint32_t{ack.window} << scale);
      CHECK(static_cast<std::int32_t>(right - edge) >= 0);
      edge = right;
    }
  }
}

TEST_CASE("A window update is sent once reading frees an MSS (RFC 1122 §4.2.3.3)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  // SO_RCVBUF 2048 gives 4096 bytes; no scaling. The peer fills the window.
  const int fd = peer.open({}, [&](int s) { peer.set_int(s, SOL_SOCKET, SO_RCVBUF, 2048); });
  peer.data(pattern(1460));
  peer.data(pattern(1460));
  peer.data(pattern(1176));
  peer.run(ms(40));
  auto acks = peer.take();
  REQUIRE(!acks.empty());
  CHECK(acks.back().ack == peer.peer_seq(4096));
  CHECK(acks.back().window == 0);
  Bytes got;
  // Reading 100 bytes opens too little to announce (receiver SWS avoidance).
  REQUIRE(peer.read(fd, got, 100) == 100);
  peer.run(ms(100));
  CHECK(peer.take().empty());
  // 1500 bytes free: at least min(buffer / 2, MSS), so the window update goes at once.
  REQUIRE(peer.read(fd, got, 1400) == 1400);
  acks = peer.take();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].ack == peer.peer_seq(4096));
  CHECK(acks[0].window == 1500);
}

TEST_CASE(
    "The sender holds a segment smaller than an MSS and half the largest window "
    "(RFC 1122 §4.2.3.4)",
    "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  PeerSyn syn;
  syn.window = 4000;
  const int fd = peer.open(syn, [&](int s) { peer.set_int(s, IPPROTO_TCP, TCP_NODELAY, 1); });
  REQUIRE(peer.write(fd, pattern(10000)) == 10000);
  // 1080 bytes of window are left, less than min(MSS, 4000 / 2): no silly segment.
  CHECK(lengths(peer.take()) == Sizes{1460, 1460});
  peer.ack(2920);
  CHECK(lengths(peer.take()) == Sizes{1460, 1460});
  peer.ack(5840);
  CHECK(lengths(peer.take()) == Sizes{1460, 1460});
  peer.ack(8760);
  CHECK(lengths(peer.take()) == Sizes{1240});  // the last of the data
}

TEST_CASE(
    "A small window with nothing in flight is used when the override timer fires "
    "(RFC 1122 §4.2.3.4)",
    "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  PeerSyn syn;
  syn.window = 4000;
  const int fd = peer.open(syn);
  REQUIRE(peer.write(fd, pattern(10000)) == 10000);
  CHECK(lengths(peer.take()) == Sizes{1460, 1460});
  // Everything is acknowledged but only 1000 bytes of window are offered, and the peer says no
  // more: without the override timeout the connection would wait forever.
  peer.ack(2920, 1000);
  CHECK(peer.take().empty());
  peer.run(ms(200));  // the override timeout runs on the persist timer, one RTO
  const auto segs = peer.take();
  REQUIRE(segs.size() == 1);
  CHECK(segs[0].seq == peer.host_seq(2920));
  CHECK(segs[0].len() == 1000);
}

TEST_CASE("Small writes wait while data is unacknowledged (Nagle RFC 896)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  REQUIRE(peer.write(fd, pattern(100)) == 100);
  CHECK(lengths(peer.take()) == Sizes{100});
  REQUIRE(peer.write(fd, pattern(50)) == 50);
  REQUIRE(peer.write(fd, pattern(50)) == 50);
  CHECK(peer.take().empty());
  peer.run(ms(50));
  peer.ack(100);
  const auto segs = peer.take();
  REQUIRE(segs.size() == 1);  // the two small writes go together
  CHECK(segs[0].seq == peer.host_seq(100));
  CHECK(segs[0].len() == 100);
}

TEST_CASE("TCP_NODELAY sends small writes at once (RFC 896)", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open({}, [&](int s) { peer.set_int(s, IPPROTO_TCP, TCP_NODELAY, 1); });
  REQUIRE(peer.write(fd, pattern(100)) == 100);
  REQUIRE(peer.write(fd, pattern(50)) == 50);
  REQUIRE(peer.write(fd, pattern(50)) == 50);
  CHECK(lengths(peer.take()) == Sizes{100, 50, 50});
}

TEST_CASE("Setting TCP_NODELAY sends what Nagle was holding (tcp(7))", "[tcp]") {
  Harness h;
  TcpPeer peer(h);
  const int fd = peer.open();
  REQUIRE(peer.write(fd, pattern(100)) == 100);
  REQUIRE(peer.write(fd, pattern(50)) == 50);
  CHECK(lengths(peer.take()) == Sizes{100});
  peer.set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  CHECK(lengths(peer.take()) == Sizes{50});
}
