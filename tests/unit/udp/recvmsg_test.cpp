// recv/recvmsg on UDP sockets: EAGAIN, MSG_PEEK, MSG_TRUNC, FIONREAD, ancillary data, shutdown.
#include <catch2/catch.hpp>

#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "support/udp_frames.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

int bound_socket(Harness& h, std::uint16_t port = 5000) {
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(bind_to(api, fd, "0.0.0.0", port) == 0);
  return fd;
}

void inject_from_peer(Harness& h, const Bytes& payload, std::uint8_t ttl = 64) {
  h.inject_datagram(udp_datagram("10.0.0.1", "10.0.0.2", 6000, 5000, payload, ttl));
}

}  // namespace

TEST_CASE("recv on an empty queue returns EAGAIN (the core never blocks)", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  std::uint8_t buf[16];
  CHECK(api.recvfrom(fd, buf, sizeof buf, 0, nullptr, nullptr) == -EAGAIN);
  CHECK(api.recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, nullptr, nullptr) == -EAGAIN);
  // Unbound sockets too.
  CHECK(api.recvfrom(api.socket(AF_INET, SOCK_DGRAM, 0), buf, sizeof buf, 0, nullptr, nullptr) ==
        -EAGAIN);
}

TEST_CASE("datagrams are received one per call, in arrival order, boundaries kept", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  inject_from_peer(h, pattern(10, 1));
  inject_from_peer(h, pattern(20, 2));
  inject_from_peer(h, {});
  const Received a = receive(api, fd);
  const Received b = receive(api, fd);
  const Received c = receive(api, fd);
  CHECK(a.data == pattern(10, 1));
  CHECK(b.data == pattern(20, 2));
  CHECK(c.result == 0);  // an empty datagram is a datagram
  CHECK(c.msg_flags == 0);
  CHECK(receive(api, fd).result == -EAGAIN);
}

TEST_CASE("MSG_PEEK returns the next datagram and leaves it queued", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  inject_from_peer(h, pattern(10, 1));
  inject_from_peer(h, pattern(5, 2));
  const Received peeked = receive(api, fd, 100, MSG_PEEK);
  CHECK(peeked.result == 10);
  CHECK(peeked.data == pattern(10, 1));
  CHECK(to_string(peeked.from) == "10.0.0.1:6000");
  CHECK(receive(api, fd, 100, MSG_PEEK).data == pattern(10, 1));
  CHECK(receive(api, fd).data == pattern(10, 1));
  CHECK(receive(api, fd).data == pattern(5, 2));
  CHECK(receive(api, fd).result == -EAGAIN);
}

TEST_CASE(
    "a datagram longer than the buffer is truncated, MSG_TRUNC set in msg_flags, and the "
    "rest discarded",
    "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  inject_from_peer(h, pattern(100));
  inject_from_peer(h, pattern(3, 7));
  const Received r = receive(api, fd, 10);
  CHECK(r.result == 10);
  CHECK(r.data == pattern(10));
  CHECK((r.msg_flags & MSG_TRUNC) != 0);
  // udp(7): the excess is lost; the next call reads the next datagram, whole, without the flag.
  const Received next = receive(api, fd, 10);
  CHECK(next.result == 3);
  CHECK(next.data == pattern(3, 7));
  CHECK(next.msg_flags == 0);
}

TEST_CASE("with MSG_TRUNC in flags recv returns the datagram's real length (recv(2), Linux)",
          "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  inject_from_peer(h, pattern(100));
  inject_from_peer(h, pattern(100));
  SECTION("recvmsg") {
    const Received r = receive(api, fd, 10, MSG_TRUNC);
    CHECK(r.result == 100);
    CHECK(r.data == pattern(10));  // only what fits was copied
    CHECK((r.msg_flags & MSG_TRUNC) != 0);
  }
  SECTION("with MSG_PEEK, to size a buffer before reading") {
    std::uint8_t none = 0;
    CHECK(api.recvfrom(fd, &none, 0, MSG_PEEK | MSG_TRUNC, nullptr, nullptr) == 100);
    CHECK(receive(api, fd).result == 100);
  }
  SECTION("a buffer large enough") {
    const Received r = receive(api, fd, 200, MSG_TRUNC);
    CHECK(r.result == 100);
    CHECK(r.msg_flags == 0);
  }
  CHECK(receive(api, fd).result == 100);
  CHECK(receive(api, fd).result == -EAGAIN);
}

