// Packet traces of SYN cookies (RFC 4987 §3.6): the stateless SYN-ACK under a full SYN queue,
// the ACK that opens the connection, and the ACKs that are refused.
#include <catch2/catch.hpp>

#include <cerrno>

#include "stack/tcp/tcp.hpp"
#include "support/tcp_script.hpp"

using namespace tapir;
using namespace tapir::test;
using namespace tapir::test::script;
using tapir::tcp::State;

namespace {

// A stack whose listeners hold two half-open connections, so that a test fills the SYN queue
// with two SYNs; SYN-ACKs are repeated long enough for those two to stay (about 20 minutes).
StackConfig small_syn_queue() {
  StackConfig config;
  config.tcp.max_syn_backlog = 2;
  config.tcp.synack_retries = 25;
  return config;
}

// Listens on port 80 and fills its SYN queue from ports 41001 and 41002 (never answered).
int listen_with_full_syn_queue(TcpScript& peer, int backlog = 16) {
  const int listener = peer.listen(80, backlog);
  for (const std::uint16_t port : {std::uint16_t{41001}, std::uint16_t{41002}}) {
    peer.send({.flags = SYN, .seq = 7000, .src_port = port});
    peer.expect(SYN | ACK);
  }
  REQUIRE(peer.stack().tcp().connection_count() == 2);
  return listener;
}

}  // namespace

TEST_CASE(
    "With the SYN queue full a SYN is answered with a cookie and nothing is kept (RFC 4987 "
    "§3.6)",
    "[tcp][syn_cookie]") {
  TcpScript peer(small_syn_queue());
  const int listener = listen_with_full_syn_queue(peer);
  peer.send(
      {.flags = SYN, .seq = 100, .mss = 1460, .wscale = 2, .sack_permitted = true, .tsval = 5000});
  const Segment synack = peer.expect(SYN | ACK);
  CHECK(synack.ack == 101);
  CHECK(synack.mss == 1460);
  CHECK(synack.wscale == 7);
  CHECK(synack.sack_permitted);
  REQUIRE(synack.tsval.has_value());
  CHECK(synack.tsecr == 5000);
  CHECK((*synack.tsval & 0x1f) == (0x10 | 2));  // SACK-permitted and the peer's shift, 2
  CHECK(synack.window == 65535);
  CHECK(peer.stack().tcp().connection_count() == 2);
  CHECK(peer.connection() == nullptr);
  CHECK(peer.stats().tcpSyncookiesSent == 1);
  CHECK(peer.stats().tcpListenDrops == 0);
  CHECK(peer.api().accept(listener, nullptr, nullptr) == -EAGAIN);

  // A repeated SYN gets the same cookie (within one 64 s tick): still no state.
  peer.advance(Duration{1'000'000});
  peer.take();  // the SYN queue's SYN-ACKs, repeated
  peer.send(
      {.flags = SYN, .seq = 100, .mss = 1460, .wscale = 2, .sack_permitted = true, .tsval = 6000});
  CHECK(peer.expect(SYN | ACK).seq == synack.seq);
  CHECK(peer.stack().tcp().connection_count() == 2);
  CHECK(peer.stats().tcpSyncookiesSent == 2);
}

