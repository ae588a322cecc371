// Raw IP sockets (raw(7)): copies of incoming datagrams with the IP header, ICMP sent with the
// stack's header, and IP_HDRINCL with the fields the stack fills in.
#include <catch2/catch.hpp>

#include <cerrno>

#include "stack/core/bytes.hpp"
#include "support/udp_frames.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

// An ICMP echo request message (header + data) built by libtins, checksum included.
Bytes echo_message(std::uint16_t id, std::uint16_t seq, const Bytes& data) {
  Tins::ICMP icmp(Tins::ICMP::ECHO_REQUEST);
  icmp.id(id);
  icmp.sequence(seq);
  icmp /= Tins::RawPDU(data);
  return icmp.serialize();
}

// A hand-made IPv4 header + payload for IP_HDRINCL: total length and checksum left zero.
Bytes hdrincl_datagram(const std::string& src, const std::string& dst, std::uint16_t id,
                       const Bytes& payload) {
  Bytes d = ipv4_datagram(src, dst, 253, payload, 33, id);
  store16(d.data() + 2, 0);   // total length
  store16(d.data() + 10, 0);  // header checksum
  return d;
}

}  // namespace

TEST_CASE(
    "a raw ICMP socket gets a copy of an echo request, IP header included, and the stack "
    "still answers it",
    "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  REQUIRE(fd >= 0);
  const Bytes request = echo_request_datagram(0x77, 1, 24);
  h.inject_datagram(request);

  const Received r = receive(api, fd);
  CHECK(r.result == static_cast<ssize_t>(request.size()));
  CHECK(r.data == request);  // the whole datagram, as it arrived
  CHECK(r.from.sin_family == AF_INET);
  CHECK(to_string(r.from) == "10.0.0.1:0");
  CHECK(h.stats().rawInDelivers == 1);

  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  const Tins::EthernetII eth = decode(frames[0]);
  CHECK(eth.rfind_pdu<Tins::ICMP>().type() == Tins::ICMP::ECHO_REPLY);
  CHECK(eth.rfind_pdu<Tins::ICMP>().id() == 0x77);
  CHECK(h.stats().icmpOutEchoReps == 1);
  // Our own reply is not copied back to the raw socket.
  CHECK(receive(api, fd).result == -EAGAIN);
}

TEST_CASE("every raw ICMP socket gets its own copy, and raw sockets of other protocols get none",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int a = api.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  const int b = api.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  const int udp = api.socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
  const int raw = api.socket(AF_INET, SOCK_RAW, IPPROTO_RAW);  // raw(7): receives nothing
  const Bytes request = echo_request_datagram(1, 2, 8);
  h.inject_datagram(request);
  CHECK(receive(api, a).data == request);
  CHECK(receive(api, b).data == request);
  CHECK(receive(api, udp).result == -EAGAIN);
  CHECK(receive(api, raw).result == -EAGAIN);
  CHECK(h.stats().rawInDelivers == 2);
}

TEST_CASE("a raw UDP socket sees UDP datagrams too, and UDP still delivers them", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int raw = api.socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
  const int udp = api.socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(bind_to(api, udp, "0.0.0.0", 5000) == 0);
  const Bytes datagram = udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, pattern(5));
  h.inject_datagram(datagram);
  CHECK(receive(api, raw).data == datagram);
  CHECK(receive(api, udp).data == pattern(5));
}

TEST_CASE("a raw ICMP socket bound to one of our addresses only sees datagrams to it", "[socket]") {
  Harness h;
  h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  REQUIRE(bind_to(api, fd, "10.0.1.2", 0) == 0);
  CHECK(bind_to(api, api.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), "10.0.0.1", 0) == -EADDRNOTAVAIL);
  h.inject_datagram(echo_request_datagram(1, 1, 8));  // to 10.0.0.2
  CHECK(receive(api, fd).result == -EAGAIN);
  const Bytes to_second = echo_request_datagram(1, 2, 8, "10.0.1.1", "10.0.1.2");
  h.inject_datagram(to_second, 1);
  CHECK(receive(api, fd).data == to_second);
}

TEST_CASE("sendto on a raw ICMP socket sends our ICMP bytes under the stack's IP header",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  const Bytes message = echo_message(0x1234, 5, pattern(32));
  CHECK(send_to(api, fd, message, "10.0.0.1", 0) == static_cast<ssize_t>(message.size()));
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  const Bytes datagram = ipv4_of(frames[0]);
  CHECK(ipv4_checksum_ok(datagram));
  CHECK(Bytes(datagram.begin() + 20, datagram.end()) == message);
  const Tins::EthernetII eth = decode(frames[0]);
  const auto& ip = eth.rfind_pdu<Tins::IP>();
  CHECK(ip.protocol() == 1);
  CHECK(ip.src_addr() == Tins::IPv4Address("10.0.0.2"));
  CHECK(ip.dst_addr() == Tins::IPv4Address("10.0.0.1"));
  CHECK(ip.ttl() == 64);
  CHECK(ip.tot_len() == 20 + message.size());
  const auto& icmp = eth.rfind_pdu<Tins::ICMP>();
  CHECK(icmp.type() == Tins::ICMP::ECHO_REQUEST);
  CHECK(icmp.id() == 0x1234);
  CHECK(icmp.sequence() == 5);
}

