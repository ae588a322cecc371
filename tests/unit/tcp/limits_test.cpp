// The TCP layer's caps (docs/ROBUSTNESS.md, "Caps"): half-open connections per source in a
// listener's SYN queue, and connection blocks in all; each refusal is counted.
#include <catch2/catch.hpp>

#include <cerrno>

#include "stack/tcp/tcp.hpp"
#include "support/tcp_script.hpp"

using namespace tapir;
using namespace tapir::test;
using namespace tapir::test::script;

namespace {

StackConfig with_limits(std::size_t per_source, std::size_t connections, bool cookies) {
  StackConfig config;
  config.tcp.max_syn_per_source = per_source;
  config.tcp.max_connections = connections;
  config.tcp.syn_cookies = cookies;
  return config;
}

}  // namespace

TEST_CASE("A source at its half-open limit gets cookies while another source still gets a place",
          "[tcp][limits]") {
  TcpScript peer(with_limits(2, 1000, true));
  peer.listen(80);
  for (const std::uint16_t port : {std::uint16_t{41001}, std::uint16_t{41002}}) {
    peer.send({.flags = SYN, .seq = 7000, .src_port = port});
    peer.expect(SYN | ACK);
  }
  REQUIRE(peer.stack().tcp().connection_count() == 2);

  // The third SYN from 10.0.0.1: the queue has room, the source has not (RFC 4987 §3.6).
  peer.send({.flags = SYN, .seq = 7000, .src_port = 41003});
  CHECK(peer.expect(SYN | ACK).ack == 7001);
  CHECK(peer.stack().tcp().connection_count() == 2);
  CHECK(peer.stats().tcpSynPerSourceLimited == 1);
  CHECK(peer.stats().tcpSyncookiesSent == 1);

  // 10.0.0.9, on the same link, is queued as usual (its SYN-ACK waits for ARP).
  peer.send({.flags = SYN, .seq = 9000, .src_port = 41004, .src = "10.0.0.9"});
  CHECK(peer.stack().tcp().connection_count() == 3);
  CHECK(peer.stats().tcpSynPerSourceLimited == 1);
  CHECK(peer.stats().tcpSyncookiesSent == 1);
}

TEST_CASE("Without SYN cookies a source past its half-open limit has its SYN dropped",
          "[tcp][limits]") {
  TcpScript peer(with_limits(1, 1000, false));
  peer.listen(80);
  peer.send({.flags = SYN, .seq = 7000, .src_port = 41001});
  peer.expect(SYN | ACK);
  peer.send({.flags = SYN, .seq = 7000, .src_port = 41002});
  peer.expect_nothing();
  CHECK(peer.stack().tcp().connection_count() == 1);
  CHECK(peer.stats().tcpSynPerSourceLimited == 1);
  CHECK(peer.stats().tcpListenDrops == 1);
}

TEST_CASE("At the connection cap a SYN is dropped and connect() fails with ENOBUFS",
          "[tcp][limits]") {
  TcpScript peer(with_limits(64, 2, true));
  peer.listen(80);
  for (const std::uint16_t port : {std::uint16_t{41001}, std::uint16_t{41002}}) {
    peer.send({.flags = SYN, .seq = 7000, .src_port = port});
    peer.expect(SYN | ACK);
  }
  peer.send({.flags = SYN, .seq = 7000, .src_port = 41003});
  peer.expect_nothing();
  CHECK(peer.stack().tcp().connection_count() == 2);
  CHECK(peer.stats().tcpConnectionLimitDrops == 1);

  const int fd = peer.api().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(fd >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(40000);
  to.sin_addr.s_addr = htonl(0x0a000001);
  CHECK(peer.api().connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == -ENOBUFS);
  peer.expect_nothing();
  CHECK(peer.stats().tcpConnectionLimitDrops == 2);

  // A connection that goes away makes room again: the peer resets one half-open block.
  peer.send({.flags = RST, .seq = 7001, .src_port = 41001});
  CHECK(peer.stack().tcp().connection_count() == 1);
  peer.send({.flags = SYN, .seq = 7000, .src_port = 41003});
  peer.expect(SYN | ACK);
  CHECK(peer.stack().tcp().connection_count() == 2);
}
