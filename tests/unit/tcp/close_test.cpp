// Packet traces of TCP's closing: active, passive and simultaneous close, half-close, TIME-WAIT.
#include <catch2/catch.hpp>

#include <cerrno>

#include "stack/tcp/tcp.hpp"
#include "support/tcp_script.hpp"

using namespace tapir;
using namespace tapir::test;
using namespace tapir::test::script;
using tapir::tcp::State;

namespace {

// 2·MSL = 2 s, so a test can wait it out on the virtual clock.
StackConfig short_msl() {
  StackConfig config;
  config.tcp.msl = Duration{1'000'000};
  return config;
}

}  // namespace

TEST_CASE(
    "Active close goes FIN-WAIT-1 to FIN-WAIT-2 to TIME-WAIT to CLOSED after 2 MSL (RFC 9293 §3.6)",
    "[tcp]") {
  TcpScript peer(short_msl());
  const auto o = peer.open_passive({.seq = 100});
  CHECK(peer.stats().tcpConnections == 1);

  CHECK(peer.api().close(o.fd) == 0);
  const Segment fin = peer.expect(FIN | ACK);
  CHECK(fin.seq == o.iss + 1);
  CHECK(fin.ack == 101);
  CHECK(peer.state() == State::fin_wait_1);

  peer.send({.flags = ACK, .seq = 101, .ack = o.iss + 2});
  peer.expect_nothing();
  CHECK(peer.state() == State::fin_wait_2);

  peer.send({.flags = FIN | ACK, .seq = 101, .ack = o.iss + 2});
  const Segment ack = peer.expect(ACK);
  CHECK(ack.seq == o.iss + 2);
  CHECK(ack.ack == 102);
  CHECK(peer.state() == State::time_wait);

  peer.advance(Duration{1'999'000});
  CHECK(peer.state() == State::time_wait);
  CHECK(peer.stats().tcpConnections == 1);
  peer.advance(Duration{2'000});
  CHECK(peer.state() == State::closed);
  CHECK(peer.stats().tcpConnections == 0);
  peer.expect_nothing();
}

TEST_CASE("Passive close goes CLOSE-WAIT to LAST-ACK to CLOSED (RFC 9293 §3.6)", "[tcp]") {
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 100});

  peer.send({.flags = FIN | ACK, .seq = 101, .ack = o.iss + 1});
  const Segment ack = peer.expect(ACK);  // at once, not delayed
  CHECK(ack.ack == 102);
  CHECK(peer.state() == State::close_wait);
  Bytes got;
  CHECK(peer.read(o.fd, got) == 0);

  CHECK(peer.api().close(o.fd) == 0);
  const Segment fin = peer.expect(FIN | ACK);
  CHECK(fin.seq == o.iss + 1);
  CHECK(fin.ack == 102);
  CHECK(peer.state() == State::last_ack);

  peer.send({.flags = ACK, .seq = 102, .ack = o.iss + 2});
  peer.expect_nothing();
  CHECK(peer.state() == State::closed);
  CHECK(peer.stats().tcpConnections == 0);
}

TEST_CASE("Simultaneous close goes FIN-WAIT-1 to CLOSING to TIME-WAIT (RFC 9293 §3.6 Figure 13)",
          "[tcp]") {
  TcpScript peer(short_msl());
  const auto o = peer.open_passive({.seq = 100});
  CHECK(peer.api().shutdown(o.fd, SHUT_WR) == 0);
  const Segment fin = peer.expect(FIN | ACK);
  CHECK(fin.seq == o.iss + 1);

  // The peer's FIN crosses ours: it does not acknowledge our FIN.
  peer.send({.flags = FIN | ACK, .seq = 101, .ack = o.iss + 1});
  const Segment ack = peer.expect(ACK);
  CHECK(ack.seq == o.iss + 2);
  CHECK(ack.ack == 102);
  CHECK(peer.state() == State::closing);

  peer.send({.flags = ACK, .seq = 102, .ack = o.iss + 2});
  peer.expect_nothing();
  CHECK(peer.state() == State::time_wait);
  peer.advance(Duration{2'001'000});
  CHECK(peer.state() == State::closed);
}