TEST_CASE("A cookie's ACK opens an ESTABLISHED connection with the SYN's options (RFC 4987 §3.6)",
          "[tcp][syn_cookie]") {
  TcpScript peer(small_syn_queue());
  const int listener = listen_with_full_syn_queue(peer);
  peer.send(
      {.flags = SYN, .seq = 100, .mss = 1460, .wscale = 2, .sack_permitted = true, .tsval = 5000});
  const Segment synack = peer.expect(SYN | ACK);
  peer.advance(Duration{3'000});  // the round trip

  peer.send({.flags = ACK,
             .seq = 101,
             .ack = synack.seq + 1,
             .window = 1000,
             .tsval = 5003,
             .tsecr = *synack.tsval});
  peer.expect_nothing();
  CHECK(peer.state() == State::established);
  CHECK(peer.stack().tcp().connection_count() == 3);
  CHECK(peer.stats().tcpSyncookiesRecv == 1);
  CHECK(peer.stats().tcpSyncookiesFailed == 0);
  CHECK(peer.stats().tcpPassiveOpens == 3);
  CHECK(peer.stats().tcpCurrEstab == 1);
  const int fd = peer.api().accept(listener, nullptr, nullptr);
  REQUIRE(fd >= 0);

  tcp::Connection* c = peer.connection();
  REQUIRE(c != nullptr);
  CHECK(c->iss() == tcp::SeqNum{synack.seq});
  CHECK(c->mss() == 1460 - 12);  // RFC 6691: timestamps come out of it
  CHECK(c->window_scaling());
  CHECK(c->send_scale() == 2);
  CHECK(c->receive_scale() == 7);
  CHECK(c->sack_permitted());
  CHECK(c->timestamps());
  CHECK(c->send_window() == 4000);  // the ACK's window, scaled (RFC 7323 §2.2)
  // The echoed TSval gave an RTT sample: the 3 ms, plus up to 31 ms of the option bits.
  REQUIRE(c->rto().srtt().has_value());
  CHECK(*c->rto().srtt() >= Duration{3'000});
  CHECK(*c->rto().srtt() <= Duration{35'000});

  // Data both ways, with the timestamps agreed.
  peer.send({.flags = ACK | PSH,
             .seq = 101,
             .ack = synack.seq + 1,
             .payload = pattern(5),
             .window = 1000,
             .tsval = 5004,
             .tsecr = *synack.tsval});
  Bytes got;
  CHECK(peer.read(fd, got) == 5);
  CHECK(got == pattern(5));
  peer.take();  // a window update, if the read opened the window enough
  CHECK(peer.write(fd, pattern(3000, 9)) == 3000);
  auto sent = peer.take();
  REQUIRE(sent.size() == 2);  // 2 x 1448; the 104 left wait for an ACK (Nagle, RFC 896)
  CHECK(sent[0].seq == synack.seq + 1);
  CHECK(sent[0].ack == 106);
  CHECK(sent[0].payload.size() == 1448);
  CHECK(sent[1].payload.size() == 1448);
  CHECK(sent[0].tsecr == 5004);
  REQUIRE(sent[0].tsval.has_value());
  CHECK(*sent[0].tsval - *synack.tsval >= 3);  // the clock went on from the cookie's TSval
  CHECK(sent[0].window == 212992 >> 7);        // scaled by our shift, 7
  peer.send({.flags = ACK,
             .seq = 106,
             .ack = synack.seq + 1 + 2896,
             .window = 1000,
             .tsval = 5010,
             .tsecr = *sent[1].tsval});
  sent.push_back(peer.expect(ACK | PSH));
  CHECK(sent[2].payload.size() == 104);
  Bytes all;
  for (const auto& seg : sent) all.insert(all.end(), seg.payload.begin(), seg.payload.end());
  CHECK(all == pattern(3000, 9));
}

TEST_CASE("A cookie keeps the peer's MSS as one of four classes", "[tcp][syn_cookie]") {
  TcpScript peer(small_syn_queue());
  listen_with_full_syn_queue(peer);
  std::uint16_t announced = 0;
  std::uint16_t expected = 0;
  SECTION("1460, Ethernet") {
    announced = 1460;
    expected = 1460;
  }
  SECTION("1452, PPPoE: 1440") {
    announced = 1452;
    expected = 1440;
  }
  SECTION("1380, a tunnel: 1300") {
    announced = 1380;
    expected = 1300;
  }
  SECTION("1000: 536") {
    announced = 1000;
    expected = 536;
  }
  SECTION("none: 536 (RFC 9293 §3.7.1)") {
    expected = 536;
  }
  Send syn{.flags = SYN, .seq = 100};
  if (announced != 0) syn.mss = announced;
  peer.send(syn);
  const Segment synack = peer.expect(SYN | ACK);
  peer.send({.flags = ACK, .seq = 101, .ack = synack.seq + 1});
  peer.expect_nothing();
  REQUIRE(peer.connection() != nullptr);
  CHECK(peer.connection()->mss() == expected);
  CHECK(peer.stats().tcpSyncookiesRecv == 1);
}

TEST_CASE("Without timestamps a cookie SYN-ACK offers neither window scaling nor SACK",
          "[tcp][syn_cookie]") {
  TcpScript peer(small_syn_queue());
  const int listener = listen_with_full_syn_queue(peer);
  peer.send(
      {.flags = SYN, .seq = 100, .window = 1000, .mss = 1460, .wscale = 2, .sack_permitted = true});
  const Segment synack = peer.expect(SYN | ACK);
  CHECK(synack.mss == 1460);
  CHECK_FALSE(synack.wscale.has_value());
  CHECK_FALSE(synack.sack_permitted);
  CHECK_FALSE(synack.tsval.has_value());

  peer.send({.flags = ACK, .seq = 101, .ack = synack.seq + 1, .window = 1000});
  peer.expect_nothing();
  const int fd = peer.api().accept(listener, nullptr, nullptr);
  REQUIRE(fd >= 0);
  tcp::Connection* c = peer.connection();
  REQUIRE(c != nullptr);
  CHECK(c->state() == State::established);
  CHECK(c->mss() == 1460);
  CHECK_FALSE(c->window_scaling());
  CHECK_FALSE(c->sack_permitted());
  CHECK_FALSE(c->timestamps());
  CHECK(c->send_window() == 1000);
  CHECK_FALSE(c->rto().srtt().has_value());  // nothing said when the SYN-ACK left
  CHECK(c->rto().rto() == Duration{1'000'000});

  CHECK(peer.write(fd, pattern(10)) == 10);
  const Segment data = peer.expect(ACK | PSH);
  CHECK(data.window == 65535);  // unscaled
  CHECK_FALSE(data.tsval.has_value());
  CHECK(data.payload == pattern(10));
}

TEST_CASE("A cookie's ACK that carries data opens the connection and delivers the data",
          "[tcp][syn_cookie]") {
  TcpScript peer(small_syn_queue());
  const int listener = listen_with_full_syn_queue(peer);
  peer.send({.flags = SYN, .seq = 100, .mss = 1460, .tsval = 5000});
  const Segment synack = peer.expect(SYN | ACK);
  // The bare ACK was lost; the first data segment carries the same acknowledgement, and a FIN.
  peer.send({.flags = ACK | PSH | FIN,
             .seq = 101,
             .ack = synack.seq + 1,
             .payload = pattern(20),
             .tsval = 5001,
             .tsecr = *synack.tsval});
  const Segment ack = peer.expect(ACK);
  CHECK(ack.ack == 122);
  const int fd = peer.api().accept(listener, nullptr, nullptr);
  REQUIRE(fd >= 0);
  CHECK(peer.state() == State::close_wait);
  Bytes got;
  CHECK(peer.read(fd, got) == 20);
  CHECK(got == pattern(20));
  CHECK(peer.read(fd, got) == 0);
}

TEST_CASE("A forged cookie is dropped and counted, never reset, and makes no state",
          "[tcp][syn_cookie]") {
  TcpScript peer(small_syn_queue());
  const int listener = listen_with_full_syn_queue(peer);
  peer.send({.flags = SYN, .seq = 100, .mss = 1460, .tsval = 5000});
  const Segment synack = peer.expect(SYN | ACK);
  const std::uint32_t tsecr = *synack.tsval;

  SECTION("a wrong acknowledgement number") {
    peer.send({.flags = ACK, .seq = 101, .ack = synack.seq + 2, .tsval = 5001, .tsecr = tsecr});
  }
  SECTION("another client port (the 4-tuple)") {
    peer.send({.flags = ACK,
               .seq = 101,
               .ack = synack.seq + 1,
               .tsval = 5001,
               .tsecr = tsecr,
               .src_port = 40001});
  }
  SECTION("another client ISN") {
    peer.send({.flags = ACK, .seq = 201, .ack = synack.seq + 1, .tsval = 5001, .tsecr = tsecr});
  }
  SECTION("a TSecr from the future") {
    peer.send(
        {.flags = ACK, .seq = 101, .ack = synack.seq + 1, .tsval = 5001, .tsecr = tsecr + 100'000});
  }
  SECTION("no timestamps, where the SYN had them (RFC 7323 §3.2)") {
    peer.send({.flags = ACK, .seq = 101, .ack = synack.seq + 1});
  }
  SECTION("a random ACK") {
    peer.send({.flags = ACK | PSH, .seq = 12345, .ack = 987654, .payload = pattern(4)});
  }
  peer.expect_nothing();
  CHECK(peer.stats().tcpSyncookiesFailed == 1);
  CHECK(peer.stats().tcpSyncookiesRecv == 0);
  CHECK(peer.stats().tcpOutRsts == 0);
  CHECK(peer.stack().tcp().connection_count() == 2);
  CHECK(peer.api().accept(listener, nullptr, nullptr) == -EAGAIN);
}

TEST_CASE("A cookie two 64 s ticks old is stale: dropped and counted", "[tcp][syn_cookie]") {
  TcpScript peer(small_syn_queue());
  listen_with_full_syn_queue(peer);
  peer.send({.flags = SYN, .seq = 100, .mss = 1460});
  const Segment synack = peer.expect(SYN | ACK);
  // Another flood SYN a little later keeps cookies in use at the listener.
  peer.advance(Duration{100'000'000});
  peer.take();
  peer.send({.flags = SYN, .seq = 900, .src_port = 40009});
  peer.expect(SYN | ACK);
  CHECK(peer.stats().tcpSyncookiesSent == 2);
  peer.advance(Duration{28'000'000});  // 129 s after the first cookie: two ticks on
  peer.take();
  peer.send({.flags = ACK, .seq = 101, .ack = synack.seq + 1});
  peer.expect_nothing();
  CHECK(peer.stats().tcpSyncookiesFailed == 1);
  CHECK(peer.connection() == nullptr);
}

TEST_CASE(
    "Once no cookie can come back, an ACK at a listener is reset again (RFC 9293 "
    "§3.10.7.2)",
    "[tcp][syn_cookie]") {
  TcpScript peer(small_syn_queue());
  listen_with_full_syn_queue(peer);
  peer.send({.flags = SYN, .seq = 100});
  peer.expect(SYN | ACK);
  peer.advance(Duration{128'000'000});
  peer.take();
  peer.send({.flags = ACK, .seq = 101, .ack = 5555});
  const Segment rst = peer.expect(RST);
  CHECK(rst.seq == 5555);
  CHECK(peer.stats().tcpSyncookiesFailed == 0);
}

TEST_CASE("A cookie's ACK into a full accept queue is dropped; a later one opens the connection",
          "[tcp][syn_cookie]") {
  StackConfig config;
  config.tcp.max_syn_backlog = 1;
  TcpScript peer(config);
  const int listener = peer.listen(80, 0);  // the accept queue holds one
  peer.peer_port = 40001;                   // in the SYN queue, which is then full
  peer.send({.flags = SYN, .seq = 100});
  const Segment first = peer.expect(SYN | ACK);
  peer.peer_port = 40002;  // answered with a cookie
  peer.send({.flags = SYN, .seq = 300});
  const Segment cookie = peer.expect(SYN | ACK);
  CHECK(peer.stats().tcpSyncookiesSent == 1);
  peer.peer_port = 40001;  // ESTABLISHED: the accept queue is full
  peer.send({.flags = ACK, .seq = 101, .ack = first.seq + 1});
  CHECK(peer.state() == State::established);

  peer.peer_port = 40002;
  peer.send({.flags = ACK, .seq = 301, .ack = cookie.seq + 1});
  peer.expect_nothing();
  CHECK(peer.connection() == nullptr);
  CHECK(peer.stats().tcpListenOverflows == 1);
  CHECK(peer.stats().tcpSyncookiesRecv == 0);
  CHECK(peer.stats().tcpSyncookiesFailed == 0);
  CHECK(peer.stack().tcp().connection_count() == 1);

  CHECK(peer.api().accept(listener, nullptr, nullptr) >= 0);
  // The client believes itself connected and sends data, under the same cookie.
  peer.send({.flags = ACK | PSH, .seq = 301, .ack = cookie.seq + 1, .payload = pattern(3)});
  peer.advance(Duration{40'000});  // the delayed ACK
  CHECK(peer.expect(ACK).ack == 304);
  CHECK(peer.state() == State::established);
  CHECK(peer.stats().tcpSyncookiesRecv == 1);
  const int fd = peer.api().accept(listener, nullptr, nullptr);
  REQUIRE(fd >= 0);
  Bytes got;
  CHECK(peer.read(fd, got) == 3);
}

TEST_CASE("With SYN cookies off a full SYN queue drops SYNs (counted)", "[tcp][syn_cookie]") {
  StackConfig config = small_syn_queue();
  config.tcp.syn_cookies = false;
  TcpScript peer(config);
  listen_with_full_syn_queue(peer);
  peer.send({.flags = SYN, .seq = 100});
  peer.expect_nothing();
  CHECK(peer.stats().tcpListenDrops == 1);
  CHECK(peer.stats().tcpSyncookiesSent == 0);
  CHECK(peer.stack().tcp().connection_count() == 2);
}
