// Multicast socket options (ip(7), RFC 3678): memberships and source filters with Linux's
// errno, IP_MULTICAST_TTL/IF/LOOP on output, and per-socket delivery of group datagrams.
//
// Tests tagged [igmp-core] need the host-group table (stack/igmp/igmp.cpp): the link and IP
// layers accept a group's frames only once a socket's join reached it.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>

#include "support/udp_frames.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

const std::string kGroup = "239.1.2.3";

in_addr in(const std::string& a) {
  return inet(a, 0).sin_addr;
}

ip_mreqn mreqn(const std::string& group, const std::string& local = "0.0.0.0", int ifindex = 0) {
  ip_mreqn r{};
  r.imr_multiaddr = in(group);
  r.imr_address = in(local);
  r.imr_ifindex = ifindex;
  return r;
}

int join(sock::Api& api, int fd, const std::string& group, const std::string& local = "0.0.0.0",
         int ifindex = 0) {
  const ip_mreqn r = mreqn(group, local, ifindex);
  return api.setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &r, sizeof r);
}

int leave(sock::Api& api, int fd, const std::string& group, const std::string& local = "0.0.0.0",
          int ifindex = 0) {
  const ip_mreqn r = mreqn(group, local, ifindex);
  return api.setsockopt(fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &r, sizeof r);
}

// IP_ADD_SOURCE_MEMBERSHIP, IP_BLOCK_SOURCE, ... with an ip_mreq_source.
int source_option(sock::Api& api, int fd, int name, const std::string& group,
                  const std::string& source, const std::string& local = "0.0.0.0") {
  ip_mreq_source r{};
  r.imr_multiaddr = in(group);
  r.imr_interface = in(local);
  r.imr_sourceaddr = in(source);
  return api.setsockopt(fd, IPPROTO_IP, name, &r, sizeof r);
}

int udp_socket(Harness& h) {
  return h.stack().sockets().socket(AF_INET, SOCK_DGRAM, 0);
}

// A socket bound to port 5000 on INADDR_ANY with SO_REUSEADDR, joined to `group`.
int member(Harness& h, const std::string& group = kGroup) {
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(set_int(api, fd, SOL_SOCKET, SO_REUSEADDR, 1) == 0);
  REQUIRE(bind_to(api, fd, "0.0.0.0", 5000) == 0);
  REQUIRE(join(api, fd, group) == 0);
  return fd;
}

// A datagram to the group in the frame a sender on the LAN uses (RFC 1112 §6.4's MAC).
void inject_group_datagram(Harness& h, const std::string& src, const std::string& group,
                           const Bytes& payload) {
  const MacAddress mac = MacAddress::multicast_for(*Ipv4Address::parse(group));
  h.inject_bytes(
      ethernet_frame(udp_datagram(src, group, 6000, 5000, payload), 0x0800, mac, kPeerMac));
}

std::size_t queued(Harness& h, int fd) {
  return sock::queue_of(*h.stack().sockets().find(fd))->size();
}

const sock::Membership& only_membership(Harness& h, int fd) {
  const auto& list = h.stack().sockets().find_inet(fd)->memberships;
  REQUIRE(list.size() == 1);
  return list.front();
}

}  // namespace

// --- memberships: errno -----------------------------------------------------------------

TEST_CASE("IP_ADD_MEMBERSHIP of a unicast address is EINVAL", "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(join(api, fd, "10.0.0.7") == -EINVAL);
  CHECK(join(api, fd, "255.255.255.255") == -EINVAL);
  CHECK(api.find_inet(fd)->memberships.empty());
}

TEST_CASE("joining a group twice on one interface is EADDRINUSE", "[socket][multicast]") {
  Harness h;
  h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(join(api, fd, kGroup) == 0);
  CHECK(join(api, fd, kGroup, "10.0.0.2") == -EADDRINUSE);  // the same interface, named
  CHECK(join(api, fd, kGroup, "0.0.0.0", 1) == -EADDRINUSE);
  // The same group on the other interface is another membership.
  CHECK(join(api, fd, kGroup, "0.0.0.0", 2) == 0);
  CHECK(api.find_inet(fd)->memberships.size() == 2);
}

