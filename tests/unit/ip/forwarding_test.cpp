// IPv4 forwarding between interfaces (RFC 1812 §5): TTL, ICMP errors, redirects, fragmenting.
#include <catch2/catch.hpp>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "support/harness.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

// Interface 1 of the router: 10.0.1.2/24, with a host 10.0.1.1 behind it.
const std::string kLan1Ip = "10.0.1.2";
const std::string kFarIp = "10.0.1.1";
const MacAddress kLan1Mac = *MacAddress::parse("02:00:00:00:01:02");
const MacAddress kFarMac = *MacAddress::parse("02:00:00:00:01:01");

StackConfig router_config(bool forwarding = true) {
  StackConfig config;
  config.forwarding = forwarding;
  return config;
}

// A two-interface router on the harness: 10.0.0.2/24 (interface 0) and 10.0.1.2/24.
struct Router {
  explicit Router(StackConfig config = router_config(), std::uint32_t lan1_mtu = 1500) : h(config) {
    lan1 = h.add_netif("tap1", kLan1Ip + "/24", kLan1Mac.to_string(), lan1_mtu);
    h.stack().arp().add_permanent(lan1, *Ipv4Address::parse(kFarIp), kFarMac);
    h.take_bytes(lan1);  // the announcement
  }
  Harness h;
  NetifId lan1 = 0;
};

// Checks `forwarded` is `original` with the TTL one less and a checksum that verifies (and
// equals a full recomputation), every other byte unchanged.
void check_forwarded(const Bytes& forwarded, const Bytes& original) {
  REQUIRE(forwarded.size() == original.size());
  CHECK(forwarded[8] == original[8] - 1);
  CHECK(ipv4_checksum_ok(forwarded));
  Bytes recomputed = forwarded;
  fix_ipv4_checksum(recomputed);
  CHECK(load16(&recomputed[10]) == load16(&forwarded[10]));
  for (std::size_t i = 0; i < original.size(); ++i) {
    if (i == 8 || i == 10 || i == 11) continue;
    INFO("byte " << i);
    CHECK(forwarded[i] == original[i]);
  }
}

}  // namespace

TEST_CASE(
    "a forwarded datagram has TTL - 1 and an updated checksum, all else byte-identical "
    "(RFC 1812 §5.3.1)",
    "[ip][forward]") {
  Router r;
  Bytes d = ipv4_datagram(kPeerIp, kFarIp, 17, pattern(100), 64, 0x1234);
  SECTION("no options") {}
  SECTION("with options, carried untouched") {
    d = with_options(d, {0x5e, 0x04, 0xab, 0xcd});
  }
  SECTION("TTL 2 still goes") {
    d[8] = 2;
    fix_ipv4_checksum(d);
  }
  r.h.inject_datagram(d);
  CHECK(r.h.take_bytes(0).empty());
  auto sent = r.h.take_bytes(r.lan1);
  REQUIRE(sent.size() == 1);
  Tins::EthernetII eth = decode(sent[0]);
  CHECK(eth.dst_addr() == Tins::HWAddress<6>(kFarMac.to_string()));
  CHECK(eth.src_addr() == Tins::HWAddress<6>(kLan1Mac.to_string()));
  check_forwarded(ipv4_of(sent[0]), d);
  CHECK(r.h.stats().ipForwDatagrams == 1);
  CHECK(r.h.stats().ipInDelivers == 0);
  CHECK(r.h.stats().ipInAddrErrors == 0);
}

