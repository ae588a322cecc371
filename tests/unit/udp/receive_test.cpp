// UDP input: demultiplexing precedence, checksum and length rules, port unreachable,
// broadcast delivery and the SO_RCVBUF bound on each socket's queue.
#include <catch2/catch.hpp>

#include <cerrno>

#include "stack/core/bytes.hpp"
#include "support/udp_frames.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

int udp_socket(Harness& h) {
  return h.stack().sockets().socket(AF_INET, SOCK_DGRAM, 0);
}

int bound_socket(Harness& h, const std::string& addr, std::uint16_t port, bool reuse = false) {
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  if (reuse) REQUIRE(set_int(api, fd, SOL_SOCKET, SO_REUSEADDR, 1) == 0);
  REQUIRE(bind_to(api, fd, addr, port) == 0);
  return fd;
}

// The datagram in an Ethernet broadcast frame, as a sender broadcasting on the LAN sends it.
void inject_link_broadcast(Harness& h, const Bytes& datagram) {
  h.inject_bytes(ethernet_frame(datagram, 0x0800, MacAddress::broadcast(), kPeerMac));
}

std::size_t queued(Harness& h, int fd) {
  return sock::queue_of(*h.stack().sockets().find(fd))->size();
}

}  // namespace

TEST_CASE("a datagram to a bound port is delivered with its payload and its sender", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h, "0.0.0.0", 5000);
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(33, 1)));
  sockaddr_in from{};
  socklen_t from_len = sizeof from;
  Bytes buf(100);
  CHECK(api.recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from),
                     &from_len) == 33);
  CHECK(from_len == sizeof from);
  CHECK(from.sin_family == AF_INET);
  CHECK(to_string(from) == "10.0.0.1:6000");
  buf.resize(33);
  CHECK(buf == pattern(33, 1));
  CHECK(h.stats().udpInDatagrams == 1);
  CHECK(h.stats().udpInErrors == 0);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("demultiplexing: connected to the sender beats bound to the address beats INADDR_ANY",
          "[udp]") {
  Harness h;
  h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
  auto& api = h.stack().sockets();
  // Bind order must not matter: the most specific socket wins either way.
  const bool wildcard_first = GENERATE(true, false);
  CAPTURE(wildcard_first);
  int any = -1;
  int specific = -1;
  if (wildcard_first) any = bound_socket(h, "0.0.0.0", 5000, true);
  specific = bound_socket(h, "10.0.0.2", 5000, true);
  const int connected = bound_socket(h, "0.0.0.0", 5000, true);
  REQUIRE(connect_to(api, connected, "10.0.0.1", 6000) == 0);
  if (!wildcard_first) any = bound_socket(h, "0.0.0.0", 5000, true);

  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, Bytes{1}));     // the peer
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 6001, 5000, Bytes{2}));     // another port
  h.inject_datagram(udp_datagram("10.0.1.1", "10.0.1.2", 6000, 5000, Bytes{3}), 1);  // other addr

  const Received c = receive(api, connected);
  CHECK(c.data == Bytes{1});
  const Received s = receive(api, specific);
  CHECK(s.data == Bytes{2});
  const Received a = receive(api, any);
  CHECK(a.data == Bytes{3});
  CHECK(to_string(a.from) == "10.0.1.1:6000");
  for (int fd : {connected, specific, any}) CHECK(receive(api, fd).result == -EAGAIN);
  CHECK(h.stats().udpInDatagrams == 3);
}

TEST_CASE("a datagram with checksum zero (none computed) is accepted (RFC 768)", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h, "0.0.0.0", 5000);
  Bytes datagram = udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(10));
  set_udp_checksum(datagram, 0);
  h.inject_datagram(datagram);
  CHECK(receive(api, fd).data == pattern(10));
  CHECK(h.stats().udpInCsumErrors == 0);
  CHECK(h.stats().udpInDatagrams == 1);
}

TEST_CASE("a datagram with a wrong checksum is dropped silently and counted", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h, "0.0.0.0", 5000);
  Bytes datagram = udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(10));
  REQUIRE(udp_checksum_ok(datagram));
  datagram.back() ^= 0x01;  // corrupt the payload, leave the checksum
  REQUIRE_FALSE(udp_checksum_ok(datagram));
  h.inject_datagram(datagram);
  CHECK(receive(api, fd).result == -EAGAIN);
  CHECK(h.stats().udpInCsumErrors == 1);
  CHECK(h.stats().udpInErrors == 1);
  CHECK(h.stats().udpInDatagrams == 0);
  CHECK(h.take_bytes().empty());  // no ICMP about a corrupt datagram
}