TEST_CASE("dropping a group never joined is EADDRNOTAVAIL", "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(leave(api, fd, kGroup) == -EADDRNOTAVAIL);
  REQUIRE(join(api, fd, kGroup) == 0);
  CHECK(leave(api, fd, "239.9.9.9") == -EADDRNOTAVAIL);
  CHECK(leave(api, fd, kGroup) == 0);
  CHECK(leave(api, fd, kGroup) == -EADDRNOTAVAIL);
}

TEST_CASE("a join naming no interface of ours is ENODEV", "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(join(api, fd, kGroup, "0.0.0.0", 9) == -ENODEV);
  CHECK(join(api, fd, kGroup, "10.9.9.9") == -ENODEV);
  CHECK(api.find_inet(fd)->memberships.empty());
}

TEST_CASE("ip_mreq's interface address and ip_mreqn's index pick the interface",
          "[socket][multicast]") {
  Harness h;
  h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
  auto& api = h.stack().sockets();
  SECTION("ip_mreq with the interface's address") {
    const int fd = udp_socket(h);
    ip_mreq r{};
    r.imr_multiaddr = in(kGroup);
    r.imr_interface = in("10.0.1.2");
    REQUIRE(api.setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &r, sizeof r) == 0);
    CHECK(only_membership(h, fd).netif == 1);
  }
  SECTION("ip_mreqn with ifindex 2 (netif 1)") {
    const int fd = udp_socket(h);
    REQUIRE(join(api, fd, kGroup, "0.0.0.0", 2) == 0);
    CHECK(only_membership(h, fd).netif == 1);
  }
  SECTION("neither: the first interface (no route for 224/4)") {
    const int fd = udp_socket(h);
    REQUIRE(join(api, fd, kGroup) == 0);
    CHECK(only_membership(h, fd).netif == 0);
    CHECK(only_membership(h, fd).filter == igmp::Filter{igmp::FilterMode::exclude, {}});
  }
}

TEST_CASE("a membership option shorter than ip_mreq is EINVAL", "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  const ip_mreqn r = mreqn(kGroup);
  CHECK(api.setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &r, sizeof(ip_mreq) - 1) == -EINVAL);
  CHECK(api.setsockopt(fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &r, 4) == -EINVAL);
  ip_mreq_source s{};
  s.imr_multiaddr = in(kGroup);
  s.imr_sourceaddr = in("10.0.0.1");
  // Linux wants exactly an ip_mreq_source, not more and not less.
  CHECK(api.setsockopt(fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &s, sizeof s - 1) == -EINVAL);
  char longer[sizeof s + 4] = {};
  std::memcpy(longer, &s, sizeof s);
  CHECK(api.setsockopt(fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, longer, sizeof longer) == -EINVAL);
  CHECK(api.find_inet(fd)->memberships.empty());
}

TEST_CASE("a socket joins at most 20 groups (igmp_max_memberships), then ENOBUFS",
          "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  for (int i = 0; i < 20; ++i) {
    REQUIRE(join(api, fd, "239.0.0." + std::to_string(i + 1)) == 0);
  }
  CHECK(join(api, fd, "239.0.0.21") == -ENOBUFS);
  CHECK(source_option(api, fd, IP_ADD_SOURCE_MEMBERSHIP, "239.0.0.22", "10.0.0.1") == -ENOBUFS);
  // Another socket has its own budget.
  CHECK(join(api, udp_socket(h), "239.0.0.21") == 0);
}

