// UDP output through sendto/sendmsg: the datagram on the wire, and udp_sendmsg's errnos.
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

}  // namespace

TEST_CASE("sendto sends one datagram: addresses, ports, length, payload and a valid checksum",
          "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(bind_to(api, fd, "0.0.0.0", 5000) == 0);
  const Bytes payload = pattern(100, 0x30);
  CHECK(send_to(api, fd, payload, "10.0.0.1", 7) == 100);

  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  const Tins::EthernetII eth = decode(frames[0]);
  CHECK(eth.dst_addr() == Tins::HWAddress<6>(kPeerMac.to_string()));
  CHECK(eth.src_addr() == Tins::HWAddress<6>(kHostMac.to_string()));
  const auto& ip = eth.rfind_pdu<Tins::IP>();
  CHECK(ip.src_addr() == Tins::IPv4Address("10.0.0.2"));
  CHECK(ip.dst_addr() == Tins::IPv4Address("10.0.0.1"));
  CHECK(ip.protocol() == 17);
  CHECK(ip.ttl() == 64);
  CHECK(ip.tos() == 0);
  CHECK(ip.tot_len() == 20 + 8 + 100);
  const Bytes datagram = ipv4_of(frames[0]);
  CHECK(ipv4_checksum_ok(datagram));
  const auto& udp = eth.rfind_pdu<Tins::UDP>();
  CHECK(udp.sport() == 5000);
  CHECK(udp.dport() == 7);
  CHECK(udp.length() == 8 + 100);
  CHECK(udp.checksum() != 0);  // RFC 1122 §4.1.3.4: always computed on send
  CHECK(udp_checksum_ok(datagram));
  CHECK(eth.rfind_pdu<Tins::RawPDU>().payload() == payload);
  CHECK(h.stats().udpOutDatagrams == 1);
}

TEST_CASE("sendto from an unbound socket binds an ephemeral port and sends from it", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(send_to(api, fd, pattern(4), "10.0.0.1", 9) == 4);
  const sockaddr_in name = local_name(api, fd);
  // The local address stays the wildcard: only the port was bound (inet_autobind).
  CHECK(to_string(name).starts_with("0.0.0.0:"));
  const std::uint16_t port = ntohs(name.sin_port);
  CHECK(port >= 32768);
  CHECK(port <= 60999);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  CHECK(decode(frames[0]).rfind_pdu<Tins::UDP>().sport() == port);
}

TEST_CASE("an empty datagram is sent as an 8-byte UDP header", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(send_to(api, fd, {}, "10.0.0.1", 9) == 0);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  const Bytes datagram = ipv4_of(frames[0]);
  CHECK(datagram.size() == 28);
  CHECK(decode(frames[0]).rfind_pdu<Tins::UDP>().length() == 8);
  CHECK(udp_checksum_ok(datagram));
}

TEST_CASE("a checksum that computes to zero is sent as 0xffff (RFC 768)", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(bind_to(api, fd, "10.0.0.2", 5000) == 0);
  // Work out the two payload bytes that make the one's-complement sum 0xffff: with the
  // payload word zero the checksum is C; adding C to the sum ~C gives 0xffff, whose
  // complement, the checksum, is zero.
  Bytes segment = {0x13, 0x88, 0x00, 0x07, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00};
  const std::uint16_t c = udp_checksum(Ipv4Address{10, 0, 0, 2}, Ipv4Address{10, 0, 0, 1}, segment);
  REQUIRE(c != 0);
  const Bytes payload = {static_cast<std::uint8_t>(c >> 8), static_cast<std::uint8_t>(c & 0xff)};
  segment[8] = payload[0];
  segment[9] = payload[1];
  // The checksum of the segment as it will be sent (field still zero) computes to zero.
  REQUIRE(udp_checksum(Ipv4Address{10, 0, 0, 2}, Ipv4Address{10, 0, 0, 1}, segment) == 0);

  REQUIRE(send_to(api, fd, payload, "10.0.0.1", 7) == 2);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  const Bytes datagram = ipv4_of(frames[0]);
  CHECK(load16(datagram.data() + 26) == 0xffff);
  CHECK(udp_checksum_ok(datagram));
}

