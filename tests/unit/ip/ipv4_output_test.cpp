// IPv4 output (RFC 791, RFC 1122 §3.3): headers, loopback, routing errors, fragmentation.
#include <catch2/catch.hpp>

#include "stack/core/bytes.hpp"
#include "stack/core/checksum.hpp"
#include "support/harness.hpp"

using namespace tapir;
using namespace tapir::test;

namespace {

const Ipv4Address kPeer{10, 0, 0, 1};
const Ipv4Address kHost{10, 0, 0, 2};
constexpr std::uint8_t kProto = 253;  // RFC 3692: for experimentation

ip::SendError send(Harness& h, Ipv4Address dst, const Bytes& payload,
                   const ip::SendOptions& options = {}) {
  return h.stack().ip().send(Ipv4Address::any(), dst, kProto, Packet::copy_of(payload), options);
}

}  // namespace

TEST_CASE("a datagram sent to the peer carries a valid RFC 791 header", "[ip]") {
  Harness h;
  REQUIRE(send(h, kPeer, pattern(10)) == ip::SendError::none);
  ip::SendOptions df;
  df.dont_fragment = true;
  REQUIRE(send(h, kPeer, pattern(10), df) == ip::SendError::none);
  REQUIRE(send(h, kPeer, pattern(10)) == ip::SendError::none);
  ip::SendOptions custom;
  custom.ttl = 7;
  custom.tos = 0x10;
  REQUIRE(send(h, kPeer, pattern(10), custom) == ip::SendError::none);
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 4);

  std::uint16_t first_id = 0;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    INFO("datagram " << i);
    const Bytes d = ipv4_of(sent[i]);
    REQUIRE(d.size() == 30);
    CHECK(d[0] == 0x45);  // version 4, IHL 5
    CHECK(load16(&d[2]) == 30);
    CHECK(ipv4_checksum_ok(d));
    Tins::EthernetII eth = decode(sent[i]);
    CHECK(eth.dst_addr() == Tins::HWAddress<6>("02:00:00:00:00:01"));
    CHECK(eth.src_addr() == Tins::HWAddress<6>("02:00:00:00:00:02"));
    CHECK(eth.payload_type() == 0x0800);
    const auto& ip = eth.rfind_pdu<Tins::IP>();
    CHECK(ip.version() == 4);
    CHECK(ip.src_addr() == Tins::IPv4Address(kHostIp));
    CHECK(ip.dst_addr() == Tins::IPv4Address(kPeerIp));
    CHECK(ip.protocol() == kProto);
    CHECK(ip.fragment_offset() == 0);
    if (i == 0) first_id = ip.id();
    // IDs increase by one per datagram (RFC 6864 allows any scheme; tapir counts).
    CHECK(ip.id() == static_cast<std::uint16_t>(first_id + i));
    CHECK(Bytes(d.begin() + 20, d.end()) == pattern(10));
  }
  CHECK(decode(sent[0]).rfind_pdu<Tins::IP>().ttl() == 64);  // the default TTL
  CHECK(decode(sent[0]).rfind_pdu<Tins::IP>().flags() == 0);
  CHECK(decode(sent[0]).rfind_pdu<Tins::IP>().tos() == 0);
  CHECK(decode(sent[1]).rfind_pdu<Tins::IP>().flags() == Tins::IP::DONT_FRAGMENT);
  CHECK(decode(sent[2]).rfind_pdu<Tins::IP>().flags() == 0);
  CHECK(decode(sent[3]).rfind_pdu<Tins::IP>().ttl() == 7);
  CHECK(decode(sent[3]).rfind_pdu<Tins::IP>().tos() == 0x10);
  CHECK(h.stats().ipOutRequests == 4);
  CHECK(h.stats().ipFragOKs == 0);
}

TEST_CASE("the configured default TTL is used when the sender gives none", "[ip]") {
  StackConfig config;
  config.default_ttl = 100;
  Harness h(config);
  REQUIRE(send(h, kPeer, pattern(10)) == ip::SendError::none);
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  CHECK(decode(sent[0]).rfind_pdu<Tins::IP>().ttl() == 100);
}

TEST_CASE("a datagram beyond the peer's subnet goes to the default gateway's MAC", "[ip]") {
  Harness h;
  REQUIRE(h.stack().set_default_gateway(kPeer));
  REQUIRE(send(h, Ipv4Address{8, 8, 8, 8}, pattern(10)) == ip::SendError::none);
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  Tins::EthernetII eth = decode(sent[0]);
  CHECK(eth.dst_addr() == Tins::HWAddress<6>("02:00:00:00:00:01"));
  CHECK(eth.rfind_pdu<Tins::IP>().dst_addr() == Tins::IPv4Address("8.8.8.8"));
  CHECK(eth.rfind_pdu<Tins::IP>().src_addr() == Tins::IPv4Address(kHostIp));
}

TEST_CASE("a datagram to the limited broadcast goes out as a link broadcast", "[ip]") {
  Harness h;
  REQUIRE(send(h, Ipv4Address::broadcast(), pattern(10)) == ip::SendError::none);
  REQUIRE(send(h, Ipv4Address{10, 0, 0, 255}, pattern(10)) == ip::SendError::none);
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 2);
  for (const auto& f : sent) {
    CHECK(decode(f).dst_addr() == Tins::HWAddress<6>("ff:ff:ff:ff:ff:ff"));
    CHECK(decode(f).rfind_pdu<Tins::IP>().src_addr() == Tins::IPv4Address(kHostIp));
  }
  CHECK(h.stats().arpOutRequests == 1);  // the announcement only: nothing to resolve
}