TEST_CASE("a filter holds at most 10 sources (igmp_max_msf), then ENOBUFS", "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int name = GENERATE(IP_ADD_SOURCE_MEMBERSHIP, IP_BLOCK_SOURCE);
  CAPTURE(name);
  const int fd = udp_socket(h);
  if (name == IP_BLOCK_SOURCE) REQUIRE(join(api, fd, kGroup) == 0);
  for (int i = 0; i < 10; ++i) {
    REQUIRE(source_option(api, fd, name, kGroup, "10.0.0." + std::to_string(i + 10)) == 0);
  }
  CHECK(source_option(api, fd, name, kGroup, "10.0.0.99") == -ENOBUFS);
  CHECK(only_membership(h, fd).filter.sources.size() == 10);
}

// --- source filters ---------------------------------------------------------------------

TEST_CASE("IP_ADD_SOURCE_MEMBERSHIP builds an INCLUDE filter, and dropping its last source leaves",
          "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(source_option(api, fd, IP_ADD_SOURCE_MEMBERSHIP, kGroup, "10.0.0.1") == 0);
  REQUIRE(source_option(api, fd, IP_ADD_SOURCE_MEMBERSHIP, kGroup, "10.0.0.5") == 0);
  const Ipv4Address a = *Ipv4Address::parse("10.0.0.1");
  const Ipv4Address b = *Ipv4Address::parse("10.0.0.5");
  CHECK(only_membership(h, fd).filter == igmp::Filter{igmp::FilterMode::include, {a, b}});
  // Adding a listed source again is EADDRNOTAVAIL, as Linux's ip_mc_source.
  CHECK(source_option(api, fd, IP_ADD_SOURCE_MEMBERSHIP, kGroup, "10.0.0.1") == -EADDRNOTAVAIL);
  CHECK(source_option(api, fd, IP_DROP_SOURCE_MEMBERSHIP, kGroup, "10.0.0.9") == -EADDRNOTAVAIL);
  REQUIRE(source_option(api, fd, IP_DROP_SOURCE_MEMBERSHIP, kGroup, "10.0.0.1") == 0);
  CHECK(only_membership(h, fd).filter == igmp::Filter{igmp::FilterMode::include, {b}});
  // INCLUDE {} is no membership at all.
  REQUIRE(source_option(api, fd, IP_DROP_SOURCE_MEMBERSHIP, kGroup, "10.0.0.5") == 0);
  CHECK(api.find_inet(fd)->memberships.empty());
  CHECK(leave(api, fd, kGroup) == -EADDRNOTAVAIL);
}

TEST_CASE("IP_BLOCK_SOURCE builds an EXCLUDE filter on an any-source join", "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  // Blocking needs a prior join (ip_mc_source: EINVAL).
  CHECK(source_option(api, fd, IP_BLOCK_SOURCE, kGroup, "10.0.0.1") == -EINVAL);
  REQUIRE(join(api, fd, kGroup) == 0);
  REQUIRE(source_option(api, fd, IP_BLOCK_SOURCE, kGroup, "10.0.0.1") == 0);
  const Ipv4Address a = *Ipv4Address::parse("10.0.0.1");
  CHECK(only_membership(h, fd).filter == igmp::Filter{igmp::FilterMode::exclude, {a}});
  CHECK(source_option(api, fd, IP_UNBLOCK_SOURCE, kGroup, "10.0.0.9") == -EADDRNOTAVAIL);
  REQUIRE(source_option(api, fd, IP_UNBLOCK_SOURCE, kGroup, "10.0.0.1") == 0);
  // EXCLUDE {} is still a membership: the any-source join.
  CHECK(only_membership(h, fd).filter == igmp::Filter{igmp::FilterMode::exclude, {}});
  CHECK(source_option(api, fd, IP_BLOCK_SOURCE, "10.0.0.7", "10.0.0.1") == -EINVAL);
}