TEST_CASE("sendmsg gathers every iovec into one datagram, empty ones included", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  Bytes a = {1, 2, 3};
  Bytes c = {4, 5, 6, 7, 8};
  iovec iov[3] = {{a.data(), a.size()}, {nullptr, 0}, {c.data(), c.size()}};
  sockaddr_in to = inet("10.0.0.1", 7);
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = sizeof to;
  msg.msg_iov = iov;
  msg.msg_iovlen = 3;
  CHECK(api.sendmsg(fd, &msg, 0) == 8);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  CHECK(decode(frames[0]).rfind_pdu<Tins::RawPDU>().payload() == Bytes{1, 2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("send without an address on an unconnected socket fails with EDESTADDRREQ", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(send_bytes(api, fd, pattern(10)) == -EDESTADDRREQ);
  std::uint8_t byte = 0;
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  CHECK(api.sendmsg(fd, &msg, 0) == -EDESTADDRREQ);
  CHECK(h.take_bytes().empty());
  CHECK(h.stats().udpOutDatagrams == 0);
}

TEST_CASE("sendto port 0 fails with EINVAL (udp_sendmsg)", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  CHECK(send_to(api, udp_socket(h), pattern(4), "10.0.0.1", 0) == -EINVAL);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("sendto with a short address fails with EINVAL, a foreign family with EAFNOSUPPORT",
          "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  const Bytes data = pattern(4);
  sockaddr_in to = inet("10.0.0.1", 7);
  CHECK(api.sendto(fd, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                   sizeof to - 1) == -EINVAL);
  to.sin_family = AF_INET6;
  CHECK(api.sendto(fd, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                   sizeof to) == -EAFNOSUPPORT);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("sendto with MSG_OOB fails with EOPNOTSUPP", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  CHECK(send_to(api, udp_socket(h), pattern(4), "10.0.0.1", 7, MSG_OOB) == -EOPNOTSUPP);
}

TEST_CASE("a datagram above 65507 bytes fails with EMSGSIZE and nothing is sent", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(send_to(api, fd, Bytes(65508), "10.0.0.1", 7) == -EMSGSIZE);
  CHECK(send_to(api, fd, Bytes(70000), "10.0.0.1", 7) == -EMSGSIZE);
  CHECK(h.take_bytes().empty());
  CHECK(h.stats().udpOutDatagrams == 0);
}

TEST_CASE("a 65507-byte datagram goes out as 45 fragments that reassemble byte-exact", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(bind_to(api, fd, "0.0.0.0", 5000) == 0);
  const Bytes payload = pattern(65507, 9);
  CHECK(send_to(api, fd, payload, "10.0.0.1", 7) == 65507);
  const auto frames = h.take_bytes();
  // 65515 bytes of IP payload in 1480-byte pieces (MTU 1500 less the header): 44 full + 1.
  REQUIRE(frames.size() == 45);
  for (const Bytes& frame : frames) {
    const Bytes piece = ipv4_of(frame);
    CHECK(piece.size() <= 1500);
    CHECK(ipv4_checksum_ok(piece));
  }
  const auto whole = reassemble(frames);
  REQUIRE(whole);
  REQUIRE(whole->size() == 20 + 8 + 65507);
  CHECK(load16(whole->data() + 20) == 5000);
  CHECK(load16(whole->data() + 22) == 7);
  CHECK(load16(whole->data() + 24) == 65515);
  CHECK(udp_checksum_ok(*whole));
  CHECK(Bytes(whole->begin() + 28, whole->end()) == payload);
  CHECK(h.stats().ipFragCreates == 45);
  CHECK(h.stats().udpOutDatagrams == 1);
}

TEST_CASE("sending to a broadcast address without SO_BROADCAST fails with EACCES", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(send_to(api, fd, pattern(4), "255.255.255.255", 9) == -EACCES);
  CHECK(send_to(api, fd, pattern(4), "10.0.0.255", 9) == -EACCES);  // the subnet's broadcast
  CHECK(h.take_bytes().empty());
  CHECK(h.stats().udpOutDatagrams == 0);
}

TEST_CASE("with SO_BROADCAST a broadcast datagram goes to ff:ff:ff:ff:ff:ff", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(set_int(api, fd, SOL_SOCKET, SO_BROADCAST, 1) == 0);
  const std::string dst = GENERATE(as<std::string>{}, "255.255.255.255", "10.0.0.255");
  CAPTURE(dst);
  CHECK(send_to(api, fd, pattern(12), dst, 9) == 12);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);  // no ARP: broadcast needs no resolution
  const Tins::EthernetII eth = decode(frames[0]);
  CHECK(eth.dst_addr() == Tins::HWAddress<6>("ff:ff:ff:ff:ff:ff"));
  const auto& ip = eth.rfind_pdu<Tins::IP>();
  CHECK(ip.src_addr() == Tins::IPv4Address("10.0.0.2"));
  CHECK(ip.dst_addr() == Tins::IPv4Address(dst));
  CHECK(eth.rfind_pdu<Tins::UDP>().dport() == 9);
  CHECK(udp_checksum_ok(ipv4_of(frames[0])));
}

TEST_CASE("sending where no route leads fails with ENETUNREACH", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(send_to(api, fd, pattern(4), "192.0.2.1", 7) == -ENETUNREACH);
  CHECK(h.take_bytes().empty());
  CHECK(h.stats().udpOutDatagrams == 0);
  // A default route makes the same destination reachable through the gateway.
  REQUIRE(h.stack().set_default_gateway(*Ipv4Address::parse("10.0.0.1")));
  CHECK(send_to(api, fd, pattern(4), "192.0.2.1", 7) == 4);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  const Tins::EthernetII eth = decode(frames[0]);
  CHECK(eth.dst_addr() == Tins::HWAddress<6>(kPeerMac.to_string()));
  CHECK(eth.rfind_pdu<Tins::IP>().dst_addr() == Tins::IPv4Address("192.0.2.1"));
}

TEST_CASE("IP_TTL and IP_TOS appear in the sent datagram's header", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_TTL, 3) == 0);
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_TOS, 0xb8) == 0);
  REQUIRE(send_to(api, fd, pattern(4), "10.0.0.1", 7) == 4);
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_TTL, -1) == 0);
  REQUIRE(send_to(api, fd, pattern(4), "10.0.0.1", 7) == 4);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 2);
  const auto first = decode(frames[0]).rfind_pdu<Tins::IP>();
  CHECK(first.ttl() == 3);
  CHECK(first.tos() == 0xb8);
  CHECK(ipv4_checksum_ok(ipv4_of(frames[0])));
  const auto second = decode(frames[1]).rfind_pdu<Tins::IP>();
  CHECK(second.ttl() == 64);
  CHECK(second.tos() == 0xb8);
}

