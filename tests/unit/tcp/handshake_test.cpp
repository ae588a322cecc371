// Packet traces of TCP's opening: the three ways to ESTABLISHED, the options, sequence wrap.
#include <catch2/catch.hpp>

#include <cerrno>

#include "stack/tcp/tcp.hpp"
#include "support/tcp_script.hpp"

using namespace tapir;
using namespace tapir::test;
using namespace tapir::test::script;
using tapir::tcp::State;

// --- The state diagram (RFC 9293 §3.3.2 Figure 5, §3.5) ----------------------------------------

TEST_CASE("Passive open goes LISTEN to SYN-RECEIVED to ESTABLISHED (RFC 9293 §3.5)", "[tcp]") {
  TcpScript peer;
  const int listener = peer.listen(80);
  CHECK(peer.connection() == nullptr);  // LISTEN lives in the listener, not in a connection

  peer.send({.flags = SYN, .seq = 100, .mss = 1460});
  const Segment synack = peer.expect(SYN | ACK);
  CHECK(synack.ack == 101);
  CHECK(synack.src_port == 80);
  CHECK(synack.dst_port == 40000);
  CHECK(peer.state() == State::syn_received);
  CHECK(peer.api().accept(listener, nullptr, nullptr) == -EAGAIN);

  peer.send({.flags = ACK, .seq = 101, .ack = synack.seq + 1});
  peer.expect_nothing();
  CHECK(peer.state() == State::established);
  const int fd = peer.api().accept(listener, nullptr, nullptr);
  REQUIRE(fd >= 0);

  // The connection carries data both ways.
  peer.send({.flags = ACK | PSH, .seq = 101, .ack = synack.seq + 1, .payload = pattern(5)});
  CHECK(peer.write(fd, pattern(3, 7)) == 3);
  const Segment data = peer.expect(ACK | PSH);
  CHECK(data.seq == synack.seq + 1);
  CHECK(data.ack == 106);
  CHECK(data.payload == pattern(3, 7));
  Bytes got;
  CHECK(peer.read(fd, got) == 5);
  CHECK(got == pattern(5));
  CHECK(peer.stats().tcpPassiveOpens == 1);
  CHECK(peer.stats().tcpCurrEstab == 1);
}

TEST_CASE("Active open goes SYN-SENT to ESTABLISHED (RFC 9293 §3.5)", "[tcp]") {
  TcpScript peer;
  const int fd = peer.connect(5000);
  const Segment syn = peer.expect(SYN);
  CHECK(syn.ack == 0);
  CHECK(syn.dst_port == 5000);
  CHECK(syn.src_port == peer.host_port);
  CHECK(peer.state() == State::syn_sent);
  CHECK(peer.api().connect_status(fd) == -EAGAIN);

  peer.send({.flags = SYN | ACK, .seq = 300, .ack = syn.seq + 1, .mss = 1460});
  const Segment ack = peer.expect(ACK);
  CHECK(ack.seq == syn.seq + 1);
  CHECK(ack.ack == 301);
  CHECK(peer.state() == State::established);
  CHECK(peer.api().connect_status(fd) == 0);
  CHECK(peer.stats().tcpActiveOpens == 1);
}

TEST_CASE("Simultaneous open goes SYN-SENT to SYN-RECEIVED to ESTABLISHED (RFC 9293 §3.5 Figure 7)",
          "[tcp]") {
  TcpScript peer;
  const int fd = peer.connect(5000);
  const Segment syn = peer.expect(SYN);

  // The peer's own SYN crosses ours.
  peer.send({.flags = SYN, .seq = 300, .window = 1000, .mss = 1460, .wscale = 2});
  const Segment synack = peer.expect(SYN | ACK);
  CHECK(synack.seq == syn.seq);
  CHECK(synack.ack == 301);
  CHECK(synack.mss == 1460);
  CHECK(synack.wscale == 7);
  CHECK(peer.state() == State::syn_received);
  CHECK(peer.api().connect_status(fd) == -EAGAIN);

  // Figure 7 line 6: the peer's SYN,ACK acknowledges our SYN; no further segment is needed.
  peer.send({.flags = SYN | ACK,
             .seq = 300,
             .ack = syn.seq + 1,
             .window = 1000,
             .mss = 1460,
             .wscale = 2});
  peer.expect_nothing();
  CHECK(peer.state() == State::established);
  CHECK(peer.api().connect_status(fd) == 0);
  CHECK(peer.connection()->send_window() == 1000);  // a SYN's window is unscaled (RFC 7323)

  peer.send({.flags = ACK | PSH, .seq = 301, .ack = syn.seq + 1, .payload = pattern(4)});
  Bytes got;
  CHECK(peer.read(fd, got) == 4);
}