TEST_CASE("a filter's mode cannot change while it lists sources (EINVAL)", "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  SECTION("BLOCK on an INCLUDE membership") {
    const int fd = udp_socket(h);
    REQUIRE(source_option(api, fd, IP_ADD_SOURCE_MEMBERSHIP, kGroup, "10.0.0.1") == 0);
    CHECK(source_option(api, fd, IP_BLOCK_SOURCE, kGroup, "10.0.0.5") == -EINVAL);
    CHECK(source_option(api, fd, IP_UNBLOCK_SOURCE, kGroup, "10.0.0.1") == -EINVAL);
  }
  SECTION("ADD_SOURCE on an EXCLUDE membership that blocks a source") {
    const int fd = udp_socket(h);
    REQUIRE(join(api, fd, kGroup) == 0);
    REQUIRE(source_option(api, fd, IP_BLOCK_SOURCE, kGroup, "10.0.0.1") == 0);
    CHECK(source_option(api, fd, IP_ADD_SOURCE_MEMBERSHIP, kGroup, "10.0.0.5") == -EINVAL);
    CHECK(source_option(api, fd, IP_DROP_SOURCE_MEMBERSHIP, kGroup, "10.0.0.1") == -EINVAL);
  }
  SECTION("with an empty list the mode may change, as Linux") {
    const int fd = udp_socket(h);
    REQUIRE(join(api, fd, kGroup) == 0);
    REQUIRE(source_option(api, fd, IP_ADD_SOURCE_MEMBERSHIP, kGroup, "10.0.0.5") == 0);
    const Ipv4Address b = *Ipv4Address::parse("10.0.0.5");
    CHECK(only_membership(h, fd).filter == igmp::Filter{igmp::FilterMode::include, {b}});
  }
}

// --- output options ---------------------------------------------------------------------

TEST_CASE("IP_MULTICAST_TTL: 1 by default, 0..255, -1 for the default, int or one byte",
          "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_MULTICAST_TTL) == 1);
  CHECK(set_int(api, fd, IPPROTO_IP, IP_MULTICAST_TTL, 32) == 0);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_MULTICAST_TTL) == 32);
  CHECK(set_int(api, fd, IPPROTO_IP, IP_MULTICAST_TTL, -1) == 0);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_MULTICAST_TTL) == 1);
  CHECK(set_int(api, fd, IPPROTO_IP, IP_MULTICAST_TTL, 256) == -EINVAL);
  CHECK(set_int(api, fd, IPPROTO_IP, IP_MULTICAST_TTL, -2) == -EINVAL);
  const std::uint8_t byte = 200;
  CHECK(api.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &byte, 1) == 0);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_MULTICAST_TTL) == 200);
  CHECK(api.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &byte, 0) == -EINVAL);
  std::uint8_t out = 0;
  socklen_t len = 1;
  CHECK(api.getsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &out, &len) == 0);
  CHECK(len == 1);
  CHECK(out == 200);
}

TEST_CASE("IP_MULTICAST_LOOP is on by default", "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_MULTICAST_LOOP) == 1);
  CHECK(set_int(api, fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0) == 0);
  CHECK(get_int(api, fd, IPPROTO_IP, IP_MULTICAST_LOOP) == 0);
}

TEST_CASE("IP_MULTICAST_IF takes an in_addr or ip_mreqn, and INADDR_ANY resets it",
          "[socket][multicast]") {
  Harness h;
  h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  in_addr a = in("10.0.1.2");
  REQUIRE(api.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof a) == 0);
  in_addr got{};
  socklen_t len = sizeof got;
  REQUIRE(api.getsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &got, &len) == 0);
  CHECK(len == sizeof got);
  CHECK(got.s_addr == a.s_addr);
  CHECK(api.find_inet(fd)->multicast_netif == std::optional<NetifId>(1));

  in_addr any = in("0.0.0.0");
  REQUIRE(api.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &any, sizeof any) == 0);
  CHECK(api.find_inet(fd)->multicast_netif == std::nullopt);

  const ip_mreqn by_index = mreqn("0.0.0.0", "0.0.0.0", 2);
  REQUIRE(api.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &by_index, sizeof by_index) == 0);
  CHECK(api.find_inet(fd)->multicast_netif == std::optional<NetifId>(1));

  in_addr foreign = in("10.9.9.9");
  CHECK(api.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &foreign, sizeof foreign) ==
        -EADDRNOTAVAIL);
  const ip_mreqn bad_index = mreqn("0.0.0.0", "0.0.0.0", 7);
  CHECK(api.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &bad_index, sizeof bad_index) ==
        -EADDRNOTAVAIL);
  CHECK(api.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a, 3) == -EINVAL);
}

