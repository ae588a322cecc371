// connect(2) on UDP: the peer filter, names, AF_UNSPEC, and ICMP errors reported as errnos.
#include <catch2/catch.hpp>

#include <cerrno>

#include "support/udp_frames.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

int udp_socket(Harness& h) {
  return h.stack().sockets().socket(AF_INET, SOCK_DGRAM, 0);
}

// Sends one datagram from `fd` and returns it as it left (the IPv4 bytes).
Bytes sent_datagram(Harness& h, int fd, const std::string& dst = "", std::uint16_t port = 0) {
  auto& api = h.stack().sockets();
  const ssize_t n =
      dst.empty() ? send_bytes(api, fd, pattern(16)) : send_to(api, fd, pattern(16), dst, port);
  REQUIRE(n == 16);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  return ipv4_of(frames[0]);
}

// The peer's port unreachable about `datagram`.
void inject_port_unreachable(Harness& h, const Bytes& datagram) {
  h.inject_datagram(icmp_error_datagram("10.0.0.1", "10.0.0.2", 3, 3, datagram));
}

}  // namespace

TEST_CASE("connect sets the peer, and getsockname shows the route's source and an ephemeral port",
          "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  CHECK(to_string(peer_name(api, fd)) == "10.0.0.1:7000");
  const sockaddr_in local = local_name(api, fd);
  CHECK(Ipv4Address{ntohl(local.sin_addr.s_addr)} == Ipv4Address{10, 0, 0, 2});
  const std::uint16_t port = ntohs(local.sin_port);
  CHECK(port >= 32768);
  CHECK(port <= 60999);
  CHECK(h.take_bytes().empty());  // connect sends nothing
}

TEST_CASE("getpeername on an unconnected socket fails with ENOTCONN", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  CHECK(api.getpeername(fd, reinterpret_cast<sockaddr*>(&sin), &len) == -ENOTCONN);
}

TEST_CASE("connect keeps an explicitly bound address and port", "[udp]") {
  Harness h;
  h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(bind_to(api, fd, "10.0.1.2", 5000) == 0);
  CHECK(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  CHECK(to_string(local_name(api, fd)) == "10.0.1.2:5000");
}

TEST_CASE("send on a connected socket goes to the peer, and sendto may still name another",
          "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  const std::uint16_t port = ntohs(local_name(api, fd).sin_port);
  CHECK(send_bytes(api, fd, pattern(5)) == 5);
  CHECK(send_to(api, fd, pattern(5), "10.0.0.1", 7001) == 5);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 2);
  const auto first = decode(frames[0]).rfind_pdu<Tins::UDP>();
  CHECK(first.sport() == port);
  CHECK(first.dport() == 7000);
  CHECK(decode(frames[1]).rfind_pdu<Tins::UDP>().dport() == 7001);
}

TEST_CASE("a connected socket receives only its peer's datagrams, and others earn port unreachable",
          "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(bind_to(api, fd, "0.0.0.0", 5000) == 0);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  const Bytes wrong_port = udp_datagram("10.0.0.1", "10.0.0.2", 7001, 5000, Bytes{1});
  const Bytes wrong_host = udp_datagram("10.0.0.3", "10.0.0.2", 7000, 5000, Bytes{2});
  h.inject_datagram(wrong_port);
  h.inject_datagram(wrong_host);
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 7000, 5000, Bytes{3}));
  const Received r = receive(api, fd);
  CHECK(r.data == Bytes{3});
  CHECK(to_string(r.from) == "10.0.0.1:7000");
  CHECK(receive(api, fd).result == -EAGAIN);
  CHECK(h.stats().udpNoPorts == 2);
  auto frames = h.take_bytes();
  // The port unreachable to 10.0.0.1, then an ARP request for 10.0.0.3 (whose unreachable
  // waits for the reply).
  REQUIRE(frames.size() == 2);
  check_icmp_error(frames[0], 3, 3, 0, wrong_port);
  CHECK(decode(frames[1]).find_pdu<Tins::ARP>() != nullptr);
}

TEST_CASE("connect with AF_UNSPEC dissolves the association", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(bind_to(api, fd, "0.0.0.0", 5000) == 0);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  CHECK(api.connect(fd, &unspec, sizeof unspec) == 0);
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  CHECK(api.getpeername(fd, reinterpret_cast<sockaddr*>(&sin), &len) == -ENOTCONN);
  CHECK(send_bytes(api, fd, pattern(4)) == -EDESTADDRREQ);
  // Any sender reaches it again.
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 7001, 5000, Bytes{1}));
  CHECK(receive(api, fd).data == Bytes{1});
}

TEST_CASE(
    "connect with AF_UNSPEC restores the wildcard local address connect chose "
    "(__udp_disconnect)",
    "[udp]") {
  // Linux resets inet_rcv_saddr unless bind() set it (SOCK_BINDADDR_LOCK), so a socket bound
  // to INADDR_ANY receives broadcasts and other local addresses again after disconnecting.
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(bind_to(api, fd, "0.0.0.0", 5000) == 0);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  REQUIRE(to_string(local_name(api, fd)) == "10.0.0.2:5000");
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  REQUIRE(api.connect(fd, &unspec, sizeof unspec) == 0);
  CHECK(to_string(local_name(api, fd)) == "0.0.0.0:5000");
  h.inject_bytes(ethernet_frame(udp_datagram("10.0.0.1", "255.255.255.255", 7000, 5000, Bytes{9}),
                                0x0800, MacAddress::broadcast(), kPeerMac));
  CHECK(receive(api, fd).data == Bytes{9});
}