TEST_CASE(
    "a forwarded datagram whose TTL would reach 0 earns ICMP time exceeded (code 0) "
    "from the incoming interface",
    "[ip][forward][icmp]") {
  Router r;
  SECTION("arriving on interface 0") {
    const Bytes d = ipv4_datagram(kPeerIp, kFarIp, 17, pattern(100), 1);
    r.h.inject_datagram(d);
    CHECK(r.h.take_bytes(r.lan1).empty());
    auto sent = r.h.take_bytes(0);
    REQUIRE(sent.size() == 1);
    check_icmp_error(sent[0], 11, 0, 0, d, kHostIp, kPeerIp);
  }
  SECTION("arriving on interface 1") {
    const Bytes d = ipv4_datagram(kFarIp, kPeerIp, 17, pattern(100), 1);
    r.h.inject_datagram(d, r.lan1, kFarMac);
    CHECK(r.h.take_bytes(0).empty());
    auto sent = r.h.take_bytes(r.lan1);
    REQUIRE(sent.size() == 1);
    check_icmp_error(sent[0], 11, 0, 0, d, kLan1Ip, kFarIp);
    CHECK(decode(sent[0]).dst_addr() == Tins::HWAddress<6>(kFarMac.to_string()));
  }
  SECTION("TTL 0") {
    const Bytes d = ipv4_datagram(kPeerIp, kFarIp, 17, pattern(100), 0);
    r.h.inject_datagram(d);
    CHECK(r.h.take_bytes(r.lan1).empty());
    auto sent = r.h.take_bytes(0);
    REQUIRE(sent.size() == 1);
    check_icmp_error(sent[0], 11, 0, 0, d, kHostIp, kPeerIp);
  }
  CHECK(r.h.stats().icmpOutTimeExcds == 1);
  CHECK(r.h.stats().ipForwDatagrams == 0);
}

TEST_CASE("a datagram with no route earns ICMP net unreachable (RFC 1812 §5.2.7.1)",
          "[ip][forward][icmp]") {
  Router r;
  const Bytes d = ipv4_datagram(kPeerIp, "192.168.5.5", 17, pattern(100));
  r.h.inject_datagram(d);
  CHECK(r.h.take_bytes(r.lan1).empty());
  auto sent = r.h.take_bytes(0);
  REQUIRE(sent.size() == 1);
  check_icmp_error(sent[0], 3, 0, 0, d);
  CHECK(r.h.stats().ipInNoRoutes == 1);
  CHECK(r.h.stats().icmpOutDestUnreachs == 1);
  CHECK(r.h.stats().ipForwDatagrams == 0);
}

TEST_CASE(
    "a DF datagram bigger than the outgoing MTU earns ICMP fragmentation needed with the "
    "next-hop MTU (RFC 1191)",
    "[ip][forward][icmp]") {
  Router r(router_config(), 1000);
  const Bytes d = ipv4_datagram(kPeerIp, kFarIp, 17, pattern(1180), 64, 0x2222, true);
  REQUIRE(d.size() == 1200);
  r.h.inject_datagram(d);
  CHECK(r.h.take_bytes(r.lan1).empty());
  auto sent = r.h.take_bytes(0);
  REQUIRE(sent.size() == 1);
  // RFC 1191 §4: unused high 16 bits zero, the next-hop MTU in the low 16.
  check_icmp_error(sent[0], 3, 4, 1000, d);
  CHECK(decode(sent[0]).rfind_pdu<Tins::ICMP>().mtu() == 1000);
  CHECK(r.h.stats().ipFragFails == 1);
  CHECK(r.h.stats().ipForwDatagrams == 0);

  // Exactly the MTU passes.
  const Bytes fits = ipv4_datagram(kPeerIp, kFarIp, 17, pattern(980), 64, 0x2223, true);
  r.h.inject_datagram(fits);
  auto out = r.h.take_bytes(r.lan1);
  REQUIRE(out.size() == 1);
  check_forwarded(ipv4_of(out[0]), fits);
}