TEST_CASE("Simultaneous open also completes on a plain ACK (RFC 9293 §3.10.7.4 SYN-RECEIVED)",
          "[tcp]") {
  TcpScript peer;
  const int fd = peer.connect(5000);
  const Segment syn = peer.expect(SYN);
  peer.send({.flags = SYN, .seq = 300});
  peer.expect(SYN | ACK);
  peer.send({.flags = ACK, .seq = 301, .ack = syn.seq + 1});
  peer.expect_nothing();
  CHECK(peer.state() == State::established);
  CHECK(peer.api().connect_status(fd) == 0);
}

TEST_CASE("SYN-RECEIVED repeats its SYN-ACK for a repeated SYN (RFC 9293 §3.8.1)", "[tcp]") {
  TcpScript peer;
  peer.listen(80);
  peer.send({.flags = SYN, .seq = 100});
  const Segment first = peer.expect(SYN | ACK);
  peer.send({.flags = SYN, .seq = 100});
  const Segment again = peer.expect(SYN | ACK);
  CHECK(again.seq == first.seq);
  CHECK(again.ack == 101);
  CHECK(peer.state() == State::syn_received);
  CHECK(peer.stats().tcpPassiveOpens == 1);
}

TEST_CASE("SYN-RECEIVED resets an ACK of the wrong number (RFC 9293 §3.10.7.4 fifth)", "[tcp]") {
  TcpScript peer;
  peer.listen(80);
  peer.send({.flags = SYN, .seq = 100});
  const Segment synack = peer.expect(SYN | ACK);

  // (The RFC's reset is <SEQ=SEG.ACK><CTL=RST>; tapir's also carries ACK=RCV.NXT, which the
  // peer ignores: only the flag and the sequence number are checked.)
  std::uint32_t ack = 0;
  SECTION("an ACK of less than our SYN") {
    ack = synack.seq;
  }
  SECTION("an ACK of more than we sent") {
    ack = synack.seq + 1000;
  }
  peer.send({.flags = ACK, .seq = 101, .ack = ack});
  const auto sent = peer.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].has(RST));
  CHECK(sent[0].seq == ack);
  CHECK(peer.state() == State::syn_received);
}

// --- Options: MSS (RFC 9293 §3.7.1), window scale and timestamps (RFC 7323), SACK (RFC 2018) --

TEST_CASE("The MSS advertised is the interface MTU less 40 (RFC 9293 §3.7.1)", "[tcp]") {
  TcpScript peer;
  SECTION("in our SYN") {
    peer.connect(5000);
    CHECK(peer.expect(SYN).mss == 1460);
  }
  SECTION("in our SYN-ACK") {
    peer.listen(80);
    peer.send({.flags = SYN, .seq = 100, .mss = 9000});
    CHECK(peer.expect(SYN | ACK).mss == 1460);
  }
}

TEST_CASE("The peer's MSS caps the segments we send (RFC 9293 §3.7.1)", "[tcp]") {
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 100, .mss = 1000});
  CHECK(peer.connection()->mss() == 1000);
  CHECK(peer.write(o.fd, pattern(3000)) == 3000);
  const auto sent = peer.take();
  REQUIRE(sent.size() == 3);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    CHECK(sent[i].seq == o.iss + 1 + 1000 * i);
    CHECK(sent[i].payload.size() == 1000);
  }
}

TEST_CASE("A peer that sends no MSS option gets 536-byte segments (RFC 9293 §3.7.1)", "[tcp]") {
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 100});
  CHECK(peer.connection()->mss() == 536);
  CHECK(peer.write(o.fd, pattern(1500)) == 1500);
  const auto sent = peer.take();
  REQUIRE(sent.size() == 2);  // the 428-byte rest waits for an ACK (Nagle, RFC 896)
  CHECK(sent[0].payload.size() == 536);
  CHECK(sent[1].payload.size() == 536);
  peer.send({.flags = ACK, .seq = 101, .ack = o.iss + 1 + 1072});
  const Segment rest = peer.expect(ACK | PSH);
  CHECK(rest.seq == o.iss + 1 + 1072);
  CHECK(rest.payload.size() == 428);
}

TEST_CASE("Window scale is offered and used when the peer offers it too (RFC 7323 §2.2)", "[tcp]") {
  TcpScript peer;
  const int fd = peer.connect(5000);
  const Segment syn = peer.expect(SYN);
  // 7: the shift that lets a 4 MiB buffer be announced. The SYN's own window is unscaled.
  CHECK(syn.wscale == 7);
  CHECK(syn.window == 65535);
  peer.send({.flags = SYN | ACK, .seq = 300, .ack = syn.seq + 1, .window = 1000, .wscale = 2});
  const Segment ack = peer.expect(ACK);
  CHECK(peer.api().connect_status(fd) == 0);
  tcp::Connection* c = peer.connection();
  REQUIRE(c != nullptr);
  CHECK(c->window_scaling());
  CHECK(c->send_scale() == 2);
  CHECK(c->receive_scale() == 7);
  CHECK(c->send_window() == 1000);   // RFC 7323 §2.2: a SYN's window is never scaled
  CHECK(ack.window == 212992 >> 7);  // SO_RCVBUF's default, in units of 2^7

  peer.send({.flags = ACK, .seq = 301, .ack = syn.seq + 1, .window = 1000});
  CHECK(c->send_window() == 4000);
}