TEST_CASE(
    "SO_DONTROUTE refuses a destination behind a gateway with ENETUNREACH, allows an "
    "on-link one",
    "[udp]") {
  Harness h;
  REQUIRE(h.stack().set_default_gateway(*Ipv4Address::parse("10.0.0.1")));
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(set_int(api, fd, SOL_SOCKET, SO_DONTROUTE, 1) == 0);
  CHECK(send_to(api, fd, pattern(4), "192.0.2.1", 7) == -ENETUNREACH);
  CHECK(h.take_bytes().empty());
  CHECK(send_to(api, fd, pattern(4), "10.0.0.1", 7) == 4);
  CHECK(h.take_bytes().size() == 1);
}

TEST_CASE("MSG_DONTROUTE refuses a gatewayed destination for that one call only", "[udp]") {
  Harness h;
  REQUIRE(h.stack().set_default_gateway(*Ipv4Address::parse("10.0.0.1")));
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(send_to(api, fd, pattern(4), "192.0.2.1", 7, MSG_DONTROUTE) == -ENETUNREACH);
  CHECK(h.take_bytes().empty());
  CHECK(get_int(api, fd, SOL_SOCKET, SO_DONTROUTE) == 0);
  CHECK(send_to(api, fd, pattern(4), "192.0.2.1", 7) == 4);
  CHECK(h.take_bytes().size() == 1);
}

TEST_CASE("a socket bound to one of our addresses sends from it, out of the routed interface",
          "[udp]") {
  Harness h;
  h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(bind_to(api, fd, "10.0.1.2", 5000) == 0);
  REQUIRE(send_to(api, fd, pattern(4), "10.0.0.1", 7) == 4);
  auto frames = h.take_bytes(0);
  REQUIRE(frames.size() == 1);
  CHECK(decode(frames[0]).rfind_pdu<Tins::IP>().src_addr() == Tins::IPv4Address("10.0.1.2"));
  CHECK(udp_checksum_ok(ipv4_of(frames[0])));
}

TEST_CASE("a datagram to one of our own addresses loops back to our socket, not the wire",
          "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int server = udp_socket(h);
  REQUIRE(bind_to(api, server, "0.0.0.0", 5000) == 0);
  const int client = udp_socket(h);
  REQUIRE(bind_to(api, client, "0.0.0.0", 6000) == 0);
  const std::string dst = GENERATE(as<std::string>{}, "10.0.0.2", "127.0.0.1");
  CAPTURE(dst);
  CHECK(send_to(api, client, pattern(20), dst, 5000) == 20);
  CHECK(h.take_bytes().empty());
  const Received r = receive(api, server);
  CHECK(r.result == 20);
  CHECK(r.data == pattern(20));
  CHECK(ntohs(r.from.sin_port) == 6000);
  CHECK(Ipv4Address{ntohl(r.from.sin_addr.s_addr)} == *Ipv4Address::parse(dst));
}