TEST_CASE("a wrong checksum on a datagram to a closed port earns no port unreachable", "[udp]") {
  Harness h;
  Bytes datagram = udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(10));
  set_udp_checksum(datagram, 0x1234);
  h.inject_datagram(datagram);
  CHECK(h.take_bytes().empty());
  CHECK(h.stats().udpInCsumErrors == 1);
  CHECK(h.stats().udpNoPorts == 0);
}

TEST_CASE("a UDP length beyond the IP payload is dropped and counted", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h, "0.0.0.0", 5000);
  Bytes datagram = udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(10));
  store16(datagram.data() + 24, 8 + 10 + 1);
  h.inject_datagram(datagram);
  CHECK(receive(api, fd).result == -EAGAIN);
  CHECK(h.stats().udpInBadLength == 1);
  CHECK(h.stats().udpInErrors == 1);
  CHECK(h.stats().udpInDatagrams == 0);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("a UDP length below the header size is dropped and counted", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h, "0.0.0.0", 5000);
  Bytes datagram = udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(10));
  store16(datagram.data() + 24, 7);
  h.inject_datagram(datagram);
  CHECK(receive(api, fd).result == -EAGAIN);
  CHECK(h.stats().udpInBadLength == 1);
  // An IP payload too short for a UDP header at all.
  h.inject_datagram(ipv4_datagram("10.0.0.1", "10.0.0.2", 17, Bytes{0x17, 0x70, 0x13, 0x88}));
  CHECK(h.stats().udpInBadLength == 2);
  CHECK(h.stats().udpInErrors == 2);
}

TEST_CASE("IP payload past the UDP length is padding: not delivered, not in the checksum",
          "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h, "0.0.0.0", 5000);
  Bytes datagram = udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(10));
  datagram.insert(datagram.end(), {0xde, 0xad, 0xbe, 0xef});
  store16(datagram.data() + 2, static_cast<std::uint16_t>(datagram.size()));
  fix_ipv4_checksum(datagram);
  h.inject_datagram(datagram);
  const Received r = receive(api, fd);
  CHECK(r.result == 10);
  CHECK(r.data == pattern(10));
  CHECK(h.stats().udpInErrors == 0);
}

TEST_CASE(
    "a datagram to a port nobody listens on earns ICMP port unreachable quoting the IP "
    "header and 8 bytes",
    "[udp]") {
  Harness h;
  const Bytes datagram = udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5001, pattern(100), 64, 0x4321);
  bound_socket(h, "0.0.0.0", 5000);  // a different port
  h.inject_datagram(datagram);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  check_icmp_error(frames[0], 3, 3, 0, datagram);
  CHECK(ipv4_of(frames[0]).size() == 20 + 8 + 20 + 8);
  // And via libtins: the quoted ports are the datagram's.
  const Tins::EthernetII eth = decode(frames[0]);
  CHECK(eth.dst_addr() == Tins::HWAddress<6>(kPeerMac.to_string()));
  const auto& icmp = eth.rfind_pdu<Tins::ICMP>();
  CHECK(icmp.type() == Tins::ICMP::DEST_UNREACHABLE);
  CHECK(icmp.code() == 3);
  CHECK(h.stats().udpNoPorts == 1);
  CHECK(h.stats().icmpOutDestUnreachs == 1);
}

TEST_CASE("a datagram to a socket bound to another of our addresses earns port unreachable",
          "[udp]") {
  Harness h;
  h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
  bound_socket(h, "10.0.1.2", 5000);
  const Bytes datagram = udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(8));
  h.inject_datagram(datagram);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  check_icmp_error(frames[0], 3, 3, 0, datagram);
  CHECK(h.stats().udpNoPorts == 1);
}

TEST_CASE("no port unreachable about a broadcast datagram, limited, subnet or link broadcast",
          "[udp]") {
  Harness h;
  SECTION("limited broadcast 255.255.255.255") {
    inject_link_broadcast(h, udp_datagram("10.0.0.1", "255.255.255.255", 6000, 5000, pattern(8)));
  }
  SECTION("subnet-directed broadcast 10.0.0.255") {
    inject_link_broadcast(h, udp_datagram("10.0.0.1", "10.0.0.255", 6000, 5000, pattern(8)));
  }
  SECTION("a unicast address in a link-layer broadcast frame") {
    inject_link_broadcast(h, udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(8)));
  }
  CHECK(h.take_bytes().empty());
  CHECK(h.stats().udpNoPorts == 1);
  CHECK(h.stats().icmpOutDestUnreachs == 0);
}