TEST_CASE("Window scale is not used when the peer does not offer it (RFC 7323 §2.2)", "[tcp]") {
  TcpScript peer;
  SECTION("active open: our offer is withdrawn") {
    peer.connect(5000);
    const Segment syn = peer.expect(SYN);
    CHECK(syn.wscale == 7);
    peer.send({.flags = SYN | ACK, .seq = 300, .ack = syn.seq + 1, .window = 1000});
    const Segment ack = peer.expect(ACK);
    CHECK_FALSE(peer.connection()->window_scaling());
    CHECK(peer.connection()->receive_scale() == 0);
    CHECK(ack.window == 65535);  // unscaled: as much of 212992 as 16 bits hold
    peer.send({.flags = ACK, .seq = 301, .ack = syn.seq + 1, .window = 1000});
    CHECK(peer.connection()->send_window() == 1000);
  }
  SECTION("passive open: the SYN-ACK offers none") {
    peer.listen(80);
    peer.send({.flags = SYN, .seq = 100, .window = 1000});
    const Segment synack = peer.expect(SYN | ACK);
    CHECK_FALSE(synack.wscale.has_value());
    peer.send({.flags = ACK, .seq = 101, .ack = synack.seq + 1, .window = 1000});
    CHECK(peer.connection()->send_window() == 1000);
  }
  SECTION("passive open with an offer: answered") {
    peer.listen(80);
    peer.send({.flags = SYN, .seq = 100, .window = 1000, .wscale = 3});
    const Segment synack = peer.expect(SYN | ACK);
    CHECK(synack.wscale == 7);
    peer.send({.flags = ACK, .seq = 101, .ack = synack.seq + 1, .window = 1000});
    CHECK(peer.connection()->send_window() == 8000);
  }
}

