// Packet traces of resets, blind-attack defences (RFC 5961), listen backlogs, broadcast drops.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>

#include "stack/tcp/tcp.hpp"
#include "support/tcp_script.hpp"

using namespace tapir;
using namespace tapir::test;
using namespace tapir::test::script;
using tapir::tcp::State;

// --- CLOSED and LISTEN (RFC 9293 §3.10.7.1-§3.10.7.2) -----------------------------------------

TEST_CASE("A SYN to a closed port gets RST|ACK with ack=seq+1 (RFC 9293 §3.10.7.1)", "[tcp]") {
  TcpScript peer;
  peer.send({.flags = SYN, .seq = 100});
  const Segment rst = peer.expect(RST | ACK);
  CHECK(rst.seq == 0);
  CHECK(rst.ack == 101);
  CHECK(rst.src_port == 80);
  CHECK(rst.dst_port == 40000);
  CHECK(rst.payload.empty());
  CHECK(peer.stats().tcpOutRsts == 1);

  // Data and FIN count in SEG.LEN too.
  peer.send({.flags = SYN | FIN, .seq = 100, .payload = pattern(10)});
  CHECK(peer.expect(RST | ACK).ack == 112);
}

TEST_CASE("An ACK to a closed port gets RST with seq=SEG.ACK (RFC 9293 §3.10.7.1)", "[tcp]") {
  TcpScript peer;
  peer.send({.flags = ACK, .seq = 100, .ack = 5000, .payload = pattern(3)});
  const Segment rst = peer.expect(RST);
  CHECK(rst.seq == 5000);
  CHECK(rst.ack == 0);
}

TEST_CASE("A RST to a closed port is dropped silently (RFC 9293 §3.10.7.1)", "[tcp]") {
  TcpScript peer;
  peer.send({.flags = RST, .seq = 100});
  peer.send({.flags = RST | ACK, .seq = 100, .ack = 5});
  peer.expect_nothing();
  CHECK(peer.stats().tcpOutRsts == 0);
}

TEST_CASE("A listener resets an ACK and ignores a RST (RFC 9293 §3.10.7.2)", "[tcp]") {
  TcpScript peer;
  peer.listen(80);
  peer.send({.flags = ACK, .seq = 100, .ack = 7777});
  CHECK(peer.expect(RST).seq == 7777);
  peer.send({.flags = RST, .seq = 100});
  peer.expect_nothing();
  CHECK(peer.connection() == nullptr);
}

TEST_CASE("A RST in SYN-RECEIVED of a passive open returns to LISTEN (RFC 9293 §3.10.7.4)",
          "[tcp]") {
  TcpScript peer;
  const int listener = peer.listen(80);
  peer.send({.flags = SYN, .seq = 100});
  peer.expect(SYN | ACK);
  peer.send({.flags = RST, .seq = 101});
  peer.expect_nothing();
  CHECK(peer.connection() == nullptr);
  CHECK(peer.stats().tcpConnections == 0);
  CHECK(peer.api().accept(listener, nullptr, nullptr) == -EAGAIN);
  peer.send({.flags = SYN, .seq = 500});
  CHECK(peer.expect(SYN | ACK).ack == 501);
}

// --- SYN-SENT (RFC 9293 §3.10.7.3) ---------------------------------------------------------

TEST_CASE(
    "In SYN-SENT a RST with a wrong ACK is ignored and one with the right ACK refuses (RFC 9293 "
    "§3.10.7.3)",
    "[tcp]") {
  TcpScript peer;
  const int fd = peer.connect(5000);
  const Segment syn = peer.expect(SYN);

  peer.send({.flags = RST | ACK, .seq = 0, .ack = syn.seq + 5});
  peer.send({.flags = RST | ACK, .seq = 0, .ack = syn.seq});
  peer.send({.flags = RST, .seq = 0});  // no ACK: cannot be tied to our SYN
  peer.expect_nothing();
  CHECK(peer.state() == State::syn_sent);
  CHECK(peer.api().connect_status(fd) == -EAGAIN);

  peer.send({.flags = RST | ACK, .seq = 0, .ack = syn.seq + 1});
  peer.expect_nothing();
  CHECK(peer.state() == State::closed);
  CHECK(peer.api().connect_status(fd) == -ECONNREFUSED);
}