TEST_CASE(
    "a datagram leaving by the interface it came in on earns an ICMP redirect and is "
    "still forwarded (RFC 1812 §5.2.7.2)",
    "[ip][forward][icmp]") {
  Router r;
  const MacAddress gateway_mac = *MacAddress::parse("02:00:00:00:00:03");
  REQUIRE(r.h.stack().add_route(*Ipv4Cidr::parse("192.168.7.0/24"), Ipv4Address{10, 0, 0, 3}));
  r.h.stack().arp().add_permanent(0, Ipv4Address{10, 0, 0, 3}, gateway_mac);
  r.h.stack().arp().add_permanent(0, Ipv4Address{10, 0, 0, 5}, gateway_mac);

  std::string dst;
  std::uint32_t better = 0;
  SECTION("through a better gateway") {
    dst = "192.168.7.7";
    better = 0x0a000003;
  }
  SECTION("to a host on the same subnet") {
    dst = "10.0.0.5";
    better = 0x0a000005;
  }
  const Bytes d = ipv4_datagram(kPeerIp, dst, 17, pattern(100));
  r.h.inject_datagram(d);
  auto sent = r.h.take_bytes(0);
  REQUIRE(sent.size() == 2);
  check_icmp_error(sent[0], 5, 1, better, d);
  // The gateway field in network order (libtins 4.0's gateway() reads it byte-swapped).
  const Bytes redirect = ipv4_of(sent[0]);
  CHECK(Bytes(redirect.begin() + 24, redirect.begin() + 28) ==
        Bytes{10, 0, 0, static_cast<std::uint8_t>(better & 0xff)});
  CHECK(decode(sent[1]).dst_addr() == Tins::HWAddress<6>(gateway_mac.to_string()));
  check_forwarded(ipv4_of(sent[1]), d);
  CHECK(r.h.take_bytes(r.lan1).empty());
  CHECK(r.h.stats().icmpOutRedirects == 1);
  CHECK(r.h.stats().ipForwDatagrams == 1);
}

TEST_CASE("no redirect for a source off the incoming subnet or with redirects off",
          "[ip][forward][icmp]") {
  StackConfig config = router_config();
  Bytes d;
  SECTION("source not on the subnet") {
    d = ipv4_datagram("172.16.0.1", "10.0.0.5", 17, pattern(100));
  }
  SECTION("send_redirects off") {
    config.send_redirects = false;
    d = ipv4_datagram(kPeerIp, "10.0.0.5", 17, pattern(100));
  }
  Router r(config);
  r.h.stack().arp().add_permanent(0, Ipv4Address{10, 0, 0, 5},
                                  *MacAddress::parse("02:00:00:00:00:05"));
  r.h.inject_datagram(d);
  auto sent = r.h.take_bytes(0);
  REQUIRE(sent.size() == 1);
  check_forwarded(ipv4_of(sent[0]), d);
  CHECK(r.h.stats().icmpOutRedirects == 0);
}

TEST_CASE("a non-DF datagram bigger than the outgoing MTU is fragmented", "[ip][forward]") {
  Router r(router_config(), 1000);
  const Bytes d = ipv4_datagram(kPeerIp, kFarIp, 17, pattern(1180), 64, 0x3333);
  r.h.inject_datagram(d);
  CHECK(r.h.take_bytes(0).empty());
  auto sent = r.h.take_bytes(r.lan1);
  REQUIRE(sent.size() == 2);
  const Bytes a = ipv4_of(sent[0]);
  const Bytes b = ipv4_of(sent[1]);
  CHECK(a.size() == 20 + 976);  // (1000 - 20) rounded down to 8
  CHECK(b.size() == 20 + 204);
  for (const Bytes* f : {&a, &b}) {
    CHECK(ipv4_checksum_ok(*f));
    CHECK((*f)[8] == 63);
    CHECK(load16(&(*f)[4]) == 0x3333);
    CHECK(Bytes(f->begin() + 12, f->begin() + 20) == Bytes(d.begin() + 12, d.begin() + 20));
  }
  CHECK(load16(&a[6]) == 0x2000);   // MF, offset 0
  CHECK(load16(&b[6]) == 976 / 8);  // last, offset 976
  Bytes joined(a.begin() + 20, a.end());
  joined.insert(joined.end(), b.begin() + 20, b.end());
  CHECK(joined == pattern(1180));
  CHECK(r.h.stats().ipForwDatagrams == 1);
  CHECK(r.h.stats().ipFragOKs == 1);
  CHECK(r.h.stats().ipFragCreates == 2);
}

