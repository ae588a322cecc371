// Packet capture sockets (packet(7), AF_PACKET/SOCK_RAW): every frame in and out, with
// sockaddr_ll saying which interface and which way.
#include <catch2/catch.hpp>

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>

#include <cerrno>
#include <cstring>

#include "support/udp_frames.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

struct Captured {
  ssize_t result = 0;
  Bytes frame;
  sockaddr_ll from{};
  socklen_t from_len = 0;
};

Captured capture(sock::Api& api, int fd) {
  Captured c;
  c.frame.resize(2000);
  c.from_len = sizeof c.from;
  c.result = api.recvfrom(fd, c.frame.data(), c.frame.size(), 0,
                          reinterpret_cast<sockaddr*>(&c.from), &c.from_len);
  c.frame.resize(c.result < 0 ? 0 : static_cast<std::size_t>(c.result));
  return c;
}

int capture_socket(sock::Api& api, int protocol = ETH_P_ALL) {
  return api.socket(AF_PACKET, SOCK_RAW, htons(static_cast<std::uint16_t>(protocol)));
}

int bind_netif(sock::Api& api, int fd, int ifindex) {
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = ifindex;
  return api.bind(fd, reinterpret_cast<const sockaddr*>(&sll), sizeof sll);
}

Bytes mac_bytes(const MacAddress& mac) {
  return Bytes(mac.bytes().begin(), mac.bytes().end());
}

}  // namespace

TEST_CASE(
    "a capture socket sees a frame in as PACKET_HOST and our reply out as "
    "PACKET_OUTGOING, byte-exact",
    "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = capture_socket(api);
  REQUIRE(fd >= 0);
  Tins::EthernetII request = echo_request(9, 1, 16);
  const Bytes in = request.serialize();
  h.inject_bytes(in);
  const auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);

  const Captured first = capture(api, fd);
  CHECK(first.frame == in);
  CHECK(first.from_len == sizeof(sockaddr_ll));
  CHECK(first.from.sll_family == AF_PACKET);
  CHECK(first.from.sll_protocol == htons(ETH_P_IP));
  CHECK(first.from.sll_ifindex == 1);  // netif 0
  CHECK(first.from.sll_hatype == ARPHRD_ETHER);
  CHECK(first.from.sll_pkttype == PACKET_HOST);
  CHECK(first.from.sll_halen == 6);
  CHECK(Bytes(first.from.sll_addr, first.from.sll_addr + 6) == mac_bytes(kPeerMac));

  const Captured second = capture(api, fd);
  CHECK(second.frame == sent[0]);
  CHECK(second.from.sll_pkttype == PACKET_OUTGOING);
  CHECK(second.from.sll_ifindex == 1);
  CHECK(Bytes(second.from.sll_addr, second.from.sll_addr + 6) == mac_bytes(kHostMac));

  CHECK(capture(api, fd).result == -EAGAIN);
  CHECK(h.stats().packetInDelivers == 2);
}

TEST_CASE("a broadcast frame is captured as PACKET_BROADCAST", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = capture_socket(api);
  Tins::EthernetII arp = arp_packet(Tins::ARP::REQUEST, "02:00:00:00:00:01", "10.0.0.1",
                                    "00:00:00:00:00:00", "10.0.0.2");
  h.inject(arp);
  const Captured c = capture(api, fd);
  CHECK(c.from.sll_pkttype == PACKET_BROADCAST);
  CHECK(c.from.sll_protocol == htons(ETH_P_ARP));
  CHECK(c.frame == arp.serialize());
  // The ARP reply the stack sent is captured as outgoing.
  CHECK(capture(api, fd).from.sll_pkttype == PACKET_OUTGOING);
}

