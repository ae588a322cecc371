// socket(2), close(2) and fcntl(2) on the non-blocking core: which sockets exist, their fds.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/if_ether.h>
#include <sys/ioctl.h>

#include <cerrno>

#include "support/udp_frames.hpp"

using namespace tapir;
using namespace tapir::test;

TEST_CASE("socket(AF_INET, SOCK_DGRAM, 0) and IPPROTO_UDP make UDP sockets from fd 3 up",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int a = api.socket(AF_INET, SOCK_DGRAM, 0);
  const int b = api.socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  CHECK(a == 3);
  CHECK(b == 4);
  CHECK(get_int(api, a, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
  CHECK(get_int(api, b, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_UDP);
  CHECK(get_int(api, a, SOL_SOCKET, SO_DOMAIN) == AF_INET);
  CHECK(api.count() == 2);
}

TEST_CASE("socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP) fails with EPROTONOSUPPORT", "[socket]") {
  Harness h;
  CHECK(h.stack().sockets().socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP) == -EPROTONOSUPPORT);
  CHECK(h.stack().sockets().count() == 0);
}

TEST_CASE("socket(AF_INET, SOCK_RAW, 0) fails with EPROTONOSUPPORT, as raw(7) says", "[socket]") {
  Harness h;
  CHECK(h.stack().sockets().socket(AF_INET, SOCK_RAW, 0) == -EPROTONOSUPPORT);
  CHECK(h.stack().sockets().count() == 0);
}

TEST_CASE("socket() of an unknown domain fails with EAFNOSUPPORT", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  CHECK(api.socket(AF_INET6, SOCK_DGRAM, 0) == -EAFNOSUPPORT);
  CHECK(api.socket(AF_UNIX, SOCK_DGRAM, 0) == -EAFNOSUPPORT);
  CHECK(api.socket(12345, SOCK_DGRAM, 0) == -EAFNOSUPPORT);
  CHECK(api.count() == 0);
}

TEST_CASE("socket(AF_INET, SOCK_STREAM) makes a TCP socket, another protocol EPROTONOSUPPORT",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  int protocol = 0;
  socklen_t len = sizeof protocol;
  CHECK(api.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0);
  CHECK(protocol == IPPROTO_TCP);
  CHECK(api.socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) >= 0);
  CHECK(api.socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) == -EPROTONOSUPPORT);
  CHECK(api.count() == 2);
}

TEST_CASE("socket() with an invalid type fails with EINVAL, an unsupported one ESOCKTNOSUPPORT",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  CHECK(api.socket(AF_INET, 0, 0) == -EINVAL);
  CHECK(api.socket(AF_INET, 99, 0) == -EINVAL);
  CHECK(api.socket(AF_INET, SOCK_SEQPACKET, 0) == -ESOCKTNOSUPPORT);
  CHECK(api.socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)) == -ESOCKTNOSUPPORT);
}

TEST_CASE("close() frees the fd and the lowest free fd is reused, as POSIX requires", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  REQUIRE(api.socket(AF_INET, SOCK_DGRAM, 0) == 3);
  REQUIRE(api.socket(AF_INET, SOCK_DGRAM, 0) == 4);
  REQUIRE(api.socket(AF_INET, SOCK_DGRAM, 0) == 5);
  CHECK(api.close(4) == 0);
  CHECK(api.close(3) == 0);
  CHECK(api.socket(AF_INET, SOCK_DGRAM, 0) == 3);
  CHECK(api.socket(AF_INET, SOCK_DGRAM, 0) == 4);
  CHECK(api.socket(AF_INET, SOCK_DGRAM, 0) == 6);
  CHECK(api.count() == 4);
}

TEST_CASE("close() of an unknown or already closed fd fails with EBADF", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  CHECK(api.close(3) == -EBADF);
  const int fd = api.socket(AF_INET, SOCK_DGRAM, 0);
  CHECK(api.close(fd) == 0);
  CHECK(api.close(fd) == -EBADF);
  CHECK(api.close(-1) == -EBADF);
}