TEST_CASE("recvmsg scatters one datagram across its iovecs, skipping empty ones", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  inject_from_peer(h, pattern(10));
  Bytes a(4);
  Bytes c(10, 0xee);
  // An empty iovec may have a null base (readv(2) accepts it): nothing may be copied there.
  iovec iov[3] = {{a.data(), a.size()}, {nullptr, 0}, {c.data(), c.size()}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 3;
  CHECK(api.recvmsg(fd, &msg, 0) == 10);
  CHECK(a == Bytes{0, 1, 2, 3});
  CHECK(c == Bytes{4, 5, 6, 7, 8, 9, 0xee, 0xee, 0xee, 0xee});
  CHECK(msg.msg_namelen == 0);  // no name buffer: none reported
  CHECK(msg.msg_controllen == 0);
}

TEST_CASE(
    "recvfrom with a short address buffer truncates the address and reports its full "
    "length",
    "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  inject_from_peer(h, pattern(1));
  std::uint8_t name[4] = {};
  socklen_t len = sizeof name;
  std::uint8_t buf[4];
  CHECK(api.recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(name), &len) == 1);
  CHECK(len == sizeof(sockaddr_in));
  sockaddr_in full = inet("10.0.0.1", 6000);
  CHECK(std::memcmp(name, &full, sizeof name) == 0);
}

TEST_CASE("FIONREAD gives the size of the next datagram, not of the whole queue (Linux UDP)",
          "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  int n = -1;
  CHECK(api.ioctl(fd, FIONREAD, &n) == 0);
  CHECK(n == 0);
  inject_from_peer(h, pattern(10));
  inject_from_peer(h, pattern(20));
  CHECK(api.ioctl(fd, FIONREAD, &n) == 0);
  CHECK(n == 10);
  receive(api, fd);
  CHECK(api.ioctl(fd, FIONREAD, &n) == 0);
  CHECK(n == 20);
  receive(api, fd);
  CHECK(api.ioctl(fd, FIONREAD, &n) == 0);
  CHECK(n == 0);
  CHECK(api.ioctl(fd, FIONBIO, &n) == -ENOTTY);
  CHECK(api.ioctl(fd, FIONREAD, nullptr) == -EFAULT);
}

TEST_CASE("IP_PKTINFO and IP_RECVTTL deliver in_pktinfo and the TTL as control messages", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_PKTINFO, 1) == 0);
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_RECVTTL, 1) == 0);
  const bool broadcast = GENERATE(false, true);
  CAPTURE(broadcast);
  const std::string dst = broadcast ? "255.255.255.255" : "10.0.0.2";
  const Bytes datagram = udp_datagram("10.0.0.1", dst, 6000, 5000, pattern(8), 42);
  h.inject_bytes(
      ethernet_frame(datagram, 0x0800, broadcast ? MacAddress::broadcast() : kHostMac, kPeerMac));

  Bytes buf(64);
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) std::uint8_t control[CMSG_SPACE(sizeof(in_pktinfo)) + CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  REQUIRE(api.recvmsg(fd, &msg, 0) == 8);
  CHECK(msg.msg_flags == 0);
  CHECK(msg.msg_controllen == sizeof control);

  cmsghdr* first = CMSG_FIRSTHDR(&msg);
  REQUIRE(first != nullptr);
  CHECK(first->cmsg_level == IPPROTO_IP);
  CHECK(first->cmsg_type == IP_PKTINFO);
  CHECK(first->cmsg_len == CMSG_LEN(sizeof(in_pktinfo)));
  in_pktinfo info{};
  std::memcpy(&info, CMSG_DATA(first), sizeof info);
  CHECK(info.ipi_ifindex == 1);  // netif 0
  // ipi_addr: the datagram's destination; ipi_spec_dst: our address it arrived for.
  CHECK(Ipv4Address{ntohl(info.ipi_addr.s_addr)} == *Ipv4Address::parse(dst));
  CHECK(Ipv4Address{ntohl(info.ipi_spec_dst.s_addr)} == Ipv4Address{10, 0, 0, 2});

  cmsghdr* second = CMSG_NXTHDR(&msg, first);
  REQUIRE(second != nullptr);
  CHECK(second->cmsg_level == IPPROTO_IP);
  CHECK(second->cmsg_type == IP_TTL);
  CHECK(second->cmsg_len == CMSG_LEN(sizeof(int)));
  int ttl = 0;
  std::memcpy(&ttl, CMSG_DATA(second), sizeof ttl);
  CHECK(ttl == 42);
  CHECK(CMSG_NXTHDR(&msg, second) == nullptr);
}

