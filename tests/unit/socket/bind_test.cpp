// bind(2) for UDP: address conflicts (Linux's SO_REUSEADDR rules), errnos, ephemeral ports.
#include <catch2/catch.hpp>

#include <cerrno>
#include <set>

#include "support/udp_frames.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

int udp_socket(sock::Api& api) {
  return api.socket(AF_INET, SOCK_DGRAM, 0);
}

}  // namespace

TEST_CASE("bind to our address or INADDR_ANY succeeds and getsockname shows it", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int a = udp_socket(api);
  const int b = udp_socket(api);
  CHECK(bind_to(api, a, "10.0.0.2", 5000) == 0);
  CHECK(bind_to(api, b, "0.0.0.0", 5001) == 0);
  CHECK(to_string(local_name(api, a)) == "10.0.0.2:5000");
  CHECK(to_string(local_name(api, b)) == "0.0.0.0:5001");
  CHECK(h.stack().udp().bound_ports() == 2);
}

TEST_CASE("an unbound UDP socket's name is 0.0.0.0:0", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(api);
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  CHECK(api.getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0);
  CHECK(len == sizeof sin);
  CHECK(sin.sin_family == AF_INET);
  CHECK(to_string(sin) == "0.0.0.0:0");
}

TEST_CASE("a second bind to the same address and port fails with EADDRINUSE", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int a = udp_socket(api);
  const int b = udp_socket(api);
  SECTION("INADDR_ANY twice") {
    REQUIRE(bind_to(api, a, "0.0.0.0", 5000) == 0);
    CHECK(bind_to(api, b, "0.0.0.0", 5000) == -EADDRINUSE);
  }
  SECTION("the same specific address twice") {
    REQUIRE(bind_to(api, a, "10.0.0.2", 5000) == 0);
    CHECK(bind_to(api, b, "10.0.0.2", 5000) == -EADDRINUSE);
  }
  SECTION("only one of the two set SO_REUSEADDR") {
    REQUIRE(set_int(api, a, SOL_SOCKET, SO_REUSEADDR, 1) == 0);
    REQUIRE(bind_to(api, a, "0.0.0.0", 5000) == 0);
    CHECK(bind_to(api, b, "0.0.0.0", 5000) == -EADDRINUSE);
  }
  // The failed bind left b unbound: it can still bind elsewhere.
  CHECK(to_string(local_name(api, b)) == "0.0.0.0:0");
  CHECK(bind_to(api, b, "0.0.0.0", 5001) == 0);
}

TEST_CASE("two sockets that both set SO_REUSEADDR may bind the same port (Linux UDP)", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int a = udp_socket(api);
  const int b = udp_socket(api);
  const int c = udp_socket(api);
  for (int fd : {a, b, c}) REQUIRE(set_int(api, fd, SOL_SOCKET, SO_REUSEADDR, 1) == 0);
  CHECK(bind_to(api, a, "0.0.0.0", 5000) == 0);
  CHECK(bind_to(api, b, "0.0.0.0", 5000) == 0);
  CHECK(bind_to(api, c, "10.0.0.2", 5000) == 0);
  // A fourth without SO_REUSEADDR is refused.
  const int d = udp_socket(api);
  CHECK(bind_to(api, d, "0.0.0.0", 5000) == -EADDRINUSE);
}

TEST_CASE("binding one port on two distinct specific addresses is allowed", "[socket]") {
  Harness h;
  h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
  auto& api = h.stack().sockets();
  const int a = udp_socket(api);
  const int b = udp_socket(api);
  CHECK(bind_to(api, a, "10.0.0.2", 5000) == 0);
  CHECK(bind_to(api, b, "10.0.1.2", 5000) == 0);
}

TEST_CASE("a specific address and INADDR_ANY on one port conflict, in either order (EADDRINUSE)",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int a = udp_socket(api);
  const int b = udp_socket(api);
  SECTION("specific first") {
    REQUIRE(bind_to(api, a, "10.0.0.2", 5000) == 0);
    CHECK(bind_to(api, b, "0.0.0.0", 5000) == -EADDRINUSE);
  }
  SECTION("INADDR_ANY first") {
    REQUIRE(bind_to(api, a, "0.0.0.0", 5000) == 0);
    CHECK(bind_to(api, b, "10.0.0.2", 5000) == -EADDRINUSE);
  }
}

TEST_CASE("bind to an address that is not ours fails with EADDRNOTAVAIL", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(api);
  CHECK(bind_to(api, fd, "10.0.0.1", 5000) == -EADDRNOTAVAIL);  // the peer's
  CHECK(bind_to(api, fd, "192.0.2.7", 5000) == -EADDRNOTAVAIL);
  CHECK(bind_to(api, fd, "10.0.0.0", 5000) == -EADDRNOTAVAIL);  // the network address
  CHECK(to_string(local_name(api, fd)) == "0.0.0.0:0");
  CHECK(h.stack().udp().bound_ports() == 0);
}

TEST_CASE("bind to the limited or our subnet broadcast address is allowed (Linux RTN_BROADCAST)",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  CHECK(bind_to(api, udp_socket(api), "255.255.255.255", 5000) == 0);
  CHECK(bind_to(api, udp_socket(api), "10.0.0.255", 5001) == 0);
}