TEST_CASE("a datagram to a group goes out with TTL 1 to the RFC 1112 MAC, without ARP",
          "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  // IP_TTL is for unicast only.
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_TTL, 100) == 0);
  REQUIRE(send_to(api, fd, Bytes{'h', 'i'}, kGroup, 5000) == 2);
  const auto frames = h.take();
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].dst_addr().to_string() == "01:00:5e:01:02:03");
  const auto& ip = frames[0].rfind_pdu<Tins::IP>();
  CHECK(ip.ttl() == 1);
  CHECK(ip.src_addr().to_string() == "10.0.0.2");
  CHECK(ip.dst_addr().to_string() == kGroup);
  CHECK(frames[0].rfind_pdu<Tins::UDP>().dport() == 5000);
}

TEST_CASE("IP_MULTICAST_TTL sets the TTL of datagrams to groups only", "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(set_int(api, fd, IPPROTO_IP, IP_MULTICAST_TTL, 7) == 0);
  REQUIRE(send_to(api, fd, Bytes{1}, kGroup, 5000) == 1);
  auto frames = h.take();
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].rfind_pdu<Tins::IP>().ttl() == 7);
  REQUIRE(send_to(api, fd, Bytes{1}, kPeerIp, 5000) == 1);
  frames = h.take();
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].rfind_pdu<Tins::IP>().ttl() == 64);
}

TEST_CASE("IP_MULTICAST_TTL 0 keeps a datagram on this host (RFC 1112 §6.1)",
          "[socket][multicast]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int receiver = member(h);
  const int sender = udp_socket(h);
  REQUIRE(set_int(api, sender, IPPROTO_IP, IP_MULTICAST_TTL, 0) == 0);
  h.clear();  // the join's IGMP report
  REQUIRE(send_to(api, sender, Bytes{'z'}, kGroup, 5000) == 1);
  CHECK(h.take().empty());                           // nothing on the wire
  CHECK(receive(api, receiver).data == Bytes{'z'});  // the local member still hears it
}

TEST_CASE("IP_MULTICAST_IF chooses the interface and the source address", "[socket][multicast]") {
  Harness h;
  h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02");
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  in_addr a = in("10.0.1.2");
  REQUIRE(api.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof a) == 0);
  h.clear();
  REQUIRE(send_to(api, fd, Bytes{1}, kGroup, 5000) == 1);
  CHECK(h.take(0).empty());
  auto frames = h.take(1);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].src_addr().to_string() == "02:00:00:00:01:02");
  CHECK(frames[0].rfind_pdu<Tins::IP>().src_addr().to_string() == "10.0.1.2");
  CHECK(udp_checksum_ok(ipv4_of(bytes_of(frames[0]))));
}

// --- delivery ---------------------------------------------------------------------------

TEST_CASE("with IP_MULTICAST_LOOP a local member gets our own datagram, and without, it does not",
          "[socket][multicast][igmp-core]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int receiver = member(h);
  const int sender = udp_socket(h);
  const bool loop = GENERATE(true, false);
  CAPTURE(loop);
  REQUIRE(set_int(api, sender, IPPROTO_IP, IP_MULTICAST_LOOP, loop) == 0);
  h.clear();  // the join's IGMP report
  REQUIRE(send_to(api, sender, Bytes{'x'}, kGroup, 5000) == 1);
  CHECK(h.take().size() == 1);  // the wire gets it either way
  CHECK(queued(h, receiver) == (loop ? 1u : 0u));
  if (loop) CHECK(receive(api, receiver).data == Bytes{'x'});
}