TEST_CASE(
    "Without window scaling a read announces no window that grew by less than an MSS (RFC 1122 "
    "§4.2.3.3)",
    "[tcp]") {
  // SO_RCVBUF (212992) is more than an unscaled window can say: the window offered stays at
  // 65535 however much room a read makes, so a read has nothing worth announcing.
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 100});
  peer.send({.flags = ACK | PSH, .seq = 101, .ack = o.iss + 1, .payload = pattern(5)});
  Bytes got;
  CHECK(peer.read(o.fd, got) == 5);
  peer.expect_nothing();
  peer.advance(Duration{40'000});  // the delayed ACK
  const Segment ack = peer.expect(ACK);
  CHECK(ack.ack == 106);
  CHECK(ack.window == 65535);
}

TEST_CASE("Timestamps echo the peer's latest TSval in TSecr (RFC 7323 §4.3)", "[tcp]") {
  TcpScript peer;
  peer.listen(80);
  peer.send({.flags = SYN, .seq = 100, .mss = 1460, .tsval = 5000});
  const Segment synack = peer.expect(SYN | ACK);
  REQUIRE(synack.tsval.has_value());
  CHECK(synack.tsecr == 5000);
  peer.send(
      {.flags = ACK, .seq = 101, .ack = synack.seq + 1, .tsval = 5001, .tsecr = *synack.tsval});
  CHECK(peer.connection()->timestamps());
  CHECK(peer.connection()->mss() == 1448);  // RFC 6691: the 12 option bytes come out of it

  peer.send({.flags = ACK | PSH,
             .seq = 101,
             .ack = synack.seq + 1,
             .payload = pattern(10),
             .tsval = 5007,
             .tsecr = *synack.tsval});
  peer.advance(Duration{40'000});  // the delayed ACK
  const Segment ack = peer.expect(ACK);
  CHECK(ack.ack == 111);
  CHECK(ack.tsecr == 5007);
  CHECK(ack.tsval >= *synack.tsval);
}

TEST_CASE("PAWS drops a segment with an older TSval and ACKs it (RFC 7323 §5.3)", "[tcp]") {
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 100, .mss = 1460, .tsval = 5000});
  peer.send(
      {.flags = ACK | PSH, .seq = 101, .ack = o.iss + 1, .payload = pattern(10), .tsval = 4000});
  const Segment ack = peer.expect(ACK);
  CHECK(ack.ack == 101);
  CHECK(ack.tsecr == 5001);  // TS.Recent is unchanged
  CHECK(peer.stats().tcpPawsDrops == 1);
  Bytes got;
  CHECK(peer.read(o.fd, got) == -EAGAIN);

  // The same data with a current TSval is taken.
  peer.send(
      {.flags = ACK | PSH, .seq = 101, .ack = o.iss + 1, .payload = pattern(10), .tsval = 5002});
  CHECK(peer.read(o.fd, got) == 10);
}

TEST_CASE("Timestamps are not used when the peer's SYN has none (RFC 7323 §3.2)", "[tcp]") {
  TcpScript peer;
  peer.listen(80);
  peer.send({.flags = SYN, .seq = 100, .mss = 1460});
  const Segment synack = peer.expect(SYN | ACK);
  CHECK_FALSE(synack.tsval.has_value());
  peer.send({.flags = ACK, .seq = 101, .ack = synack.seq + 1});
  CHECK_FALSE(peer.connection()->timestamps());
  CHECK(peer.connection()->mss() == 1460);
}

TEST_CASE("SACK-permitted is answered only when the peer offers it (RFC 2018 §2)", "[tcp]") {
  TcpScript peer;
  peer.listen(80);
  SECTION("offered") {
    peer.send({.flags = SYN, .seq = 100, .sack_permitted = true});
    CHECK(peer.expect(SYN | ACK).sack_permitted);
    CHECK(peer.connection()->sack_permitted());
  }
  SECTION("not offered") {
    peer.send({.flags = SYN, .seq = 100});
    CHECK_FALSE(peer.expect(SYN | ACK).sack_permitted);
    CHECK_FALSE(peer.connection()->sack_permitted());
  }
  SECTION("our own SYN offers it") {
    peer.connect(5000);
    CHECK(peer.expect(SYN).sack_permitted);
  }
}

// --- Sequence numbers across 2^32 (RFC 9293 §3.4) --------------------------------------------

TEST_CASE("Data from a peer whose ISN is near 2^32 crosses the wrap in order (RFC 9293 §3.4)",
          "[tcp]") {
  TcpScript peer;
  const auto o = peer.open_passive({.seq = 0xFFFFFF00, .mss = 1460, .sack_permitted = true});
  const Bytes data = pattern(500);
  const Bytes first(data.begin(), data.begin() + 300);  // 0xFFFFFF01 .. 0x0000002C
  const Bytes second(data.begin() + 300, data.end());   // 0x0000002D .. 0x000000F4

  // The second part first: kept out of order across the wrap, SACKed at once.
  peer.send({.flags = ACK, .seq = 0x2D, .ack = o.iss + 1, .payload = second});
  const Segment dup = peer.expect(ACK);
  CHECK(dup.ack == 0xFFFFFF01);
  CHECK(dup.sack == std::vector<std::uint32_t>{0x2D, 0xF5});

  peer.send({.flags = ACK, .seq = 0xFFFFFF01, .ack = o.iss + 1, .payload = first});
  const Segment ack = peer.expect(ACK);
  CHECK(ack.ack == 0xF5);
  CHECK(ack.sack.empty());

  peer.send({.flags = FIN | ACK, .seq = 0xF5, .ack = o.iss + 1});
  CHECK(peer.expect(ACK).ack == 0xF6);
  Bytes got;
  CHECK(peer.read(o.fd, got) == 500);
  CHECK(got == data);
  CHECK(peer.read(o.fd, got) == 0);
}

TEST_CASE("Our own ISN near 2^32: data and FIN wrap (RFC 9293 §3.4)", "[tcp]") {
  StackConfig config;
  config.tcp.isn_for_tests = 0xFFFFFFF0;
  TcpScript peer(config);
  const auto o = peer.open_passive({.seq = 100, .mss = 1460});
  CHECK(o.iss == 0xFFFFFFF0);
  CHECK(peer.write(o.fd, pattern(100)) == 100);
  const Segment data = peer.expect(ACK | PSH);
  CHECK(data.seq == 0xFFFFFFF1);
  CHECK(data.payload == pattern(100));

  // An ACK past the wrap acknowledges everything.
  peer.send({.flags = ACK, .seq = 101, .ack = 0x55});
  CHECK(peer.connection()->snd_una().value() == 0x55);
  CHECK(peer.write(o.fd, pattern(20)) == 20);
  CHECK(peer.expect(ACK | PSH).seq == 0x55);
  CHECK(peer.api().shutdown(o.fd, SHUT_WR) == 0);
  const Segment fin = peer.expect(FIN | ACK);
  CHECK(fin.seq == 0x69);
  peer.send({.flags = ACK, .seq = 101, .ack = 0x6A});
  CHECK(peer.state() == State::fin_wait_2);
}