TEST_CASE(
    "a broadcast datagram is delivered to every socket bound to the port, each its own "
    "copy",
    "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int a = bound_socket(h, "0.0.0.0", 5000, true);
  const int b = bound_socket(h, "0.0.0.0", 5000, true);
  const int unicast = bound_socket(h, "10.0.0.2", 5000, true);  // Linux: not for broadcasts
  const int other_port = bound_socket(h, "0.0.0.0", 5001);
  const std::string dst = GENERATE(as<std::string>{}, "255.255.255.255", "10.0.0.255");
  CAPTURE(dst);
  inject_link_broadcast(h, udp_datagram("10.0.0.1", dst, 6000, 5000, pattern(40)));

  Received ra = receive(api, a);
  const Received rb = receive(api, b);
  CHECK(ra.data == pattern(40));
  CHECK(rb.data == pattern(40));
  CHECK(to_string(ra.from) == "10.0.0.1:6000");
  CHECK(to_string(rb.from) == "10.0.0.1:6000");
  CHECK(receive(api, unicast).result == -EAGAIN);
  CHECK(receive(api, other_port).result == -EAGAIN);
  CHECK(h.stats().udpInDatagrams == 2);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("a socket bound to 255.255.255.255 receives limited broadcasts only", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h, "255.255.255.255", 5000);
  inject_link_broadcast(h, udp_datagram("10.0.0.1", "255.255.255.255", 6000, 5000, Bytes{1}));
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, Bytes{2}));
  CHECK(receive(api, fd).data == Bytes{1});
  CHECK(receive(api, fd).result == -EAGAIN);
}

TEST_CASE("SO_RCVBUF bounds the receive queue: overflow is dropped and counted, never queued",
          "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h, "0.0.0.0", 5000);
  REQUIRE(set_int(api, fd, SOL_SOCKET, SO_RCVBUF, 4000) == 0);
  REQUIRE(get_int(api, fd, SOL_SOCKET, SO_RCVBUF) == 8000);
  const std::size_t cost = 100 + sock::message_overhead;
  for (int i = 0; i < 100; ++i) {
    h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(100), 64,
                                   static_cast<std::uint16_t>(i)));
    // Never more than the buffer plus the one datagram that crossed the line.
    CHECK(sock::queue_of(*api.find(fd))->bytes() <= 8000 + cost);
  }
  // Each datagram is charged its data plus the per-message overhead; queueing stops once the
  // charge reaches 8000: ceil(8000 / 356) = 23 datagrams.
  CHECK(queued(h, fd) == 23);
  CHECK(h.stats().udpInDatagrams == 23);
  CHECK(h.stats().udpRcvbufErrors == 77);
  CHECK(h.stats().udpInErrors == 77);
  CHECK(h.take_bytes().empty());  // a full queue is no reason for ICMP
  // The queue holds the first 23, in order; reading makes room again.
  for (int i = 0; i < 23; ++i) CHECK(receive(api, fd).result == 100);
  CHECK(receive(api, fd).result == -EAGAIN);
  CHECK(sock::queue_of(*api.find(fd))->bytes() == 0);
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(100)));
  CHECK(queued(h, fd) == 1);
}

TEST_CASE("SO_RCVBUF bounds a flood of empty datagrams too", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h, "0.0.0.0", 5000);
  REQUIRE(set_int(api, fd, SOL_SOCKET, SO_RCVBUF, 1) == 0);  // the minimum, 2304
  for (int i = 0; i < 50; ++i) {
    h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, {}));
  }
  // ceil(2304 / 256) = 9.
  CHECK(queued(h, fd) == 9);
  CHECK(h.stats().udpRcvbufErrors == 41);
  CHECK(receive(api, fd).result == 0);
}

TEST_CASE("a full queue on one socket does not stop a broadcast copy reaching another", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int small = bound_socket(h, "0.0.0.0", 5000, true);
  const int big = bound_socket(h, "0.0.0.0", 5000, true);
  REQUIRE(set_int(api, small, SOL_SOCKET, SO_RCVBUF, 1) == 0);  // 2304: 2 of 1000 bytes
  for (int i = 0; i < 5; ++i) {
    inject_link_broadcast(h, udp_datagram("10.0.0.1", "255.255.255.255", 6000, 5000, pattern(1000),
                                          64, static_cast<std::uint16_t>(i)));
  }
  CHECK(queued(h, small) == 2);
  CHECK(queued(h, big) == 5);
  CHECK(h.stats().udpRcvbufErrors == 3);
  CHECK(h.stats().udpInDatagrams == 7);
}

TEST_CASE("a fragmented datagram is reassembled and delivered whole", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h, "0.0.0.0", 5000);
  const Bytes payload = pattern(5000, 3);
  const Bytes datagram = udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, payload, 64, 77);
  auto fragments = split_datagram(datagram, 1480);
  REQUIRE(fragments.size() == 4);
  std::swap(fragments[0], fragments[3]);  // out of order
  for (const Bytes& f : fragments) h.inject_datagram(f);
  const Received r = receive(api, fd);
  CHECK(r.result == 5000);
  CHECK(r.data == payload);
}