TEST_CASE("In SYN-SENT an ACK of something else gets RST seq=SEG.ACK (RFC 9293 §3.10.7.3)",
          "[tcp]") {
  TcpScript peer;
  const int fd = peer.connect(5000);
  const Segment syn = peer.expect(SYN);
  peer.send({.flags = SYN | ACK, .seq = 300, .ack = syn.seq + 100});
  const Segment rst = peer.expect(RST);
  CHECK(rst.seq == syn.seq + 100);
  CHECK(peer.state() == State::syn_sent);
  CHECK(peer.api().connect_status(fd) == -EAGAIN);
}

// --- Synchronized states: RFC 5961's blind-attack rules -----------------------------------------

TEST_CASE("A RST exactly at RCV.NXT resets the connection with ECONNRESET (RFC 5961 §3.2)",
          "[tcp]") {
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 100});
  peer.send({.flags = RST, .seq = 101});
  peer.expect_nothing();
  CHECK(peer.state() == State::closed);
  Bytes got;
  CHECK(peer.read(o.fd, got) == -ECONNRESET);
  CHECK(peer.write(o.fd, pattern(1)) == -EPIPE);
  CHECK(peer.stats().tcpEstabResets == 1);
}

TEST_CASE("An in-window RST not at RCV.NXT gets a challenge ACK (RFC 5961 §3.2)", "[tcp]") {
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 100});
  peer.send({.flags = RST, .seq = 101 + 1000});
  const Segment challenge = peer.expect(ACK);
  CHECK(challenge.seq == o.iss + 1);
  CHECK(challenge.ack == 101);
  CHECK(peer.state() == State::established);
  CHECK(peer.stats().tcpChallengeAcks == 1);

  // A real peer answers the challenge with a RST at the ACK's number, which resets.
  peer.send({.flags = RST, .seq = challenge.ack});
  CHECK(peer.state() == State::closed);
}

TEST_CASE("An out-of-window RST is dropped silently (RFC 5961 §3.2)", "[tcp]") {
  TcpScript peer;
  peer.open_passive({.seq = 100});
  peer.send({.flags = RST, .seq = 101 + 200'000});  // the window is 65535
  peer.send({.flags = RST, .seq = 50});
  peer.send({.flags = RST | ACK, .seq = 100});
  peer.expect_nothing();
  CHECK(peer.state() == State::established);
  CHECK(peer.stats().tcpChallengeAcks == 0);
}

TEST_CASE("A SYN in ESTABLISHED gets a challenge ACK whatever its sequence number (RFC 5961 §4.2)",
          "[tcp]") {
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 100});
  for (std::uint32_t seq : {101U, 101U + 1000, 50U, 101U + 200'000}) {
    INFO("SYN seq=" << seq);
    peer.send({.flags = SYN, .seq = seq});
    const Segment challenge = peer.expect(ACK);
    CHECK(challenge.seq == o.iss + 1);
    CHECK(challenge.ack == 101);
  }
  CHECK(peer.state() == State::established);
  CHECK(peer.stats().tcpChallengeAcks == 4);
}

TEST_CASE("Challenge ACKs are limited to 10 a second per connection (RFC 5961 §7)", "[tcp]") {
  TcpScript peer;
  peer.listen(80);
  peer.send({.flags = SYN, .seq = 100});
  const Segment synack = peer.expect(SYN | ACK);
  peer.send({.flags = ACK, .seq = 101, .ack = synack.seq + 1});

  for (int i = 0; i < 15; ++i) peer.send({.flags = RST, .seq = 101 + 1000});
  CHECK(peer.take().size() == 10);
  CHECK(peer.stats().tcpChallengeAcks == 10);
  CHECK(peer.stats().tcpChallengeAcksLimited == 5);
  CHECK(peer.state() == State::established);

  // Another connection has its own allowance.
  peer.peer_port = 40001;
  peer.send({.flags = SYN, .seq = 100});
  const Segment other = peer.expect(SYN | ACK);
  peer.send({.flags = ACK, .seq = 101, .ack = other.seq + 1});
  peer.send({.flags = RST, .seq = 101 + 1000});
  peer.expect(ACK);

  // A second later the first connection may answer again.
  peer.peer_port = 40000;
  peer.advance(Duration{1'000'000});
  peer.send({.flags = RST, .seq = 101 + 1000});
  peer.expect(ACK);
  CHECK(peer.stats().tcpChallengeAcks == 12);
}

TEST_CASE("An ACK of data not yet sent is answered with an ACK and dropped (RFC 9293 §3.10.7.4)",
          "[tcp]") {
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 100});
  peer.send({.flags = ACK | PSH, .seq = 101, .ack = o.iss + 1 + 1000, .payload = pattern(8)});
  const Segment ack = peer.expect(ACK);
  CHECK(ack.seq == o.iss + 1);
  CHECK(ack.ack == 101);  // the data was not taken
  CHECK(peer.stats().tcpAckUnsent == 1);
  Bytes got;
  CHECK(peer.read(o.fd, got) == -EAGAIN);
  CHECK(peer.connection()->snd_una().value() == o.iss + 1);
}