TEST_CASE("a raw socket honours IP_TTL and IP_TOS", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_TTL, 1) == 0);
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_TOS, 0x10) == 0);
  REQUIRE(send_to(api, fd, echo_message(1, 1, {}), "10.0.0.1", 0) == 8);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  const auto ip = decode(frames[0]).rfind_pdu<Tins::IP>();
  CHECK(ip.ttl() == 1);
  CHECK(ip.tos() == 0x10);
}

TEST_CASE(
    "raw sendto: EDESTADDRREQ without an address, EACCES to broadcast without "
    "SO_BROADCAST, ENETUNREACH without a route",
    "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  const Bytes message = echo_message(1, 1, {});
  CHECK(send_bytes(api, fd, message) == -EDESTADDRREQ);
  CHECK(send_to(api, fd, message, "255.255.255.255", 0) == -EACCES);
  CHECK(send_to(api, fd, message, "10.0.0.255", 0) == -EACCES);  // raw_sendmsg: RTCF_BROADCAST
  CHECK(send_to(api, fd, message, "192.0.2.1", 0) == -ENETUNREACH);
  CHECK(h.take_bytes().empty());
}

TEST_CASE(
    "IP_HDRINCL (IPPROTO_RAW): our header is sent, total length and checksum filled in, "
    "a zero ID replaced",
    "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  const Bytes payload = pattern(30, 0x40);
  const Bytes datagram = hdrincl_datagram("10.0.0.2", "10.0.0.1", 0, payload);
  CHECK(send_to(api, fd, datagram, "10.0.0.1", 0) == static_cast<ssize_t>(datagram.size()));
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  const Bytes sent = ipv4_of(frames[0]);
  REQUIRE(sent.size() == 50);
  CHECK(ipv4_checksum_ok(sent));
  CHECK(load16(sent.data() + 2) == 50);
  CHECK(load16(sent.data() + 4) != 0);
  // Everything else is ours, byte for byte: TTL 33, protocol 253, addresses, payload.
  Bytes expected = datagram;
  store16(expected.data() + 2, 50);
  store16(expected.data() + 4, load16(sent.data() + 4));
  fix_ipv4_checksum(expected);
  CHECK(sent == expected);
  const auto ip = decode(frames[0]).rfind_pdu<Tins::IP>();
  CHECK(ip.ttl() == 33);
  CHECK(ip.protocol() == 253);
}

TEST_CASE("IP_HDRINCL keeps a non-zero ID as given", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_HDRINCL, 1) == 0);
  const Bytes datagram = hdrincl_datagram("10.0.0.2", "10.0.0.1", 0xbeef, pattern(8));
  REQUIRE(send_to(api, fd, datagram, "10.0.0.1", 0) == 28);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  const Bytes sent = ipv4_of(frames[0]);
  CHECK(load16(sent.data() + 4) == 0xbeef);
  CHECK(ipv4_checksum_ok(sent));
}

TEST_CASE("IP_HDRINCL fills in a zero source address (raw(7))", "[socket]") {
  // raw(7)'s table: "Source Address: Filled in when zero".
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  const Bytes datagram = hdrincl_datagram("0.0.0.0", "10.0.0.1", 1, pattern(8));
  REQUIRE(send_to(api, fd, datagram, "10.0.0.1", 0) == 28);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  const Bytes sent = ipv4_of(frames[0]);
  CHECK(Ipv4Address{load32(sent.data() + 12)} == Ipv4Address{10, 0, 0, 2});
  CHECK(ipv4_checksum_ok(sent));
}

TEST_CASE("IP_HDRINCL with less than an IP header fails with EINVAL", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  CHECK(send_to(api, fd, pattern(19), "10.0.0.1", 0) == -EINVAL);
  CHECK(h.take_bytes().empty());
}

TEST_CASE(
    "a raw socket for an unknown protocol receives it and suppresses protocol "
    "unreachable",
    "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const Bytes datagram = ipv4_datagram("10.0.0.1", "10.0.0.2", 253, pattern(12));
  SECTION("with a raw socket for protocol 253") {
    const int fd = api.socket(AF_INET, SOCK_RAW, 253);
    h.inject_datagram(datagram);
    CHECK(receive(api, fd).data == datagram);
    CHECK(h.take_bytes().empty());
    CHECK(h.stats().ipInUnknownProtos == 0);
    CHECK(h.stats().ipInDelivers == 1);
  }
  SECTION("without one: ICMP protocol unreachable (RFC 1122 §3.2.2.1)") {
    api.socket(AF_INET, SOCK_RAW, 254);  // another protocol does not count
    h.inject_datagram(datagram);
    auto frames = h.take_bytes();
    REQUIRE(frames.size() == 1);
    check_icmp_error(frames[0], 3, 2, 0, datagram);
    CHECK(h.stats().ipInUnknownProtos == 1);
  }
}

TEST_CASE("a raw socket's receive queue is bounded by SO_RCVBUF too", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  REQUIRE(set_int(api, fd, SOL_SOCKET, SO_RCVBUF, 1) == 0);  // 2304
  for (std::uint16_t i = 0; i < 10; ++i) h.inject_datagram(echo_request_datagram(1, i, 1000));
  // Each copy is 1028 bytes + 256 overhead: two fit before the charge reaches 2304.
  CHECK(sock::queue_of(*api.find(fd))->size() == 2);
  CHECK(h.stats().rawInDelivers == 2);
  CHECK(h.stats().rawRcvbufErrors == 8);
  CHECK(h.stats().icmpOutEchoReps == 10);  // the stack's own answers are unaffected
}
