// Two tapir stacks exchange UDP over a memory link through the socket API, byte-exact.
#include <catch2/catch.hpp>

#include <cerrno>

#include "support/network.hpp"
#include "support/udp_frames.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

struct Pair {
  Network net;
  std::size_t a = 0;  // 10.0.0.1
  std::size_t b = 0;  // 10.0.0.2
  Pair() {
    auto [port_a, port_b] = MemoryLink::pair(LinkConfig{});
    a = net.add_host("10.0.0.1/24", "02:00:00:00:00:01", std::move(port_a));
    b = net.add_host("10.0.0.2/24", "02:00:00:00:00:02", std::move(port_b));
    net.run_for(1s);  // the gratuitous announcements
  }
  sock::Api& api_a() { return net.host(a).sockets(); }
  sock::Api& api_b() { return net.host(b).sockets(); }
};

}  // namespace

TEST_CASE("two stacks on a memory link: B binds, A sendto's, B reads the bytes and A's address",
          "[udp]") {
  Pair p;
  const int server = p.api_b().socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(bind_to(p.api_b(), server, "0.0.0.0", 7) == 0);
  const int client = p.api_a().socket(AF_INET, SOCK_DGRAM, 0);
  const std::size_t size = GENERATE(std::size_t{1}, std::size_t{1472}, std::size_t{30000});
  CAPTURE(size);
  const Bytes payload = pattern(size, 0x5a);
  CHECK(send_to(p.api_a(), client, payload, "10.0.0.2", 7) == static_cast<ssize_t>(size));
  p.net.run_for(100ms);

  const Received r = receive(p.api_b(), server);
  CHECK(r.result == static_cast<ssize_t>(size));
  CHECK(r.data == payload);
  CHECK(Ipv4Address{ntohl(r.from.sin_addr.s_addr)} == Ipv4Address{10, 0, 0, 1});
  CHECK(r.from.sin_port == local_name(p.api_a(), client).sin_port);
  CHECK(receive(p.api_b(), server).result == -EAGAIN);
  if (size > 1472) {
    // 30000 bytes: 30008 of UDP in 21 fragments of up to 1480.
    CHECK(p.net.host(p.a).stats().ipFragCreates == 21);
    CHECK(p.net.host(p.b).stats().ipReasmOKs == 1);
  }
}

TEST_CASE("two stacks: an echo round trip through connected sockets", "[udp]") {
  Pair p;
  const int server = p.api_b().socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(bind_to(p.api_b(), server, "0.0.0.0", 7) == 0);
  const int client = p.api_a().socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(connect_to(p.api_a(), client, "10.0.0.2", 7) == 0);

  const Bytes request = pattern(30000, 1);
  REQUIRE(send_bytes(p.api_a(), client, request) == 30000);
  p.net.run_for(100ms);
  const Received got = receive(p.api_b(), server);
  REQUIRE(got.data == request);
  // The server answers whoever asked, as an echo server does.
  REQUIRE(p.api_b().sendto(server, got.data.data(), got.data.size(), 0,
                           reinterpret_cast<const sockaddr*>(&got.from), sizeof got.from) == 30000);
  p.net.run_for(100ms);
  const Received echoed = receive(p.api_a(), client);
  CHECK(echoed.data == request);
  CHECK(to_string(echoed.from) == "10.0.0.2:7");
}

TEST_CASE(
    "two stacks: a datagram to a closed port comes back as ECONNREFUSED on the connected "
    "sender",
    "[udp]") {
  Pair p;
  const int client = p.api_a().socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(connect_to(p.api_a(), client, "10.0.0.2", 9999) == 0);
  REQUIRE(send_bytes(p.api_a(), client, pattern(10)) == 10);
  p.net.run_for(100ms);
  CHECK(p.net.host(p.b).stats().udpNoPorts == 1);
  CHECK(receive(p.api_a(), client).result == -ECONNREFUSED);
  CHECK(receive(p.api_a(), client).result == -EAGAIN);
}

TEST_CASE("two stacks: a broadcast from A reaches B's socket with SO_BROADCAST set on A", "[udp]") {
  Pair p;
  const int listener = p.api_b().socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(bind_to(p.api_b(), listener, "0.0.0.0", 5000) == 0);
  const int sender = p.api_a().socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(set_int(p.api_a(), sender, SOL_SOCKET, SO_BROADCAST, 1) == 0);
  REQUIRE(send_to(p.api_a(), sender, pattern(20), "255.255.255.255", 5000) == 20);
  REQUIRE(send_to(p.api_a(), sender, pattern(21), "10.0.0.255", 5000) == 21);
  p.net.run_for(100ms);
  CHECK(receive(p.api_b(), listener).data == pattern(20));
  CHECK(receive(p.api_b(), listener).data == pattern(21));
}