TEST_CASE("An ACK older than SND.UNA - MAX.SND.WND gets a challenge ACK (RFC 5961 §5.2)", "[tcp]") {
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 100, .window = 1000});
  peer.send({.flags = ACK | PSH, .seq = 101, .ack = o.iss + 1 - 2000, .payload = pattern(8)});
  const Segment challenge = peer.expect(ACK);
  CHECK(challenge.ack == 101);
  CHECK(peer.stats().tcpAckTooOld == 1);
  CHECK(peer.stats().tcpChallengeAcks == 1);
  Bytes got;
  CHECK(peer.read(o.fd, got) == -EAGAIN);

  // An old ACK within MAX.SND.WND is only a duplicate: the data is taken.
  peer.send({.flags = ACK | PSH, .seq = 101, .ack = o.iss + 1 - 500, .payload = pattern(8)});
  CHECK(peer.read(o.fd, got) == 8);
  CHECK(peer.stats().tcpAckTooOld == 1);
}

// --- Listen queues (Linux's accept backlog) ---------------------------------------------------

TEST_CASE("With listen backlog 1 the accept queue holds two and further SYNs are dropped silently",
          "[tcp]") {
  TcpScript peer;
  const int listener = peer.listen(80, 1);
  for (const std::uint16_t port : {std::uint16_t{40001}, std::uint16_t{40002}}) {
    peer.peer_port = port;
    peer.send({.flags = SYN, .seq = 100});
    const Segment synack = peer.expect(SYN | ACK);
    peer.send({.flags = ACK, .seq = 101, .ack = synack.seq + 1});
    CHECK(peer.state() == State::established);
  }

  peer.peer_port = 40003;
  peer.send({.flags = SYN, .seq = 100});
  peer.expect_nothing();  // no RST: the client retries
  CHECK(peer.connection() == nullptr);
  CHECK(peer.stats().tcpListenOverflows == 1);

  CHECK(peer.api().accept(listener, nullptr, nullptr) >= 0);
  peer.send({.flags = SYN, .seq = 100});  // the client's retransmission
  const Segment synack = peer.expect(SYN | ACK);
  CHECK(synack.ack == 101);
  peer.send({.flags = ACK, .seq = 101, .ack = synack.seq + 1});
  CHECK(peer.state() == State::established);
  CHECK(peer.api().accept(listener, nullptr, nullptr) >= 0);
  CHECK(peer.api().accept(listener, nullptr, nullptr) >= 0);
  CHECK(peer.api().accept(listener, nullptr, nullptr) == -EAGAIN);
}