TEST_CASE("bind on a socket that already has a port fails with EINVAL", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(api);
  SECTION("after an explicit bind") {
    REQUIRE(bind_to(api, fd, "0.0.0.0", 5000) == 0);
    CHECK(bind_to(api, fd, "0.0.0.0", 5001) == -EINVAL);
    CHECK(bind_to(api, fd, "0.0.0.0", 5000) == -EINVAL);
    CHECK(to_string(local_name(api, fd)) == "0.0.0.0:5000");
  }
  SECTION("after sendto bound it implicitly") {
    REQUIRE(send_to(api, fd, pattern(4), "10.0.0.1", 7) == 4);
    CHECK(bind_to(api, fd, "0.0.0.0", 5001) == -EINVAL);
  }
}

TEST_CASE("bind with a family other than AF_INET fails with EAFNOSUPPORT", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(api);
  sockaddr_in sin = inet("10.0.0.2", 5000);
  sin.sin_family = AF_INET6;
  CHECK(api.bind(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) == -EAFNOSUPPORT);
  sin.sin_family = AF_PACKET;
  CHECK(api.bind(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) == -EAFNOSUPPORT);
}

TEST_CASE("bind with AF_UNSPEC and INADDR_ANY is taken as AF_INET (Linux __inet_bind compat)",
          "[socket]") {
  // Linux (since 4.18, "relax AF_INET check in bind()"): AF_UNSPEC is accepted when the
  // address is INADDR_ANY, for old programs that leave sin_family zero; otherwise
  // EAFNOSUPPORT.
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(api);
  sockaddr_in sin = inet("10.0.0.2", 5000);
  sin.sin_family = AF_UNSPEC;
  CHECK(api.bind(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) == -EAFNOSUPPORT);
  sin = inet("0.0.0.0", 5000);
  sin.sin_family = AF_UNSPEC;
  CHECK(api.bind(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) == 0);
  CHECK(to_string(local_name(api, fd)) == "0.0.0.0:5000");
}

TEST_CASE("bind with an address shorter than sockaddr_in or none fails with EINVAL", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(api);
  const sockaddr_in sin = inet("0.0.0.0", 5000);
  CHECK(api.bind(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin - 1) == -EINVAL);
  CHECK(api.bind(fd, nullptr, 0) == -EINVAL);
}

TEST_CASE("bind on an fd that is not a socket fails with EBADF", "[socket]") {
  Harness h;
  CHECK(bind_to(h.stack().sockets(), 3, "0.0.0.0", 5000) == -EBADF);
  CHECK(bind_to(h.stack().sockets(), -1, "0.0.0.0", 5000) == -EBADF);
}

TEST_CASE("bind to port 0 picks an ephemeral port in [32768, 60999], a different one each time",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  std::set<std::uint16_t> ports;
  for (int i = 0; i < 20; ++i) {
    const int fd = udp_socket(api);
    REQUIRE(bind_to(api, fd, "0.0.0.0", 0) == 0);
    const std::uint16_t port = ntohs(local_name(api, fd).sin_port);
    CHECK(port >= 32768);
    CHECK(port <= 60999);
    ports.insert(port);
  }
  CHECK(ports.size() == 20);
  CHECK(h.stack().udp().bound_ports() == 20);
}

TEST_CASE("ephemeral ports are randomised per RFC 6056: two seeds start at different ports",
          "[socket]") {
  StackConfig one;
  one.seed = 1;
  StackConfig two;
  two.seed = 2;
  Harness h1(one);
  Harness h2(two);
  auto first_port = [](Harness& h) {
    auto& api = h.stack().sockets();
    const int fd = api.socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(bind_to(api, fd, "0.0.0.0", 0) == 0);
    return ntohs(local_name(api, fd).sin_port);
  };
  CHECK(first_port(h1) != first_port(h2));
}

TEST_CASE("an ephemeral port never collides with an explicitly bound one", "[socket]") {
  StackConfig config;
  config.ephemeral_ports = {40000, 40001};
  Harness h(config);
  auto& api = h.stack().sockets();
  REQUIRE(bind_to(api, udp_socket(api), "0.0.0.0", 40000) == 0);
  const int fd = udp_socket(api);
  REQUIRE(bind_to(api, fd, "0.0.0.0", 0) == 0);
  CHECK(ntohs(local_name(api, fd).sin_port) == 40001);
}

TEST_CASE(
    "with the ephemeral range exhausted bind(0) fails with EADDRINUSE, an implicit bind "
    "in sendto or connect with EAGAIN",
    "[socket]") {
  StackConfig config;
  config.ephemeral_ports = {40000, 40002};
  Harness h(config);
  auto& api = h.stack().sockets();
  std::set<std::uint16_t> ports;
  for (int i = 0; i < 3; ++i) {
    const int fd = udp_socket(api);
    REQUIRE(bind_to(api, fd, "0.0.0.0", 0) == 0);
    ports.insert(ntohs(local_name(api, fd).sin_port));
  }
  CHECK(ports == std::set<std::uint16_t>{40000, 40001, 40002});

  const int fd = udp_socket(api);
  // inet_bind -> udp_v4_get_port fails: EADDRINUSE.
  CHECK(bind_to(api, fd, "0.0.0.0", 0) == -EADDRINUSE);
  // inet_autobind fails: EAGAIN (udp_sendmsg, ip4_datagram_connect).
  CHECK(send_to(api, fd, pattern(8), "10.0.0.1", 7) == -EAGAIN);
  CHECK(connect_to(api, fd, "10.0.0.1", 7) == -EAGAIN);
  CHECK(h.take_bytes().empty());
  CHECK(h.stats().udpOutDatagrams == 0);
  // Closing one frees its port for the next.
  CHECK(api.close(3) == 0);
  CHECK(send_to(api, fd, pattern(8), "10.0.0.1", 7) == 8);
  CHECK(h.take_bytes().size() == 1);
}