TEST_CASE("a ping to our own address or to 127.0.0.1 is answered locally without a frame",
          "[ip][icmp]") {
  Harness h;
  struct Seen {
    Ipv4Address from;
    std::uint16_t id, sequence;
    std::uint8_t ttl;
    Bytes data;
  };
  std::vector<Seen> replies;
  h.stack().icmp().on_echo_reply([&](const icmp::EchoReply& r) {
    replies.push_back(Seen{r.from, r.id, r.sequence, r.ttl, Bytes(r.data.begin(), r.data.end())});
  });
  Ipv4Address target;
  SECTION("our interface address") {
    target = kHost;
  }
  SECTION("127.0.0.1") {
    target = Ipv4Address{127, 0, 0, 1};
  }
  SECTION("anywhere in 127/8") {
    target = Ipv4Address{127, 1, 2, 3};
  }
  REQUIRE(h.stack().icmp().send_echo_request(target, 0xabcd, 5, pattern(24)));
  CHECK(h.take_bytes().empty());
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].from == target);
  CHECK(replies[0].id == 0xabcd);
  CHECK(replies[0].sequence == 5);
  CHECK(replies[0].ttl == 64);
  CHECK(replies[0].data == pattern(24));
  CHECK(h.stats().ipOutLoopback == 2);  // the request and the reply
  CHECK(h.stats().icmpInEchos == 1);
  CHECK(h.stats().icmpOutEchoReps == 1);
  CHECK(h.stats().icmpInEchoReps == 1);
  CHECK(h.stats().ifOutOctets == 60);  // the announcement at start, nothing since
}

TEST_CASE("a datagram with no route fails with no_route and counts ipOutNoRoutes", "[ip]") {
  Harness h;
  CHECK(send(h, Ipv4Address{192, 168, 1, 1}, pattern(10)) == ip::SendError::no_route);
  CHECK(h.stats().ipOutNoRoutes == 1);
  CHECK_FALSE(h.stack().icmp().send_echo_request(Ipv4Address{192, 168, 1, 1}, 1, 1, pattern(8)));
  CHECK(h.stats().ipOutNoRoutes == 2);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("a DF datagram larger than the MTU fails with too_big and is not sent", "[ip]") {
  Harness h;
  ip::SendOptions df;
  df.dont_fragment = true;
  CHECK(send(h, kPeer, pattern(1481), df) == ip::SendError::too_big);
  CHECK(h.stats().ipOutDiscards == 1);
  CHECK(h.stats().ipFragFails == 1);
  CHECK(h.take_bytes().empty());
  // Exactly the MTU fits.
  CHECK(send(h, kPeer, pattern(1480), df) == ip::SendError::none);
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].size() == 14 + 1500);
}

TEST_CASE("a payload that cannot fit 65535 bytes fails with too_big", "[ip]") {
  Harness h;
  CHECK(send(h, kPeer, Bytes(65535 - 20 + 1)) == ip::SendError::too_big);
  CHECK(h.stats().ipOutDiscards == 1);
  CHECK(h.take_bytes().empty());
}

TEST_CASE("a 60000-byte payload leaves as 41 fragments at MTU 1500", "[ip]") {
  Harness h;
  const Bytes payload = pattern(60000, 7);
  REQUIRE(send(h, kPeer, payload) == ip::SendError::none);
  auto sent = h.take_bytes();
  REQUIRE(sent.size() == 41);
  Bytes joined;
  std::uint16_t id = 0;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    INFO("fragment " << i);
    const Bytes d = ipv4_of(sent[i]);
    const bool last = i == 40;
    CHECK(d.size() == (last ? 20 + 60000 - 40 * 1480 : 1500));
    CHECK(ipv4_checksum_ok(d));
    const Tins::EthernetII eth = decode(sent[i]);
    const auto& ip = eth.rfind_pdu<Tins::IP>();
    CHECK(ip.fragment_offset() == i * 185);
    CHECK(ip.flags() == (last ? Tins::IP::Flags(0) : Tins::IP::MORE_FRAGMENTS));
    CHECK(ip.protocol() == kProto);
    if (i == 0) id = ip.id();
    CHECK(ip.id() == id);
    joined.insert(joined.end(), d.begin() + 20, d.end());
  }
  CHECK(joined == payload);
  CHECK(h.stats().ipFragOKs == 1);
  CHECK(h.stats().ipFragCreates == 41);
}

TEST_CASE("fragments follow the interface MTU", "[ip]") {
  Harness h;
  const NetifId small = h.add_netif("tap1", "10.0.1.2/24", "02:00:00:00:01:02", 576);
  h.stack().arp().add_permanent(small, Ipv4Address{10, 0, 1, 1},
                                *MacAddress::parse("02:00:00:00:01:01"));
  h.take_bytes(small);
  REQUIRE(send(h, Ipv4Address{10, 0, 1, 1}, pattern(1000)) == ip::SendError::none);
  CHECK(h.take_bytes(0).empty());
  auto sent = h.take_bytes(small);
  REQUIRE(sent.size() == 2);
  // (576 - 20) rounded down to 8: 552 bytes per fragment.
  CHECK(ipv4_of(sent[0]).size() == 20 + 552);
  CHECK(ipv4_of(sent[1]).size() == 20 + 448);
  CHECK(decode(sent[1]).rfind_pdu<Tins::IP>().fragment_offset() == 552 / 8);
}