TEST_CASE(
    "connect with AF_UNSPEC releases a port that connect bound implicitly "
    "(__udp_disconnect)",
    "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  REQUIRE(h.stack().udp().bound_ports() == 1);
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  REQUIRE(api.connect(fd, &unspec, sizeof unspec) == 0);
  CHECK(to_string(local_name(api, fd)) == "0.0.0.0:0");
  CHECK(h.stack().udp().bound_ports() == 0);
  // It may bind anew, explicitly.
  CHECK(bind_to(api, fd, "0.0.0.0", 5000) == 0);
}

TEST_CASE("connect to a new peer replaces the old one", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(bind_to(api, fd, "0.0.0.0", 5000) == 0);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7001) == 0);
  CHECK(to_string(peer_name(api, fd)) == "10.0.0.1:7001");
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 7000, 5000, Bytes{1}));
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 7001, 5000, Bytes{2}));
  CHECK(receive(api, fd).data == Bytes{2});
  CHECK(receive(api, fd).result == -EAGAIN);
}

TEST_CASE("connect to a broadcast address needs SO_BROADCAST (EACCES)", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(connect_to(api, fd, "255.255.255.255", 9) == -EACCES);
  CHECK(connect_to(api, fd, "10.0.0.255", 9) == -EACCES);
  REQUIRE(set_int(api, fd, SOL_SOCKET, SO_BROADCAST, 1) == 0);
  CHECK(connect_to(api, fd, "10.0.0.255", 9) == 0);
  CHECK(send_bytes(api, fd, pattern(3)) == 3);
  auto frames = h.take_bytes();
  REQUIRE(frames.size() == 1);
  CHECK(decode(frames[0]).dst_addr() == Tins::HWAddress<6>("ff:ff:ff:ff:ff:ff"));
}

TEST_CASE("connect where no route leads fails with ENETUNREACH", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(connect_to(api, fd, "192.0.2.1", 7) == -ENETUNREACH);
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  CHECK(api.getpeername(fd, reinterpret_cast<sockaddr*>(&sin), &len) == -ENOTCONN);
}

TEST_CASE("connect with a short address fails with EINVAL, a foreign family with EAFNOSUPPORT",
          "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  sockaddr_in sin = inet("10.0.0.1", 7);
  CHECK(api.connect(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin - 1) == -EINVAL);
  CHECK(api.connect(fd, nullptr, 0) == -EINVAL);
  sin.sin_family = AF_INET6;
  CHECK(api.connect(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) == -EAFNOSUPPORT);
}

TEST_CASE(
    "a port unreachable about a connected socket's datagram makes the next recv fail "
    "with ECONNREFUSED, once",
    "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  inject_port_unreachable(h, sent_datagram(h, fd));
  CHECK(h.stats().icmpInDestUnreachs == 1);
  CHECK(receive(api, fd).result == -ECONNREFUSED);
  CHECK(receive(api, fd).result == -EAGAIN);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_ERROR) == 0);
}

TEST_CASE(
    "a port unreachable makes the next send on the connected socket fail with "
    "ECONNREFUSED, once",
    "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  inject_port_unreachable(h, sent_datagram(h, fd));
  CHECK(send_bytes(api, fd, pattern(4)) == -ECONNREFUSED);
  CHECK(h.take_bytes().empty());
  CHECK(send_bytes(api, fd, pattern(4)) == 4);
  CHECK(h.take_bytes().size() == 1);
}

TEST_CASE("SO_ERROR reports the pending ECONNREFUSED and clears it", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  inject_port_unreachable(h, sent_datagram(h, fd));
  CHECK(get_int(api, fd, SOL_SOCKET, SO_ERROR) == ECONNREFUSED);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_ERROR) == 0);
  CHECK(receive(api, fd).result == -EAGAIN);
}

TEST_CASE("a port unreachable about another peer's port leaves the connected socket alone",
          "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  // What this socket would have sent to port 7001 had it not been connected.
  const Bytes other = sent_datagram(h, fd, "10.0.0.1", 7001);
  inject_port_unreachable(h, other);
  CHECK(get_int(api, fd, SOL_SOCKET, SO_ERROR) == 0);
}

TEST_CASE("an unconnected socket hears of a port unreachable only with IP_RECVERR", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  const bool recverr = GENERATE(false, true);
  CAPTURE(recverr);
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_RECVERR, recverr ? 1 : 0) == 0);
  inject_port_unreachable(h, sent_datagram(h, fd, "10.0.0.1", 7000));
  CHECK(h.stats().icmpInDestUnreachs == 1);
  if (recverr) {
    CHECK(receive(api, fd).result == -ECONNREFUSED);
  } else {
    CHECK(receive(api, fd).result == -EAGAIN);
    CHECK(get_int(api, fd, SOL_SOCKET, SO_ERROR) == 0);
    CHECK(send_to(api, fd, pattern(4), "10.0.0.1", 7000) == 4);
  }
}

TEST_CASE("a pending error is reported before queued data, then the data is read", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 7000) == 0);
  const Bytes sent = sent_datagram(h, fd);
  const std::uint16_t port = ntohs(local_name(api, fd).sin_port);
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 7000, port, Bytes{5}));
  inject_port_unreachable(h, sent);
  CHECK(receive(api, fd).result == -ECONNREFUSED);
  CHECK(receive(api, fd).data == Bytes{5});
}