TEST_CASE("two members of a group on one port each get their own copy",
          "[socket][multicast][igmp-core]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int a = member(h);
  const int b = member(h);
  inject_group_datagram(h, kPeerIp, kGroup, Bytes{'m'});
  CHECK(receive(api, a).data == Bytes{'m'});
  CHECK(receive(api, b).data == Bytes{'m'});
  CHECK(h.stats().udpInDatagrams == 2);
}

TEST_CASE("a socket's BLOCK filter stops only that socket's copy",
          "[socket][multicast][igmp-core]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int open = member(h);
  const int blocking = member(h);
  REQUIRE(source_option(api, blocking, IP_BLOCK_SOURCE, kGroup, kPeerIp) == 0);
  inject_group_datagram(h, kPeerIp, kGroup, Bytes{1});
  inject_group_datagram(h, "10.0.0.9", kGroup, Bytes{2});
  CHECK(queued(h, open) == 2);
  REQUIRE(queued(h, blocking) == 1);
  const Received r = receive(api, blocking);
  CHECK(r.data == Bytes{2});
  CHECK(to_string(r.from) == "10.0.0.9:6000");
}

TEST_CASE("a source-specific member gets only its sources' datagrams",
          "[socket][multicast][igmp-core]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int fd = udp_socket(h);
  REQUIRE(bind_to(api, fd, "0.0.0.0", 5000) == 0);
  REQUIRE(source_option(api, fd, IP_ADD_SOURCE_MEMBERSHIP, kGroup, "10.0.0.9") == 0);
  inject_group_datagram(h, kPeerIp, kGroup, Bytes{1});
  inject_group_datagram(h, "10.0.0.9", kGroup, Bytes{2});
  REQUIRE(queued(h, fd) == 1);
  CHECK(receive(api, fd).data == Bytes{2});
}

TEST_CASE("a socket bound to another group's address gets nothing of this one",
          "[socket][multicast][igmp-core]") {
  Harness h;
  auto& api = h.stack().sockets();
  const int a = member(h);
  const int other = udp_socket(h);
  REQUIRE(set_int(api, other, SOL_SOCKET, SO_REUSEADDR, 1) == 0);
  REQUIRE(bind_to(api, other, "239.9.9.9", 5000) == 0);
  inject_group_datagram(h, kPeerIp, kGroup, Bytes{1});
  CHECK(queued(h, a) == 1);
  CHECK(queued(h, other) == 0);
}

TEST_CASE("the group is joined while a socket is a member and left when the last one closes",
          "[socket][multicast][igmp-core]") {
  Harness h;
  auto& api = h.stack().sockets();
  const Ipv4Address group = *Ipv4Address::parse(kGroup);
  CHECK_FALSE(h.stack().igmp().joined(0, group));
  const int a = member(h);
  const int b = member(h);
  CHECK(h.stack().igmp().joined(0, group));
  REQUIRE(api.close(a) == 0);
  CHECK(h.stack().igmp().joined(0, group));
  REQUIRE(api.close(b) == 0);
  CHECK_FALSE(h.stack().igmp().joined(0, group));
  inject_group_datagram(h, kPeerIp, kGroup, Bytes{1});
  CHECK(h.stats().udpInDatagrams == 0);
}

TEST_CASE("IP_DROP_MEMBERSHIP leaves the group in the IGMP layer",
          "[socket][multicast][igmp-core]") {
  Harness h;
  auto& api = h.stack().sockets();
  const Ipv4Address group = *Ipv4Address::parse(kGroup);
  const int fd = member(h);
  REQUIRE(source_option(api, fd, IP_BLOCK_SOURCE, kGroup, kPeerIp) == 0);
  const Ipv4Address peer = *Ipv4Address::parse(kPeerIp);
  CHECK(h.stack().igmp().interface_filter(0, group) ==
        std::optional<igmp::Filter>(igmp::Filter{igmp::FilterMode::exclude, {peer}}));
  REQUIRE(leave(api, fd, kGroup) == 0);
  CHECK_FALSE(h.stack().igmp().joined(0, group));
  CHECK(h.stack().igmp().interface_filter(0, group) == std::nullopt);
}