TEST_CASE("close() releases the port: another socket can bind it at once", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int a = api.socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(bind_to(api, a, "0.0.0.0", 5000) == 0);
  const int b = api.socket(AF_INET, SOCK_DGRAM, 0);
  CHECK(bind_to(api, b, "0.0.0.0", 5000) == -EADDRINUSE);
  CHECK(api.close(a) == 0);
  CHECK(bind_to(api, b, "0.0.0.0", 5000) == 0);
  CHECK(h.stack().udp().bound_ports() == 1);
}

TEST_CASE("SOCK_NONBLOCK in socket()'s type is honoured and shows as O_NONBLOCK", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int blocking = api.socket(AF_INET, SOCK_DGRAM, 0);
  const int nonblocking = api.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  REQUIRE(nonblocking > 0);
  CHECK(api.find(nonblocking)->nonblocking);
  CHECK(api.find(nonblocking)->type == SOCK_DGRAM);
  CHECK(api.fcntl(nonblocking, F_GETFL, 0) == (O_RDWR | O_NONBLOCK));
  CHECK_FALSE(api.find(blocking)->nonblocking);
  CHECK(api.fcntl(blocking, F_GETFL, 0) == O_RDWR);
  // SO_TYPE reports the type without the flags, as Linux.
  CHECK(get_int(api, nonblocking, SOL_SOCKET, SO_TYPE) == SOCK_DGRAM);
}

TEST_CASE("fcntl F_SETFL O_NONBLOCK sets and clears non-blocking mode, and F_GETFL reads it back",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_DGRAM, 0);
  CHECK(api.fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
  CHECK(api.fcntl(fd, F_GETFL, 0) == (O_RDWR | O_NONBLOCK));
  CHECK(api.find(fd)->nonblocking);
  CHECK(api.fcntl(fd, F_SETFL, 0) == 0);
  CHECK(api.fcntl(fd, F_GETFL, 0) == O_RDWR);
  CHECK_FALSE(api.find(fd)->nonblocking);
  CHECK(api.fcntl(fd, F_GETFD, 0) == -EINVAL);
  CHECK(api.fcntl(99, F_GETFL, 0) == -EBADF);
}

TEST_CASE("listen() and accept() on a datagram socket fail with EOPNOTSUPP, EBADF on no socket",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = api.socket(AF_INET, SOCK_DGRAM, 0);
  CHECK(api.listen(fd, 5) == -EOPNOTSUPP);
  CHECK(api.accept(fd, nullptr, nullptr) == -EOPNOTSUPP);
  CHECK(api.listen(99, 5) == -EBADF);
  CHECK(api.accept(99, nullptr, nullptr) == -EBADF);
}

TEST_CASE("every call on an fd that is not a socket fails with EBADF", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int bad = 42;
  const sockaddr_in sin = inet("10.0.0.1", 7);
  const auto* sa = reinterpret_cast<const sockaddr*>(&sin);
  std::uint8_t buf[4] = {};
  sockaddr_in out{};
  socklen_t len = sizeof out;
  int v = 1;
  socklen_t vlen = sizeof v;
  CHECK(api.bind(bad, sa, sizeof sin) == -EBADF);
  CHECK(api.connect(bad, sa, sizeof sin) == -EBADF);
  CHECK(api.sendto(bad, buf, sizeof buf, 0, sa, sizeof sin) == -EBADF);
  CHECK(api.recvfrom(bad, buf, sizeof buf, 0, nullptr, nullptr) == -EBADF);
  CHECK(api.shutdown(bad, SHUT_RDWR) == -EBADF);
  CHECK(api.getsockname(bad, reinterpret_cast<sockaddr*>(&out), &len) == -EBADF);
  CHECK(api.getpeername(bad, reinterpret_cast<sockaddr*>(&out), &len) == -EBADF);
  CHECK(api.setsockopt(bad, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v) == -EBADF);
  CHECK(api.getsockopt(bad, SOL_SOCKET, SO_REUSEADDR, &v, &vlen) == -EBADF);
  CHECK(api.ioctl(bad, FIONREAD, &v) == -EBADF);
}