TEST_CASE("with forwarding off a datagram for another host is dropped as ipInAddrErrors",
          "[ip][forward]") {
  Router r(router_config(false));
  r.h.inject_datagram(ipv4_datagram(kPeerIp, kFarIp, 17, pattern(100)));
  CHECK(r.h.take_bytes(0).empty());
  CHECK(r.h.take_bytes(r.lan1).empty());
  CHECK(r.h.stats().ipInAddrErrors == 1);
  CHECK(r.h.stats().ipForwDatagrams == 0);
}

TEST_CASE("a datagram in a link-layer broadcast frame is not forwarded", "[ip][forward]") {
  Router r;
  r.h.inject_bytes(ethernet_frame(ipv4_datagram(kPeerIp, kFarIp, 17, pattern(100)), 0x0800,
                                  MacAddress::broadcast()));
  CHECK(r.h.take_bytes(0).empty());
  CHECK(r.h.take_bytes(r.lan1).empty());
  CHECK(r.h.stats().ipInAddrErrors == 1);
  CHECK(r.h.stats().ipForwDatagrams == 0);
}

TEST_CASE("a next hop that never answers ARP earns the remote source ICMP host unreachable",
          "[ip][forward][arp][icmp]") {
  Router r;
  const Bytes d = ipv4_datagram(kPeerIp, "10.0.1.9", 17, pattern(100), 64, 0x4444);
  r.h.inject_datagram(d);
  for (int i = 0; i < 3; ++i) {
    auto requests = r.h.take_bytes(r.lan1);
    REQUIRE(requests.size() == 1);
    CHECK(decode(requests[0]).rfind_pdu<Tins::ARP>().target_ip_addr() ==
          Tins::IPv4Address("10.0.1.9"));
    CHECK(r.h.take_bytes(0).empty());
    r.h.advance(1s);
  }
  CHECK(r.h.take_bytes(r.lan1).empty());
  auto sent = r.h.take_bytes(0);
  REQUIRE(sent.size() == 1);
  // RFC 1812 §4.3.2.3: the quote may show the TTL already decremented by forwarding.
  Bytes as_queued = d;
  as_queued[8] = 63;
  fix_ipv4_checksum(as_queued);
  check_icmp_error(sent[0], 3, 1, 0, as_queued);
  CHECK(r.h.stats().arpResolveFailures == 1);
}

// STACK BUG (stack/ip/ipv4.cpp, Layer::input/accepts): the directed broadcast of another
// interface's subnet is forwarded, as a link broadcast, onto that subnet. RFC 2644 (BCP 34):
// a router MUST NOT forward directed broadcasts by default — it makes a smurf amplifier.
TEST_CASE("a directed broadcast for another interface's subnet is not forwarded (RFC 2644)",
          "[ip][forward][regression]") {
  Router r;
  r.h.inject_datagram(echo_request_datagram(1, 1, 32, kPeerIp, "10.0.1.255"));
  CHECK(r.h.take_bytes(r.lan1).empty());
  CHECK(r.h.stats().ipForwDatagrams == 0);
  CHECK(r.h.take_bytes(0).empty());  // nor answered: it is a broadcast (see echo rules)
}

// STACK BUG (stack/ip/ipv4.cpp, Layer::input): a router MUST NOT forward a datagram with a
// source in 127/8 and SHOULD NOT one from network 0 (RFC 1812 §5.3.7); both are forwarded.
TEST_CASE("a datagram with a martian source is not forwarded (RFC 1812 §5.3.7)",
          "[ip][forward][regression]") {
  Router r;
  std::string source;
  SECTION("loopback source") {
    source = "127.0.0.1";
  }
  SECTION("network 0 source") {
    source = "0.0.0.0";
  }
  r.h.inject_datagram(ipv4_datagram(source, kFarIp, 17, pattern(100)));
  CHECK(r.h.take_bytes(r.lan1).empty());
  CHECK(r.h.stats().ipForwDatagrams == 0);
}