TEST_CASE(
    "FIN-WAIT-1 receiving FIN and the ACK of its FIN together goes to TIME-WAIT (RFC 9293 "
    "§3.10.7.4)",
    "[tcp]") {
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 100});
  CHECK(peer.api().shutdown(o.fd, SHUT_WR) == 0);
  peer.expect(FIN | ACK);
  peer.send({.flags = FIN | ACK, .seq = 101, .ack = o.iss + 2});
  const Segment ack = peer.expect(ACK);
  CHECK(ack.seq == o.iss + 2);
  CHECK(ack.ack == 102);
  CHECK(peer.state() == State::time_wait);
}

TEST_CASE(
    "Half-close: after shutdown SHUT_WR data still arrives and read returns 0 only at the peer's "
    "FIN (RFC 9293 §3.6)",
    "[tcp]") {
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 100});
  CHECK(peer.api().shutdown(o.fd, SHUT_WR) == 0);
  peer.expect(FIN | ACK);
  peer.send({.flags = ACK, .seq = 101, .ack = o.iss + 2});
  CHECK(peer.state() == State::fin_wait_2);
  CHECK(peer.write(o.fd, pattern(4)) == -EPIPE);

  Bytes got;
  CHECK(peer.read(o.fd, got) == -EAGAIN);
  peer.send({.flags = ACK | PSH, .seq = 101, .ack = o.iss + 2, .payload = pattern(5)});
  peer.send({.flags = ACK | PSH, .seq = 106, .ack = o.iss + 2, .payload = pattern(7, 5)});
  CHECK(peer.read(o.fd, got) == 12);
  CHECK(got == pattern(12));
  CHECK(peer.read(o.fd, got) == -EAGAIN);
  peer.advance(Duration{40'000});
  const auto acks = peer.take();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].ack == 113);

  peer.send({.flags = FIN | ACK, .seq = 113, .ack = o.iss + 2});
  CHECK(peer.expect(ACK).ack == 114);
  CHECK(peer.state() == State::time_wait);
  CHECK(peer.read(o.fd, got) == 0);
}

TEST_CASE("Half-close by the peer: CLOSE-WAIT still sends data (RFC 9293 §3.10.7.4)", "[tcp]") {
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 100});
  peer.send({.flags = FIN | ACK, .seq = 101, .ack = o.iss + 1});
  peer.expect(ACK);
  CHECK(peer.state() == State::close_wait);
  CHECK(peer.write(o.fd, pattern(10)) == 10);
  const Segment data = peer.expect(ACK | PSH);
  CHECK(data.seq == o.iss + 1);
  CHECK(data.ack == 102);
  CHECK(data.payload == pattern(10));
  peer.send({.flags = ACK, .seq = 102, .ack = o.iss + 11});
  CHECK(peer.api().shutdown(o.fd, SHUT_WR) == 0);
  CHECK(peer.expect(FIN | ACK).seq == o.iss + 11);
  CHECK(peer.state() == State::last_ack);
}

TEST_CASE("TIME-WAIT ACKs a retransmitted FIN and restarts 2 MSL (RFC 9293 §3.6.1)", "[tcp]") {
  TcpScript peer(short_msl());
  const auto o = peer.open_passive({.seq = 100});
  CHECK(peer.api().close(o.fd) == 0);
  peer.expect(FIN | ACK);
  peer.send({.flags = FIN | ACK, .seq = 101, .ack = o.iss + 2});
  peer.expect(ACK);
  REQUIRE(peer.state() == State::time_wait);

  peer.advance(Duration{1'500'000});
  peer.send({.flags = FIN | ACK, .seq = 101, .ack = o.iss + 2});  // our ACK was lost
  const Segment ack = peer.expect(ACK);
  CHECK(ack.seq == o.iss + 2);
  CHECK(ack.ack == 102);

  peer.advance(Duration{1'000'000});  // 2.5 s after TIME-WAIT began: restarted, still there
  CHECK(peer.state() == State::time_wait);
  peer.advance(Duration{1'001'000});
  CHECK(peer.state() == State::closed);
  CHECK(peer.stats().tcpConnections == 0);
}