TEST_CASE("a frame for another MAC is captured as PACKET_OTHERHOST though the stack drops it",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = capture_socket(api);
  const MacAddress other = *MacAddress::parse("02:00:00:00:00:99");
  const Bytes frame =
      ethernet_frame(udp_datagram("10.0.0.1", "10.0.0.9", 1, 2, pattern(4)), 0x0800, other);
  h.inject_bytes(frame);
  const Captured c = capture(api, fd);
  CHECK(c.frame == frame);
  CHECK(c.from.sll_pkttype == PACKET_OTHERHOST);
  CHECK(h.stats().ifInDiscards == 1);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("a capture socket for one EtherType sees only that EtherType", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int arp_only = capture_socket(api, ETH_P_ARP);
  h.inject(echo_request(1, 1, 8));
  CHECK(capture(api, arp_only).result == -EAGAIN);
  h.inject(arp_packet(Tins::ARP::REQUEST, "02:00:00:00:00:01", "10.0.0.1", "00:00:00:00:00:00",
                      "10.0.0.2"));
  const Captured c = capture(api, arp_only);
  CHECK(c.from.sll_protocol == htons(ETH_P_ARP));
  CHECK(c.from.sll_pkttype == PACKET_BROADCAST);
}

TEST_CASE("binding a capture socket to an interface index filters to that interface", "[socket]") {
  Harness h;
  const NetifId second = h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
  auto& api = h.stack().sockets();
  const int fd = capture_socket(api);
  CHECK(bind_netif(api, fd, second + 1) == 0);
  sockaddr_ll name{};
  socklen_t len = sizeof name;
  CHECK(api.getsockname(fd, reinterpret_cast<sockaddr*>(&name), &len) == 0);
  CHECK(name.sll_ifindex == 2);
  CHECK(name.sll_protocol == htons(ETH_P_ALL));

  h.inject(echo_request(1, 1, 8));  // on netif 0
  CHECK(capture(api, fd).result == -EAGAIN);
  const Bytes frame = ethernet_frame(echo_request_datagram(1, 2, 8, "10.0.1.1", "10.0.1.2"), 0x0800,
                                     *MacAddress::parse("02:00:00:00:01:02"));
  h.inject_bytes(frame, second);
  const Captured c = capture(api, fd);
  CHECK(c.frame == frame);
  CHECK(c.from.sll_ifindex == 2);
  CHECK(c.from.sll_pkttype == PACKET_HOST);
  const Captured reply = capture(api, fd);
  CHECK(reply.from.sll_ifindex == 2);
  CHECK(reply.from.sll_pkttype == PACKET_OUTGOING);
  CHECK(capture(api, fd).result == -EAGAIN);
  // Index 0 means every interface again.
  CHECK(bind_netif(api, fd, 0) == 0);
  h.inject(echo_request(1, 3, 8));
  CHECK(capture(api, fd).from.sll_ifindex == 1);
}

TEST_CASE("binding a capture socket to an unknown interface fails with ENODEV", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = capture_socket(api);
  CHECK(bind_netif(api, fd, 2) == -ENODEV);
  CHECK(bind_netif(api, fd, -1) == -ENODEV);
}

TEST_CASE("a capture socket can send a whole frame out of an interface, and sees it go",
          "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = capture_socket(api);
  const Bytes frame = ethernet_frame(udp_datagram("10.0.0.2", "10.0.0.1", 1, 2, pattern(30)),
                                     0x0800, kPeerMac, kHostMac);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = 1;
  CHECK(api.sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                   sizeof to) == static_cast<ssize_t>(frame.size()));
  const auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0] == frame);
  const Captured c = capture(api, fd);
  CHECK(c.frame == frame);
  CHECK(c.from.sll_pkttype == PACKET_OUTGOING);
  // No interface named or bound: ENXIO (packet_snd without a device).
  CHECK(api.sendto(fd, frame.data(), frame.size(), 0, nullptr, 0) == -ENXIO);
}

TEST_CASE("a closed capture socket stops capturing", "[socket]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = capture_socket(api);
  CHECK(api.has_capture());
  CHECK(api.close(fd) == 0);
  CHECK_FALSE(api.has_capture());
  h.inject(echo_request(1, 1, 8));
  CHECK(h.stats().packetInDelivers == 0);
}