TEST_CASE("without IP_PKTINFO/IP_RECVTTL no control message is returned", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  inject_from_peer(h, pattern(8));
  Bytes buf(64);
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) std::uint8_t control[64];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  REQUIRE(api.recvmsg(fd, &msg, 0) == 8);
  CHECK(msg.msg_controllen == 0);
  CHECK(CMSG_FIRSTHDR(&msg) == nullptr);
}

TEST_CASE("a control buffer too small for the ancillary data sets MSG_CTRUNC", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_PKTINFO, 1) == 0);
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_RECVTTL, 1) == 0);
  inject_from_peer(h, pattern(8), 9);
  Bytes buf(64);
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) std::uint8_t control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  // The datagram itself is still delivered whole.
  REQUIRE(api.recvmsg(fd, &msg, 0) == 8);
  CHECK((msg.msg_flags & MSG_CTRUNC) != 0);
  CHECK(msg.msg_controllen <= sizeof control);
  CHECK(Bytes(buf.begin(), buf.begin() + 8) == pattern(8));
}

TEST_CASE("ancillary data without a control buffer sets MSG_CTRUNC (put_cmsg)", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_RECVTTL, 1) == 0);
  inject_from_peer(h, pattern(8));
  const Received r = receive(api, fd);
  CHECK(r.result == 8);
  CHECK(r.msg_flags == MSG_CTRUNC);
}

TEST_CASE("recv with MSG_OOB fails with EOPNOTSUPP", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  inject_from_peer(h, pattern(8));
  CHECK(receive(api, fd, 64, MSG_OOB).result == -EOPNOTSUPP);
  CHECK(receive(api, fd).result == 8);
}

TEST_CASE("after shutdown(SHUT_RD) recv returns queued data, then 0 instead of EAGAIN", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 6000) == 0);
  inject_from_peer(h, pattern(8));
  CHECK(api.shutdown(fd, SHUT_RD) == 0);  // connected: no ENOTCONN
  CHECK(receive(api, fd).result == 8);
  CHECK(receive(api, fd).result == 0);
  CHECK(receive(api, fd).result == 0);
  // Sending still works: only the read side was shut.
  CHECK(send_bytes(api, fd, pattern(4)) == 4);
}

TEST_CASE(
    "shutdown on an unconnected UDP socket fails with ENOTCONN but still shuts "
    "(inet_shutdown)",
    "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  CHECK(api.shutdown(fd, SHUT_RD) == -ENOTCONN);
  CHECK(api.find(fd)->shut_rd);
  CHECK(receive(api, fd).result == 0);
  CHECK(api.shutdown(fd, SHUT_WR) == -ENOTCONN);
  CHECK(api.find(fd)->shut_wr);
  CHECK(send_to(api, fd, pattern(4), "10.0.0.1", 7) == -EPIPE);
}

TEST_CASE("shutdown with an invalid how fails with EINVAL", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  CHECK(api.shutdown(fd, 3) == -EINVAL);
  CHECK(api.shutdown(fd, -1) == -EINVAL);
  CHECK_FALSE(api.find(fd)->shut_rd);
  CHECK_FALSE(api.find(fd)->shut_wr);
}

TEST_CASE("send after shutdown(SHUT_WR) fails with EPIPE, and receiving still works", "[udp]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = bound_socket(h);
  REQUIRE(connect_to(api, fd, "10.0.0.1", 6000) == 0);
  CHECK(api.shutdown(fd, SHUT_WR) == 0);
  CHECK(send_bytes(api, fd, pattern(4)) == -EPIPE);
  CHECK(send_to(api, fd, pattern(4), "10.0.0.1", 7) == -EPIPE);
  CHECK(h.take_bytes().empty());
  inject_from_peer(h, pattern(8));
  CHECK(receive(api, fd).result == 8);
}