TEST_CASE("TIME-WAIT ends early for a SYN with a higher sequence number (RFC 6191)", "[tcp]") {
  TcpScript peer(short_msl());
  const auto o = peer.open_passive({.seq = 100});
  CHECK(peer.api().close(o.fd) == 0);  // the server closes first: TIME-WAIT is on our side
  peer.expect(FIN | ACK);
  peer.send({.flags = FIN | ACK, .seq = 101, .ack = o.iss + 2});
  peer.expect(ACK);
  REQUIRE(peer.state() == State::time_wait);

  SECTION("no timestamps either time") {
    peer.send({.flags = SYN, .seq = 100'000});
    const Segment synack = peer.expect(SYN | ACK);
    CHECK(synack.ack == 100'001);
  }
  SECTION("a new SYN with timestamps after an incarnation without them") {
    // RFC 6191 §2: the old connection had no timestamps, so the sequence number decides.
    peer.send({.flags = SYN, .seq = 100'000, .tsval = 1});
    const Segment synack = peer.expect(SYN | ACK);
    CHECK(synack.ack == 100'001);
    CHECK(synack.tsecr == 1);
  }
  CHECK(peer.state() == State::syn_received);
  CHECK(peer.stats().tcpTimeWaitReused == 1);
  CHECK(peer.stats().tcpConnections == 1);
  peer.send({.flags = ACK, .seq = 100'001, .ack = peer.connection()->iss().value() + 1});
  CHECK(peer.state() == State::established);
}

TEST_CASE("TIME-WAIT with timestamps ends early for a SYN with a newer TSval (RFC 6191 §2)",
          "[tcp]") {
  TcpScript peer(short_msl());
  const auto o = peer.open_passive({.seq = 100'000, .tsval = 1000});
  CHECK(peer.api().close(o.fd) == 0);
  const Segment fin = peer.expect(FIN | ACK);
  peer.send(
      {.flags = FIN | ACK, .seq = 100'001, .ack = o.iss + 2, .tsval = 1002, .tsecr = *fin.tsval});
  peer.expect(ACK);
  REQUIRE(peer.state() == State::time_wait);

  SECTION("newer TSval, even with a lower sequence number: reused") {
    peer.send({.flags = SYN, .seq = 50, .tsval = 2000});
    CHECK(peer.expect(SYN | ACK).ack == 51);
    CHECK(peer.state() == State::syn_received);
    CHECK(peer.stats().tcpTimeWaitReused == 1);
  }
  SECTION("older TSval: the old connection stays (PAWS drops the SYN with an ACK)") {
    peer.send({.flags = SYN, .seq = 200'000, .tsval = 900});
    CHECK(peer.expect(ACK).ack == 100'002);
    CHECK(peer.state() == State::time_wait);
    CHECK(peer.stats().tcpTimeWaitReused == 0);
  }
}

TEST_CASE("TIME-WAIT is kept for a SYN with a lower sequence number (RFC 6191 §2)", "[tcp]") {
  TcpScript peer(short_msl());
  const auto o = peer.open_passive({.seq = 100'000});
  CHECK(peer.api().close(o.fd) == 0);
  peer.expect(FIN | ACK);
  peer.send({.flags = FIN | ACK, .seq = 100'001, .ack = o.iss + 2});
  peer.expect(ACK);
  peer.send({.flags = SYN, .seq = 50});
  const Segment ack = peer.expect(ACK);  // RFC 5961 §4: a challenge ACK, not a SYN-ACK
  CHECK(ack.ack == 100'002);
  CHECK(peer.state() == State::time_wait);
  CHECK(peer.stats().tcpTimeWaitReused == 0);
}

TEST_CASE("The connection count returns to 0 once TIME-WAIT has lasted 2 MSL (RFC 9293 §3.6.1)",
          "[tcp]") {
  TcpScript peer(short_msl());
  const int listener = peer.listen(80);
  std::vector<int> fds;
  for (std::uint16_t port = 40001; port <= 40003; ++port) {
    peer.peer_port = port;
    peer.send({.flags = SYN, .seq = 100});
    const Segment synack = peer.expect(SYN | ACK);
    peer.send({.flags = ACK, .seq = 101, .ack = synack.seq + 1});
    fds.push_back(peer.api().accept(listener, nullptr, nullptr));
    REQUIRE(fds.back() >= 0);
    CHECK(peer.api().close(fds.back()) == 0);
    const Segment fin = peer.expect(FIN | ACK);
    peer.send({.flags = FIN | ACK, .seq = 101, .ack = fin.seq + 1});
    peer.expect(ACK);
    CHECK(peer.state() == State::time_wait);
  }
  CHECK(peer.stats().tcpConnections == 3);
  CHECK(peer.stack().tcp().connection_count() == 3);
  peer.advance(Duration{2'001'000});
  CHECK(peer.stats().tcpConnections == 0);
  CHECK(peer.stack().tcp().connection_count() == 0);
  CHECK(peer.stats().tcpCurrEstab == 0);
}