TEST_CASE("A handshake's last ACK into a full accept queue is dropped and the SYN-ACK repeated",
          "[tcp]") {
  TcpScript peer;
  const int listener = peer.listen(80, 1);
  std::vector<std::uint32_t> iss;
  for (std::uint16_t port = 40001; port <= 40003; ++port) {
    peer.peer_port = port;  // three SYNs before any ACK: all in the SYN queue
    peer.send({.flags = SYN, .seq = 100});
    iss.push_back(peer.expect(SYN | ACK).seq);
  }
  for (std::uint16_t port = 40001; port <= 40003; ++port) {
    peer.peer_port = port;
    peer.send({.flags = ACK, .seq = 101, .ack = iss[port - 40001] + 1});
  }
  peer.expect_nothing();
  CHECK(peer.state() == State::syn_received);  // 40003: the accept queue held two already
  CHECK(peer.stats().tcpListenOverflows == 1);

  CHECK(peer.api().accept(listener, nullptr, nullptr) >= 0);
  peer.advance(Duration{1'000'000});  // the SYN-ACK's retransmission timer
  const Segment again = peer.expect(SYN | ACK);
  CHECK(again.seq == iss[2]);
  CHECK(again.dst_port == 40003);
  peer.send({.flags = ACK, .seq = 101, .ack = iss[2] + 1});
  CHECK(peer.state() == State::established);
}

TEST_CASE("Closing a listener resets the connections in its queues", "[tcp]") {
  TcpScript peer;
  const int listener = peer.listen(80);
  peer.peer_port = 40001;  // established, waiting in the accept queue
  peer.send({.flags = SYN, .seq = 100});
  const Segment first = peer.expect(SYN | ACK);
  peer.send({.flags = ACK, .seq = 101, .ack = first.seq + 1});
  peer.peer_port = 40002;  // half-open, in the SYN queue
  peer.send({.flags = SYN, .seq = 500});
  const Segment second = peer.expect(SYN | ACK);
  CHECK(peer.stats().tcpConnections == 2);

  CHECK(peer.api().close(listener) == 0);
  auto sent = peer.take();
  REQUIRE(sent.size() == 2);
  std::sort(sent.begin(), sent.end(),
            [](const Segment& a, const Segment& b) { return a.dst_port < b.dst_port; });
  CHECK(flags_text(sent[0].flags) == "RST|ACK");
  CHECK(sent[0].dst_port == 40001);
  CHECK(sent[0].seq == first.seq + 1);
  CHECK(sent[0].ack == 101);
  CHECK(flags_text(sent[1].flags) == "RST|ACK");
  CHECK(sent[1].dst_port == 40002);
  CHECK(sent[1].seq == second.seq + 1);
  CHECK(sent[1].ack == 501);
  CHECK(peer.stats().tcpConnections == 0);

  // The port is closed now.
  peer.peer_port = 40003;
  peer.send({.flags = SYN, .seq = 100});
  peer.expect(RST | ACK);
}

// --- Addresses (RFC 1122 §4.2.3.10) ---------------------------------------------------------

TEST_CASE("Segments to a broadcast address are dropped (RFC 1122 §4.2.3.10)", "[tcp]") {
  TcpScript peer;
  peer.listen(80);
  const std::string bcast_mac = "ff:ff:ff:ff:ff:ff";
  peer.send({.flags = SYN, .seq = 100, .dst = "10.0.0.255", .dst_mac = bcast_mac});
  peer.send({.flags = SYN, .seq = 100, .dst = "255.255.255.255", .dst_mac = bcast_mac});
  peer.send({.flags = SYN, .seq = 100, .dst_port = 81, .dst = "10.0.0.255", .dst_mac = bcast_mac});
  // Our own address in a link-layer broadcast frame is not for a connection either.
  peer.send({.flags = SYN, .seq = 100, .dst_mac = bcast_mac});
  peer.expect_nothing();
  CHECK(peer.stats().tcpInBadAddr == 4);
  CHECK(peer.stats().tcpConnections == 0);
  CHECK(peer.stats().tcpOutRsts == 0);
}
